"""Union organisations (the ``union_orgs`` registry): founding, head counts between
snapshots, closures.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pipelines.contract.thresholds import LARGE_ENTERPRISE_EMPLOYEES

from .profiles import StreetProfile
from .randomness import rng_for
from .vocabularies import (
    INDUSTRY_WEIGHTS,
    OWNERSHIP_WEIGHTS,
    NameBook,
    credit_prefix,
    employer_name,
)
from .year import SNAPSHOT_DATES, YEAR_END, rand_date


@dataclass
class Org:
    org_id: str
    org_name: str
    employer_name: str
    credit_code: str
    industry: str
    ownership: str
    employees: list[int]  # one value per snapshot
    member_ratio: float
    founded: date
    legal_person: bool
    union_credit_code: str | None
    mediation: bool
    congress: bool
    open_affairs: bool
    model: bool
    closure: date | None = None
    closure_status: str | None = None
    drop_after_closure: bool = False

    def status_at(self, d: date) -> str:
        if self.closure is not None and self.closure <= d:
            return self.closure_status or "注销"
        return "正常"

    def listed_in(self, k: int) -> bool:
        """Is the org on the street's list in snapshot ``k``?"""
        if self.founded > SNAPSHOT_DATES[k]:
            return False
        if self.closure is None or not self.drop_after_closure or self.closure > YEAR_END:
            return True
        first = next(j for j, d in enumerate(SNAPSHOT_DATES) if self.closure <= d)
        return k <= first  # listed once with its new status, then dropped

    def members_at(self, k: int) -> int:
        e = self.employees[k]
        return max(1, min(e, round(e * self.member_ratio))) if e else 0

    @property
    def active_at_year_end(self) -> bool:
        return self.status_at(YEAR_END) == "正常" and self.founded <= YEAR_END


def _employees(rng: random.Random) -> int:
    bands = ((5, 19), (20, 49), (50, 99), (100, 299), (300, 999), (1000, 3000))
    lo, hi = rng.choices(bands, (35, 25, 22, 12, 5, 1))[0]
    return rng.randint(lo, hi)


def _employees_step(rng: random.Random, e: int) -> int:
    """A quarter's natural change: small enough never to look like a mass layoff (W07)."""
    u = rng.random()
    if u < 0.6:
        return e
    if u < 0.85:
        return e + rng.randint(1, max(1, e // 20))
    max_fall = min(19, -(-e // 10) - 1)  # strictly below 10 % and below 20 people
    return e - rng.randint(0, max(0, max_fall))


def _quota_flags(rng: random.Random, n: int, rate: float) -> list[bool]:
    flags = [True] * n
    for i in rng.sample(range(n), min(n, round(n * (1 - rate)))):
        flags[i] = False
    return flags


def make_orgs(profile: StreetProfile, seed: int, book: NameBook) -> list[Org]:
    rng = rng_for(seed, "orgs", profile.street.code)
    n_old = profile.n_orgs
    n_new = max(1, round(n_old * 0.05))
    n = n_old + n_new
    legal = _quota_flags(rng, n, profile.legal_rate)
    mediation = _quota_flags(rng, n, profile.mediation_rate)
    orgs = []
    for i in range(n):
        industry = rng.choices(list(INDUSTRY_WEIGHTS), list(INDUSTRY_WEIGHTS.values()))[0]
        ownership = rng.choices(list(OWNERSHIP_WEIGHTS), list(OWNERSHIP_WEIGHTS.values()))[0]
        name = book.unique_name(lambda ind=industry, own=ownership: employer_name(rng, ind, own, profile.street))
        e0 = _employees(rng)
        e1 = _employees_step(rng, e0)
        founded = (
            rand_date(rng, date(1985, 1, 1), date(2015, 5, 31))
            if i < n_old and rng.random() < 0.97
            else rand_date(rng, date(1995, 1, 1), date(2015, 5, 31))
        )
        if i >= n_old:  # 深入开展建会工作: new unions founded in H2
            founded = rand_date(rng, date(2015, 7, 1), date(2015, 12, 15))
        orgs.append(
            Org(
                org_id=f"GH{profile.short}{i + 1:05d}",
                org_name=name + ("工会委员会" if rng.random() < 0.7 else "工会"),
                employer_name=name,
                credit_code=book.unique_code(credit_prefix(rng, ownership), rng),
                industry=industry,
                ownership=ownership,
                employees=[e0, e1, _employees_step(rng, e1)],
                member_ratio=rng.uniform(0.6, 1.0),
                founded=founded,
                legal_person=legal[i],
                union_credit_code=book.unique_code("81110101", rng) if legal[i] else None,
                mediation=mediation[i],
                congress=rng.random() < 0.82,
                open_affairs=rng.random() < 0.78,
                model=rng.random() < (0.6 if e0 >= LARGE_ENTERPRISE_EMPLOYEES else 0.02),
            )
        )
    _close_some(orgs[:n_old], rng)
    return orgs


CLOSING_MAX_EMPLOYEES = 99  # W06 warns from 100 employees: natural closures stay below


def _close_some(orgs: list[Org], rng: random.Random) -> None:
    """非首都功能疏解: a few small unions move out, are dissolved or merge during the
    year (larger departures are planted W06 signals)."""
    windows = ((date(2015, 1, 10), date(2015, 6, 25)), (date(2015, 7, 1), date(2015, 9, 25)),
               (date(2015, 10, 1), date(2015, 12, 20)))
    for org in orgs:
        for lo, hi in windows:
            if org.closure is None and rng.random() < 0.02 and max(org.employees) <= CLOSING_MAX_EMPLOYEES:
                org.closure = rand_date(rng, lo, hi)
                org.closure_status = rng.choices(("迁出", "注销", "合并"), (6, 3, 1))[0]
                org.drop_after_closure = rng.random() < 0.5


def org_snapshot_rows(orgs: Sequence[Org], k: int, street_code: str) -> list[dict]:
    as_of = SNAPSHOT_DATES[k]
    return [
        {
            "org_id": o.org_id,
            "org_name": o.org_name,
            "employer_name": o.employer_name,
            "credit_code": o.credit_code,
            "street_code": street_code,
            "industry": o.industry,
            "ownership": o.ownership,
            "employees": o.employees[k],
            "members": o.members_at(k),
            "founded_date": o.founded,
            "legal_person_registered": o.legal_person,
            "union_credit_code": o.union_credit_code,
            "has_mediation_committee": o.mediation,
            "has_workers_congress": o.congress,
            "factory_affairs_open": o.open_affairs,
            "is_model_enterprise": o.model,
            "status": o.status_at(as_of),
            "as_of_date": as_of,
        }
        for o in orgs
        if o.listed_in(k)
    ]
