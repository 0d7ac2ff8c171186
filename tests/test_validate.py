"""The validator: every row rule of every dataset, triggered by hand-made rows.

``valid_row`` builds a row that passes every rule of a dataset from the contract alone;
``BREAKERS`` break exactly one rule each. The parametrised test walks
``applicable_rules`` for every dataset, so a rule added to the contract without a way to
trigger it here fails the suite.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import polars as pl
import pytest

from pipelines.contract import DATASETS, MAX_CELL_CHARS, ColumnType, Dataset, get_dataset
from pipelines.contract.rules import AppliedRule, applicable_rules
from pipelines.ingest.headers import BROKEN
from pipelines.ingest.model import LINE, MALFORMED, PROBLEM_SCHEMA, REASONS, Validated
from pipelines.ingest.validate import REASON_DTYPE, possible_codes, validate
from pipelines.rules import idcard, uscc

STREET = "110101001"
OTHER_STREET = "110101002"
AS_OF = "2024-12-31"
BIRTH = "19900517"

Row = dict[str, str | None]


def make_id(n: int = 0, birth: str = BIRTH, male: bool = True) -> str:
    seq = (2 * n + (1 if male else 0)) % 1000  # the 17th digit's parity is the gender
    first17 = f"110101{birth}{seq:03d}"
    return first17 + idcard.id18_check_char(first17)


def make_uscc(n: int = 0, prefix: str = "91") -> str:
    first17 = f"{prefix}110000{n:09d}"
    return first17 + uscc.uscc_check_char(first17)


def _flip(check: str, alphabet: str) -> str:
    return alphabet[(alphabet.index(check) + 1) % len(alphabet)]


# values a valid row takes for particular columns (cross-field rules need them)
_FIXED: dict[str, str] = {
    "as_of_date": AS_OF,
    "birth_date": "1990-05-17",
    "join_date": "2010-03-01",
    "founded_date": "2005-06-01",
    "start_date": "2024-01-01",
    "end_date": "2026-12-31",
    "signed_date": "2023-12-20",
    "received_date": "2024-03-01",
    "closed_date": "2024-04-01",
    "received_at": "2024-03-01 09:30",
    "deadline_at": "2024-03-08 17:00",
    "responded_at": "2024-03-01 10:00",
    "closed_at": "2024-03-05 16:00",
    "employees": "120",
    "members": "100",
    "legal_person_registered": "是",
    "wage_increase_pct": "3.5",
    "street_code": STREET,
    "gender": "男",
    "status": "",  # the dataset's first enum value, set below
}

_BY_TYPE: dict[ColumnType, Callable[[str, int], str]] = {
    ColumnType.STR: lambda name, n: f"{name}-{n}",
    ColumnType.INT: lambda name, n: "5",
    ColumnType.DECIMAL: lambda name, n: "2.5",
    ColumnType.MONEY: lambda name, n: "1,234.50",
    ColumnType.DATE: lambda name, n: "2024-06-01",
    ColumnType.DATETIME: lambda name, n: "2024-06-01 08:00",
    ColumnType.BOOL: lambda name, n: "否",
    ColumnType.PHONE: lambda name, n: "13800138000",
}


def valid_row(dataset: Dataset, n: int = 0) -> Row:
    """A row passing every rule of ``dataset``; ``n`` makes ids and ID numbers distinct."""
    row: Row = {}
    for col in dataset.columns:
        if col.type is ColumnType.ENUM:
            value = _FIXED["gender"] if col.name == "gender" else col.enum[0]
        elif col.type is ColumnType.ID18:
            value = make_id(n)
        elif col.type is ColumnType.USCC:
            value = make_uscc(n, "81" if col.name == "union_credit_code" else "91")
        elif col.name in _FIXED:
            value = _FIXED[col.name]
        else:
            value = _BY_TYPE[col.type](col.name, n)
        row[col.name] = value
    return row


def frame(
    rows: list[Row],
    dataset: Dataset,
    malformed: list[bool] | None = None,
    broken: list[bool] | None = None,
) -> pl.DataFrame:
    """Rows as the reader gives them; ``broken`` adds the reader's broken-line flag."""
    names = list(rows[0]) if rows else list(dataset.column_names)
    data: dict[str, list[object]] = {c: [r.get(c) for r in rows] for c in names}
    data[LINE] = list(range(2, len(rows) + 2))
    data[MALFORMED] = malformed or [False] * len(rows)
    schema = {**dict.fromkeys(names, pl.String()), LINE: pl.Int64(), MALFORMED: pl.Boolean()}
    if broken is not None:
        data[BROKEN] = broken
        schema[BROKEN] = pl.Boolean()
    return pl.DataFrame(data, schema=schema)


