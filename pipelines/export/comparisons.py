"""What both exports show beside a value: the change against the same period a year
earlier (同比) and against the previous period (环比), and the indicator × street matrix
(指标×街道). Computed here once, from the published columns ``value_same_period_last_year``
and ``value_previous_period`` and the street rows of indicators.indicator_values, so the
report and the workbook cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import polars as pl

NO_DATA = "无数据"  # an earlier period with no value (or no row at all)
NO_CHANGE = "—"  # a change that cannot be computed

ChangeKind = Literal["percent", "points", "amount"]


@dataclass(frozen=True)
class Change:
    """How a value moved against an earlier one: ``percent`` (12.3 is +12.3%) for counts
    and amounts, ``points`` (percentage points) for rates, ``amount`` (the difference in
    the indicator's unit) for a count whose earlier value was 0 (no percentage exists)."""

    kind: ChangeKind
    amount: float


def change_between(value: float | None, earlier: float | None, unit: str | None) -> Change | None:
    """The change from ``earlier`` to ``value``; ``None`` when either is missing."""
    if value is None or earlier is None:
        return None
    if unit == "ratio":
        return Change("points", (value - earlier) * 100)
    if earlier == 0:
        return Change("amount", value - earlier)
    return Change("percent", (value - earlier) / abs(earlier) * 100)


def _signed(amount: float, pattern: str) -> str:
    """``+12.3`` / ``-4.0`` / ``0.0`` (no sign on what rounds to zero, never ``-0.0``)."""
    shown = format(amount, pattern)
    if float(shown.replace(",", "")) == 0:
        return format(0.0, pattern)
    return ("+" if amount > 0 else "") + shown


def change_text(change: Change | None, unit: str | None) -> str:
    """``+12.3%``, ``-3.1 个百分点``, ``+800 人次``, or ``—`` when there is nothing to compare."""
    if change is None:
        return NO_CHANGE
    if change.kind == "percent":
        return _signed(change.amount, ".1f") + "%"
    if change.kind == "points":
        return _signed(change.amount, ".1f") + " 个百分点"
    number = _signed(change.amount, ",.0f")
    return f"{number} {unit}" if unit and unit != "ratio" else number


@dataclass(frozen=True)
class Comparison:
    """One row's value beside its earlier ones, with the changes."""

    value: float | None
    same_period_last_year: float | None
    previous_period: float | None
    unit: str | None

    @property
    def year_on_year(self) -> Change | None:  # 同比
        return change_between(self.value, self.same_period_last_year, self.unit)

    @property
    def period_on_period(self) -> Change | None:  # 环比
        return change_between(self.value, self.previous_period, self.unit)


def comparison(row: dict) -> Comparison:
    """The comparison of one row of indicators.indicator_values."""
    return Comparison(row.get("value"), row.get("value_same_period_last_year"),
                      row.get("value_previous_period"), row.get("unit"))


def latest_district_rows(values: pl.DataFrame, period_type: str) -> pl.DataFrame:
    """Each indicator's district row of the latest period of a type (the month, quarter or
    half the report is about), by indicator code."""
    rows = values.filter((pl.col("area_level") == "district") & (pl.col("period_type") == period_type))
    if rows.is_empty():
        return rows
    latest = rows.group_by("indicator_code").agg(pl.col("period_start").max())
    return rows.join(latest, on=["indicator_code", "period_start"]).sort("indicator_code")


# --- the indicator × street matrix -----------------------------------------------------------


@dataclass(frozen=True)
class Area:
    code: str
    name: str


@dataclass(frozen=True)
class MatrixCell:
    value: float | None
    status: str


@dataclass(frozen=True)
class MatrixRow:
    indicator_code: str
    indicator_name: str
    unit: str | None
    streets: tuple[MatrixCell, ...]  # in the order of StreetMatrix.streets
    district: MatrixCell


@dataclass(frozen=True)
class StreetMatrix:
    period_type: str
    period_start: date | None
    streets: tuple[Area, ...]
    rows: tuple[MatrixRow, ...]


MISSING = MatrixCell(None, NO_DATA)  # a street with no row for the indicator


def streets_of(values: pl.DataFrame) -> tuple[Area, ...]:
    """Every street that has rows, by street code, with its Chinese name."""
    streets = (values.filter(pl.col("area_level") == "street")
               .group_by("area_code").agg(pl.col("area_name").drop_nulls().first())
               .sort("area_code"))
    return tuple(Area(r["area_code"], r["area_name"] or r["area_code"]) for r in streets.iter_rows(named=True))


def street_matrix(values: pl.DataFrame, period_type: str = "year") -> StreetMatrix:
    """Rows: the indicators; columns: the streets (and the district); each cell the
    value and status of the latest period of ``period_type``."""
    streets = streets_of(values)
    rows = values.filter(pl.col("period_type") == period_type)
    if rows.is_empty():
        return StreetMatrix(period_type, None, streets, ())
    start = rows["period_start"].max()
    rows = rows.filter(pl.col("period_start") == start)
    cells = {(r["indicator_code"], r["area_code"]): MatrixCell(r["value"], r["status"] or NO_DATA)
             for r in rows.iter_rows(named=True)}
    indicators = rows.group_by("indicator_code").agg(
        pl.col("indicator_name").drop_nulls().first(), pl.col("unit").drop_nulls().first(),
        pl.col("area_code").filter(pl.col("area_level") == "district").first().alias("district_code"),
    ).sort("indicator_code")
    matrix_rows = tuple(
        MatrixRow(
            r["indicator_code"], r["indicator_name"] or "", r["unit"],
            tuple(cells.get((r["indicator_code"], s.code), MISSING) for s in streets),
            cells.get((r["indicator_code"], r["district_code"]), MISSING),
        )
        for r in indicators.iter_rows(named=True)
    )
    return StreetMatrix(period_type, start, streets, matrix_rows)


# A matrix cell's fill by status (the report's cell background, the workbook's cell fill):
# met green, not met red, on track blue, behind orange; no target plain, no data grey.
STATUS_FILLS = {
    "达标": "#C8E6C9",
    "未达标": "#FFCDD2",
    "进行中": "#BBDEFB",
    "滞后": "#FFE0B2",
    "无目标": "#FFFFFF",
    NO_DATA: "#E0E0E0",
}
STATUS_MEANINGS = {
    "达标": "统计期已结束，达到目标",
    "未达标": "统计期已结束，未达到目标",
    "进行中": "统计期未结束，进度正常",
    "滞后": "统计期未结束，进度落后",
    "无目标": "该区域无目标（计数与金额类目标不分解到街道），仅列数值",
    NO_DATA: "无输入数据或分母为 0",
}


def status_fill(status: str | None) -> str:
    return STATUS_FILLS.get(status or NO_DATA, STATUS_FILLS[NO_DATA])
