""".xls (Excel 97-2003), WPS .et and .ods submissions (issue 19): read with calamine into
the table the .xlsx reader gives for the same cells.

The .xls files are written with xlwt (dev dependency), the .ods files by hand (a zip of
XML: the ``mimetype`` entry first and stored), the .xlsx ones with openpyxl; an .et is
an .xls or an .xlsx under another name, told apart by its first bytes.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import openpyxl
import polars as pl
import pytest
import xlwt

from pipelines.config import Settings
from pipelines.contract import INSTRUCTIONS_SHEET, get_dataset
from pipelines.ingest.ledger import LedgerEntry
from pipelines.ingest.model import LINE, MALFORMED, FileRejected, RawTable
from pipelines.ingest.process import ingest_pending
from pipelines.ingest.readers import read_submission

from .conftest import drop
from .test_validate import valid_row

LEGAL = get_dataset("legal_services")
TICKETS = get_dataset("hotline_tickets")
MEMBERS = get_dataset("members")
LEGAL_HEADER = ["服务编号", "服务日期", "服务类型", "服务人次"]
STREET = "110101003"

Sheet = list[list[Any]]


# --- writers ---------------------------------------------------------------------------------


_DATE = xlwt.easyxf(num_format_str="YYYY-MM-DD")
_DATETIME = xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM:SS")


def xls_bytes(*sheets: Sheet, names: tuple[str, ...] = (), hidden: tuple[int, ...] = (),
              merged_title: str | None = None) -> bytes:
    """A BIFF8 workbook; dates as date-formatted cells, as Excel saves them.
    ``merged_title`` puts a title merged over A1:D1 above the first sheet's rows."""
    wb = xlwt.Workbook(encoding="utf-8")
    for i, rows in enumerate(sheets):
        ws = wb.add_sheet(names[i] if i < len(names) else f"Sheet{i + 1}")
        if i in hidden:
            ws.visibility = 1
        offset = 0
        if i == 0 and merged_title is not None:
            ws.write_merge(0, 0, 0, 3, merged_title)
            offset = 1
        for r, row in enumerate(rows, start=offset):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, datetime):
                    ws.write(r, c, value, _DATETIME)
                elif isinstance(value, date):
                    ws.write(r, c, value, _DATE)
                else:
                    ws.write(r, c, value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_bytes(*sheets: Sheet, names: tuple[str, ...] = (), merged_title: str | None = None) -> bytes:
    wb = openpyxl.Workbook()
    for i, rows in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        if i < len(names):
            ws.title = names[i]
        if i == 0 and merged_title is not None:
            ws.append([merged_title])
            ws.merge_cells("A1:D1")
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)
_ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"


def _ods_cell(value: Any) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, bool):
        attrs = f'office:value-type="boolean" office:boolean-value="{str(value).lower()}"'
    elif isinstance(value, int | float):
        attrs = f'office:value-type="float" office:value="{value!r}"'
    elif isinstance(value, date):  # a datetime too
        attrs = f'office:value-type="date" office:date-value="{value.isoformat()}"'
    else:
        attrs = 'office:value-type="string"'
    return f"<table:table-cell {attrs}><text:p>{escape(str(value))}</text:p></table:table-cell>"


def ods_bytes(*sheets: Sheet, names: tuple[str, ...] = (), merged_title: str | None = None) -> bytes:
    """An OpenDocument spreadsheet as LibreOffice/WPS save one, reduced to what is read;
    the trailing empty rows repeated to the sheet's end, as LibreOffice writes them."""
    tables = []
    for i, rows in enumerate(sheets):
        name = names[i] if i < len(names) else f"Sheet{i + 1}"
        xml_rows = []
        if i == 0 and merged_title is not None:
            xml_rows.append(
                '<table:table-row><table:table-cell office:value-type="string" '
                f'table:number-columns-spanned="4"><text:p>{escape(merged_title)}</text:p>'
                '</table:table-cell><table:covered-table-cell table:number-columns-repeated="3"/>'
                "</table:table-row>"
            )
        for row in rows:
            xml_rows.append("<table:table-row>" + "".join(map(_ods_cell, row)) + "</table:table-row>")
        xml_rows.append('<table:table-row table:number-rows-repeated="1048000">'
                        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>')
        tables.append(f'<table:table table:name="{escape(name)}">{"".join(xml_rows)}</table:table>')
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS} '
        f'office:version="1.2"><office:body><office:spreadsheet>{"".join(tables)}'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{_ODS_MIME}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), _ODS_MIME, compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", manifest)
        z.writestr("content.xml", content)
    return buf.getvalue()