def run(rows: list[Row], dataset: Dataset, **kw: object) -> Validated:
    v = validate(frame(rows, dataset, **kw), dataset, STREET)  # type: ignore[arg-type]
    assert v.good.height + v.quarantined.height == len(rows)
    return v


def reasons_by_line(v: Validated) -> dict[int, set[tuple[str, str | None]]]:
    return {
        line: {(r["code"], r["column"]) for r in reasons}
        for line, reasons in v.quarantined.select(LINE, REASONS).iter_rows()
    }


# --- breakers: each returns rows and the reasons expected per row (by index) ----------

Expected = dict[int, set[tuple[str, str | None]]]
Breaker = Callable[[Dataset, AppliedRule], tuple[list[Row], Expected]]


def _one(dataset: Dataset, a: AppliedRule, **changes: str | None) -> tuple[list[Row], Expected]:
    row = valid_row(dataset)
    row.update(changes)
    return [row], {0: {(a.code, a.column)}}


def _col(dataset: Dataset, a: AppliedRule) -> str:
    assert a.column is not None
    return a.column


def _out_of_range(dataset: Dataset, a: AppliedRule) -> tuple[list[Row], Expected]:
    col = dataset.column(_col(dataset, a))
    low = col.effective_minimum
    value = str(int(low) - 1) if low is not None else str(int(col.maximum or 0) + 1)
    return _one(dataset, a, **{col.name: value})


def _bad_check_digit(dataset: Dataset, a: AppliedRule) -> tuple[list[Row], Expected]:
    col = _col(dataset, a)
    good = valid_row(dataset)[col]
    assert good is not None
    alphabet = "0123456789X" if a.code.startswith("id_number") else uscc.ALPHABET
    return _one(dataset, a, **{col: good[:17] + _flip(good[17], alphabet)})


def _duplicate_key(dataset: Dataset, a: AppliedRule) -> tuple[list[Row], Expected]:
    first, second, other = valid_row(dataset, 0), valid_row(dataset, 1), valid_row(dataset, 2)
    second[dataset.key] = first[dataset.key]
    reason = {(a.code, a.column)}
    return [first, other, second], {0: reason, 2: reason}


def _inconsistent_as_of(dataset: Dataset, a: AppliedRule) -> tuple[list[Row], Expected]:
    rows = [valid_row(dataset, n) for n in range(3)]
    rows[1]["as_of_date"] = "2024-06-30"
    return rows, {1: {(a.code, a.column)}}


def _duplicate_active(dataset: Dataset, a: AppliedRule) -> tuple[list[Row], Expected]:
    rows = [valid_row(dataset, n) for n in range(3)]
    rows[2]["id_number"] = rows[0]["id_number"]
    return rows, {0: {(a.code, a.column)}, 2: {(a.code, a.column)}}


def _warning(dataset: Dataset, a: AppliedRule) -> tuple[list[Row], Expected]:
    return _one(dataset, a, members="121", employees="120")


def _broken_lines(dataset: Dataset, a: AppliedRule) -> tuple[list[Row], Expected]:
    """Two lines a stray quote ran together: the reader flags both (here by hand, see
    the test; through a CSV, a quote opened on the first and closed on the second)."""
    rows = [valid_row(dataset, n) for n in range(2)]
    return rows, {0: {(a.code, None)}, 1: {(a.code, None)}}


def _with_line_break(dataset: Dataset, a: AppliedRule) -> tuple[list[Row], Expected]:
    good = valid_row(dataset)[_col(dataset, a)] or "x"
    return _one(dataset, a, **{_col(dataset, a): f"{good[:1]}\n{good[1:]}"})


def _too_long(dataset: Dataset, a: AppliedRule) -> tuple[list[Row], Expected]:
    good = valid_row(dataset)[_col(dataset, a)] or "x"
    return _one(dataset, a, **{_col(dataset, a): good + "0" * MAX_CELL_CHARS})


