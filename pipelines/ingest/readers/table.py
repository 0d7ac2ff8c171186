"""The positional Arrow table every reader builds, and how it is finished.

A reader produces an Arrow table with positional columns f0..f{n-1} (one per header
cell), ``_line_number`` and ``_malformed`` (and ``_broken_quote`` when a line has it);
:func:`_finish` blanks, filters and names it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, cast

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.contract import Dataset

from ..headers import BROKEN, HeaderMatch
from ..model import LINE, MALFORMED, FileRejected, RawTable

BATCH_ROWS = 100_000  # rows buffered in Python before they become an Arrow batch

Row = tuple[Any, ...]


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


def _number_text(value: float) -> str:
    if value.is_integer():
        return str(int(value))
    text = repr(value)
    return format(Decimal(text), "f") if "e" in text else text
