"""The indicator report: one self-contained HTML page (inline CSS and SVG, no script, no
outside resource: it opens offline and prints) with progress against the plan's
targets, by street and month by month, for each indicator DC01-DC17."""

from __future__ import annotations

import html
from pathlib import Path

import polars as pl

from pipelines.export.indicator_data import (
    COMPARATOR_SYMBOLS,
    INPUT_QUALITY_LABELS,
    PublishedIndicators,
    label,
    period_label_zh,
)
from pipelines.files import atomic_write_text

STATUS_COLOURS = {
    "达标": "#2e7d32",
    "未达标": "#c62828",
    "进行中": "#1565c0",
    "滞后": "#ef6c00",
    "无目标": "#607d8b",
    "无数据": "#bdbdbd",
}

CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:24px;color:#212121;max-width:1180px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #c62828;padding-bottom:4px}
.meta{color:#616161;font-size:12px;margin-bottom:16px;word-break:break-all}
table{border-collapse:collapse;font-size:13px;width:100%} th,td{border:1px solid #e0e0e0;padding:4px 6px;text-align:left}
th{background:#f5f5f5} td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px}
.charts{display:flex;gap:16px;flex-wrap:wrap} .chart{flex:1 1 520px}
.chart h3{font-size:13px;margin:6px 0;color:#424242} .note{font-size:12px;color:#616161}
.legend span{margin-right:12px;font-size:12px}
.audit{margin-top:28px;border-top:1px solid #e0e0e0;padding-top:8px;word-break:break-all}
svg text{font-size:11px;fill:#424242}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def fmt(value: float | None, unit: str | None) -> str:
    """A value with its unit: a rate as a percentage, a count or amount with the unit its
    indicator declares (人次, 场, 人, 个, 元 in seeds/indicator_targets.csv)."""
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    return f"{value:,.0f} {unit}" if unit else f"{value:,.0f}"


def axis(value: float, unit: str | None) -> str:
    """A chart axis's number: no unit (the chart's title says it), to stay in the margin."""
    return fmt(value, "ratio" if unit == "ratio" else None)


def unit_note(unit: str | None) -> str:
    return f"（单位：{_e(unit)}）" if unit and unit != "ratio" else ""


def badge(status: str | None) -> str:
    colour = STATUS_COLOURS.get(status or "", "#9e9e9e")
    return f'<span class="badge" style="background:{colour}">{_e(status)}</span>'


def street_bars(rows: pl.DataFrame, unit: str, target: float | None, comparator: str | None = None) -> str:
    """Horizontal bars: each street's value for the year so far, coloured by status,
    with the target as a dashed line where the target applies to streets."""
    height = 22 * rows.height + 30
    width, left, right = 560, 90, 70
    values = [v for v in rows["value"].to_list() if v is not None]
    top = max(values + ([target] if target is not None else []) + [1e-9])
    if unit == "ratio":
        top = max(top, 1.0)
    scale = (width - left - right) / top
    parts = [f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    for i, row in enumerate(rows.iter_rows(named=True)):
        y = 8 + i * 22
        value = row["value"]
        colour = STATUS_COLOURS.get(row["status"] or "", "#9e9e9e")
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{_e(row["area_name"])}</text>')
        if value is not None:
            w = max(value * scale, 0.5)
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="16" fill="{colour}">'
                         f'<title>{_e(row["area_name"])}: {_e(fmt(value, unit))} {_e(row["status"])}</title></rect>')
        shown = fmt(value, unit) if value is not None else (row["status"] or "—")
        parts.append(f'<text x="{left + (value or 0) * scale + 4:.1f}" y="{y + 13}">{_e(shown)}</text>')
    if target is not None:
        x = left + target * scale
        parts.append(f'<line x1="{x:.1f}" y1="2" x2="{x:.1f}" y2="{height - 18}" stroke="#212121" '
                     f'stroke-dasharray="4 3"/><text x="{x:.1f}" y="{height - 4}" text-anchor="middle">'
                     f'目标 {_e(label(COMPARATOR_SYMBOLS, comparator))} {_e(fmt(target, unit))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def monthly_line(rows: pl.DataFrame, unit: str) -> str:
    """The district's value month by month, with the month's target (dashed) if any."""
    width, height, left, bottom, top_pad = 560, 220, 60, 30, 12
    months = [(period_label_zh("month", start), start.month) for start in rows["period_start"].to_list()]
    values = rows["value"].to_list()
    targets = rows["target"].to_list()
    numbers = [v for v in values + targets if v is not None]
    top = max(numbers + [1e-9])
    if unit == "ratio":
        top = max(top, 1.0)
    inner_w, inner_h = width - left - 16, height - bottom - top_pad
    step = inner_w / max(len(months) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top_pad + inner_h - v / top * inner_h

    parts = [f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f'<line x1="{left}" y1="{top_pad + inner_h}" x2="{width - 16}" y2="{top_pad + inner_h}" stroke="#9e9e9e"/>',
             f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end">{_e(axis(top, unit))}</text>',
             f'<text x="{left - 6}" y="{top_pad + inner_h}" text-anchor="end">0</text>']
    for series, style in ((targets, 'stroke="#212121" stroke-dasharray="4 3"'), (values, 'stroke="#c62828" stroke-width="2"')):
        points = [xy(i, v) for i, v in enumerate(series) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline fill="none" {style} points="{path}"/>')
    for i, ((name, month), value) in enumerate(zip(months, values, strict=True)):
        x = left + i * step
        parts.append(f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle">{month}月</text>')
        if value is None:  # no input for the month (e.g. no staff list yet): a hollow mark, not a 0
            parts.append(f'<circle cx="{x:.1f}" cy="{top_pad + inner_h:.1f}" r="3" fill="#fff" '
                         f'stroke="{STATUS_COLOURS["无数据"]}"><title>{_e(name)}：无数据</title></circle>')
        else:
            cx, cy = xy(i, value)
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="#c62828"><title>{_e(name)}：'
                         f'{_e(fmt(value, unit))}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def target_text(row: dict) -> str:
    if row["target"] is None:
        return ""
    return f'{_e(label(COMPARATOR_SYMBOLS, row["target_comparator"]))} {_e(fmt(row["target"], row["unit"]))}'


def audit_footnote(data: PublishedIndicators) -> str:
    """The identifiers that tie the page to a publish, for whoever audits it: at the foot
    of the page, not in the header a reader starts with."""
    publish = data.publish
    items = [("发布序号", publish.get("publish_id")), ("运行编号", publish.get("run_id")),
             ("代码版本", publish.get("code_version")), ("审计清单编号", publish.get("manifest_id"))]
    return ('<footer class="note audit"><h3>审计信息</h3><p>'
            + " · ".join(f"{name} {_e(value)}" for name, value in items)
            + "</p><p>数据来自只读数据仓库 indicators.indicator_values；历史版本见 indicators.indicator_history，"
            "计算所用文件见 audit.publish_manifest（审计清单编号即其中 manifest_id）。</p></footer>")


def render_report(data: PublishedIndicators) -> str:
    values = data.values
    year = values.filter(pl.col("period_type") == "year")
    district_year = year.filter(pl.col("area_level") == "district").sort("indicator_code")
    out = [
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">",
        f"<title>东城区总工会工作要点指标 {_e(data.as_of)}</title><style>{CSS}</style></head><body>",
        "<h1>东城区总工会工作要点指标完成情况</h1>",
        f'<div class="meta">统计日期 {_e(data.as_of)}（审计信息见文末）</div>',
        '<div class="legend">' + "".join(f'<span>{badge(s)}</span>' for s in STATUS_COLOURS) + "</div>",
        "<h2>全区年度进度</h2><table><tr><th>指标</th><th>名称</th><th>统计期</th><th>数值</th><th>目标</th>"
        "<th>完成率</th><th>状态</th><th>数据质量</th></tr>",
    ]
    for row in district_year.iter_rows(named=True):
        attainment = "" if row["attainment"] is None else f'{row["attainment"] * 100:.1f}%'
        out.append(
            f'<tr><td><a href="#{_e(row["indicator_code"])}">{_e(row["indicator_code"])}</a></td>'
            f'<td>{_e(row["indicator_name"])}</td><td>{_e(period_label_zh(row["period_type"], row["period_start"]))}</td>'
            f'<td class="num">{_e(fmt(row["value"], row["unit"]))}</td>'
            f'<td class="num">{target_text(row)}</td><td class="num">{attainment}</td><td>{badge(row["status"])}</td>'
            f'<td>{_e(label(INPUT_QUALITY_LABELS, row["input_quality"]))}</td></tr>'
        )
    out.append("</table>")
    for row in district_year.iter_rows(named=True):
        code, unit = row["indicator_code"], row["unit"]
        streets = year.filter((pl.col("indicator_code") == code) & (pl.col("area_level") == "street")).sort("area_code")
        months = values.filter(
            (pl.col("indicator_code") == code) & (pl.col("area_level") == "district") & (pl.col("period_type") == "month")
        ).sort("period_start")
        street_target = row["target"] if unit == "ratio" and row["target_comparator"] in (">=", "=") else None
        out.append(
            f'<h2 id="{_e(code)}">{_e(code)} {_e(row["indicator_name"])}</h2>'
            f'<div class="note">全区：{_e(fmt(row["value"], unit))} {badge(row["status"])}'
            + (f' 分子 {_e(fmt(float(row["numerator"]), None))} / 分母 {_e(fmt(float(row["denominator"]), None))}'
               if row["denominator"] is not None else "")
            + f' · 数据质量：{_e(label(INPUT_QUALITY_LABELS, row["input_quality"]))}'
            + "</div><div class=\"charts\">"
            f'<div class="chart"><h3>各街道（{_e(period_label_zh("year", row["period_start"]))}累计）{unit_note(unit)}</h3>'
            f'{street_bars(streets, unit, street_target, row["target_comparator"])}</div>'
            f'<div class="chart"><h3>全区逐月{unit_note(unit)}</h3>{monthly_line(months, unit)}</div></div>'
        )
    out.append(audit_footnote(data))
    out.append("</body></html>")
    return "\n".join(out)


def write_report(data: PublishedIndicators, target: Path) -> Path:
    atomic_write_text(target, render_report(data))
    return target