BREAKERS: dict[str, Breaker] = {
    "row.malformed": lambda d, a: ([valid_row(d)], {0: {(a.code, None)}}),
    "required": lambda d, a: _one(d, a, **{_col(d, a): None}),
    "int.invalid": lambda d, a: _one(d, a, **{_col(d, a): "五"}),
    "int.range": _out_of_range,
    "decimal.invalid": lambda d, a: _one(d, a, **{_col(d, a): "3.5.1"}),
    "decimal.range": _out_of_range,
    "money.invalid": lambda d, a: _one(d, a, **{_col(d, a): "-5"}),
    "date.invalid": lambda d, a: _one(d, a, **{_col(d, a): "2015-02-30"}),
    "datetime.invalid": lambda d, a: _one(d, a, **{_col(d, a): "2024-03-01 25:00"}),
    "bool.invalid": lambda d, a: _one(d, a, **{_col(d, a): "也许"}),
    "enum.unknown": lambda d, a: _one(d, a, **{_col(d, a): "不在列表中"}),
    "id_number.format": lambda d, a: _one(d, a, **{_col(d, a): "11010119900517"}),
    "id_number.check_digit": _bad_check_digit,
    "id_number.birth_date": lambda d, a: _one(d, a, **{_col(d, a): make_id(0, "19900230")}),
    "uscc.format": lambda d, a: _one(d, a, **{_col(d, a): "81110000000000000I"}),
    "uscc.check_digit": _bad_check_digit,
    "phone.format": lambda d, a: _one(d, a, **{_col(d, a): "12345"}),
    "street_mismatch": lambda d, a: _one(d, a, street_code=OTHER_STREET),
    "duplicate_key_in_file": _duplicate_key,
    "as_of_date.inconsistent": _inconsistent_as_of,
    "gender.id_mismatch": lambda d, a: _one(d, a, gender="女"),
    "birth_date.id_mismatch": lambda d, a: _one(d, a, birth_date="1990-05-18"),
    "join_date.under_16": lambda d, a: _one(d, a, join_date="2006-05-16"),
    "date.after_as_of": lambda d, a: _one(d, a, **{_col(d, a): "2025-01-01"}),
    "end_date.not_after_start": lambda d, a: _one(d, a, end_date="2024-01-01"),
    "closed_date.required": lambda d, a: _one(d, a, status="调解成功", closed_date=None),
    "closed_date.before_received": lambda d, a: _one(d, a, closed_date="2024-02-29"),
    "deadline_at.not_after_received": lambda d, a: _one(d, a, deadline_at="2024-03-01 09:30"),
    "union_credit_code.required": lambda d, a: _one(d, a, union_credit_code=None),
    "union_credit_code.prefix": lambda d, a: _one(d, a, union_credit_code=make_uscc(5, "91")),
    "id_number.duplicate_active": _duplicate_active,
    "members.exceed_employees": _warning,
    "row.broken_quote": _broken_lines,
    "value.too_long": _too_long,
    "value.line_break": _with_line_break,
}

CASES = [
    pytest.param(d, a, id=f"{d.name}:{a.code}:{a.column}")
    for d in DATASETS
    for a in applicable_rules(d)
]


@pytest.mark.parametrize(("dataset", "applied"), CASES)
def test_every_rule_is_triggered_with_exactly_its_reason(
    dataset: Dataset, applied: AppliedRule
) -> None:
    rows, expected = BREAKERS[applied.code](dataset, applied)
    malformed = [True] if applied.code == "row.malformed" else None
    broken = [i in expected for i in range(len(rows))] if applied.code == "row.broken_quote" else None
    v = run(rows, dataset, malformed=malformed, broken=broken)
    if applied.code == "members.exceed_employees":
        assert v.quarantined.height == 0 and v.good.height == 1
        assert v.problems.rows() == [(2, "members", applied.code, "warning")]
        return
    assert reasons_by_line(v) == {i + 2: reasons for i, reasons in expected.items()}
    assert v.good.height == len(rows) - len(expected)
    problems = {(line, code, col) for line, col, code, _ in v.problems.iter_rows()}
    assert problems == {(i + 2, c, col) for i, rs in expected.items() for c, col in rs}
    assert set(v.problems["severity"]) == {"quarantine"}


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_possible_codes_are_the_applicable_rules(dataset: Dataset) -> None:
    assert possible_codes(dataset) == {a.code for a in applicable_rules(dataset)}
    assert set(BREAKERS) >= possible_codes(dataset)


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_clean_rows_load_typed_with_no_problems(dataset: Dataset) -> None:
    rows = [valid_row(dataset, n) for n in range(3)]
    v = run(rows, dataset)
    assert v.quarantined.height == 0 and v.problems.height == 0
    assert v.good.columns == [*dataset.column_names, LINE]
    expected = {
        ColumnType.INT: pl.Int64, ColumnType.DECIMAL: pl.Float64,
        ColumnType.MONEY: pl.Decimal(18, 2), ColumnType.DATE: pl.Date,
        ColumnType.DATETIME: pl.Datetime("us"), ColumnType.BOOL: pl.Boolean,
    }  # fmt: skip
    for col in dataset.columns:
        assert v.good.schema[col.name] == expected.get(col.type, pl.String), col.name
    assert v.good[LINE].to_list() == [2, 3, 4]
    assert v.as_of_date == (date(2024, 12, 31) if dataset.is_registry else None)


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_empty_frame(dataset: Dataset) -> None:
    v = validate(frame([], dataset), dataset, STREET)
    assert v.good.height == v.quarantined.height == v.problems.height == 0
    assert v.good.columns == [*dataset.column_names, LINE]
    assert v.quarantined.schema[REASONS] == REASON_DTYPE
    assert v.problems.schema == pl.Schema(PROBLEM_SCHEMA)
    assert v.as_of_date is None


