"""Street profiles: how large each street is, how well it does on the indicators it
drives, and which file format its clerk's software exports.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.contract import STREETS, Street

from .randomness import rng_for

FORMAT_HABITS = ("csv", "csv-bom", "csv-gbk", "xlsx", "jsonl")
FORMAT_HABIT_WEIGHTS = (0.35, 0.2, 0.2, 0.2, 0.05)
DIRECTOR_MODES = ("all_year", "appointed_h2", "left", "none")


@dataclass(frozen=True)
class StreetProfile:
    street: Street
    index: int
    n_orgs: int
    n_members: int
    mediation_rate: float  # DC05
    legal_rate: float  # DC06
    jingka_rate: float  # DC15 at the first snapshot; rises each quarter
    success_base: float  # DC13 in Q1; rises each quarter
    director: str  # one of DIRECTOR_MODES (DC11)
    format_habit: str
    lawyer_once_months: tuple[int, ...]  # months with a single 律师志愿服务 (DC12)

    @property
    def short(self) -> str:
        return self.street.code[-3:]


def _director_modes(n: int, rng: random.Random) -> list[str]:
    """Most streets have a full-time collective-bargaining instructor all year; a few get
    one in H2, one loses theirs, one has none (so DC11 is not trivially 100%)."""
    modes = ["all_year"] * n
    if n >= 4:
        special = ["appointed_h2"] * max(1, round(n * 0.18)) + ["left"] * max(1, round(n * 0.06))
        special += ["none"] * max(1, round(n * 0.06))
        modes = ["all_year"] * (n - len(special)) + special
    rng.shuffle(modes)
    return modes


def make_profiles(seed: int, scale: float, streets: Sequence[Street] = STREETS) -> list[StreetProfile]:
    rng = rng_for(seed, "profiles")
    modes = _director_modes(len(streets), rng)
    out = []
    for i, street in enumerate(streets):
        r = rng_for(seed, "profile", street.code)
        out.append(
            StreetProfile(
                street=street,
                index=i,
                n_orgs=max(3, round(r.uniform(40, 120) * scale)),
                n_members=max(12, round(r.uniform(1500, 3000) * scale)),
                mediation_rate=r.uniform(0.9, 1.0),
                legal_rate=r.uniform(0.9, 1.0),
                jingka_rate=r.uniform(0.5, 0.8),
                success_base=r.uniform(0.52, 0.68),
                director=modes[i],
                format_habit=r.choices(FORMAT_HABITS, FORMAT_HABIT_WEIGHTS)[0],
                lawyer_once_months=tuple(sorted(r.sample(range(1, 13), r.choice((0, 0, 1, 1, 1, 2, 3))))),
            )
        )
    return out
