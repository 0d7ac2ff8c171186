"""The row rules of one file, vectorised: raw strings in; typed good rows, quarantined
rows with every reason, and a problem list out.

The checks are built by walking :func:`pipelines.contract.rules.applicable_rules`, one
failure expression per applied rule, so the validator raises exactly the codes the
contract lists for a dataset (:func:`possible_codes`) and nothing else.

Speed: normalising (NFKC above all) costs more than reading the file, and most values
of most files need none of it. So the rules first run on the values as they are (blank
to null, dates tried as ``YYYY-MM-DD`` only, booleans in their usual spellings), with
one flag per column saying whether that was exact: every value the quick pass did not
take (unparsed, unknown enum value, malformed ID/code/phone, text with surrounding
spaces or a character NFKC could change) is one that full normalisation and parsing
would not take either. Where a column is not exact, only its untaken values are fully
normalised and parsed, and only the checks reading that column run again. The result
is the same either way (tests compare it with normalising every value).

Decisions beyond the contract's text:

* A malformed row (``_malformed``) gets ``row.malformed`` only: its values are shifted
  against the header, so judging them would only add noise. Malformed rows also take no
  part in the file-level rules (duplicate keys, duplicate active IDs, the as-of date).
  The same holds for a line the CSV reader split out of a record that ran over several
  lines (``_broken_quote``, present only when the reader found one): ``row.broken_quote``.
* A cell longer than ``MAX_CELL_CHARS`` (``value.too_long``) or with a line break in a
  column that allows none (``value.line_break``; from an XLSX cell or a JSONL string, a
  CSV never gets here with one) is reported for that only: the other rules naming its
  column are not judged on it. The row still takes part in the file-level rules.
* Warnings are reported only for rows that load (the warning message says so).
* The file-wide rules (duplicate keys, unique-where rules such as duplicate active ID
  numbers, the as-of date) can be computed once by :func:`file_facts` and passed to
  :func:`validate`, which then judges any slice of the file's rows exactly as it would
  judge them inside the whole file (the ingestion of large files works that way).
* A birthday on 29 February reaches its 16th anniversary on 28 February when that year
  is not a leap year (Polars calendar offsets clamp to the month's end).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import polars as pl

from pipelines.contract.rules import CELL_CODES, AppliedRule, Severity, applicable_rules, rule
from pipelines.contract.schema import (
    MAX_CELL_CHARS,
    Column,
    ColumnType,
    Dataset,
    DatasetRule,
    IdentityAgreement,
    NotAfter,
    Ordered,
    Prefix,
    RequiredWhen,
    UniqueWhere,
    WarnGreater,
)
from pipelines.ingest.headers import BROKEN
from pipelines.ingest.model import LINE, MALFORMED, PROBLEM_SCHEMA, REASONS, Validated
from pipelines.rules import idcard, phone, uscc, values

AS_OF = "as_of_date"
STREET = "street_code"
REASON_DTYPE = pl.List(pl.Struct({"code": pl.String, "column": pl.String}))

DTYPES: dict[ColumnType, pl.DataType] = {
    ColumnType.STR: pl.String(),
    ColumnType.INT: pl.Int64(),
    ColumnType.DECIMAL: pl.Float64(),
    ColumnType.MONEY: values.MONEY_DTYPE,
    ColumnType.DATE: pl.Date(),
    ColumnType.DATETIME: pl.Datetime("us"),
    ColumnType.BOOL: pl.Boolean(),
    ColumnType.ENUM: pl.String(),
    ColumnType.ID18: pl.String(),
    ColumnType.USCC: pl.String(),
    ColumnType.PHONE: pl.String(),
}

_PARSERS = {
    ColumnType.INT: values.parse_int,
    ColumnType.DECIMAL: values.parse_decimal,
    ColumnType.MONEY: values.parse_money,
    ColumnType.DATE: values.parse_date,
    ColumnType.DATETIME: values.parse_datetime,
    ColumnType.BOOL: values.parse_bool,
}
_FAST_PARSERS = {
    **_PARSERS,
    ColumnType.DATE: values.parse_iso_date,
    ColumnType.BOOL: values.parse_bool_exact,
}

_OK_ROW = ~pl.col(MALFORMED) & ~pl.col(BROKEN)
_ROW_CODES = frozenset({"row.malformed", "row.broken_quote"})  # judged on every row
_FILE_AS_OF = "__file_as_of"
_BAD, _WARN = "__bad", "__warn"


def _n(name: str) -> pl.Expr:
    """The normalised value of a contract column."""
    return pl.col(f"__n__{name}")


def _t(name: str) -> pl.Expr:
    """The typed value of a contract column (null when missing or unparseable)."""
    return pl.col(f"__t__{name}")


def _exact(name: str) -> str:
    return f"__exact__{name}"


def _format_fails(name: str) -> pl.Expr:
    """The format check of an ID18, USCC or phone column, computed once."""
    return pl.col(f"__format__{name}")


def _id_parts(name: str) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(format fails, check character fails, birth date) of an ID18 column."""
    return _format_fails(name), pl.col(f"__idcheck__{name}"), pl.col(f"__idbirth__{name}")