def test_only_line_and_malformed_columns() -> None:
    """What the landing code passes to get an empty typed frame."""
    ds = get_dataset("members")
    raw = pl.DataFrame(
        {LINE: pl.Series([], dtype=pl.Int64), MALFORMED: pl.Series([], dtype=pl.Boolean)}
    )
    assert validate(raw, ds, "000000000").good.columns == [*ds.column_names, LINE]


# --- normalisation --------------------------------------------------------------------


def test_full_width_values_normalise_and_pass() -> None:
    ds = get_dataset("members")
    row = valid_row(ds)
    row["id_number"] = str(row["id_number"]).translate(
        str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
    )
    row["join_date"] = "２０１０－０３－０１"
    row["member_id"] = "\u3000Ｍ００１ "
    row["phone"] = "１３８００１３８０００"
    v = run([row], ds)
    assert v.quarantined.height == 0
    good = v.good.row(0, named=True)
    assert good["id_number"] == make_id(0)
    assert good["join_date"] == date(2010, 3, 1)
    assert good["member_id"] == "M001"
    assert good["phone"] == "13800138000"


def test_full_width_int_and_money() -> None:
    orgs, grants = get_dataset("union_orgs"), get_dataset("education_grants")
    row = valid_row(orgs) | {"employees": "１，２００", "members": " １００ "}
    assert run([row], orgs).good.select("employees", "members").row(0) == (1200, 100)
    row = valid_row(grants) | {"amount": "￥１，２３４.５元"}
    assert run([row], grants).good["amount"].item() == Decimal("1234.50")


def test_lower_case_x_is_stored_upper_case() -> None:
    ds = get_dataset("members")
    first17 = next(
        f"110101{BIRTH}{seq:03d}"
        for seq in range(1, 1000, 2)  # odd: male
        if idcard.id18_check_char(f"110101{BIRTH}{seq:03d}") == "X"
    )
    row = valid_row(ds) | {"id_number": (first17 + "x"), "gender": "男"}
    v = run([row], ds)
    assert v.good["id_number"].item() == first17 + "X"
    assert v.problems.height == 0


def test_quarantine_keeps_original_values() -> None:
    ds = get_dataset("members")
    row = valid_row(ds) | {"member_id": "  Ｍ１ ", "join_date": "2015-02-30", "model_worker": None}
    v = run([row], ds)
    q = v.quarantined.row(0, named=True)
    assert q["member_id"] == "  Ｍ１ " and q["join_date"] == "2015-02-30"
    assert q["model_worker"] is None
    assert q[REASONS] == [{"code": "date.invalid", "column": "join_date"}]
    assert v.quarantined.columns == [*ds.column_names, LINE, REASONS]


def test_dates_in_every_accepted_form() -> None:
    ds = get_dataset("legal_services")
    forms = ["2015-07-01", "2015/7/1", "2015年7月1日", "2015-7-1", "2015-07-01 00:00:00"]
    rows = [valid_row(ds, n) | {"service_date": f} for n, f in enumerate(forms)]
    v = run(rows, ds)
    assert v.good["service_date"].to_list() == [date(2015, 7, 1)] * len(forms)
    bad = [valid_row(ds, n) | {"service_date": f} for n, f in enumerate(["20150701", "2015-02-30"])]
    assert {r for rs in reasons_by_line(run(bad, ds)).values() for r in rs} == {
        ("date.invalid", "service_date")
    }


def test_money_values() -> None:
    ds = get_dataset("dispute_cases")
    values = ["1,234.50", "12.345", "-5", "¥300", "0", "1,23"]
    rows = [valid_row(ds, n) | {"amount_claimed": x} for n, x in enumerate(values)]
    v = run(rows, ds)
    assert v.good["amount_claimed"].to_list() == [Decimal("1234.50"), Decimal("300"), Decimal("0")]
    assert sorted(reasons_by_line(v)) == [3, 4, 7]


def test_bool_variants() -> None:
    ds = get_dataset("street_staff")
    variants = {"是": True, "否": False, "Y": True, "n": False, "TRUE": True, "False": False,
                "1": True, "0": False, "yes": True}  # fmt: skip
    rows = [valid_row(ds, n) | {"active": k} for n, k in enumerate(variants)]
    v = run(rows, ds)
    assert v.good["active"].to_list() == list(variants.values())
    v = run([valid_row(ds) | {"active": "对"}], ds)
    assert reasons_by_line(v) == {2: {("bool.invalid", "active")}}


