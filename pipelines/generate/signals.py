"""Planted labour-relations warning signals: one planter per rule, W01-W09.

The background district stays below every warning threshold (see the comments in
``labour_relations.py`` and ``orgs.py``: renewed contracts, closed tickets, level
caseloads, small closures, gentle head-count changes). Each planter adds one signal to one street (a different
street per rule) and records it in ``District.planted``: evaluated as of 2015-12-31
with the default rule file, the district raises exactly these alerts, at these levels.
Signals are planted always (a realistic district has some); the manifest lists them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from pipelines.contract.datasets import CASE_DECIDED_STATUS, CASE_SUCCESS_STATUS

from .events import EventRecord, event, money
from .identifiers import make_uscc
from .model import District, PlantedSignal, SignalPlanter, StreetData
from .orgs import Org
from .randomness import rng_for
from .vocabularies import credit_prefix, employer_name
from .year import SNAPSHOT_DATES, YEAR, YEAR_END

AS_OF = YEAR_END  # the demo's evaluation date
RULE_ORDER = ("W01", "W02", "W03", "W04", "W05", "W06", "W07", "W08", "W09")


# --- where and with whom ------------------------------------------------------------------


def street_for(district: District, rule_code: str) -> StreetData:
    """A different street for every rule (when there are enough streets), by seed."""
    streets = district.streets
    order = rng_for(district.seed, "signal-streets").sample(range(len(streets)), len(streets))
    return streets[order[RULE_ORDER.index(rule_code) % len(streets)]]


def _employers(sd: StreetData) -> list[Org]:
    """The street's long-standing, open unions (their employers get the planted records)."""
    orgs = [o for o in sd.orgs if o.founded < date(YEAR, 1, 1) and o.closure is None]
    return sorted(orgs or sd.orgs, key=lambda o: o.org_id)


def _next_number(keys: Iterable[str], prefix: str) -> int:
    numbers = [
        int(k[len(prefix) :]) for k in keys if k.startswith(prefix) and k[len(prefix) :].isdigit()
    ]
    return max(numbers, default=0) + 1


def _record(
    district: District,
    rule: str,
    level: str,
    sd: StreetData,
    entity: str,
    datasets: tuple[str, ...],
    description: str,
    window: str = "",
) -> None:
    district.planted.append(
        PlantedSignal(rule, level, sd.profile.street.code, entity, window, datasets, description)
    )


# --- dispute cases and tickets --------------------------------------------------------------


def _case(
    sd: StreetData,
    org: Org,
    received: date,
    dispute_type: str,
    workers: int,
    outcome: str | None = None,
    closed: date | None = None,
    to_mediation: int = 2,
) -> EventRecord:
    """A dispute case of ``org``: 受理 when received, 调解中 ``to_mediation`` days later, and
    ``outcome`` on ``closed`` (still open when None)."""
    prefix = f"TJ{sd.profile.short}-{YEAR}-"
    case_id = f"{prefix}{_next_number((r.key for r in sd.events['dispute_cases']), prefix):04d}"
    claimed = money(workers * 12_000)
    row = {
        "case_id": case_id,
        "street_code": sd.profile.street.code,
        "employer_name": org.employer_name,
        "credit_code": org.credit_code,
        "org_id": org.org_id,
        "received_date": received,
        "dispute_type": dispute_type,
        "workers_involved": workers,
        "amount_claimed": claimed,
        "status": "受理",
        "closed_date": None,
        "amount_settled": None,
    }
    versions = [
        (received, row),
        (received + timedelta(days=to_mediation), {**row, "status": "调解中"}),
    ]
    if outcome is not None and closed is not None:
        settled = money(workers * 9_000) if outcome == "调解成功" else None
        versions.append(
            (closed, {**row, "status": outcome, "closed_date": closed, "amount_settled": settled})
        )
    rec = EventRecord(case_id, versions)
    sd.events["dispute_cases"].append(rec)
    return rec


