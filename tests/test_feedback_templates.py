"""The fill-in templates: headers, dropdowns, formats, instructions, street pre-fill, and
a template filled in as a clerk would loads with nothing quarantined."""

from __future__ import annotations

import argparse
import csv
import io
import re
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from pipelines.config import Settings
from pipelines.contract import (
    DATASETS,
    FILE_RULES,
    STREETS,
    Column,
    ColumnType,
    Dataset,
    DatasetKind,
    applicable_rules,
    get_dataset,
)
from pipelines.feedback import templates
from pipelines.feedback.cli import cmd_template, register
from pipelines.feedback.templates import INSTRUCTIONS_SHEET, write_template, write_templates
from pipelines.feedback.wording import problem_message
from pipelines.ingest.process import ingest_pending

from .conftest import drop
from .test_validate import valid_row

STREET = "110101001"  # the street valid_row writes

Row = dict[str, str | None]


# --- helpers shared with the receipt tests ------------------------------------------------


def cell_value(col: Column, value: str | None) -> object:
    """What a clerk's spreadsheet program stores for ``value`` typed into the template:
    date cells for dates, numbers for numbers, text for the rest."""
    if value is None or value == "":
        return None
    try:
        match col.type:
            case ColumnType.DATE:
                return date.fromisoformat(value)
            case ColumnType.DATETIME:
                return datetime.strptime(value, "%Y-%m-%d %H:%M")
            case ColumnType.INT:
                return int(value)
            case ColumnType.MONEY | ColumnType.DECIMAL:
                return float(value.replace(",", ""))
    except ValueError:
        return value  # what the clerk typed, kept as text (the pipeline judges it)
    return value


def fill(template: Path, dataset: Dataset, rows: list[Row]) -> bytes:
    """The template with ``rows`` typed in from row 2, saved as the clerk would."""
    wb = openpyxl.load_workbook(template)
    ws = wb.worksheets[0]
    for r, row in enumerate(rows, start=2):
        for c, col in enumerate(dataset.columns, start=1):
            ws.cell(row=r, column=c, value=cell_value(col, row.get(col.name)))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def valid_rows(dataset: Dataset, n: int, start: int = 0) -> list[Row]:
    rows = []
    for i in range(start, start + n):
        row = valid_row(dataset, i)
        row[dataset.key] = f"{dataset.key}-{i}"
        rows.append(row)
    return rows


def data_sheet(path: Path) -> Worksheet:
    return openpyxl.load_workbook(path).worksheets[0]