def test_enum_letters_are_case_insensitive() -> None:
    ds = get_dataset("union_orgs")
    v = run([valid_row(ds) | {"industry": "ｃ"}], ds)
    assert v.good["industry"].item() == "C"


def section_spellings(code: str, name: str) -> list[str]:
    """How a clerk writes a section with its name: as the dropdown offers it, and with the
    gap, width, case and punctuation their keyboard gives."""
    full_width = chr(ord(code) + 0xFEE0)
    return [
        f"{code} {name}", f"{code}{name}", f"{code}\u3000{name}", f"{code.lower()} {name}",
        f"{full_width} {name}", f" {code}：{name}\u3000", f"{code}-{name}", f"{code}.{name}",
        f"{code}  {name.replace('、', '，')}", f"{code}\t{name.replace('、', ',')}", f"{code}、{name}",
    ]  # fmt: skip


def test_every_section_written_with_its_name_stores_the_letter() -> None:
    ds = get_dataset("union_orgs")
    industry = ds.column("industry")
    written, expected = [], []
    for code, name in zip(industry.enum, industry.enum_labels, strict=True):
        for spelling in [code, *section_spellings(code, name)]:
            written.append(spelling)
            expected.append(code)
    rows = [valid_row(ds, n) | {"org_id": f"O{n}", "industry": w} for n, w in enumerate(written)]
    v = run(rows, ds)
    assert v.quarantined.height == 0 and v.problems.height == 0
    assert v.good["industry"].to_list() == expected


def test_a_file_holding_only_dropdown_choices_stores_the_letters() -> None:
    """"C 制造业" needs no NFKC and has no surrounding space, so the quick pass alone would
    take it as written (and find it unknown): a named enum's untaken values always get the
    full normalisation."""
    ds = get_dataset("union_orgs")
    chosen = ["C 制造业", "J 金融业", "P 教育", "C 制造业"]
    rows = [valid_row(ds, n) | {"org_id": f"O{n}", "industry": w} for n, w in enumerate(chosen)]
    v = run(rows, ds)
    assert v.quarantined.height == 0
    assert v.good["industry"].to_list() == ["C", "J", "P", "C"]


def test_a_letter_with_another_sections_name_or_a_name_alone_is_an_unknown_value() -> None:
    ds = get_dataset("union_orgs")
    industry = ds.column("industry")
    sections = list(zip(industry.enum, industry.enum_labels, strict=True))
    rng = random.Random(4754)
    written = [f"{code} {other}" for code, _ in sections for _, other in rng.sample(sections, 3)
               if other != dict(sections)[code]]
    written += [name for _, name in sections]  # the name alone: which letter is not said
    written += ["C 制造", "C 制造业业", "CC 制造业", "Z 制造业", "C 制造业 J", "C制 造业x", "制造业 C"]
    rows = [valid_row(ds, n) | {"org_id": f"O{n}", "industry": w} for n, w in enumerate(written)]
    v = run(rows, ds)
    assert v.good.height == 0
    assert reasons_by_line(v) == {n + 2: {("enum.unknown", "industry")} for n in range(len(written))}
    assert v.quarantined["industry"].to_list() == written  # kept as the clerk wrote it


def test_blank_model_worker_is_none_level() -> None:
    ds = get_dataset("members")
    rows = [valid_row(ds, 0) | {"model_worker": None}, valid_row(ds, 1) | {"model_worker": "市级"}]
    assert run(rows, ds).good["model_worker"].to_list() == ["无", "市级"]


def test_absent_optional_columns_are_typed_nulls_and_extras_kept() -> None:
    ds = get_dataset("dispute_cases")
    row = {k: v for k, v in valid_row(ds).items() if k not in ("amount_claimed", "credit_code")}
    row["备注"] = "  原样保留 "
    v = run([row], ds)
    assert v.good.columns == [*ds.column_names, "备注", LINE]
    assert v.good.schema["amount_claimed"] == pl.Decimal(18, 2)
    assert v.good.select("amount_claimed", "credit_code", "备注").row(0) == (
        None,
        None,
        "  原样保留 ",
    )


# --- street, duplicates, as-of ----------------------------------------------------------


def test_blank_street_takes_the_folder() -> None:
    ds = get_dataset("training_events")
    rows = [
        valid_row(ds, 0) | {"street_code": None},
        valid_row(ds, 1) | {"street_code": " 110101001 "},
    ]
    v = run(rows, ds)
    assert v.good["street_code"].to_list() == [STREET, STREET]
    v = run([valid_row(ds) | {"street_code": "１１０１０１００２"}], ds)
    assert reasons_by_line(v) == {2: {("street_mismatch", "street_code")}}


