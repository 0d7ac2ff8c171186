"""The work plan's indicators DC01-DC17 on a small hand-made district, every expected
number worked out by hand in the comments (not by the model's SQL), then published:
history, determinism and what a changed submission changes.

Streets A = 110101001 and B = 110101002 submit; the other 15 send nothing (they are
still streets: zero counts, zero denominators, and no instructor for DC11).

The fixture builds twice from the same landing data: as of 2015-08-15 (periods still
running: 进行中 / 滞后) and as of 2015-12-31 (every 2015 period over). It then publishes,
re-runs unchanged, and finally corrects one training record and publishes again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.config import Settings
from pipelines.publish import checks
from pipelines.publish.history import HistoryStore
from pipelines.publish.warehouse import PublishResult, publish
from tests.test_dbt_models import DBT_DIR, KEY, ROOT, Landing, contract, member, new_landing, org

A, B = "110101001", "110101002"
DISTRICT = "110101"


def dbt_build(settings: Settings, target: Path, as_of: str) -> None:
    env = {**os.environ, "UNION_DATA_DIR": str(settings.data_dir), "UNION_PII_KEY": KEY,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "build", "--project-dir", str(DBT_DIR), "--profiles-dir",
         str(DBT_DIR), "--target-path", str(target), "--log-path", str(target / "logs"),
         "--vars", json.dumps({"as_of_date": as_of})],
        env=env, capture_output=True, text=True, cwd=DBT_DIR, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def with_status(o: dict, **changes: object) -> dict:
    return {**o, **changes}


def case(case_id: str, status: str, received: date, closed: date | None) -> dict:
    return dict(case_id=case_id, employer_name="某公司", received_date=received, dispute_type="工资报酬",
                workers_involved=2, amount_claimed=Decimal("1000.00"), status=status, closed_date=closed)


def lawyer(service_id: str, day: date, kind: str = "律师志愿服务") -> dict:
    return dict(service_id=service_id, service_date=day, service_type=kind, people_served=3)


def land_district(land: Landing) -> None:
    # union_orgs. A 06-30: O1 (120, model, mediation, no legal person), O2 (50, mediation,
    # legal person), O3 (200, model, no mediation, legal person). A 09-30: O2 moved out.
    o1 = with_status(org("O1", employees=120), is_model_enterprise=True, has_mediation_committee=True,
                     legal_person_registered=False)
    o2 = with_status(org("O2", employees=50), has_mediation_committee=True, legal_person_registered=True,
                     union_credit_code="81110101MA0000000X")
    o3 = with_status(org("O3", employees=200), is_model_enterprise=True, has_mediation_committee=False,
                     legal_person_registered=True, union_credit_code="81110101MA0000001X")
    land.submit("union_orgs", A, [o1, o2, o3], as_of="2015-06-30")
    land.submit("union_orgs", A, [o1, with_status(o2, status="迁出"), o3], as_of="2015-09-30")
    p1 = with_status(org("P1", employees=30), has_mediation_committee=False, legal_person_registered=False)
    land.submit("union_orgs", B, [p1], as_of="2015-06-30")

    # staff: A has an instructor in post from 06-30; B only a 工会专干
    land.submit("street_staff", A, [dict(staff_id="S1", name="甲", role="集体协商专职指导员",
                                          appointed_date=date(2014, 1, 1), active=True)], as_of="2015-06-30")
    land.submit("street_staff", B, [dict(staff_id="S2", name="乙", role="工会专干",
                                          appointed_date=date(2014, 1, 1), active=True)], as_of="2015-06-30")

    # members A: 06-30 m1 (京卡), m2 (no 京卡), m3 退会; 09-30 m1, m2 (now 京卡), m4 (no 京卡)
    land.submit("members", A, [member("m1", "O1"), member("m2", "O1", jingka=False),
                               member("m3", "O1", "退会")], as_of="2015-06-30")
    land.submit("members", A, [member("m1", "O1"), member("m2", "O1"), member("m4", "O1", jingka=False)],
                as_of="2015-09-30")

    # contracts A. K1 (O1, standardised) valid all 2015; K2 (O3) valid but not standardised;
    # K3 ends 03-31, renewed by K4 signed 04-20 (20 days: within 30); K6 ends 06-30, renewed
    # by K7 signed 08-15 (46 days: too late); K5 ends 11-30, never renewed.
    land.submit("collective_contracts", A, [
        contract("K1", "O1", date(2014, 12, 20), date(2015, 1, 1), date(2015, 12, 31)),
        with_status(contract("K2", "O3", date(2014, 12, 20), date(2015, 1, 1), date(2016, 12, 31)), standardized=False),
        contract("K3", "O2", date(2012, 3, 1), date(2012, 4, 1), date(2015, 3, 31)),
        contract("K4", "O2", date(2015, 4, 20), date(2015, 4, 21), date(2018, 4, 20), renews="K3"),
        contract("K5", "O2", date(2012, 11, 1), date(2012, 12, 1), date(2015, 11, 30)),
        contract("K6", "O1", date(2012, 6, 1), date(2012, 7, 1), date(2015, 6, 30)),
        contract("K7", "O1", date(2015, 8, 15), date(2015, 8, 16), date(2018, 8, 15), renews="K6"),
    ])

    # training: A E1 通识课程 50 (07-15), E2 职工大讲堂 (07-20), E3 通识课程 30 (11-02);
    # B E4 通识课程 20 (02-10)
    land.submit("training_events", A, [
        dict(event_id="E1", event_type="通识课程", title="劳动法", event_date=date(2015, 7, 15), participants=50),
        dict(event_id="E2", event_type="职工大讲堂", title="讲堂", event_date=date(2015, 7, 20), participants=200),
        dict(event_id="E3", event_type="通识课程", title="安全", event_date=date(2015, 11, 2), participants=30),
    ])
    land.submit("training_events", B, [
        dict(event_id="E4", event_type="通识课程", title="礼仪", event_date=date(2015, 2, 10), participants=20),
    ])

    # grants: A M-m1 full twice (03-01, 09-01: one person), M-m2 partial; B M-b9 full (05-05)
    land.submit("education_grants", A, [
        dict(grant_id="G1", member_id="M-m1", program="本科", approved_date=date(2015, 3, 1), amount=Decimal("8000"),
             full_funding=True),
        dict(grant_id="G2", member_id="M-m1", program="本科", approved_date=date(2015, 9, 1), amount=Decimal("8000"),
             full_funding=True),
        dict(grant_id="G3", member_id="M-m2", program="专科", approved_date=date(2015, 9, 1), amount=Decimal("2000"),
             full_funding=False),
    ])
    land.submit("education_grants", B, [
        dict(grant_id="G4", member_id="M-b9", program="本科", approved_date=date(2015, 5, 5), amount=Decimal("8000"),
             full_funding=True),
    ])

    # facilities A: F1 职工之家 建设 (03-01) then, in a later file, 验收 (09-01), 20,000 元;
    # F2 书屋 验收 05-10 with 8,000; F3 书屋 验收 06-20 with 5,000; F4 区级工作室 验收 08-05;
    # F5 市级工作室 验收 10-11
    land.submit("facilities", A, [
        dict(facility_id="F1", org_id="O1", facility_type="职工之家", stage="建设", stage_date=date(2015, 3, 1),
             funding_amount=Decimal("20000")),
        dict(facility_id="F2", org_id="O1", facility_type="职工书屋", stage="验收", stage_date=date(2015, 5, 10),
             subsidy_amount=Decimal("8000")),
        dict(facility_id="F3", org_id="O3", facility_type="职工书屋", stage="验收", stage_date=date(2015, 6, 20),
             subsidy_amount=Decimal("5000")),
        dict(facility_id="F4", org_id="O1", facility_type="职工创新工作室", level="区级", stage="验收",
             stage_date=date(2015, 8, 5)),
        dict(facility_id="F5", org_id="O3", facility_type="职工创新工作室", level="市级", stage="验收",
             stage_date=date(2015, 10, 11)),
    ])
    land.submit("facilities", A, [
        dict(facility_id="F1", org_id="O1", facility_type="职工之家", stage="验收", stage_date=date(2015, 9, 1),
             funding_amount=Decimal("20000")),
    ])

    # lawyers in A: two volunteer services a month January-November, one in December
    # (plus a 法律咨询 that does not count); B none
    services = [lawyer(f"L{m}-{k}", date(2015, m, 3 + 10 * k)) for m in range(1, 12) for k in range(2)]
    services += [lawyer("L12-0", date(2015, 12, 3)), lawyer("L12-x", date(2015, 12, 5), "法律咨询")]
    land.submit("legal_services", A, services)

    # disputes A. 2014: Q3 one success one failure (50%), Q4 one success (100%), year 2/3.
    # 2015: C1 success 07-20, C2 调解不成 08-10, C3 撤回 09-15 (excluded), C4 success 10-05,
    # C5 转仲裁 12-01, C6 still 调解中 (open)
    land.submit("dispute_cases", A, [
        case("C0a", "调解成功", date(2014, 7, 1), date(2014, 7, 10)),
        case("C0b", "调解不成", date(2014, 7, 15), date(2014, 8, 1)),
        case("C0c", "调解成功", date(2014, 9, 20), date(2014, 10, 5)),
        case("C1", "调解成功", date(2015, 7, 1), date(2015, 7, 20)),
        case("C2", "调解不成", date(2015, 7, 5), date(2015, 8, 10)),
        case("C3", "撤回", date(2015, 8, 1), date(2015, 9, 15)),
        case("C4", "调解成功", date(2015, 9, 20), date(2015, 10, 5)),
        case("C5", "转仲裁", date(2015, 11, 1), date(2015, 12, 1)),
        case("C6", "调解中", date(2015, 12, 20), None),
    ])

    # hotline A: T1 due 07-03 closed 07-02 (on time); T2 due 08-01 closed 08-05 (late);
    # T3 due 08-20 never closed; T4 due in 2016
    land.submit("hotline_tickets", A, [
        dict(ticket_id="T1", received_at=datetime(2015, 7, 1, 9), category="欠薪", deadline_at=datetime(2015, 7, 3, 9),
             closed_at=datetime(2015, 7, 2, 9)),
        dict(ticket_id="T2", received_at=datetime(2015, 7, 20, 9), category="工伤", deadline_at=datetime(2015, 8, 1, 9),
             closed_at=datetime(2015, 8, 5, 9)),
        dict(ticket_id="T3", received_at=datetime(2015, 8, 10, 9), category="其他", deadline_at=datetime(2015, 8, 20, 9)),
        dict(ticket_id="T4", received_at=datetime(2015, 12, 30, 9), category="其他", deadline_at=datetime(2016, 1, 10, 9)),
    ])

    # hardship A: MA 建档 02-01 and 医疗互助 07-10; MB 建档 08-01, no aid; MC aided (05-01)
    # but never registered
    land.submit("hardship_cases", A, [
        dict(aid_id="H1", member_id="MA", cause="重病", aid_type="建档", aid_date=date(2015, 2, 1)),
        dict(aid_id="H2", member_id="MA", cause="重病", aid_type="医疗互助", aid_date=date(2015, 7, 10),
             aid_amount=Decimal("3000")),
        dict(aid_id="H3", member_id="MB", cause="失业", aid_type="建档", aid_date=date(2015, 8, 1)),
        dict(aid_id="H4", member_id="MC", cause="单亲", aid_type="日常帮扶", aid_date=date(2015, 5, 1)),
    ])


@dataclass
class District:
    settings: Settings
    target: Path
    midyear: pl.DataFrame
    first: PublishResult
    rerun: PublishResult
    changed: PublishResult
    year_end_before_change: pl.DataFrame

    def published(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.settings.published_path), read_only=True) as con:
            return con.sql(sql).fetchall()


def read_values(settings: Settings) -> pl.DataFrame:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.sql("select * from indicators.indicator_values").pl()


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> District:
    land, target = new_landing(tmp_path_factory.mktemp("indicators"))
    settings = land.settings
    land_district(land)

    dbt_build(settings, target, "2015-08-15")
    midyear = read_values(settings)

    dbt_build(settings, target, "2015-12-31")
    year_end = read_values(settings)
    first = publish(settings, "run-1")
    dbt_build(settings, target, "2015-12-31")  # unchanged inputs
    rerun = publish(settings, "run-2")

    # a street corrects one record: E3 had 40 participants, not 30
    land.submit("training_events", A, [
        dict(event_id="E3", event_type="通识课程", title="安全", event_date=date(2015, 11, 2), participants=40),
    ])
    dbt_build(settings, target, "2015-12-31")
    changed = publish(settings, "run-3")
    return District(settings, target, midyear, first, rerun, changed, year_end)


def value_of(frame: pl.DataFrame, code: str, area: str, period_type: str, start: str) -> dict:
    rows = frame.filter(
        (pl.col("indicator_code") == code) & (pl.col("area_code") == area) & (pl.col("period_type") == period_type)
        & (pl.col("period_start") == date.fromisoformat(start))
    ).to_dicts()
    assert len(rows) == 1, (code, area, period_type, start, rows)
    return rows[0]


def nd(row: dict) -> tuple:
    den = None if row["denominator"] is None else float(row["denominator"])
    return float(row["numerator"]), den


@pytest.fixture(scope="module")
def year_end(district: District) -> pl.DataFrame:
    return district.year_end_before_change


YEAR, Q1, Q2, Q3, Q4 = ("year", "2015-01-01"), ("quarter", "2015-01-01"), ("quarter", "2015-04-01"), \
    ("quarter", "2015-07-01"), ("quarter", "2015-10-01")


# --- shape ------------------------------------------------------------------------------


def test_every_indicator_street_and_period_has_one_row(year_end: pl.DataFrame) -> None:
    # as of 2015-12-31: 12 months + 4 quarters + 2 halves + the year = 19 periods;
    # 17 indicators x (17 streets + the district)
    assert year_end.height == 17 * 18 * 19
    assert set(year_end["period_type"]) == {"month", "quarter", "half", "year"}
    assert year_end.filter(pl.col("period_start") < date(2015, 1, 1)).is_empty()  # 2014 is only compared with


def test_a_running_period_only_counts_up_to_the_as_of_date(district: District) -> None:
    mid = district.midyear
    # as of 08-15: months Jan-Aug, Q1-Q3, H1-H2, the year = 8 + 3 + 2 + 1 = 14 periods
    assert mid.select("period_type", "period_start").unique().height == 14
    q3 = value_of(mid, "DC14", A, *Q3)
    assert nd(q3) == (1.0, 2.0)  # T1 on time, T2 late; T3 is due 08-20, after the as-of date
    assert q3["is_complete"] is False and q3["evaluation_date"] == date(2015, 8, 15)


# --- flows --------------------------------------------------------------------------------


def test_dc01_trained_people(year_end: pl.DataFrame) -> None:
    assert nd(value_of(year_end, "DC01", A, *YEAR)) == (80.0, None)  # 50 + 30; the lecture's 200 do not count
    assert nd(value_of(year_end, "DC01", B, *YEAR)) == (20.0, None)
    district = value_of(year_end, "DC01", DISTRICT, *YEAR)
    assert nd(district) == (100.0, None)
    assert district["target"] == 10000 and district["status"] == "未达标"
    # a street has no share of the district's figure
    assert value_of(year_end, "DC01", A, *YEAR)["status"] == "无目标"
    # the district's quarter carries a quarter of the year's target
    assert value_of(year_end, "DC01", DISTRICT, *Q3)["target"] == 2500


def test_dc02_lectures(year_end: pl.DataFrame) -> None:
    assert nd(value_of(year_end, "DC02", DISTRICT, *YEAR)) == (1.0, None)
    assert nd(value_of(year_end, "DC02", DISTRICT, *Q1)) == (0.0, None)


def test_dc03_fully_funded_people_not_grants(year_end: pl.DataFrame) -> None:
    assert nd(value_of(year_end, "DC03", A, *YEAR)) == (1.0, None)  # M-m1 twice is one person; M-m2 partial
    assert nd(value_of(year_end, "DC03", DISTRICT, *YEAR)) == (2.0, None)
    row = value_of(year_end, "DC03", DISTRICT, *YEAR)
    assert (row["target"], row["met_threshold"]) == (600, 570)  # 近600: 570 counts as met


def test_dc07_to_dc10_facilities(year_end: pl.DataFrame) -> None:
    assert nd(value_of(year_end, "DC07", A, *YEAR)) == (1.0, None)  # F1 reached 验收 on 09-01
    assert nd(value_of(year_end, "DC07", A, *Q1)) == (0.0, None)  # only 建设 in Q1
    assert nd(value_of(year_end, "DC08", A, *YEAR)) == (1.0, 2.0)  # F2 got 8,000, F3 5,000
    assert value_of(year_end, "DC08", A, *YEAR)["status"] == "未达标"
    q1 = value_of(year_end, "DC08", A, *Q1)
    assert nd(q1) == (0.0, 0.0) and q1["value"] is None and q1["status"] == "无数据"  # no library accepted in Q1
    assert nd(value_of(year_end, "DC09", A, *YEAR)) == (20000.0, None)  # F1's current record, stage 09-01
    assert nd(value_of(year_end, "DC09", A, *Q1)) == (0.0, None)  # its 03-01 version was replaced
    assert nd(value_of(year_end, "DC10", A, *YEAR)) == (1.0, None)  # F4 区级; F5 is 市级


def test_dc12_lawyer_months(year_end: pl.DataFrame) -> None:
    assert nd(value_of(year_end, "DC12", A, *YEAR)) == (11.0, 12.0)  # December had one
    assert nd(value_of(year_end, "DC12", B, *YEAR)) == (0.0, 12.0)
    assert nd(value_of(year_end, "DC12", DISTRICT, *YEAR)) == (11.0, 17 * 12.0)
    assert nd(value_of(year_end, "DC12", A, *Q4)) == (2.0, 3.0)


def test_dc13_mediation_success_against_last_year_and_last_period(year_end: pl.DataFrame) -> None:
    q3 = value_of(year_end, "DC13", A, *Q3)
    assert nd(q3) == (1.0, 2.0)  # C1 success, C2 failed; C3 withdrawn is excluded
    # 2014 Q3 was 1/2, 2015 Q2 had no closed case: the target is 0.5, met (not below it)
    assert (q3["value_same_period_last_year"], q3["value_previous_period"], q3["target"]) == (0.5, None, 0.5)
    assert q3["status"] == "达标"
    q4 = value_of(year_end, "DC13", A, *Q4)
    # C4 success, C5 转仲裁 (C4 was received in Q3 but closed in Q4: it counts in Q4)
    assert nd(q4) == (1.0, 2.0)
    assert (q4["value_same_period_last_year"], q4["value_previous_period"]) == (1.0, 0.5)
    assert q4["target"] == 1.0 and q4["status"] == "未达标"
    year = value_of(year_end, "DC13", A, *YEAR)
    assert nd(year) == (2.0, 4.0) and year["value_same_period_last_year"] == pytest.approx(2 / 3)
    assert year["status"] == "未达标"
    # nothing closed in 2015 Q1: no rate, whatever the comparisons
    assert value_of(year_end, "DC13", A, *Q1)["status"] == "无数据"


def test_dc14_tickets_due(year_end: pl.DataFrame) -> None:
    assert nd(value_of(year_end, "DC14", A, *YEAR)) == (1.0, 3.0)  # T1 on time, T2 late, T3 open; T4 due 2016
    assert value_of(year_end, "DC14", A, *YEAR)["status"] == "无目标"


def test_dc16_renewals_within_30_days(year_end: pl.DataFrame) -> None:
    # ending in 2015: K3 (renewed in 20 days), K6 (renewed after 46), K5 (never), K1 (12-31, never)
    assert nd(value_of(year_end, "DC16", A, *YEAR)) == (1.0, 4.0)
    assert nd(value_of(year_end, "DC16", A, *Q1)) == (1.0, 1.0)


def test_dc17_hardship_coverage(year_end: pl.DataFrame) -> None:
    assert nd(value_of(year_end, "DC17", A, *YEAR)) == (1.0, 2.0)  # MA aided, MB not; MC never registered
    assert nd(value_of(year_end, "DC17", A, *Q1)) == (0.0, 1.0)  # only MA registered by 03-31, aided in July
    assert nd(value_of(year_end, "DC17", A, *Q3)) == (1.0, 2.0)


# --- states on the evaluation date --------------------------------------------------------


def test_dc04_large_model_enterprises_with_a_standardised_contract(year_end: pl.DataFrame) -> None:
    # on 12-31: O1 (K1 standardised, valid to 12-31) and O3 (K2 not standardised)
    row = value_of(year_end, "DC04", A, *YEAR)
    assert nd(row) == (1.0, 2.0) and row["target"] == 0.6 and row["status"] == "未达标"
    # on 03-31 no org list had been sent yet: no data, not 0%
    q1 = value_of(year_end, "DC04", A, *Q1)
    assert nd(q1) == (0.0, 0.0) and q1["value"] is None and q1["status"] == "无数据"


def test_dc05_dc06_an_org_that_moved_out_mid_year_leaves_the_denominator(year_end: pl.DataFrame) -> None:
    assert nd(value_of(year_end, "DC05", A, *Q2)) == (2.0, 3.0)  # 06-30 list: O1, O2 mediate, O3 not
    assert nd(value_of(year_end, "DC05", A, *YEAR)) == (1.0, 2.0)  # 09-30 list: O2 moved out
    assert nd(value_of(year_end, "DC05", B, *YEAR)) == (0.0, 1.0)
    assert nd(value_of(year_end, "DC05", DISTRICT, *YEAR)) == (1.0, 3.0)
    assert nd(value_of(year_end, "DC06", A, *YEAR)) == (1.0, 2.0)  # O3 registered, O1 not
    assert nd(value_of(year_end, "DC06", A, *Q2)) == (2.0, 3.0)
    assert value_of(year_end, "DC05", A, *YEAR)["status"] == "未达标"


def test_dc11_every_street_counts_even_silent_ones(year_end: pl.DataFrame) -> None:
    assert nd(value_of(year_end, "DC11", A, *YEAR)) == (1.0, 1.0)
    assert value_of(year_end, "DC11", A, *YEAR)["status"] == "达标"
    assert nd(value_of(year_end, "DC11", B, *YEAR)) == (0.0, 1.0)  # a 工会专干 is not an instructor
    assert nd(value_of(year_end, "DC11", DISTRICT, *YEAR)) == (1.0, 17.0)
    q1 = value_of(year_end, "DC11", DISTRICT, *Q1)  # no staff list from any street before 06-30
    assert nd(q1) == (0.0, 0.0) and q1["value"] is None and q1["status"] == "无数据"
    assert value_of(year_end, "DC11", A, *Q1)["status"] == "无数据"


def test_dc15_jingka_among_active_members(year_end: pl.DataFrame) -> None:
    assert nd(value_of(year_end, "DC15", A, *Q2)) == (1.0, 2.0)  # 06-30: m1 yes, m2 no; m3 left
    assert nd(value_of(year_end, "DC15", A, *YEAR)) == (2.0, 3.0)  # 09-30: m1, m2 yes, m4 no
    q1 = value_of(year_end, "DC15", A, *Q1)
    assert q1["value"] is None and q1["status"] == "无数据"


# --- status of periods still running --------------------------------------------------------


def test_running_periods_are_on_track_or_behind_by_a_straight_line(district: District) -> None:
    mid = district.midyear
    year = value_of(mid, "DC01", DISTRICT, *YEAR)
    assert nd(year) == (70.0, None)  # E1 50 + E4 20 by 08-15
    assert year["status"] == "滞后"  # 70 < 10,000 x 227/365
    # August: the district's month share of 10 studios is 10/12; F4 (08-05) is one: on track
    aug = value_of(mid, "DC10", DISTRICT, "month", "2015-08-01")
    assert nd(aug) == (1.0, None) and aug["status"] == "进行中"
    # the same month closed, seen at year end: 1 >= 10/12, met
    assert value_of(district.year_end_before_change, "DC10", DISTRICT, "month", "2015-08-01")["status"] == "达标"
    # a rate below its target while running is behind (06-30 list: 2 of 3 mediate)
    assert value_of(mid, "DC05", A, *YEAR)["status"] == "滞后"
    # DC13 Q3 so far 1/2 against 2014 Q3's 1/2: on track
    assert value_of(mid, "DC13", A, *Q3)["status"] == "进行中"


# --- the blocking checks ---------------------------------------------------------------------


@contextmanager
def copied(district: District, path: Path, *tables: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A new warehouse at ``path`` holding a copy of these tables of the built one, open
    for a test to break."""
    with duckdb.connect(str(path)) as con:
        con.execute(f"attach '{district.settings.warehouse_path}' as w (read_only)")
        for table in tables:
            con.execute(f"create schema if not exists {table.split('.')[0]}")
            con.execute(f"create table {table} as from w.{table}")
        yield con


