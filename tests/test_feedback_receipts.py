"""Receipts: a template filled with known mistakes comes back with exactly those rows,
codes and line numbers; a corrected file comes back clean; rejected files, duplicates,
mixed streets, formula-like values, the quality gate, idempotence and crashes."""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import polars as pl
import pyarrow.parquet as pq
import pytest

from pipelines.config import Settings
from pipelines.contract import DATASETS, Dataset, get_dataset
from pipelines.feedback import receipts
from pipelines.feedback.receipts import (
    PROBLEM_HEADERS,
    PROBLEMS_SHEET,
    RECEIPT_SHEET,
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
    write_receipts(settings)

    receipt = receipt_of(settings, "first.xlsx")
    assert receipt["status"] == "loaded" and receipt["street_code"] == A
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
    assert summary["处理结果"] == "已入库" and summary["未入库行数"] == 5
    assert summary["文件"] == f"inbox/{A}/{name}/first.xlsx"
    assert summary["文件指纹（SHA-256 前12位）"] == entry_of(settings, "first.xlsx").sha256[:12]

    # the clerk fixes the rows and sends the file again: all load, the receipt is clean
    fixed = valid_rows(dataset, 7)
    drop(settings, A, name, "corrected.xlsx", fill(template, dataset, fixed))
    ingest_pending(settings)
    write_receipts(settings)
    clean = receipt_of(settings, "corrected.xlsx")
    assert clean["status"] == "loaded" and clean["problems"] == []
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


@pytest.mark.parametrize("small_limit", [0, 5_000], ids=["streamed", "in_memory"])
def test_formula_like_values_stay_text_in_the_receipt(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, small_limit: int
) -> None:
    monkeypatch.setattr(receipts, "SMALL_RECEIPT_PROBLEMS", small_limit)
    ds = get_dataset("members")
    rows = valid_rows(ds, 1)
    rows[0].update(name=EVIL, org_id="=1+1", phone="@SUM(A1)", gender="X")
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


def test_a_receipt_written_before_the_quality_gate_is_updated_when_it_holds_the_file_back(
    settings: Settings,
) -> None:
    ds = get_dataset("members")
    drop(settings, A, "members", "m.csv", csv_text(ds, valid_rows(ds, 3)))
    ingest_pending(settings)
    assert len(write_receipts(settings).outcomes) == 1
    [entry] = ledger(settings)
    paths = receipt_paths(settings, entry)
    assert read_receipt(paths.json)["quality"]["state"] == "pending"
    assert paths.pending.exists()
    assert write_receipts(settings).outcomes == []  # nothing new yet

    failed = {
        "expectation": "expect_table_row_count_to_be_between",
        "severity": "critical",
        "success": False,
        "observed_value": "3",
    }
    target = results_path(settings, entry)
    target.parent.mkdir(parents=True)
    _verdicts(entry, [failed]).write_parquet(target)
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
    assert "暂缓汇总" in facts["处理结果"] and "本次名单只有3行" in facts["数据质量检查"]
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