def validations(ws: Worksheet) -> dict[str, object]:
    """Data-cell validation per column letter (the ones starting on row 2)."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            if rng.min_row == 2:
                out[rng.coord.split(":")[0].rstrip("0123456789")] = dv
    return out


def list_values(dv: object) -> list[str]:
    formula = dv.formula1  # type: ignore[attr-defined]
    assert formula.startswith('"') and formula.endswith('"'), formula
    return formula[1:-1].split(",")


def letter(i: int) -> str:
    return openpyxl.utils.get_column_letter(i + 1)


# --- the templates ------------------------------------------------------------------------


def test_one_template_per_dataset(tmp_path: Path) -> None:
    paths = write_templates(tmp_path)
    assert [p.name for p in paths] == [f"{d.name}.xlsx" for d in DATASETS]
    assert all(p.parent == tmp_path for p in paths)
    [one] = write_templates(tmp_path / "one", dataset="members")
    assert one == tmp_path / "one" / "members.xlsx"


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_headers_prompts_dropdowns_and_formats(tmp_path: Path, dataset: Dataset) -> None:
    [path] = write_templates(tmp_path, dataset=dataset.name)
    ws = data_sheet(path)
    assert [c.value for c in ws[1]] == [c.zh for c in dataset.columns]
    assert ws.max_row == 1  # nothing pre-filled without a street
    dvs = validations(ws)
    prompts = {
        rng.coord: dv for dv in ws.data_validations.dataValidation for rng in dv.sqref.ranges
    }
    for i, col in enumerate(dataset.columns):
        head = prompts[f"{letter(i)}1"]  # the header's input message: type and rules
        assert head.showInputMessage and col.zh in head.promptTitle
        assert ("必填" if col.required else "选填") in head.prompt
        dv = dvs[letter(i)]
        assert str(dv.sqref) == f"{letter(i)}2:{letter(i)}1048576"  # the whole column
        if col.type is ColumnType.ENUM:
            assert dv.type == "list" and list_values(dv) == list(col.choices), col.name
            # a named code (行业门类) may be typed alone: Excel warns instead of refusing
            assert dv.errorStyle in (("warning",) if col.enum_labels else (None, "stop"))
        elif col.type is ColumnType.BOOL:
            assert dv.type == "list" and list_values(dv) == ["是", "否"], col.name
        elif col.name == "street_code":
            assert list_values(dv) == [s.code for s in STREETS]
        elif col.type in (ColumnType.DATE, ColumnType.DATETIME):
            assert dv.type == "date"
        elif col.type is ColumnType.INT:
            assert dv.type == "whole"
        elif col.type in (ColumnType.ID18, ColumnType.USCC):
            assert dv.type == "textLength" and dv.formula1 == "18"
    for i, col in enumerate(dataset.columns):
        expected = {
            ColumnType.DATE: "yyyy-mm-dd",
            ColumnType.DATETIME: "yyyy-mm-dd hh:mm",
            ColumnType.INT: "0",
            ColumnType.MONEY: "0.00",
        }.get(col.type, "@")
        if col.type is not ColumnType.DECIMAL:
            assert column_number_format(ws, i) == expected, col.name


def column_number_format(ws: Worksheet, index: int) -> str:
    """The number format a column gives the cells typed into it (its <col> style)."""
    for dim in ws.column_dimensions.values():
        if dim.min is not None and dim.min <= index + 1 <= dim.max:
            return dim.number_format
    return "General"


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_the_instructions_sheet_lists_every_column_and_rule(
    tmp_path: Path, dataset: Dataset
) -> None:
    [path] = write_templates(tmp_path, dataset=dataset.name)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:2] == [dataset.zh.replace("/", "_"), INSTRUCTIONS_SHEET]
    rows = [r for r in wb[INSTRUCTIONS_SHEET].iter_rows(values_only=True)]
    text = "\n".join(str(v) for r in rows for v in r if v is not None)
    assert f"inbox/<街道代码>/{dataset.name}/" in text
    column_rows = {r[0]: r for r in rows if r and r[0] in {c.zh for c in dataset.columns}}
    for col in dataset.columns:
        assert column_rows[col.zh][1] == col.name
        assert column_rows[col.zh][2] == ("必填" if col.required else "选填")
    rule_rows = {(r[0], r[1]) for r in rows if r and r[0] and r[1]}
    for a in applicable_rules(dataset):
        heads = "、".join(dataset.column(c).zh for c in (a.column, a.other) if c) or "（整行）"
        assert (a.code, heads) in rule_rows, a
    for code in FILE_RULES:
        assert (code, "（整个文件）") in rule_rows
    # either folder: the English name or the Chinese one
    assert f"inbox/<街道代码>/{dataset.folder_zh}/" in text


def test_a_street_template_is_prefilled_and_offers_only_that_street(tmp_path: Path) -> None:
    paths = write_templates(tmp_path, street="110101003")
    assert all(p.parent == tmp_path / "110101003" for p in paths) and len(paths) == len(DATASETS)
    ds = get_dataset("members")
    ws = data_sheet(tmp_path / "110101003" / "members.xlsx")
    i = ds.column_names.index("street_code")
    assert [c.value for c in ws[2]] == [
        "110101003" if j == i else None for j in range(len(ds.columns))
    ]
    assert list_values(validations(ws)[letter(i)]) == ["110101003"]
    wb = openpyxl.load_workbook(tmp_path / "110101003" / "members.xlsx")
    text = "\n".join(
        str(v) for r in wb[INSTRUCTIONS_SHEET].iter_rows(values_only=True) for v in r if v
    )
    assert "inbox/110101003/members/" in text and "交道口街道" in text


# --- 行业门类: the dropdown shows each section's name ------------------------------------------

SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"


def warehouse_sections() -> dict[str, str]:
    """Section letter -> name, as the warehouse's GB/T 4754 seed holds them."""
    with (SEEDS / "industry_sections.csv").open(encoding="utf-8", newline="") as fh:
        return {r["section"]: r["section_name"] for r in csv.DictReader(fh)}