def test_the_checks_pass_on_the_built_warehouse(district: District) -> None:
    with duckdb.connect(str(district.settings.warehouse_path), read_only=True) as con:
        for check in (checks.district_equals_street_sum, checks.rates_are_consistent, checks.rows_reconcile):
            outcome = check(con)
            assert outcome.passed, outcome


def test_the_checks_catch_a_wrong_district_row_and_a_wrong_rate(district: District, tmp_path: Path) -> None:
    with copied(district, tmp_path / "broken.duckdb", "indicators.indicator_values") as con:
        con.execute("""update indicators.indicator_values set numerator = numerator + 1
                       where indicator_code = 'DC01' and area_level = 'district' and period_type = 'year'""")
        con.execute("""update indicators.indicator_values set value = 0.99
                       where indicator_code = 'DC05' and area_code = '110101001' and period_type = 'year'""")
        con.execute("""update indicators.indicator_values set value = 0.0
                       where indicator_code = 'DC04' and area_code = '110101001' and period_type = 'quarter'
                       and period_start = date '2015-01-01'""")
        sums = checks.district_equals_street_sum(con)
        rates = checks.rates_are_consistent(con)
    assert not sums.passed
    assert [(f["indicator"], f["period_type"]) for f in sums.failures] == [("DC01", "year")]
    assert not rates.passed
    assert {(f["indicator"], f["problem"]) for f in rates.failures} == {
        ("DC01", "a count's value is not its numerator"),  # the district row edited above
        ("DC05", "value is not numerator / denominator"), ("DC04", "zero denominator with a value")}


