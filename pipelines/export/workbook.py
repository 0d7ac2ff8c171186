"""The indicator spreadsheet: one sheet per period type (月度, 季度, 半年, 年度) with
Chinese headers, the version history, and a sheet saying what the columns mean.
Written with the formula-safe streaming writer (:mod:`pipelines.spreadsheet`)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.export.indicator_data import (
    COMPARATOR_LABELS,
    INPUT_QUALITY_LABELS,
    PERIOD_NAMES,
    PERIOD_TYPES,
    UNIT_LABELS,
    PublishedIndicators,
    label,
    period_label_zh,
)
from pipelines.spreadsheet import streaming_workbook

# (column, 中文表头, width)
COLUMNS: list[tuple[str, str, float]] = [
    ("indicator_code", "指标代码", 9),
    ("indicator_name", "指标名称", 30),
    ("area_code", "区域代码", 12),
    ("area_name", "区域", 12),
    ("area_level", "层级", 8),
    ("period_label", "统计期", 16),
    ("period_start", "起始日", 11),
    ("period_end", "截止日", 11),
    ("as_of_date", "统计日期", 11),
    ("numerator", "分子", 12),
    ("denominator", "分母", 10),
    ("value", "数值", 12),
    ("unit", "单位", 7),
    ("target", "目标", 12),
    ("target_comparator", "比较方式", 12),
    ("attainment", "完成率", 9),
    ("status", "状态", 8),
    ("input_quality", "数据质量", 14),
    ("version_number", "版本", 6),
    ("run_id", "运行编号", 38),
    ("computed_at", "计算时间", 18),
    ("code_version", "代码版本", 20),
    ("manifest_id", "审计清单编号", 66),
]
HISTORY_EXTRA = [("publish_id", "发布序号", 8)]

LEVELS = {"street": "街道", "district": "全区"}
STATUS_STYLE = {
    "达标": {"font_color": "#1B5E20"},
    "未达标": {"font_color": "#B71C1C", "bold": True},
    "滞后": {"font_color": "#E65100", "bold": True},
    "进行中": {"font_color": "#0D47A1"},
}

EXPLANATION = [
    ("数值", "比率类为 分子/分母（0–1，显示为百分比）；计数与金额类即分子。分母为 0 时数值为空，状态为“无数据”。"),
    ("目标", "比率类目标适用于每个街道和每个统计期；计数与金额类目标为全区年度目标，全区的季度、月度等按期折算，街道无目标。"
             "DC13 的目标为上年同期与上一统计期中较高者。"),
    ("状态", "达标 / 未达标：统计期已结束；进行中 / 滞后：统计期未结束，按从期初到期末的直线进度判断；无目标：仅跟踪；无数据：分母为 0 或尚无输入数据（如尚无街道报送工作人员名单时的 DC11）。"),
    ("比较方式", "≥ 不低于目标；= 等于目标；不低于上年同期与上一统计期（DC13）；仅跟踪：无目标。"),
    ("数据质量", "通过：输入文件全部通过质量检查；有提示：有文件质量检查有警告；部分街道未纳入：有已入库文件因质量检查未通过或尚未检查而未纳入。"),
    ("审计清单编号", "本次计算纳入的上报文件集合的指纹；其文件清单见数据仓库 audit.publish_manifest 与 indicators.indicator_manifest。"),
    ("版本", "同一指标、区域、统计期的数值每变化一次，版本加一；历史版本见“历史版本”工作表，从不改写。"),
]


def _cells(row: dict, columns: list[tuple[str, str, float]]) -> list:
    out = []
    for name, _, _ in columns:
        value = row.get(name)
        if name == "area_level":
            value = LEVELS.get(value, value)
        elif name == "period_label" and row.get("period_start") is not None:
            value = period_label_zh(row["period_type"], row["period_start"])
        elif name == "target_comparator":
            value = label(COMPARATOR_LABELS, value)
        elif name == "input_quality":
            value = label(INPUT_QUALITY_LABELS, value)
        elif name == "unit":
            value = label(UNIT_LABELS, value)
        elif name == "computed_at" and value is not None:
            value = value.replace(tzinfo=None) if hasattr(value, "replace") else value
        out.append(value)
    return out


def _styles(row: dict, columns: list[tuple[str, str, float]]) -> list[dict | None]:
    percent = row.get("unit") == "ratio"
    styles: list[dict | None] = []
    for name, _, _ in columns:
        if name == "status":
            styles.append(STATUS_STYLE.get(row.get("status") or ""))
        elif (name in ("value", "target") and percent) or name == "attainment":
            styles.append({"num_format": "0.0%"})
        elif name in ("numerator", "denominator", "value", "target"):
            styles.append({"num_format": "#,##0.##"})
        else:
            styles.append(None)
    return styles


def write_workbook(data: PublishedIndicators, target: Path) -> Path:
    properties = {"title": f"东城区总工会工作要点指标（截至 {data.as_of}）", "company": "东城区总工会"}
    with streaming_workbook(target, properties) as book:
        for period_type in PERIOD_TYPES:
            rows = data.values.filter(pl.col("period_type") == period_type)
            table = book.add_table(PERIOD_NAMES[period_type], [c[1] for c in COLUMNS], [c[2] for c in COLUMNS])
            for row in rows.iter_rows(named=True):
                table.append(_cells(row, COLUMNS), _styles(row, COLUMNS))
        columns = COLUMNS + HISTORY_EXTRA
        history = book.add_table("历史版本", [c[1] for c in columns], [c[2] for c in columns])
        for row in data.history.iter_rows(named=True):
            history.append(_cells(row, columns), _styles(row, columns))
        notes = book.add_sheet("说明")
        notes.set_widths([14, 110])
        notes.write_row(["东城区总工会工作要点指标", f"统计日期 {data.as_of}"], {"bold": True})
        notes.skip()
        for term, text in EXPLANATION:
            notes.write_row([term, text], [{"bold": True}, {"text_wrap": True}])
        notes.skip()
        notes.write_row(["审计信息"], {"bold": True})
        notes.write_row(["发布序号", str(data.publish["publish_id"])])
        notes.write_row(["运行编号", str(data.publish["run_id"])])
        notes.write_row(["代码版本", str(data.publish["code_version"])])
        notes.write_row(["审计清单编号", str(data.publish["manifest_id"])])
    return target
