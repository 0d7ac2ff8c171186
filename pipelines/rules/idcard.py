"""Resident ID numbers (居民身份证号, GB 11643-1999): 17 digits and a check character.

Scalar functions state the rule plainly (tests, generators); the ``*_expr`` builders are
the same rule as vectorised Polars expressions for the validator. The expressions take
the *normalised, upper-cased* value; failure expressions are ``True`` where the rule is
broken and ``False``/null where it holds or the value is missing.

The check digit is computed without slicing the 17 digits apart: the ID weights are
``2**(18 - i) mod 11`` for digit ``i`` (1-based), and 13 ≡ 2 (mod 11), so the weighted sum
is ≡ ``2 * N`` (mod 11) where ``N`` is the 17 digits read as a base-13 number, which
``str.to_integer(base=13)`` computes in one pass (max ≈ 6.5e18, fits in Int64).
"""

from __future__ import annotations

import re
from datetime import date

import polars as pl

WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
FORMAT_PATTERN = r"^\d{17}[\dX]$"
_FORMAT_RE = re.compile(FORMAT_PATTERN)


# --- scalar ---------------------------------------------------------------------------


def id18_check_char(first17: str) -> str:
    """The check character for the first 17 digits of an ID."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("expected 17 ASCII digits")
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def id18_format_ok(s: str) -> bool:
    return _FORMAT_RE.match(s.upper()) is not None


def id18_birth_date(s: str) -> date | None:
    """The birth date in digits 7-14, or None when it is not a real date."""
    try:
        return date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return None


def id18_gender(s: str) -> str:
    """男 when the 17th digit is odd, 女 when even."""
    return "男" if int(s[16]) % 2 else "女"


def is_valid_id18(s: str | None) -> bool:
    """Format, check digit and birth date all hold (lower-case x accepted)."""
    if s is None:
        return False
    s = s.upper()
    return (
        id18_format_ok(s)
        and id18_check_char(s[:17]) == s[17]
        and id18_birth_date(s) is not None
    )


# --- vectorised -----------------------------------------------------------------------


def upper_expr(value: pl.Expr) -> pl.Expr:
    """The stored form: upper-case (a lower-case ``x`` check character becomes ``X``)."""
    return value.str.to_uppercase()


def format_fails_expr(value: pl.Expr) -> pl.Expr:
    """Present and not 17 digits plus a digit or X (expects the upper-cased value)."""
    return (value.is_not_null() & ~value.str.contains(FORMAT_PATTERN)).fill_null(False)


def check_char_expr(value: pl.Expr) -> pl.Expr:
    """The expected check character from the first 17 characters (null if not digits)."""
    n13 = value.str.slice(0, 17).str.to_integer(base=13, strict=False)
    index = (n13 % 11 * 2) % 11
    return index.replace_strict(
        list(range(11)), list(CHECK_CHARS), default=None, return_dtype=pl.String
    )


def check_fails_expr(value: pl.Expr) -> pl.Expr:
    """Well-formed but the 18th character is not the check character."""
    wrong = value.str.slice(17, 1) != check_char_expr(value)
    return (value.is_not_null() & ~format_fails_expr(value) & wrong).fill_null(False)


def birth_date_expr(value: pl.Expr) -> pl.Expr:
    """Digits 7-14 as a Date; null when absent or not a real date."""
    digits = value.str.slice(6, 8)
    return (
        pl.when(digits.str.contains(r"^\d{8}$"))
        .then(digits.str.to_date("%Y%m%d", strict=False))
        .otherwise(None)
    )


def birth_fails_expr(value: pl.Expr) -> pl.Expr:
    """Well-formed but digits 7-14 are not a real date."""
    bad = birth_date_expr(value).is_null()
    return (value.is_not_null() & ~format_fails_expr(value) & bad).fill_null(False)


def gender_expr(value: pl.Expr) -> pl.Expr:
    """男 / 女 from the parity of the 17th digit; null when it is not a digit."""
    digit = value.str.slice(16, 1).str.to_integer(strict=False)
    return pl.when(digit.is_null()).then(None).when(digit % 2 == 1).then(pl.lit("男")).otherwise(
        pl.lit("女")
    )


def valid_expr(value: pl.Expr) -> pl.Expr:
    """Present, well-formed, right check digit, real birth date."""
    return (
        value.is_not_null()
        & ~format_fails_expr(value)
        & ~check_fails_expr(value)
        & ~birth_fails_expr(value)
    )
