"""Resident ID numbers (居民身份证号, GB 11643-1999): 17 digits and a check character.

Scalar functions state the rule plainly (tests, generators); the ``*_expr`` builders are
the same rule as vectorised Polars expressions for the validator. The expressions take
the *normalised, upper-cased* value; failure expressions are ``True`` where the rule is
broken and ``False``/null where it holds or the value is missing.

The check digit is computed without slicing the digits apart. The weights are
``2**(18 - i) mod 11`` for character ``i`` (1-based; the check character's is 1), and the
ID is valid when the weighted sum over all 18, with X = 10, is ≡ 1 (mod 11). A string of
digits read as a number in base ``b`` ≡ 2 (mod 11) has that weighted sum mod 11, and
``str.to_integer`` does the reading in one pass:

* :func:`check_char_expr` reads the first 17 in base 13 (≤ 6.5e18, Int64);
* :func:`check_fails_expr` reads all 18 in base 35 (Int128), where ``X`` is a digit
  worth 33 ≡ 0 (mod 11), so 10 is added back when the ID ends in X.
"""

from __future__ import annotations

import re
from datetime import date

import polars as pl

WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
FORMAT_PATTERN = r"^[0-9]{17}[0-9X]$"
_FORMAT_RE = re.compile(FORMAT_PATTERN)
_YEAR_ONE = date(1, 1, 1)  # the parser accepts year 0, which is no calendar year


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
    return id18_format_ok(s) and id18_check_char(s[:17]) == s[17] and id18_birth_date(s) is not None


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


def check_fails_expr(value: pl.Expr, format_fails: pl.Expr | None = None) -> pl.Expr:
    """Well-formed but the 18th character is not the check character.

    ``format_fails`` may pass an already computed :func:`format_fails_expr`.
    """
    if format_fails is None:
        format_fails = format_fails_expr(value)
    n35 = value.str.to_integer(base=35, dtype=pl.Int128, strict=False)
    total = n35 + pl.when(value.str.ends_with("X")).then(10).otherwise(0)
    wrong = total % 11 != 1
    return (value.is_not_null() & ~format_fails & wrong).fill_null(False)


def birth_date_expr(value: pl.Expr, format_fails: pl.Expr | None = None) -> pl.Expr:
    """Digits 7-14 as a Date; null when absent, not well-formed or not a real date.

    ``format_fails`` may pass an already computed :func:`format_fails_expr`.
    """
    if format_fails is None:
        format_fails = format_fails_expr(value)
    parsed = value.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    return pl.when(~format_fails & (parsed >= _YEAR_ONE)).then(parsed)


def birth_fails_expr(value: pl.Expr) -> pl.Expr:
    """Well-formed but digits 7-14 are not a real date."""
    fmt = format_fails_expr(value)
    bad = birth_date_expr(value, fmt).is_null()
    return (value.is_not_null() & ~fmt & bad).fill_null(False)


def gender_expr(value: pl.Expr) -> pl.Expr:
    """男 / 女 from the parity of the 17th digit; null when it is not a digit."""
    digit = value.str.slice(16, 1).str.to_integer(strict=False)
    return (
        pl.when(digit.is_null())
        .then(None)
        .when(digit % 2 == 1)
        .then(pl.lit("男"))
        .otherwise(pl.lit("女"))
    )


def valid_expr(value: pl.Expr) -> pl.Expr:
    """Present, well-formed, right check digit, real birth date."""
    return (
        value.is_not_null()
        & ~format_fails_expr(value)
        & ~check_fails_expr(value)
        & ~birth_fails_expr(value)
    )
