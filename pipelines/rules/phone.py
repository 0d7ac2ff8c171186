"""Phone numbers: an 11-digit mainland mobile, or a landline ``0AA(A)-NNNNNNN(N)``."""

from __future__ import annotations

import re

import polars as pl

MOBILE_PATTERN = r"1[3-9][0-9]{9}"
LANDLINE_PATTERN = r"0[0-9]{2,3}-[0-9]{7,8}"
PATTERN = rf"^(?:{MOBILE_PATTERN}|{LANDLINE_PATTERN})$"
_RE = re.compile(PATTERN)


def is_valid_phone(s: str | None) -> bool:
    return s is not None and _RE.match(s) is not None


def format_fails_expr(value: pl.Expr) -> pl.Expr:
    """Present and neither a mobile nor a landline number."""
    return (value.is_not_null() & ~value.str.contains(PATTERN)).fill_null(False)
