"""The labour-relations event datasets: collective contracts, dispute cases, hotline
tickets (one generator each). The background stays below every warning threshold; the
warning signals are planted by :mod:`.signals`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from pipelines.contract.datasets import DISPUTE_TYPE, TICKET_CATEGORY
from pipelines.contract.thresholds import LARGE_ENTERPRISE_EMPLOYEES

from .events import Cycler, Employer, EventRecord, event, money
from .orgs import Org
from .profiles import StreetProfile
from .randomness import rng_for
from .year import SNAPSHOT_DATES, YEAR, YEAR_END, YEAR_START, add_years, rand_date, rand_workday

# collective contracts ---------------------------------------------------------------------


CONTRACT_STATES = ("std", "nonstd", "none")
# Natural contracts are all renewed in time (an unrenewed one is a planted W04 signal):
# none may end between the year end and 30 days after it (W04's horizon as of 2015-12-31).
EARLIEST_START = {1: date(2015, 2, 1), 2: date(2014, 2, 1), 3: date(2013, 2, 1)}  # by term (years)


def _contract_state(org: Org, rng: random.Random) -> str:
    e = org.employees[-1]
    if e >= LARGE_ENTERPRISE_EMPLOYEES and org.model:  # DC04: ~60 % standardised coverage at year end
        return rng.choices(CONTRACT_STATES, (68, 10, 22))[0]
    if e >= 25:
        return rng.choices(CONTRACT_STATES, (15, 20, 65))[0]
    return "regional" if rng.random() < 0.12 else "none"


def _contract_type(org: Org, state: str, profile: StreetProfile, rng: random.Random) -> str:
    if state == "regional":
        industry_wide = profile.street.name in ("东花市街道", "龙潭街道") and org.industry in ("O", "H", "F")
        return "行业性" if industry_wide or rng.random() < 0.3 else "区域性"
    return rng.choices(("综合性", "工资专项", "女职工专项"), (60, 28, 12))[0]


def _contract_row(cid: str, org: Org, street_code: str, ctype: str, signed: date, start: date,
                  end: date, std: bool, renews: str | None, rng: random.Random) -> dict:
    pct = None
    if ctype in ("综合性", "工资专项") and rng.random() < 0.92:
        pct = -15 if rng.random() < 0.01 else rng.randint(25, 120)
    return {
        "contract_id": cid, "org_id": org.org_id, "street_code": street_code,
        "contract_type": ctype, "signed_date": signed, "start_date": start, "end_date": end,
        "employees_covered": max(1, org.employees[0 if start.year < YEAR else -1] - rng.randint(0, 3)),
        "wage_increase_pct": pct, "standardized": std, "renews_contract_id": renews,
    }


def _contract_chain(org: Org, state: str, profile: StreetProfile, rng: random.Random,
                    next_id: Callable[[date], str]) -> list[EventRecord]:
    code = profile.street.code
    ctype = _contract_type(org, state, profile, rng)
    term = 1 if ctype == "工资专项" else rng.choices((3, 2), (8, 2))[0]
    start = rand_date(rng, EARLIEST_START[term], date(2015, 12, 20))
    end = add_years(start, term) - timedelta(days=1)
    std = state == "std" or (state == "regional" and rng.random() < 0.2)
    out: list[EventRecord] = []
    renews = None
    signed = start - timedelta(days=rng.randint(0, 20))
    if start.year == YEAR and rng.random() < 0.7:  # a renewal of a contract ending in 2015
        if rng.random() < 0.4:  # renewed a little after the old one ended
            prev_end, signed = start - timedelta(days=rng.randint(1, 25)), start
        else:
            prev_end, signed = start - timedelta(days=1), start - timedelta(days=rng.randint(3, 25))
        prev_start = add_years(prev_end + timedelta(days=1), -term)
        prev_signed = prev_start - timedelta(days=rng.randint(0, 20))
        prev = _contract_row(next_id(prev_signed), org, code, ctype, prev_signed, prev_start, prev_end,
                             rng.random() < 0.5, None, rng)
        out.append(event(prev["contract_id"], prev_signed, prev))
        renews = prev["contract_id"]
    row = _contract_row(next_id(signed), org, code, ctype, signed, start, end, std, renews, rng)
    out.append(event(row["contract_id"], signed, row))
    return out


def make_contracts(profile: StreetProfile, orgs: Sequence[Org], seed: int) -> list[EventRecord]:
    rng = rng_for(seed, "contracts", profile.street.code)
    counter = iter(range(1, 10**7))

    def next_id(signed: date) -> str:
        return f"HT{profile.short}-{signed.year}-{next(counter):05d}"

    eligible = [o for o in orgs if o.active_at_year_end and o.founded < SNAPSHOT_DATES[0]]
    out: list[EventRecord] = []
    for org in eligible:
        state = _contract_state(org, rng)
        if state != "none":
            out += _contract_chain(org, state, profile, rng, next_id)
    if not out and eligible:
        out = _contract_chain(max(eligible, key=lambda o: o.employees[-1]), "std", profile, rng, next_id)
    return out


# dispute cases ------------------------------------------------------------------------------

CLAIM_PER_WORKER: dict[str, tuple[int, int]] = {
    "工资报酬": (3_000, 40_000), "社会保险": (2_000, 30_000), "解除劳动合同": (5_000, 60_000),
    "工伤待遇": (10_000, 150_000), "加班": (1_000, 15_000), "经济补偿": (5_000, 80_000),
    "其他": (1_000, 20_000),
}


def _dispute_outcomes(closed: Sequence[date], base: float, rng: random.Random) -> list[str]:
    """Quota per quarter of closing (not independent draws) so the success rate (DC13,
    counted by closing date) rises smoothly quarter to quarter instead of jumping with
    sampling noise (W08). Cases still open at the year end form a group of their own."""
    out = [""] * len(closed)
    for q in range(5):
        idx = [i for i, d in enumerate(closed) if ((d.month - 1) // 3 if d.year == YEAR else 4) == q]
        withdrawn = round(len(idx) * 0.08)
        rest = len(idx) - withdrawn
        success = round(rest * min(0.95, base + 0.03 * q))
        failed = rest - success
        labels = ["撤回"] * withdrawn + ["调解成功"] * success
        labels += ["调解不成" if j % 9 < 5 else "转仲裁" for j in range(failed)]
        rng.shuffle(labels)
        for i, label in zip(idx, labels, strict=True):
            out[i] = label
    return out


def _spread_workdays(rng: random.Random, n: int, lo: date, hi: date) -> list[date]:
    """``n`` workdays spread evenly over [lo, hi] (one per equal slot, jittered), so a
    street's caseload per month stays level: a surge (W03) is a planted signal's job."""
    span = (hi - lo).days + 1
    out = []
    for i in range(n):
        a, b = lo + timedelta(days=i * span // n), lo + timedelta(days=max((i + 1) * span // n - 1, i * span // n))
        out.append(rand_workday(rng, a, b))
    return sorted(out)


def _dispute_row(case_id: str, street_code: str, emp: Employer, received: date, rng: random.Random) -> dict:
    dtype = rng.choices(DISPUTE_TYPE, (35, 12, 20, 8, 8, 12, 5))[0]
    workers = rng.choices((1, rng.randint(2, 5), rng.randint(6, 9)), (70, 25, 5))[0]
    lo, hi = CLAIM_PER_WORKER[dtype]
    claimed = None
    if rng.random() < 0.9:
        claimed = money(rng.randint(lo, hi) * workers + (rng.randint(0, 99) / 100 if rng.random() < 0.3 else 0))
    return {
        "case_id": case_id, "street_code": street_code, "employer_name": emp.name,
        "credit_code": emp.credit_code if rng.random() < 0.85 else None, "org_id": emp.org_id,
        "received_date": received, "dispute_type": dtype, "workers_involved": workers,
        "amount_claimed": claimed, "status": "受理", "closed_date": None, "amount_settled": None,
    }


def make_disputes(profile: StreetProfile, pool: Cycler, seed: int) -> list[EventRecord]:
    rng = rng_for(seed, "disputes", profile.street.code)
    n = max(3, round(profile.n_orgs * rng.uniform(0.25, 0.45)))
    received = _spread_workdays(rng, n, date(2015, 1, 5), date(2015, 12, 30))
    steps = [(rng.randint(1, 3), rng.randint(3, 15)) for _ in received]  # days to 调解中, to closing
    closings = [rec + timedelta(days=c) for rec, (_, c) in zip(received, steps, strict=True)]
    outcomes = _dispute_outcomes(closings, profile.success_base, rng)
    out = []
    for i, (rec, outcome, (to_mediation, _), closed) in enumerate(zip(received, outcomes, steps, closings, strict=True)):
        row = _dispute_row(f"TJ{profile.short}-2015-{i + 1:04d}", profile.street.code, pool.next(), rec, rng)
        versions = [(rec, row)]
        mediating = rec + timedelta(days=to_mediation)
        if outcome != "撤回" and mediating <= YEAR_END:
            versions.append((mediating, {**row, "status": "调解中"}))
        if closed <= YEAR_END:
            settled = None
            if outcome == "调解成功" and row["amount_claimed"] is not None:
                settled = money(round(row["amount_claimed"] / 100 * rng.uniform(0.5, 1.0), -2))
            versions.append((closed, {**row, "status": outcome, "closed_date": closed, "amount_settled": settled}))
        out.append(EventRecord(row["case_id"], versions))
    return out


# hotline tickets ------------------------------------------------------------------------------


def make_tickets(profile: StreetProfile, pool: Cycler, seed: int) -> list[EventRecord]:
    rng = rng_for(seed, "tickets", profile.street.code)
    n = max(4, round(profile.n_orgs * rng.uniform(0.4, 0.8)))
    starts = sorted(
        datetime.combine(rand_date(rng, YEAR_START, date(2015, 12, 30)), datetime.min.time())
        + timedelta(seconds=rng.randint(8 * 3600, 20 * 3600 - 1))
        for _ in range(n)
    )
    out = []
    for i, received in enumerate(starts):
        emp = pool.next() if rng.random() < 0.8 else None
        deadline = received + timedelta(days=rng.choices((3, 5, 7, 10, 15), (1, 3, 3, 2, 1))[0])
        # Every ticket is closed, some late; none is open past its deadline at the year end
        # (W05: an overdue open ticket is a planted signal). One closed late is closed by then.
        fate = rng.choices(("ontime", "late"), (91, 9))[0]
        if fate == "late" and deadline.date() + timedelta(days=6) > YEAR_END:
            fate = "ontime"
        row = {
            "ticket_id": f"GD{profile.short}{received:%Y%m%d}{i + 1:04d}", "street_code": profile.street.code,
            "received_at": received, "category": rng.choices(TICKET_CATEGORY, (30, 20, 20, 8, 10, 12))[0],
            "employer_name": emp.name if emp else None,
            "credit_code": emp.credit_code if emp and rng.random() < 0.7 else None,
            "deadline_at": deadline, "responded_at": received + timedelta(minutes=rng.randint(10, 240)),
            "closed_at": None, "satisfied": None,
        }
        versions = [(received.date(), row)]
        span = (deadline - received).total_seconds()
        closed = (received + timedelta(seconds=span * rng.uniform(0.1, 0.95)) if fate == "ontime"
                  else deadline + timedelta(minutes=rng.randint(60, 5 * 24 * 60)))
        closed = closed.replace(microsecond=0)
        satisfied = rng.choices((True, False, None), (85, 10, 5))[0]
        if closed.date() <= YEAR_END:  # else still open at the year end, before its deadline
            versions.append((closed.date(), {**row, "closed_at": closed, "satisfied": satisfied}))
        out.append(EventRecord(row["ticket_id"], versions))
    return out
