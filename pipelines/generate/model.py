"""The district as the generators build it: each street's registries and event records,
and the warning signals planted in it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from .events import EventRecord
from .orgs import Org
from .profiles import StreetProfile
from .staff import Staff


@dataclass
class StreetData:
    profile: StreetProfile
    orgs: list[Org]
    population: pl.DataFrame  # everyone on the member list at some point of the year
    staff: list[Staff]
    events: dict[str, list[EventRecord]]

    def jingka_rate(self, k: int) -> float:
        return min(0.98, self.profile.jingka_rate + 0.04 * k)


@dataclass(frozen=True)
class PlantedSignal:
    """A labour-relations warning signal planted in the district: evaluated as of
    2015-12-31 with the default rule file, it raises exactly this alert."""

    rule_code: str
    level: str
    area_code: str
    entity_key: str
    window: str
    datasets: tuple[str, ...]  # the street's datasets it lives in (defects keep off them)
    description: str


@dataclass
class District:
    seed: int
    scale: float
    streets: list[StreetData]
    planted: list[PlantedSignal] = field(default_factory=list)


# Planted labour-relations warning signals (W01-W09): one function per signal, each
# mutating the clean district (adding cases, a layoff between snapshots, ...) and
# recording what it planted in ``District.planted``. They live in ``signals.py``;
# :func:`build_district` runs them in order.
SignalPlanter = Callable[[District, random.Random], None]
