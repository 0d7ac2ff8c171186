"""Formula-safe cells and the streaming xlsx writer."""

from __future__ import annotations

import random
import re
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


# --- the streaming sheet's own row writer against xlsxwriter's cell writer -----------------


class _Text(str):
    """A str subclass (e.g. a numpy or enum string) is written as its plain text."""


def _random_cell(rng: random.Random) -> tuple[object, dict | None]:
    pieces = ["张三", "a", " ", "\t", "\n", "&", "<", ">", '"', "_x0041_", "\x01", "\x1f", "😀", "=", "-",
              "@", "＝", "<r>", "</r>", "1", ".", "e", "\u3000"]
    kind = rng.randrange(12)
    if kind < 4:
        value: object = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 8)))
    elif kind == 4:
        value = rng.choice(["<r><t>x</t></r>", "<r></r></is><f>1+1</f><is><r></r>", _Text("文本")])
    elif kind == 5:
        value = rng.choice([0, -7, 2**40, 3.25, -0.1, 1e-12, 123456789.123456789, Decimal("9500.50")])
    elif kind == 6:
        value = rng.choice([True, False])
    elif kind == 7:
        value = date(2024, rng.randrange(1, 13), rng.randrange(1, 29))
    elif kind == 8:
        value = datetime(2024, 6, 30, rng.randrange(24), rng.randrange(60), tzinfo=None)
    elif kind == 9:
        value = "长" * rng.choice([10, spreadsheet.MAX_CELL_CHARS + 5]) + "😀" * rng.randrange(3)
    else:
        value = None
    style = rng.choice([None, None, {"bold": True}, {"num_format": "0.0%"}, {"bg_color": "#C6EFCE", "border": 1},
                        {"bold": True, "num_format": "yyyy-mm-dd"}])
    return value, style


def _canonical_sheet(path: Path, n: int) -> str:
    """Sheet ``n``'s XML with each style index replaced by what the style is (its cellXfs
    entry with the number format, font, fill and border it points to): two writers that
    number the same styles in another order give the same text."""
    with zipfile.ZipFile(path) as z:
        styles = z.read("xl/styles.xml").decode()
        sheet = z.read(f"xl/worksheets/sheet{n}.xml").decode()

    def items(tag: str, parent: str) -> list[str]:
        block = re.search(rf"<{parent}[^>]*>(.*?)</{parent}>", styles, re.S)
        return re.findall(rf"<{tag}\b.*?(?:/>|</{tag}>)", block.group(1), re.S) if block else []

    formats = dict(re.findall(r'<numFmt numFmtId="(\d+)" formatCode="([^"]*)"', styles))
    fonts, fills, borders = items("font", "fonts"), items("fill", "fills"), items("border", "borders")
    xfs = items("xf", "cellXfs")

    def described(match: re.Match[str]) -> str:
        xf = xfs[int(match.group(1))]
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', xf))
        what = (f'{formats.get(attrs.get("numFmtId", "0"), attrs.get("numFmtId"))}|'
                f'{fonts[int(attrs.get("fontId", 0))]}|{fills[int(attrs.get("fillId", 0))]}|'
                f'{borders[int(attrs.get("borderId", 0))]}|{"quotePrefix" in xf}')
        return ' style="' + what.replace('"', "'") + '"'  # one attribute, its quotes inside made single

    return re.sub(r' s="(\d+)"', described, sheet)


