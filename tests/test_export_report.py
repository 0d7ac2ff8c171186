"""The HTML report and the spreadsheet speak Chinese to leaders (issue 19): Chinese period
labels, ≥ not >=, data-quality words not pipeline codes, counts with their units, the
audit identifiers in a footnote, and 无数据 (not 0.0% 未达标) where there is no input.
What a leader asks for first: 同比 and 环比 beside each value, the indicator × street
matrix coloured by status, and a workbook that filters, freezes its header, prints on
A4 landscape and keeps the audit columns on a sheet of their own.

Fast: a small PublishedIndicators built in memory with the real columns of
indicators.indicator_values (read from the dbt YAML) and the 17 streets of the streets
seed, no pipeline run."""

from __future__ import annotations

import csv
import html
import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
import yaml

from pipelines.export.indicator_data import (
    INPUT_QUALITY_LABELS,
    PERIOD_TYPES,
    PublishedIndicators,
    period_label_zh,
)
from pipelines.export.report import render_report, write_report
from pipelines.export.workbook import write_workbook
from pipelines.publish.history import STAMP_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
MODEL_YAML = ROOT / "dbt_project" / "models" / "indicators" / "_indicators.yml"
STREETS_SEED = ROOT / "dbt_project" / "seeds" / "streets.csv"

RUN_ID = "run-20151231T235959-7f3a9c"
MANIFEST_ID = "9d2c41b7e0a85f6e3b1c7d90a4e2f6b8c1d3e5f7a9b0c2d4e6f8a1b3c5d7e9f0"
CODE_VERSION = "git-1a2b3c4d"
A, DISTRICT = "110101001", "110101"

CODE_LABELS = {"2015-12": ("month", date(2015, 12, 1), date(2015, 12, 31)),
               "2015-01": ("month", date(2015, 1, 1), date(2015, 1, 31)),
               "2015Q4": ("quarter", date(2015, 10, 1), date(2015, 12, 31)),
               "2015H2": ("half", date(2015, 7, 1), date(2015, 12, 31)),
               "2015": ("year", date(2015, 1, 1), date(2015, 12, 31))}


def value_columns() -> list[str]:
    models = yaml.safe_load(MODEL_YAML.read_text(encoding="utf-8"))["models"]
    model = next(m for m in models if m["name"] == "indicator_values")
    return [c["name"] for c in model["columns"]] + STAMP_COLUMNS


def streets() -> dict[str, str]:
    """The district's 17 streets, code to Chinese name, as the warehouse has them."""
    with STREETS_SEED.open(encoding="utf-8") as f:
        return {r["code"]: r["name"] for r in csv.DictReader(f)}


STREETS = streets()


def row(code: str, name: str, unit: str, area: str, label: str, *, numerator: float, denominator: float | None,
        target: float | None, comparator: str, status: str, quality: str = "passed",
        last_year: float | None = None, previous: float | None = None) -> dict:
    period_type, start, end = CODE_LABELS[label]
    value = numerator if denominator is None else (numerator / denominator if denominator else None)
    return {
        "indicator_code": code, "indicator_name": name, "area_code": area,
        "area_level": "district" if area == DISTRICT else "street",
        "area_name": "东城区" if area == DISTRICT else STREETS[area],
        "period_type": period_type, "period_label": label, "period_start": start, "period_end": end,
        "as_of_date": date(2015, 12, 31), "evaluation_date": end, "is_complete": True,
        "numerator": numerator, "denominator": denominator, "value": value, "unit": unit,
        "target": target, "target_comparator": comparator, "target_basis": "plan" if target is not None else "none",
        "met_threshold": target, "attainment": value / target if value is not None and target else None,
        "value_same_period_last_year": last_year, "value_previous_period": previous, "status": status,
        "input_submissions": 3, "input_submissions_with_warnings": int(quality == "passed_with_warnings"),
        "input_submissions_left_out": int(quality == "inputs_left_out"), "input_quality": quality,
        "manifest_id": MANIFEST_ID, "version_number": 1, "publish_id": 7, "run_id": RUN_ID,
        "computed_at": datetime(2016, 1, 1, 8, 0, tzinfo=UTC), "code_version": CODE_VERSION,
    }


