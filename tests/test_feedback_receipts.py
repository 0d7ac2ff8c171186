"""Receipts: a template filled with known mistakes comes back with exactly those rows,
codes and line numbers; a corrected file comes back clean; rejected files, duplicates,
mixed streets, formula-like values, the quality gate, idempotence and crashes."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import polars as pl
import pyarrow.parquet as pq
import pytest
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pipelines.config import BEIJING, Settings
from pipelines.contract import DATASETS, Dataset, get_dataset
from pipelines.feedback import receipts
from pipelines.feedback.locations import MAX_STEM_CHARS, file_stem
from pipelines.feedback.receipts import (
    GENERATED_LABEL,
    PROBLEM_HEADERS,
    PROBLEMS_SHEET,
    RECEIPT_SHEET,
    STATUS_CODES,
    TODO_LABEL,
    read_receipt,
    receipt_paths,
    write_receipts,
)
from pipelines.feedback.summaries import SUMMARY_SCHEMA, summary_path
from pipelines.feedback.templates import write_templates
from pipelines.ingest.ledger import LedgerEntry, read_ledger
from pipelines.ingest.process import ingest_pending
from pipelines.quality.verdicts import results_path

from .conftest import drop
from .test_feedback_templates import Row, fill, valid_rows
from .test_validate import make_id

A, B = "110101001", "110101002"
EVIL = '=HYPERLINK("http://evil","x")'


def ledger(settings: Settings) -> list[LedgerEntry]:
    return read_ledger(settings.ledger_path)


def entry_of(settings: Settings, path_suffix: str) -> LedgerEntry:
    return next(e for e in ledger(settings) if e.path.endswith(path_suffix))


def receipt_of(settings: Settings, path_suffix: str) -> dict:
    return read_receipt(receipt_paths(settings, entry_of(settings, path_suffix)).json)


def _cells(ws: Worksheet) -> Iterator[object]:
    """Every non-empty cell value of a sheet."""
    return (v for row in ws.iter_rows(values_only=True) for v in row if v is not None)


def sheet_facts(ws: Worksheet) -> dict[str, object]:
    """Sheet 1 as {label: value}, with 如何处理 mapped to the line below it."""
    rows = [r for r in ws.iter_rows(values_only=True) if r and r[0] is not None]
    facts = {str(r[0]): r[1] for r in rows if len(r) > 1}
    labels = [r[0] for r in rows]
    facts[TODO_LABEL] = rows[labels.index(TODO_LABEL) + 1][0]
    return facts


def problem_set(receipt: dict) -> set[tuple[int | None, str, str | None]]:
    return {(p["line"], p["code"], p["column"]) for p in receipt["problems"]}


def csv_text(dataset: Dataset, rows: list[Row]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(dataset.column_names))
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


# --- the round trip through a template ----------------------------------------------------


def _members_mistakes(rows: list[Row]) -> set[tuple[int, str, str]]:
    good = rows[1]["id_number"]
    assert good is not None
    rows[1]["id_number"] = good[:17] + ("0" if good[17] != "0" else "1")  # bad check digit
    rows[2]["worker_type"] = "临时工"  # not in the list
    rows[3]["street_code"] = B  # another street's code
    rows[5]["member_id"] = rows[4]["member_id"]  # a duplicated key
    return {
        (3, "id_number.check_digit", "id_number"),
        (4, "enum.unknown", "worker_type"),
        (5, "street_mismatch", "street_code"),
        (6, "duplicate_key_in_file", "member_id"),
        (7, "duplicate_key_in_file", "member_id"),
    }


def _contracts_mistakes(rows: list[Row]) -> set[tuple[int, str, str]]:
    rows[1]["end_date"] = "2023-06-30"  # before the start
    rows[2]["contract_type"] = "劳动合同"  # not in the list
    rows[3]["street_code"] = B
    rows[5]["contract_id"] = rows[4]["contract_id"]
    return {
        (3, "end_date.not_after_start", "end_date"),
        (4, "enum.unknown", "contract_type"),
        (5, "street_mismatch", "street_code"),
        (6, "duplicate_key_in_file", "contract_id"),
        (7, "duplicate_key_in_file", "contract_id"),
    }


@pytest.mark.parametrize(
    ("name", "mistakes"),
    [("members", _members_mistakes), ("collective_contracts", _contracts_mistakes)],
)
def test_a_filled_template_round_trips_to_a_receipt_listing_exactly_the_wrong_rows(
    tmp_path: Path, settings: Settings, name: str, mistakes: Callable[[list[Row]], set]
) -> None:
    dataset = get_dataset(name)
    [template] = write_templates(tmp_path / "tpl", dataset=name, street=A)
    rows = valid_rows(dataset, 7)
    expected = mistakes(rows)
    drop(settings, A, name, "first.xlsx", fill(template, dataset, rows))
    ingest_pending(settings)
    judge(settings, entry_of(settings, "first.xlsx"))  # the quality gate passes it
    write_receipts(settings)

    receipt = receipt_of(settings, "first.xlsx")
    assert receipt["status"] == "partly_loaded" and receipt["street_code"] == A
    assert receipt["rows"] == {"read": 7, "loaded": 2, "quarantined": 5, "warned": 0}
    assert problem_set(receipt) == expected
    wrong_lines = {line for line, _, _ in expected}
    for p in receipt["problems"]:  # each problem carries its own row's values
        assert p["values"][dataset.key] == rows[p["line"] - 2][dataset.key]
        assert p["message_zh"] and p["header"] == dataset.column(p["column"]).zh
    keys_in_receipt = {p["values"][dataset.key] for p in receipt["problems"]}
    good_keys = {rows[i][dataset.key] for i in range(7) if i + 2 not in wrong_lines}
    assert not keys_in_receipt & good_keys  # rows that loaded are not listed

    # the spreadsheet says the same, in Chinese, with the line numbers
    wb = openpyxl.load_workbook(receipt_paths(settings, entry_of(settings, "first.xlsx")).xlsx)
    assert wb.sheetnames == [RECEIPT_SHEET, PROBLEMS_SHEET]
    sheet = list(wb[PROBLEMS_SHEET].iter_rows(values_only=True))
    assert list(sheet[0]) == [*PROBLEM_HEADERS, *(c.zh for c in dataset.columns)]
    by_header = {c.zh: c.name for c in dataset.columns}
    assert {(r[0], r[2], by_header[r[1]]) for r in sheet[1:]} == expected
    summary = dict(r[:2] for r in wb[RECEIPT_SHEET].iter_rows(values_only=True) if r[0])
    assert summary["处理结果"] == "部分入库（5 行未入库）" and summary["未入库行数"] == 5
    assert summary["入库行数"] == 2 and summary["说明"].startswith("2 行已入库，5 行未通过检查")
    assert summary["文件"] == f"inbox/{A}/{name}/first.xlsx"
    assert summary["文件指纹（SHA-256 前12位）"] == entry_of(settings, "first.xlsx").sha256[:12]

    # the clerk fixes the rows and sends the file again: all load, the receipt is clean
    fixed = valid_rows(dataset, 7)
    drop(settings, A, name, "corrected.xlsx", fill(template, dataset, fixed))
    ingest_pending(settings)
    judge(settings, entry_of(settings, "corrected.xlsx"))
    write_receipts(settings)
    clean = receipt_of(settings, "corrected.xlsx")
    assert clean["status"] == "loaded" and clean["problems"] == []
    assert (clean["status_zh"], clean["outcome_zh"], clean["todo_zh"]) == ("已入库", "全部 7 行已入库。", "无需处理。")
    assert clean["rows"] == {"read": 7, "loaded": 7, "quarantined": 0, "warned": 0}
    wb = openpyxl.load_workbook(receipt_paths(settings, entry_of(settings, "corrected.xlsx")).xlsx)
    assert len(list(wb[PROBLEMS_SHEET].iter_rows())) == 1  # the header only


# --- one street, one file -------------------------------------------------------------------


def test_a_receipt_never_holds_another_streets_rows(settings: Settings) -> None:
    ds = get_dataset("members")
    mixed = valid_rows(ds, 4)
    mixed[1]["street_code"] = mixed[3]["street_code"] = B
    drop(settings, A, "members", "mixed.csv", csv_text(ds, mixed))
    theirs = valid_rows(ds, 3, start=100)
    for r in theirs:
        r["street_code"] = B
    theirs[0]["gender"] = "女"  # a mistake of B's own
    drop(settings, B, "members", "b.csv", csv_text(ds, theirs))
    other_file = valid_rows(ds, 2, start=200)
    other_file[0]["status"] = "不存在"
    drop(settings, A, "members", "another.csv", csv_text(ds, other_file))
    ingest_pending(settings)
    write_receipts(settings)

    a_files = sorted(p.name for p in (settings.receipts_dir / A).glob("*.json"))
    b_files = sorted(p.name for p in (settings.receipts_dir / B).glob("*.json"))
    assert len(a_files) == 2 and len(b_files) == 1
    mine = receipt_of(settings, "mixed.csv")
    assert problem_set(mine) == {
        (3, "street_mismatch", "street_code"),
        (5, "street_mismatch", "street_code"),
    }
    listed = {p["values"]["member_id"] for p in mine["problems"]}
    assert listed == {mixed[1]["member_id"], mixed[3]["member_id"]}  # its own rows only
    b_receipt = receipt_of(settings, "b.csv")
    assert {p["values"]["member_id"] for p in b_receipt["problems"]} == {theirs[0]["member_id"]}
    b_text = receipt_paths(settings, entry_of(settings, "b.csv")).json.read_text(encoding="utf-8")
    for row in mixed + other_file:
        for col in ("member_id", "id_number", "name"):
            assert f'"{row[col]}"' not in b_text
    a_other = receipt_of(settings, "another.csv")
    assert {p["values"]["member_id"] for p in a_other["problems"]} == {other_file[0]["member_id"]}


def test_a_rejected_file_gets_a_receipt_with_its_one_reason(settings: Settings) -> None:
    ds = get_dataset("members")
    text = csv_text(ds, valid_rows(ds, 2)).replace("id_number", "证件")  # a required column gone
    drop(settings, A, "members", "no_id.csv", text)
    ingest_pending(settings)
    write_receipts(settings)
    r = receipt_of(settings, "no_id.csv")
    assert r["status"] == "rejected"
    assert r["reason"]["code"] == "file.missing_column" and r["reason"]["header"] == "身份证号"
    assert "缺少必填列「身份证号」" in r["reason"]["message_zh"]
    assert r["reason"]["unknown_headers"] == ["证件"] and "「证件」" in r["reason"]["message_zh"]
    assert [(p["code"], p["line"]) for p in r["problems"]] == [("file.missing_column", None)]
    wb = openpyxl.load_workbook(receipt_paths(settings, ledger(settings)[0]).xlsx)
    facts = dict(row[:2] for row in wb[RECEIPT_SHEET].iter_rows(values_only=True) if row[0])
    assert facts["处理结果"].startswith("已退回") and "身份证号" in facts["说明"]


def test_a_file_missing_three_columns_gets_one_receipt_naming_them_all(
    tmp_path: Path, settings: Settings
) -> None:
    """Issue 19: the clerk retyped one header of the template and deleted two columns.
    One receipt names the three missing columns by their headers in the template, and
    the header the template does not have, so the header is fixed in one go."""
    ds = get_dataset("members")
    [template] = write_templates(tmp_path / "tpl", dataset="members", street=A)
    rows = valid_rows(ds, 3)
    wb = openpyxl.load_workbook(io.BytesIO(fill(template, ds, rows)))
    sheet = wb.worksheets[0]
    shown = [c.value for c in sheet[1]]  # the headers as the template shows them
    sheet.cell(row=1, column=shown.index("身份证号") + 1, value="证件号码")
    for gone in sorted((shown.index("性别"), shown.index("入会日期")), reverse=True):
        sheet.delete_cols(gone + 1)
    buf = io.BytesIO()
    wb.save(buf)
    drop(settings, A, "members", "会员名单.xlsx", buf.getvalue())
    ingest_pending(settings)
    write_receipts(settings)

    [entry] = ledger(settings)
    assert (entry.status, entry.error_code, entry.error_column) == ("rejected", "file.missing_column", "id_number")
    assert entry.error_columns == ["id_number", "gender", "join_date"]
    assert entry.unknown_headers == ["证件号码"]
    assert len(list((settings.receipts_dir / A).glob("*.json"))) == 1  # one receipt
    r = receipt_of(settings, "会员名单.xlsx")
    assert r["status"] == "rejected"
    reason = r["reason"]
    assert reason["headers"] == ["身份证号", "性别", "入会日期"]
    assert set(reason["headers"]) <= set(shown)
    assert reason["unknown_headers"] == ["证件号码"]
    said = (
        "缺少必填列「身份证号」、「性别」、「入会日期」，请按模板补齐后重新上报。"
        "另外，表头中的「证件号码」不是模板中的列：如果是上面缺少的列写法不同，请改为模板中的表头；"
        "如果是自行添加的列，可以保留（不会被读取）。"
    )
    assert reason["message_zh"] == said
    assert [(p["line"], p["header"], p["code"]) for p in r["problems"]] == [
        (None, "身份证号", "file.missing_column"),
        (None, "性别", "file.missing_column"),
        (None, "入会日期", "file.missing_column"),
    ]
    assert r["problems"][0]["message_zh"] == "缺少必填列「身份证号」，请按模板补齐后重新上报。"
    # the clerk's spreadsheet says the same
    book = openpyxl.load_workbook(receipt_paths(settings, entry).xlsx)
    facts = dict(row[:2] for row in book[RECEIPT_SHEET].iter_rows(values_only=True) if row[0])
    assert facts["处理结果"].startswith("已退回") and facts["说明"] == said
    lines = list(book[PROBLEMS_SHEET].iter_rows(values_only=True))[1:]
    assert [(line[1], line[2]) for line in lines] == [
        ("身份证号", "file.missing_column"),
        ("性别", "file.missing_column"),
        ("入会日期", "file.missing_column"),
    ]
    # headers only, never a value of the file
    text = receipt_paths(settings, entry).json.read_text(encoding="utf-8")
    for row in rows:
        assert row["member_id"] not in text and row["id_number"] not in text and row["name"] not in text


def _submission(fmt: str, headers: list[str], rows: list[list[str | None]]) -> bytes:
    """A file of ``rows`` under ``headers`` as a street sends it, in format ``fmt``."""
    if fmt == "jsonl":
        lines = (json.dumps(dict(zip(headers, row, strict=True)), ensure_ascii=False) for row in rows)
        return "".join(line + "\n" for line in lines).encode()
    if fmt == "xlsx":
        wb = openpyxl.Workbook()
        for row in [headers, *rows]:
            wb.active.append(row)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([headers, *rows])
    return out.getvalue().encode()


UNKNOWN_HEADERS = ("备注", "联系人", "证件号码", "序号")


def test_a_random_set_of_missing_columns_is_named_exactly_on_the_receipt(settings: Settings) -> None:
    """Seeded: valid files of random datasets and formats, each without a random set of
    its required columns and with random headers the template does not have. Each
    receipt names exactly the missing columns (contract order, Chinese headers), and
    exactly the unknown headers; the ledger records the same."""
    rng = random.Random(19)
    cases: dict[str, tuple[Dataset, list[str], list[str]]] = {}
    for i in range(12):
        ds = rng.choice(DATASETS)
        required = [c.name for c in ds.required_columns]
        dropped = set(rng.sample(required, rng.randint(1, len(required))))
        unknown = rng.sample(UNKNOWN_HEADERS, rng.randint(0, 2))
        kept = [c.name for c in ds.columns if c.name not in dropped]
        headers = [ds.column(c).zh for c in kept] + unknown
        rows = [[row[c] for c in kept] + ["x"] * len(unknown) for row in valid_rows(ds, 2)]
        name = f"case{i}.{rng.choice(('csv', 'jsonl', 'xlsx'))}"
        drop(settings, A, ds.name, name, _submission(name.rsplit(".", 1)[1], headers, rows))
        cases[name] = (ds, [c for c in required if c in dropped], unknown)
    ingest_pending(settings)
    write_receipts(settings)

    for name, (ds, missing, unknown) in cases.items():
        entry = entry_of(settings, f"/{name}")
        assert (entry.error_code, entry.error_columns) == ("file.missing_column", missing), name
        assert (entry.unknown_headers or []) == unknown, name
        reason = receipt_of(settings, f"/{name}")["reason"]
        assert reason["columns"] == missing and reason["unknown_headers"] == unknown, name
        assert reason["headers"] == [ds.column(c).zh for c in missing], name
        named = {c.name for c in ds.columns if f"「{ds.column(c.name).zh}」" in reason["message_zh"]}
        assert named == set(missing), (name, reason["message_zh"])
        assert all(f"「{u}」" in reason["message_zh"] for u in unknown), name
        problems = receipt_of(settings, f"/{name}")["problems"]
        assert [p["column"] for p in problems] == missing, name


def test_a_duplicate_names_the_earlier_file_of_the_same_street_only(settings: Settings) -> None:
    ds = get_dataset("legal_services")
    content = csv_text(ds, valid_rows(ds, 2))
    drop(settings, A, "legal_services", "first.csv", content)
    ingest_pending(settings)
    drop(settings, A, "legal_services", "again.csv", content)
    drop(settings, B, "legal_services", "copied.csv", content)
    ingest_pending(settings)
    write_receipts(settings)
    again = receipt_of(settings, "again.csv")
    assert again["status"] == "duplicate"
    assert again["duplicate_of"]["path"] == f"inbox/{A}/legal_services/first.csv"
    assert f"inbox/{A}/legal_services/first.csv" in again["problems"][0]["message_zh"]
    copied = receipt_of(settings, "copied.csv")
    assert copied["status"] == "duplicate" and copied["duplicate_of"]["path"] is None
    copied_text = json.dumps(copied, ensure_ascii=False)
    assert "first.csv" not in copied_text and f"inbox/{A}" not in copied_text
    assert "其他街道" in copied["problems"][0]["message_zh"]


def test_a_file_in_an_unknown_street_folder_gets_its_receipt_under_unknown(
    settings: Settings,
) -> None:
    drop(settings, "999999999", "members", "x.csv", "a,b\n1,2\n")
    ingest_pending(settings)
    write_receipts(settings)
    [json_file] = (settings.receipts_dir / receipts.UNKNOWN_STREET_DIR).glob("*.json")
    r = read_receipt(json_file)
    assert r["status"] == "rejected" and r["reason"]["code"] == "file.unknown_street"
    assert r["street_code"] is None


MARKUP = "<r></r></is><f>1+1</f><is><r></r>"


@pytest.mark.parametrize("small_limit", [0, 5_000], ids=["streamed", "in_memory"])
def test_formula_like_values_stay_text_in_the_receipt(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, small_limit: int
) -> None:
    monkeypatch.setattr(receipts, "SMALL_RECEIPT_PROBLEMS", small_limit)
    ds = get_dataset("members")
    rows = valid_rows(ds, 1)
    # member_id shaped like the file's rich-text markup, closing its cell to open a formula
    rows[0].update(name=EVIL, org_id="=1+1", phone="@SUM(A1)", gender="X", member_id=MARKUP)
    drop(settings, A, "members", "evil.csv", csv_text(ds, rows))
    ingest_pending(settings)
    write_receipts(settings)
    xlsx = receipt_paths(settings, ledger(settings)[0]).xlsx
    with zipfile.ZipFile(xlsx) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                xml = z.read(name).decode()
                assert "<f>" not in xml and "<f " not in xml, name
    ws = openpyxl.load_workbook(xlsx)[PROBLEMS_SHEET]
    header = [c.value for c in ws[1]]
    cells = {h: ws.cell(row=2, column=i + 1) for i, h in enumerate(header)}
    assert cells["姓名"].value == EVIL and cells["姓名"].data_type == "s"
    assert cells["姓名"].quotePrefix
    assert cells["工会组织编号"].value == "=1+1" and cells["工会组织编号"].data_type == "s"
    assert cells["手机号"].value == "@SUM(A1)" and cells["手机号"].data_type == "s"
    assert cells["会员编号"].value == MARKUP and cells["会员编号"].data_type == "s"


# --- warnings, the quality gate ---------------------------------------------------------------


def test_a_warning_lists_the_loaded_rows_values(settings: Settings) -> None:
    ds = get_dataset("union_orgs")
    rows = valid_rows(ds, 3)
    rows[1].update(members="500", employees="120")
    drop(settings, A, "union_orgs", "orgs.csv", csv_text(ds, rows))
    ingest_pending(settings)
    write_receipts(settings)
    r = receipt_of(settings, "orgs.csv")
    assert r["rows"]["warned"] == 1 and r["rows"]["quarantined"] == 0
    [p] = r["problems"]
    assert (p["line"], p["code"], p["severity"]) == (3, "members.exceed_employees", "warning")
    assert p["values"]["org_id"] == rows[1]["org_id"] and p["values"]["members"] == "500"
    assert p["values"]["legal_person_registered"] == "是"
    assert p["values"]["founded_date"] == rows[1]["founded_date"]


def _verdicts(entry: LedgerEntry, failed: list[dict]) -> pl.DataFrame:
    base = {
        "run_id": "r",
        "checked_at": "2024-12-31T00:00:00+00:00",
        "submission_sha256": entry.sha256,
        "path": entry.path,
        "dataset": entry.dataset,
        "street_code": entry.street_code,
        "suite": entry.dataset,
        "column": None,
        "element_count": None,
        "unexpected_count": None,
        "observed_value": None,
        "examples": None,
        "error": None,
    }
    ok = {
        **base,
        "expectation": "expect_column_values_to_be_unique",
        "column": "member_id",
        "severity": "critical",
        "success": True,
    }
    return pl.DataFrame([ok, *({**base, **f} for f in failed)], infer_schema_length=None)


def judge(settings: Settings, entry: LedgerEntry, failed: list[dict] | None = None) -> None:
    """The quality gate's verdict on ``entry``: passed, or held back on ``failed``."""
    target = results_path(settings, entry)
    target.parent.mkdir(parents=True, exist_ok=True)
    _verdicts(entry, failed or []).write_parquet(target)


