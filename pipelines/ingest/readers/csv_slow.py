"""The exact CSV path: the ``csv`` module, which knows the line each record starts on.

A CSV record that runs over several physical lines is kept only when every line break in
it falls inside a value of a column that allows one (``Column.allows_line_break``; no
column of the contract does today). Otherwise it is a stray quote (or a line break where
none belongs) that ran rows together: each of its non-blank lines becomes a row of its
own, split alone, with its own line number and the ``_broken_quote`` flag (quarantined as
``row.broken_quote``), so that every physical data line is accounted for. A record left
open at the end of the file is such a span too, unless the file is cut short: no final
line break, and its last line, read alone, ends inside quotes or is short of fields
(``file.truncated``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa

from ..model import FileRejected
from .encoding import _Lines, _Probe
from .table import _TableBuilder

# The csv module refuses a field over 131,072 characters by default (csv.Error), which would
# reject a whole file for one oversized cell; such a cell is the validator's business
# (value.too_long quarantines its row, the rest loads). The limit is process-wide, so it is
# set once, here, and only ever raised: every csv reader in the process still accepts all it
# accepted before. The bound is the largest a C long holds everywhere; files themselves are
# capped by UNION_MAX_FILE_BYTES.
CSV_FIELD_LIMIT = 2**31 - 1
if csv.field_size_limit() < CSV_FIELD_LIMIT:
    csv.field_size_limit(CSV_FIELD_LIMIT)


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
