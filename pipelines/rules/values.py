"""Value normalisation and parsing (contract section 2, rule 8), as Polars expressions.

Every parser takes a *normalised* string expression (see :func:`normalise`) and returns
the typed value, or null when the value is missing or does not parse. The validator
raises ``<type>.invalid`` where the input is present and the parse is null, so a parser
here is the whole definition of what a valid value looks like.

``parse_value`` runs one parser on one Python string, for tests and generators.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import reduce

import polars as pl

# --- normalisation --------------------------------------------------------------------

# Values made only of these characters are already NFKC-normal (ASCII and the CJK Unified
# Ideographs block have no compatibility decompositions).
NFKC_STABLE_CLASS = r"\x00-\x7F\u4E00-\u9FFF"
# Unicode White_Space (what regex \s matches), and the zero-width characters copy-paste
# leaves around values
_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    map(chr, range(0x2000, 0x200B))
)
_STRIP = _WHITESPACE + "\u200b\u200c\u200d\u2060\ufeff"


def needs_normalise_expr(value: pl.Expr) -> pl.Expr:
    """True where :func:`normalise` could change a non-empty value: NFKC could (a
    character outside ASCII and CJK ideographs), or it has whitespace at either end."""
    return value.str.contains(rf"[^{NFKC_STABLE_CLASS}]|^\s|\s$")


def normalise(value: pl.Expr) -> pl.Expr:
    """NFKC (full-width digits, letters and punctuation to half-width, U+3000 to a space),
    surrounding whitespace and zero-width characters trimmed, empty to null."""
    value = value.cast(pl.String).str.normalize("NFKC").str.strip_chars(_STRIP)
    return pl.when(value.str.len_bytes() > 0).then(value)


def normalise_text(s: str) -> str:
    """:func:`normalise` of one Python string (NFKC, surrounding whitespace and zero-width
    characters trimmed; an empty result stays ``""``)."""
    return unicodedata.normalize("NFKC", s).strip(_STRIP)


# --- codes written with their names (行业门类: "C 制造业") ---------------------------------

# What a clerk leaves between a code and its name, or between the parts of a name: spaces
# (U+3000 is one after NFKC), nothing at all, or a colon, dot, dash, comma, semicolon or 、
# (full-width forms are these after NFKC). A written form is compared without any of them.
LABEL_GAPS = r"[\s:.\-、,;·]"


def label_key(text: str) -> str:
    """A written "code name" as :func:`labelled_code` compares it: without :data:`LABEL_GAPS`."""
    return re.sub(LABEL_GAPS, "", text)


def labelled_code(value: pl.Expr, codes: Sequence[str], labels: Sequence[str]) -> pl.Expr:
    """A normalised value that is a code followed by that code's own name (``C 制造业``,
    ``C制造业``, ``C：制造业``, ``A 农，林，牧，渔业``) becomes the code; every other value is
    left as it is, to be judged as written (a bare code stays itself; a code with another
    code's name, or a name alone, stays and is no allowed value). ``labels`` are
    normalised as the values were."""
    written = [label_key(code + label) for code, label in zip(codes, labels, strict=True)]
    if len(set(written)) != len(written):
        raise ValueError("two codes' written forms are the same without separators")
    compact = value.str.replace_all(LABEL_GAPS, "")
    return compact.replace_strict(written, list(codes), default=value, return_dtype=pl.String)


# --- bool -----------------------------------------------------------------------------

BOOL_VALUES: dict[str, bool] = {
    "是": True,
    "否": False,
    "y": True,
    "n": False,
    "yes": True,
    "no": False,
    "true": True,
    "false": False,
    "1": True,
    "0": False,
}


def parse_bool_value(s: str | None) -> bool | None:
    """是/否, Y/N, yes/no, true/false, 1/0 (case-insensitive, after NFKC); else None."""
    return None if s is None else BOOL_VALUES.get(unicodedata.normalize("NFKC", s).strip().lower())


def parse_bool(value: pl.Expr) -> pl.Expr:
    return value.str.to_lowercase().replace_strict(
        list(BOOL_VALUES), list(BOOL_VALUES.values()), default=None, return_dtype=pl.Boolean
    )


# the spellings as usually written, looked up without lower-casing first
_BOOL_SPELLINGS: dict[str, bool] = {
    spelling: v for k, v in BOOL_VALUES.items() for spelling in {k, k.upper(), k.capitalize()}
}


def parse_bool_exact(value: pl.Expr) -> pl.Expr:
    """The usual spellings only (是, Y, true, TRUE, True, ...): a cheaper parser that
    agrees with :func:`parse_bool` wherever it returns a value."""
    return value.replace_strict(
        list(_BOOL_SPELLINGS), list(_BOOL_SPELLINGS.values()), default=None, return_dtype=pl.Boolean
    )


# --- dates ----------------------------------------------------------------------------

_DATE_PART = r"[0-9]{4}(?:-[0-9]{1,2}-[0-9]{1,2}|/[0-9]{1,2}/[0-9]{1,2}|年[0-9]{1,2}月[0-9]{1,2}日)"
# a midnight time part, as spreadsheet and CSV exports append to date cells
_MIDNIGHT = r"(?:[ T]00:00(?::00(?:\.0+)?)?)"
DATE_PATTERN = rf"^{_DATE_PART}{_MIDNIGHT}?$"
DATETIME_PATTERN = (
    rf"^{_DATE_PART}(?:[ T][0-9]{{1,2}}:[0-9]{{2}}(?::[0-9]{{2}}(?:\.[0-9]{{1,9}})?)?)?$"
)
_SEPARATORS = (["/", "年", "月", "日", "T"], ["-", "-", "-", "", " "])


def _canonical_date_time(value: pl.Expr) -> pl.Expr:
    """``YYYY-M-D[ H:MM[:SS[.f]]]`` from any accepted separator style."""
    return value.str.replace_many(*_SEPARATORS)


def parse_date(value: pl.Expr) -> pl.Expr:
    """``YYYY-MM-DD``, ``YYYY-M-D``, ``YYYY/M/D``, ``YYYY年M月D日``, each optionally with a
    midnight time (`` 00:00:00``); must be a real date (2015-02-30 is not)."""
    canon = _canonical_date_time(value).str.replace(rf"{_MIDNIGHT}$", "")
    parsed = canon.str.to_date("%Y-%m-%d", strict=False)
    return pl.when(value.str.contains(DATE_PATTERN)).then(real_date_expr(parsed))


ISO_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def parse_iso_date(value: pl.Expr) -> pl.Expr:
    """Only ``YYYY-MM-DD``: a cheaper parser that agrees with :func:`parse_date` wherever
    it returns a value (the validator tries it first and falls back on a column basis)."""
    parsed = value.str.to_date("%Y-%m-%d", strict=False)
    return pl.when(value.str.contains(ISO_DATE_PATTERN)).then(real_date_expr(parsed))


def real_date_expr(parsed: pl.Expr) -> pl.Expr:
    """Null for year 0, which the parser accepts but is no calendar year (Python's dates
    start at year 1)."""
    return pl.when(parsed >= date(1, 1, 1)).then(parsed)


def parse_datetime(value: pl.Expr) -> pl.Expr:
    """A date in any accepted form, optionally followed (space or ``T``) by ``H:MM``,
    ``H:MM:SS`` or ``H:MM:SS.fff``; a date alone is midnight. Naive, microseconds."""
    canon = _canonical_date_time(value)
    dtype = pl.Datetime("us")
    parsed = pl.coalesce(
        canon.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False),
        canon.str.to_datetime("%Y-%m-%d %H:%M", time_unit="us", strict=False),
        canon.str.to_date("%Y-%m-%d", strict=False).cast(dtype),
    )
    return pl.when(value.str.contains(DATETIME_PATTERN) & (parsed >= datetime(1, 1, 1))).then(
        parsed
    )


# --- numbers --------------------------------------------------------------------------

_DIGITS = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)"  # plain, or with thousands separators
INT_PATTERN = rf"^[+-]?{_DIGITS}(?:\.0+)?$"
DECIMAL_PATTERN = rf"^[+-]?(?:{_DIGITS}(?:\.[0-9]+)?|\.[0-9]+)%?$"
MONEY_PATTERN = rf"^[¥￥]?\s*{_DIGITS}(?:\.[0-9]{{1,2}})?\s*元?$"
MONEY_DTYPE = pl.Decimal(18, 2)


def parse_int(value: pl.Expr) -> pl.Expr:
    """Digits with an optional sign and thousands separators (``1,234``); a zero
    fraction (``12.0``, as spreadsheets export whole numbers) is accepted. Int64."""
    digits = value.str.replace_all(",", "", literal=True).str.replace(r"\.0+$", "")
    return pl.when(value.str.contains(INT_PATTERN)).then(digits.str.to_integer(strict=False))


def parse_decimal(value: pl.Expr) -> pl.Expr:
    """A number with optional sign, thousands separators, fraction and a trailing ``%``
    (the columns are percentages already: ``3.5%`` is 3.5). Float64."""
    digits = value.str.replace_all(",", "", literal=True).str.strip_suffix("%")
    return pl.when(value.str.contains(DECIMAL_PATTERN)).then(digits.cast(pl.Float64, strict=False))


def parse_money(value: pl.Expr) -> pl.Expr:
    """Yuan, >= 0, at most 2 decimals, thousands separators, optional ``¥``/``￥`` before
    and ``元`` after. Decimal(18, 2); a sign makes it invalid."""
    digits = value.str.replace_all(r"[,¥￥元\s]", "")
    return pl.when(value.str.contains(MONEY_PATTERN)).then(digits.cast(MONEY_DTYPE, strict=False))


def in_range_expr(value: pl.Expr, minimum: float | None, maximum: float | None) -> pl.Expr:
    """False where a parsed value lies outside [minimum, maximum]; null stays null."""
    conditions = []
    if minimum is not None:
        conditions.append(value >= minimum)
    if maximum is not None:
        conditions.append(value <= maximum)
    return reduce(operator.and_, conditions, value.is_not_null() | value.is_null())


# --- scalar helper --------------------------------------------------------------------

Parsed = bool | int | float | Decimal | date | datetime | str | None


def parse_value(parser: Callable[[pl.Expr], pl.Expr], s: str | None) -> Parsed:
    """Normalise and parse one value with ``parser`` (for tests and generators)."""
    frame = pl.DataFrame({"v": [s]}, schema={"v": pl.String})
    return frame.select(parser(normalise(pl.col("v"))))["v"][0]
