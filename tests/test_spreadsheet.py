"""Formula-safe cells and the streaming xlsx writer."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from pipelines import spreadsheet
from pipelines.spreadsheet import StreamingWorkbook, csv_safe, is_formula_like

EVIL = '=HYPERLINK("http://evil","x")'


@pytest.mark.parametrize(
    "text",
    [
        EVIL,
        "=1+1",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1",
        "\r=1",
        "\tabc",
        "  =A1",
        "\u3000=A1",
        "＝SUM(A1)",
        "－A1",
        "-A1",
        "+A1",
        "@x",
    ],
)
def test_formula_like_values(text: str) -> None:
    assert is_formula_like(text)
    assert csv_safe(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["", "张三", "a=b", "110101199005170012", "-5", "+1.5", "-1,234.50", "+86", "1e5", "5%"]
)
def test_plain_values_are_left_alone(text: str) -> None:
    assert not is_formula_like(text)
    assert csv_safe(text) == text


def _sheet_xml(path: Path, n: int = 1) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(f"xl/worksheets/sheet{n}.xml").decode()


def test_text_is_written_as_text_never_a_formula(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    with StreamingWorkbook(target) as wb:
        sheet = wb.add_sheet("a")
        sheet.write_row([EVIL, "=1+1", "@SUM(A1)", "-2+3", "plain", "-5"])
    xml = _sheet_xml(target)
    assert "<f>" not in xml and "<f " not in xml  # no formula anywhere in the sheet
    ws = openpyxl.load_workbook(target).worksheets[0]
    cells = list(ws[1])
    assert [c.value for c in cells] == [EVIL, "=1+1", "@SUM(A1)", "-2+3", "plain", "-5"]
    assert all(c.data_type == "s" for c in cells)
    # formula-like text also carries Excel's quote prefix, so re-entering it keeps it text
    assert [c.quotePrefix for c in cells] == [True, True, True, True, False, False]


def test_values_get_the_right_cell_types(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    with StreamingWorkbook(target) as wb:
        wb.add_sheet("a").write_row(
            [
                1,
                2.5,
                Decimal("3.25"),
                True,
                date(2015, 7, 1),
                datetime(2015, 7, 1, 9, 30),
                None,
                "x",
            ]
        )
    ws = openpyxl.load_workbook(target).worksheets[0]
    values = [c.value for c in ws[1]]
    assert values[:4] == [1, 2.5, 3.25, True]
    assert values[4] == datetime(2015, 7, 1) and ws["E1"].number_format == "yyyy-mm-dd"
    assert values[5] == datetime(2015, 7, 1, 9, 30) and ws["F1"].is_date
    assert values[6:] == [None, "x"]


def test_an_overlong_value_is_cut_to_what_a_cell_holds(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    with StreamingWorkbook(target) as wb:
        wb.add_sheet("a").write_row(["x" * 40_000])
    value = openpyxl.load_workbook(target).worksheets[0]["A1"].value
    assert len(value) == spreadsheet.MAX_CELL_CHARS and value.endswith("…")


def test_the_file_appears_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    with pytest.raises(RuntimeError), StreamingWorkbook(target) as wb:
        wb.add_sheet("a").write_row(["partial"])
        raise RuntimeError("crash while writing")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind either
    target.write_bytes(b"previous")
    with pytest.raises(RuntimeError), StreamingWorkbook(target) as wb:
        raise RuntimeError("crash")
    assert target.read_bytes() == b"previous"  # an earlier version stays until replaced


def test_rows_of_a_sheet_go_in_order_and_a_full_table_continues_on_a_new_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 3)
    target = tmp_path / "out.xlsx"
    with StreamingWorkbook(target) as wb:
        table = wb.add_table("明细", ["a", "b"])
        for i in range(5):
            table.append([i, f"v{i}"])
        assert table.rows == 5
    wb2 = openpyxl.load_workbook(target)
    assert wb2.sheetnames == ["明细", "明细 (2)", "明细 (3)"]
    got = [r for ws in wb2 for r in ws.iter_rows(values_only=True)]
    assert got == [
        ("a", "b"),
        (0, "v0"),
        (1, "v1"),
        ("a", "b"),
        (2, "v2"),
        (3, "v3"),
        ("a", "b"),
        (4, "v4"),
    ]


def test_a_full_sheet_refuses_more_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 2)
    with StreamingWorkbook(tmp_path / "out.xlsx") as wb:
        sheet = wb.add_sheet("a")
        sheet.write_row(["1"])
        sheet.write_row(["2"])
        with pytest.raises(OverflowError):
            sheet.write_row(["3"])


def test_sheet_names_are_made_valid_and_unique(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    with StreamingWorkbook(target) as wb:
        for name in ("职工之家/职工书屋/创新工作室", "a" * 40, "a" * 40, "x:y"):
            wb.add_sheet(name)
    names = openpyxl.load_workbook(target).sheetnames
    assert names[0] == "职工之家_职工书屋_创新工作室"
    assert len(set(names)) == 4 and all(len(n) <= 31 for n in names)
    assert names[3] == "x_y"