# (file name, the bytes of the sheets in that format): .et once per container
FORMATS = {
    "a.xls": xls_bytes,
    "a.et": xls_bytes,  # WPS's .et: usually a BIFF8 compound file
    "b.et": xlsx_bytes,  # ... or an Office Open XML zip
    "a.ods": ods_bytes,
}
CONTAINER = {"a.xls": "xls", "a.et": "xls", "b.et": "xlsx", "a.ods": "ods"}


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read_as(tmp_path: Path, name: str, *sheets: Sheet, dataset: Any = LEGAL, **kw: Any) -> RawTable:
    return read_submission(write(tmp_path, name, FORMATS[name](*sheets, **kw)), dataset)


def read_xlsx(tmp_path: Path, *sheets: Sheet, dataset: Any = LEGAL, **kw: Any) -> RawTable:
    return read_submission(write(tmp_path, "ref.xlsx", xlsx_bytes(*sheets, **kw)), dataset)


def rejection(path: Path, dataset: Any = LEGAL) -> FileRejected:
    with pytest.raises(FileRejected) as info:
        read_submission(path, dataset)
    return info.value


# --- the same table as the .xlsx reader ------------------------------------------------------


HOSTILE_LEGAL: Sheet = [
    [*LEGAL_HEADER, "律师", "备注"],
    ["S1", date(2024, 1, 2), "法律咨询", 3, "张伟", 12.5],
    [],
    [None, "   ", None],
    ["S2", 45292, "法律咨询", 4.0, None, True],  # serial 45292 = 2024-01-01
    ["S3", datetime(2024, 3, 5, 0, 0), "法律咨询", 7, "李四", False],
    ["S4", datetime(2024, 3, 5, 9, 30), "法律咨询", 1e15, " ", 0.1],
    ["S5", "2024/3/6", "法律咨询", "8", None, "-x"],
    ["S6", "2024-03-07", "法律咨询", 3, None, None, "stray"],  # beyond the header: malformed
    ["S7", "2024-03-08"],
    [None, None],  # empty trailing rows
    [],
]


@pytest.mark.parametrize("name", list(FORMATS))
def test_values_dates_serials_blank_rows_and_line_numbers_as_the_xlsx_reader(
    tmp_path: Path, name: str
) -> None:
    t = read_as(tmp_path, name, HOSTILE_LEGAL)
    assert (t.encoding, t.file_format) == (CONTAINER[name], CONTAINER[name])
    ref = read_xlsx(tmp_path, HOSTILE_LEGAL)
    assert t.frame.equals(ref.frame), (t.frame, ref.frame)
    assert (t.headers, t.extra_columns) == (ref.headers, ref.extra_columns)
    assert t.frame.select("service_id", "service_date", "people_served", "备注", LINE, MALFORMED).rows() == [
        ("S1", "2024-01-02", "3", "12.5", 2, False),
        ("S2", "2024-01-01", "4", "true", 5, False),
        ("S3", "2024-03-05", "7", "false", 6, False),
        ("S4", "2024-03-05 09:30:00", "1000000000000000", "0.1", 7, False),
        ("S5", "2024/3/6", "8", "-x", 8, False),
        ("S6", "2024-03-07", "3", None, 9, True),
        ("S7", "2024-03-08", None, None, 10, False),
    ]


