"""The indicator report: one self-contained HTML page (inline CSS and SVG, no script, no
outside resource: it opens offline and prints) with progress against the plan's
targets, the comparisons a leader asks for first (同比 against the same period a year
earlier, 环比 against the previous period), the indicator × street matrix, and by street
and month by month for each indicator DC01-DC17."""

from __future__ import annotations

import html
from pathlib import Path

import polars as pl

from pipelines.export.comparisons import (
    NO_DATA,
    STATUS_FILLS,
    STATUS_MEANINGS,
    Change,
    Comparison,
    MatrixCell,
    StreetMatrix,
    change_text,
    comparison,
    latest_district_rows,
    status_fill,
    street_matrix,
)
from pipelines.export.indicator_data import (
    COMPARATOR_SYMBOLS,
    INPUT_QUALITY_LABELS,
    PERIOD_TYPES,
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
nav.toc{font-size:13px;margin:8px 0} nav.toc a{margin-right:14px}
td.up{color:#1b5e20} td.down{color:#b71c1c}
table.compare{margin-top:8px} table.compare caption{text-align:left;font-size:13px;font-weight:bold;color:#424242;padding:4px 0}
.matrix-wrap{overflow-x:auto} table.matrix{width:auto;font-size:12px}
table.matrix th.street{writing-mode:vertical-rl;white-space:nowrap;vertical-align:bottom;padding:6px 3px;min-width:30px}
table.matrix th.indicator{min-width:200px;max-width:260px;font-weight:normal;text-align:left}
table.matrix td{text-align:right;white-space:nowrap;padding:3px 5px;font-variant-numeric:tabular-nums}
table.matrix td.district,table.matrix th.district{border-left:2px solid #9e9e9e}
.legend span.swatch{display:inline-block;width:14px;height:14px;border:1px solid #9e9e9e;vertical-align:middle;margin-right:4px}
@media print{.matrix-wrap{overflow:visible} h2{break-after:avoid} .chart,table.compare{break-inside:avoid}}
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


def earlier_text(value: float | None, unit: str | None) -> str:
    """An earlier period's value: 无数据 where there is none (a year before the data began)."""
    return NO_DATA if value is None else fmt(value, unit)


def change_cell(text: str) -> str:
    """A change as a table cell: a rise green, a fall red (the words say which, too)."""
    trend = "up" if text.startswith("+") else "down" if text.startswith("-") else ""
    return f'<td class="num {trend}">{_e(text)}</td>'


def earlier_cells(earlier: float | None, change: Change | None, unit: str | None) -> str:
    """An earlier value and the change from it, as two table cells."""
    return f'<td class="num">{_e(earlier_text(earlier, unit))}</td>' + change_cell(change_text(change, unit))


def year_on_year_cells(c: Comparison) -> str:
    """上年同期 and 同比."""
    return earlier_cells(c.same_period_last_year, c.year_on_year, c.unit)


def period_on_period_cells(c: Comparison) -> str:
    """上一统计期 and 环比."""
    return earlier_cells(c.previous_period, c.period_on_period, c.unit)


def period_cell(row: dict) -> str:
    """The period's Chinese name, marked when it is not over on the as-of date."""
    name = period_label_zh(row["period_type"], row["period_start"])
    return f"<td>{_e(name)}{'（未结束）' if row.get('is_complete') is False else ''}</td>"


UNFINISHED_NOTE = ("标“未结束”的统计期：本期数值截至统计日期，上年同期与上一统计期为该期全期数值。"
                   "同比、环比：计数与金额类为增减百分比，比率类为增减百分点；无数据表示没有可比的数值。")


def latest_month_table(values: pl.DataFrame) -> str:
    """Each indicator's latest month for the district beside the same month a year earlier
    (同比) and the month before (环比): the comparisons a leader asks for first."""
    months = latest_district_rows(values, "month")
    out = ['<h2 id="compare">全区最近一月：同比与环比</h2><table><tr><th>指标</th><th>名称</th><th>统计期</th>'
           "<th>本月</th><th>上年同月</th><th>同比</th><th>上月</th><th>环比</th><th>状态</th></tr>"]
    for row in months.iter_rows(named=True):
        c = comparison(row)
        out.append(
            f'<tr><td><a href="#{_e(row["indicator_code"])}">{_e(row["indicator_code"])}</a></td>'
            f'<td>{_e(row["indicator_name"])}</td>{period_cell(row)}'
            f'<td class="num">{_e(fmt(row["value"], row["unit"]))}</td>'
            f"{year_on_year_cells(c)}{period_on_period_cells(c)}<td>{badge(row['status'])}</td></tr>"
        )
    out.append(f'</table><p class="note">{_e(UNFINISHED_NOTE)}</p>')
    return "".join(out)


def indicator_comparisons(values: pl.DataFrame, code: str) -> str:
    """One indicator's latest month, quarter, half and year for the district, each with
    同比 and 环比."""
    rows = [r for period_type in PERIOD_TYPES
            for r in latest_district_rows(values, period_type).filter(pl.col("indicator_code") == code)
            .iter_rows(named=True)]
    if not rows:
        return ""
    out = ['<table class="compare"><caption>全区同比与环比</caption><tr><th>统计期</th><th>本期</th>'
           "<th>上年同期</th><th>同比</th><th>上一统计期</th><th>环比</th></tr>"]
    for row in rows:
        c = comparison(row)
        out.append(f'<tr>{period_cell(row)}<td class="num">{_e(fmt(row["value"], row["unit"]))}</td>'
                   f"{year_on_year_cells(c)}{period_on_period_cells(c)}</tr>")
    out.append("</table>")
    return "".join(out)


def matrix_cell(cell: MatrixCell, unit: str | None, area: str, indicator: str, district: bool = False) -> str:
    """A street's value on its status's colour; the status in words in the tooltip."""
    shown = NO_DATA if cell.value is None else axis(cell.value, unit)
    tip = f"{area} · {indicator}：{fmt(cell.value, unit) if cell.value is not None else NO_DATA}（{cell.status}）"
    css = ' class="district"' if district else ""
    return (f'<td{css} style="background:{status_fill(cell.status)}" data-status="{_e(cell.status)}" '
            f'title="{_e(tip)}">{_e(shown)}</td>')


def matrix_legend() -> str:
    return ('<div class="legend">' + "".join(
        f'<span title="{_e(STATUS_MEANINGS[s])}"><span class="swatch" style="background:{colour}"></span>'
        f"{_e(s)}：{_e(STATUS_MEANINGS[s])}</span>" for s, colour in STATUS_FILLS.items()) + "</div>")


def matrix_section(matrix: StreetMatrix) -> str:
    """Rows: the indicators; columns: the streets and the district; each cell the value of
    the year so far, coloured by its status."""
    period = period_label_zh(matrix.period_type, matrix.period_start) if matrix.period_start else ""
    out = [f'<h2 id="matrix">指标×街道（{_e(period)}累计）</h2>', matrix_legend(),
           '<div class="matrix-wrap"><table class="matrix"><tr><th class="indicator">指标</th>',
           "".join(f'<th class="street" title="{_e(s.name)}">{_e(s.name)}</th>' for s in matrix.streets),
           '<th class="street district">全区</th></tr>']
    for row in matrix.rows:
        indicator = f"{row.indicator_code} {row.indicator_name}"
        out.append(
            f'<tr><th class="indicator"><a href="#{_e(row.indicator_code)}">{_e(row.indicator_code)}</a> '
            f"{_e(row.indicator_name)}{unit_note(row.unit)}</th>"
            + "".join(matrix_cell(cell, row.unit, s.name, indicator) for s, cell in zip(matrix.streets, row.streets, strict=True))
            + matrix_cell(row.district, row.unit, "全区", indicator, district=True) + "</tr>"
        )
    out.append('</table></div><p class="note">比率类为百分比；计数与金额类的单位见指标名称后。'
               "计数与金额类目标为全区目标，街道无分解目标（无目标）。</p>")
    return "".join(out)


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
        '<nav class="toc"><a href="#overview">全区年度进度</a><a href="#compare">同比与环比</a>'
        '<a href="#matrix">指标×街道</a><a href="#indicators">各指标详情</a></nav>',
        '<div class="legend">' + "".join(f'<span>{badge(s)}</span>' for s in STATUS_COLOURS) + "</div>",
        '<h2 id="overview">全区年度进度</h2><table><tr><th>指标</th><th>名称</th><th>统计期</th><th>数值</th>'
        "<th>上年同期</th><th>同比</th><th>目标</th><th>完成率</th><th>状态</th><th>数据质量</th></tr>",
    ]
    for row in district_year.iter_rows(named=True):
        attainment = "" if row["attainment"] is None else f'{row["attainment"] * 100:.1f}%'
        out.append(
            f'<tr><td><a href="#{_e(row["indicator_code"])}">{_e(row["indicator_code"])}</a></td>'
            f'<td>{_e(row["indicator_name"])}</td>{period_cell(row)}'
            f'<td class="num">{_e(fmt(row["value"], row["unit"]))}</td>{year_on_year_cells(comparison(row))}'
            f'<td class="num">{target_text(row)}</td><td class="num">{attainment}</td><td>{badge(row["status"])}</td>'
            f'<td>{_e(label(INPUT_QUALITY_LABELS, row["input_quality"]))}</td></tr>'
        )
    out.append("</table>")
    out.append(latest_month_table(values))
    out.append(matrix_section(street_matrix(values)))
    out.append('<div id="indicators"></div>')
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
            + indicator_comparisons(values, code)
        )
    out.append(audit_footnote(data))
    out.append("</body></html>")
    return "\n".join(out)


def write_report(data: PublishedIndicators, target: Path) -> Path:
    atomic_write_text(target, render_report(data))
    return target
