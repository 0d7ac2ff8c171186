"""The year the district is generated for (2015): its snapshot dates, and dates drawn
within it.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

YEAR = 2015
YEAR_START = date(2015, 1, 1)
YEAR_END = date(2015, 12, 31)
SNAPSHOT_DATES: tuple[date, ...] = (date(2015, 6, 30), date(2015, 9, 30), date(2015, 12, 31))
EPOCH = date(1970, 1, 1)


def day_int(d: date) -> int:
    return (d - EPOCH).days


def rand_date(rng: random.Random, lo: date, hi: date) -> date:
    return lo + timedelta(days=rng.randint(0, max((hi - lo).days, 0)))


def rand_workday(rng: random.Random, lo: date, hi: date) -> date:
    d = rand_date(rng, lo, hi)
    while d.weekday() >= 5 and d > lo:
        d -= timedelta(days=1)
    return d


def month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def date_in_months(rng: random.Random, month_weights: dict[int, float]) -> date:
    month = rng.choices(list(month_weights), list(month_weights.values()))[0]
    return rand_workday(rng, date(YEAR, month, 1), month_end(YEAR, month))


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)
