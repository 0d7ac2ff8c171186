"""The union-service event datasets: legal services, training events, education
grants, facilities, hardship cases (one generator each).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from pipelines.contract.datasets import HARDSHIP_CAUSE
from pipelines.contract.thresholds import LIBRARY_SUBSIDY_YUAN

from .events import Cycler, Employer, EventRecord, event, money
from .orgs import Org
from .profiles import StreetProfile
from .randomness import rng_for
from .vocabularies import (
    CONTEST_TITLES,
    COURSE_TOPICS,
    LECTURE_TOPICS,
    TRAINING_TITLES,
    person_name,
)
from .year import YEAR, YEAR_END, YEAR_START, date_in_months, month_end, rand_workday

# legal services --------------------------------------------------------------------------------

LEGAL_MIX = (("菜单式法律服务", 0, 3, (5, 40)), ("法律援助申报", 0, 2, (1, 3)), ("法律咨询", 1, 5, (1, 10)))


def make_legal_services(profile: StreetProfile, seed: int) -> list[EventRecord]:
    """律师志愿服务 "一街一月两次" (DC12): twice a month, except a few months."""
    rng = rng_for(seed, "legal", profile.street.code)
    lawyers = [person_name(rng, rng.random() < 0.6) for _ in range(rng.randint(3, 6))]
    out = []
    for month in range(1, 13):
        lo, hi = date(YEAR, month, 1), month_end(YEAR, month)
        volunteer = 1 if month in profile.lawyer_once_months else rng.choices((2, 3), (9, 1))[0]
        items = [("律师志愿服务", (5, 40))] * volunteer
        for stype, kmin, kmax, people in LEGAL_MIX:
            items += [(stype, people)] * rng.randint(kmin, kmax)
        if month % 3 == 0 or rng.random() < 0.2:
            items.append(("案例大讲堂", (30, 120)))
        dated = sorted((rand_workday(rng, lo, hi), stype, people) for stype, people in items)
        for j, (d, stype, people) in enumerate(dated, start=1):
            lawyer = None if stype == "法律援助申报" or (stype == "法律咨询" and rng.random() < 0.5) else rng.choice(lawyers)
            sid = f"FW{profile.short}-{YEAR}{month:02d}-{j:02d}"
            out.append(event(sid, d, {"service_id": sid, "street_code": profile.street.code, "service_date": d,
                                      "service_type": stype, "lawyer_name": lawyer,
                                      "people_served": rng.randint(*people)}))
    return out


# training events ----------------------------------------------------------------------------

H2_MONTHS = {3: 6, 4: 7, 5: 8, 6: 8, 7: 10, 8: 9, 9: 13, 10: 13, 11: 14, 12: 12}


def make_training(profile: StreetProfile, course_people: int, lectures: int, seed: int) -> list[EventRecord]:
    """通识课程 participants and 职工大讲堂 counts follow the district's quotas (DC01, DC02)."""
    rng = rng_for(seed, "training", profile.street.code)
    items: list[tuple[str, str, str | None, int]] = []
    left = course_people
    while left > 0:
        people = min(left, rng.randint(20, 90))
        if 0 < left - people < 15:
            people = left
        left -= people
        items.append(("通识课程", f"通识课程：{rng.choice(COURSE_TOPICS)}", rng.choice(("社区", "楼宇", "企业", "学校")), people))
    for _ in range(lectures):
        items.append(("职工大讲堂", f"职工大讲堂：{rng.choice(LECTURE_TOPICS)}",
                      rng.choices(("社区", "楼宇", "企业", "学校"), (5, 4, 1, 1))[0], rng.randint(40, 200)))
    for _ in range(rng.randint(1, 2)):
        items.append(("技能大赛", rng.choice(CONTEST_TITLES), "企业", rng.randint(20, 150)))
    for _ in range(rng.randint(0, 1)):
        items.append(("技师培训", rng.choice(TRAINING_TITLES), rng.choice(("企业", "学校")), rng.randint(20, 60)))
    for _ in range(rng.randint(0, 2)):
        items.append(("名师带徒", "名师带徒结对活动", "企业", rng.randint(10, 40)))
    if rng.random() < 0.4:
        items.append(("演讲比赛", "“践行社会主义核心价值观”演讲比赛", rng.choice(("社区", "其他")), rng.randint(30, 200)))
    dated = sorted((date_in_months(rng, H2_MONTHS), *item) for item in items)
    out = []
    for j, (d, etype, title, venue, people) in enumerate(dated, start=1):
        eid = f"HD{profile.short}-{YEAR}-{j:04d}"
        out.append(event(eid, d, {"event_id": eid, "street_code": profile.street.code, "event_type": etype,
                                  "title": title, "event_date": d,
                                  "venue_type": venue if rng.random() < 0.95 else None,
                                  "participants": people}))
    return out