def _too_long(name: str) -> pl.Expr:
    """``value.too_long`` of a contract column, computed once (:func:`_cell_flags`)."""
    return pl.col(f"__long__{name}")


def _line_break(name: str) -> pl.Expr:
    """``value.line_break`` of a contract column, computed once (:func:`_cell_flags`)."""
    return pl.col(f"__break__{name}")


def _cell_fails(col: Column) -> pl.Expr:
    """Whether the cell as written breaks a rule of :data:`CELL_CODES`."""
    fails = _too_long(col.name)
    return fails if col.allows_line_break else fails | _line_break(col.name)


def _id_valid(name: str) -> pl.Expr:
    fmt, chk, birth = _id_parts(name)
    return _n(name).is_not_null() & ~fmt & ~chk & birth.is_not_null()


@dataclass(frozen=True)
class FileFacts:
    """The file-wide facts of one file, computed from the whole file by :func:`file_facts`.

    ``duplicated`` maps the (code, column) of each uniqueness rule (``duplicate_key_in_file``
    and every :class:`UniqueWhere` rule) to the normalised values occurring on more than
    one eligible (non-malformed) row; ``as_of_date`` is the file's as-of date.
    """

    duplicated: dict[tuple[str, str], pl.Series]
    as_of_date: date | None


@dataclass(frozen=True)
class Check:
    code: str
    column: str | None
    fails: pl.Expr  # True where the row breaks the rule, never null
    severity: Severity


# --- normalise and parse --------------------------------------------------------------


def _upper_cased(col: Column) -> bool:
    """IDs and credit codes are stored upper-case; so are A-T style enum values."""
    if col.type in (ColumnType.ID18, ColumnType.USCC):
        return True
    return col.type is ColumnType.ENUM and all(v.isascii() and v == v.upper() for v in col.enum)


def _label_forms(col: Column) -> list[str]:
    """The names of an enum's values, normalised as its values are."""
    forms = [values.normalise_text(label) for label in col.enum_labels]
    return [f.upper() for f in forms] if _upper_cased(col) else forms


def _normalised(col: Column, *, full: bool, street_code: str) -> pl.Expr:
    raw = pl.col(col.name)
    if full:
        value = values.normalise(raw)
        if _upper_cased(col):
            value = value.str.to_uppercase()
        if col.enum_labels:  # "C 制造业" (a template's dropdown choice) is C
            value = values.labelled_code(value, col.enum, _label_forms(col))
    else:  # the value as it is; _exact_flag says whether that was good enough
        value = pl.when(raw.str.len_bytes() > 0).then(raw)
    if col.blank_default is not None:
        value = value.fill_null(pl.lit(col.blank_default))
    if col.name == STREET:
        value = value.fill_null(pl.lit(street_code))
    return value.alias(f"__n__{col.name}")