def test_reconciliation_catches_a_row_lost_between_landing_and_models(district: District, tmp_path: Path) -> None:
    with copied(district, tmp_path / "lost.duckdb", "audit.ingestion_ledger", "audit.row_reconciliation") as con:
        con.execute("""update audit.row_reconciliation set modelled_rows = modelled_rows - 1, reconciles = false
                       where dataset = 'training_events' and street_code = '110101001'""")
        outcome = checks.rows_reconcile(con)
    assert not outcome.passed
    assert outcome.failures[0]["dataset"] == "training_events" and outcome.failures[0]["street"] == A


# --- publishing, history, determinism --------------------------------------------------------


def test_rerun_on_unchanged_inputs_is_byte_identical_and_appends_no_version(district: District) -> None:
    first, rerun = district.first, district.rerun
    assert first.versions_appended == 17 * 18 * 19
    assert rerun.versions_appended == 0
    assert (rerun.values_sha256, rerun.manifest_id) == (first.values_sha256, first.manifest_id)


def test_a_changed_submission_changes_exactly_the_affected_indicators(district: District) -> None:
    changed = district.changed
    assert changed.manifest_id != district.first.manifest_id
    # E3 (A, 11-02) 30 -> 40 participants: DC01 of A and the district, for November,
    # Q4, H2 and the year
    assert changed.versions_appended == 8
    rows = district.published("""
        select indicator_code, area_code, period_label, version_number, numerator, run_id
        from indicators.indicator_history where version_number = 2 order by 2, 3""")
    assert {(r[0], r[1], r[2]) for r in rows} == {
        ("DC01", area, label) for area in (A, DISTRICT) for label in ("2015-11", "2015Q4", "2015H2", "2015")}
    assert all(r[5] == "run-3" for r in rows)
    # history keeps the old version beside the new one
    versions = district.published("""
        select version_number, numerator, run_id from indicators.indicator_history
        where indicator_code = 'DC01' and area_code = '110101' and period_type = 'year' order by 1""")
    assert versions == [(1, Decimal("100.00"), "run-1"), (2, Decimal("110.00"), "run-3")]
    current = district.published("""
        select numerator, version_number, run_id, manifest_id from indicators.indicator_values
        where indicator_code = 'DC01' and area_code = '110101' and period_type = 'year'""")
    assert current == [(Decimal("110.00"), 2, "run-3", changed.manifest_id)]


