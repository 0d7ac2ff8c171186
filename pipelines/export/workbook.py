"""The indicator spreadsheet for federation leaders, in Chinese throughout:

* 指标×街道 — rows the indicators, columns the 17 streets and the district, each cell the
  value of the year so far filled with its status's colour, and a legend;
* 月度, 季度, 半年, 年度 — a sheet per period type with what a leader reads: the value,
  same period last year and 同比, previous period and 环比, target, status;
* 历史版本 — every version of every value; 审计信息 — the columns an auditor needs (run
  id, manifest, submissions counted) for each current value; 说明 — what the columns mean.

Every table sheet has an autofilter over its header and rows, a frozen header row (and
the indicator columns), and prints on A4 landscape one page wide with the header row
repeated on each page. Written with the formula-safe streaming writer
(:mod:`pipelines.spreadsheet`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

import polars as pl

from pipelines.export.comparisons import (
    NO_CHANGE,
    NO_DATA,
    STATUS_FILLS,
    STATUS_MEANINGS,
    Change,
    StreetMatrix,
    comparison,
    status_fill,
    street_matrix,
)
from pipelines.export.indicator_data import (
    COMPARATOR_LABELS,
    INPUT_QUALITY_LABELS,
    PERIOD_NAMES,
    PERIOD_TYPES,
    TARGET_BASIS_LABELS,
    UNIT_LABELS,
    PublishedIndicators,
    label,
    period_label_zh,
)
from pipelines.spreadsheet import (
    Cell,
    StreamingSheet,
    StreamingTable,
    StreamingWorkbook,
    streaming_workbook,
)

Column = tuple[str, str, float]  # (column, 中文表头, width)

# what identifies a row, first on every table sheet (the first two stay in view: frozen)
KEY_COLUMNS: list[Column] = [
    ("indicator_code", "指标代码", 9),
    ("indicator_name", "指标名称", 30),
    ("area_code", "区域代码", 12),
    ("area_name", "区域", 12),
]
FROZEN_COLUMNS = 2  # 指标代码, 指标名称
# the period sheets: what a leader reads
COLUMNS: list[Column] = KEY_COLUMNS + [
    ("area_level", "层级", 8),
    ("period_label", "统计期", 16),
    ("period_start", "起始日", 11),
    ("period_end", "截止日", 11),
    ("as_of_date", "统计日期", 11),
    ("numerator", "分子", 12),
    ("denominator", "分母", 10),
    ("value", "数值", 12),
    ("unit", "单位", 7),
    ("value_same_period_last_year", "上年同期", 12),
    ("change_same_period_last_year", "同比", 13),
    ("value_previous_period", "上一统计期", 12),
    ("change_previous_period", "环比", 13),
    ("target", "目标", 12),
    ("target_comparator", "比较方式", 12),
    ("attainment", "完成率", 9),
    ("status", "状态", 8),
    ("input_quality", "数据质量", 14),
]
# the audit stamps: on 审计信息 and 历史版本, never on the sheets leaders read
AUDIT_STAMPS: list[Column] = [
    ("version_number", "版本", 6),
    ("publish_id", "发布序号", 8),
    ("run_id", "运行编号", 38),
    ("computed_at", "计算时间", 18),
    ("code_version", "代码版本", 20),
    ("manifest_id", "审计清单编号", 66),
]
AUDIT_COLUMNS: list[Column] = KEY_COLUMNS + [
    ("period_label", "统计期", 16),
    ("target_basis", "目标来源", 10),
    ("met_threshold", "达标线", 12),
    ("input_submissions", "纳入文件数", 10),
    ("input_submissions_with_warnings", "其中有提示", 10),
    ("input_submissions_left_out", "未纳入文件数", 12),
    ("input_quality", "数据质量", 14),
] + AUDIT_STAMPS
HISTORY_COLUMNS: list[Column] = [
    c for c in COLUMNS if c[0] not in (
        "value_same_period_last_year", "change_same_period_last_year", "value_previous_period",
        "change_previous_period")
] + AUDIT_STAMPS
AUDIT_SHEET = "审计信息"
MATRIX_SHEET = "指标×街道"

LEVELS = {"street": "街道", "district": "全区"}
STATUS_STYLE = {
    "达标": {"font_color": "#1B5E20"},
    "未达标": {"font_color": "#B71C1C", "bold": True},
    "滞后": {"font_color": "#E65100", "bold": True},
    "进行中": {"font_color": "#0D47A1"},
}
HEADER_STYLE = {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
GREY = {"font_color": "#757575"}
PERCENT, WHOLE, DECIMAL = "0.0%", "#,##0", "#,##0.00"
A4 = 9  # the paper size code of A4 in the sheet's page setup
FOOTER = "&C第 &P 页，共 &N 页"

EXPLANATION = [
    ("数值", "比率类为 分子/分母（0–1，显示为百分比）；计数与金额类即分子。分母为 0 时数值为空，状态为“无数据”。"),
    ("同比", "与上年同期相比：计数与金额类为增减百分比（如 +12.3%），比率类为增减百分点（如 +3.1 个百分点）；"
             "上年同期数值为 0 的计数类列出增减数量。上年同期无数据时同比为“—”。"),
    ("环比", "与上一统计期（上月、上一季度、上半年、上一年）相比，算法同同比。"
             "统计期未结束时，本期数值截至统计日期，上年同期与上一统计期为该期全期数值。"),
    ("目标", "比率类目标适用于每个街道和每个统计期；计数与金额类目标为全区年度目标，全区的季度、月度等按期折算，街道无目标。"
             "DC13 的目标为上年同期与上一统计期中较高者。"),
    ("状态", "达标 / 未达标：统计期已结束；进行中 / 滞后：统计期未结束，按从期初到期末的直线进度判断；无目标：仅跟踪；无数据：分母为 0 或尚无输入数据（如尚无街道报送工作人员名单时的 DC11）。"),
    ("比较方式", "≥ 不低于目标；= 等于目标；不低于上年同期与上一统计期（DC13）；仅跟踪：无目标。"),
    ("数据质量", "通过：输入文件全部通过质量检查；有提示：有文件质量检查有警告；部分街道未纳入：有已入库文件因质量检查未通过或尚未检查而未纳入。"),
    ("指标×街道", "各指标本年累计数值按街道排列，单元格底色表示状态：绿色达标，红色未达标，蓝色进行中，橙色滞后，白色无目标，灰色无数据。"),
    ("审计信息", "每个数值的版本、发布序号、运行编号、计算时间、代码版本、审计清单编号与纳入的上报文件数，见“审计信息”工作表。"),
    ("审计清单编号", "本次计算纳入的上报文件集合的指纹；其文件清单见数据仓库 audit.publish_manifest 与 indicators.indicator_manifest。"),
    ("版本", "同一指标、区域、统计期的数值每变化一次，版本加一；历史版本见“历史版本”工作表，从不改写。"),
]

Styled = tuple[Cell, dict | None]


def count_style(value: object) -> dict:
    """Whole numbers without decimals (not Excel's "9,500." of ``#,##0.##``), amounts to the fen."""
    whole = isinstance(value, int | float | Decimal) and float(value).is_integer()
    return {"num_format": WHOLE if whole or value is None else DECIMAL}


def number_style(unit: str | None, value: object) -> dict:
    return {"num_format": PERCENT} if unit == "ratio" else count_style(value)


def change_format(change: Change, unit: str | None) -> str:
    """The cell format that shows a change as the report does: +12.3%, +3.1 个百分点, +800 人次."""
    if change.kind == "percent":
        return "+0.0%;-0.0%;0.0%"
    if change.kind == "points":
        return '+0.0" 个百分点";-0.0" 个百分点";0.0" 个百分点"'
    suffix = f'" {unit}"' if unit and unit != "ratio" else ""
    return f"+#,##0{suffix};-#,##0{suffix};0{suffix}"


def change_cell(change: Change | None, unit: str | None) -> Styled:
    """A change as a number (sortable, filterable) shown with its sign and unit; ``—``
    where there is no earlier value. Rounded as shown, so nothing rounds to a signed 0."""
    if change is None:
        return NO_CHANGE, GREY
    if change.kind == "percent":
        return round(change.amount, 1) / 100, {"num_format": change_format(change, unit)}
    return round(change.amount, 1), {"num_format": change_format(change, unit)}


def earlier_cell(value: float | None, unit: str | None) -> Styled:
    return (NO_DATA, GREY) if value is None else (value, number_style(unit, value))


def _cell(name: str, row: dict) -> Styled:
    """One column of one row of indicators.indicator_values, in words a leader reads."""
    value, unit = row.get(name), row.get("unit")
    if name == "area_level":
        return LEVELS.get(value, value), None
    if name == "period_label" and row.get("period_start") is not None:
        return period_label_zh(row["period_type"], row["period_start"]), None
    if name == "target_comparator":
        return label(COMPARATOR_LABELS, value), None
    if name == "target_basis":
        return label(TARGET_BASIS_LABELS, value), None
    if name == "input_quality":
        return label(INPUT_QUALITY_LABELS, value), None
    if name == "unit":
        return label(UNIT_LABELS, value), None
    if name == "computed_at" and value is not None:
        return (value.replace(tzinfo=None) if hasattr(value, "replace") else value), None
    if name == "status":
        return value, STATUS_STYLE.get(value or "")
    if name in ("value_same_period_last_year", "value_previous_period"):
        return earlier_cell(value, unit)
    if name == "change_same_period_last_year":
        return change_cell(comparison(row).year_on_year, unit)
    if name == "change_previous_period":
        return change_cell(comparison(row).period_on_period, unit)
    if name == "attainment":
        return value, {"num_format": PERCENT}
    if name in ("value", "target", "met_threshold"):
        return value, number_style(unit, value)
    if name in ("numerator", "denominator"):
        return value, count_style(value)
    return value, None


def _row(row: dict, columns: list[Column]) -> tuple[list[Cell], list[dict | None]]:
    cells = [_cell(name, row) for name, _, _ in columns]
    return [c[0] for c in cells], [c[1] for c in cells]


def print_setup(sheet: StreamingSheet, title_rows: int = 0) -> None:
    """A4 landscape, one page wide (as many pages down as it takes), page numbers in the
    footer, and the first ``title_rows`` rows repeated at the top of every page."""
    ws = sheet.ws
    ws.set_landscape()
    ws.set_paper(A4)
    ws.fit_to_pages(1, 0)
    ws.set_footer(FOOTER)
    if title_rows:
        ws.repeat_rows(0, title_rows - 1)


def finish_table(table: StreamingTable, frozen_columns: int = FROZEN_COLUMNS, last_row: int | None = None) -> None:
    """Autofilter over the header and the rows, header (and the indicator columns) frozen,
    print setup, on each sheet the table filled. ``last_row``: where the table's rows end
    when more (a legend) follows them on the sheet."""
    for sheet in table.sheets:
        end = sheet.next_row - 1 if last_row is None or sheet is not table.sheet else last_row
        sheet.ws.autofilter(0, 0, max(end, 0), len(table.headers) - 1)
        sheet.ws.freeze_panes(1, frozen_columns)
        print_setup(sheet, title_rows=1)


def write_rows(book: StreamingWorkbook, name: str, columns: list[Column], rows: Iterable[dict]) -> StreamingTable:
    table = StreamingTable(book, name, [c[1] for c in columns], [c[2] for c in columns], HEADER_STYLE)
    for row in rows:
        table.append(*_row(row, columns))
    finish_table(table)
    return table


def matrix_value(value: float | None, status: str, unit: str | None) -> Styled:
    """A matrix cell: the value filled with its status's colour; 无数据 in grey."""
    fill = {"bg_color": status_fill(status), "border": 1, "border_color": "#BDBDBD"}
    if value is None:
        return NO_DATA, {**fill, **GREY, "align": "center"}
    return value, {**fill, **number_style(unit, value)}


def write_matrix(book: StreamingWorkbook, matrix: StreetMatrix) -> StreamingTable:
    """指标×街道: rows the indicators, columns the streets and the district, each cell the
    value of the year so far on its status's colour; the legend below the table."""
    headers = ["指标代码", "指标名称", "单位", *(s.name for s in matrix.streets), "全区"]
    widths = [9, 28, 7, *(8 for _ in matrix.streets), 10]
    table = StreamingTable(book, MATRIX_SHEET, headers, widths, {**HEADER_STYLE, "align": "center"})
    for row in matrix.rows:
        cells = [matrix_value(c.value, c.status, row.unit) for c in (*row.streets, row.district)]
        table.append([row.indicator_code, row.indicator_name, label(UNIT_LABELS, row.unit), *(c[0] for c in cells)],
                     [None, {"text_wrap": True}, None, *(c[1] for c in cells)])
    last_row = table.sheet.next_row - 1
    legend = table.sheet
    legend.skip()
    period = period_label_zh(matrix.period_type, matrix.period_start) if matrix.period_start else ""
    legend.write_row(["图例", f"统计期：{period}累计；比率类为百分比，计数与金额类的单位见“单位”列"], {"bold": True})
    for status, colour in STATUS_FILLS.items():
        legend.write_row([status, STATUS_MEANINGS[status]], [{"bg_color": colour, "border": 1}, None])
    finish_table(table, last_row=last_row)
    return table


def write_notes(book: StreamingWorkbook, data: PublishedIndicators) -> None:
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
    print_setup(notes)


def rows_of(values: pl.DataFrame, period_type: str) -> Iterator[dict]:
    return values.filter(pl.col("period_type") == period_type).iter_rows(named=True)


def write_workbook(data: PublishedIndicators, target: Path) -> Path:
    properties = {"title": f"东城区总工会工作要点指标（截至 {data.as_of}）", "company": "东城区总工会"}
    with streaming_workbook(target, properties) as book:
        write_matrix(book, street_matrix(data.values))
        for period_type in PERIOD_TYPES:
            write_rows(book, PERIOD_NAMES[period_type], COLUMNS, rows_of(data.values, period_type))
        write_rows(book, "历史版本", HISTORY_COLUMNS, data.history.iter_rows(named=True))
        write_rows(book, AUDIT_SHEET, AUDIT_COLUMNS, (r for t in PERIOD_TYPES for r in rows_of(data.values, t)))
        write_notes(book, data)
    return target