_FORMAT_CHECKS = {
    ColumnType.ID18: idcard.format_fails_expr,
    ColumnType.USCC: uscc.format_fails_expr,
    ColumnType.PHONE: phone.format_fails_expr,
}


def _typed(col: Column, *, full: bool) -> list[pl.Expr]:
    """The typed value, and the format check of formatted columns."""
    parser = (_PARSERS if full else _FAST_PARSERS).get(col.type)
    value = parser(_n(col.name)) if parser else _n(col.name)
    out = [value.cast(DTYPES[col.type]).alias(f"__t__{col.name}")]
    if col.type in _FORMAT_CHECKS:
        out.append(_FORMAT_CHECKS[col.type](_n(col.name)).alias(f"__format__{col.name}"))
    return out


def _derived(col: Column) -> list[pl.Expr]:
    """What several checks of an ID18 column read, computed once."""
    if col.type is not ColumnType.ID18:
        return []
    value, fmt = _n(col.name), _format_fails(col.name)
    return [
        idcard.check_fails_expr(value, fmt).alias(f"__idcheck__{col.name}"),
        idcard.birth_date_expr(value, fmt).alias(f"__idbirth__{col.name}"),
    ]


def _quick_ok(col: Column) -> pl.Expr:
    """Rows whose value the quick pass took as final: text NFKC-stable with no surrounding
    spaces, an allowed enum value, a well-formed ID/code/phone, a parsed typed value."""
    value = _n(col.name)
    match col.type:
        case ColumnType.STR:
            return ~values.needs_normalise_expr(value)
        case ColumnType.ENUM:
            return value.is_in(col.enum)
        case ColumnType.ID18 | ColumnType.USCC | ColumnType.PHONE:
            return ~_format_fails(col.name)
    return _t(col.name).is_not_null()


def _quick_failed(col: Column) -> pl.Expr:
    """Rows with a value the quick pass did not take as final."""
    return _n(col.name).is_not_null() & ~_quick_ok(col)


def _exact_flag(col: Column) -> pl.Expr:
    """Whether the quick pass gave what full normalisation and parsing would: every value
    it did not take is one that normalising would not change and that the full parser
    would not accept either (so it is reported the same either way)."""
    failed = _n(col.name).filter(_quick_failed(col))
    exact = ~values.needs_normalise_expr(failed).any()
    if _upper_cased(col):
        exact = exact & ~failed.str.contains("[a-z]").any()
    if col.enum_labels:  # a code written with its name is taken by full normalisation only
        exact = exact & (failed.len() == 0)
    full_parser = _PARSERS.get(col.type)
    if full_parser is not None and full_parser is not _FAST_PARSERS[col.type]:
        exact = exact & full_parser(failed).is_null().all()
    return exact


def _prepare(raw: pl.DataFrame, dataset: Dataset) -> pl.DataFrame:
    """Every contract column present as String (absent ones null), ``_malformed`` set."""
    fill = [
        pl.col(c.name).cast(pl.String)
        if c.name in raw.columns
        else pl.lit(None, pl.String).alias(c.name)
        for c in dataset.columns
    ]
    flags = [
        (pl.col(f).fill_null(False) if f in raw.columns else pl.lit(False)).alias(f)
        for f in (MALFORMED, BROKEN)
    ]
    return raw.with_columns(*fill, *flags)


_PROBE_BYTES = 1 << 30  # a column with more text than this is checked row by row