def test_the_industry_dropdown_offers_each_section_with_its_name(tmp_path: Path) -> None:
    orgs = get_dataset("union_orgs")
    [path] = write_templates(tmp_path, dataset="union_orgs", street="110101003")
    wb = openpyxl.load_workbook(path)
    i = orgs.column_names.index("industry")
    dv = validations(wb.worksheets[0])[letter(i)]
    offered = list_values(dv)
    sections = warehouse_sections()
    assert offered == [f"{code} {name}" for code, name in sections.items()]  # the seed's names, A to T
    assert offered[0] == "A 农、林、牧、渔业" and "C 制造业" in offered and len(offered) == 20
    assert dv.errorStyle == "warning" and "C" not in offered  # a bare letter: a warning, not refused
    assert "只填写前面的代码" in dv.error
    # the cell's prompt points at the dropdown with a named example, not a row of bare letters
    assert "“C 制造业”" in dv.prompt and "A、B" not in dv.prompt
    # the instructions sheet lists code, name and the dropdown's form, for every section
    rows = {r[0]: r[1:3] for r in wb[INSTRUCTIONS_SHEET].iter_rows(values_only=True) if r and r[0] in sections}
    assert rows == {code: (name, f"{code} {name}") for code, name in sections.items()}


def test_a_template_filled_with_section_names_loads_the_letters(
    tmp_path: Path, settings: Settings
) -> None:
    """What a clerk picks from the dropdown (``C 制造业``), or types (``C``, ``C制造业``,
    a full-width space), loads as the letter; a name that is no section's stays a row
    problem that says which column and what to do."""
    orgs = get_dataset("union_orgs")
    [path] = write_templates(tmp_path, dataset="union_orgs", street=STREET)
    written = ["C 制造业", "C", "C制造业", "c\u3000制造业", "J 金融业", "C 不存在的行业"]
    rows = valid_rows(orgs, len(written))
    for row, value in zip(rows, written, strict=True):
        row["industry"] = value
    drop(settings, STREET, "union_orgs", "filled.xlsx", fill(path, orgs, rows))
    [entry] = ingest_pending(settings).entries
    assert (entry.status, entry.rows_loaded, entry.rows_quarantined) == ("loaded", 5, 1)
    landed = pl.read_parquet(settings.landing_dir / "union_orgs" / STREET / f"{entry.sha256}.parquet")
    assert landed.sort("_line_number")["industry"].to_list() == ["C", "C", "C", "C", "J"]
    quarantined = pl.read_parquet(settings.quarantine_dir / "union_orgs" / STREET / f"{entry.sha256}.parquet")
    assert quarantined["industry"].to_list() == ["C 不存在的行业"]  # as the clerk wrote it
    problems = pl.read_parquet(settings.problems_dir / "union_orgs" / STREET / f"{entry.sha256}.parquet")
    assert problems.select("_line_number", "column", "code").rows() == [(7, "industry", "enum.unknown")]
    message = problem_message(orgs, "enum.unknown", "industry")
    assert "「行业门类」" in message and "下拉列表" in message


# --- the instructions speak of what the clerk has, not of the project's documents ----------------

# what a clerk has no copy of: the project's docs and source, its issue tracker
PROJECT_REFERENCES = re.compile(
    r"docs/|\.md\b|README|interface|pipelines/|tests/|github|gitlab|\bissues?\b|#\d+|\bPR\b",
    re.IGNORECASE,
)