def _ticket(
    sd: StreetData, org: Org, received: datetime, category: str, days: int, closed: datetime | None
) -> EventRecord:
    keys = [r.key for r in sd.events["hotline_tickets"]]
    number = max((int(k[-4:]) for k in keys if k[-4:].isdigit()), default=0) + 1
    ticket_id = f"GD{sd.profile.short}{received:%Y%m%d}{number:04d}"
    row = {
        "ticket_id": ticket_id,
        "street_code": sd.profile.street.code,
        "received_at": received,
        "category": category,
        "employer_name": org.employer_name,
        "credit_code": org.credit_code,
        "deadline_at": received + timedelta(days=days),
        "responded_at": received + timedelta(minutes=40),
        "closed_at": None,
        "satisfied": None,
    }
    versions = [(received.date(), row)]
    if closed is not None:
        versions.append((closed.date(), {**row, "closed_at": closed, "satisfied": True}))
    rec = EventRecord(ticket_id, versions)
    sd.events["hotline_tickets"].append(rec)
    return rec


def _received(rec: EventRecord) -> date:
    return rec.versions[0][1]["received_date"]


def plant_collective_dispute(district: District, rng: random.Random) -> None:
    """W01 橙: 36 workers dismissed together, received mid-December, settled in 13 days."""
    sd = street_for(district, "W01")
    org = rng.choice(_employers(sd))
    rec = _case(sd, org, date(2015, 12, 16), "解除劳动合同", 36, "调解成功", date(2015, 12, 29))
    _record(
        district,
        "W01",
        "橙",
        sd,
        f"case:{sd.profile.street.code}:{rec.key}",
        ("dispute_cases",),
        "a collective dispute of 36 workers (30 or more: 橙)",
    )


def plant_wage_arrears(district: District, rng: random.Random) -> None:
    """W02 橙: three 欠薪 hotline tickets against one employer in December (no claimed
    amount on tickets, so not 红), each closed on time."""
    sd = street_for(district, "W02")
    org = rng.choice(_employers(sd))
    for day in (7, 14, 21):
        received = datetime(2015, 12, day, 10, 0)
        _ticket(sd, org, received, "欠薪", 5, received + timedelta(days=2))
    _record(
        district,
        "W02",
        "橙",
        sd,
        f"employer:{org.credit_code}",
        ("hotline_tickets",),
        "three wage-arrears tickets against one employer within 30 days (橙)",
    )


def plant_dispute_surge(district: District, rng: random.Random) -> None:
    """W03 橙: enough new cases in the last 30 days to pass both 5 cases and three times
    the street's average per 30 days over the 180 days before; open, none overdue."""
    sd = street_for(district, "W03")
    recent_from = AS_OF - timedelta(days=29)
    base_from = recent_from - timedelta(days=180)
    cases = sd.events["dispute_cases"]
    recent = sum(recent_from <= _received(r) <= AS_OF for r in cases)
    baseline = sum(base_from <= _received(r) < recent_from for r in cases)
    avg = baseline * 30 / 180
    target = max(5, math.floor(3 * avg) + 1, recent + 1)
    employers = _employers(sd)
    types = ("社会保险", "加班", "解除劳动合同", "经济补偿", "其他")
    for k in range(target - recent):
        received = date(2015, 12, 17) + timedelta(days=k % 14)  # at most 14 days open: not W09
        _case(
            sd,
            employers[k % len(employers)],
            received,
            types[k % len(types)],
            1 + k % 4,
            to_mediation=1,
        )
    _record(
        district,
        "W03",
        "橙",
        sd,
        f"street:{sd.profile.street.code}",
        ("dispute_cases",),
        f"{target} cases in the last 30 days against {avg:.1f} per 30 days before (3x or more: 橙)",
    )


