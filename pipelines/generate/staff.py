"""Street staff (the ``street_staff`` registry).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from .profiles import StreetProfile
from .randomness import rng_for
from .vocabularies import person_name
from .year import SNAPSHOT_DATES, rand_date


@dataclass
class Staff:
    staff_id: str
    name: str
    role: str
    appointed: date
    first_k: int = 0  # first snapshot listing them
    inactive_k: int | None = None  # from this snapshot on, 在岗 = 否


def make_staff(profile: StreetProfile, seed: int) -> list[Staff]:
    rng = rng_for(seed, "staff", profile.street.code)
    roles = ["工会专干"] * rng.randint(2, 4) + ["联络员"] * rng.randint(1, 3) + ["其他"] * rng.randint(0, 1)
    staff = [Staff("", person_name(rng, rng.random() < 0.4), role, rand_date(rng, date(2005, 1, 1), date(2015, 3, 31)))
             for role in roles]
    if rng.random() < 0.4:
        rng.choice(staff).inactive_k = rng.randint(1, 2)
    director = Staff("", person_name(rng, rng.random() < 0.6), "集体协商专职指导员",
                     rand_date(rng, date(2011, 1, 1), date(2014, 12, 31)))
    match profile.director:
        case "all_year":
            staff.append(director)
        case "appointed_h2":
            director.first_k = rng.randint(1, 2)
            director.appointed = rand_date(rng, date(2015, 7, 1), SNAPSHOT_DATES[director.first_k])
            staff.append(director)
        case "left":
            director.inactive_k = rng.randint(1, 2)
            staff.append(director)
    for i, s in enumerate(staff):
        s.staff_id = f"ST{profile.short}{i + 1:03d}"
    return staff


def staff_snapshot_rows(staff: Sequence[Staff], k: int, street_code: str) -> list[dict]:
    return [
        {
            "staff_id": s.staff_id,
            "name": s.name,
            "role": s.role,
            "appointed_date": s.appointed,
            "active": s.inactive_k is None or k < s.inactive_k,
            "street_code": street_code,
            "as_of_date": SNAPSHOT_DATES[k],
        }
        for s in staff
        if s.first_k <= k
    ]
