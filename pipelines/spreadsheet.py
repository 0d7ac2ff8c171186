"""Spreadsheets the pipeline writes for people: formula-safe cells and a streaming writer.

Formula safety (submissions.md §2 rule 9: a value that begins with ``=``, ``+``, ``-``
or ``@`` is data, never a formula). Two defences, one per format:

* **XLSX** — text is always written as a *text cell* (xlsxwriter ``write_string``; never
  ``write``, which turns ``=…`` into a formula), so no spreadsheet program evaluates it
  when the file is opened. A text that a spreadsheet program *would* take for a formula
  if someone re-typed it (:func:`is_formula_like`) additionally gets Excel's
  ``quotePrefix`` style, the flag Excel sets itself when a clerk types a leading
  apostrophe: pressing F2 and Enter on the cell keeps it text. The cell's value stays
  exactly the original text (nothing is prepended), so receipts and exports show what
  the street really sent, and reading the file back gives the same string.
* **CSV** has no cell types, so the text itself must change: :func:`csv_safe` prefixes
  a formula-like value with an apostrophe (the OWASP "CSV injection" convention).

:class:`StreamingWorkbook` wraps xlsxwriter in ``constant_memory`` mode: each sheet is
written row by row to a temporary file and only the current row is held in memory,
so a sheet of a million rows costs what a sheet of ten does. Rows of a sheet must be
written in order (:class:`StreamingSheet` enforces it); sheets may be interleaved. The
workbook is written under a temporary name next to its target and renamed into place
when complete, so a reader (or a crash) never sees half a file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import _preserve_whitespace, _utf16_len, _utf16_truncate, xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from pipelines.files import move_into_place, temp_beside

Cell = str | int | float | Decimal | bool | date | datetime | None

MAX_ROWS = 1_048_576  # rows per worksheet (Excel's limit)
MAX_CELL_CHARS = 32_767  # characters per cell (Excel's limit)
MAX_SHEET_NAME = 31

# Leading characters that make a spreadsheet program read a cell as a formula (or a DDE
# call): the four of the contract, their full-width forms (CJK input methods produce them
# and CJK Excel converts them), and the control characters some programs strip first.
_TRIGGERS = frozenset("=+-@＝＋－＠")
_STRIPPED = " \t\r\n\u3000"
_PLAIN_NUMBER = re.compile(r"[+-]?(\d[\d,]*)?(\.\d+)?([eE][+-]?\d+)?%?")

WORKBOOK_OPTIONS: dict[str, Any] = {
    "constant_memory": True,
    # text is text: never turned into formulas, numbers or hyperlinks behind our back
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


# the kinds of cell StreamingSheet._prepared tells apart
_TEXT, _NUMBER, _DATETIME, _BOOLEAN, _BLANK = "text", "number", "datetime", "boolean", "blank"
_XML_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f]|_x[0-9a-fA-F]{4}_")
MAX_CELL_UTF16 = 32_767  # what xlsxwriter keeps of a text, in UTF-16 units
_COLUMN_NAMES = [xl_col_to_name(c) for c in range(256)]  # A, B, ..., IV: the columns tables use


def _inline_string(ws: Worksheet, text: str, attrs: str) -> str:
    """The ``<c>`` element of an inline text cell, as xlsxwriter's streaming mode writes
    one (control characters as ``_xHHHH_``, ``xml:space`` kept for edge whitespace)."""
    if len(text) > MAX_CELL_UTF16 // 2 and _utf16_len(text) > MAX_CELL_UTF16:
        text = _utf16_truncate(text, MAX_CELL_UTF16)
    if _XML_SPECIAL.search(text):
        text = ws._escape_control_characters(text)
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
    return f'<c{attrs} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet program could take ``text`` for a formula: it begins (after
    any spaces, tabs or line breaks) with ``=``, ``+``, ``-`` or ``@`` (half- or
    full-width), or with a tab or carriage return, and it is not simply a number such as
    ``-5`` or ``+1,234.50``."""
    if not text:
        return False
    if text[0] in "\t\r":
        return True
    stripped = text.lstrip(_STRIPPED)
    if not stripped or stripped[0] not in _TRIGGERS:
        return False
    return not (stripped[0] in "+-" and _is_plain_number(stripped))


