"""The file readers: CSV (UTF-8, UTF-8 BOM, GBK, GB18030), XLSX and JSONL into a RawTable,
with exact line numbers, malformed rows and the file rules of contract §2 rule 5."""

from __future__ import annotations

import io
import json
import random
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from pipelines.contract import Dataset, get_dataset
from pipelines.ingest.headers import BROKEN
from pipelines.ingest.model import LINE, MALFORMED, FileRejected, RawTable
from pipelines.ingest.readers import csv_file, read_submission
from pipelines.ingest.readers import encoding as encoding_mod

LEGAL = get_dataset("legal_services")
TICKETS = get_dataset("hotline_tickets")
HEADER_ZH = "服务编号,服务日期,服务类型,服务人次"
HEADER_EN = "service_id,service_date,service_type,people_served"
VALUE_COLUMNS = ["service_id", "service_date", "service_type", "people_served"]


def write(tmp_path: Path, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return path


def read(tmp_path: Path, name: str, data: bytes | str, dataset: Dataset = LEGAL,
         encoding: str = "utf-8", fast: bool | None = None) -> RawTable:
    return read_submission(write(tmp_path, name, data, encoding), dataset, fast=fast)


def rejected(tmp_path: Path, name: str, data: bytes | str, dataset: Dataset = LEGAL,
             fast: bool | None = None) -> FileRejected:
    with pytest.raises(FileRejected) as info:
        read(tmp_path, name, data, dataset, fast=fast)
    return info.value


def rows(table: RawTable, *columns: str) -> list[tuple[Any, ...]]:
    cols = list(columns) or [*VALUE_COLUMNS, LINE, MALFORMED]
    return table.frame.select(cols).rows()


def lines(table: RawTable) -> list[int]:
    return table.frame[LINE].to_list()


# --- CSV: encodings --------------------------------------------------------------------------


def test_utf8_chinese_headers_values_and_types(tmp_path: Path) -> None:
    t = read(tmp_path, "a.csv", f"{HEADER_ZH}\nS001,2024-01-02,法律咨询,3\nS002,2024/1/3,案例大讲堂,12\n")
    assert (t.encoding, t.file_format) == ("utf-8", "csv")
    assert rows(t) == [
        ("S001", "2024-01-02", "法律咨询", "3", 2, False),
        ("S002", "2024/1/3", "案例大讲堂", "12", 3, False),
    ]
    assert t.frame.schema == pl.Schema(
        {**dict.fromkeys(VALUE_COLUMNS, pl.String()), LINE: pl.Int64(), MALFORMED: pl.Boolean()}
    )
    assert t.headers == dict(zip(VALUE_COLUMNS, HEADER_ZH.split(","), strict=True))
    assert t.extra_columns == ()


def test_utf8_with_bom(tmp_path: Path) -> None:
    t = read(tmp_path, "a.csv", "\ufeff" + f"{HEADER_ZH}\nS001,2024-01-02,法律咨询,3\n")
    assert t.encoding == "utf-8-sig"
    assert t.headers["service_id"] == "服务编号"
    assert rows(t, "service_id", LINE) == [("S001", 2)]


def test_gbk_encoded_chinese(tmp_path: Path) -> None:
    text = f"{HEADER_ZH},律师\nS001,2024-01-02,法律咨询,3,张伟\n"
    t = read(tmp_path, "a.csv", text, encoding="gbk")
    assert t.encoding == "gb18030"
    assert rows(t, "service_type", "lawyer_name") == [("法律咨询", "张伟")]


def test_gb18030_only_characters(tmp_path: Path) -> None:
    name = "刘䶮𠀀"  # U+4DAE and U+20000 are not in GBK
    with pytest.raises(UnicodeEncodeError):
        name.encode("gbk")
    t = read(tmp_path, "a.csv", f"{HEADER_ZH},律师\nS001,2024-01-02,法律咨询,3,{name}\n",
             encoding="gb18030")
    assert t.encoding == "gb18030"
    assert rows(t, "lawyer_name") == [(name,)]


def test_undecodable_bytes_are_file_encoding(tmp_path: Path) -> None:
    data = f"{HEADER_EN}\nS001,".encode() + b"\xff\xfe\xff" + b",x,1\n"
    assert rejected(tmp_path, "a.csv", data).code == "file.encoding"


def test_bom_followed_by_invalid_utf8_is_file_encoding(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + "服务编号,服务日期,服务类型,服务人次\nS1,".encode() + "日".encode("gbk") + b",x,1\n"
    assert rejected(tmp_path, "a.csv", data).code == "file.encoding"


def test_invalid_utf8_late_in_a_large_file_is_detected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoding_mod, "CHUNK_BYTES", 64)  # the bad byte sits many chunks in
    monkeypatch.setattr(encoding_mod, "SNIFF_BYTES", 64)  # and well past what is sniffed
    body = "".join(f"S{i:04d},2024-01-02,法律咨询,{i}\n" for i in range(50))
    data = f"{HEADER_ZH}\n{body}".encode() + b"S9,\xff\xff,x,1\n"
    for fast in (False, True):
        assert rejected(tmp_path, "a.csv", data, fast=fast).code == "file.encoding"


# --- CSV: lines, blanks, quoting, ragged rows, truncation --------------------------------------


def test_crlf_line_endings(tmp_path: Path) -> None:
    t = read(tmp_path, "a.csv", f"{HEADER_EN}\r\nS1,2024-01-02,法律咨询,3\r\nS2,2024-01-03,法律咨询,4\r\n")
    assert rows(t, "service_id", "people_served", LINE) == [("S1", "3", 2), ("S2", "4", 3)]


def test_blank_lines_are_skipped_and_line_numbers_stay_exact(tmp_path: Path) -> None:
    text = f"{HEADER_EN}\n\nS1,2024-01-02,法律咨询,3\n\n\n,,,\n  , ,\u3000,\nS2,2024-01-03,法律咨询,4\n\n"
    t = read(tmp_path, "a.csv", text)
    assert rows(t, "service_id", LINE, MALFORMED) == [("S1", 3, False), ("S2", 8, False)]


def test_blank_cells_become_null_and_other_values_are_untouched(tmp_path: Path) -> None:
    text = f"{HEADER_EN},律师\n  S1 ,,\u3000, 3,\x1c\n"
    t = read(tmp_path, "a.csv", text)
    assert rows(t, *VALUE_COLUMNS, "lawyer_name") == [("  S1 ", None, None, " 3", None)]


def test_quoted_fields_with_commas_quotes_and_newlines(tmp_path: Path) -> None:
    text = (
        f"{HEADER_EN},律师\n"
        'S1,2024-01-02,"法律,咨询",3,"王""五"""\n'
        'S2,2024-01-03,法律咨询,4,"第一行\n第二行\r\n第三行"\n'
        "S3,2024-01-04,法律咨询,5,\n"
    )
    t = read(tmp_path, "a.csv", text)
    # No column allows a line break: the record over lines 3-5 is not kept, each of its
    # lines is a broken row of its own (split alone, its stray quote read as text).
    assert rows(t, "service_id", "service_type", "lawyer_name", LINE, BROKEN) == [
        ("S1", "法律,咨询", '王"五"', 2, False),
        ("S2", "法律咨询", '"第一行', 3, True),
        ("第二行", None, None, 4, True),
        ('第三行"', None, None, 5, True),
        ("S3", "法律咨询", None, 6, False),
    ]


def test_ragged_rows_are_malformed_and_keep_what_maps(tmp_path: Path) -> None:
    text = (
        f"{HEADER_EN}\n"
        "S1,2024-01-02,法律咨询\n"  # one field short
        "S2,2024-01-03,法律咨询,4,surplus\n"  # text beyond the header
        "S3,2024-01-04,法律咨询,5,,  \n"  # only blanks beyond the header: not malformed
        "S4,2024-01-05,法律咨询,6\n"
    )
    t = read(tmp_path, "a.csv", text)
    assert rows(t) == [
        ("S1", "2024-01-02", "法律咨询", None, 2, True),
        ("S2", "2024-01-03", "法律咨询", "4", 3, True),
        ("S3", "2024-01-04", "法律咨询", "5", 4, False),
        ("S4", "2024-01-05", "法律咨询", "6", 5, False),
    ]


def test_a_short_row_of_blanks_is_a_blank_line_not_a_malformed_row(tmp_path: Path) -> None:
    t = read(tmp_path, "a.csv", f"{HEADER_EN}\n  \n,\nS1,2024-01-02,法律咨询,3\n")
    assert rows(t, "service_id", LINE, MALFORMED) == [("S1", 4, False)]


def test_a_row_with_text_only_beyond_the_header_is_kept_as_malformed(tmp_path: Path) -> None:
    t = read(tmp_path, "a.csv", f"{HEADER_EN}\n,,,,stray\nS1,2024-01-02,法律咨询,3\n")
    assert rows(t, "service_id", LINE, MALFORMED) == [(None, 2, True), ("S1", 3, False)]


def test_truncated_last_line_is_rejected(tmp_path: Path) -> None:
    e = rejected(tmp_path, "a.csv", f"{HEADER_EN}\nS1,2024-01-02,法律咨询,3\nS2,2024-0")
    assert e.code == "file.truncated"


def test_unterminated_quote_at_the_end_is_truncated(tmp_path: Path) -> None:
    for tail in ('S2,2024-01-03,法律咨询,"4', 'S2,2024-01-03,"法律\n咨询,"4'):
        e = rejected(tmp_path, "a.csv", f"{HEADER_EN}\nS1,2024-01-02,法律咨询,3\n{tail}")
        assert e.code == "file.truncated"


def test_a_quote_left_open_before_a_final_line_break_is_a_stray_quote(tmp_path: Path) -> None:
    t = read(tmp_path, "a.csv", f'{HEADER_EN}\nS1,2024-01-02,法律咨询,3\nS2,2024-01-03,"法律\n咨询,4\n')
    assert rows(t, "service_id", LINE, BROKEN) == [("S1", 2, False), ("S2", 3, True), ("咨询", 4, True)]


def test_a_complete_last_line_without_final_newline_is_fine(tmp_path: Path) -> None:
    t = read(tmp_path, "a.csv", f"{HEADER_EN}\nS1,2024-01-02,法律咨询,3\nS2,2024-01-03,法律咨询,4")
    assert rows(t, "service_id", "people_served", LINE) == [("S1", "3", 2), ("S2", "4", 3)]


def test_a_short_last_row_ending_with_a_newline_is_malformed_not_truncated(tmp_path: Path) -> None:
    t = read(tmp_path, "a.csv", f"{HEADER_EN}\nS1,2024-01-02,法律咨询,3\nS2,2024-01-03\n")
    assert rows(t, "service_id", LINE, MALFORMED)[-1] == ("S2", 3, True)


# --- CSV: headers ------------------------------------------------------------------------------


def test_trailing_empty_header_columns_are_dropped(tmp_path: Path) -> None:
    text = f"{HEADER_ZH},,,\nS1,2024-01-02,法律咨询,3,,,\nS2,2024-01-03,法律咨询,4\n"
    t = read(tmp_path, "a.csv", text)
    assert t.frame.columns == [*VALUE_COLUMNS, LINE, MALFORMED]
    assert rows(t, "service_id", MALFORMED) == [("S1", False), ("S2", False)]


def test_full_width_and_spaced_headers(tmp_path: Path) -> None:
    text = "ｓｅｒｖｉｃｅ＿ｉｄ, 服务日期 ,\u3000服务类型,ＰＥＯＰＬＥ＿ＳＥＲＶＥＤ\nS1,2024-01-02,法律咨询,3\n"
    t = read(tmp_path, "a.csv", text)
    assert rows(t, *VALUE_COLUMNS) == [("S1", "2024-01-02", "法律咨询", "3")]
    assert t.headers["service_date"] == " 服务日期 "


def test_english_and_mixed_case_headers(tmp_path: Path) -> None:
    t = read(tmp_path, "a.csv", "Service_Id,SERVICE_DATE,service_type,People_Served\nS1,2024-01-02,法律咨询,3\n")
    assert rows(t, *VALUE_COLUMNS) == [("S1", "2024-01-02", "法律咨询", "3")]


def test_extra_columns_are_kept_and_contract_columns_come_first(tmp_path: Path) -> None:
    text = "备注,服务编号,服务日期,服务类型,服务人次,街道代码, 联系电话 \nnote,S1,2024-01-02,法律咨询,3,110101001,x\n"
    t = read(tmp_path, "a.csv", text)
    assert t.frame.columns == [
        "service_id", "street_code", "service_date", "service_type", "people_served",
        "备注", "联系电话", LINE, MALFORMED,
    ]
    assert t.extra_columns == ("备注", "联系电话")
    assert rows(t, "备注", "联系电话", "street_code") == [("note", "x", "110101001")]


def test_duplicate_column(tmp_path: Path) -> None:
    e = rejected(tmp_path, "a.csv", f"{HEADER_ZH},Service_Date\nS1,2024-01-02,法律咨询,3,x\n")
    assert (e.code, e.column) == ("file.duplicate_column", "service_date")


def test_missing_required_column(tmp_path: Path) -> None:
    e = rejected(tmp_path, "a.csv", "服务编号,服务日期,服务人次\nS1,2024-01-02,3\n")
    assert (e.code, e.column) == ("file.missing_column", "service_type")


def test_no_header_when_data_is_in_row_1(tmp_path: Path) -> None:
    e = rejected(tmp_path, "a.csv", "S1,2024-01-02,法律咨询,3\nS2,2024-01-03,法律咨询,4\n")
    assert e.code == "file.no_header"


@pytest.mark.parametrize("data", [b"", b"   \r\n\n\t ", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n\n"])
def test_empty_or_whitespace_file(tmp_path: Path, data: bytes) -> None:
    assert rejected(tmp_path, "a.csv", data).code == "file.empty"


@pytest.mark.parametrize("body", ["", "\n\n", ",,,\n , ,\n"])
def test_header_without_data_rows_is_empty(tmp_path: Path, body: str) -> None:
    assert rejected(tmp_path, "a.csv", f"{HEADER_ZH}\n{body}").code == "file.empty"


# --- formats and unreadable files ------------------------------------------------------------


@pytest.mark.parametrize("name", ["a.xlsb", "a.txt", "a.csv.gz", "noext", "a.json", "a.numbers"])
def test_unsupported_format(tmp_path: Path, name: str) -> None:
    assert rejected(tmp_path, name, f"{HEADER_ZH}\nS1,2024-01-02,法律咨询,3\n").code == "file.unsupported_format"


def test_extension_case_does_not_matter(tmp_path: Path) -> None:
    assert read(tmp_path, "A.CSV", f"{HEADER_ZH}\nS1,2024-01-02,法律咨询,3\n").frame.height == 1


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(FileRejected) as info:
        read_submission(tmp_path / "gone.csv", LEGAL)
    assert info.value.code == "file.unreadable"


def test_a_directory_is_unreadable_without_naming_the_path(tmp_path: Path) -> None:
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(FileRejected) as info:
        read_submission(tmp_path / "dir.csv", LEGAL)
    assert info.value.code == "file.unreadable"
    assert str(tmp_path) not in info.value.detail


# --- fast path vs slow path ------------------------------------------------------------------

EQUIVALENCE_FILES: dict[str, tuple[str, str]] = {
    "regular": (f"{HEADER_ZH},律师\n" + "".join(f"S{i},2024-01-02,法律咨询,{i}, \n" for i in range(30)), "utf-8"),
    "regular_crlf_no_final_newline": (
        f"{HEADER_EN},备注\r\n" + "\r\n".join(f'S{i},2024-01-02,"法律,咨询",{i},"x""y"' for i in range(30)), "utf-8"),
    "regular_bom_trailing_blank_lines": ("\ufeff" + f"{HEADER_ZH},,\n" + "S1,2024-01-02,法律咨询,1,,\n" * 3 + "\n\n", "utf-8"),
    "regular_gbk": (f"{HEADER_ZH}\n" + "".join(f"S{i},2024-01-02,法律咨询,{i}\n" for i in range(30)), "gbk"),
    "regular_blank_rows_and_cells": (f"{HEADER_EN}\nS1,,法律咨询, \n,,,\n\u3000,,,\nS2,2024,x,1\n", "utf-8"),
    "regular_surplus_text": (f"{HEADER_EN},,\nS1,a,b,c,,\nS2,a,b,c,,stray\n", "utf-8"),
    "blank_line_inside": (f"{HEADER_EN}\nS1,a,b,c\n\nS2,a,b,c\n", "utf-8"),
    "quoted_newline": (f'{HEADER_EN}\nS1,a,"b\nc",d\nS2,a,b,c\n', "utf-8"),
    "ragged_short": (f"{HEADER_EN}\nS1,a,b\nS2,a,b,c\n", "utf-8"),
    "ragged_long": (f"{HEADER_EN}\nS1,a,b,c,d\nS2,a,b,c\n", "utf-8"),
    "bare_cr": (f"{HEADER_EN}\rS1,a,b,c\rS2,a,b,c\r", "utf-8"),
    "gbk_ragged": (f"{HEADER_ZH}\nS1,a,法律\nS2,a,b,c\n", "gbk"),
    "truncated": (f"{HEADER_EN}\nS1,a,b,c\nS2,a", "utf-8"),
    "open_quote": (f'{HEADER_EN}\nS1,a,b,c\nS2,a,b,"c\n', "utf-8"),
}
REGULAR = [k for k in EQUIVALENCE_FILES if k.startswith("regular")]


def outcome(path: Path, fast: bool) -> Any:
    try:
        t = read_submission(path, LEGAL, fast=fast)
    except FileRejected as e:
        return ("rejected", e.code, e.column)
    return (t.frame.to_dicts(), t.frame.schema, t.encoding, t.headers, t.extra_columns)


@pytest.mark.parametrize("chunk", [16 * 1024 * 1024, 1, 5])
@pytest.mark.parametrize("name", list(EQUIVALENCE_FILES))
def test_fast_and_slow_paths_give_the_same_table(
    tmp_path: Path, name: str, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(encoding_mod, "CHUNK_BYTES", chunk)
    text, encoding = EQUIVALENCE_FILES[name]
    path = write(tmp_path, "a.csv", text, encoding)
    assert outcome(path, fast=True) == outcome(path, fast=False)


@pytest.mark.parametrize("chunk", [16 * 1024 * 1024, 1, 2, 7])
@pytest.mark.parametrize("name", REGULAR)
def test_regular_files_take_the_fast_path(
    tmp_path: Path, name: str, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, encoding = EQUIVALENCE_FILES[name]
    path = write(tmp_path, "a.csv", text, encoding)
    expected = outcome(path, fast=False)
    monkeypatch.setattr(encoding_mod, "CHUNK_BYTES", chunk)  # line breaks split across chunks

    def no_slow_path(*args: object) -> None:
        raise AssertionError("the slow path was used")

    monkeypatch.setattr(csv_file, "_csv_slow", no_slow_path)
    assert outcome(path, fast=True) == expected


def test_the_fast_path_is_tried_by_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "a.csv", EQUIVALENCE_FILES["regular"][0])
    monkeypatch.setattr(csv_file, "_csv_slow", lambda *a: pytest.fail("slow path used"))
    monkeypatch.setattr(csv_file, "FAST_PATH_MIN_BYTES", path.stat().st_size)
    assert read_submission(path, LEGAL).frame.height == 30


def test_small_files_take_the_slow_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "a.csv", EQUIVALENCE_FILES["regular"][0])
    monkeypatch.setattr(csv_file, "_csv_fast", lambda *a, **k: pytest.fail("fast path used"))
    assert read_submission(path, LEGAL).frame.height == 30


def test_transcoding_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    path = write(tmp_path, "a.csv", *EQUIVALENCE_FILES["regular_gbk"])
    assert read_submission(path, LEGAL, fast=True).encoding == "gb18030"
    assert list(scratch.iterdir()) == []


def random_csv(rng: random.Random) -> bytes:
    """A small CSV that is regular most of the time, with the irregularities the two
    paths must agree on sprinkled in."""
    cells = ["S1", "", " ", "法律咨询", '"a,b"', '"x""y"', '"m\nn"', "\u3000", "2024-01-02", "q"]
    width = 4 + rng.randrange(2)
    header = ",".join(["service_id", "service_date", "service_type", "people_served", "备注"][:width])
    out = [header]
    for _ in range(rng.randrange(1, 12)):
        n = width if rng.random() < 0.85 else rng.choice([width - 1, width + 1, 1])
        weights = [1 if c.startswith('"m') else 10 for c in cells]
        out.append(",".join(rng.choices(cells, weights=weights, k=n)))
        if rng.random() < 0.05:
            out.append("")
    eol = rng.choice(["\n", "\r\n"])
    text = eol.join(out) + (eol if rng.random() < 0.8 else "")
    return text.encode(rng.choice(["utf-8", "utf-8-sig", "gbk"]))


def test_fast_and_slow_paths_agree_on_random_files(tmp_path: Path) -> None:
    rng = random.Random(20240101)
    for i in range(300):
        path = write(tmp_path, f"r{i}.csv", random_csv(rng))
        assert outcome(path, fast=True) == outcome(path, fast=False), path.read_bytes()


def test_blank_means_python_whitespace_on_both_paths(tmp_path: Path) -> None:
    import sys

    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace() and chr(c) not in "\r\n"]
    body = "".join(f"S{i},{ch}{ch},x{ch},1\n" for i, ch in enumerate(spaces))
    path = write(tmp_path, "a.csv", f"{HEADER_EN}\n{body}")
    for fast in (False, True):
        t = read_submission(path, LEGAL, fast=fast)
        assert t.frame["service_date"].null_count() == len(spaces)
        assert t.frame["service_type"].null_count() == 0


# --- XLSX --------------------------------------------------------------------------------------


def xlsx(tmp_path: Path, sheet_rows: list[list[Any]], name: str = "a.xlsx") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in sheet_rows:
        ws.append(row)
    path = tmp_path / name
    wb.save(path)
    return path


def test_xlsx_values_dates_serials_blank_rows_and_line_numbers(tmp_path: Path) -> None:
    path = xlsx(tmp_path, [
        ["服务编号", "服务日期", "服务类型", "服务人次", "律师", "备注"],
        ["S1", date(2024, 1, 2), "法律咨询", 3, "张伟", 12.5],
        [],
        [None, "   ", None],
        ["S2", 45292, "法律咨询", 4.0, None, True],  # serial 45292 = 2024-01-01
        ["S3", datetime(2024, 3, 5, 0, 0), "法律咨询", 7, "李四", False],
        ["S4", datetime(2024, 3, 5, 9, 30), "法律咨询", 1e15, " ", 0.1],
        ["S5", "2024/3/6", "法律咨询", "8", None, "-x"],
    ])
    t = read_submission(path, LEGAL)
    assert (t.encoding, t.file_format) == ("xlsx", "xlsx")
    assert rows(t, *VALUE_COLUMNS, "lawyer_name", "备注", LINE, MALFORMED) == [
        ("S1", "2024-01-02", "法律咨询", "3", "张伟", "12.5", 2, False),
        ("S2", "2024-01-01", "法律咨询", "4", None, "true", 5, False),
        ("S3", "2024-03-05", "法律咨询", "7", "李四", "false", 6, False),
        ("S4", "2024-03-05 09:30:00", "法律咨询", "1000000000000000", None, "0.1", 7, False),
        ("S5", "2024/3/6", "法律咨询", "8", None, "-x", 8, False),
    ]


def test_xlsx_datetime_columns_keep_the_time(tmp_path: Path) -> None:
    path = xlsx(tmp_path, [
        ["工单编号", "派单时间", "诉求类别", "办理时限", "是否满意"],
        ["T1", datetime(2024, 5, 1, 8, 0, 0), "欠薪", 45413.5, 1],
        ["T2", datetime(2024, 5, 2), "欠薪", date(2024, 5, 9), None],
    ])
    t = read_submission(path, TICKETS)
    assert t.frame.select("ticket_id", "received_at", "deadline_at", "satisfied").rows() == [
        ("T1", "2024-05-01 08:00:00", "2024-05-01 12:00:00", "1"),
        ("T2", "2024-05-02 00:00:00", "2024-05-09 00:00:00", None),
    ]


def test_xlsx_cells_beyond_the_header_make_a_row_malformed(tmp_path: Path) -> None:
    path = xlsx(tmp_path, [
        ["服务编号", "服务日期", "服务类型", "服务人次"],
        ["S1", "2024-01-02", "法律咨询", 3, "stray"],
        ["S2", "2024-01-02", "法律咨询", 3, None, " "],
        ["S3", "2024-01-02"],
    ])
    t = read_submission(path, LEGAL)
    assert rows(t, "service_id", "people_served", LINE, MALFORMED) == [
        ("S1", "3", 2, True), ("S2", "3", 3, False), ("S3", None, 4, False),
    ]


def test_xlsx_header_rules(tmp_path: Path) -> None:
    cases = {
        "file.no_header": [["S1", "2024-01-02", "法律咨询", 3]],
        "file.missing_column": [["服务编号", "服务日期", "服务人次"], ["S1", "2024-01-02", 3]],
        "file.empty": [["服务编号", "服务日期", "服务类型", "服务人次"], [], [None, " "]],
    }
    for code, sheet_rows in cases.items():
        with pytest.raises(FileRejected) as info:
            read_submission(xlsx(tmp_path, sheet_rows), LEGAL)
        assert info.value.code == code


def test_xlsx_blank_first_row_is_no_header_and_an_empty_sheet_is_empty(tmp_path: Path) -> None:
    with pytest.raises(FileRejected) as info:
        read_submission(xlsx(tmp_path, [[], ["服务编号", "服务日期", "服务类型", "服务人次"], ["S1", "a", "b", 1]]), LEGAL)
    assert info.value.code == "file.no_header"
    with pytest.raises(FileRejected) as info:
        read_submission(xlsx(tmp_path, []), LEGAL)
    assert info.value.code == "file.empty"


def test_xlsx_reads_the_first_sheet_and_rejects_data_on_another(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    first = wb.active
    first.append(["服务编号", "服务日期", "服务类型", "服务人次"])
    first.append(["S1", "2024-01-02", "法律咨询", 3])
    other = wb.create_sheet("other")
    other.append([None, " "])  # blank cells only: nothing is lost
    wb.save(tmp_path / "a.xlsx")
    assert read_submission(tmp_path / "a.xlsx", LEGAL).frame["service_id"].to_list() == ["S1"]
    other.append(["nothing", "here"])  # rows on sheet 2 would be lost: the workbook is rejected
    wb.save(tmp_path / "a.xlsx")
    with pytest.raises(FileRejected) as info:
        read_submission(tmp_path / "a.xlsx", LEGAL)
    assert (info.value.code, info.value.detail) == ("file.extra_sheet", "sheet 2 of 2")


def test_corrupt_xlsx_is_unreadable(tmp_path: Path) -> None:
    good = xlsx(tmp_path, [["服务编号", "服务日期", "服务类型", "服务人次"], ["S1", "a", "b", 1]]).read_bytes()
    broken = {
        "not_a_zip.xlsx": b"PK\x03\x04 this is not really a workbook",
        "text.xlsx": "服务编号,服务日期\n".encode(),
        "half.xlsx": good[: len(good) // 2],
        "empty.xlsx": b"",
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "a zip that is not a workbook")
    broken["other_zip.xlsx"] = buf.getvalue()
    for name, data in broken.items():
        with pytest.raises(FileRejected) as info:
            read_submission(write(tmp_path, name, data), LEGAL)
        assert info.value.code == "file.unreadable", name
        assert "服务" not in info.value.detail


# --- JSONL -------------------------------------------------------------------------------------


def jsonl(*objects: Any) -> str:
    return "".join((o if isinstance(o, str) else json.dumps(o, ensure_ascii=False)) + "\n" for o in objects)


def test_jsonl_values_keys_and_line_numbers(tmp_path: Path) -> None:
    text = jsonl(
        {"服务编号": "S1", "service_date": "2024-01-02", "service_type": "法律咨询", "people_served": 3},
        "",
        {"服务编号": "S2", "service_date": None, "service_type": " ", "people_served": 4.0,
         "备注": {"a": [1, "二"]}, "flag": True},
        {"服务编号": "S3", "service_date": "2024-01-04", "service_type": "x", "people_served": 12.5,
         "flag": False, "备注": 1e-7},
    )
    t = read(tmp_path, "a.jsonl", text)
    assert (t.encoding, t.file_format) == ("utf-8", "jsonl")
    assert t.extra_columns == ("备注", "flag")
    assert t.headers["service_id"] == "服务编号"
    assert rows(t, *VALUE_COLUMNS, "备注", "flag", LINE, MALFORMED) == [
        ("S1", "2024-01-02", "法律咨询", "3", None, None, 1, False),
        ("S2", None, None, "4", '{"a": [1, "二"]}', "true", 3, False),
        ("S3", "2024-01-04", "x", "12.5", "0.0000001", "false", 4, False),
    ]


def test_jsonl_bad_lines_are_malformed_rows(tmp_path: Path) -> None:
    good = {"service_id": "S1", "service_date": "2024-01-02", "service_type": "x", "people_served": 1}
    text = jsonl(good, '{"service_id": "S2", oops}', "[1, 2]", '"just a string"', good)
    t = read(tmp_path, "a.jsonl", text)
    assert rows(t, "service_id", LINE, MALFORMED) == [
        ("S1", 1, False), (None, 2, True), (None, 3, True), (None, 4, True), ("S1", 5, False),
    ]


def test_jsonl_truncated_last_line(tmp_path: Path) -> None:
    good = {"service_id": "S1", "service_date": "2024-01-02", "service_type": "x", "people_served": 1}
    e = rejected(tmp_path, "a.jsonl", jsonl(good) + '{"service_id": "S2", "service_da')
    assert e.code == "file.truncated"


def test_jsonl_complete_last_line_without_newline_is_fine(tmp_path: Path) -> None:
    good = {"service_id": "S1", "service_date": "2024-01-02", "service_type": "x", "people_served": 1}
    t = read(tmp_path, "a.jsonl", jsonl(good) + json.dumps(good))
    assert lines(t) == [1, 2]


def test_jsonl_gbk_and_crlf(tmp_path: Path) -> None:
    text = jsonl({"服务编号": "S1", "服务日期": "2024-01-02", "服务类型": "法律咨询", "服务人次": "3"})
    t = read(tmp_path, "a.jsonl", text.replace("\n", "\r\n"), encoding="gbk")
    assert t.encoding == "gb18030"
    assert rows(t, "service_type", LINE) == [("法律咨询", 1)]


def test_jsonl_file_rules(tmp_path: Path) -> None:
    assert rejected(tmp_path, "a.jsonl", "\n \n").code == "file.empty"
    assert rejected(tmp_path, "a.jsonl", "not json\n[1]\n").code == "file.unreadable"
    e = rejected(tmp_path, "a.jsonl", jsonl({"service_id": "S1", "service_date": "2024-01-02"}))
    assert (e.code, e.column) == ("file.missing_column", "service_type")
    e = rejected(tmp_path, "a.jsonl", jsonl({"a": 1, "b": 2}))
    assert e.code == "file.no_header"
    e = rejected(tmp_path, "a.jsonl", jsonl({"service_id": "S1"}, {"服务编号": "S2"}))
    assert (e.code, e.column) == ("file.duplicate_column", "service_id")
    e = rejected(tmp_path, "a.jsonl", b'{"service_id": "\xff"}\n')
    assert e.code == "file.encoding"
