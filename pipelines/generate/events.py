"""Event records, what every event dataset's generator builds on: the record, the
employers cases name, amounts in cents.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pipelines.contract import Street

from .orgs import Org
from .vocabularies import NameBook, credit_prefix, employer_name
from .year import YEAR_START


@dataclass
class EventRecord:
    """One record (keyed) and its successive states: ``(effective date, full row)``.
    A period's file carries every record with a state in the period, as last known at
    the period's end; so a case appears as 受理 in one file and 调解成功 in a later one."""

    key: str
    versions: list[tuple[date, dict]]


def event(key: str, when: date, row: dict) -> EventRecord:
    return EventRecord(key, [(max(when, YEAR_START), row)])


def rows_in_period(records: Sequence[EventRecord], start: date, end: date) -> list[dict]:
    out = []
    for rec in sorted(records, key=lambda r: (r.versions[0][0], r.key)):
        if any(start <= d <= end for d, _ in rec.versions):
            out.append([row for d, row in rec.versions if d <= end][-1])
    return out


@dataclass(frozen=True)
class Employer:
    name: str
    credit_code: str | None
    org_id: str | None


class Cycler:
    """Hands out employers without repetition (until the pool is exhausted), so natural
    data does not pile cases on one employer (that is a planted W02 signal's job)."""

    def __init__(self, items: list[Employer]) -> None:
        self.items = items
        self.i = 0

    def next(self) -> Employer:
        item = self.items[self.i % len(self.items)]
        self.i += 1
        return item


def employer_pool(orgs: Sequence[Org], n_extra: int, rng: random.Random, book: NameBook,
                  street: Street) -> Cycler:
    items = [Employer(o.employer_name, o.credit_code, o.org_id) for o in orgs
             if o.founded < YEAR_START and o.closure is None]
    for _ in range(n_extra):  # small employers without a union
        industry = rng.choice(("F", "H", "L", "O", "E", "G", "N"))
        name = book.unique_name(lambda ind=industry: employer_name(rng, ind, "私营", street))
        code = book.unique_code(credit_prefix(rng, "私营"), rng) if rng.random() < 0.8 else None
        items.append(Employer(name, code, None))
    rng.shuffle(items)
    return Cycler(items)


def money(yuan: float) -> int:
    """Yuan to integer cents."""
    return round(yuan * 100)
