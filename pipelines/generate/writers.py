"""Render typed tables as the text a street's clerk would submit, and write them as CSV
(UTF-8, UTF-8 with BOM, GBK), XLSX or JSON Lines.

Typed frames (built by :mod:`pipelines.generate.district`) use one polars dtype per
contract type: ``Date``, ``Datetime``, ``Boolean``, ``Int64`` for ``int``, ``Int64``
*cents* for ``money``, ``Int64`` *tenths* for ``decimal`` and ``String`` for the rest.
:func:`render_table` turns them into an all-string :class:`StringTable` in a file's
:class:`TextStyle`; defects are injected into that table; :func:`encode_table` and
:func:`write_table` produce the bytes.

Every output is deterministic: no wall-clock time reaches a file (XLSX document
properties are pinned to :data:`XLSX_DOC_DATE`; xlsxwriter pins zip entry times).
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

import polars as pl
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from pipelines.contract import ColumnType, Dataset

XLSX_DOC_DATE = datetime(2015, 12, 31, 18, 0, 0)
XLSX_MAX_ROWS = 20_000  # larger tables are always written as CSV
JSONL_MAX_ROWS = 200_000
CSV_CHUNK_ROWS = 250_000  # CSV larger than this is streamed chunk by chunk

DATE_FORMATS = {"iso": "%Y-%m-%d", "slash": "%Y/%-m/%-d", "zh": "%Y年%-m月%-d日"}
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# Extra (non-contract) columns a street sometimes adds: canonical name -> (zh, en) header.
EXTRA_HEADERS: dict[str, tuple[str, str]] = {"remark": ("备注", "remark")}

_INT_RE = re.compile(r"^-?\d+$")
_NUM_RE = re.compile(r"^-?\d+(\.\d+)?$")
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DT_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@dataclass(frozen=True)
class FileFormat:
    kind: str  # csv | xlsx | jsonl | txt | doc
    encoding: str | None = "utf-8"  # utf-8, utf-8-sig, gbk; None for binary formats
    newline: str = "\n"

    @property
    def ext(self) -> str:
        return self.kind


@dataclass(frozen=True)
class TextStyle:
    header_lang: str = "zh"  # zh | en
    header_case: str = "plain"  # plain | upper | spaced
    bool_values: tuple[str, str] = ("是", "否")
    date_style: str = "iso"  # iso | slash | zh
    thousands: bool = False  # money as 1,234.00


@dataclass
class StringTable:
    """A table as it will be written: every column a string (null = blank cell)."""

    dataset: Dataset
    frame: pl.DataFrame
    headers: dict[str, str]
    style: TextStyle

    @property
    def height(self) -> int:
        return self.frame.height

    def column_type(self, column: str) -> ColumnType | None:
        if column in self.dataset.column_names:
            return self.dataset.column(column).type
        return None

    def get(self, row: int, column: str) -> str | None:
        return self.frame[column][row]

    def set(self, row: int, column: str, value: str | None) -> None:
        """Replace one cell (row = 0-based data row)."""
        hit = pl.int_range(pl.len()) == row
        self.frame = self.frame.with_columns(
            pl.when(hit).then(pl.lit(value, dtype=pl.String)).otherwise(pl.col(column)).alias(column)
        )

    def append(self, values: dict[str, str | None]) -> int:
        """Append a row (missing columns blank); returns its 0-based index."""
        row = {c: values.get(c) for c in self.frame.columns}
        self.frame = pl.concat([self.frame, pl.DataFrame([row], schema=self.frame.schema)])
        return self.frame.height - 1

    def row(self, row: int) -> dict[str, str | None]:
        return self.frame.row(row, named=True)


@dataclass
class PlannedFile:
    """One file of the drop zone, before it is written."""

    path: str  # relative to raw_dir, forward slashes
    dataset: str
    street_code: str
    fmt: FileFormat
    table: StringTable | None = None
    raw: bytes | None = None  # written as-is when there is no table
    copy_of: str | None = None  # written as a byte copy of that (already written) file
    post: list[Callable[[bytes], bytes]] = field(default_factory=list)  # byte-level edits
    rows: int | None = None  # data rows, when not derivable from the table
    submitted_at: datetime | None = None  # the file's mtime (deterministic), if set

    @property
    def row_count(self) -> int | None:
        return self.table.height if self.table is not None else self.rows


# --- rendering ------------------------------------------------------------------------


def format_date(value: date, style: str = "iso") -> str:
    if style == "iso":
        return value.isoformat()
    if style == "slash":
        return f"{value.year}/{value.month}/{value.day}"
    return f"{value.year}年{value.month}月{value.day}日"


def format_money(cents: int, thousands: bool = False) -> str:
    sign = "-" if cents < 0 else ""
    yuan, fen = divmod(abs(cents), 100)
    whole = f"{yuan:,}" if thousands else str(yuan)
    return f"{sign}{whole}.{fen:02d}"


def header_text(column: str, dataset: Dataset, style: TextStyle) -> str:
    if column in dataset.column_names:
        col = dataset.column(column)
        text = col.zh if style.header_lang == "zh" else col.name
    else:
        zh, en = EXTRA_HEADERS.get(column, (column, column))
        text = zh if style.header_lang == "zh" else en
    if style.header_case == "upper":
        return text.upper()
    if style.header_case == "spaced":
        return f" {text} "
    return text


def _render_expr(name: str, ctype: ColumnType | None, style: TextStyle) -> pl.Expr:
    c = pl.col(name)
    match ctype:
        case ColumnType.DATE:
            return c.dt.strftime(DATE_FORMATS[style.date_style])
        case ColumnType.DATETIME:
            return c.dt.strftime(DATETIME_FORMAT)
        case ColumnType.BOOL:
            yes, no = style.bool_values
            return pl.when(c).then(pl.lit(yes)).when(c.not_()).then(pl.lit(no))
        case ColumnType.INT:
            return c.cast(pl.String)
        case ColumnType.MONEY:
            if style.thousands:
                return c.map_elements(lambda v: format_money(v, True), return_dtype=pl.String)
            return pl.concat_str(
                [(c // 100).cast(pl.String), pl.lit("."), (c % 100).cast(pl.String).str.zfill(2)]
            )
        case ColumnType.DECIMAL:
            sign = pl.when(c < 0).then(pl.lit("-")).otherwise(pl.lit(""))
            a = c.abs()
            return pl.concat_str([sign, (a // 10).cast(pl.String), pl.lit("."), (a % 10).cast(pl.String)])
        case _:
            return c.cast(pl.String)


def render_table(typed: pl.DataFrame, dataset: Dataset, style: TextStyle) -> StringTable:
    """Render a typed frame (contract columns, optionally extras) in ``style``."""
    exprs = []
    for name in typed.columns:
        ctype = dataset.column(name).type if name in dataset.column_names else None
        exprs.append(_render_expr(name, ctype, style).cast(pl.String).alias(name))
    frame = typed.select(exprs)
    headers = {name: header_text(name, dataset, style) for name in frame.columns}
    return StringTable(dataset, frame, headers, style)


# --- encoding -------------------------------------------------------------------------


def _csv_text(frame: pl.DataFrame, headers: dict[str, str], newline: str, header: bool) -> str:
    out = frame.rename({c: headers[c] for c in frame.columns}) if header else frame
    return out.write_csv(
        include_header=header, quote_style="necessary", line_terminator=newline, null_value=""
    )


def _encode_csv(table: StringTable, fmt: FileFormat) -> bytes:
    text = _csv_text(table.frame, table.headers, fmt.newline, header=True)
    return text.encode(fmt.encoding or "utf-8")


def _json_value(value: str | None, ctype: ColumnType | None) -> object:
    if value is not None and ctype is ColumnType.INT and _INT_RE.match(value):
        return int(value)
    return value


def _encode_jsonl(table: StringTable) -> bytes:
    names = table.frame.columns
    types = [table.column_type(n) for n in names]
    keys = [table.headers[n] for n in names]
    lines = []
    for row in table.frame.iter_rows():
        obj = {k: _json_value(v, t) for k, v, t in zip(keys, row, types, strict=True)}
        lines.append(json.dumps(obj, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode("utf-8")


_V = TypeVar("_V", date, datetime)


def _parse_iso(value: str, pattern: re.Pattern[str], parse: Callable[[str], _V]) -> _V | None:
    """``value`` parsed when it has exactly the ISO form ``pattern`` and is a real date."""
    if not pattern.match(value):
        return None
    try:
        return parse(value)
    except ValueError:
        return None


def _parse_date(value: str) -> date | None:
    return _parse_iso(value, _ISO_DATE_RE, date.fromisoformat)


def _parse_datetime(value: str) -> datetime | None:
    return _parse_iso(value, _ISO_DT_RE, datetime.fromisoformat)


class _XlsxCells:
    """Writes one cell the way Excel would hold it: real date cells, numbers, text."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        self.dt_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.money_fmt = wb.add_format({"num_format": "0.00"})

    def write(self, ws: Worksheet, r: int, c: int, value: str, ctype: ColumnType | None) -> None:
        if ctype is ColumnType.DATE and (d := _parse_date(value)) is not None:
            ws.write_datetime(r, c, datetime(d.year, d.month, d.day), self.date_fmt)
        elif ctype is ColumnType.DATETIME and (dt := _parse_datetime(value)) is not None:
            ws.write_datetime(r, c, dt, self.dt_fmt)
        elif ctype is ColumnType.INT and _INT_RE.match(value):
            ws.write_number(r, c, int(value))
        elif ctype in (ColumnType.MONEY, ColumnType.DECIMAL) and _NUM_RE.match(value):
            ws.write_number(r, c, float(value), self.money_fmt if ctype is ColumnType.MONEY else None)
        else:
            ws.write_string(r, c, value)