def _cell_flags(frame: pl.DataFrame, dataset: Dataset) -> list[pl.Expr]:
    """The rules on each cell as written (the raw string, before any normalising): longer
    than MAX_CELL_CHARS, a line break where the column allows none.

    Most files break neither, and a per-row search costs more than the rest of the quick
    pass, so each column is probed whole first (its longest value in bytes; its values
    joined, searched once): a column the probe clears gets a constant False."""
    cols = list(dataset.columns)
    stats = frame.select(
        *(pl.col(c.name).str.len_bytes().max().alias(f"max {c.name}") for c in cols),
        *(pl.col(c.name).str.len_bytes().sum().alias(f"sum {c.name}") for c in cols),
    ).row(0, named=True)
    texts = {c.name for c in cols if not c.allows_line_break and (stats[f"max {c.name}"] or 0) > 0}
    joinable = [n for n in sorted(texts) if stats[f"sum {n}"] <= _PROBE_BYTES]
    probed: dict[str, bool] = {}
    if joinable:
        found = frame.select(pl.col(n).str.join("").str.contains(r"[\r\n]") for n in joinable)
        probed = found.row(0, named=True)
    out = []
    for col in cols:
        raw = pl.col(col.name)
        # bytes >= characters: no value longer in bytes than the limit, none too long
        long = (stats[f"max {col.name}"] or 0) > MAX_CELL_CHARS
        flag = (raw.str.len_chars() > MAX_CELL_CHARS).fill_null(False) if long else pl.lit(False)
        out.append(flag.alias(f"__long__{col.name}"))
        if not col.allows_line_break:
            maybe = probed.get(col.name, col.name in texts)  # too big to join: per row
            flag = raw.str.contains(r"[\r\n]").fill_null(False) if maybe else pl.lit(False)
            out.append(flag.alias(f"__break__{col.name}"))
    return out


def _file_as_of_expr() -> pl.Expr:
    """The most common as-of date of the file (non-malformed rows); ties go to the latest."""
    return _t(AS_OF).filter(_OK_ROW).drop_nulls().mode().max().alias(_FILE_AS_OF)


# --- one failure expression per applied rule -----------------------------------------


def _present_unparsed(name: str) -> pl.Expr:
    return _n(name).is_not_null() & _t(name).is_null()


def _type_check(code: str, col: Column) -> pl.Expr:
    name = col.name
    match code:
        case "int.invalid" | "decimal.invalid" | "money.invalid":
            return _present_unparsed(name)
        case "date.invalid" | "datetime.invalid" | "bool.invalid":
            return _present_unparsed(name)
        case "int.range" | "decimal.range":
            return ~values.in_range_expr(_t(name), col.effective_minimum, col.maximum)
        case "enum.unknown":
            return _n(name).is_not_null() & ~_n(name).is_in(col.enum)
        case "id_number.format":
            return _id_parts(name)[0]
        case "id_number.check_digit":
            return _id_parts(name)[1]
        case "id_number.birth_date":  # reported only when format and check digit hold
            fmt, chk, birth = _id_parts(name)
            return _n(name).is_not_null() & ~fmt & ~chk & birth.is_null()
        case "uscc.format" | "phone.format":
            return _format_fails(name)
        case "uscc.check_digit":
            return uscc.check_fails_expr(_n(name))
    raise KeyError(code)


_TYPE_CODES = frozenset(
    {
        "int.invalid", "int.range", "decimal.invalid", "decimal.range", "money.invalid",
        "date.invalid", "datetime.invalid", "bool.invalid", "enum.unknown",
        "id_number.format", "id_number.check_digit", "id_number.birth_date",
        "uscc.format", "uscc.check_digit", "phone.format",
    }
)  # fmt: skip
_IDENTITY_CODES = frozenset({"gender.id_mismatch", "birth_date.id_mismatch", "join_date.under_16"})


def _takes(dataset: Dataset, column: str, declared: Iterable[str]) -> pl.Expr:
    """Rows where ``column`` takes one of the ``declared`` values (compared as booleans
    for a bool column, as normalised strings otherwise)."""
    if dataset.column(column).type is ColumnType.BOOL:
        wanted = [values.parse_bool_value(v) for v in declared]
        return _t(column).is_in([w for w in wanted if w is not None])
    return _n(column).is_in(list(declared))


def _duplicated(value: pl.Expr, where: pl.Expr, known: pl.Series | None = None) -> pl.Expr:
    """Non-null values occurring on more than one (non-malformed, ``where``) row; with
    ``known`` (the file's duplicated values, from :func:`file_facts`), those values."""
    if known is not None:
        return where & _OK_ROW & value.is_not_null() & value.is_in(known.implode())
    masked = pl.when(where & _OK_ROW).then(value)
    return masked.is_not_null() & (pl.len().over(masked) > 1)