def test_the_publish_manifest_lists_every_publish_and_its_submissions(district: District) -> None:
    rows = district.published(
        "select publish_id, run_id, versions_appended, submissions_included, len(submissions), code_version "
        "from audit.publish_manifest order by 1")
    assert [(r[0], r[1], r[2]) for r in rows] == [(1, "run-1", 17 * 18 * 19), (2, "run-2", 0), (3, "run-3", 8)]
    assert rows[0][3] == rows[0][4] == 18  # every file landed in the fixture
    assert rows[2][3] == 19  # plus the correction
    assert len({r[5] for r in rows}) == 1


def test_determinism_check_fails_when_the_same_inputs_gave_other_values(district: District) -> None:
    values = read_values(district.settings)
    store = HistoryStore(district.settings.data_dir / "history")
    manifest_id = str(values["manifest_id"][0])
    from pipelines.publish.code_version import code_version

    ok = checks.deterministic(values, district.changed.values_sha256, manifest_id, code_version(), store)
    assert ok.passed and "identical" in ok.summary
    bad = checks.deterministic(values, "0" * 64, manifest_id, code_version(), store)
    assert not bad.passed and bad.failures[0]["run_id"] == "run-3"
    other_code = checks.deterministic(values, "0" * 64, manifest_id, "another-version", store)
    assert other_code.passed


