"""Unified social credit codes: the scalar functions and the Polars expressions agree."""

from __future__ import annotations

import random

import polars as pl
import pytest

from pipelines.rules import uscc

from .helpers import check_char_rows_agree

# codes with correct check characters, as found in published examples
KNOWN_VALID = ("911000001000013428", "91350100M000100Y43")


def _random_codes(n: int, seed: int = 32100) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(n):
        first17 = "".join(rng.choice(uscc.ALPHABET) for _ in range(17))
        kind = rng.random()
        if kind < 0.5:
            out.append(first17 + uscc.uscc_check_char(first17))
        elif kind < 0.8:
            out.append(first17 + rng.choice(uscc.ALPHABET))
        elif kind < 0.9:
            out.append((first17 + uscc.uscc_check_char(first17)).lower())
        else:
            out.append(rng.choice([first17, first17 + "I", "O" + first17, first17[:9] + "S" * 9]))
    return out


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_codes_are_valid(code: str) -> None:
    assert uscc.is_valid_uscc(code)
    assert uscc.uscc_check_char(code[:17]) == code[17]


def test_check_value_31_becomes_0() -> None:
    # find a body whose weighted sum is a multiple of 31: its check character is "0"
    rng = random.Random(7)
    while True:
        body = "".join(rng.choice(uscc.ALPHABET) for _ in range(17))
        total = sum(uscc.ALPHABET.index(c) * w for c, w in zip(body, uscc.WEIGHTS, strict=True))
        if total % 31 == 0:
            break
    assert uscc.uscc_check_char(body) == "0"
    got = pl.DataFrame({"v": [body + "0"]}).select(uscc.check_fails_expr(pl.col("v")))
    assert got.item() is False


def test_letters_outside_the_alphabet_are_a_format_error() -> None:
    for bad in ("I", "O", "S", "V", "Z"):
        code = "91110000" + bad + "00001760P"
        assert not uscc.uscc_format_ok(code)
    with pytest.raises(ValueError):
        uscc.uscc_check_char("91110000I0000176")


def test_scalar_and_expr_agree_on_generated_codes() -> None:
    values = _random_codes(600)
    v = uscc.upper_expr(pl.col("v"))
    got = pl.DataFrame({"v": values}).select(
        fmt=uscc.format_fails_expr(v),
        chk=uscc.check_fails_expr(v),
        valid=uscc.valid_expr(v),
        check_char=uscc.check_char_expr(v),
    )
    checked = check_char_rows_agree(
        values, got.iter_rows(named=True), format_ok=uscc.uscc_format_ok,
        is_valid=uscc.is_valid_uscc, check_char=uscc.uscc_check_char,
    )
    assert len(list(checked)) == len(values)


def test_null_is_no_failure() -> None:
    got = pl.DataFrame({"v": [None]}, schema={"v": pl.String}).select(
        uscc.format_fails_expr(pl.col("v")), uscc.check_fails_expr(pl.col("v")).alias("c")
    )
    assert got.row(0) == (False, False)
