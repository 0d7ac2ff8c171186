"""Value normalisation and parsing (contract section 2, rule 8), and phone numbers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import polars as pl
import pytest

from pipelines.rules import phone, values
from pipelines.rules.values import parse_value


def _normalised(items: list[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"v": items}, schema={"v": pl.String})
    return frame.select(values.normalise(pl.col("v")))["v"].to_list()


def test_normalise_full_width_spaces_and_blanks() -> None:
    got = _normalised(
        ["１２３", "ＡＢＣ－１", "\u3000张三\u3000", " x ", "", "   ", "\u3000", None, "a\u00a0"]
    )
    assert got == ["123", "ABC-1", "张三", "x", None, None, None, None, "a"]


def test_normalise_strips_invisible_characters() -> None:
    assert _normalised(["\ufeffM001\u200b", "\u200b \u200bx\u2003"]) == ["M001", "x"]


def test_needs_normalise_detects_what_normalise_changes() -> None:
    items = ["M001", "张三", "１２", " M001", "M001\t", "\u3000x", "a\u00a0", "2015年7月1日", "¥12"]
    frame = pl.DataFrame({"v": items})
    flags = frame.select(values.needs_normalise_expr(pl.col("v")))["v"].to_list()
    changed = [a != b for a, b in zip(items, _normalised(items), strict=True)]
    assert flags == [False, False, True, True, True, True, True, False, True]
    assert all(f for f, c in zip(flags, changed, strict=True) if c)  # never misses a change


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("是", True), ("否", False), ("Y", True), ("n", False), ("yes", True), ("NO", False),
        ("true", True), ("True", True), ("FALSE", False), ("1", True), ("0", False),
        ("１", True), (" 是 ", True), ("对", None), ("2", None), ("", None), (None, None),
    ],
)  # fmt: skip
def test_bool(raw: str | None, expected: bool | None) -> None:
    assert parse_value(values.parse_bool, raw) is expected
    assert parse_value(values.parse_bool_exact, raw) in (None, expected)
    if raw is not None and expected is not None:
        assert values.parse_bool_value(raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2015-07-01", date(2015, 7, 1)),
        ("2015-7-1", date(2015, 7, 1)),
        ("2015/7/1", date(2015, 7, 1)),
        ("2015/07/01", date(2015, 7, 1)),
        ("2015年7月1日", date(2015, 7, 1)),
        ("2015-07-01 00:00:00", date(2015, 7, 1)),
        ("2015-07-01T00:00:00", date(2015, 7, 1)),
        ("2015-07-01 00:00", date(2015, 7, 1)),
        ("２０１５－０７－０１", date(2015, 7, 1)),
        ("2016-02-29", date(2016, 2, 29)),
        ("2015-02-30", None),
        ("2015-02-29", None),
        ("2015-13-01", None),
        ("20150701", None),
        ("15-7-1", None),
        ("2015-7/1", None),
        ("2015年7月1", None),
        ("2015-07-01 09:30:00", None),
        ("0000-01-01", None),
        ("12015-07-01", None),
        ("٢٠١٥-07-01", None),
        ("July 1 2015", None),
    ],
)
def test_date(raw: str, expected: date | None) -> None:
    assert parse_value(values.parse_date, raw) == expected
    if expected is not None and len(raw) == 10 and raw.isascii() and raw[4] == "-":
        assert parse_value(values.parse_iso_date, raw) == expected


def test_iso_fast_parser_never_disagrees() -> None:
    items = ["2015-07-01", "2015-7-1", "2015/07/01", "2015-02-30", "0000-01-01", " 2015-07-01"]
    frame = pl.DataFrame({"v": items})
    got = frame.select(fast=values.parse_iso_date(pl.col("v")), full=values.parse_date(pl.col("v")))
    for fast, full in got.iter_rows():
        assert fast is None or fast == full


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01 09:30", datetime(2024, 3, 1, 9, 30)),
        ("2024-03-01 09:30:05", datetime(2024, 3, 1, 9, 30, 5)),
        ("2024-03-01T09:30:05", datetime(2024, 3, 1, 9, 30, 5)),
        ("2024/3/1 9:30", datetime(2024, 3, 1, 9, 30)),
        ("2024年3月1日 09:30", datetime(2024, 3, 1, 9, 30)),
        ("2024-03-01 09:30:05.250", datetime(2024, 3, 1, 9, 30, 5, 250000)),
        ("2024-03-01", datetime(2024, 3, 1)),
        ("2024-03-01 24:00", None),
        ("2024-02-30 09:30", None),
        ("2024-03-01 9", None),
        ("2024-03-01 09:30+08:00", None),
    ],
)
def test_datetime(raw: str, expected: datetime | None) -> None:
    assert parse_value(values.parse_datetime, raw) == expected


def test_datetime_dtype() -> None:
    frame = pl.DataFrame({"v": ["2024-03-01 09:30"]})
    assert frame.select(values.parse_datetime(pl.col("v"))).dtypes == [pl.Datetime("us")]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", 12), ("1,234", 1234), ("1,234,567", 1234567), ("-5", -5), ("+3", 3),
        ("１２", 12), ("12.0", 12), ("007", 7),
        ("12.5", None), ("1,23", None), ("1.234", None), ("12a", None), ("", None),
        ("99999999999999999999", None), ("1e3", None),
    ],
)  # fmt: skip
def test_int(raw: str, expected: int | None) -> None:
    assert parse_value(values.parse_int, raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3.5", 3.5), ("3.5%", 3.5), ("-2", -2.0), ("1,234.5", 1234.5), (".5", 0.5),
        ("+10%", 10.0), ("abc", None), ("5%%", None), ("1e3", None), ("nan", None),
        ("inf", None),
    ],
)  # fmt: skip
def test_decimal(raw: str, expected: float | None) -> None:
    assert parse_value(values.parse_decimal, raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,234.50", Decimal("1234.50")), ("1234.5", Decimal("1234.50")), ("0", Decimal("0")),
        ("¥1,234", Decimal("1234")), ("￥ 12元", Decimal("12")), ("12元", Decimal("12")),
        ("１２３.４", Decimal("123.4")),
        ("12.345", None), ("-5", None), ("+5", None), ("12.", None), ("1,23", None),
        ("1e3", None), ("abc", None),
    ],
)  # fmt: skip
def test_money(raw: str, expected: Decimal | None) -> None:
    assert parse_value(values.parse_money, raw) == expected


def test_money_dtype() -> None:
    frame = pl.DataFrame({"v": ["1.5"]})
    assert frame.select(values.parse_money(pl.col("v"))).dtypes == [pl.Decimal(18, 2)]


def test_in_range() -> None:
    frame = pl.DataFrame({"v": [-51.0, -50.0, 100.0, 100.5, None]})
    got = frame.select(values.in_range_expr(pl.col("v"), -50, 100))["v"].to_list()
    assert got == [False, True, True, False, None]


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("13800138000", True), ("19912345678", True), ("010-12345678", True),
        ("0571-8765432", True), ("12800138000", False), ("1380013800", False),
        ("010 12345678", False), ("+8613800138000", False), ("010-123456", False),
        ("１３８００１３８０００", False),  # raw full-width: normalisation makes it valid
    ],
)  # fmt: skip
def test_phone(raw: str, ok: bool) -> None:
    assert phone.is_valid_phone(raw) is ok
    got = pl.DataFrame({"v": [raw]}).select(phone.format_fails_expr(pl.col("v"))).item()
    assert got is (not ok)


def _labelled(items: list[str | None], codes: tuple[str, ...], labels: tuple[str, ...]) -> list[str | None]:
    frame = pl.DataFrame({"v": items}, schema={"v": pl.String})
    return frame.select(values.labelled_code(values.normalise(pl.col("v")), codes, labels))["v"].to_list()


def test_labelled_code_takes_a_code_with_its_own_name_and_leaves_the_rest() -> None:
    codes, labels = ("A", "B"), ("甲类", "乙类")
    items = ["A", "A 甲类", "A甲类", "A\u3000甲类", "A：甲类", " B - 乙类 ", "A 乙类", "甲类", "A 甲", "AA 甲类", "", None]
    assert _labelled(items, codes, labels) == ["A", "A", "A", "A", "A", "B", "A 乙类", "甲类", "A 甲", "AA 甲类", None, None]


def test_labelled_code_refuses_names_that_would_read_alike() -> None:
    with pytest.raises(ValueError, match="same without separators"):
        _labelled(["AB甲"], ("A", "AB"), ("B甲", "甲"))