def test_absent_street_column_takes_the_folder() -> None:
    ds = get_dataset("training_events")
    row = {k: v for k, v in valid_row(ds).items() if k != "street_code"}
    assert run([row], ds).good["street_code"].to_list() == [STREET]


def test_every_copy_of_a_duplicate_key_is_quarantined() -> None:
    ds = get_dataset("hardship_cases")
    rows = [valid_row(ds, n) for n in range(5)]
    rows[1]["aid_id"] = rows[3]["aid_id"] = rows[4]["aid_id"] = " A-1 "
    rows[4]["aid_id"] = "A-1"  # equal after normalisation
    v = run(rows, ds)
    assert sorted(reasons_by_line(v)) == [3, 5, 6]
    assert v.good[LINE].to_list() == [2, 4]


def test_blank_keys_are_required_not_duplicates() -> None:
    ds = get_dataset("hardship_cases")
    rows = [valid_row(ds, n) | {"aid_id": None} for n in range(2)]
    assert reasons_by_line(run(rows, ds)) == {
        2: {("required", "aid_id")},
        3: {("required", "aid_id")},
    }


def test_duplicate_id_only_among_active_members() -> None:
    ds = get_dataset("members")
    rows = [valid_row(ds, n) for n in range(3)]
    rows[1]["id_number"] = rows[2]["id_number"] = rows[0]["id_number"]
    rows[1]["status"] = "转出"
    v = run(rows, ds)
    assert sorted(reasons_by_line(v)) == [2, 4]


def test_as_of_date_is_the_most_common() -> None:
    ds = get_dataset("street_staff")
    dates = ["2024-12-31", "2024/12/31", "2024-06-30", None, "2024-13-01"]
    rows = [valid_row(ds, n) | {"as_of_date": d} for n, d in enumerate(dates)]
    v = run(rows, ds)
    assert v.as_of_date == date(2024, 12, 31)
    assert reasons_by_line(v) == {
        4: {("as_of_date.inconsistent", "as_of_date")},
        5: {("required", "as_of_date")},
        6: {("date.invalid", "as_of_date")},
    }


def test_as_of_date_tie_goes_to_the_latest() -> None:
    ds = get_dataset("street_staff")
    dates = ["2024-06-30", "2024-12-31", "2024-12-31", "2024-06-30"]
    v = run([valid_row(ds, n) | {"as_of_date": d} for n, d in enumerate(dates)], ds)
    assert v.as_of_date == date(2024, 12, 31)
    assert sorted(reasons_by_line(v)) == [2, 5]


# --- identity ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "join", "ok"),
    [
        ("19900517", "2006-05-17", True),  # the 16th birthday itself
        ("19900517", "2006-05-16", False),  # one day before
        ("20000229", "2016-02-29", True),
        ("20000229", "2016-02-28", False),
        ("19880229", "2004-02-29", True),
        ("20840229", "2100-02-28", True),  # 2100 is no leap year: the 16th is 28 Feb
        ("20840229", "2100-02-27", False),
    ],
)
def test_join_at_sixteen(birth: str, join: str, ok: bool) -> None:
    ds = get_dataset("members")
    row = valid_row(ds) | {
        "id_number": make_id(0, birth), "birth_date": None, "join_date": join,
        "as_of_date": "2100-12-31",
    }  # fmt: skip
    v = run([row], ds)
    assert reasons_by_line(v) == ({} if ok else {2: {("join_date.under_16", "join_date")}})


def test_gender_and_birth_must_agree_with_the_id() -> None:
    ds = get_dataset("members")
    female = make_id(0, male=False)
    rows = [
        valid_row(ds, 0) | {"id_number": female, "gender": "女"},
        valid_row(ds, 1) | {"id_number": make_id(1, male=False), "gender": "男"},
        valid_row(ds, 2) | {"birth_date": "1990/5/17"},
        valid_row(ds, 3) | {"birth_date": "1991-05-17", "gender": "女"},
    ]
    v = run(rows, ds)
    assert reasons_by_line(v) == {
        3: {("gender.id_mismatch", "gender")},
        5: {("birth_date.id_mismatch", "birth_date"), ("gender.id_mismatch", "gender")},
    }


def test_identity_rules_wait_for_a_valid_id() -> None:
    ds = get_dataset("members")
    bad_id = make_id(0)[:17] + _flip(make_id(0)[17], "0123456789X")
    row = valid_row(ds) | {"id_number": bad_id, "gender": "女", "birth_date": "2000-01-01",
                           "join_date": "1995-01-01"}  # fmt: skip
    assert reasons_by_line(run([row], ds)) == {2: {("id_number.check_digit", "id_number")}}


