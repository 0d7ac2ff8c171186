"""An .xls (Excel 97-2003), WPS .et or OpenDocument .ods submission, read with calamine.

The container is told by the file's first bytes, never by its name: a Compound File
(OLE2/CFB) is a BIFF workbook (.xls, and the usual WPS .et); a zip holding an
OpenDocument ``mimetype`` is an .ods; any other zip is an Office Open XML workbook (an
.xlsx renamed, or a WPS .et saved in that format) and takes the .xlsx reader itself.

The result is the table the .xlsx reader gives for the same cells: data from the first
worksheet, row 1 the header, every value as text (numbers without a trailing ``.0``,
date cells and numbers in date columns as ISO text, booleans ``true``/``false``), blank
cells null, sheet row numbers, and ``file.extra_sheet`` for data on any other sheet but
the templates' own. The table's ``file_format`` names the container read (``xls``,
``ods``, or ``xlsx``).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import python_calamine

from pipelines.contract import Dataset

from ..headers import match_headers
from ..model import FileRejected, RawTable
from .table import Row, _finish
from .xlsx import _TEMPLATE_SHEETS, _blank_cells, _read_ooxml, _sheet_header, _sheet_rows

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2 Compound File: BIFF8 .xls / .et
ZIP_MAGIC = b"PK\x03\x04"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

# Serial dates (numbers in a date column): the 1900 date system, day 0 = 1899-12-30, as
# openpyxl's default epoch; LibreOffice's default null date is the same day.
_EPOCH = datetime(1899, 12, 30)


def _container(path: Path) -> str | None:
    """``xls``, ``ods``, ``xlsx`` by the file's magic bytes, or None for anything else."""
    with path.open("rb") as f:
        head = f.read(len(CFB_MAGIC))
    if head == CFB_MAGIC:
        return "xls"
    if head.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as z:
                if "mimetype" in z.namelist() and z.read("mimetype").strip() == ODS_MIMETYPE:
                    return "ods"
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError):
            pass  # not a readable zip: the .xlsx reader rejects it as unreadable
        return "xlsx"
    return None


def _rows(sheet: Any) -> Iterator[Row]:
    """Every row of ``sheet`` from sheet row 1 and column A (calamine's blanks are "";
    the .xlsx reader's are None)."""
    for cells in sheet.to_python(skip_empty_area=False):
        yield tuple(None if v == "" else v for v in cells)


def _is_worksheet(meta: Any) -> bool:
    return bool(meta.typ == python_calamine.SheetTypeEnum.WorkSheet)


def _check_other_sheets(workbook: Any, worksheets: list[int]) -> None:
    """As the .xlsx reader: ``file.extra_sheet`` when a worksheet after the first holds a
    non-blank cell, the templates' own sheets excepted; the sheet named by position only."""
    names: list[str] = workbook.sheet_names
    metadata = workbook.sheets_metadata
    for index in worksheets[1:]:
        if names[index] in _TEMPLATE_SHEETS:
            continue
        if any(not _blank_cells(cells) for cells in _rows(workbook.get_sheet_by_index(index))):
            visible = metadata[index].visible == python_calamine.SheetVisibleEnum.Visible
            hidden = "" if visible else ", hidden"
            raise FileRejected("file.extra_sheet", detail=f"sheet {index + 1} of {len(names)}{hidden}")


def _read_calamine(path: Path, dataset: Dataset, file_format: str) -> RawTable:
    try:
        with path.open("rb") as f:
            workbook = python_calamine.CalamineWorkbook.from_filelike(f)
    except OSError:
        raise
    except Exception as exc:  # calamine's errors may quote the file's text: not kept
        detail = f"{type(exc).__name__}: not a readable {file_format} workbook"
        raise FileRejected("file.unreadable", detail=detail) from exc
    try:
        worksheets = [i for i, m in enumerate(workbook.sheets_metadata) if _is_worksheet(m)]
        if not worksheets:
            raise FileRejected("file.empty", detail="the workbook has no sheet")
        _check_other_sheets(workbook, worksheets)  # first: rows put on another sheet are the problem
        rows = _rows(workbook.get_sheet_by_index(worksheets[0]))
        match = match_headers(_sheet_header(rows, _EPOCH), dataset)
        table = _sheet_rows(rows, match, dataset, _EPOCH)
    finally:
        workbook.close()
    return _finish(table, match, dataset, file_format, file_format)


def _read_workbook(path: Path, dataset: Dataset, fast: bool | None) -> RawTable:
    """Read an .xls, .et or .ods submission, whichever container it really is."""
    container = _container(path)
    if container is None:
        suffix = path.suffix.lower().lstrip(".") or "spreadsheet"
        raise FileRejected("file.unreadable", detail=f"not a readable {suffix} workbook")
    if container == "xlsx":
        with path.open("rb") as f:  # the .xlsx reader's own reading, under any name
            return _read_ooxml(f, dataset)
    return _read_calamine(path, dataset, container)