@pytest.mark.parametrize("name", list(FORMATS))
def test_datetime_columns_keep_the_time_as_the_xlsx_reader(tmp_path: Path, name: str) -> None:
    sheet: Sheet = [
        ["工单编号", "派单时间", "诉求类别", "办理时限", "是否满意"],
        ["T1", datetime(2024, 5, 1, 8, 0, 0), "欠薪", 45413.5, 1],
        ["T2", datetime(2024, 5, 2), "欠薪", date(2024, 5, 9), None],
    ]
    t = read_as(tmp_path, name, sheet, dataset=TICKETS)
    assert t.frame.equals(read_xlsx(tmp_path, sheet, dataset=TICKETS).frame)
    assert t.frame.select("ticket_id", "received_at", "deadline_at", "satisfied").rows() == [
        ("T1", "2024-05-01 08:00:00", "2024-05-01 12:00:00", "1"),
        ("T2", "2024-05-02 00:00:00", "2024-05-09 00:00:00", None),
    ]


@pytest.mark.parametrize("name", list(FORMATS))
def test_a_title_row_above_the_header_is_no_header_as_in_an_xlsx(tmp_path: Path, name: str) -> None:
    sheet: Sheet = [LEGAL_HEADER, ["S1", "2024-01-02", "法律咨询", 3]]
    expected = rejection(write(tmp_path, "ref.xlsx", xlsx_bytes(sheet, merged_title="2024年法律服务台账")))
    got = rejection(write(tmp_path, name, FORMATS[name](sheet, merged_title="2024年法律服务台账")))
    assert (got.code, got.detail) == (expected.code, expected.detail)
    assert got.code == "file.no_header"
    # a blank row 1 is no header either; an empty sheet is an empty file
    for rows, code in (([[], *sheet], "file.no_header"), ([], "file.empty")):
        assert rejection(write(tmp_path, name, FORMATS[name](rows))).code == code


@pytest.mark.parametrize("name", list(FORMATS))
def test_rows_on_a_second_sheet_reject_the_workbook_as_in_an_xlsx(tmp_path: Path, name: str) -> None:
    first: Sheet = [LEGAL_HEADER, ["S1", "2024-01-02", "法律咨询", 3]]
    # blank second sheets and the templates' instruction sheet are allowed
    instructions: Sheet = [["第1行为表头……"], ["每行一条记录"]]
    t = read_as(tmp_path, name, first, [[None, "  "]], instructions, names=("数据", "Sheet2", INSTRUCTIONS_SHEET))
    assert t.frame["service_id"].to_list() == ["S1"]
    e = rejection(write(tmp_path, name, FORMATS[name](first, [["S2", "2024-01-03"]], names=("数据", "张三的名单"))))
    assert (e.code, e.detail) == ("file.extra_sheet", "sheet 2 of 2")
    e = rejection(write(tmp_path, name, FORMATS[name]([], first)))  # data only on sheet 2
    assert e.code == "file.extra_sheet"


def test_a_hidden_xls_sheet_with_data_is_named_hidden(tmp_path: Path) -> None:
    content = xls_bytes([LEGAL_HEADER, ["S1", "2024-01-02", "法律咨询", 3]], [[None]], [["S2"]], hidden=(2,))
    e = rejection(write(tmp_path, "a.xls", content))
    assert (e.code, e.detail) == ("file.extra_sheet", "sheet 3 of 3, hidden")


def test_the_container_is_told_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    sheet: Sheet = [LEGAL_HEADER, ["S1", "2024-01-02", "法律咨询", 3]]
    cases = {
        "x.xls": (xlsx_bytes(sheet), "xlsx"),  # an .xlsx renamed .xls
        "y.xls": (ods_bytes(sheet), "ods"),
        "z.ods": (xls_bytes(sheet), "xls"),
        "W.ET": (xls_bytes(sheet), "xls"),
    }
    for name, (data, container) in cases.items():
        t = read_submission(write(tmp_path, name, data), LEGAL)
        assert (t.file_format, t.frame["service_id"].to_list()) == (container, ["S1"]), name


