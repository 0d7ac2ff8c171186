"""The values that pass between the ingestion steps (read → validate → land → ledger)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

LINE = "_line_number"  # 1-based line (CSV/JSONL) or sheet row (XLSX) the row came from
MALFORMED = "_malformed"  # the reader could not split the row against the header
REASONS = "_reasons"  # list[struct{code, column}] on quarantined rows


class FileRejected(Exception):  # noqa: N818 - it is an outcome, not a programming error
    """A file rule was broken: the whole file is rejected with this one reason.

    ``code`` is a ``file.*`` code of the rule catalogue; ``column`` names the column for
    column rules; ``detail`` is a short operator-facing detail with no personal data.
    A rule naming several columns (``file.missing_column``) gives them all in
    ``columns`` (``column`` is the first), and ``unknown_headers`` the header cells,
    as written, that name no column of the dataset.
    """

    def __init__(
        self,
        code: str,
        detail: str = "",
        column: str | None = None,
        *,
        columns: tuple[str, ...] = (),
        unknown_headers: tuple[str, ...] = (),
    ) -> None:
        self.code = code
        self.detail = detail
        self.columns = columns or ((column,) if column is not None else ())
        self.column = column if column is not None else next(iter(columns), None)
        self.unknown_headers = unknown_headers
        super().__init__(f"{code}: {detail}" if detail else code)


@dataclass
class RawTable:
    """A file as read: every value a string (null for an empty cell), canonical column
    names for the contract's columns, the original header for extra columns, plus
    ``_line_number`` (Int64) and ``_malformed`` (Boolean). Blank lines are not rows."""

    frame: pl.DataFrame
    encoding: str  # utf-8, utf-8-sig, gb18030, xlsx, ...
    file_format: str  # csv, xlsx, xls, ods, jsonl (the container read, whatever the name)
    headers: dict[str, str] = field(default_factory=dict)  # canonical name -> header as written
    extra_columns: tuple[str, ...] = ()


@dataclass
class Validated:
    """The outcome of the row rules for one file."""

    good: pl.DataFrame  # typed contract columns + extra columns (str) + _line_number
    quarantined: pl.DataFrame  # original string values + _line_number + _reasons
    problems: pl.DataFrame  # one row per (line, column, code, severity), no values
    as_of_date: date | None  # the file's as-of date (registry datasets)

    @property
    def rows_read(self) -> int:
        return self.good.height + self.quarantined.height


PROBLEM_SCHEMA: dict[str, pl.DataType] = {
    LINE: pl.Int64(),
    "column": pl.String(),
    "code": pl.String(),
    "severity": pl.String(),
}