def plant_success_rate_drop(district: District, rng: random.Random) -> None:
    """W08 蓝: successes closed in Q3 and failures closed in Q4 until DC13 falls 20 points
    or more with at least 12 cases counted in each quarter; all closed before December."""
    sd = street_for(district, "W08")

    def tally(q_start: date, q_end: date) -> tuple[int, int]:
        finals = [r.versions[-1][1] for r in sd.events["dispute_cases"]]
        done = [
            f
            for f in finals
            if f["status"] in CASE_DECIDED_STATUS and f["closed_date"] and q_start <= f["closed_date"] <= q_end
        ]
        return sum(f["status"] == CASE_SUCCESS_STATUS for f in done), len(done)

    s3, n3 = tally(date(2015, 7, 1), date(2015, 9, 30))
    s4, n4 = tally(date(2015, 10, 1), date(2015, 12, 31))
    a3 = max(0, 12 - n3) + 4
    rate3 = (s3 + a3) / (n3 + a3)
    b4 = max(0, 12 - n4)
    while rate3 - s4 / (n4 + b4) < 0.20:
        b4 += 1
    employers = _employers(sd)
    types = ("社会保险", "加班", "经济补偿", "其他")
    for k in range(a3):
        received = date(2015, 8, 3) + timedelta(days=k % 35)
        _case(
            sd,
            employers[k % len(employers)],
            received,
            types[k % 4],
            1 + k % 3,
            "调解成功",
            received + timedelta(days=5 + k % 8),
        )
    for k in range(b4):
        received = date(2015, 10, 12) + timedelta(days=k % 30)
        _case(
            sd,
            employers[(k + 1) % len(employers)],
            received,
            types[(k + 1) % 4],
            1 + k % 3,
            "调解不成" if k % 3 else "转仲裁",
            received + timedelta(days=5 + k % 8),
        )
    _record(
        district,
        "W08",
        "蓝",
        sd,
        f"street:{sd.profile.street.code}",
        ("dispute_cases",),
        f"DC13 {rate3:.0%} in 2015-Q3, {s4 / (n4 + b4):.0%} in 2015-Q4 (15 points or more down: 蓝)",
        window="2015-Q4",
    )


def plant_overdue_mediation(district: District, rng: random.Random) -> None:
    """W09 蓝: a four-worker case received 2015-11-20, still 调解中 at the year end."""
    sd = street_for(district, "W09")
    rec = _case(sd, rng.choice(_employers(sd)), date(2015, 11, 20), "加班", 4, to_mediation=3)
    _record(
        district,
        "W09",
        "蓝",
        sd,
        f"case:{sd.profile.street.code}:{rec.key}",
        ("dispute_cases",),
        "a case in mediation for 41 days (more than 15; fewer than 10 workers: 蓝)",
    )


def plant_overdue_ticket(district: District, rng: random.Random) -> None:
    """W05 蓝: one ticket past its 2015-12-17 deadline, never closed (the street's only one)."""
    sd = street_for(district, "W05")
    rec = _ticket(
        sd, rng.choice(_employers(sd)), datetime(2015, 12, 10, 9, 30), "劳动合同", 7, None
    )
    _record(
        district,
        "W05",
        "蓝",
        sd,
        f"ticket:{sd.profile.street.code}:{rec.key}",
        ("hotline_tickets",),
        "a ticket open past its deadline (fewer than 5 in the street: 蓝)",
    )


# --- union organisations and contracts ---------------------------------------------------