# --- export: the spreadsheet and the report --------------------------------------------------

ARTIFACTS = Path(os.environ.get("UNION_TEST_ARTIFACTS", ROOT / ".test-artifacts"))


@pytest.fixture(scope="module")
def exported(district: District):  # type: ignore[no-untyped-def]
    from pipelines.export.run import export_indicators

    return export_indicators(district.settings)


def test_the_spreadsheet_has_a_sheet_per_period_type_with_chinese_headers(exported, district: District) -> None:
    from openpyxl import load_workbook

    book = load_workbook(exported.workbook, read_only=True)
    assert book.sheetnames == ["指标×街道", "月度", "季度", "半年", "年度", "历史版本", "审计信息", "说明"]
    year = list(book["年度"].iter_rows(values_only=True))
    assert year[0][:6] == ("指标代码", "指标名称", "区域代码", "区域", "层级", "统计期")
    assert len(year) == 1 + 17 * 18  # one period, every indicator x area
    header = year[0]
    dc01 = next(r for r in year[1:] if r[0] == "DC01" and r[2] == DISTRICT)
    assert dc01[header.index("分子")] == 110 and dc01[header.index("状态")] == "未达标"
    assert dc01[header.index("层级")] == "全区" and dc01[header.index("区域")] == "东城区"
    months = list(book["月度"].iter_rows(values_only=True))
    assert len(months) == 1 + 17 * 18 * 12
    history = list(book["历史版本"].iter_rows(values_only=True))
    assert len(history) == 1 + 17 * 18 * 19 + 8  # every first version, and the 8 the correction changed