def _identity_check(a: AppliedRule, dataset: Dataset) -> pl.Expr:
    agreement = next(
        r for r in dataset.rules if isinstance(r, IdentityAgreement) and r.id_column == a.other
    )
    valid = _id_valid(agreement.id_column)
    birth = _id_parts(agreement.id_column)[2]
    match a.code:
        case "gender.id_mismatch":
            gender = _n(agreement.gender_column)
            enum = dataset.column(agreement.gender_column).enum
            expected = idcard.gender_expr(_n(agreement.id_column))
            return valid & gender.is_in(enum) & (gender != expected)
        case "birth_date.id_mismatch":
            return valid & (_t(agreement.birth_column) != birth)
        case "join_date.under_16":
            sixteenth = birth.dt.offset_by(f"{agreement.min_join_age}y")
            return valid & (_t(agreement.join_column) < sixteenth)
    raise KeyError(a.code)


def _declared_check(
    declared: DatasetRule, dataset: Dataset, facts: FileFacts | None = None
) -> pl.Expr:
    match declared:
        case Ordered(column=c, other=o, strict=True):
            return _t(c) <= _t(o)
        case Ordered(column=c, other=o):
            return _t(c) < _t(o)
        case NotAfter(column=c, other=o) | WarnGreater(column=c, other=o):
            return _t(c) > _t(o)
        case RequiredWhen(column=c, when_column=w, values=when_values):
            return _takes(dataset, w, when_values) & _n(c).is_null()
        case Prefix(column=c, prefix=p):
            return _n(c).is_not_null() & ~_n(c).str.starts_with(p)
        case UniqueWhere(code=code, column=c, where_column=w, where_value=v):
            known = facts.duplicated[(code, c)] if facts is not None else None
            return _duplicated(_n(c), _takes(dataset, w, (v,)), known)
    raise KeyError(declared)


def _check(
    a: AppliedRule, dataset: Dataset, street_code: str, facts: FileFacts | None = None
) -> pl.Expr:
    if a.code == "row.malformed":
        return pl.col(MALFORMED)
    if a.code == "row.broken_quote":
        return pl.col(BROKEN)
    if a.code == "value.too_long" and a.column is not None:
        return _too_long(a.column)
    if a.code == "value.line_break" and a.column is not None:
        return _line_break(a.column)
    if a.code == "required" and a.column is not None:
        return _n(a.column).is_null()
    if a.code in _TYPE_CODES and a.column is not None:
        return _type_check(a.code, dataset.column(a.column))
    if a.code == "street_mismatch":
        return _n(STREET) != pl.lit(street_code)
    if a.code == "duplicate_key_in_file":
        known = facts.duplicated[(a.code, dataset.key)] if facts is not None else None
        return _duplicated(_n(dataset.key), pl.lit(True), known)
    if a.code == "as_of_date.inconsistent":
        return _t(AS_OF) != pl.col(_FILE_AS_OF)
    if a.code in _IDENTITY_CODES:
        return _identity_check(a, dataset)
    for declared in dataset.rules:
        if (
            getattr(declared, "code", None) == a.code
            and getattr(declared, "column", None) == a.column
        ):
            return _declared_check(declared, dataset, facts)
    raise KeyError(f"no check implements rule {a.code!r} ({dataset.name}.{a.column})")


def checks(dataset: Dataset, street_code: str, facts: FileFacts | None = None) -> list[Check]:
    """One check per distinct (code, column) of ``applicable_rules(dataset)``, in order.
    With ``facts``, the file-wide checks read them instead of the frame's other rows."""
    merged: dict[tuple[str, str | None], pl.Expr] = {}
    for applied in applicable_rules(dataset):
        fails = _check(applied, dataset, street_code, facts).fill_null(False)
        if applied.code not in _ROW_CODES:
            fails = fails & _OK_ROW
        if applied.code not in CELL_CODES and applied.column is not None:
            fails = fails & ~_cell_fails(dataset.column(applied.column))
        key = (applied.code, applied.column)
        merged[key] = merged[key] | fails if key in merged else fails
    return [Check(code, col, fails, rule(code).severity) for (code, col), fails in merged.items()]


