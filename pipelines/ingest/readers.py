"""Reading a submitted file (.csv, .xlsx, .jsonl) into a :class:`RawTable`.

Every value comes out as a string exactly as written, except that empty or
whitespace-only cells become null; trimming, typing and row rules are the validator's
job. Each row carries the line (CSV/JSONL) or sheet row (XLSX) it starts on, and
whether it could be split against the header (``_malformed``). A file that breaks a
file rule raises :class:`FileRejected` with one ``file.*`` code.

CSV has two paths that give identical tables. The fast path (pyarrow's multi-threaded
parser, tried for files of at least :data:`FAST_PATH_MIN_BYTES`) is used only when the
file proves regular: one physical line per record, every record exactly as wide as the
header row, no record cut inside quotes. Everything else takes the exact slow path (the
``csv`` module, which knows the line each record starts on).

A CSV record that runs over several physical lines is kept only when every line break in
it falls inside a value of a column that allows one (``Column.allows_line_break``; no
column of the contract does today). Otherwise it is a stray quote (or a line break where
none belongs) that ran rows together: each of its non-blank lines becomes a row of its
own, split alone, with its own line number and the ``_broken_quote`` flag (quarantined as
``row.broken_quote``), so that every physical data line is accounted for. A record left
open at the end of the file is such a span too, unless the file is cut short: no final
line break, and its last line, read alone, ends inside quotes or is short of fields
(``file.truncated``).

XLSX: data is read from the first sheet; any other sheet with a non-blank cell rejects
the workbook (``file.extra_sheet``), except the fill-in templates' own instruction and
list sheets.

Every reader produces an Arrow table with positional columns f0..f{n-1} (one per header
cell), ``_line_number`` and ``_malformed`` (and ``_broken_quote`` when a line has it);
:func:`_finish` blanks, filters and names it.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import itertools
import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import openpyxl
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pipelines.contract import INSTRUCTIONS_SHEET, LISTS_SHEET, ColumnType, Dataset

from .headers import BROKEN, HeaderMatch, match_headers
from .model import LINE, MALFORMED, FileRejected, RawTable

FAST_PATH_MIN_BYTES = 8 * 1024 * 1024  # smaller CSV files always take the exact slow path
CHUNK_BYTES = 16 * 1024 * 1024  # encoding detection streams the file in chunks this size
PYARROW_BLOCK_BYTES = 16 * 1024 * 1024  # the fast path's parse blocks
BATCH_ROWS = 100_000  # rows buffered in Python before they become an Arrow batch
SNIFF_BYTES = 64 * 1024  # the fast path checks this much is UTF-8 before handing over to pyarrow

_NEWLINE_BYTES = (b"\n", b"\r")
_LF, _CR = 0x0A, 0x0D

Row = tuple[Any, ...]

# The csv module refuses a field over 131,072 characters by default (csv.Error), which would
# reject a whole file for one oversized cell; such a cell is the validator's business
# (value.too_long quarantines its row, the rest loads). The limit is process-wide, so it is
# set once, here, and only ever raised: every csv reader in the process still accepts all it
# accepted before. The bound is the largest a C long holds everywhere; files themselves are
# capped by UNION_MAX_FILE_BYTES.
CSV_FIELD_LIMIT = 2**31 - 1
if csv.field_size_limit() < CSV_FIELD_LIMIT:
    csv.field_size_limit(CSV_FIELD_LIMIT)

# Sheets a workbook may hold besides the data sheet: the templates' own (named in the contract).
_TEMPLATE_SHEETS = frozenset({INSTRUCTIONS_SHEET, LISTS_SHEET})


def read_submission(path: Path, dataset: Dataset, *, fast: bool | None = None) -> RawTable:
    """Read ``path`` as a submission of ``dataset``; raises :class:`FileRejected`.

    ``fast`` forces (True) or forbids (False) trying the CSV fast path; by default it is
    tried for CSV files of at least :data:`FAST_PATH_MIN_BYTES`. Either way the result
    is the same table.
    """
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise FileRejected("file.unsupported_format", detail=f"extension {suffix or '(none)'}")
    try:
        return reader(path, dataset, fast)
    except (FileRejected, MemoryError):
        raise
    except OSError as exc:
        detail = f"{type(exc).__name__}: {exc.strerror or 'input/output error'}"
        raise FileRejected("file.unreadable", detail=detail) from exc
    except csv.Error as exc:  # its messages name the problem, never a value
        raise FileRejected("file.unreadable", detail=f"csv.Error: {exc}") from exc
    except Exception as exc:  # any parser failure rejects the file; no message: it may quote data
        detail = f"{type(exc).__name__} while reading the {suffix[1:]} file"
        raise FileRejected("file.unreadable", detail=detail) from exc


# --- shared: the positional Arrow table and how it is finished -----------------------------


def _field(i: int) -> str:
    return f"f{i}"


def _schema(width: int, *, broken: bool = False) -> dict[str, pl.DataType]:
    schema: dict[str, pl.DataType] = {_field(i): pl.String() for i in range(width)}
    flags: dict[str, pl.DataType] = {LINE: pl.Int64(), MALFORMED: pl.Boolean()}
    if broken:
        flags[BROKEN] = pl.Boolean()
    return {**schema, **flags}


def _to_arrow(frame: pl.DataFrame) -> pa.Table:
    # Built through Polars: converting Python values with pyarrow imports pandas (~1 s).
    return frame.to_arrow(compat_level=pl.CompatLevel.oldest())


def _blank_text(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """True where a cell is empty or whitespace only, null where it is null. Arrow's
    whitespace is exactly Python's ``str.isspace``, which the slow path uses."""
    empty = pc.invert(pc.cast(pc.utf8_length(values), pa.bool_()))
    return pc.or_(empty, pc.utf8_is_space(values))