def test_the_spreadsheet_keeps_formula_like_text_as_text(district: District, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from pipelines.export.indicator_data import read_published
    from pipelines.export.workbook import write_workbook

    data = read_published(district.settings.published_path)
    evil = '=HYPERLINK("http://example.invalid","点我")'
    poisoned = type(data)(data.values.with_columns(pl.lit(evil).alias("indicator_name")), data.history,
                          data.publish)
    book = load_workbook(write_workbook(poisoned, tmp_path / "x.xlsx"))
    cell = book["年度"]["B2"]
    assert cell.value == evil and cell.data_type == "s"


def test_the_report_is_self_contained_and_renders_in_headless_chromium(exported, tmp_path: Path) -> None:
    page = exported.report.read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page and "<script" not in page  # opens offline
    for code in [f"DC{i:02d}" for i in range(1, 18)]:
        assert f'id="{code}"' in page
    assert page.count("<svg") == 2 * 17  # by street and month by month, for every indicator

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "indicator_report.png"
    screenshot.unlink(missing_ok=True)
    browser = [
        "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    shot = subprocess.run([*browser, "--window-size=1280,1600", f"--screenshot={screenshot}",
                           exported.report.as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.returncode == 0, shot.stderr[-2000:]
    png = screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 30_000  # a page with text and charts, not a blank one
    dom = subprocess.run([*browser, "--dump-dom", exported.report.as_uri()], capture_output=True, text=True,
                         timeout=120)
    assert dom.returncode == 0 and "全区年度进度" in dom.stdout and dom.stdout.count("<rect") > 17