def possible_codes(dataset: Dataset) -> frozenset[str]:
    """The codes :func:`validate` can raise for ``dataset`` (its checks' codes)."""
    return frozenset(c.code for c in checks(dataset, street_code=""))


# --- running the checks ---------------------------------------------------------------


def _any(flags: list[str]) -> pl.Expr:
    return pl.any_horizontal(pl.col(f) for f in flags) if flags else pl.lit(False)


def _parse(
    lf: pl.LazyFrame, columns: list[Column], *, full: bool, street_code: str
) -> pl.LazyFrame:
    """Normalised and typed values of ``columns``; quickly (values as they are) or fully."""
    return lf.with_columns(
        _normalised(c, full=full, street_code=street_code) for c in columns
    ).with_columns(e for c in columns for e in _typed(c, full=full))


def _sources(expr: pl.Expr) -> set[str]:
    """The contract columns whose values an expression over internal columns reads."""
    out: set[str] = set()
    for name in expr.meta.root_names():
        if name == _FILE_AS_OF:
            out.add(AS_OF)
        elif name.startswith("__") and name.count("__") >= 2:
            out.add(name.split("__", 2)[2])
    return out


def _check_all(
    lf: pl.LazyFrame,
    dataset: Dataset,
    flagged: list[tuple[str, Check]],
    only: set[str] | None = None,
    facts: FileFacts | None = None,
) -> pl.LazyFrame:
    """Shared intermediate values, then the checks, then the row verdicts. With ``only``,
    just what reads those columns is (re)computed; the rest is already in ``lf``."""

    def wanted(names: set[str]) -> bool:
        return only is None or bool(names & only)

    lf = lf.with_columns(e for c in dataset.columns if wanted({c.name}) for e in _derived(c))
    if dataset.is_registry and wanted({AS_OF}):
        file_as_of = (
            _file_as_of_expr()
            if facts is None
            else pl.lit(facts.as_of_date, dtype=pl.Date).alias(_FILE_AS_OF)
        )
        lf = lf.with_columns(file_as_of)
    severity = {Severity.QUARANTINE: _BAD, Severity.WARNING: _WARN}
    return lf.with_columns(
        c.fails.alias(f) for f, c in flagged if wanted(_sources(c.fails))
    ).with_columns(
        _any([f for f, c in flagged if severity[c.severity] == flag]).alias(flag)
        for flag in (_BAD, _WARN)
    )


def _redo(result: pl.DataFrame, col: Column, street_code: str) -> list[pl.Series]:
    """Full normalisation and parsing of one column, computed only for the rows the quick
    pass did not take as final (NFKC is costly), scattered into its internal columns."""
    rows = result.select(_quick_failed(col)).to_series().arg_true()
    subset = result.select(pl.col(col.name).gather(rows)).lazy()
    redone = _parse(subset, [col], full=True, street_code=street_code).collect()
    names = [n for n in redone.columns if n.startswith("__")]
    return [result[n].clone().scatter(rows, redone[n]) for n in names]


def _run(
    frame: pl.DataFrame,
    dataset: Dataset,
    street_code: str,
    flagged: list[tuple[str, Check]],
    facts: FileFacts | None = None,
) -> pl.DataFrame:
    """The quick pass over every column; then, only if some column needs it, full
    normalisation of that column's failed rows and the checks that read it again."""
    cols = list(dataset.columns)
    quick = _parse(frame.lazy(), cols, full=False, street_code=street_code).with_columns(
        _exact_flag(c).alias(_exact(c.name)) for c in cols
    )
    result = _check_all(quick, dataset, flagged, facts=facts).collect()
    redo = [c for c in cols if result.height and not result[_exact(c.name)][0]]
    if redo:
        result = result.with_columns(s for c in redo for s in _redo(result, c, street_code))
        only = {c.name for c in redo}
        result = _check_all(result.lazy(), dataset, flagged, only, facts).collect()
    return result