def _blank_to_null(values: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """``values`` with blank cells nulled, or None when it has no blank cell to null."""
    blank = _blank_text(values)
    if not _any(blank):
        return None
    return pc.if_else(blank, pa.nulls(len(values), values.type), values)


def _non_blank(values: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.invert(pc.fill_null(_blank_text(values), True))


def _any(mask: pa.ChunkedArray | pa.Array) -> bool:
    return bool(pc.any(mask).as_py())


class _TableBuilder:
    """Collects rows of ``width`` string values in batches into one positional table
    (with the ``_broken_quote`` flag column)."""

    def __init__(self, width: int) -> None:
        self.schema = _schema(width, broken=True)
        self._rows: list[Row] = []
        self._batches: list[pa.Table] = []

    def add(
        self, values: Sequence[str | None], line: int, malformed: bool, broken: bool = False
    ) -> None:
        self._rows.append((*values, line, malformed, broken))
        if len(self._rows) >= BATCH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            frame = pl.DataFrame(self._rows, schema=self.schema, orient="row")
            self._batches.append(_to_arrow(frame))
            self._rows = []

    def table(self) -> pa.Table:
        self._flush()
        if not self._batches:
            return _to_arrow(pl.DataFrame(schema=self.schema))
        return pa.concat_tables(self._batches)


def _output_order(match: HeaderMatch, dataset: Dataset) -> list[int]:
    """Contract columns in contract order, then extra columns in file order."""
    contract = dataset.column_names
    matched = [i for i, c in enumerate(match.columns) if c is not None]
    matched.sort(key=lambda i: contract.index(match.columns[i] or ""))
    return matched + [i for i, c in enumerate(match.columns) if c is None]


def _finish(
    handed: pa.Table | list[pa.Table],
    match: HeaderMatch,
    dataset: Dataset,
    encoding: str,
    file_format: str,
) -> RawTable:
    """Blank cells -> null, drop rows with nothing in them, give the columns their names.

    Each column becomes a Polars column as soon as it is blanked and its Arrow copy is
    dropped, so a large file is not held twice; for that, the caller hands the table
    over in a one-element list it keeps no other reference to."""
    table = handed.pop() if isinstance(handed, list) else handed
    order = _output_order(match, dataset)
    # the broken-line flag only when some line has it (absent means: none)
    has_broken = BROKEN in table.column_names and _any(table.column(BROKEN))
    flags = [LINE, MALFORMED, *([BROKEN] if has_broken else [])]
    names = [*(match.names[i] for i in order), *flags]
    arrays: list[pa.ChunkedArray | None] = [
        *(table.column(_field(i)) for i in order), *(table.column(f) for f in flags)
    ]
    rows = table.num_rows
    del table, handed

    def convert(k: int) -> pl.Series:
        values = arrays[k]
        arrays[k] = None
        assert values is not None
        if k < len(order):
            values = _blank_to_null(values) or values
        return cast(pl.Series, pl.from_arrow(values, rechunk=False)).alias(names[k])

    if rows < BATCH_ROWS:
        series = [convert(k) for k in range(len(names))]
    else:
        with ThreadPoolExecutor(max_workers=4) as pool:  # Arrow kernels release the GIL
            series = list(pool.map(convert, range(len(names))))
        pa.default_memory_pool().release_unused()  # the Arrow copy is gone: give it back
    frame = pl.DataFrame(_aligned(series))
    del series
    keep = pl.any_horizontal(*(pl.col(f) for f in flags[1:]), pl.exclude(*flags).is_not_null())
    if not frame.select(keep.all()).item():
        frame = frame.filter(keep)
    if frame.height == 0:
        raise FileRejected("file.empty", detail="no data rows after the header")
    return RawTable(
        frame=frame,
        encoding=encoding,
        file_format=file_format,
        headers=match.headers,
        extra_columns=match.extra_columns,
    )


def _aligned(series: list[pl.Series]) -> list[pl.Series]:
    """The columns cut into the chunks of the first one. Columns chunked differently make
    every later query over them copy them into one chunk (the whole file, for the line
    numbers of the fast path, which come in one chunk)."""
    lengths = series[0].chunk_lengths() if series else []
    if len(lengths) < 2:
        return series
    starts = list(itertools.accumulate(lengths, initial=0))[:-1]
    out = []
    for column in series:
        if column.chunk_lengths() != lengths:
            single = column.rechunk()
            parts = [single.slice(s, n) for s, n in zip(starts, lengths, strict=True)]
            column = pl.concat(parts, rechunk=False)
        out.append(column)
    return out


def _surplus_malformed(table: pa.Table, width: int, total: int) -> pa.ChunkedArray | None:
    """True where a cell beyond the header's ``width`` (of ``total`` columns) has text."""
    masks = [_non_blank(table.column(_field(i))) for i in range(width, total)]
    if not masks:
        return None
    malformed = masks[0]
    for mask in masks[1:]:
        malformed = pc.or_(malformed, mask)
    return malformed


# --- encoding detection and line-break counts (CSV and JSONL) ------------------------------


@dataclass
class _Lines:
    """Line-break counts of a file's bytes. They are the same in UTF-8 and GB18030, whose
    multi-byte sequences never contain the bytes of a line break, a quote or a comma."""

    lf: int = 0
    cr: int = 0
    crlf: int = 0
    tail_lf: int = 0  # LF bytes in the run of line breaks that ends the file
    last: bytes = b""

    def feed(self, chunk: bytes | bytearray, size: int | None = None) -> None:
        """Count the first ``size`` bytes of ``chunk`` (all of it by default)."""
        n = len(chunk) if size is None else size
        if n == 0:
            return
        self.lf += chunk.count(b"\n", 0, n)
        cr = chunk.count(b"\r", 0, n)
        self.cr += cr
        if cr or self.last == b"\r":
            joined = int(self.last == b"\r" and chunk[0] == _LF)
            self.crlf += chunk.count(b"\r\n", 0, n) + joined
        body = n
        while body and chunk[body - 1] in (_LF, _CR):
            body -= 1
        self.tail_lf = chunk.count(b"\n", body, n) + (self.tail_lf if body == 0 else 0)
        self.last = bytes(chunk[n - 1 : n])

    @property
    def newlines(self) -> int:
        """Line breaks before the final run of them: records + blank lines - 1."""
        return self.lf - self.tail_lf

    @property
    def bare_cr(self) -> bool:
        """An old-Mac line break: a CR not followed by LF."""
        return self.cr > self.crlf

    @property
    def ends_with_newline(self) -> bool:
        return self.last in _NEWLINE_BYTES


@dataclass
class _Probe:
    """What one streamed pass over the bytes learned about a text file."""

    encoding: str
    has_content: bool  # anything but whitespace
    lines: _Lines


def _scan(path: Path, encoding: str, utf8_copy: Path | None) -> _Probe:
    """One pass: validate ``encoding`` strictly, count line breaks and, when
    ``utf8_copy`` is given, write the text there as UTF-8."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines = _Lines()
    has_content = False
    with path.open("rb") as src, contextlib.ExitStack() as stack:
        sink = stack.enter_context(utf8_copy.open("wb")) if utf8_copy is not None else None
        while chunk := src.read(CHUNK_BYTES):
            text = decoder.decode(chunk)
            has_content = has_content or bool(text.strip())
            lines.feed(chunk)
            if sink is not None:
                sink.write(text.encode("utf-8"))
        decoder.decode(b"", final=True)
    return _Probe(encoding, has_content, lines)


def _count_lines(path: Path) -> _Lines:
    lines = _Lines()
    buffer = bytearray(CHUNK_BYTES)  # reused: no fresh pages for every chunk
    with path.open("rb", buffering=0) as src:
        while size := src.readinto(buffer):
            lines.feed(buffer, size)
    return lines


def _has_bom(path: Path) -> bool:
    with path.open("rb") as src:
        return src.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8


def _detect(path: Path, utf8_copy: Path | None = None) -> _Probe:
    """UTF-8 BOM -> utf-8-sig; strict UTF-8 -> utf-8; else GB18030 (a GBK superset),
    transcoded to ``utf8_copy`` when given; else ``file.encoding``."""
    candidates = ("utf-8-sig",) if _has_bom(path) else ("utf-8", "gb18030")
    for encoding in candidates:
        try:
            return _scan(path, encoding, utf8_copy if encoding == "gb18030" else None)
        except UnicodeDecodeError:
            continue
    raise FileRejected("file.encoding", detail="the bytes are not valid " + " or ".join(candidates))


def _sniff_utf8(path: Path) -> str | None:
    """The UTF-8 flavour the start of the file is in, or None if it is not UTF-8."""
    with path.open("rb") as src:
        head = src.read(SNIFF_BYTES)
    try:
        codecs.getincrementaldecoder("utf-8")(errors="strict").decode(head)
    except UnicodeDecodeError:
        return None
    return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"


# --- CSV -----------------------------------------------------------------------------------


_START, _PLAIN, _QUOTED, _QUOTE_IN_QUOTED = range(4)


def _open_quote(text: str) -> bool:
    """Whether a CSV record ends inside a quoted field (the excel dialect, non-strict)."""
    state = _START
    for ch in text:
        if state == _QUOTED:
            state = _QUOTE_IN_QUOTED if ch == '"' else _QUOTED
        elif ch in ",\r\n":
            state = _START
        elif ch == '"' and state in (_START, _QUOTE_IN_QUOTED):
            state = _QUOTED
        else:
            state = _PLAIN
    return state == _QUOTED


def _csv_header(path: Path, encoding: str) -> list[str]:
    with path.open("r", encoding=encoding, newline="") as fh:
        return next(csv.reader(fh), [])


class _Tap:
    """The line iterator csv.reader reads from, keeping the lines of the current record."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.record: list[str] = []

    def __iter__(self) -> Iterator[str]:
        for line in self._lines:
            self.record.append(line)
            yield line

    def take(self) -> list[str]:
        record, self.record = self.record, []
        return record


def _fit(fields: list[str], width: int) -> tuple[Sequence[str | None], bool]:
    """The row's values for the header's ``width`` columns, and whether it is malformed:
    fewer fields than the header, or text in fields beyond it."""
    n = len(fields)
    if n == width:
        return fields, False
    if n < width:
        return [*fields, *([None] * (width - n))], True
    return fields[:width], any(f.strip() for f in fields[width:])


def _short(fields: list[str], width: int) -> bool:
    return any(f.strip() for f in fields) and len(fields) < width


def _split_alone(text: str) -> list[str]:
    """One physical line split on its own. A quote it leaves open is read as text (so
    the line still splits at its commas and the stray quote shows in its values)."""
    body = text.rstrip("\r\n")
    if _open_quote(body):
        return next(csv.reader([body], quoting=csv.QUOTE_NONE), [])
    return next(csv.reader([body]), [])


def _left_open(
    fields: list[str], raw: list[str], width: int, lines: _Lines, allowed: Sequence[bool]
) -> bool:
    """Whether the file's last record was left open by a stray quote (each of its lines
    is then a broken line); raises ``file.truncated`` for a file cut short.

    Cut short: the file does not end with a line break, and its last line (the whole
    last record when that is one line, or kept whole over several) ends inside quotes or
    has fewer fields than the header. A record still inside quotes at the end of a file
    that ends with a line break, or whose quote an earlier line opened before a complete
    last line, was opened by a stray quote."""
    left_open = _open_quote("".join(raw))
    if not lines.ends_with_newline:
        if len(raw) == 1 or (not left_open and _kept_whole(fields, allowed)):
            cut = left_open or _short(fields, width)
        else:  # a span that is split into its lines: only the last one can be cut
            cut = _open_quote(raw[-1]) or _short(_split_alone(raw[-1]), width)
        if cut:
            raise FileRejected("file.truncated", detail="the last record is incomplete")
    return left_open


def _kept_whole(fields: list[str], allowed: Sequence[bool]) -> bool:
    """Whether a record spanning several lines is one record: it has a line break, and
    each is inside a value of a column that allows one (not beyond the header)."""
    found = False
    for i, value in enumerate(fields):
        if "\n" in value or "\r" in value:
            if i >= len(allowed) or not allowed[i]:
                return False
            found = True
    return found


def _add_record(
    builder: _TableBuilder,
    fields: list[str],
    raw: list[str],
    line: int,
    width: int,
    allowed: Sequence[bool],
    *,
    left_open: bool = False,
) -> None:
    """One record read by the csv module starting on ``line`` (its physical lines
    ``raw``): a row, or one broken row per non-blank line when it may not span them."""
    if left_open or (len(raw) > 1 and not _kept_whole(fields, allowed)):
        for offset, text in enumerate(raw):
            alone = _split_alone(text)
            if any(f.strip() for f in alone):
                builder.add(_fit(alone, width)[0], line + offset, False, broken=True)
    elif any(f.strip() for f in fields):
        values, malformed = _fit(fields, width)
        builder.add(values, line, malformed)


def _csv_slow(path: Path, probe: _Probe, width: int, allowed: Sequence[bool]) -> pa.Table:
    """The exact path: the csv module, which knows the line each record starts on.
    ``allowed[i]``: whether a value of column ``i`` may hold a line break."""
    builder = _TableBuilder(width)
    with path.open("r", encoding=probe.encoding, newline="") as fh:
        tap = _Tap(iter(fh))
        reader = csv.reader(tap)
        previous = 0
        # the record before: only the last one is judged for truncation, once known
        held: tuple[int, list[str], list[str], int] | None = None
        for index, fields in enumerate(reader):
            line, previous = previous + 1, reader.line_num
            raw = tap.take()
            if held is not None and held[0] > 0:
                _add_record(builder, *held[1:], width, allowed)
            held = (index, fields, raw, line)
        if held is not None:
            index, fields, raw, line = held
            left_open = _left_open(fields, raw, width, probe.lines, allowed)
            if index > 0:
                _add_record(builder, fields, raw, line, width, allowed, left_open=left_open)
    return builder.table()


def _line_breaks_allowed(match: HeaderMatch, dataset: Dataset) -> list[bool]:
    """Per header position: whether its values may hold a line break (extra columns,
    not in the contract, may not)."""
    return [c is not None and dataset.column(c).allows_line_break for c in match.columns]


def _last_line(path: Path) -> str:
    """The file's last non-empty line."""
    size = path.stat().st_size
    span = 64 * 1024
    with path.open("rb") as fh:
        while True:
            start = max(0, size - span)
            fh.seek(start)
            body = fh.read().rstrip(b"\r\n")
            cut = body.rfind(b"\n")
            if cut >= 0 or start == 0:
                return body[cut + 1 :].decode("utf-8", errors="replace")
            span *= 4


def _pyarrow_csv(source: Path, names: list[str], *, check_utf8: bool) -> pa.Table | None:
    try:
        return pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(column_names=names, block_size=PYARROW_BLOCK_BYTES),
            # Line breaks inside values are left to the line count below: a record split
            # across lines either fails to parse or leaves fewer records than lines.
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                check_utf8=check_utf8,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except pa.ArrowException:  # a ragged record, invalid UTF-8, a quote left open, ...
        return None


def _csv_fast(
    source: Path,
    lines: _Lines | Future[_Lines],
    header_fields: int,
    width: int,
    *,
    check_utf8: bool,
) -> pa.Table | None:
    """Parse a UTF-8 file with pyarrow if it is regular: one line per record (so the
    record after the header on line 1 is on line 2, and so on), no blank line inside it,
    every record exactly as wide as the header row, the last not cut inside quotes.
    ``None`` means: take the slow path."""
    if _open_quote(_last_line(source)):
        return None
    names = [_field(i) for i in range(header_fields)]
    table = _pyarrow_csv(source, names, check_utf8=check_utf8)
    if isinstance(lines, Future):
        lines = lines.result()
    if table is None or lines.bare_cr or table.num_rows != lines.newlines + 1:
        return None  # a blank line, a line break inside a value, an old-Mac line break
    table = table.slice(1)  # record 0 is the header row
    n = table.num_rows
    line = pl.int_range(2, n + 2, dtype=pl.Int64, eager=True).to_arrow()
    malformed = _surplus_malformed(table, width, header_fields)
    positional = table.select(names[:width]).append_column(LINE, line)
    if malformed is None:
        malformed = pl.repeat(False, n, dtype=pl.Boolean, eager=True).to_arrow()
    return positional.append_column(MALFORMED, malformed)


def _read_csv_utf8_fast(path: Path, dataset: Dataset) -> RawTable | None:
    """The fast path for a UTF-8 file, validated by pyarrow instead of a decoding pass.
    ``None`` when anything is off: the full route then decides (encoding first)."""
    encoding = _sniff_utf8(path)
    if encoding is None:
        return None
    try:
        header = _csv_header(path, encoding)
        match = match_headers(header, dataset)
    except (UnicodeDecodeError, FileRejected):
        return None
    with ThreadPoolExecutor(max_workers=1) as pool:  # counting overlaps pyarrow's parse
        lines = pool.submit(_count_lines, path)
        table = _csv_fast(path, lines, len(header), match.width, check_utf8=True)
    if table is None:
        return None
    handed = [table]
    del table
    return _finish(handed, match, dataset, encoding, "csv")


def _read_csv(path: Path, dataset: Dataset, fast: bool | None) -> RawTable:
    use_fast = fast if fast is not None else path.stat().st_size >= FAST_PATH_MIN_BYTES
    if use_fast and (result := _read_csv_utf8_fast(path, dataset)) is not None:
        return result
    with contextlib.ExitStack() as stack:
        utf8_copy = None
        if use_fast:  # a GB18030 file is transcoded while it is checked, then parsed fast
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="union-ingest-"))
            utf8_copy = Path(tmp) / "transcoded.csv"
        probe = _detect(path, utf8_copy)
        if not probe.has_content:
            raise FileRejected("file.empty", detail="the file has no content")
        header = _csv_header(path, probe.encoding)
        match = match_headers(header, dataset)
        table = None
        if utf8_copy is not None and probe.encoding == "gb18030":
            table = _csv_fast(utf8_copy, probe.lines, len(header), match.width, check_utf8=False)
        if table is None:
            table = _csv_slow(path, probe, match.width, _line_breaks_allowed(match, dataset))
        handed = [table]
        del table
        return _finish(handed, match, dataset, probe.encoding, "csv")


