"""The indicator table as the terminal shows it after a run (from the published warehouse)."""

from __future__ import annotations

import duckdb

from pipelines.config import Settings


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    return f"{value:,.0f}"


def print_indicators(settings: Settings) -> None:
    """The district's year-to-date row of every indicator, then how many street rows of
    the year period are in each status."""
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        rows = con.sql("""
            select indicator_code, indicator_name, value, target, target_comparator, unit, status, period_label,
                as_of_date
            from indicators.indicator_values
            where area_level = 'district' and period_type = 'year'
            order by indicator_code
        """).fetchall()
        streets = con.sql("""
            select indicator_code, status, count(*)
            from indicators.indicator_values
            where area_level = 'street' and period_type = 'year'
            group by all order by 1, 2
        """).fetchall()
    by_code: dict[str, list[str]] = {}
    for code, status, n in streets:
        by_code.setdefault(code, []).append(f"{status} {n}")
    if not rows:
        print("\nIndicators: none computed")
        return
    print()
    print(f"Indicators, district, {rows[0][7]} as of {rows[0][8]}")
    for code, name, value, target, comparator, unit, status, _, _ in rows:
        goal = "" if target is None else f" (target {comparator} {_fmt(target, unit)})"
        print(f"  {code} {name}: {_fmt(value, unit)}{goal} {status}  | streets: {', '.join(by_code.get(code, []))}")
