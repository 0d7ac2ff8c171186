"""Every code of the rule catalogue is triggered by a test, through the drop zone, and
comes back on the street's receipt; the catalogue and the validators cannot drift.

Row rules: ``tests/test_validate.py`` triggers each applied rule of each dataset with its
``BREAKERS``; here each row code is triggered once more end to end (a file in the drop
zone, ingestion, the receipt). File rules: ``FILE_TRIGGERS`` below. The first two tests
fail when a code is added to the catalogue without a way to trigger it.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import replace

import openpyxl
import pytest

from pipelines.config import Settings
from pipelines.contract import CATALOGUE, DATASETS, FILE_RULES, Dataset, applicable_rules
from pipelines.contract.rules import all_row_codes
from pipelines.feedback.receipts import read_receipt, receipt_paths, write_receipts
from pipelines.feedback.wording import problem_message
from pipelines.ingest.ledger import read_ledger
from pipelines.ingest.process import ingest_pending
from pipelines.ingest.validate import possible_codes

from .conftest import drop
from .test_validate import BREAKERS, STREET, Row

LEGAL_HEADER = "服务编号,街道代码,服务日期,服务类型,律师,服务人次\n"
LEGAL_ROW = "S1,,2024-03-01,法律咨询,,3\n"
MAX_BYTES = 4096


def _xlsx(*sheets: list[list[object]]) -> bytes:
    """A workbook with one sheet per list of rows, without the theme and document
    properties a reader does not need (so that it stays under MAX_BYTES)."""
    wb = openpyxl.Workbook()
    for i, sheet_rows in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        for row in sheet_rows:
            ws.append(row)
    full = io.BytesIO()
    wb.save(full)
    small = io.BytesIO()
    with zipfile.ZipFile(full) as src, zipfile.ZipFile(small, "w", zipfile.ZIP_DEFLATED) as out:
        for name in src.namelist():
            if not name.startswith(("docProps/", "xl/theme/")):
                out.writestr(name, src.read(name))
    return small.getvalue()


# code -> (street folder, dataset folder, file name, bytes); dropped together in one batch
FILE_TRIGGERS: dict[str, tuple[str, str, str, bytes]] = {
    "file.unsupported_format": (STREET, "legal_services", "a.txt", b"hello\n"),
    "file.too_large": (
        STREET,
        "legal_services",
        "big.csv",
        (LEGAL_HEADER + LEGAL_ROW * 200).encode(),
    ),
    "file.unknown_dataset": (
        STREET,
        "no_such_dataset",
        "a.csv",
        (LEGAL_HEADER + LEGAL_ROW).encode(),
    ),
    "file.unknown_street": (
        "999999999",
        "legal_services",
        "a.csv",
        (LEGAL_HEADER + LEGAL_ROW + LEGAL_ROW).encode(),
    ),
    "file.unreadable": (STREET, "legal_services", "broken.xlsx", b"this is not a zip file"),
    "file.extra_sheet": (
        STREET,
        "legal_services",
        "sheets.xlsx",
        _xlsx(
            [LEGAL_HEADER.strip().split(","), LEGAL_ROW.strip().split(",")],
            [["S2", "", "2024-03-01", "法律咨询", "", 3]],  # rows put on sheet 2
        ),
    ),
    "file.link": (STREET, "legal_services", "shortcut.csv", b""),  # a link, see LINK_TRIGGERS
    "file.encoding": (
        STREET,
        "legal_services",
        "enc.csv",
        LEGAL_HEADER.encode() + b"S1,,\xff\xfe\xff,x,,1\n",
    ),
    "file.empty": (STREET, "legal_services", "empty.csv", b""),
    "file.no_header": (STREET, "legal_services", "nohead.csv", b"x,y\n1,2\n"),
    "file.missing_column": (
        STREET,
        "legal_services",
        "missing.csv",
        "服务编号,服务日期,服务人次\nS1,2024-03-01,3\n".encode(),
    ),
    "file.duplicate_column": (
        STREET,
        "legal_services",
        "dupcol.csv",
        (LEGAL_HEADER.strip() + ",服务人次\n" + LEGAL_ROW.strip() + ",4\n").encode(),
    ),
    "file.truncated": (
        STREET,
        "legal_services",
        "cut.csv",
        (LEGAL_HEADER + LEGAL_ROW + 'S2,,2024-03-01,"法律咨询').encode(),
    ),
    "file.duplicate": (
        STREET,
        "legal_services",
        "zz_same_as_good.csv",
        (LEGAL_HEADER + "S9,,2024-03-01,法律咨询,,3\n").encode(),
    ),
}
ORIGINAL = (
    STREET,
    "legal_services",
    "good.csv",
    (LEGAL_HEADER + "S9,,2024-03-01,法律咨询,,3\n").encode(),
)


# codes triggered by a symbolic link (to the street's own good file) instead of a file's bytes
LINK_TRIGGERS = {"file.link"}


def test_every_file_rule_has_a_trigger() -> None:
    assert set(FILE_TRIGGERS) == set(FILE_RULES)


def test_every_catalogue_code_has_a_trigger() -> None:
    assert set(CATALOGUE) == set(FILE_TRIGGERS) | set(BREAKERS)
    assert all_row_codes() <= set(BREAKERS)


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_the_validator_raises_exactly_the_catalogue_codes_and_each_has_a_message(
    dataset: Dataset,
) -> None:
    codes = possible_codes(dataset)
    assert codes == {a.code for a in applicable_rules(dataset)}
    assert codes <= set(CATALOGUE) - set(FILE_RULES)
    for a in applicable_rules(dataset):
        message = problem_message(dataset, a.code, a.column)
        assert "{" not in message and "}" not in message, (a, message)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message)
        if a.column is not None and "{header}" in CATALOGUE[a.code].zh:
            assert f"「{dataset.column(a.column).zh}」" in message


def test_every_file_rule_is_triggered_and_comes_back_on_a_receipt(settings: Settings) -> None:
    small = replace(settings, max_file_bytes=MAX_BYTES)
    assert len(FILE_TRIGGERS["file.too_large"][3]) > MAX_BYTES
    drop(small, *ORIGINAL)
    ingest_pending(small)
    for code, (street, folder, name, content) in FILE_TRIGGERS.items():
        if code in LINK_TRIGGERS:
            (small.inbox / street / folder / name).symlink_to(small.inbox / ORIGINAL[0] / ORIGINAL[1] / ORIGINAL[2])
        else:
            drop(small, street, folder, name, content)
    ingest_pending(small)
    write_receipts(small)
    entries = {e.path: e for e in read_ledger(small.ledger_path)}
    for code, (street, folder, name, _) in FILE_TRIGGERS.items():
        entry = entries[f"inbox/{street}/{folder}/{name}"]
        assert entry.error_code == code, (code, entry.error_code)
        receipt = read_receipt(receipt_paths(small, entry).json)
        assert [p["code"] for p in receipt["problems"]] == [code]
        assert receipt["status"] == ("duplicate" if code == "file.duplicate" else "rejected")
        assert receipt["problems"][0]["message_zh"]


def _first_use(code: str) -> tuple[Dataset, object]:
    for d in DATASETS:
        for a in applicable_rules(d):
            if a.code == code:
                return d, a
    raise AssertionError(code)


def _csv(
    dataset: Dataset, rows: list[Row], malformed_line: int | None, broken_line: int | None = None
) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(dataset.column_names), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    lines = buf.getvalue().splitlines(keepends=True)
    if malformed_line is not None:  # one field too many: the row no longer fits the header
        lines[malformed_line - 1] = lines[malformed_line - 1].rstrip("\n") + ",extra\n"
    if broken_line is not None:  # a stray quote opens on this line and closes on the next
        lines[broken_line - 1] = '"' + lines[broken_line - 1]
        lines[broken_line] = lines[broken_line].rstrip("\n") + '"\n'
    return "".join(lines)


# codes a CSV cannot carry (its reader splits a value with a line break into broken lines):
# triggered with an .xlsx, where a cell can hold one (Alt+Enter)
XLSX_CODES = {"value.line_break"}


@pytest.mark.parametrize("code", sorted(all_row_codes()))
def test_every_row_rule_is_triggered_through_the_drop_zone_and_named_on_the_receipt(
    settings: Settings, code: str
) -> None:
    dataset, applied = _first_use(code)
    rows, expected = BREAKERS[code](dataset, applied)  # type: ignore[arg-type]
    malformed = 2 if code == "row.malformed" else None
    broken = 2 if code == "row.broken_quote" else None
    if code in XLSX_CODES:
        names = list(dataset.column_names)
        content = _xlsx([names, *([r.get(c) for c in names] for r in rows)])
        drop(settings, STREET, dataset.name, "case.xlsx", content)
    else:
        drop(settings, STREET, dataset.name, "case.csv", _csv(dataset, rows, malformed, broken))
    [entry] = ingest_pending(settings).entries
    assert entry.status == "loaded"
    write_receipts(settings)
    receipt = read_receipt(receipt_paths(settings, entry).json)
    got = {(p["line"], p["code"], p["column"]) for p in receipt["problems"]}
    want = {(i + 2, c, col) for i, reasons in expected.items() for c, col in reasons}
    assert got == want
    severity = CATALOGUE[code].severity.value
    assert {p["severity"] for p in receipt["problems"]} == {severity}
    for p in receipt["problems"]:
        assert p["values"], p  # the row's own values, so the clerk can find it