def test_id_reports_only_the_first_failing_check() -> None:
    ds = get_dataset("members")
    bad_both = make_id(0, "19900230")
    bad_both = bad_both[:17] + _flip(bad_both[17], "0123456789X")
    v = run([valid_row(ds) | {"id_number": bad_both}], ds)
    assert reasons_by_line(v) == {2: {("id_number.check_digit", "id_number")}}


# --- reasons, problems, warnings ---------------------------------------------------------


def test_every_reason_of_a_row_in_contract_order() -> None:
    ds = get_dataset("members")
    row = valid_row(ds) | {"name": None, "phone": "123", "join_date": "x", "status": "?",
                           "street_code": OTHER_STREET}  # fmt: skip
    v = run([row], ds)
    assert v.quarantined[REASONS].to_list() == [[
        {"code": "required", "column": "name"},
        {"code": "phone.format", "column": "phone"},
        {"code": "date.invalid", "column": "join_date"},
        {"code": "enum.unknown", "column": "status"},
        {"code": "street_mismatch", "column": "street_code"},
    ]]  # fmt: skip
    assert v.problems.columns == list(PROBLEM_SCHEMA)
    assert v.problems["code"].to_list() == sorted(v.problems["code"].to_list())


def test_malformed_rows_get_only_that_reason_and_no_part_in_file_rules() -> None:
    ds = get_dataset("street_staff")
    rows = [valid_row(ds, 0), valid_row(ds, 1) | {"staff_id": "staff_id-0", "as_of_date": "x"}]
    v = run(rows, ds, malformed=[False, True])
    assert reasons_by_line(v) == {3: {("row.malformed", None)}}
    assert v.problems.rows() == [(3, None, "row.malformed", "quarantine")]


def test_problems_sorted_by_line_then_code() -> None:
    ds = get_dataset("union_orgs")
    rows = [
        valid_row(ds, 0) | {"members": "200", "employees": "100"},
        valid_row(ds, 1) | {"org_name": None, "employees": "-1"},
        valid_row(ds, 2) | {"industry": "Z", "founded_date": "2030-01-01"},
    ]
    v = run(rows, ds)
    assert v.problems.rows() == [
        (2, "members", "members.exceed_employees", "warning"),
        (3, "employees", "int.range", "quarantine"),
        (3, "org_name", "required", "quarantine"),
        (4, "founded_date", "date.after_as_of", "quarantine"),
        (4, "industry", "enum.unknown", "quarantine"),
    ]
    assert v.good[LINE].to_list() == [2]


def test_warnings_only_for_rows_that_load() -> None:
    ds = get_dataset("union_orgs")
    row = valid_row(ds) | {"members": "200", "employees": "100", "org_name": None}
    v = run([row], ds)
    assert v.problems.rows() == [(2, "org_name", "required", "quarantine")]


def test_union_credit_code_required_when_registered_in_any_bool_form() -> None:
    ds = get_dataset("union_orgs")
    rows = [
        valid_row(ds, 0) | {"legal_person_registered": "Y", "union_credit_code": None},
        valid_row(ds, 1) | {"legal_person_registered": "否", "union_credit_code": None},
    ]
    assert reasons_by_line(run(rows, ds)) == {
        2: {("union_credit_code.required", "union_credit_code")}
    }


def test_closed_cases_need_a_closed_date() -> None:
    ds = get_dataset("dispute_cases")
    rows = [
        valid_row(ds, n) | {"status": s, "closed_date": None}
        for n, s in enumerate(["受理", "调解中", "调解成功", "调解不成", "撤回", "转仲裁"])
    ]
    assert sorted(reasons_by_line(run(rows, ds))) == [4, 5, 6, 7]


def test_ranges() -> None:
    cc, dc = get_dataset("collective_contracts"), get_dataset("dispute_cases")
    rows = [valid_row(cc, n) | {"wage_increase_pct": p}
            for n, p in enumerate(["-50", "100%", "-50.5", "100.1"])]  # fmt: skip
    assert sorted(reasons_by_line(run(rows, cc))) == [4, 5]
    rows = [valid_row(dc, n) | {"workers_involved": w} for n, w in enumerate(["1", "0"])]
    assert reasons_by_line(run(rows, dc)) == {3: {("int.range", "workers_involved")}}


def test_datetime_columns() -> None:
    ds = get_dataset("hotline_tickets")
    row = valid_row(ds) | {"received_at": "2024/3/1 9:30", "deadline_at": "2024-03-08T17:00:00"}
    good = run([row], ds).good.row(0, named=True)
    assert good["received_at"] == datetime(2024, 3, 1, 9, 30)
    assert good["deadline_at"] == datetime(2024, 3, 8, 17, 0)


