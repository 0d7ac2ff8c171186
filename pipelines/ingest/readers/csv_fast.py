"""The fast CSV path: pyarrow's multi-threaded parser, for a file that proves regular.

Regular: one physical line per record, every record exactly as wide as the header row,
no record cut inside quotes. It gives the same table as the exact path
(:mod:`.csv_slow`); anything else is declined (``None``) and read there.
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv

from ..model import LINE, MALFORMED
from .csv_slow import _open_quote
from .encoding import _Lines
from .table import _field, _surplus_malformed

PYARROW_BLOCK_BYTES = 16 * 1024 * 1024  # the fast path's parse blocks


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
