"""Small helpers the rule logic shares: queries, periods, employer identity, wording."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import duckdb

from pipelines.contract.datasets import CASE_CLOSED_STATUS

CLOSED_STATUSES: tuple[str, ...] = CASE_CLOSED_STATUS
SUCCESS_RATE_STATUSES: tuple[str, ...] = ("调解成功", "调解不成", "转仲裁")  # DC13's denominator
SUCCESS_STATUS = "调解成功"

_CLOSED_SQL = ", ".join(f"'{s}'" for s in CLOSED_STATUSES)


def open_as_of_sql(as_of_param: str = "$as_of") -> str:
    """SQL condition: a dispute case was still open at the end of the as-of day (a case
    closed after it was open then)."""
    return (
        f"not (status in ({_CLOSED_SQL}) and closed_date is not null "
        f"and closed_date <= {as_of_param})"
    )


def query(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or {})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def window_start(as_of: date, days: int) -> date:
    """First day of the ``days``-day window ending with (and including) ``as_of``."""
    return as_of - timedelta(days=days - 1)


def quarter_of(d: date) -> tuple[int, int]:
    return d.year, (d.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1) - timedelta(days=1)
    return start, end


def previous_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)


def last_complete_quarter(as_of: date) -> tuple[int, int]:
    """The latest quarter that has ended by the end of ``as_of`` (its own, on its last day)."""
    year, q = quarter_of(as_of)
    return (year, q) if quarter_bounds(year, q)[1] == as_of else previous_quarter(year, q)


def quarter_label(year: int, quarter: int) -> str:
    return f"{year}-Q{quarter}"


def normalise_employer(name: str) -> str:
    """Compare employer names the way a clerk means them: full-width forms folded
    (NFKC), white space dropped, Latin letters upper-cased."""
    return "".join(unicodedata.normalize("NFKC", name).split()).upper()


def yuan(value: Decimal | float | int | None) -> float:
    return round(float(value), 2) if value is not None else 0.0


def ids(values: Sequence[str], limit: int = 50) -> list[str]:
    """Record ids for the evidence (bounded: a district-wide signal can list hundreds)."""
    return sorted(values)[:limit]


def pct(x: float) -> str:
    return f"{x * 100:.1f}%"
