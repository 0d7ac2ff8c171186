"""Hostile submissions: a stray quote must not run rows together silently, rows on a
second sheet must not be lost silently, one oversized cell must not reject a whole file.

Every file here is written to disk and read with ``read_submission`` (both CSV paths
where that matters) or processed through the drop zone with ``ingest_pending``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from pipelines.cli import main as cli_main
from pipelines.config import Settings
from pipelines.contract import (
    INSTRUCTIONS_SHEET,
    LISTS_SHEET,
    MAX_CELL_CHARS,
    ColumnType,
    Dataset,
    DatasetKind,
    applicable_rules,
    get_dataset,
)
from pipelines.contract.schema import Column
from pipelines.feedback.receipts import read_receipt, receipt_paths, write_receipts
from pipelines.feedback.templates import write_template
from pipelines.ingest import process as process_mod
from pipelines.ingest import validate as validate_mod
from pipelines.ingest.headers import BROKEN
from pipelines.ingest.ledger import LedgerEntry
from pipelines.ingest.model import LINE, MALFORMED, REASONS, FileRejected, RawTable
from pipelines.ingest.process import ingest_pending
from pipelines.ingest.readers import csv_fast, csv_file, csv_slow, read_submission
from pipelines.ingest.validate import validate

from .conftest import drop
from .test_feedback_templates import fill
from .test_validate import STREET, valid_row

MEMBERS = get_dataset("members")
LEGAL = get_dataset("legal_services")
LEGAL_HEADER = "服务编号,服务日期,服务类型,服务人次,律师"


def write(tmp_path: Path, name: str, data: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return path


def outcome(path: Path, dataset: Dataset, fast: bool) -> Any:
    try:
        t = read_submission(path, dataset, fast=fast)
    except FileRejected as e:
        return ("rejected", e.code, e.detail)
    return (t.frame.to_dicts(), t.frame.schema, t.encoding)


def both_paths(path: Path, dataset: Dataset = LEGAL) -> RawTable:
    """The table, after checking the fast path (forced) gives exactly the slow path's."""
    assert outcome(path, dataset, fast=True) == outcome(path, dataset, fast=False)
    return read_submission(path, dataset, fast=False)


def problems(settings: Settings, entry: LedgerEntry) -> set[tuple[int, str | None, str]]:
    if entry.problems_path is None:
        return set()
    frame = pl.read_parquet(settings.data_dir / entry.problems_path)
    return set(frame.select(LINE, "column", "code").iter_rows())


def counts(entry: LedgerEntry) -> tuple[str, int, int, int]:
    return entry.status, entry.rows_read, entry.rows_loaded, entry.rows_quarantined


def member_line(n: int, **changes: str) -> str:
    """A valid members row as one CSV line (its values hold no comma or quote)."""
    row = valid_row(MEMBERS, n) | {"member_id": f"M{n}"} | changes
    return ",".join(row[c] or "" for c in MEMBERS.column_names)


MEMBERS_HEADER = ",".join(c.zh for c in MEMBERS.columns)


def stray_quote_members() -> str:
    """Line 3 opens a quote in 姓名, line 4 closes it: the csv module reads lines 3-4 as
    one record of exactly 14 fields, line 3's ID number and phone inside 姓名."""
    name3 = str(valid_row(MEMBERS, 3)["name"])
    name4 = str(valid_row(MEMBERS, 4)["name"])
    lines = [
        MEMBERS_HEADER,
        member_line(2),
        member_line(3, name='"' + name3),
        member_line(4, name=name4 + '"'),
        member_line(5),
    ]
    return "\n".join(lines) + "\n"


# --- 1. a stray quote never runs records together silently --------------------------------


def test_the_csv_module_alone_would_merge_the_two_lines_into_one_record_of_the_right_width() -> None:
    records = list(csv.reader(io.StringIO(stray_quote_members(), newline="")))
    assert len(records) == 4  # header + 3: one fewer than the lines sent
    assert all(len(r) == len(MEMBERS.columns) for r in records)
    assert "\n" in records[2][1]  # the merged text sits in 姓名