_ROW, _ORDER = "__row", "__order"


_LONG_SCHEMA = {
    _ROW: pl.UInt32(),
    LINE: pl.Int64(),
    _ORDER: pl.UInt32(),
    "column": pl.String(),
    "code": pl.String(),
    "severity": pl.String(),
}


def _long(rows: pl.DataFrame, flagged: list[tuple[str, Check]]) -> pl.DataFrame:
    """One row per (row, failed check): row index, line, check order, column, code,
    severity. Cheap: each check that failed somewhere is one filter of a boolean column
    (which ones is one pass; most files fail few checks or none)."""
    failed = rows.select(pl.col(flag).any() for flag, _ in flagged).row(0) if rows.height and flagged else ()
    parts = [
        rows.lazy()
        .filter(pl.col(flag))
        .select(
            pl.col(_ROW),
            pl.col(LINE).cast(pl.Int64),
            pl.lit(order, dtype=pl.UInt32).alias(_ORDER),
            pl.lit(c.column, dtype=pl.String).alias("column"),
            pl.lit(c.code, dtype=pl.String).alias("code"),
            pl.lit(c.severity.value, dtype=pl.String).alias("severity"),
        )
        for order, ((flag, c), hit) in enumerate(zip(flagged, failed, strict=False))
        if hit
    ]
    return pl.concat([pl.LazyFrame(schema=_LONG_SCHEMA), *parts]).collect()


def _reasons(long: pl.DataFrame) -> pl.Series:
    """Every reason of each quarantined row, in check order (``long`` covers each
    quarantined row at least once, so the groups come out one per row, in row order)."""
    return (
        long.lazy()
        .sort(_ROW, _ORDER)
        .group_by(_ROW, maintain_order=True)
        .agg(pl.struct("code", "column").alias(REASONS))
        .select(pl.col(REASONS).cast(REASON_DTYPE))
        .collect()
        .to_series()
    )


def _parsed(frame: pl.DataFrame, cols: list[Column], street_code: str) -> pl.DataFrame:
    """Final normalised and typed values of ``cols`` (quick pass, then full normalisation
    of the values it did not take, as :func:`_run` does)."""
    result = (
        _parse(frame.lazy(), cols, full=False, street_code=street_code)
        .with_columns(_exact_flag(c).alias(_exact(c.name)) for c in cols)
        .collect()
    )
    redo = [c for c in cols if result.height and not result[_exact(c.name)][0]]
    if redo:
        result = result.with_columns(s for c in redo for s in _redo(result, c, street_code))
    return result


def _duplicated_values(present: pl.Series) -> pl.Series:
    """The values occurring more than once among the non-null ``present``."""
    present = present.drop_nulls()
    # Values whose 64-bit hash repeats (all the duplicates, maybe a few others), found by
    # sorting the hashes; then exactly: counting the few candidates costs far less than
    # hashing every string into a table.
    hashes = present.hash(seed=0)
    ordered = hashes.sort()
    repeated = ordered.filter(ordered == ordered.shift(1)).unique()
    candidates = present.filter(hashes.is_in(repeated.implode()))
    counts = candidates.value_counts(name="n")
    return counts.filter(pl.col("n") > 1).get_column(present.name).sort()