# education grants -----------------------------------------------------------------------------

GRANT_AMOUNT = {"专科": 5_000, "本科": 8_000, "研究生": 12_000}


def make_grants(profile: StreetProfile, full: int, partial: int, member_ids: Sequence[str], seed: int) -> list[EventRecord]:
    """全额资助职工读大学 (DC03): the district's ~600 fully funded members."""
    rng = rng_for(seed, "grants", profile.street.code)
    out = []
    for j, is_full in enumerate([True] * full + [False] * partial):
        program = rng.choices(tuple(GRANT_AMOUNT), (40, 50, 10))[0]
        amount = GRANT_AMOUNT[program] * (1 if is_full else rng.choice((0.3, 0.5)))
        approved = date_in_months(rng, {3: 25, 6: 5, 9: 60, 10: 10})
        gid = f"ZZ{profile.short}-{YEAR}-{j + 1:04d}"
        out.append(event(gid, approved, {"grant_id": gid, "member_id": member_ids[j % len(member_ids)],
                                         "street_code": profile.street.code, "program": program,
                                         "approved_date": approved, "amount": money(amount),
                                         "full_funding": is_full}))
    return out


# facilities -------------------------------------------------------------------------------------

ACCEPT_MONTHS = {6: 5, 7: 5, 8: 5, 9: 10, 10: 15, 11: 25, 12: 35}


@dataclass(frozen=True)
class FacilityQuota:
    homes_done: int
    homes_open: int
    home_funding: tuple[int, ...]  # cents, one per home (done then open)
    district_studios: int
    city_studios: int


def _stages(rng: random.Random, accepted: date | None) -> list[tuple[str, date]]:
    if accepted is None:  # still being built at year end
        built = rand_workday(rng, date(2015, 7, 1), date(2015, 11, 30))
        checked = built + timedelta(days=rng.randint(20, 60))
        return [("建设", built)] + ([("抽查", checked)] if checked <= YEAR_END else [])
    checked = accepted - timedelta(days=rng.randint(10, 40))
    built = max(checked - timedelta(days=rng.randint(20, 90)), date(2015, 1, 5))
    if built >= checked:
        checked = built + timedelta(days=5)
        accepted = max(accepted, checked + timedelta(days=5))
    return [("建设", built), ("抽查", checked), ("验收", min(accepted, YEAR_END))]


def _facility(fid: str, org_id: str, street_code: str, ftype: str, level: str | None,
              stages: list[tuple[str, date]], funding: int | None, subsidy: int | None) -> EventRecord:
    base = {"facility_id": fid, "org_id": org_id, "street_code": street_code, "facility_type": ftype,
            "level": level, "funding_amount": funding, "subsidy_amount": None}
    versions = [(d, {**base, "stage": stage, "stage_date": d,
                     "subsidy_amount": subsidy if stage == "验收" else None}) for stage, d in stages]
    return EventRecord(fid, versions)