def test_a_stray_quote_makes_each_line_of_its_span_a_quarantined_row(tmp_path: Path) -> None:
    t = both_paths(write(tmp_path, "m.csv", stray_quote_members()), MEMBERS)
    assert t.frame.select(LINE, BROKEN, MALFORMED).rows() == [
        (2, False, False), (3, True, False), (4, True, False), (5, False, False),
    ]
    assert t.frame["member_id"].to_list() == ["M2", "M3", "M4", "M5"]
    # each line split alone: line 3's stray quote shows in its own value, nothing merged
    assert t.frame["name"][1] == '"' + str(valid_row(MEMBERS, 3)["name"])
    assert t.frame["id_number"][1] == valid_row(MEMBERS, 3)["id_number"]
    text = t.frame.select(pl.exclude(LINE, MALFORMED, BROKEN))
    assert not any("\n" in str(v) for row in text.rows() for v in row if v is not None)


def test_the_fast_path_never_accepts_a_stray_quote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[object] = []
    fast = csv_file._csv_fast

    def spy(*args: Any, **kwargs: Any) -> object:
        answers.append(result := fast(*args, **kwargs))
        return result

    monkeypatch.setattr(csv_file, "_csv_fast", spy)
    for encoding in ("utf-8", "gbk"):  # pyarrow reads the file, or its UTF-8 transcoding
        answers.clear()
        path = write(tmp_path, f"m-{encoding}.csv", stray_quote_members(), encoding)
        t = read_submission(path, MEMBERS, fast=True)
        assert answers == [None]  # the fast path declined; the slow path read it
        assert t.frame[BROKEN].to_list() == [False, True, True, False]


def test_through_the_drop_zone_every_line_is_accounted_for_and_named(settings: Settings) -> None:
    drop(settings, STREET, "members", "m.csv", stray_quote_members())
    [entry] = ingest_pending(settings).entries
    assert counts(entry) == ("loaded", 4, 2, 2)  # 4 data lines sent, 4 read
    assert problems(settings, entry) == {(3, None, "row.broken_quote"), (4, None, "row.broken_quote")}
    q = pl.read_parquet(settings.data_dir / str(entry.quarantine_path))
    assert q[LINE].to_list() == [3, 4]
    assert q[REASONS].to_list() == [[{"code": "row.broken_quote", "column": None}]] * 2
    landed = pl.read_parquet(settings.data_dir / str(entry.landing_path))
    assert landed["member_id"].to_list() == ["M2", "M5"]
    write_receipts(settings)
    receipt = read_receipt(receipt_paths(settings, entry).json)
    assert {(p["line"], p["code"]) for p in receipt["problems"]} == {
        (3, "row.broken_quote"), (4, "row.broken_quote"),
    }
    assert all("引号" in p["message_zh"] for p in receipt["problems"])


