"""Members (the ``members`` registry), built vectorised: the year's population, its
snapshots, and one big members file for the benchmarks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import accumulate
from pathlib import Path

import polars as pl

from pipelines.contract import STREETS, get_dataset
from pipelines.contract.datasets import WORKER_TYPE

from .identifiers import ID_CHECK, ID_WEIGHTS
from .orgs import Org
from .randomness import VecRng, rng_for, seed_of
from .vocabularies import (
    FEMALE_CHARS,
    MALE_CHARS,
    NEUTRAL_CHARS,
    REGION_WEIGHTS,
    REGIONS,
    SURNAME_WEIGHTS,
    SURNAMES,
)
from .writers import FileFormat, PlannedFile, TextStyle, render_table, write_planned
from .year import SNAPSHOT_DATES, YEAR_END, YEAR_START, day_int


@dataclass(frozen=True)
class OrgPool:
    """What member generation needs to know about a street's orgs."""

    org_ids: list[str]
    weights: list[float]
    founded: list[date]
    closure: list[date | None]
    stable: list[int]  # indices of orgs members may move to (old, never closing)

    @classmethod
    def from_orgs(cls, orgs: Sequence[Org]) -> OrgPool:
        return cls(
            org_ids=[o.org_id for o in orgs],
            weights=[float(o.employees[0]) for o in orgs],
            founded=[o.founded for o in orgs],
            closure=[o.closure for o in orgs],
            stable=[i for i, o in enumerate(orgs) if o.closure is None and o.founded < SNAPSHOT_DATES[0]]
            or [0],
        )


ID_PARTITIONS = 17  # digits 15-17 are split between streets: two streets never share an ID


def _draw_identity(r: VecRng, wide: bool = False) -> pl.DataFrame:
    """Gender, region (index into REGIONS) and birth day (1955-1997, centred on the
    1970s-80s). ``wide`` spreads regions evenly (used when redrawing crowded groups)."""
    lo = day_int(date(1955, 1, 1))
    span = day_int(date(1997, 12, 31)) - lo
    tri = (r.uniform("b1") + r.uniform("b2")) / 2
    mix = pl.select(pl.when(pl.lit(r.uniform("bmix")) < 0.5).then(pl.lit(tri)).otherwise(pl.lit(r.uniform("b3")))).to_series()
    cum = list(accumulate([1.0] * len(REGIONS) if wide else REGION_WEIGHTS))
    region = pl.Series(cum, dtype=pl.Float64).search_sorted(r.uniform("r") * cum[-1], side="right").clip(0, len(REGIONS) - 1)
    return pl.DataFrame({
        "male": r.uniform("male") < 0.52,
        "region_i": region.cast(pl.Int64),
        "birth_i": (mix * span).cast(pl.Int64) + lo,
    })