def make_facilities(profile: StreetProfile, orgs: Sequence[Org], quota: FacilityQuota, seed: int) -> list[EventRecord]:
    """职工之家 (DC07, DC09), 职工书屋 with the 8,000 元 subsidy (DC08), 创新工作室 (DC10)."""
    rng = rng_for(seed, "facilities", profile.street.code)
    hosts = [o for o in orgs if o.active_at_year_end and o.founded < YEAR_START] or list(orgs)
    rng.shuffle(hosts)
    host = Cycler([Employer(o.employer_name, None, o.org_id) for o in hosts])
    code, out = profile.street.code, []
    for j in range(quota.homes_done + quota.homes_open):
        stages = _stages(rng, date_in_months(rng, ACCEPT_MONTHS) if j < quota.homes_done else None)
        out.append(_facility(f"ZJ{profile.short}{j + 1:04d}", host.next().org_id or "", code, "职工之家",
                             "基层" if rng.random() < 0.7 else None, stages, quota.home_funding[j], None))
    for j in range(rng.randint(3, 8) + rng.randint(0, 2)):
        done = j < 3 or rng.random() < 0.8
        subsidy = rng.choices((money(LIBRARY_SUBSIDY_YUAN), money(5_000), None), (94, 3, 3))[0]
        stages = _stages(rng, date_in_months(rng, ACCEPT_MONTHS) if done else None)
        out.append(_facility(f"SW{profile.short}{j + 1:04d}", host.next().org_id or "", code, "职工书屋",
                             "基层", stages, None, subsidy))
    levels = ["区级"] * quota.district_studios + ["市级"] * quota.city_studios + ["基层"] * rng.randint(0, 2)
    for j, level in enumerate(levels):
        stages = _stages(rng, date_in_months(rng, ACCEPT_MONTHS) if level != "基层" or rng.random() < 0.5 else None)
        out.append(_facility(f"CX{profile.short}{j + 1:04d}", host.next().org_id or "", code, "职工创新工作室",
                             level, stages, money(rng.randint(20, 100) * 1000), None))
    return out


# hardship cases ----------------------------------------------------------------------------------

AID_BY_CAUSE: dict[str, tuple[str, ...]] = {
    "重病": ("医疗互助", "日常帮扶", "应急救援"), "残疾": ("日常帮扶",), "单亲": ("日常帮扶", "金秋助学"),
    "失业": ("就业帮扶", "日常帮扶"), "子女就学": ("金秋助学",), "灾害": ("应急救援",), "其他": ("日常帮扶",),
}
AID_AMOUNT: dict[str, tuple[int, int, int] | None] = {  # yuan: low, high, step
    "金秋助学": (2_000, 5_000, 500), "医疗互助": (1_000, 20_000, 100), "应急救援": (5_000, 30_000, 1_000),
    "日常帮扶": (500, 2_000, 100), "就业帮扶": None,
}


def _aid_amount(rng: random.Random, aid_type: str) -> int | None:
    spec = AID_AMOUNT.get(aid_type)
    if spec is None:
        return None
    lo, hi, step = spec
    return money(rng.randrange(lo, hi + 1, step))


def make_hardship(profile: StreetProfile, member_ids: Sequence[str], seed: int) -> list[EventRecord]:
    """困难职工建档 and the aid that follows (DC17: ~80 % of registered get aid)."""
    rng = rng_for(seed, "hardship", profile.street.code)
    items: list[tuple[date, str, str, str, int | None]] = []
    for mid in member_ids:
        cause = rng.choices(HARDSHIP_CAUSE, (30, 15, 15, 15, 15, 3, 7))[0]
        registered = (rand_workday(rng, date(2015, 1, 5), date(2015, 3, 31)) if rng.random() < 0.6
                      else rand_workday(rng, date(2015, 4, 1), date(2015, 11, 30)))
        items.append((registered, mid, cause, "建档", None))
        if rng.random() < 0.8:
            for _ in range(rng.randint(1, 3)):
                aid_type = rng.choice(AID_BY_CAUSE[cause])
                lo = max(registered + timedelta(days=3), date(2015, 8, 1) if aid_type == "金秋助学" else YEAR_START)
                hi = date(2015, 9, 30) if aid_type == "金秋助学" and lo <= date(2015, 9, 30) else YEAR_END
                items.append((rand_workday(rng, lo, hi), mid, cause, aid_type, _aid_amount(rng, aid_type)))
    out = []
    for j, (d, mid, cause, aid_type, amount) in enumerate(sorted(items, key=lambda t: t[:4]), start=1):
        aid_id = f"BF{profile.short}-{YEAR}-{j:04d}"
        out.append(event(aid_id, d, {"aid_id": aid_id, "member_id": mid, "street_code": profile.street.code,
                                     "cause": cause, "aid_type": aid_type, "aid_date": d,
                                     "aid_amount": amount}))
    return out