def test_sliced_ingestion_gives_the_same_outcome(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(process_mod, "SLICE_ROWS", 1)  # every row its own slice
    drop(settings, STREET, "members", "m.csv", stray_quote_members())
    [entry] = ingest_pending(settings).entries
    assert counts(entry) == ("loaded", 4, 2, 2)
    assert problems(settings, entry) == {(3, None, "row.broken_quote"), (4, None, "row.broken_quote")}


def test_a_quote_that_never_closes_quarantines_every_line_it_swallowed(tmp_path: Path) -> None:
    body = ["S1,2024-01-02,法律咨询,3,", 'S2,2024-01-03,"法律咨询,4,', "", "S3,2024-01-04,法律咨询,5,"]
    body += [f"S{i},2024-01-05,法律咨询,{i}," for i in range(4, 9)]
    t = both_paths(write(tmp_path, "a.csv", LEGAL_HEADER + "\n" + "\n".join(body) + "\n"))
    # the blank line 4 is no row; every other line is, with its own number
    assert t.frame.select(LINE, BROKEN).rows() == [(2, False)] + [(n, True) for n in (3, *range(5, 11))]
    assert t.frame["service_id"].to_list() == ["S1", "S2", *(f"S{i}" for i in range(3, 9))]


def test_a_quoted_line_break_in_a_column_that_allows_none_is_broken_too(tmp_path: Path) -> None:
    text = f'{LEGAL_HEADER}\nS1,2024-01-02,"法律\n咨询",3,\nS2,2024-01-03,法律咨询,4,\n'
    t = both_paths(write(tmp_path, "a.csv", text))
    assert t.frame.select("service_id", LINE, BROKEN).rows() == [
        ("S1", 2, True), ("咨询\"", 3, True), ("S2", 4, False),
    ]


def test_a_column_that_allows_line_breaks_keeps_its_multi_line_values(tmp_path: Path) -> None:
    notes = replace(LEGAL.column("lawyer_name"), allows_line_break=True)
    free = replace(LEGAL, columns=tuple(notes if c.name == "lawyer_name" else c for c in LEGAL.columns))
    assert ("value.line_break", "lawyer_name") not in {(a.code, a.column) for a in applicable_rules(free)}
    text = (
        f"{LEGAL_HEADER}\n"
        'S1,2024-01-02,法律咨询,3,"第一行\n第二行"\n'  # kept: the break is in 律师
        'S2,2024-01-03,"法律\n咨询",4,王五\n'  # not kept: the break is in 服务类型
        "S3,2024-01-04,法律咨询,5,\n"
    )
    path = write(tmp_path, "a.csv", text)
    assert outcome(path, free, fast=True) == outcome(path, free, fast=False)
    t = read_submission(path, free, fast=False)
    assert t.frame.select("service_id", "lawyer_name", LINE, BROKEN).rows() == [
        ("S1", "第一行\n第二行", 2, False),
        ("S2", None, 4, True),
        ('咨询"', None, 5, True),
        ("S3", None, 6, False),
    ]
    v = validate(t.frame, free, STREET)
    assert v.good["service_id"].to_list() == ["S1", "S3"]


# --- truncation is not a stray quote ---------------------------------------------------------


@pytest.mark.parametrize(
    "tail",
    [
        'S2,2024-01-03,法律咨询,"4',  # cut inside quotes, on its own line
        "S2,2024-0",  # cut short of fields
        'S2,2024-01-03,"法律\n咨询,"4',  # a span whose last line is cut inside quotes
        'S2,2024-01-03,"法律咨询,4,\nS3,2024',  # a stray quote, and the last line cut short
    ],
)
def test_a_file_cut_short_is_still_truncated(tmp_path: Path, tail: str) -> None:
    path = write(tmp_path, "a.csv", f"{LEGAL_HEADER}\nS1,2024-01-02,法律咨询,3,\n{tail}")
    for fast in (False, True):
        assert outcome(path, LEGAL, fast) == ("rejected", "file.truncated", "the last record is incomplete")


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        # a quote left open on the last line, but a line break follows it: a stray quote
        ('S2,2024-01-03,法律咨询,"4\n', [("S2", 3, True)]),
        # a quote opened on an earlier line, the last line complete (no final line break)
        ('S2,2024-01-03,"法律咨询,4,\nS3,2024-01-04,法律咨询,5,', [("S2", 3, True), ("S3", 4, True)]),
    ],
)
def test_a_stray_quote_at_the_end_is_not_truncation(
    tmp_path: Path, tail: str, expected: list[tuple[str, int, bool]]
) -> None:
    t = both_paths(write(tmp_path, "a.csv", f"{LEGAL_HEADER}\nS1,2024-01-02,法律咨询,3,\n{tail}"))
    assert t.frame.select("service_id", LINE, BROKEN).rows() == [("S1", 2, False), *expected]


# --- line breaks inside XLSX cells and JSONL strings ---------------------------------------


def xlsx_bytes(*sheets: list[list[Any]], names: tuple[str, ...] = (), hidden: tuple[int, ...] = ()) -> bytes:
    wb = openpyxl.Workbook()
    for i, sheet_rows in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        if i < len(names):
            ws.title = names[i]
        if i in hidden:
            ws.sheet_state = "hidden"
        for row in sheet_rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def legal_rows(*rows: list[Any]) -> list[list[Any]]:
    return [LEGAL_HEADER.split(","), *rows]