def dc04_street(i: int) -> tuple[int, str]:
    """DC04 (target ≥ 60%) of the i-th street: 3 to 8 of 10 firms, so some streets meet it."""
    numerator = 3 + i % 6
    return numerator, "达标" if numerator >= 6 else "未达标"


def published() -> PublishedIndicators:
    dc01 = ("DC01", "通识课程免费培训职工人次", "人次")
    dc11 = ("DC11", "街道集体协商专职指导员配备率", "ratio")
    dc04 = ("DC04", "百人以上典型示范企业规范协商率", "ratio")
    rows = []
    for i, area in enumerate([DISTRICT, *STREETS]):
        district = area == DISTRICT
        dc04_numerator, dc04_status = (1, "未达标") if district else dc04_street(i)
        rows += [
            # the district's year: 9,500 against 8,500 a year earlier (+11.8%)
            row(*dc01, area, "2015", numerator=9500, denominator=None, target=10000 if district else None,
                comparator=">=", status="未达标" if district else "无目标", quality="passed_with_warnings",
                last_year=8500 if district else None, previous=8500 if district else None),
            row(*dc01, area, "2015Q4", numerator=2600, denominator=None, target=2500 if district else None,
                comparator=">=", status="达标" if district else "无目标", quality="passed_with_warnings"),
            row(*dc01, area, "2015H2", numerator=5000, denominator=None, target=5000 if district else None,
                comparator=">=", status="达标" if district else "无目标", quality="passed_with_warnings"),
            row(*dc01, area, "2015-01", numerator=0, denominator=None, target=None, comparator=">=", status="无目标"),
            # December: 800 against 640 in December 2014 (+25.0%) and 1,000 in November (-20.0%)
            row(*dc01, area, "2015-12", numerator=800, denominator=None, target=None, comparator=">=", status="无目标",
                last_year=640 if district else None, previous=1000 if district else None),
            # DC11: every street had a staff list by the year end, none in January (no input: 无数据)
            row(*dc11, area, "2015", numerator=1, denominator=1, target=1.0, comparator="=", status="达标",
                quality="inputs_left_out"),
            row(*dc11, area, "2015-01", numerator=0, denominator=0, target=1.0, comparator="=", status="无数据",
                quality="inputs_left_out"),
            row(*dc11, area, "2015-12", numerator=1, denominator=1, target=1.0, comparator="=", status="达标",
                quality="inputs_left_out"),
            # DC04 for the district: 50.0% against 46.9% a year earlier (+3.1 个百分点)
            row(*dc04, area, "2015", numerator=dc04_numerator, denominator=2 if district else 10, target=0.6,
                comparator=">=", status=dc04_status, last_year=0.469 if district else None,
                previous=0.469 if district else None),
            # and in December 50.0% against 55.0% in November (-5.0 个百分点)
            row(*dc04, area, "2015-12", numerator=1, denominator=2, target=0.6, comparator=">=", status="未达标",
                previous=0.55 if district else None),
        ]
    columns = value_columns()
    values = pl.DataFrame([{c: r.get(c) for c in columns} for r in rows], infer_schema_length=None)
    history = values.with_columns(pl.col("publish_id").alias("publish_id"))
    publish = {"publish_id": 7, "run_id": RUN_ID, "code_version": CODE_VERSION, "as_of_date": date(2015, 12, 31),
               "manifest_id": MANIFEST_ID}
    return PublishedIndicators(values, history, publish)


@pytest.fixture(scope="module")
def page() -> str:
    return render_report(published())