# --- JSONL ---------------------------------------------------------------------------------


def _number_text(value: float) -> str:
    if value.is_integer():
        return str(int(value))
    text = repr(value)
    return format(Decimal(text), "f") if "e" in text else text


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    return json.dumps(value, ensure_ascii=False)


def _parse_object(text: str) -> dict[str, Any] | None:
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


class _KeyedRows:
    """JSONL rows, their values keyed by the key's position in the union of keys."""

    def __init__(self) -> None:
        self.keys: dict[str, int] = {}
        self._rows: list[tuple[dict[int, str | None], int, bool]] = []
        self._batches: list[pa.Table] = []

    def add(self, obj: dict[str, Any] | None, line: int) -> None:
        values: dict[int, str | None] = {}
        for key, value in (obj or {}).items():
            values[self.keys.setdefault(key, len(self.keys))] = _json_text(value)
        self._rows.append((values, line, obj is None))
        if len(self._rows) >= BATCH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        seen = sorted({i for values, _, _ in self._rows for i in values})
        data: dict[str, list[Any]] = {_field(i): [r[0].get(i) for r in self._rows] for i in seen}
        data[LINE] = [r[1] for r in self._rows]
        data[MALFORMED] = [r[2] for r in self._rows]
        schema = {**{_field(i): pl.String() for i in seen}, **_schema(0)}
        self._batches.append(_to_arrow(pl.DataFrame(data, schema=schema)))
        self._rows = []

    def table(self, width: int) -> pa.Table:
        """The positional table; text under keys beyond ``width`` marks a row malformed."""
        self._flush()
        table = pa.concat_tables(self._batches, promote_options="default")
        total = len(self.keys)
        malformed = _surplus_malformed(table, width, total)
        if malformed is not None:
            table = table.set_column(
                table.schema.get_field_index(MALFORMED),
                MALFORMED,
                pc.or_(table.column(MALFORMED), malformed),
            )
        return table.select([*(_field(i) for i in range(width)), LINE, MALFORMED])


def _read_jsonl(path: Path, dataset: Dataset, fast: bool | None) -> RawTable:
    probe = _detect(path)
    if not probe.has_content:
        raise FileRejected("file.empty", detail="the file has no content")
    rows = _KeyedRows()
    cut_short = False
    with path.open("r", encoding=probe.encoding, newline="\n") as fh:
        for line_number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            obj = _parse_object(line)
            rows.add(obj, line_number)
            cut_short = obj is None and not line.endswith("\n")
    if cut_short:
        raise FileRejected("file.truncated", detail="the last line is not complete JSON")
    if not rows.keys:
        raise FileRejected("file.unreadable", detail="no line of the file is a JSON object")
    match = match_headers(list(rows.keys), dataset)
    return _finish(rows.table(match.width), match, dataset, probe.encoding, "jsonl")


# --- XLSX ----------------------------------------------------------------------------------


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
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
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


_READERS: dict[str, Callable[[Path, Dataset, bool | None], RawTable]] = {
    ".csv": _read_csv,
    ".xlsx": _read_xlsx,
    ".jsonl": _read_jsonl,
}