def _encode_xlsx(table: StringTable) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False})
    wb.set_properties({"created": XLSX_DOC_DATE, "author": "街道总工会", "title": table.dataset.zh})
    ws = wb.add_worksheet("Sheet1")
    cells = _XlsxCells(wb)
    names = table.frame.columns
    types = [table.column_type(n) for n in names]
    for c, name in enumerate(names):
        ws.write_string(0, c, table.headers[name])
    ws.set_column(0, max(len(names) - 1, 0), 16)
    for r, row in enumerate(table.frame.iter_rows(), start=1):
        for c, value in enumerate(row):
            if value is not None and value != "":
                cells.write(ws, r, c, value, types[c])
    wb.close()
    return buf.getvalue()


def encode_table(table: StringTable, fmt: FileFormat) -> bytes:
    if fmt.kind == "csv":
        return _encode_csv(table, fmt)
    if fmt.kind == "jsonl":
        return _encode_jsonl(table)
    if fmt.kind == "xlsx":
        return _encode_xlsx(table)
    raise ValueError(f"cannot encode a table as {fmt.kind}")


# --- writing --------------------------------------------------------------------------


def _stream_csv(path: Path, table: StringTable, fmt: FileFormat) -> str:
    """Write a large CSV with bounded memory (polars writes UTF-8 straight to the file;
    other encodings go chunk by chunk); returns its sha256."""
    encoding = fmt.encoding or "utf-8"
    frame = table.frame.rename({c: table.headers[c] for c in table.frame.columns})
    if encoding in ("utf-8", "utf-8-sig"):
        frame.write_csv(path, include_bom=encoding == "utf-8-sig", quote_style="necessary",
                        line_terminator=fmt.newline, null_value="")
        return sha256_file(path)
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        for start in range(0, max(frame.height, 1), CSV_CHUNK_ROWS):
            chunk = frame.slice(start, CSV_CHUNK_ROWS)
            text = chunk.write_csv(include_header=start == 0, quote_style="necessary",
                                   line_terminator=fmt.newline, null_value="")
            data = text.encode(encoding)
            fh.write(data)
            digest.update(data)
    return digest.hexdigest()


def planned_bytes(pf: PlannedFile) -> bytes:
    if pf.table is not None:
        data = encode_table(pf.table, pf.fmt)
    elif pf.raw is not None:
        data = pf.raw
    else:
        raise ValueError(f"{pf.path}: nothing to write")
    for edit in pf.post:
        data = edit(data)
    return data


def write_planned(raw_dir: Path, pf: PlannedFile) -> str:
    """Write one planned file under ``raw_dir``; returns the sha256 of its bytes."""
    path = raw_dir / pf.path
    path.parent.mkdir(parents=True, exist_ok=True)
    if pf.copy_of is not None:
        data = (raw_dir / pf.copy_of).read_bytes()
    elif pf.fmt.kind == "csv" and pf.table is not None and not pf.post and pf.table.height > CSV_CHUNK_ROWS:
        digest = _stream_csv(path, pf.table, pf.fmt)
        _stamp(path, pf.submitted_at)
        return digest
    else:
        data = planned_bytes(pf)
    path.write_bytes(data)
    _stamp(path, pf.submitted_at)
    return hashlib.sha256(data).hexdigest()


def _stamp(path: Path, when: datetime | None) -> None:
    if when is not None:
        t = calendar.timegm(when.timetuple())
        os.utime(path, (t, t))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