def test_fast_and_full_paths_agree() -> None:
    """A column needing normalisation in one row is normalised for all; results match."""
    ds = get_dataset("members")
    rows = [valid_row(ds, n) for n in range(4)]
    clean = run(rows, ds).good
    dirty_rows = [dict(r) for r in rows]
    for col in ("member_id", "join_date", "status", "id_number", "jingka_issued", "phone"):
        dirty_rows[3][col] = f" {dirty_rows[3][col]}\u3000"
    assert run(dirty_rows, ds).good.equals(clean)


# --- the quick pass gives what full normalisation gives -----------------------------------

NASTY: dict[ColumnType, list[str | None]] = {
    ColumnType.STR: ["x", " x", "ｘ", "x\u3000", "\u200bx", "张三", "", " ", None],
    ColumnType.INT: ["5", "１２", " 5", "1,200", "-1", "5.0", "5.5", "x", "", None],
    ColumnType.DECIMAL: ["2.5", "２.５", "3%", " 3", "101", "1e3", "", None],
    ColumnType.MONEY: ["1,234.50", "￥１２", "12 ", "12.345", "-5", "x", None],
    ColumnType.DATE: ["2024-06-01", "2024/6/1", "２０２４-06-01", "2024-02-30", " 2024-06-01",
                      "2024年6月1日", "20240601", "", None],
    ColumnType.DATETIME: ["2024-06-01 08:00", "2024/6/1 8:00", "２０２４-06-01", "2024-06-01 25:00",
                          None],
    ColumnType.BOOL: ["是", "Y", "ｙ", " 否", "TRUE", "maybe", None],
    ColumnType.PHONE: ["13800138000", "１３８００１３８０００", " 13800138000", "123", None],
}  # fmt: skip


def _nasty_rows(dataset: Dataset) -> list[Row]:
    rows = [valid_row(dataset, n) for n in range(12)]
    for col in dataset.columns:
        if col.type is ColumnType.ENUM:
            options: list[str | None] = [col.enum[0], f" {col.enum[-1]}", "??", None]
            options += [col.enum[0].lower()] if col.enum[0].isascii() else []
            if col.enum_labels:  # written with a name: its own, another's, spaced oddly
                options += [col.choices[2], f"{col.enum[1]}\u3000{col.enum_labels[1]}",
                            f"{col.enum[0]} {col.enum_labels[1]}", col.enum_labels[3]]
        elif col.type is ColumnType.ID18:
            good = make_id(3)
            options = [good, good.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
                       good[:17] + "Y", f" {good}", good.lower(), None]  # fmt: skip
        elif col.type is ColumnType.USCC:
            good = str(valid_row(dataset, 4)[col.name])
            options = [good, good.lower(), f"{good}\u3000", good[:17] + "I", None]
        else:
            options = NASTY[col.type]
        for n, row in enumerate(rows):
            if n % 3 and col.name != dataset.key:
                row[col.name] = options[(n + len(col.name)) % len(options)]
    rows[5][dataset.key] = f" {rows[6][dataset.key]}"
    return rows


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_quick_pass_equals_full_normalisation(
    dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.ingest import validate as module

    raw = frame(_nasty_rows(dataset), dataset)
    quick = validate(raw, dataset, STREET)
    # the reference: every value of every column through full normalisation and parsing
    monkeypatch.setattr(module, "_exact_flag", lambda col: pl.lit(False))
    monkeypatch.setattr(module, "_quick_ok", lambda col: pl.lit(False))
    full = validate(raw, dataset, STREET)
    assert quick.good.equals(full.good)
    assert quick.quarantined.equals(full.quarantined)
    assert quick.problems.equals(full.problems)
    assert quick.as_of_date == full.as_of_date
    assert quick.quarantined.height > 0


def test_a_file_where_every_row_fails() -> None:
    ds = get_dataset("legal_services")
    rows = [valid_row(ds, n) | {"street_code": OTHER_STREET} for n in range(4)]
    rows[2]["people_served"] = "-3"
    v = run(rows, ds)
    assert v.good.height == 0
    assert v.quarantined[REASONS].to_list() == [
        [{"code": "street_mismatch", "column": "street_code"}],
        [{"code": "street_mismatch", "column": "street_code"}],
        [
            {"code": "int.range", "column": "people_served"},
            {"code": "street_mismatch", "column": "street_code"},
        ],
        [{"code": "street_mismatch", "column": "street_code"}],
    ]
    assert v.problems.height == 5