def _new_org(
    district: District,
    sd: StreetData,
    rng: random.Random,
    employees: list[int],
    closure: date | None = None,
    closure_status: str | None = None,
) -> Org:
    """A long-standing union of its own for a planted signal, unique name and codes."""
    names = {o.employer_name for s in district.streets for o in s.orgs}
    codes = {
        c
        for s in district.streets
        for o in s.orgs
        for c in (o.credit_code, o.union_credit_code)
        if c
    }
    prefix = f"GH{sd.profile.short}"
    org_id = f"{prefix}{_next_number((o.org_id for o in sd.orgs), prefix):05d}"
    name = employer_name(rng, "F", "私营", sd.profile.street)
    while name in names:
        name = employer_name(rng, "F", "私营", sd.profile.street)

    def code(prefix8: str) -> str:
        value = make_uscc(prefix8, rng)
        while value in codes:
            value = make_uscc(prefix8, rng)
        codes.add(value)
        return value

    org = Org(
        org_id=org_id,
        org_name=name + "工会委员会",
        employer_name=name,
        credit_code=code(credit_prefix(rng, "私营")),
        industry="F",
        ownership="私营",
        employees=employees,
        member_ratio=0.8,
        founded=date(2006, 4, 18),
        legal_person=True,
        union_credit_code=code("81110101"),
        mediation=True,
        congress=True,
        open_affairs=True,
        model=False,
        closure=closure,
        closure_status=closure_status,
        drop_after_closure=False,
    )
    sd.orgs.append(org)
    return org


def _window() -> str:
    return f"{SNAPSHOT_DATES[-2].isoformat()}/{SNAPSHOT_DATES[-1].isoformat()}"


def plant_unrenewed_contract(district: District, rng: random.Random) -> None:
    """W04 黄: a three-year 综合性 contract covering 148 employees ended 2015-10-31 and
    was not renewed; its union is still 正常."""
    sd = street_for(district, "W04")
    org = _new_org(district, sd, rng, [150, 152, 152])
    prefix = f"HT{sd.profile.short}-"
    number = (
        max(
            (
                int(r.key.rsplit("-", 1)[1])
                for r in sd.events["collective_contracts"]
                if r.key.startswith(prefix)
            ),
            default=0,
        )
        + 1
    )
    signed = date(2012, 10, 20)
    cid = f"{prefix}{signed.year}-{number:05d}"
    sd.events["collective_contracts"].append(
        event(
            cid,
            signed,
            {
                "contract_id": cid,
                "org_id": org.org_id,
                "street_code": sd.profile.street.code,
                "contract_type": "综合性",
                "signed_date": signed,
                "start_date": date(2012, 11, 1),
                "end_date": date(2015, 10, 31),
                "employees_covered": 148,
                "wage_increase_pct": 30,
                "standardized": True,
                "renews_contract_id": None,
            },
        )
    )
    _record(
        district,
        "W04",
        "黄",
        sd,
        f"contract:{sd.profile.street.code}:{cid}",
        ("collective_contracts", "union_orgs"),
        "a contract ended unrenewed, covering 148 (100 or more: 黄)",
    )


def plant_departure(district: District, rng: random.Random) -> None:
    """W06 橙: a 630-employee enterprise's union moves out (迁出) on 2015-11-16."""
    sd = street_for(district, "W06")
    org = _new_org(
        district, sd, rng, [620, 630, 630], closure=date(2015, 11, 16), closure_status="迁出"
    )
    _record(
        district,
        "W06",
        "橙",
        sd,
        f"org:{sd.profile.street.code}:{org.org_id}",
        ("union_orgs",),
        "正常 to 迁出 between the last two snapshots, 630 employees (500 or more: 橙)",
        window=_window(),
    )


def plant_layoff(district: District, rng: random.Random) -> None:
    """W07 黄: employees fall from 262 to 228 between the last two snapshots (34 people,
    13%: 20 or more, under 30%)."""
    sd = street_for(district, "W07")
    org = _new_org(district, sd, rng, [260, 262, 228])
    _record(
        district,
        "W07",
        "黄",
        sd,
        f"org:{sd.profile.street.code}:{org.org_id}",
        ("union_orgs", "members"),
        "34 of 262 employees gone in a quarter (20 or more, under 30%: 黄)",
        window=_window(),
    )


SIGNAL_PLANTERS: tuple[SignalPlanter, ...] = (
    plant_collective_dispute,
    plant_wage_arrears,
    plant_dispute_surge,
    plant_unrenewed_contract,
    plant_overdue_ticket,
    plant_departure,
    plant_layoff,
    plant_success_rate_drop,
    plant_overdue_mediation,
)
