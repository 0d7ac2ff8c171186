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

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
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
        key = tuple(sorted(props.items()))
        if key not in self._formats:
            self._formats[key] = self.book.add_format(props)
        return self._formats[key]

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
        for col, value in enumerate(values):
            cell_style = style[col] if isinstance(style, Sequence) and col < len(style) else style
            self.write_cell(
                row, col, value, cell_style if isinstance(cell_style, Mapping) else None
            )
        self.next_row += 1
        return row

    def skip(self, rows: int = 1) -> None:
        self.next_row += rows

    def write_cell(
        self, row: int, col: int, value: Cell, style: Mapping[str, Any] | None = None
    ) -> None:
        """Write one value as the right kind of cell: text as text (formula-safe), numbers
        as numbers, dates as date cells; ``None`` leaves the cell blank (styled if asked)."""
        props = dict(style or {})
        ws = self.ws
        if value is None:
            if props:
                ws.write_blank(row, col, None, self.workbook.format(**props))
        elif isinstance(value, str):
            if is_formula_like(value):
                props["quote_prefix"] = True
            ws.write_string(row, col, cell_text(value), self._fmt(props))
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value, self._fmt(props))
        elif isinstance(value, int | float | Decimal):
            ws.write_number(row, col, float(value), self._fmt(props))
        elif isinstance(value, datetime):
            props.setdefault("num_format", DATETIME_FORMAT)
            ws.write_datetime(row, col, value.replace(tzinfo=None), self._fmt(props))
        elif isinstance(value, date):
            props.setdefault("num_format", DATE_FORMAT)
            ws.write_datetime(
                row, col, datetime(value.year, value.month, value.day), self._fmt(props)
            )
        else:
            raise TypeError(f"cannot write a {type(value).__name__} to a cell")

    def _fmt(self, props: dict[str, Any]) -> Format | None:
        return self.workbook.format(**props) if props else None

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
