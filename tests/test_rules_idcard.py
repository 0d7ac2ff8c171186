"""Resident ID rules: the scalar functions and the Polars expressions agree."""

from __future__ import annotations

import random
from datetime import date

import polars as pl
import pytest

from pipelines.rules import idcard

from .helpers import check_char_rows_agree

SAMPLE = "11010519491231002X"  # the GB 11643 example: valid, check character X


def make_id(birth: str = "19900517", seq: str = "123", area: str = "110101") -> str:
    first17 = area + birth + seq
    return first17 + idcard.id18_check_char(first17)


def _random_ids(n: int, seed: int = 20240101) -> list[str]:
    """Valid IDs, IDs with a wrong check character, bad birth dates and bad formats."""
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(n):
        birth = f"{rng.randint(1900, 2030):04d}{rng.randint(0, 13):02d}{rng.randint(0, 32):02d}"
        first17 = f"{rng.randint(0, 999999):06d}{birth}{rng.randint(0, 999):03d}"
        kind = rng.random()
        if kind < 0.5:
            out.append(first17 + idcard.id18_check_char(first17))
        elif kind < 0.8:
            out.append(first17 + rng.choice("0123456789X"))
        elif kind < 0.9:
            out.append(first17 + idcard.id18_check_char(first17).lower())
        else:
            out.append(rng.choice([first17, first17 + "Y", "A" + first17[1:] + "1", ""]))
    return out


def _exprs(values: list[str]) -> pl.DataFrame:
    v = pl.col("v")
    upper = idcard.upper_expr(v)
    return pl.DataFrame({"v": values}, schema={"v": pl.String}).select(
        fmt=idcard.format_fails_expr(upper),
        chk=idcard.check_fails_expr(upper),
        birth=idcard.birth_fails_expr(upper),
        valid=idcard.valid_expr(upper),
        birth_date=idcard.birth_date_expr(upper),
        gender=idcard.gender_expr(upper),
        check_char=idcard.check_char_expr(upper),
    )


def test_check_char_of_the_standard_example() -> None:
    assert idcard.id18_check_char(SAMPLE[:17]) == "X"
    assert idcard.is_valid_id18(SAMPLE)
    assert idcard.is_valid_id18(SAMPLE.lower())


def test_check_char_needs_17_digits() -> None:
    with pytest.raises(ValueError):
        idcard.id18_check_char("1234")
    with pytest.raises(ValueError):
        idcard.id18_check_char("１" * 17)  # full-width digits are not ASCII digits


def test_scalar_rules() -> None:
    good = make_id("20000229", "135")
    assert idcard.is_valid_id18(good)
    assert idcard.id18_birth_date(good) == date(2000, 2, 29)
    assert idcard.id18_gender(good) == "男"
    assert idcard.id18_gender(make_id(seq="124")) == "女"
    assert not idcard.is_valid_id18(make_id("19900230"))  # not a real date
    assert not idcard.is_valid_id18(good[:17] + ("0" if good[17] != "0" else "1"))
    assert not idcard.is_valid_id18(good[:17])
    assert not idcard.is_valid_id18(None)


def test_scalar_and_expr_agree_on_generated_ids() -> None:
    values = _random_ids(600)
    got = _exprs(values)
    for s, row, fmt_ok in check_char_rows_agree(
        values, got.iter_rows(named=True), format_ok=idcard.id18_format_ok,
        is_valid=idcard.is_valid_id18, check_char=idcard.id18_check_char,
    ):
        u = s.upper()
        if fmt_ok:
            assert row["birth_date"] == idcard.id18_birth_date(u), s
            assert row["birth"] is (idcard.id18_birth_date(u) is None), s
            assert row["gender"] == idcard.id18_gender(u), s
        else:
            assert row["birth"] is False and row["birth_date"] is None


def test_largest_first17_does_not_overflow() -> None:
    first17 = "9" * 17
    got = _exprs([first17 + idcard.id18_check_char(first17)])
    assert got["check_char"][0] == idcard.id18_check_char(first17)
    assert got["chk"][0] is False


def test_year_zero_is_not_a_birth_date() -> None:
    value = make_id("00000101")
    assert idcard.id18_birth_date(value) is None
    assert _exprs([value])["birth"][0] is True


def test_null_is_no_failure() -> None:
    got = _exprs([None])  # type: ignore[list-item]
    assert got.row(0, named=True) == {
        "fmt": False, "chk": False, "birth": False, "valid": False,
        "birth_date": None, "gender": None, "check_char": None,
    }  # fmt: skip
