"""Matching a file's header row against a dataset's contract columns (contract §2 rule 7).

A header cell names a contract column by its canonical English name or its Chinese
header, ignoring surrounding spaces, full-width/half-width differences and case. Cells
that name no contract column are extra columns: they are kept under their own (stripped)
header text and ignored by the models. They never reject a file; but a file missing
required columns is rejected naming every one of them and every extra column with them
(a misspelt header is both), so the clerk fixes the whole header at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipelines.contract import Column, Dataset

from .model import LINE, MALFORMED, FileRejected

BROKEN = "_broken_quote"
"""A flag column beside ``_line_number`` and ``_malformed``: True on a line the CSV reader
took out of a record spanning several lines that it does not keep (row.broken_quote).
The reader adds it only to a file that has such lines; absent means all False. Like the
other two, no header may take its name."""

_WHITESPACE = re.compile(r"\s+")
_INVISIBLE = str.maketrans("", "", "\ufeff\u200b")  # BOM / zero-width space left by exports


def normalise_header(s: str) -> str:
    """The form two headers are compared in: NFKC (full-width -> half-width), stripped,
    case-folded, with every whitespace run removed."""
    s = unicodedata.normalize("NFKC", s).translate(_INVISIBLE)
    return _WHITESPACE.sub("", s.strip().casefold())


@dataclass(frozen=True)
class HeaderMatch:
    """The header row of one file, matched against a dataset.

    ``raw`` holds the header cells as written (trailing empty cells dropped);
    ``columns[i]`` is the canonical column name for position ``i`` or ``None`` for an
    extra column; ``names[i]`` is the column name the reader gives position ``i`` (the
    canonical name, or the extra column's stripped header text made unique).
    """

    raw: tuple[str, ...]
    columns: tuple[str | None, ...]
    names: tuple[str, ...]

    @property
    def width(self) -> int:
        return len(self.raw)

    @property
    def headers(self) -> dict[str, str]:
        """Canonical column name -> the header text as written in the file."""
        return {c: r for c, r in zip(self.columns, self.raw, strict=True) if c is not None}

    @property
    def extra_columns(self) -> tuple[str, ...]:
        return tuple(n for c, n in zip(self.columns, self.names, strict=True) if c is None)


def _lookup(dataset: Dataset) -> dict[str, Column]:
    table: dict[str, Column] = {}
    for col in dataset.columns:
        table[normalise_header(col.name)] = col
        table[normalise_header(col.zh)] = col
    return table


def _trim_trailing_empty(raw_headers: Sequence[str | None]) -> list[str]:
    cells = ["" if h is None else h for h in raw_headers]
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}_{n}" in taken:
        n += 1
    return f"{name}_{n}"


def _extra_names(raw: list[str], columns: list[str | None], dataset: Dataset) -> list[str]:
    taken = {LINE, MALFORMED, BROKEN, *dataset.column_names}
    names: list[str] = []
    for i, (cell, col) in enumerate(zip(raw, columns, strict=True)):
        if col is not None:
            names.append(col)
            continue
        name = _unique(cell.strip() or f"_col{i + 1}", taken)
        taken.add(name)
        names.append(name)
    return names


UNKNOWN_HEADER_CHARS = 40
"""An unknown header is named (ledger, receipt) clipped to this many characters."""


def unknown_headers(raw: Sequence[str], columns: Sequence[str | None]) -> tuple[str, ...]:
    """The header cells that name no column of the dataset, as written (stripped of spaces
    and invisible marks, clipped, each once, in file order); a blank cell names nothing
    and is left out."""
    found: dict[str, None] = {}
    for cell, col in zip(raw, columns, strict=True):
        text = cell.translate(_INVISIBLE).strip()
        if col is None and text:
            clipped = text if len(text) <= UNKNOWN_HEADER_CHARS else text[: UNKNOWN_HEADER_CHARS - 1] + "…"
            found.setdefault(clipped)
    return tuple(found)


def missing_required(present: Iterable[str], dataset: Dataset) -> tuple[str, ...]:
    """The dataset's required columns not among ``present``, in contract order."""
    seen = set(present)
    return tuple(c.name for c in dataset.required_columns if c.name not in seen)


def _check_columns(raw: Sequence[str], columns: list[str | None], dataset: Dataset) -> None:
    present = [c for c in columns if c is not None]
    if not present:
        raise FileRejected("file.no_header", detail="no header cell names a column of the dataset")
    seen: set[str] = set()
    for name in present:
        if name in seen:
            raise FileRejected("file.duplicate_column", column=name)
        seen.add(name)
    missing = missing_required(present, dataset)
    if missing:
        unknown = unknown_headers(raw, columns)
        detail = f"{len(unknown)} header cell(s) name no column of the dataset" if unknown else ""
        raise FileRejected("file.missing_column", detail, columns=missing, unknown_headers=unknown)


def match_headers(raw_headers: Sequence[str | None], dataset: Dataset) -> HeaderMatch:
    """Match a header row to ``dataset``'s columns, or raise :class:`FileRejected`
    (``file.no_header``, ``file.duplicate_column``, ``file.missing_column``: this one
    names every missing required column, and every header cell naming no column, so
    that one receipt says all that is wrong with the header)."""
    raw = _trim_trailing_empty(raw_headers)
    lookup = _lookup(dataset)
    columns: list[str | None] = []
    for cell in raw:
        col = lookup.get(normalise_header(cell)) if cell.strip() else None
        columns.append(col.name if col is not None else None)
    _check_columns(raw, columns, dataset)
    names = _extra_names(raw, columns, dataset)
    return HeaderMatch(raw=tuple(raw), columns=tuple(columns), names=tuple(names))