@pytest.mark.parametrize("breaker", ["\n", "\r\n", "\r"])
def test_a_line_break_in_an_xlsx_cell_is_quarantined(settings: Settings, breaker: str) -> None:
    content = xlsx_bytes(legal_rows(
        ["S1", "2024-01-02", "法律咨询", 3, f"张{breaker}三"],  # Alt+Enter in 律师
        ["S2", "2024-01-03", "法律咨询", 4, "李四"],
    ))
    drop(settings, STREET, "legal_services", "a.xlsx", content)
    [entry] = ingest_pending(settings).entries
    assert counts(entry) == ("loaded", 2, 1, 1)
    assert problems(settings, entry) == {(2, "lawyer_name", "value.line_break")}


def test_a_line_break_in_a_jsonl_string_is_quarantined(settings: Settings) -> None:
    lines = [
        {"service_id": "S1", "service_date": "2024-01-02", "service_type": "法律\n咨询", "people_served": 3},
        {"service_id": "S2", "service_date": "2024-01-03", "service_type": "法律咨询", "people_served": 4},
    ]
    drop(settings, STREET, "legal_services", "a.jsonl", "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in lines))
    [entry] = ingest_pending(settings).entries
    assert counts(entry) == ("loaded", 2, 1, 1)
    # only the cell rule: enum.unknown is not judged on a value that is not what was meant
    assert problems(settings, entry) == {(1, "service_type", "value.line_break")}


def test_a_broken_cell_hides_only_its_own_columns_other_rules() -> None:
    rows = [
        valid_row(MEMBERS, 0) | {"name": "张\n三", "phone": "12345", "id_number": "1101\n01"},
        valid_row(MEMBERS, 1) | {"member_id": "K", "org_id": " K\n"},
        valid_row(MEMBERS, 2) | {"member_id": " K\r"},  # equal to row 4's key once trimmed
        valid_row(MEMBERS, 3) | {"member_id": "K"},
    ]
    data = {c: [r[c] for r in rows] for c in MEMBERS.column_names}
    frame = pl.DataFrame({**data, LINE: [2, 3, 4, 5], MALFORMED: [False] * 4})
    v = validate(frame, MEMBERS, STREET)
    reasons = {line: {(r["code"], r["column"]) for r in rs} for line, rs in v.quarantined.select(LINE, REASONS).rows()}
    assert reasons == {
        2: {("value.line_break", "name"), ("value.line_break", "id_number"), ("phone.format", "phone")},
        3: {("value.line_break", "org_id"), ("duplicate_key_in_file", "member_id")},
        # the key with a line break still takes part in the file's duplicate keys
        4: {("value.line_break", "member_id")},
        5: {("duplicate_key_in_file", "member_id")},
    }


def test_the_whole_column_probe_gives_what_checking_every_row_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [
        valid_row(MEMBERS, 0) | {"name": "张\r三", "org_id": "O" * (MAX_CELL_CHARS + 1)},
        valid_row(MEMBERS, 1) | {"name": "王" * MAX_CELL_CHARS, "phone": "138\n00138000"},
        valid_row(MEMBERS, 2),
    ]
    data = {c: [r[c] for r in rows] for c in MEMBERS.column_names}
    frame = pl.DataFrame({**data, LINE: [2, 3, 4], MALFORMED: [False] * 3})
    probed = validate(frame, MEMBERS, STREET)
    monkeypatch.setattr(validate_mod, "_PROBE_BYTES", -1)  # no column joined: every row searched
    searched = validate(frame, MEMBERS, STREET)
    assert probed.problems.equals(searched.problems)
    assert probed.problems.select(LINE, "column", "code").rows() == [
        (2, "name", "value.line_break"),
        (2, "org_id", "value.too_long"),
        (3, "phone", "value.line_break"),
    ]


# --- 2. rows on another sheet are never lost silently ---------------------------------------


def test_rows_on_a_second_sheet_reject_the_workbook_by_position_only(settings: Settings) -> None:
    content = xlsx_bytes(
        legal_rows(["S1", "2024-01-02", "法律咨询", 3, None]),
        [["S2", "2024-01-03", "法律咨询", 4, "王五"]],
        names=("数据", "张三的名单"),
    )
    drop(settings, STREET, "legal_services", "a.xlsx", content)
    [entry] = ingest_pending(settings).entries
    assert (entry.status, entry.error_code, entry.rows_loaded) == ("rejected", "file.extra_sheet", 0)
    assert "sheet 2 of 2" in str(entry.error)
    assert "张三" not in str(entry.error) and "王五" not in str(entry.error)
    write_receipts(settings)
    receipt = read_receipt(receipt_paths(settings, entry).json)
    assert receipt["reason"]["code"] == "file.extra_sheet"
    assert "第1个工作表" in receipt["reason"]["message_zh"]


def test_a_hidden_sheet_with_data_rejects_the_workbook_and_says_it_is_hidden(tmp_path: Path) -> None:
    content = xlsx_bytes(
        legal_rows(["S1", "2024-01-02", "法律咨询", 3, None]),
        [[None]],
        [["S2", "2024-01-03"]],
        hidden=(2,),
    )
    e = pytest.raises(FileRejected, read_submission, write(tmp_path, "a.xlsx", content), LEGAL).value
    assert (e.code, e.detail) == ("file.extra_sheet", "sheet 3 of 3, hidden")


def test_data_only_on_the_second_sheet_is_an_extra_sheet_not_an_empty_file(tmp_path: Path) -> None:
    content = xlsx_bytes([], legal_rows(["S1", "2024-01-02", "法律咨询", 3, None]))
    e = pytest.raises(FileRejected, read_submission, write(tmp_path, "a.xlsx", content), LEGAL).value
    assert e.code == "file.extra_sheet"


def test_blank_sheets_and_the_templates_own_sheets_are_allowed(tmp_path: Path) -> None:
    content = xlsx_bytes(
        legal_rows(["S1", "2024-01-02", "法律咨询", 3, None]),
        [["第1行为表头……"], ["每行一条记录"]],
        [[None, "  "]],
        [["选项甲"], ["选项乙"]],
        names=("数据", INSTRUCTIONS_SHEET, "Sheet3", LISTS_SHEET),
        hidden=(3,),
    )
    t = read_submission(write(tmp_path, "a.xlsx", content), LEGAL)
    assert t.frame["service_id"].to_list() == ["S1"]


def member_rows(n: int, street: str) -> list[dict[str, str | None]]:
    return [valid_row(MEMBERS, i) | {"member_id": f"M{i}", "street_code": street} for i in range(n)]


def test_a_template_from_the_command_filled_in_loads(tmp_path: Path, settings: Settings) -> None:
    street = "110101003"
    assert cli_main(["template", "--street", street, "--out", str(tmp_path / "t")]) == 0
    template = tmp_path / "t" / street / "members.xlsx"
    assert openpyxl.load_workbook(template).sheetnames[1] == INSTRUCTIONS_SHEET
    filled = fill(template, MEMBERS, member_rows(3, street))
    drop(settings, street, "members", "filled.xlsx", filled)
    [entry] = ingest_pending(settings).entries
    assert (counts(entry), entry.error_code) == (("loaded", 3, 3, 0), None)
    # the same template with rows typed on a sheet the clerk added: rejected, not lost
    wb = openpyxl.load_workbook(io.BytesIO(filled))
    wb.create_sheet("第二批").append(["M9"])
    buf = io.BytesIO()
    wb.save(buf)
    drop(settings, street, "members", "two-sheets.xlsx", buf.getvalue())
    [entry] = ingest_pending(settings).entries
    assert (entry.status, entry.error_code) == ("rejected", "file.extra_sheet")
    assert "sheet 3 of 3" in str(entry.error)


def test_a_template_with_its_hidden_list_sheet_filled_in_loads(tmp_path: Path) -> None:
    choices = tuple(f"很长的选项名称{i:03d}" for i in range(40))  # a list over Excel's 255 characters
    ds = Dataset(
        name="long_enum", zh="长列表", kind=DatasetKind.EVENT, key="k",
        columns=(
            Column("k", "编号", ColumnType.STR, required=True),
            Column("choice", "选项", ColumnType.ENUM, enum=choices),
        ),
    )  # fmt: skip
    template = write_template(tmp_path / "long.xlsx", ds)
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames[1:] == [INSTRUCTIONS_SHEET, LISTS_SHEET]
    filled = write(tmp_path, "filled.xlsx", fill(template, ds, [{"k": "K1", "choice": choices[7]}]))
    t = read_submission(filled, ds)
    assert t.frame.select("k", "choice").rows() == [("K1", choices[7])]


# --- 3. one oversized cell quarantines its row, not the file -------------------------------


def huge_legal_csv(size: int) -> str:
    return (
        f"{LEGAL_HEADER}\n"
        "S1,2024-01-02,法律咨询,3,\n"
        f"S2,2024-01-03,法律咨询,4,{'王' * size}\n"
        "S3,2024-01-04,法律咨询,5,\n"
    )


def test_the_csv_field_limit_is_raised_once_and_never_lowered() -> None:
    assert csv.field_size_limit() >= csv_slow.CSV_FIELD_LIMIT > 131_072


def test_a_cell_over_the_csv_modules_default_limit_quarantines_its_row(settings: Settings) -> None:
    drop(settings, STREET, "legal_services", "a.csv", huge_legal_csv(200_000))
    [entry] = ingest_pending(settings).entries
    assert (counts(entry), entry.error_code) == (("loaded", 3, 2, 1), None)
    assert problems(settings, entry) == {(3, "lawyer_name", "value.too_long")}


def test_both_csv_paths_read_a_huge_cell_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "a.csv", huge_legal_csv(200_000))
    t = both_paths(path)  # pyarrow parses the cell within one block
    assert t.frame["lawyer_name"].str.len_chars().to_list() == [None, 200_000, None]
    monkeypatch.setattr(csv_fast, "PYARROW_BLOCK_BYTES", 64 * 1024)  # the cell straddles blocks
    assert outcome(path, LEGAL, fast=True) == outcome(path, LEGAL, fast=False)


