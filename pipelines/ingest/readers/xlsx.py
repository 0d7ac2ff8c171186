"""An XLSX submission: data is read from the first sheet.

Any other sheet with a non-blank cell rejects the workbook (``file.extra_sheet``),
except the fill-in templates' own instruction and list sheets. Date cells, and numbers
in date columns (Excel serial dates), become ISO text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, BinaryIO, cast

import openpyxl
import pyarrow as pa

from pipelines.contract import INSTRUCTIONS_SHEET, LISTS_SHEET, ColumnType, Dataset

from ..headers import HeaderMatch, match_headers
from ..model import FileRejected, RawTable
from .table import Row, _finish, _number_text, _TableBuilder

# Sheets a workbook may hold besides the data sheet: the templates' own (named in the contract).
_TEMPLATE_SHEETS = frozenset({INSTRUCTIONS_SHEET, LISTS_SHEET})


def _datetime_text(value: datetime, column_type: ColumnType | None) -> str:
    """``YYYY-MM-DD HH:MM:SS`` for a datetime column; ``YYYY-MM-DD`` elsewhere when the
    time is midnight (a date cell)."""
    if column_type is not ColumnType.DATETIME and value.time() == time(0):
        return value.date().isoformat()
    return value.isoformat(sep=" ", timespec="seconds")


def _serial_text(serial: float, column_type: ColumnType, epoch: datetime) -> str:
    """An Excel serial date (1900 system: day 0 is 1899-12-30) as an ISO string."""
    try:
        moment = epoch + timedelta(seconds=round(serial * 86400))
    except (OverflowError, ValueError):
        return _number_text(float(serial))
    return _datetime_text(moment, column_type)


def _cell_text(value: Any, column_type: ColumnType | None, epoch: datetime) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _datetime_text(value, column_type)
    if isinstance(value, date):
        return _datetime_text(datetime.combine(value, time(0)), column_type)
    if isinstance(value, time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, int | float) and column_type in (ColumnType.DATE, ColumnType.DATETIME):
        return _serial_text(value, column_type, epoch)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    return str(value)


def _blank_cells(cells: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in cells)


def _sheet_header(rows: Iterator[Row], epoch: datetime) -> list[str | None]:
    first = next(rows, None)
    if first is None or _blank_cells(first):
        if first is None or all(_blank_cells(r) for r in rows):
            raise FileRejected("file.empty", detail="the first sheet is empty")
        return []  # row 1 is blank but the sheet is not: there is no header row
    return [_cell_text(v, None, epoch) for v in first]


def _sheet_rows(
    rows: Iterator[Row], match: HeaderMatch, dataset: Dataset, epoch: datetime
) -> pa.Table:
    width = match.width
    types = [dataset.column(c).type if c else None for c in match.columns]
    builder = _TableBuilder(width)
    for line, cells in enumerate(rows, start=2):
        if _blank_cells(cells):
            continue
        values = [_cell_text(v, t, epoch) for v, t in zip(cells, types, strict=False)]
        values += [None] * (width - len(values))
        builder.add(values, line, not _blank_cells(cells[width:]))
    return builder.table()


def _all_rows(sheet: Any) -> Iterator[Row]:
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()  # read every cell, whatever the declared dimension says
    return cast(Iterator[Row], sheet.iter_rows(values_only=True))


def _check_other_sheets(workbook: Any) -> None:
    """``file.extra_sheet`` when a sheet after the first holds a non-blank cell (rows
    there would be silently lost), the templates' instruction and list sheets excepted.
    The detail names the sheet by position only: its name may be anything, a person's."""
    names: list[str] = workbook.sheetnames
    for sheet in workbook.worksheets[1:]:
        if sheet.title in _TEMPLATE_SHEETS:
            continue
        if any(not _blank_cells(cells) for cells in _all_rows(sheet)):
            hidden = ", hidden" if getattr(sheet, "sheet_state", "visible") != "visible" else ""
            position = names.index(sheet.title) + 1
            detail = f"sheet {position} of {len(names)}{hidden}"
            raise FileRejected("file.extra_sheet", detail=detail)


def _read_xlsx(path: Path, dataset: Dataset, fast: bool | None) -> RawTable:
    return _read_ooxml(path, dataset)


def _read_ooxml(source: Path | BinaryIO, dataset: Dataset) -> RawTable:
    """An Office Open XML workbook from a path, or from an open file when its name does
    not end in .xlsx (openpyxl refuses a path by its extension)."""
    try:
        workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except OSError:
        raise
    except Exception as exc:  # zip, XML and openpyxl errors alike
        detail = f"{type(exc).__name__}: not a readable xlsx workbook"
        raise FileRejected("file.unreadable", detail=detail) from exc
    try:
        if not workbook.worksheets:
            raise FileRejected("file.empty", detail="the workbook has no sheet")
        _check_other_sheets(workbook)  # first: rows put on another sheet are the problem
        epoch: datetime = workbook.epoch
        rows: Iterator[Row] = _all_rows(workbook.worksheets[0])
        match = match_headers(_sheet_header(rows, epoch), dataset)
        table = _sheet_rows(rows, match, dataset, epoch)
    finally:
        workbook.close()
    return _finish(table, match, dataset, "xlsx", "xlsx")