def visible(page: str) -> str:
    """The page's text and tooltips as a reader sees them (no tags, no CSS)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", page, flags=re.S)))


def section(page: str, code: str) -> str:
    return page.split(f'id="{code}"', 1)[1].split("<h2", 1)[0].split("<footer", 1)[0]


ZERO_PERCENT = re.compile(r"(?<![\d.])0\.0%")


def split_footnote(page: str) -> tuple[str, str]:
    body, footer = page.split('<footer class="note audit">', 1)
    return body, footer


def test_the_fixture_has_the_real_columns() -> None:
    assert {"input_quality", "target_comparator", "period_label", "status"} <= set(value_columns())


def test_period_labels_are_chinese() -> None:
    assert period_label_zh("quarter", date(2015, 10, 1)) == "2015年第四季度"
    assert period_label_zh("half", date(2015, 7, 1)) == "2015年下半年"
    assert period_label_zh("half", date(2015, 1, 1)) == "2015年上半年"
    assert period_label_zh("year", date(2015, 1, 1)) == "2015年"
    assert period_label_zh("month", date(2015, 12, 1)) == "2015年12月"
    for period_type in PERIOD_TYPES:
        assert re.fullmatch(r"2015年\S*", period_label_zh(period_type, date(2015, 1, 1)))


def test_the_report_shows_no_pipeline_codes(page: str) -> None:
    text = visible(page)
    for code in ("passed_with_warnings", "inputs_left_out", "passed", "Q4", "H2", ">=", "<=", "ratio", "rising",
                 "tracked"):
        assert code not in text, code
    assert "2015年" in text and "≥" in text


def test_the_report_says_data_quality_in_words(page: str) -> None:
    assert "数据质量" in page and "输入质量" not in page
    for word in INPUT_QUALITY_LABELS.values():
        assert word in page
    assert {"通过", "有提示", "部分街道未纳入"} == set(INPUT_QUALITY_LABELS.values())


def test_counts_carry_their_unit_and_targets_their_operator(page: str) -> None:
    assert "9,500 人次" in page and "≥ 10,000 人次" in page
    assert "≥ 60.0%" in page and "= 100.0%" in page


def test_the_audit_identifiers_are_in_the_footnote_not_the_header(page: str) -> None:
    body, footer = split_footnote(page)
    for ident in (RUN_ID, MANIFEST_ID, CODE_VERSION):
        assert ident not in body
        assert ident in footer
    assert "审计信息" in footer and "运行编号" in footer and "审计清单编号" in footer
    assert footer.rstrip().endswith("</html>")
    assert "统计日期 2015-12-31" in body


def test_a_period_with_no_input_says_no_data_not_unmet(page: str) -> None:
    data = published()
    january = data.values.filter((pl.col("indicator_code") == "DC11") & (pl.col("period_label") == "2015-01")
                                 & (pl.col("area_code") == DISTRICT)).row(0, named=True)
    assert january["value"] is None and january["status"] == "无数据"
    # the monthly line marks January as 无数据, and nothing says 0.0% or 未达标 for it
    dc11 = visible(section(page, "DC11"))
    assert "2015年1月：无数据" in dc11 and "2015年12月：100.0%" in dc11
    assert not ZERO_PERCENT.search(dc11) and "未达标" not in dc11


def test_a_street_without_input_is_labelled_no_data_in_its_bar() -> None:
    data = published()
    values = data.values.with_columns(
        pl.when((pl.col("indicator_code") == "DC11") & (pl.col("area_code") == A))
        .then(None).otherwise(pl.col("value")).alias("value"),
        pl.when((pl.col("indicator_code") == "DC11") & (pl.col("area_code") == A))
        .then(pl.lit("无数据")).otherwise(pl.col("status")).alias("status"),
    )
    page = render_report(PublishedIndicators(values, data.history, data.publish))
    dc11 = visible(section(page, "DC11"))
    assert "东华门街道" in dc11 and "无数据" in dc11 and "未达标" not in dc11 and not ZERO_PERCENT.search(dc11)


def test_write_report_writes_the_page(tmp_path: Path) -> None:
    target = write_report(published(), tmp_path / "r.html")
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and "<script" not in text and "http" not in text


def test_the_workbook_speaks_chinese_too(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    book = load_workbook(write_workbook(published(), tmp_path / "x.xlsx"), read_only=True)
    quarter = list(book["季度"].iter_rows(values_only=True))
    header = quarter[0]
    dc01 = next(r for r in quarter[1:] if r[0] == "DC01" and r[2] == DISTRICT)
    assert dc01[header.index("统计期")] == "2015年第四季度"
    assert dc01[header.index("比较方式")] == "≥"
    assert dc01[header.index("数据质量")] == "有提示"
    assert dc01[header.index("单位")] == "人次"
    half = list(book["半年"].iter_rows(values_only=True))
    assert half[1][header.index("统计期")] == "2015年下半年"
    year = list(book["年度"].iter_rows(values_only=True))
    dc04 = next(r for r in year[1:] if r[0] == "DC04")
    assert dc04[header.index("单位")] == "比率"
    dc11 = next(r for r in year[1:] if r[0] == "DC11")
    assert dc11[header.index("数据质量")] == "部分街道未纳入"
    shown = {str(v) for sheet in ("月度", "季度", "半年", "年度", "说明") for r in book[sheet].iter_rows(values_only=True)
             for v in r if v is not None}
    for code in ("passed_with_warnings", "inputs_left_out", "passed", "2015Q4", "2015H2", ">=", "ratio"):
        assert not any(code in v for v in shown), code
    notes = list(book["说明"].iter_rows(values_only=True))
    audit = [r[0] for r in notes].index("审计信息")
    assert ("运行编号", RUN_ID) in [r[:2] for r in notes[audit:]]
    assert ("审计清单编号", MANIFEST_ID) in [r[:2] for r in notes[audit:]]


# --- what a leader asks for first: 同比 and 环比 --------------------------------------------


class Tables(HTMLParser):
    """The page's tables as rows of cells: (tag, attributes, text); ``after`` the element
    with that id, if given (e.g. the comparisons section)."""

    def __init__(self, after: str | None = None) -> None:
        super().__init__()
        self.armed = after is None
        self.after = after
        self.tables: list[tuple[dict[str, str], list[list[tuple[str, dict[str, str], str]]]]] = []
        self.cell: tuple[str, dict[str, str], list[str]] | None = None
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if not self.armed and attributes.get("id") == self.after:
            self.armed = True
        if not self.armed:
            return
        if tag == "table":
            self.tables.append((attributes, []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th") and self.tables:
            self.cell = (tag, attributes, [])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            name, attributes, text = self.cell
            self.tables[-1][1][-1].append((name, attributes, "".join(text).strip()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell[2].append(data)


def tables_after(page: str, anchor: str | None = None) -> list[list[list[tuple[str, dict[str, str], str]]]]:
    parser = Tables(anchor)
    parser.feed(page)
    return [rows for _, rows in parser.tables]


def by_header(rows: list[list[tuple[str, dict[str, str], str]]], first: str) -> dict[str, str]:
    """The row whose first cell is ``first``, as header → text."""
    header = [c[2] for c in rows[0]]
    found = next(r for r in rows[1:] if r[0][2] == first)
    return dict(zip(header, (c[2] for c in found), strict=True))


def test_changes_are_percentages_for_counts_and_points_for_rates() -> None:
    from pipelines.export.comparisons import change_between, change_text

    assert change_text(change_between(9500, 8500, "人次"), "人次") == "+11.8%"
    assert change_text(change_between(800, 1000, "人次"), "人次") == "-20.0%"
    assert change_text(change_between(0.5, 0.469, "ratio"), "ratio") == "+3.1 个百分点"
    assert change_text(change_between(0.5, 0.55, "ratio"), "ratio") == "-5.0 个百分点"
    # no percentage of nothing: the difference in the unit
    assert change_text(change_between(800, 0, "人次"), "人次") == "+800 人次"
    # what rounds to nothing has no sign; no earlier value, no change
    assert change_text(change_between(1000.0001, 1000, "元"), "元") == "0.0%"
    assert change_text(change_between(0.5, None, "ratio"), "ratio") == "—"
    assert change_text(change_between(None, 0.5, "ratio"), "ratio") == "—"


def test_the_year_overview_shows_the_same_period_last_year(page: str) -> None:
    overview = tables_after(page, "overview")[0]
    dc01 = by_header(overview, "DC01")
    assert dc01["数值"] == "9,500 人次" and dc01["上年同期"] == "8,500 人次" and dc01["同比"] == "+11.8%"
    dc04 = by_header(overview, "DC04")
    assert dc04["数值"] == "50.0%" and dc04["上年同期"] == "46.9%" and dc04["同比"] == "+3.1 个百分点"


def test_the_latest_month_shows_year_on_year_and_period_on_period(page: str) -> None:
    months = tables_after(page, "compare")[0]
    assert [c[2] for c in months[0]][3:8] == ["本月", "上年同月", "同比", "上月", "环比"]
    dc01 = by_header(months, "DC01")
    assert dc01["统计期"] == "2015年12月" and dc01["本月"] == "800 人次"
    assert (dc01["上年同月"], dc01["同比"]) == ("640 人次", "+25.0%")
    assert (dc01["上月"], dc01["环比"]) == ("1,000 人次", "-20.0%")
    dc04 = by_header(months, "DC04")
    assert (dc04["上月"], dc04["环比"]) == ("55.0%", "-5.0 个百分点")


def test_no_earlier_value_says_no_data_and_a_dash(page: str) -> None:
    dc11 = by_header(tables_after(page, "compare")[0], "DC11")
    assert (dc11["上年同月"], dc11["同比"], dc11["上月"], dc11["环比"]) == ("无数据", "—", "无数据", "—")
    dc04 = by_header(tables_after(page, "compare")[0], "DC04")
    assert (dc04["上年同月"], dc04["同比"]) == ("无数据", "—")


def test_each_indicator_compares_its_month_quarter_half_and_year(page: str) -> None:
    compare = tables_after(section(page, "DC01"))[0]
    rows = {r[0][2]: [c[2] for c in r] for r in compare[1:]}
    assert list(rows) == ["2015年12月", "2015年第四季度", "2015年下半年", "2015年"]
    assert rows["2015年"][1:] == ["9,500 人次", "8,500 人次", "+11.8%", "8,500 人次", "+11.8%"]
    assert rows["2015年12月"][1:] == ["800 人次", "640 人次", "+25.0%", "1,000 人次", "-20.0%"]
    assert rows["2015年第四季度"][2:] == ["无数据", "—", "无数据", "—"]


# --- the indicator × street matrix ---------------------------------------------------------


def matrix(page: str) -> list[list[tuple[str, dict[str, str], str]]]:
    return tables_after(page, "matrix")[0]


def test_the_matrix_has_a_column_per_street(page: str) -> None:
    header = matrix(page)[0]
    street_columns = [c[2] for c in header if "street" in c[1].get("class", "") and "district" not in c[1]["class"]]
    assert len(STREETS) == 17 and street_columns == list(STREETS.values())
    assert header[-1][2] == "全区"
    assert [r[0][2].split()[0] for r in matrix(page)[1:]] == ["DC01", "DC04", "DC11"]


def test_a_matrix_cell_has_the_colour_of_its_street_status(page: str) -> None:
    from pipelines.export.comparisons import STATUS_FILLS

    def rgb(colour: str) -> tuple[int, int, int]:
        return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)

    green, red = rgb(STATUS_FILLS["达标"]), rgb(STATUS_FILLS["未达标"])
    assert green[1] > green[0] and red[0] > red[1]  # 达标 green, 未达标 red
    year = published().values.filter((pl.col("period_type") == "year") & (pl.col("area_level") == "street"))
    status = {(r["indicator_code"], r["area_name"]): r["status"] for r in year.iter_rows(named=True)}
    rows = matrix(page)
    names = [c[2] for c in rows[0][1:-1]]
    seen = set()
    for r in rows[1:]:
        code = r[0][2].split()[0]
        for name, (_, attrs, text) in zip(names, r[1:-1], strict=True):
            expected = status[(code, name)]
            assert f"background:{STATUS_FILLS[expected]}" in attrs["style"], (code, name)
            assert expected in attrs["title"] and name in attrs["title"]
            seen.add(expected)
            if code == "DC04":
                value = year.filter((pl.col("indicator_code") == code) & (pl.col("area_name") == name))["value"][0]
                assert text == f"{value * 100:.1f}%"
    assert {"达标", "未达标", "无目标"} <= seen
    legend = visible(page.split('id="matrix"', 1)[1].split("<table", 1)[0])
    for word in STATUS_FILLS:
        assert word in legend


def test_tooltips_show_no_pipeline_codes_either(page: str) -> None:
    titles = " ".join(html.unescape(t) for t in re.findall(r'title="([^"]*)"', page))
    shown = visible(page) + " " + titles
    for code in ("passed_with_warnings", "inputs_left_out", ">=", "2015Q4", "2015H2", "ratio", "None"):
        assert code not in shown, code


# --- the workbook: comparisons, matrix, usability, audit sheet -----------------------------


@pytest.fixture(scope="module")
def workbook_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_workbook(published(), tmp_path_factory.mktemp("book") / "indicators.xlsx")


DATA_SHEETS = ("指标×街道", "月度", "季度", "半年", "年度", "历史版本", "审计信息")
AUDIT_HEADERS = ("运行编号", "审计清单编号", "代码版本", "计算时间", "版本", "发布序号", "纳入文件数", "未纳入文件数")


def sheet_rows(path: Path, sheet: str) -> list[tuple]:
    from openpyxl import load_workbook

    return list(load_workbook(path, read_only=True)[sheet].iter_rows(values_only=True))


def test_the_workbook_has_the_leaders_sheets_first_and_the_audit_sheet(workbook_path: Path) -> None:
    from openpyxl import load_workbook

    assert load_workbook(workbook_path, read_only=True).sheetnames == [*DATA_SHEETS, "说明"]


def test_every_data_sheet_filters_freezes_and_prints_on_a4_landscape(workbook_path: Path) -> None:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    book = load_workbook(workbook_path)
    for name in DATA_SHEETS:
        ws = book[name]
        header = [c.value for c in ws[1]]
        width = len([h for h in header if h is not None])
        rows = 1 + (len(published().values["indicator_code"].unique()) if name == "指标×街道"
                    else ws.max_row - 1)
        assert ws.auto_filter.ref == f"A1:{get_column_letter(width)}{rows}", name
        assert ws.freeze_panes == "C2", name  # the header row and 指标代码, 指标名称
        assert ws.page_setup.orientation == "landscape", name
        assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4), name
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        # one page wide, as many down as it takes (fitToWidth left out of the file means 1,
        # its default in the file format, as Excel itself writes it)
        assert ws.page_setup.fitToWidth in (None, 1, "1") and int(ws.page_setup.fitToHeight) == 0, name
        assert ws.print_title_rows is not None and ws.print_title_rows.replace("$", "") == "1:1", name
    assert book["说明"].page_setup.orientation == "landscape"


def test_the_audit_columns_are_on_their_own_sheet(workbook_path: Path) -> None:
    data = published()
    for name in ("月度", "季度", "半年", "年度", "指标×街道"):
        rows = sheet_rows(workbook_path, name)
        assert not set(AUDIT_HEADERS) & set(rows[0]), name
        cells = {str(v) for r in rows for v in r if v is not None}
        assert RUN_ID not in cells and MANIFEST_ID not in cells and CODE_VERSION not in cells, name
    audit = sheet_rows(workbook_path, "审计信息")
    header = audit[0]
    assert set(AUDIT_HEADERS) <= set(header) and header[:4] == ("指标代码", "指标名称", "区域代码", "区域")
    assert len(audit) == 1 + data.values.height
    dc01 = next(r for r in audit[1:] if r[0] == "DC01" and r[2] == DISTRICT and r[header.index("统计期")] == "2015年")
    assert dc01[header.index("运行编号")] == RUN_ID and dc01[header.index("审计清单编号")] == MANIFEST_ID
    assert dc01[header.index("纳入文件数")] == 3 and dc01[header.index("目标来源")] == "计划值"
    assert dc01[header.index("数据质量")] == "有提示"


def test_the_workbook_compares_with_last_year_and_the_previous_period(workbook_path: Path) -> None:
    from openpyxl import load_workbook

    book = load_workbook(workbook_path)

    def cells(sheet: str, code: str, area: str) -> dict:
        ws = book[sheet]
        header = [c.value for c in ws[1]]
        found = next(r for r in ws.iter_rows(min_row=2) if r[0].value == code and r[2].value == area)
        return dict(zip(header, found, strict=False))

    dc01 = cells("年度", "DC01", DISTRICT)
    assert dc01["上年同期"].value == 8500 and dc01["同比"].value == pytest.approx(0.118)
    assert dc01["同比"].number_format.startswith("+0.0%")
    dc04 = cells("月度", "DC04", DISTRICT)
    assert dc04["上一统计期"].value == pytest.approx(0.55) and dc04["上一统计期"].number_format == "0.0%"
    assert dc04["环比"].value == pytest.approx(-5.0) and "个百分点" in dc04["环比"].number_format
    assert (dc04["上年同期"].value, dc04["同比"].value) == ("无数据", "—")
    dc11 = cells("年度", "DC11", A)
    assert (dc11["上年同期"].value, dc11["同比"].value, dc11["环比"].value) == ("无数据", "—", "—")


def test_the_workbook_matrix_sheet_colours_each_street_by_status(workbook_path: Path) -> None:
    from openpyxl import load_workbook

    from pipelines.export.comparisons import STATUS_FILLS

    ws = load_workbook(workbook_path)["指标×街道"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["指标代码", "指标名称", "单位"] and header[3:20] == list(STREETS.values())
    assert header[20] == "全区"
    year = published().values.filter(pl.col("period_type") == "year")
    for r in ws.iter_rows(min_row=2, max_row=4):
        code = r[0].value
        for name, cell in zip(header[3:21], r[3:21], strict=True):
            area = DISTRICT if name == "全区" else next(k for k, v in STREETS.items() if v == name)
            published_row = year.filter((pl.col("indicator_code") == code) & (pl.col("area_code") == area)).row(
                0, named=True)
            assert cell.fill.fgColor.rgb[-6:] == STATUS_FILLS[published_row["status"]][1:], (code, name)
            value = published_row["value"]
            assert cell.value == ("无数据" if value is None else pytest.approx(value))
    legend = {r[0].value for r in ws.iter_rows(min_row=6)}
    assert set(STATUS_FILLS) <= legend


def test_the_new_sheets_show_no_pipeline_codes(workbook_path: Path) -> None:
    shown = {str(v) for sheet in ("指标×街道", "审计信息", "月度") for r in sheet_rows(workbook_path, sheet)
             for v in r if v is not None}
    for code in ("passed_with_warnings", "inputs_left_out", "2015Q4", "2015H2", ">=", "ratio", "plan", "pro_rata"):
        assert not any(code in v for v in shown), code