@pytest.mark.parametrize("seed", range(6))
def test_the_row_writer_writes_what_xlsxwriters_cell_writer_writes(tmp_path: Path, seed: int) -> None:
    """Random rows of every kind of cell (control characters, XML specials, edge spaces,
    astral characters, over-long texts, formula-like text, numbers, dates, booleans,
    styled and unstyled blanks), once through the streaming sheet's row writer and once
    cell by cell through xlsxwriter: the same sheet, style for style. Except a text that
    looks like xlsxwriter's rich-string markup, which only the row writer escapes."""
    rng = random.Random(seed)
    rows = [[_random_cell(rng) for _ in range(rng.randrange(1, 9))] for _ in range(60)]
    rich_like = [(r, c) for r, row in enumerate(rows) for c, (v, _) in enumerate(row)
                 if isinstance(v, str) and v.startswith("<r>") and v.endswith("</r>")]
    paths = {}
    for how in ("rows", "cells"):
        paths[how] = tmp_path / f"{how}.xlsx"
        with StreamingWorkbook(paths[how]) as wb:
            sheet = wb.add_sheet("s")
            sheet.set_widths([12] * 9)
            for row in rows:
                values, styles = [v for v, _ in row], [s for _, s in row]
                if how == "rows":
                    sheet.write_row(values, styles)
                else:
                    for col, (value, style) in enumerate(row):
                        if (sheet.next_row, col) in rich_like:  # refused by write_cell: xlsxwriter's raw path
                            sheet.ws.write_string(sheet.next_row, col, value, sheet._fmt(style))
                        else:
                            sheet.write_cell(sheet.next_row, col, value, style)  # type: ignore[arg-type]
                    sheet.next_row += 1
    by_rows, by_cells = _canonical_sheet(paths["rows"], 1), _canonical_sheet(paths["cells"], 1)
    for r, c in rich_like:  # xlsxwriter copies these raw; the row writer escapes them
        ref = f"{chr(ord('A') + c)}{r + 1}"
        cell = rf'<c r="{ref}"(?: style="[^"]*")? t="inlineStr"><is>.*?</is></c>'
        by_cells, found = re.subn(cell, "", by_cells, count=1, flags=re.S)
        assert found == 1
        by_rows, found = re.subn(cell, "", by_rows, count=1, flags=re.S)
        assert found == 1
    assert by_rows == by_cells
    read = openpyxl.load_workbook(paths["rows"], read_only=True)["s"]
    for r, row in enumerate(read.iter_rows(values_only=True)):
        for c, (value, _) in enumerate(rows[r]):
            # every text reads back as sent, markup-like included (openpyxl does not decode
            # Excel's _xHHHH_ escapes of control characters, so those are left out here)
            if isinstance(value, str) and not re.search(r"[\x01\x1f]|_x[0-9A-F]{4}_", value) and len(value) < 100:
                assert row[c] == value, (r, c)


def test_rows_and_single_cells_mix_in_order(tmp_path: Path) -> None:
    target = tmp_path / "mixed.xlsx"
    with StreamingWorkbook(target) as wb:
        sheet = wb.add_sheet("s")
        sheet.write_row(["a", 1])
        sheet.write_cell(1, 0, "b")  # held by xlsxwriter until the next row starts
        sheet.write_cell(1, 1, 2)
        sheet.next_row = 2
        sheet.write_row(["c", 3])
        sheet.write_cell(3, 0, "d")  # the last row: written when the file closes
    rows = list(openpyxl.load_workbook(target, read_only=True)["s"].iter_rows(values_only=True))
    assert rows == [("a", 1), ("b", 2), ("c", 3), ("d", None)]


@pytest.mark.parametrize("small", [False, True], ids=["streamed", "in_memory"])
def test_markup_shaped_text_is_text_cell_by_cell_and_row_by_row(tmp_path: Path, small: bool) -> None:
    """xlsxwriter copies a text shaped like its rich-string markup into the file
    unescaped (in the shared strings, or the sheet when streaming): a street's value could
    break the file or inject a formula. Whichever way it is written it stays text."""
    markup = "<r></r></is><f>1+1</f><is><r></r>"
    target = tmp_path / "x.xlsx"
    with StreamingWorkbook(target, small=small) as wb:
        sheet = wb.add_sheet("s")
        sheet.write_cell(0, 0, markup, {"bold": True})
        sheet.next_row = 1
        sheet.write_row([markup, "<r>x</r>"])
    with zipfile.ZipFile(target) as z:
        for name in z.namelist():
            assert "<f>" not in z.read(name).decode(errors="replace"), name
    rows = list(openpyxl.load_workbook(target)["s"].iter_rows(values_only=True))
    assert rows == [(markup, None), (markup, "<r>x</r>")]


def test_a_row_with_a_height_keeps_it_and_is_written_once(tmp_path: Path) -> None:
    target = tmp_path / "h.xlsx"
    with StreamingWorkbook(target) as wb:
        sheet = wb.add_sheet("s")
        sheet.ws.set_row(0, 30)
        sheet.write_row(["tall", 1])
        sheet.write_row(["next", 2])
    xml = _sheet_xml(target)
    assert xml.count('<row r="1"') == 1 and 'ht="30"' in xml and xml.count('<row r="2"') == 1
