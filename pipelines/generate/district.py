"""A realistic, deterministic Dongcheng district for 2015: every street's registries
(three quarterly snapshots) and event records, shaped so the work plan's indicators
(DC01-DC17) are meaningful: close to their targets, with differences between streets.

This module puts the district together (:func:`build_district`); the parts live beside it:

1. :mod:`.year` (the calendar), :mod:`.identifiers` (check digits: ID, USCC),
   :mod:`.randomness` (scalar ``random.Random`` streams and a vectorised polars stream
   for members);
2. :mod:`.vocabularies` (names, employers, titles);
3. the model: :mod:`.profiles` (street profiles), :mod:`.orgs`, :mod:`.members`
   (vectorised), :mod:`.staff`, :mod:`.events` with one generator per event dataset in
   :mod:`.labour_relations` and :mod:`.services`; :mod:`.model` (the district built);
4. :mod:`.signals` (the planted warning signals) and :mod:`.plan` (:func:`plan_files`:
   typed frames -> styled string tables).

Nothing here reads the clock; the same seed gives the same district.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from pipelines.contract import STREETS, Street

from .events import employer_pool, money
from .labour_relations import make_contracts, make_disputes, make_tickets
from .members import OrgPool, member_population, member_snapshot
from .model import District, SignalPlanter, StreetData
from .orgs import make_orgs
from .profiles import StreetProfile, make_profiles
from .randomness import quota_split, rng_for, seed_of
from .services import (
    FacilityQuota,
    make_facilities,
    make_grants,
    make_hardship,
    make_legal_services,
    make_training,
)
from .signals import SIGNAL_PLANTERS
from .staff import make_staff
from .vocabularies import NameBook
from .year import YEAR_END, YEAR_START


@dataclass(frozen=True)
class DistrictQuotas:
    """District-wide targets split over the streets (the plan's figures are district totals)."""

    course_people: list[int]  # DC01 ≥ 10,000
    lectures: list[int]  # DC02 ≥ 100
    full_grants: list[int]  # DC03 近600
    partial_grants: list[int]
    facilities: list[FacilityQuota]  # DC07 ≥ 719, DC09 2,620,000 元, DC10 ≥ 10


def _home_funding(rng: random.Random, n: int) -> list[int]:
    """Per-home funding (cents) summing to just under the plan's 262万元 (DC09)."""
    total = 2_620_000 - rng.randint(0, 300) * 100
    raw = [rng.uniform(2_000, 6_000) for _ in range(n)]
    yuan = [round(x * total / sum(raw), -2) for x in raw]
    yuan[0] += total - sum(yuan)
    return [money(y) for y in yuan]


def make_quotas(seed: int, profiles: Sequence[StreetProfile]) -> DistrictQuotas:
    rng = rng_for(seed, "quotas")
    size = [p.n_members + 1.0 for p in profiles]
    jitter = [s * rng.uniform(0.7, 1.3) for s in size]
    done = quota_split(rng.randint(719, 728), jitter)
    still_open = quota_split(rng.randint(15, 35), [rng.random() for _ in profiles])
    funding = _home_funding(rng, sum(done) + sum(still_open))
    studios = quota_split(rng.randint(10, 12), [rng.random() for _ in profiles])
    city = quota_split(2, [rng.random() for _ in profiles])
    facilities, at = [], 0
    for d, o, s, c in zip(done, still_open, studios, city, strict=True):
        facilities.append(FacilityQuota(d, o, tuple(funding[at : at + d + o]), s, c))
        at += d + o
    return DistrictQuotas(
        course_people=quota_split(rng.randint(10_150, 10_900), jitter),
        lectures=quota_split(rng.randint(100, 108), size),
        full_grants=quota_split(rng.randint(596, 612), size),
        partial_grants=quota_split(rng.randint(120, 180), size),
        facilities=facilities,
    )


def _pick_members(frame: pl.DataFrame, n: int, salt: object) -> list[str]:
    """``n`` distinct long-standing active members (fewer if the street is tiny)."""
    pool = frame.filter((pl.col("status") == "在会") & (pl.col("join_date") < YEAR_START))
    if pool.is_empty():
        pool = frame
    ordered = pool.sort(pl.col("member_id").hash(seed_of(salt)), "member_id")
    return ordered["member_id"].head(max(n, 1)).to_list()


def build_street(profile: StreetProfile, quotas: DistrictQuotas, seed: int, book: NameBook) -> StreetData:
    i, code = profile.index, profile.street.code
    orgs = make_orgs(profile, seed, book)
    pop = member_population(profile.n_members, (seed, "members", code), i, profile.short, OrgPool.from_orgs(orgs))
    year_end = member_snapshot(pop, YEAR_END, 0.0, code)
    rng = rng_for(seed, "employers", code)
    extra = profile.n_orgs // 2 + 10
    full, partial = quotas.full_grants[i], quotas.partial_grants[i]
    n_hard = max(3, round(profile.n_members * rng.uniform(0.003, 0.006)))
    events = {
        "collective_contracts": make_contracts(profile, orgs, seed),
        "dispute_cases": make_disputes(profile, employer_pool(orgs, extra, rng, book, profile.street), seed),
        "hotline_tickets": make_tickets(profile, employer_pool(orgs, extra, rng, book, profile.street), seed),
        "legal_services": make_legal_services(profile, seed),
        "training_events": make_training(profile, quotas.course_people[i], quotas.lectures[i], seed),
        "education_grants": make_grants(profile, full, partial, _pick_members(year_end, full + partial, (seed, "g", code)), seed),
        "facilities": make_facilities(profile, orgs, quotas.facilities[i], seed),
        "hardship_cases": make_hardship(profile, _pick_members(year_end, n_hard, (seed, "h", code)), seed),
    }
    return StreetData(profile, orgs, pop, make_staff(profile, seed), events)


def build_district(seed: int = 2015, scale: float = 1.0, streets: Sequence[Street] = STREETS,
                   planters: Sequence[SignalPlanter] | None = None) -> District:
    """The district with its planted warning signals (``planters``: default
    :data:`pipelines.generate.signals.SIGNAL_PLANTERS`; ``()`` for none)."""
    if planters is None:
        planters = SIGNAL_PLANTERS
    profiles = make_profiles(seed, scale, streets)
    quotas = make_quotas(seed, profiles)
    book = NameBook()
    district = District(seed, scale, [build_street(p, quotas, seed, book) for p in profiles])
    for planter in planters:
        planter(district, rng_for(seed, "signal", getattr(planter, "__name__", "signal")))
    return district