def _digit_sum(value: pl.Expr, weights: Sequence[int]) -> pl.Expr:
    """Weighted sum of the decimal digits of ``value`` (most significant first)."""
    n = len(weights)
    return sum(((value // 10 ** (n - 1 - i)) % 10) * w for i, w in enumerate(weights))


def _identities(n: int, key: tuple, street_index: int, partitions: int = ID_PARTITIONS) -> pl.DataFrame:
    """Unique resident IDs by construction: the k-th person of a (region, birth date,
    gender) group gets sequence number k (rotated per group, spread over the street's
    share of the 500 sequence numbers). Rows beyond a group's capacity are redrawn."""
    cap = 500 // partitions
    frame = _draw_identity(VecRng(n, *key, "identity"))
    group = (pl.col("region_i") * 2**16 + pl.col("birth_i") - day_int(date(1955, 1, 1))) * 2 + pl.col("male").cast(pl.Int64)
    for attempt in range(1, 100):
        frame = frame.with_columns(group=group)
        rank = frame.select(pl.int_range(pl.len()).over("group")).to_series()
        over = (rank >= cap).arg_true()
        if over.len() == 0:
            break
        fresh = _draw_identity(VecRng(over.len(), *key, "identity", attempt), wide=True)
        frame = pl.DataFrame({c: frame[c].clone().scatter(over, fresh[c]) for c in fresh.columns})
    else:
        raise RuntimeError("could not draw unique resident ID numbers")
    rot = (pl.col("group").hash(seed_of(*key, "rotate")) % cap).cast(pl.Int64)
    j = ((pl.lit(rank).cast(pl.Int64) + rot) % cap) * partitions + street_index % partitions
    birth = pl.col("birth_i").cast(pl.Int32).cast(pl.Date)
    ymd = birth.dt.year().cast(pl.Int64) * 10_000 + birth.dt.month().cast(pl.Int64) * 100 + birth.dt.day().cast(pl.Int64)
    region_sums = pl.Series([sum(int(c) * w for c, w in zip(r, ID_WEIGHTS, strict=False)) for r in REGIONS])
    frame = frame.with_columns(ymd=ymd, seq=(j // 5) * 10 + (j % 5) * 2 + pl.col("male").cast(pl.Int64))
    total = pl.lit(region_sums).gather(pl.col("region_i")) + _digit_sum(pl.col("ymd"), ID_WEIGHTS[6:14])
    total = total + _digit_sum(pl.col("seq"), ID_WEIGHTS[14:17])
    ident = pl.concat_str([
        pl.lit(pl.Series(REGIONS)).gather(pl.col("region_i")), pl.col("ymd").cast(pl.String),
        pl.col("seq").cast(pl.String).str.zfill(3),
        (total % 11).replace_strict(dict(enumerate(ID_CHECK)), return_dtype=pl.String),
    ])
    return frame.select("male", birth.alias("birth"), ident.alias("id_number"))


def _names(r: VecRng, male: pl.Series) -> pl.Series:
    sur = r.choice("sur", SURNAMES, SURNAME_WEIGHTS)
    g1 = pl.select(pl.when(pl.lit(male)).then(pl.lit(r.choice("gm", MALE_CHARS)))
                   .otherwise(pl.lit(r.choice("gf", FEMALE_CHARS)))).to_series()
    g0 = pl.select(pl.when(pl.lit(r.uniform("two") < 0.7)).then(pl.lit(r.choice("g0", MALE_CHARS + FEMALE_CHARS + NEUTRAL_CHARS)))
                   .otherwise(pl.lit(""))).to_series()
    return pl.select(pl.concat_str([pl.lit(sur), pl.lit(g0), pl.lit(g1)])).to_series()


def _phones(r: VecRng) -> pl.Series:
    kind = r.uniform("phone")
    mobile = pl.concat_str([pl.lit("1"), pl.lit(r.choice("p2", tuple("3456789"), (30, 10, 18, 4, 6, 25, 7))),
                            pl.lit(r.integers("p9", 0, 999_999_999).cast(pl.String)).str.zfill(9)])
    land = pl.concat_str([pl.lit("010-"), pl.lit(r.choice("l1", ("5", "6", "8"))),
                          pl.lit(r.integers("l7", 0, 9_999_999).cast(pl.String)).str.zfill(7)])
    k = pl.lit(kind)
    return pl.select(pl.when(k < 0.85).then(mobile).when(k < 0.93).then(land)).to_series()


def _dates(days: pl.Expr) -> pl.Expr:
    return days.cast(pl.Int32).cast(pl.Date)


def member_population(
    n: int, key: tuple, street_index: int, short: str, pool: OrgPool, *, churn: bool = True,
    partitions: int = ID_PARTITIONS,
) -> pl.DataFrame:
    """Everyone who is on the street's member list at some point of the year, with the
    dates that decide each snapshot: join, leave (and how), move to another org."""
    r = VecRng(n, *key)
    ident = _identities(n, key, street_index, partitions)
    cum = list(accumulate(pool.weights))
    org_idx = pl.Series(cum, dtype=pl.Float64).search_sorted(r.uniform("org") * cum[-1], side="right").clip(0, len(cum) - 1)
    stable = pl.Series(pool.stable, dtype=pl.Int64).gather(r.integers("mv", 0, len(pool.stable) - 1))
    df = ident.with_columns(
        member_id=pl.concat_str([pl.lit("M" + short), (pl.int_range(1, n + 1)).cast(pl.String).str.zfill(7)]),
        name=pl.lit(_names(r, ident["male"])),
        phone=pl.lit(_phones(r)),
        org_i=pl.lit(org_idx.cast(pl.Int64)),
        org2_i=pl.lit(stable),
        u_join=pl.lit(r.uniform("join")),
        joiner=pl.lit(r.uniform("joiner") < (0.1 if churn else 0.0)),
        u_leave=pl.lit(r.uniform("leave")),
        leaver=pl.lit(r.uniform("leaver") < (0.09 if churn else 0.0)),
        leave_kind=pl.lit(r.choice("lk", ("转出", "退会", "去世"), (50, 47, 3))),
        visible=pl.lit(r.uniform("vis") < 0.5),
        mover=pl.lit(r.uniform("mover") < (0.03 if churn else 0.0)),
        u_move=pl.lit(r.uniform("umove")),
        u_close=pl.lit(r.integers("uclose", 0, 10)),
        worker_type=pl.lit(r.choice("wt", WORKER_TYPE, (70, 10, 10, 5, 5))),
        jingka_u=pl.lit(r.uniform("jk")),
        model_worker=pl.lit(r.choice("mw", ("无", "区级", "市级", "全国"), (99.6, 0.3, 0.09, 0.01))),
        show_birth=pl.lit(r.uniform("sb") < 0.88),
    )
    founded = pl.Series([day_int(d) for d in pool.founded], dtype=pl.Int64)
    closure = pl.Series([day_int(d) if d else None for d in pool.closure], dtype=pl.Int64)
    df = df.with_columns(
        founded_i=pl.lit(founded.gather(df["org_i"])),
        closure_i=pl.lit(closure.gather(df["org_i"])),
        org1=pl.lit(pl.Series(pool.org_ids).gather(df["org_i"])),
        org2=pl.lit(pl.Series(pool.org_ids).gather(df["org2_i"])),
    )
    return _member_dates(df)


def _member_dates(df: pl.DataFrame) -> pl.DataFrame:
    y0, y1, pre = day_int(YEAR_START), day_int(YEAR_END), day_int(date(2014, 12, 31))
    adult = (pl.col("birth").dt.offset_by("16y").cast(pl.Int32).cast(pl.Int64) + 2)
    lower = pl.max_horizontal(adult, pl.col("founded_i"))
    lo = pl.when(pl.col("joiner")).then(pl.max_horizontal(lower, pl.lit(y0))).otherwise(lower)
    hi = pl.when(pl.col("joiner") | (lower > pre)).then(pl.lit(y1)).otherwise(pl.lit(pre))
    df = df.with_columns(join_i=(lo + (pl.col("u_join") * (hi - lo + 1)).floor().cast(pl.Int64)).clip(upper_bound=y1))
    leave_lo = pl.max_horizontal(pl.col("join_i") + 30, pl.lit(y0))
    leave = pl.when(pl.col("leaver") & (leave_lo <= y1)).then(
        leave_lo + (pl.col("u_leave") * (y1 - leave_lo + 1)).floor().cast(pl.Int64)
    )
    closed = pl.col("closure_i") + pl.col("u_close")
    by_closure = pl.col("closure_i").is_not_null() & (leave.is_null() | (closed < leave))
    df = df.with_columns(  # members of a closed union transfer out and drop off the list
        leave_i=pl.when(by_closure).then(closed).otherwise(leave),
        leave_kind=pl.when(by_closure).then(pl.lit("转出")).otherwise(pl.col("leave_kind")),
        visible=pl.col("visible") & ~by_closure,
    )
    move_lo = pl.max_horizontal(pl.col("join_i") + 1, pl.lit(day_int(date(2015, 7, 1))))
    move = move_lo + (pl.col("u_move") * (day_int(date(2015, 12, 20)) - move_lo + 1)).floor().cast(pl.Int64)
    do_move = pl.col("mover") & (pl.col("org2_i") != pl.col("org_i")) & (move <= day_int(date(2015, 12, 20)))
    df = df.with_columns(move_i=pl.when(do_move).then(move))
    df = df.filter(pl.col("leave_i").is_null() | (pl.col("leave_i") > pl.col("join_i")))
    return df.select(
        "member_id", "name", "id_number", "male", "birth", "show_birth", "phone", "org1", "org2",
        _dates(pl.col("move_i")).alias("move_date"), _dates(pl.col("join_i")).alias("join_date"),
        _dates(pl.col("leave_i")).alias("leave_date"), "leave_kind", "visible", "worker_type",
        "jingka_u", "model_worker",
    )


def member_snapshot(pop: pl.DataFrame, as_of: date, jingka_rate: float, street_code: str) -> pl.DataFrame:
    """The street's member list as of ``as_of``, typed, in contract column order."""
    s = pl.lit(as_of)
    left = pl.col("leave_date").is_not_null() & (pl.col("leave_date") <= s)
    return pop.filter((pl.col("join_date") <= s) & (~left | pl.col("visible"))).select(
        "member_id",
        "name",
        "id_number",
        pl.when(pl.col("male")).then(pl.lit("男")).otherwise(pl.lit("女")).alias("gender"),
        pl.when(pl.col("show_birth")).then(pl.col("birth")).alias("birth_date"),
        "phone",
        pl.when(pl.col("move_date").is_not_null() & (pl.col("move_date") <= s))
        .then(pl.col("org2")).otherwise(pl.col("org1")).alias("org_id"),
        pl.lit(street_code).alias("street_code"),
        "join_date",
        pl.when(left).then(pl.col("leave_kind")).otherwise(pl.lit("在会")).alias("status"),
        "worker_type",
        (pl.col("jingka_u") < jingka_rate).alias("jingka_issued"),
        "model_worker",
        s.alias("as_of_date"),
    )


def write_members_csv(path: Path | str, n_rows: int, seed: int = 2015, street_code: str = "110101001") -> int:
    """Write one valid members snapshot (as of 2015-12-31) of ``n_rows`` rows as UTF-8 CSV
    with Chinese headers, built with vectorised code; returns the number of rows."""
    codes = [s.code for s in STREETS]
    index = codes.index(street_code) if street_code in codes else int(street_code[-3:]) - 1
    short = street_code[-3:]
    rng = rng_for(seed, "bench-orgs", street_code)
    n_orgs = max(3, n_rows // 30)
    pool = OrgPool(
        org_ids=[f"GH{short}{i + 1:05d}" for i in range(n_orgs)],
        weights=[float(rng.randint(5, 300)) for _ in range(n_orgs)],
        founded=[date(2005, 1, 1)] * n_orgs,
        closure=[None] * n_orgs,
        stable=list(range(n_orgs)),
    )
    pop = member_population(n_rows, (seed, "bench", street_code), index, short, pool, churn=False, partitions=1)
    snap = member_snapshot(pop, YEAR_END, 0.8, street_code)
    table = render_table(snap, get_dataset("members"), TextStyle())
    out = Path(path)
    write_planned(out.parent, PlannedFile(out.name, "members", street_code, FileFormat("csv"), table))
    return table.height
