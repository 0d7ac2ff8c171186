"""Unified social credit codes (统一社会信用代码, GB 32100-2015).

18 characters from ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (values 0-30; no I, O, S, V, Z);
weights 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28 (= 3**(i-1) mod 31); the check
value is 31 - (weighted sum mod 31), and 31 becomes 0.

Vectorised without slicing characters apart: each character is rewritten to the base-36
digit with the same value (J -> I, K -> J, ...), the 17 characters are reversed and read
as one base-34 number ``N`` (Int128). As 34 ≡ 3 (mod 31), ``N`` ≡ the weighted sum.
"""

from __future__ import annotations

import re

import polars as pl

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS: tuple[int, ...] = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
FORMAT_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{18}$"
_FORMAT_RE = re.compile(FORMAT_PATTERN)
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# letters whose value differs from their base-36 digit, mapped to the digit of their value
_TRANSLATE_FROM = [c for c in ALPHABET if c.isalpha() and _BASE36[_VALUE[c]] != c]
_TRANSLATE_TO = [_BASE36[_VALUE[c]] for c in _TRANSLATE_FROM]


# --- scalar ---------------------------------------------------------------------------


def uscc_check_char(first17: str) -> str:
    """The check character for the first 17 characters of a credit code."""
    if len(first17) != 17 or any(c not in _VALUE for c in first17):
        raise ValueError("expected 17 characters of the credit-code alphabet")
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_format_ok(s: str) -> bool:
    return _FORMAT_RE.match(s.upper()) is not None


def is_valid_uscc(s: str | None) -> bool:
    """Format and check character hold (lower-case letters accepted)."""
    if s is None:
        return False
    s = s.upper()
    return uscc_format_ok(s) and uscc_check_char(s[:17]) == s[17]


# --- vectorised -----------------------------------------------------------------------


def upper_expr(value: pl.Expr) -> pl.Expr:
    """The stored form: upper-case."""
    return value.str.to_uppercase()


def format_fails_expr(value: pl.Expr) -> pl.Expr:
    """Present and not 18 characters of the alphabet (expects the upper-cased value)."""
    return (value.is_not_null() & ~value.str.contains(FORMAT_PATTERN)).fill_null(False)


def check_char_expr(value: pl.Expr) -> pl.Expr:
    """The expected check character from the first 17 characters (null if malformed)."""
    digits = value.str.slice(0, 17).str.replace_many(_TRANSLATE_FROM, _TRANSLATE_TO)
    n = digits.str.reverse().str.to_integer(base=34, dtype=pl.Int128, strict=False)
    check = ((31 - n % 31) % 31).cast(pl.Int64)
    return check.replace_strict(
        list(range(31)), list(ALPHABET), default=None, return_dtype=pl.String
    )


def check_fails_expr(value: pl.Expr) -> pl.Expr:
    """Well-formed but the 18th character is not the check character."""
    wrong = value.str.slice(17, 1) != check_char_expr(value)
    return (value.is_not_null() & ~format_fails_expr(value) & wrong).fill_null(False)


def valid_expr(value: pl.Expr) -> pl.Expr:
    return value.is_not_null() & ~format_fails_expr(value) & ~check_fails_expr(value)