def workbook_texts(path: Path) -> list[str]:
    """Every text a clerk can see in a template: each cell of each sheet, and each
    prompt and error message the cells carry."""
    wb = openpyxl.load_workbook(path)
    texts = [str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r if v]
    for ws in wb.worksheets:
        for dv in ws.data_validations.dataValidation:
            texts += [t for t in (dv.promptTitle, dv.prompt, dv.errorTitle, dv.error) if t]
    return texts


def test_the_reference_scan_finds_what_it_looks_for() -> None:
    for text in ("规则代码的完整列表见 docs/rules.md（规则目录）。", "见 README", "详见 interface.md",
                 "参见 issue 19", "见 #19", "pipelines/contract/rules.py"):
        assert PROJECT_REFERENCES.search(text), text
    for text in ("把本文件放入 inbox/110101003/members/", "文件名可自定；支持 .xlsx、.csv、.jsonl",
                 "A 农、林、牧、渔业", "row.malformed", "只读取第一个工作表"):
        assert not PROJECT_REFERENCES.search(text), text


@pytest.mark.parametrize("street", [None, "110101003"])
@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_no_template_text_refers_the_clerk_to_project_documents(
    tmp_path: Path, dataset: Dataset, street: str | None
) -> None:
    [path] = write_templates(tmp_path, dataset=dataset.name, street=street)
    texts = workbook_texts(path)
    instructions = openpyxl.load_workbook(path)[INSTRUCTIONS_SHEET]
    assert any("数据集文件夹也可以用中文名" in str(c.value) for r in instructions.iter_rows() for c in r)
    found = [t for t in texts if PROJECT_REFERENCES.search(t)]
    assert found == []


def test_an_unknown_street_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown street"):
        write_templates(tmp_path, street="999999999")
    assert not tmp_path.joinpath("999999999").exists()


def test_a_long_list_goes_to_a_hidden_sheet(tmp_path: Path) -> None:
    values = tuple(f"很长的选项名称{i:03d}" for i in range(40))  # far over 255 characters
    ds = Dataset(
        name="long_enum",
        zh="长列表",
        kind=DatasetKind.EVENT,
        key="k",
        columns=(
            Column("k", "编号", ColumnType.STR, required=True),
            Column("choice", "选项", ColumnType.ENUM, enum=values),
        ),
    )
    path = write_template(tmp_path / "long.xlsx", ds)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["长列表", INSTRUCTIONS_SHEET, templates.LISTS_SHEET]
    assert wb[templates.LISTS_SHEET].sheet_state == "hidden"
    dv = validations(wb.worksheets[0])["B"]
    assert dv.type == "list" and dv.formula1 == f"'{templates.LISTS_SHEET}'!$A$1:$A$40"
    listed = [r[0] for r in wb[templates.LISTS_SHEET].iter_rows(values_only=True)]
    assert listed == list(values)


# --- a filled template loads cleanly --------------------------------------------------------


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_a_correctly_filled_template_loads_with_nothing_quarantined(
    tmp_path: Path, settings: Settings, dataset: Dataset
) -> None:
    [path] = write_templates(tmp_path, dataset=dataset.name, street=STREET)
    rows = valid_rows(dataset, 3)
    drop(settings, STREET, dataset.name, "filled.xlsx", fill(path, dataset, rows))
    [entry] = ingest_pending(settings).entries
    assert (entry.status, entry.error_code) == ("loaded", None)
    assert (entry.rows_read, entry.rows_loaded, entry.rows_quarantined) == (3, 3, 0)


# --- the command ------------------------------------------------------------------------------


def test_the_template_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["template", "--dataset", "members", "--street", STREET, "--out", str(tmp_path)]
    )
    assert args.func is cmd_template
    assert cmd_template(args) == 0
    assert (tmp_path / STREET / "members.xlsx").exists()
    assert "wrote 1 template(s)" in capsys.readouterr().out
    bad = parser.parse_args(["template", "--street", "123", "--out", str(tmp_path / "x")])
    assert cmd_template(bad) == 2 and not (tmp_path / "x").exists()
    default = parser.parse_args(["template"])
    assert default.out == Path("templates") and default.dataset is None