def test_a_receipt_written_before_the_quality_gate_is_updated_when_it_holds_the_file_back(
    settings: Settings,
) -> None:
    ds = get_dataset("members")
    drop(settings, A, "members", "m.csv", csv_text(ds, valid_rows(ds, 3)))
    ingest_pending(settings)
    assert len(write_receipts(settings).outcomes) == 1
    [entry] = ledger(settings)
    paths = receipt_paths(settings, entry)
    before = read_receipt(paths.json)
    assert before["quality"]["state"] == "pending" and before["status"] == "pending"
    assert before["status_zh"] == "已收到，待数据质量检查" and "已入库" not in before["outcome_zh"]
    assert paths.pending.exists()
    assert write_receipts(settings).outcomes == []  # nothing new yet

    failed = {
        "expectation": "expect_table_row_count_to_be_between",
        "severity": "critical",
        "success": False,
        "observed_value": "3",
    }
    judge(settings, entry, [failed])
    [outcome] = write_receipts(settings).outcomes
    assert outcome.status == "held_back"
    r = read_receipt(paths.json)
    assert r["status"] == "held_back" and r["quality"]["state"] == "held_back"
    [f] = r["quality"]["failures"]
    assert (
        "本次名单只有3行" in f["message_zh"]
        and "expect_table_row_count_to_be_between" in f["message_zh"]
    )
    assert not paths.pending.exists()
    wb = openpyxl.load_workbook(paths.xlsx)
    facts = dict(row[:2] for row in wb[RECEIPT_SHEET].iter_rows(values_only=True) if row[0])
    assert "暂缓汇总" in facts["处理结果"] and facts["数据质量检查"] == "未通过（1 项，原因见上方「说明」）"
    # one status: the rows passed the row checks, but none is said to be in the warehouse
    assert facts["说明"].startswith("3 行通过了逐行检查，但本文件未通过数据质量检查")
    assert "本次名单只有3行" in facts["说明"] and facts["说明"] == r["outcome_zh"]
    assert facts["通过逐行检查的行数（暂缓汇总，未入库）"] == 3
    assert not any("已入库" in str(cell) or cell == "入库行数" for cell in _cells(wb[RECEIPT_SHEET]))
    assert write_receipts(settings).outcomes == []