@pytest.mark.parametrize(("size", "too_long"), [(MAX_CELL_CHARS, False), (MAX_CELL_CHARS + 1, True)])
def test_the_maximum_cell_length_is_the_contracts(tmp_path: Path, size: int, too_long: bool) -> None:
    t = read_submission(write(tmp_path, "a.csv", huge_legal_csv(size)), LEGAL)
    v = validate(t.frame, LEGAL, STREET)
    assert v.good.height == (2 if too_long else 3)
    assert v.problems.select(LINE, "column", "code").rows() == (
        [(3, "lawyer_name", "value.too_long")] if too_long else []
    )


def test_an_oversized_xlsx_cell_or_jsonl_string_quarantines_its_row(settings: Settings) -> None:
    content = xlsx_bytes(legal_rows(["S1", "2024-01-02", "法律咨询", 3, "王" * 5000], ["S2", "2024-01-03", "法律咨询", 4, None]))
    drop(settings, STREET, "legal_services", "a.xlsx", content)
    objects = [{"service_id": "S1", "service_date": "2024-01-02", "service_type": "法律咨询",
                "people_served": "3" * 5000}]  # fmt: skip
    drop(settings, STREET, "legal_services", "b.jsonl", json.dumps(objects[0], ensure_ascii=False) + "\n")
    entries = {e.file_format: e for e in ingest_pending(settings).entries}
    assert counts(entries["xlsx"]) == ("loaded", 2, 1, 1)
    assert problems(settings, entries["xlsx"]) == {(2, "lawyer_name", "value.too_long")}
    # only the cell rule: int.invalid / int.range are not judged on it
    assert problems(settings, entries["jsonl"]) == {(1, "people_served", "value.too_long")}