def file_facts(
    raw: pl.DataFrame, dataset: Dataset, street_code: str, *, slice_rows: int = 1_000_000
) -> FileFacts:
    """The file-wide facts of a whole file (``raw`` as :func:`validate` takes it), from
    only the columns they read (the key, the unique-where columns, the as-of date),
    normalised ``slice_rows`` rows at a time to bound the memory it takes."""
    unique = [r for r in dataset.rules if isinstance(r, UniqueWhere)]
    names = {dataset.key, *(r.column for r in unique), *(r.where_column for r in unique)}
    if dataset.is_registry:
        names.add(AS_OF)
    cols = [c for c in dataset.columns if c.name in names]
    present = [c.name for c in cols if c.name in raw.columns]
    slim = raw.select(*present, *(c for c in (MALFORMED, BROKEN) if c in raw.columns))
    keys: dict[tuple[str, str], pl.Expr] = {
        ("duplicate_key_in_file", dataset.key): pl.when(_OK_ROW).then(_n(dataset.key))
    }
    for r in unique:
        where = _takes(dataset, r.where_column, (r.where_value,))
        keys[(r.code, r.column)] = pl.when(where & _OK_ROW).then(_n(r.column))
    wanted = [e.alias(f"v{i}") for i, e in enumerate(keys.values())]
    if dataset.is_registry:
        wanted.append(pl.when(_OK_ROW).then(_t(AS_OF)).alias(AS_OF))
    parts = [
        _parsed(_prepare(slim.slice(start, slice_rows), dataset), cols, street_code).select(wanted)
        for start in range(0, max(slim.height, 1), slice_rows)
    ]
    values_ = pl.concat(parts, rechunk=False)
    del parts
    duplicated = {key: _duplicated_values(values_[f"v{i}"]) for i, key in enumerate(keys)}
    as_of: date | None = None
    if dataset.is_registry and values_.height:
        as_of = values_.select(pl.col(AS_OF).drop_nulls().mode().max()).item()
    return FileFacts(duplicated=duplicated, as_of_date=as_of)


def validate(
    raw: pl.DataFrame,
    dataset: Dataset,
    street_code: str,
    file_facts: FileFacts | None = None,
) -> Validated:
    """Apply the row rules of ``dataset`` to one file read as strings.

    ``raw`` has String columns named canonically for the contract columns that were in
    the file (absent optional ones are treated as blank), possibly extra columns, and
    ``_line_number``/``_malformed``. ``street_code`` is the street folder's code.

    ``file_facts`` (from :func:`file_facts` on the whole file) makes ``raw`` any slice
    of the file's rows: the file-wide rules then read the facts, not the slice. Without
    it, ``raw`` is the whole file and the facts are computed from it.
    """
    frame = _prepare(raw, dataset)
    frame = frame.with_columns(_cell_flags(frame, dataset))
    facts = file_facts
    flagged = [(f"__f{i}", c) for i, c in enumerate(checks(dataset, street_code, facts))]
    result = _run(frame, dataset, street_code, flagged, facts)

    quarantine = [(f, c) for f, c in flagged if c.severity is Severity.QUARANTINE]
    warning = [(f, c) for f, c in flagged if c.severity is Severity.WARNING]
    extras = [
        c for c in raw.columns if c not in dataset.column_names and c not in (LINE, MALFORMED, BROKEN)
    ]
    good_cols = [_t(c.name).alias(c.name) for c in dataset.columns] + [pl.col(extras), pl.col(LINE)]
    raw_cols = [pl.col(c.name) for c in dataset.columns] + [pl.col(extras), pl.col(LINE)]
    flag_cols = [pl.col(f) for f, _ in flagged]

    if result[_BAD].any():
        good = result.lazy().filter(~pl.col(_BAD)).select(good_cols).collect()
        bad = result.lazy().filter(pl.col(_BAD)).select(*raw_cols, *flag_cols).collect()
    else:
        good = result.select(good_cols)
        bad = result.select(*raw_cols, *flag_cols).clear()
    bad = bad.with_row_index(_ROW)
    warned = (
        result.lazy()
        .filter(pl.col(_WARN) & ~pl.col(_BAD))
        .select(LINE, *flag_cols)
        .with_row_index(_ROW)
        .collect()
    )
    quarantine_long = _long(bad, quarantine)
    problems = (
        pl.concat([quarantine_long, _long(warned, warning)])
        .select(*PROBLEM_SCHEMA)
        .sort([LINE, "code", "column"], nulls_last=False)
    )
    as_of: date | None = None
    if dataset.is_registry and result.height:
        as_of = result[_FILE_AS_OF][0]
    return Validated(
        good=good,
        quarantined=bad.select(*raw_cols).with_columns(_reasons(quarantine_long)),
        problems=problems,
        as_of_date=as_of,
    )