# --- idempotent, crash-safe, summarised -----------------------------------------------------


def test_receipts_are_written_once_and_a_crash_leaves_nothing_half_written(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = get_dataset("training_events")
    rows = valid_rows(ds, 3)
    rows[0]["participants"] = "很多"
    drop(settings, A, "training_events", "t.csv", csv_text(ds, rows))
    ingest_pending(settings)

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(receipts, "_write_problems", crash)
    run = write_receipts(settings)
    assert run.errors == 1 and run.outcomes == []
    folder = settings.receipts_dir / A
    assert not folder.exists() or list(folder.iterdir()) == []  # no receipt, no temp file
    monkeypatch.undo()

    first = write_receipts(settings)
    assert len(first.outcomes) == 1 and first.errors == 0
    paths = receipt_paths(settings, ledger(settings)[0])
    stamp = (paths.xlsx.stat().st_mtime_ns, paths.json.stat().st_mtime_ns)
    assert problem_set(read_receipt(paths.json)) == {(2, "int.invalid", "participants")}
    assert write_receipts(settings).outcomes == []  # already there: not written again
    assert (paths.xlsx.stat().st_mtime_ns, paths.json.stat().st_mtime_ns) == stamp
    assert sorted(p.name for p in folder.iterdir()) == sorted([paths.xlsx.name, paths.json.name])


def test_the_run_summary_counts_per_street_without_personal_data(settings: Settings) -> None:
    ds = get_dataset("members")
    rows = valid_rows(ds, 4)
    rows[0]["id_number"] = make_id(0)[:17] + ("0" if make_id(0)[17] != "0" else "1")
    rows[1]["gender"] = "未知"
    drop(settings, A, "members", "a.csv", csv_text(ds, rows))
    drop(settings, A, "members", "a_copy.csv", csv_text(ds, rows))
    drop(settings, B, "nonsense", "b.csv", "x\n1\n")
    ingest_pending(settings, run_id="run-1")
    run = write_receipts(settings, run_id="run-1")
    assert run.summaries == [summary_path(settings, "run-1")]
    table = pq.read_table(run.summaries[0])
    assert table.schema.equals(SUMMARY_SCHEMA)
    by_street = {r["street_code"]: r for r in table.to_pylist()}
    a, b = by_street[A], by_street[B]
    assert (a["files"], a["files_loaded"], a["files_duplicate"], a["files_rejected"]) == (
        2,
        1,
        1,
        0,
    )
    assert (a["rows_read"], a["rows_loaded"], a["rows_quarantined"]) == (4, 2, 2)
    assert a["files_quality_pending"] == 1 and a["problems"] == 2
    codes = {(c["code"], c["count"]) for c in a["problems_by_code"]}
    assert codes == {("id_number.check_digit", 1), ("enum.unknown", 1), ("file.duplicate", 1)}
    assert b["files_rejected"] == 1 and b["problems_by_code"] == [
        {"code": "file.unknown_dataset", "severity": "reject", "count": 1}
    ]
    text = json.dumps(table.to_pylist(), default=str, ensure_ascii=False)
    for row in rows:
        for col in ("id_number", "name", "phone", "member_id"):
            assert f'"{row[col]}"' not in text
    assert "a.csv" not in text
    # the same run summarised again gives the same counts (a pure function of the ledger)
    again = write_receipts(settings, run_id="run-1")
    assert again.outcomes == [] and again.summaries == [summary_path(settings, "run-1")]
    counts = [{k: v for k, v in r.items() if k != "summarised_at"} for r in table.to_pylist()]
    again_counts = [
        {k: v for k, v in r.items() if k != "summarised_at"}
        for r in pq.read_table(again.summaries[0]).to_pylist()
    ]
    assert again_counts == counts


def test_values_are_matched_to_their_lines_across_record_batches(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.feedback import sources

    monkeypatch.setattr(sources, "BATCH_ROWS", 16)  # many batches, problems and rows out of step
    monkeypatch.setattr(receipts, "SMALL_RECEIPT_PROBLEMS", 10)  # the streamed workbook
    ds = get_dataset("legal_services")
    rows = valid_rows(ds, 300)
    bad = {i for i in range(300) if i % 3 != 1}
    for i in bad:
        rows[i]["people_served"] = "-1" if i % 2 else "很多"
        if i % 5 == 0:
            rows[i]["service_type"] = "未知"  # a second problem on some rows
    drop(settings, A, "legal_services", "many.csv", csv_text(ds, rows))
    ingest_pending(settings)
    write_receipts(settings)
    r = receipt_of(settings, "many.csv")
    assert r["rows"]["quarantined"] == len(bad)
    assert {p["line"] - 2 for p in r["problems"]} == bad
    assert len(r["problems"]) == len(bad) + sum(1 for i in bad if i % 5 == 0)
    for p in r["problems"]:
        assert p["values"]["service_id"] == rows[p["line"] - 2]["service_id"]
    sheet = openpyxl.load_workbook(receipt_paths(settings, entry_of(settings, "many.csv")).xlsx)
    lines = [(r[0], r[5]) for r in sheet[PROBLEMS_SHEET].iter_rows(min_row=2, values_only=True)]
    assert lines == [(p["line"], p["values"]["service_id"]) for p in r["problems"]]


def test_a_line_lookup_starts_again_when_asked_for_an_earlier_line(tmp_path: Path) -> None:
    from pipelines.feedback.sources import LineLookup
    from pipelines.ingest.model import LINE

    path = tmp_path / "q.parquet"
    pl.DataFrame(
        {LINE: list(range(2, 1002)), "v": [f"x{i}" for i in range(2, 1002)]}
    ).write_parquet(path, row_group_size=100)
    lookup = LineLookup(path, ["v", "absent"])
    assert lookup.get(500) == {"v": "x500"}
    assert lookup.get(999) == {"v": "x999"}
    assert lookup.get(3) == {"v": "x3"}  # backwards: read again from the top
    assert lookup.get(5000) == {} and LineLookup(None, ["v"]).get(3) == {}


# --- issue 19: one truthful status, when, a sheet to filter, the clerk's own file name ------

SHRINK = {
    "expectation": "expect_table_row_count_to_be_between",
    "severity": "critical",
    "success": False,
    "observed_value": "3",
}


def _members(n: int, start: int, bad: int = 0) -> str:
    ds = get_dataset("members")
    rows = valid_rows(ds, n, start=start)
    for r in rows[:bad]:
        r["gender"] = "未知"  # not in the list: the row is quarantined
    return csv_text(ds, rows)


# file name, its content, the gate's verdict (None: not judged), status code, 处理结果
STATUS_TABLE: list[tuple[str, str, list[dict] | None, str, str]] = [
    ("clean.csv", _members(3, 0), [], "loaded", "已入库"),
    ("one_bad.csv", _members(3, 10, bad=1), [], "partly_loaded", "部分入库（1 行未入库）"),
    ("all_bad.csv", _members(2, 20, bad=2), [], "not_loaded", "未入库（没有一行通过检查）"),
    ("waiting.csv", _members(3, 30), None, "pending", "已收到，待数据质量检查"),
    ("held.csv", _members(3, 40), [SHRINK], "held_back", "已收到，暂缓汇总（未通过数据质量检查）"),
    ("no_id.csv", _members(2, 50).replace("id_number", "证件"), None, "rejected", "已退回（整个文件未入库）"),
    ("clean_again.csv", _members(3, 0), None, "duplicate", "重复文件（未重复入库）"),
]


def test_every_receipt_states_one_true_status_the_same_in_the_workbook_and_the_json(
    settings: Settings,
) -> None:
    """Issue 19: a clerk reads one status, and it is true. Table-driven over every
    status: the workbook's 处理结果 / 说明 / 如何处理 / row counts are the json's
    status_zh / outcome_zh / todo_zh / rows_zh, and 已入库 appears anywhere in the
    workbook only when the file's rows are in the warehouse."""
    assert {code for *_, code, _ in STATUS_TABLE} == set(STATUS_CODES)
    for name, content, _, code, _ in STATUS_TABLE:
        if code != "duplicate":
            drop(settings, A, "members", name, content)
    ingest_pending(settings)
    for name, content, _, code, _ in STATUS_TABLE:
        if code == "duplicate":
            drop(settings, A, "members", name, content)
    ingest_pending(settings)
    for name, _, failed, *_ in STATUS_TABLE:
        if failed is not None:
            judge(settings, entry_of(settings, f"/{name}"), failed)
    outcomes = {o.xlsx: o for o in write_receipts(settings).outcomes}

    for name, _, _, code, label in STATUS_TABLE:
        paths = receipt_paths(settings, entry_of(settings, f"/{name}"))
        r = read_receipt(paths.json)
        assert (r["status"], r["status_zh"], outcomes[paths.xlsx].status) == (code, label, code), name
        book = openpyxl.load_workbook(paths.xlsx)
        facts = sheet_facts(book[RECEIPT_SHEET])
        assert facts["处理结果"] == r["status_zh"], name
        assert facts["说明"] == r["outcome_zh"] and facts[TODO_LABEL] == r["todo_zh"], name
        for row_label, n in r["rows_zh"]:
            assert facts[row_label] == n, (name, row_label)
        said = [str(v) for ws in book.worksheets for v in _cells(ws)]
        in_warehouse = code in ("loaded", "partly_loaded")
        assert any("已入库" in v for v in said) == in_warehouse, (name, said)
    held = read_receipt(receipt_paths(settings, entry_of(settings, "/held.csv")).json)
    assert held["outcome_zh"].startswith("3 行通过了逐行检查，但本文件未通过数据质量检查")
    assert "本次名单只有3行" in held["outcome_zh"] and "联系区总工会" in held["todo_zh"]
    assert ["通过逐行检查的行数（暂缓汇总，未入库）", 3] in held["rows_zh"]


def test_the_receipt_says_when_it_was_generated_in_beijing_time(settings: Settings) -> None:
    drop(settings, A, "members", "m.csv", _members(2, 0))
    drop(settings, A, "members", "n.csv", _members(2, 10))
    ingest_pending(settings)
    moment = datetime(2026, 12, 7, 9, 45, 30, tzinfo=UTC)
    clock = iter([moment, moment + timedelta(hours=15)])
    write_receipts(settings, clock=lambda: next(clock))
    m, n = (receipt_paths(settings, entry_of(settings, f"/{x}.csv")) for x in "mn")
    r = read_receipt(m.json)
    assert (r["generated_at"], r["generated_at_beijing"]) == ("2026-12-07T09:45:30+00:00", "2026-12-07 17:45")
    assert sheet_facts(openpyxl.load_workbook(m.xlsx)[RECEIPT_SHEET])[GENERATED_LABEL] == "2026-12-07 17:45"
    # past midnight in Beijing is the next day
    assert read_receipt(n.json)["generated_at_beijing"] == "2026-12-08 08:45"


def test_the_generation_time_is_the_current_beijing_time_by_default(settings: Settings) -> None:
    drop(settings, A, "members", "m.csv", _members(2, 0))
    ingest_pending(settings)
    before = datetime.now(BEIJING).replace(second=0, microsecond=0)
    write_receipts(settings)
    after = datetime.now(BEIJING)
    paths = receipt_paths(settings, entry_of(settings, "/m.csv"))
    shown = sheet_facts(openpyxl.load_workbook(paths.xlsx)[RECEIPT_SHEET])[GENERATED_LABEL]
    assert isinstance(shown, str)
    stamp = datetime.strptime(shown, "%Y-%m-%d %H:%M").replace(tzinfo=BEIJING)
    assert before <= stamp <= after
    r = read_receipt(paths.json)
    assert r["generated_at_beijing"] == shown
    assert before <= datetime.fromisoformat(r["generated_at"]) <= after


@pytest.mark.parametrize("small_limit", [0, 5_000], ids=["streamed", "in_memory"])
def test_the_problem_sheet_has_a_frozen_header_and_an_autofilter_over_its_rows(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, small_limit: int
) -> None:
    monkeypatch.setattr(receipts, "SMALL_RECEIPT_PROBLEMS", small_limit)
    ds = get_dataset("members")
    drop(settings, A, "members", "bad.csv", _members(5, 0, bad=3))
    drop(settings, A, "members", "good.csv", _members(2, 10))
    ingest_pending(settings)
    write_receipts(settings)
    last = get_column_letter(len(PROBLEM_HEADERS) + len(ds.columns))
    for name, lines in (("bad.csv", 3), ("good.csv", 0)):
        ws = openpyxl.load_workbook(receipt_paths(settings, entry_of(settings, f"/{name}")).xlsx)[PROBLEMS_SHEET]
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref == f"A1:{last}{1 + lines}", name
        assert ws.max_row == 1 + lines and ws.max_column == len(PROBLEM_HEADERS) + len(ds.columns)


def test_the_receipt_is_named_after_the_clerks_own_file_plus_a_digest(settings: Settings) -> None:
    """The clerk sent 会员名单2015年12月.csv: the receipt is 会员名单2015年12月_回执_<8 hex>.xlsx
    (and .json), in the street's folder. The same name in another folder, or sent again
    with other content, gets a receipt of its own; nothing is overwritten."""
    name = "会员名单2015年12月.csv"
    drop(settings, A, "members", name, _members(3, 0))
    drop(settings, A, "legal_services", name, _members(3, 0))  # the same file, wrong folder
    drop(settings, B, "members", name, _members(3, 100).replace(A, B))
    ingest_pending(settings)
    drop(settings, A, "members", name, _members(4, 0))  # corrected, sent under the same name
    ingest_pending(settings)
    write_receipts(settings)

    entries = [e for e in ledger(settings) if e.path.endswith(name)]
    assert len(entries) == 4
    names = set()
    for e in entries:
        digest = hashlib.sha256(f"{e.path}\n{e.sha256}".encode()).hexdigest()[:8]
        paths = receipt_paths(settings, e)
        assert paths.xlsx.name == f"会员名单2015年12月_回执_{digest}.xlsx"
        assert paths.json.name == f"会员名单2015年12月_回执_{digest}.json"
        assert paths.xlsx.parent == settings.receipts_dir / str(e.street_code)
        assert paths.xlsx.exists() and read_receipt(paths.json)["file"]["path"] == e.path
        names.add(paths.xlsx.name)
    assert len(names) == 4  # no two receipts share a name
    in_a = sorted(p.name for p in (settings.receipts_dir / A).iterdir())
    assert len(in_a) == 6 and all(re.fullmatch(r"会员名单2015年12月_回执_[0-9a-f]{8}\.(xlsx|json)", n) for n in in_a)


@pytest.mark.parametrize(
    ("path", "stem"),
    [
        ("inbox/110101001/members/会员名单2015年12月.csv", "会员名单2015年12月"),
        ("inbox/110101001/members/名单.v2.xlsx", "名单.v2"),
        ("inbox/110101001/members/名单2015.12", "名单2015.12"),  # no extension to drop
        ("inbox/110101001/members/..\\..\\etc\\passwd.csv", "passwd"),
        ("inbox/110101001/members/名单\x00\x1f\t1.csv", "名单_1"),
        ("inbox/110101001/members/名单:2015*?<>|\".xlsx", "名单_2015"),
        ("inbox/110101001/members/ .名单 . .csv", "名单"),
        ("inbox/110101001/members/\u202egpj.csv", "gpj"),  # a right-to-left override
        ("inbox/110101001/members/e\u0301.csv", "\u00e9"),  # NFC
        ("inbox/110101001/members/CON.csv", "_CON"),
        ("inbox/110101001/members/nul.2015.csv", "_nul.2015"),
        ("inbox/110101001/members/....csv", "文件"),
        ("inbox/110101001/members/" + "名" * 300 + ".csv", "名" * MAX_STEM_CHARS),
    ],
)
def test_the_clerks_file_name_is_made_safe_for_a_file_name(path: str, stem: str) -> None:
    assert file_stem(path) == stem


def test_any_file_name_gives_a_receipt_name_every_file_system_takes(tmp_path: Path) -> None:
    """Seeded: names made of Chinese, ASCII, separators, control and format characters,
    Windows-forbidden characters, dots and spaces: the receipt's name is short, clean,
    and can be created."""
    rng = random.Random(19)
    pool = list("会员名单年月工会ab12 ._-/\\:*?\"<>|\x00\x07\t\r\n\u200b\u202e\ufeff\u3000（）")
    for _ in range(300):
        raw = "".join(rng.choice(pool) for _ in range(rng.randint(0, 120)))
        stem = file_stem(f"inbox/110101001/members/{raw}.csv")
        assert stem and len(stem) <= MAX_STEM_CHARS, raw
        assert not set(stem) & set('/\\:*?"<>|'), raw
        assert not any(unicodedata.category(c).startswith("C") for c in stem), raw
        assert stem[0] not in " ." and stem[-1] not in " .", raw
        name = f"{stem}_回执_0123abcd.xlsx"
        assert len(name.encode()) <= 255
        (tmp_path / name).touch()
        assert (tmp_path / name).exists()


def test_a_receipt_that_fails_is_logged_without_the_clerks_file_name(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The receipt's name now holds the clerk's file name (which may name a person):
    an error writing it, whose message quotes the path as the OS does, is logged by
    ledger seq and street only."""
    drop(settings, A, "members", "王小明入会申请.csv", _members(2, 0))
    ingest_pending(settings)
    [entry] = ledger(settings)
    target = receipt_paths(settings, entry).xlsx
    assert "王小明入会申请_回执_" in target.name

    def denied(*args: object) -> None:
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(receipts, "_write_problems", denied)
    with caplog.at_level("INFO"):
        run = write_receipts(settings)
    assert run.errors == 1 and f"receipt failed for ledger seq {entry.seq} (street {A})" in caplog.text
    assert "王小明" not in caplog.text and "回执" not in caplog.text