def test_a_corrupt_workbook_is_unreadable_without_quoting_it(tmp_path: Path) -> None:
    good = xls_bytes([LEGAL_HEADER, ["S1", "2024-01-02", "法律咨询", 3]])
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("hello.txt", "服务编号 a zip that is not a workbook")
    broken = {
        "empty.xls": b"",
        "text.xls": "服务编号,服务日期\n".encode(),
        "html.xls": "<html><table><tr><td>服务编号</td></tr></table></html>".encode(),
        "half.xls": good[: len(good) // 2],
        "cfb_header_only.xls": good[:512],
        "garbled.xls": good[:600] + bytes(range(256)) * 8 + good[2648:],
        "other_zip.et": other_zip.getvalue(),
        "not_a_zip.ods": b"PK\x03\x04 this is not really a workbook",
        "half.ods": ods_bytes([LEGAL_HEADER])[:300],
    }
    for name, data in broken.items():
        e = rejection(write(tmp_path, name, data))
        assert e.code == "file.unreadable", (name, e.code, e.detail)
        assert "服务" not in (e.detail or ""), name


# --- a street's members file, end to end ------------------------------------------------------


def member_rows(n: int) -> list[dict[str, Any]]:
    return [valid_row(MEMBERS, i) | {"member_id": f"M{i}", "street_code": STREET} for i in range(n)]


def typed(column: str, value: str) -> Any:
    """The value as a clerk's spreadsheet holds it: dates as dates, the phone as a number
    (a code typed without the text format: it must still land as its digits)."""
    if MEMBERS.column(column).type.value == "date":
        return date.fromisoformat(value)
    if column == "phone":
        return int(value)
    return value


def ingest(tmp_path: Path, name: str, content: bytes | str) -> tuple[LedgerEntry, Settings]:
    root = tmp_path / name.replace(".", "_")
    settings = Settings(raw_dir=root / "raw", data_dir=root / "data", pii_key="test-key")
    settings.inbox.mkdir(parents=True)
    drop(settings, STREET, "members", name, content)
    [entry] = ingest_pending(settings).entries
    return entry, settings


def landed(settings: Settings, entry: LedgerEntry) -> pl.DataFrame:
    assert entry.landing_path is not None
    return pl.read_parquet(settings.data_dir / entry.landing_path)


def test_a_members_file_in_each_format_lands_as_the_same_csv(tmp_path: Path) -> None:
    rows = member_rows(5)
    header = [c.zh for c in MEMBERS.columns]
    lines = [",".join(r[c] or "" for c in MEMBERS.column_names) for r in rows]
    csv_text = "\n".join([",".join(header), *lines]) + "\n"
    csv_entry, csv_settings = ingest(tmp_path, "members.csv", csv_text)
    assert (csv_entry.status, csv_entry.rows_read, csv_entry.rows_loaded, csv_entry.rows_quarantined) == (
        "loaded", 5, 5, 0)
    want = landed(csv_settings, csv_entry)
    # the columns that name the file itself differ; every data column must be the same
    data_columns = [c for c in want.columns if c in MEMBERS.column_names]
    assert {"member_id", "name", "id_number", "phone", "birth_date"} <= set(data_columns)
    sheet: Sheet = [header, *[[typed(c, r[c]) for c in MEMBERS.column_names] for r in rows]]
    for name, writer in FORMATS.items():
        entry, settings = ingest(tmp_path, f"members_{name}", writer(sheet))
        assert (entry.status, entry.error_code, entry.rows_read, entry.rows_loaded, entry.rows_quarantined) == (
            "loaded", None, 5, 5, 0), name
        assert entry.file_format == CONTAINER[name]
        got = landed(settings, entry)
        assert got.select(data_columns).equals(want.select(data_columns)), name


def test_a_corrupt_xls_in_the_drop_zone_is_rejected_not_a_crash(tmp_path: Path) -> None:
    good = xls_bytes([[c.zh for c in MEMBERS.columns]])
    entry, _ = ingest(tmp_path, "members.xls", good[: len(good) // 2])
    assert (entry.status, entry.error_code, entry.rows_loaded) == ("rejected", "file.unreadable", 0)
