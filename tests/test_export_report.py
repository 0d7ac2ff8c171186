"""The HTML report and the spreadsheet speak Chinese to leaders (issue 19): Chinese period
labels, ≥ not >=, data-quality words not pipeline codes, counts with their units, the
audit identifiers in a footnote, and 无数据 (not 0.0% 未达标) where there is no input.

Fast: a small PublishedIndicators built in memory with the real columns of
indicators.indicator_values (read from the dbt YAML), no pipeline run."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
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


def row(code: str, name: str, unit: str, area: str, label: str, *, numerator: float, denominator: float | None,
        target: float | None, comparator: str, status: str, quality: str = "passed") -> dict:
    period_type, start, end = CODE_LABELS[label]
    value = numerator if denominator is None else (numerator / denominator if denominator else None)
    return {
        "indicator_code": code, "indicator_name": name, "area_code": area,
        "area_level": "district" if area == DISTRICT else "street",
        "area_name": "东城区" if area == DISTRICT else "东华门街道",
        "period_type": period_type, "period_label": label, "period_start": start, "period_end": end,
        "as_of_date": date(2015, 12, 31), "evaluation_date": end, "is_complete": True,
        "numerator": numerator, "denominator": denominator, "value": value, "unit": unit,
        "target": target, "target_comparator": comparator, "target_basis": "plan" if target is not None else "none",
        "met_threshold": target, "attainment": value / target if value is not None and target else None,
        "value_same_period_last_year": None, "value_previous_period": None, "status": status,
        "input_submissions": 3, "input_submissions_with_warnings": int(quality == "passed_with_warnings"),
        "input_submissions_left_out": int(quality == "inputs_left_out"), "input_quality": quality,
        "manifest_id": MANIFEST_ID, "version_number": 1, "publish_id": 7, "run_id": RUN_ID,
        "computed_at": datetime(2016, 1, 1, 8, 0, tzinfo=UTC), "code_version": CODE_VERSION,
    }


def published() -> PublishedIndicators:
    dc01 = ("DC01", "通识课程免费培训职工人次", "人次")
    dc11 = ("DC11", "街道集体协商专职指导员配备率", "ratio")
    dc04 = ("DC04", "百人以上典型示范企业规范协商率", "ratio")
    rows = []
    for area in (DISTRICT, A):
        rows += [
            row(*dc01, area, "2015", numerator=9500, denominator=None, target=10000 if area == DISTRICT else None,
                comparator=">=", status="未达标" if area == DISTRICT else "无目标", quality="passed_with_warnings"),
            row(*dc01, area, "2015Q4", numerator=2600, denominator=None, target=2500 if area == DISTRICT else None,
                comparator=">=", status="达标" if area == DISTRICT else "无目标", quality="passed_with_warnings"),
            row(*dc01, area, "2015H2", numerator=5000, denominator=None, target=5000 if area == DISTRICT else None,
                comparator=">=", status="达标" if area == DISTRICT else "无目标", quality="passed_with_warnings"),
            row(*dc01, area, "2015-01", numerator=0, denominator=None, target=None, comparator=">=", status="无目标"),
            row(*dc01, area, "2015-12", numerator=800, denominator=None, target=None, comparator=">=", status="无目标"),
            # DC11: every street had a staff list by the year end, none in January (no input: 无数据)
            row(*dc11, area, "2015", numerator=1, denominator=1, target=1.0, comparator="=", status="达标",
                quality="inputs_left_out"),
            row(*dc11, area, "2015-01", numerator=0, denominator=0, target=1.0, comparator="=", status="无数据",
                quality="inputs_left_out"),
            row(*dc11, area, "2015-12", numerator=1, denominator=1, target=1.0, comparator="=", status="达标",
                quality="inputs_left_out"),
            row(*dc04, area, "2015", numerator=1, denominator=2, target=0.6, comparator=">=", status="未达标"),
            row(*dc04, area, "2015-12", numerator=1, denominator=2, target=0.6, comparator=">=", status="未达标"),
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