def _is_plain_number(text: str) -> bool:
    return any(ch.isdigit() for ch in text) and _PLAIN_NUMBER.fullmatch(text) is not None


def csv_safe(text: str) -> str:
    """``text`` for a CSV cell that goes back to a spreadsheet: a formula-like value is
    prefixed with an apostrophe so it is shown, not evaluated."""
    return "'" + text if is_formula_like(text) else text


def cell_text(text: str) -> str:
    """``text`` cut to what one cell can hold."""
    if len(text) <= MAX_CELL_CHARS:
        return text
    return text[: MAX_CELL_CHARS - 1] + "…"


class StreamingWorkbook:
    """An xlsx workbook written row by row in bounded memory, then renamed into place.

    Use as a context manager: on a clean exit the file is closed and renamed to
    ``target``; on an exception the temporary file is removed and ``target`` is left as
    it was. ``formats`` are cached by their properties. ``small=True`` is for a workbook
    known to be small (a few thousand rows): it is assembled in memory instead of
    through xlsxwriter's temporary files, which costs far less time per workbook."""

    def __init__(
        self, target: Path, properties: Mapping[str, Any] | None = None, *, small: bool = False
    ) -> None:
        self.target = target
        self.tmp = temp_beside(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        options = dict(WORKBOOK_OPTIONS)
        if small:  # assembled in memory: no temporary files, several times faster
            options.update(constant_memory=False, in_memory=True)
        self.book = xlsxwriter.Workbook(str(self.tmp), options)
        if properties:
            self.book.set_properties(dict(properties))
        self._formats: dict[tuple[tuple[str, Any], ...], Format] = {}
        self._sheet_names: set[str] = set()

    def format(self, **props: Any) -> Format:
        return self.format_of(props)

    def format_of(self, props: Mapping[str, Any]) -> Format:
        """The format with ``props``, made once per distinct set of properties. Looked up
        first as the properties come (a table's cells repeat a few styles, built the same
        way each time), then in sorted order, so the same set in another order is the same
        format."""
        as_given = tuple(props.items())
        found = self._formats.get(as_given)
        if found is None:
            key = tuple(sorted(as_given))
            found = self._formats.get(key)
            if found is None:
                found = self._formats[key] = self.book.add_format(dict(props))
            self._formats[as_given] = found
        return found

    def add_sheet(self, name: str) -> StreamingSheet:
        name = _sheet_name(name, self._sheet_names)
        self._sheet_names.add(name)
        return StreamingSheet(self, self.book.add_worksheet(name))

    def add_table(
        self, name: str, headers: Sequence[str], widths: Sequence[float] | None = None
    ) -> StreamingTable:
        return StreamingTable(self, name, headers, widths)

    def close(self) -> None:
        """Finish the file and rename it into place."""
        self.book.close()
        move_into_place(self.tmp, self.target)

    def abort(self) -> None:
        with suppress(Exception):  # the file is discarded anyway
            self.book.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> StreamingWorkbook:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _sheet_name(name: str, taken: set[str]) -> str:
    cleaned = re.sub(r"[\[\]:*?/\\]", "_", name)[:MAX_SHEET_NAME] or "Sheet"
    candidate, n = cleaned, 2
    while candidate.lower() in {t.lower() for t in taken}:
        suffix = f" ({n})"
        candidate = cleaned[: MAX_SHEET_NAME - len(suffix)] + suffix
        n += 1
    return candidate


class StreamingSheet:
    """One worksheet written top to bottom; every value goes through :meth:`write_cell`."""

    def __init__(self, workbook: StreamingWorkbook, worksheet: Worksheet) -> None:
        self.workbook = workbook
        self.ws = worksheet
        self.next_row = 0

    @property
    def full(self) -> bool:
        return self.next_row >= MAX_ROWS

    def write_row(
        self,
        values: Sequence[Cell],
        style: Mapping[str, Any] | Sequence[Mapping[str, Any] | None] | None = None,
    ) -> int:
        """Write ``values`` on the next row (``style``: format properties for the whole row
        or one mapping per cell); returns the row's 0-based index."""
        if self.full:
            raise OverflowError(f"worksheet {self.ws.name!r} is full ({MAX_ROWS} rows)")
        row = self.next_row
        if isinstance(style, Sequence):  # a style per cell, the missing ones none
            given = [style[c] if c < len(style) else None for c in range(len(values))]
        else:  # one style (or none) for the whole row
            given = [style] * len(values)
        styles = [s if isinstance(s, Mapping) else None for s in given]
        if self.ws.constant_memory:
            self._write_row_xml(row, values, styles)
        else:
            for col, value in enumerate(values):
                self.write_cell(row, col, value, styles[col])
        self.next_row += 1
        return row

    def skip(self, rows: int = 1) -> None:
        self.next_row += rows

    def write_cell(
        self, row: int, col: int, value: Cell, style: Mapping[str, Any] | None = None
    ) -> None:
        """Write one value as the right kind of cell: text as text (formula-safe), numbers
        as numbers, dates as date cells; ``None`` leaves the cell blank (styled if asked).

        xlsxwriter takes a text that begins with ``<r>`` and ends with ``</r>`` for its own
        rich-string markup and copies it into the file unescaped (the shared strings, or
        the sheet in streaming mode): a street's value shaped so could break the file or
        inject a formula. Such a text is written as a rich string of three plain runs (the
        fewest xlsxwriter takes), which it escapes like any text; it reads back as the
        same text."""
        cell = self._prepared(value, style)
        if cell is None:
            return
        kind, content, fmt = cell
        ws = self.ws
        if kind == _TEXT:
            if content.startswith("<r>") and content.endswith("</r>"):
                args = [content[:1], content[1:2], content[2:]] + ([fmt] if fmt is not None else [])
                ws.write_rich_string(row, col, *args)
            else:
                ws.write_string(row, col, content, fmt)
        elif kind == _NUMBER:
            ws.write_number(row, col, content, fmt)
        elif kind == _DATETIME:
            ws.write_datetime(row, col, content, fmt)
        elif kind == _BOOLEAN:
            ws.write_boolean(row, col, content, fmt)
        else:
            ws.write_blank(row, col, None, fmt)

    def _prepared(self, value: Cell, style: Mapping[str, Any] | None) -> tuple[str, Any, Format | None] | None:
        """What kind of cell ``value`` makes, what it holds and its format; None for no
        cell at all (an unstyled blank). The one place that decides how a value is
        written, whichever writer then writes it."""
        kind = type(value)  # the innermost loop: the common kinds first, without isinstance
        if kind is str:
            if is_formula_like(value):  # type: ignore[arg-type]
                style = {**(style or {}), "quote_prefix": True}
            return _TEXT, cell_text(value), self._fmt(style)  # type: ignore[arg-type]
        if kind is float or kind is int:
            return _NUMBER, value, self._fmt(style)
        if value is None:
            return (_BLANK, None, self.workbook.format_of(style)) if style else None
        if isinstance(value, str):
            return self._prepared(str(value), style)  # a str subclass: as its plain text
        if isinstance(value, bool):
            return _BOOLEAN, value, self._fmt(style)
        if isinstance(value, int | float | Decimal):
            return _NUMBER, float(value), self._fmt(style)
        if isinstance(value, datetime):
            style = {"num_format": DATETIME_FORMAT, **(style or {})}
            return _DATETIME, value.replace(tzinfo=None), self._fmt(style)
        if isinstance(value, date):
            style = {"num_format": DATE_FORMAT, **(style or {})}
            return _DATETIME, datetime(value.year, value.month, value.day), self._fmt(style)
        raise TypeError(f"cannot write a {type(value).__name__} to a cell")

    def _write_row_xml(self, row: int, values: Sequence[Cell], styles: Sequence[Mapping[str, Any] | None]) -> None:
        """A whole row of a ``constant_memory`` sheet written as its XML, the XML
        xlsxwriter's own cell writer produces for these cells (tests/test_spreadsheet.py
        compares the two), without its per-cell bookkeeping: about twice as fast (bench/sheet_writer.py),
        and the indicator workbook's 370,000 cells were most of the export step.

        One deliberate difference: a text that looks like xlsxwriter's rich-string markup
        (``<r>...</r>``) is escaped like any other text, where xlsxwriter's streaming
        mode would copy it into the sheet's XML unescaped (a street's value could
        otherwise inject a formula)."""
        ws = self.ws
        cells = []
        for col, value in enumerate(values):
            cell = self._prepared(value, styles[col])
            if cell is not None:
                cells.append((col, *cell))
        if not cells:
            return  # as xlsxwriter: a row without cells is not written (row_info aside, below)
        if ws._check_dimensions(row, cells[-1][0]) or ws._check_dimensions(row, cells[0][0]):
            raise OverflowError(f"row {row} of worksheet {ws.name!r} is outside the sheet or already written")
        if ws.table.get(row):
            raise ValueError(f"row {row} of worksheet {ws.name!r} already has cells written one by one")
        if ws.previous_row < row:
            ws._write_single_row(row)  # a row written cell by cell before this one goes first
        parts = []
        number = row + 1
        columns = ws.col_info
        for col, kind, content, fmt in cells:
            if fmt is None and col in columns and columns[col].column_format is not None:
                fmt = columns[col].column_format
            name = _COLUMN_NAMES[col] if col < len(_COLUMN_NAMES) else xl_col_to_name(col)
            attrs = f' r="{name}{number}" s="{fmt._get_xf_index()}"' if fmt is not None else f' r="{name}{number}"'
            if kind == _TEXT:
                parts.append(_inline_string(ws, content, attrs))
            elif kind == _NUMBER:
                if not math.isfinite(content):
                    raise TypeError("NAN/INF not supported in write_number() without 'nan_inf_to_errors' Workbook() option")
                parts.append(f"<c{attrs}><v>{content:.16G}</v></c>")
            elif kind == _DATETIME:
                parts.append(f"<c{attrs}><v>{ws._convert_date_time(content):.16G}</v></c>")
            elif kind == _BOOLEAN:
                parts.append(f'<c{attrs} t="b"><v>{1 if content else 0}</v></c>')
            else:
                parts.append(f"<c{attrs}/>")
        ws._write_row(row, None, ws.row_info.get(row))  # <row>, with its height or format if set
        ws.fh.write("".join(parts))
        ws._xml_end_tag("row")
        ws.previous_row = row + 1  # this row is done: xlsxwriter's next flush starts after it

    def _fmt(self, style: Mapping[str, Any] | None) -> Format | None:
        return self.workbook.format_of(style) if style else None

    def set_widths(self, widths: Iterable[float]) -> None:
        for col, width in enumerate(widths):
            self.ws.set_column(col, col, width)


class StreamingTable:
    """A header row and any number of data rows: when a sheet is full (Excel's
    1,048,576 rows) the table goes on in a new sheet ``name (2)`` with the header
    repeated, so no row is ever lost. The header row is frozen."""

    def __init__(
        self,
        workbook: StreamingWorkbook,
        name: str,
        headers: Sequence[str],
        widths: Sequence[float] | None = None,
        header_style: Mapping[str, Any] | None = None,
    ) -> None:
        self.workbook = workbook
        self.name = name
        self.headers = list(headers)
        self.widths = list(widths) if widths else None
        self.header_style = dict(header_style or {"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.sheets: list[StreamingSheet] = []
        self.rows = 0
        self._start_sheet()

    def _start_sheet(self) -> None:
        sheet = self.workbook.add_sheet(self.name)
        if self.widths:
            sheet.set_widths(self.widths)
        sheet.write_row(self.headers, self.header_style)
        sheet.ws.freeze_panes(1, 0)
        self.sheets.append(sheet)

    @property
    def sheet(self) -> StreamingSheet:
        return self.sheets[-1]

    def append(
        self,
        values: Sequence[Cell],
        style: Mapping[str, Any] | Sequence[Mapping[str, Any] | None] | None = None,
    ) -> None:
        if self.sheet.full:
            self._start_sheet()
        self.sheet.write_row(values, style)
        self.rows += 1


@contextmanager
def streaming_workbook(
    target: Path, properties: Mapping[str, Any] | None = None, *, small: bool = False
) -> Iterator[StreamingWorkbook]:
    """``with streaming_workbook(path) as wb: ...`` — written atomically on exit."""
    wb = StreamingWorkbook(target, properties, small=small)
    with wb:
        yield wb
