"""Each warning rule at, just below and just above its thresholds, on hand-made mart
tables (only the columns the rules read), with the default rule file.

The rules are the dbt models of ``dbt_project/models/warnings``: their compiled SQL runs
over these tables (tests/warning_models.py), and the findings are levelled as the alert
service levels them. The helpers here (``Warehouse``, ``fired``) are shared by the other
alert tests.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.alerts.evaluate import evaluate_labour, fire, labour_findings
from pipelines.alerts.model import Firing
from pipelines.alerts.rulefile import RuleSet, load_rules

from .warning_models import connect_memory, materialise, warning_nodes

AS_OF = date(2015, 12, 31)
S1, S2 = "110101001", "110101002"
CODE_A, CODE_B = "91110101MA00000001", "91110101MA00000002"
RULES = load_rules()

SCHEMA = """
create schema if not exists marts;
create schema if not exists intermediate;
create table marts.fct_dispute_cases (
    street_code varchar, case_id varchar, employer_name varchar, credit_code varchar, org_id varchar,
    dispute_type varchar, workers_involved bigint, received_date date, status varchar, closed_date date,
    amount_claimed decimal(18, 2));
create table marts.fct_hotline_tickets (
    street_code varchar, ticket_id varchar, category varchar, employer_name varchar, credit_code varchar,
    received_at timestamp, deadline_at timestamp, closed_at timestamp);
create table marts.fct_collective_contracts (
    street_code varchar, contract_id varchar, org_id varchar, contract_type varchar, signed_date date,
    start_date date, end_date date, employees_covered bigint, renewal_signed_date date);
create table marts.dim_union_org (
    street_code varchar, org_id varchar, employer_name varchar, credit_code varchar, is_active boolean);
create table intermediate.int_org_snapshots (
    street_code varchar, as_of_date date, org_id varchar, org_name varchar, employer_name varchar,
    credit_code varchar, employees bigint, status varchar);
create table marts.fct_membership_counts (
    street_code varchar, as_of_date date, org_id varchar, worker_type varchar, active_members bigint);
create table intermediate.int_indicator_street_measures (
    indicator_code varchar, street_code varchar, period_type varchar, period_start date,
    numerator decimal(18, 2), denominator decimal(18, 2));
"""


class Warehouse:
    """The mart tables the rules read, filled row by row."""

    def __init__(self, path: Path | str = ":memory:") -> None:
        self.con = connect_memory() if str(path) == ":memory:" else duckdb.connect(str(path))
        self.con.execute(SCHEMA)
        self.n = 0

    def _id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n:04d}"

    def case(
        self,
        *,
        street: str = S1,
        workers: int = 1,
        received: date = AS_OF - timedelta(days=3),
        status: str = "受理",
        closed: date | None = None,
        dispute_type: str = "加班",
        employer: str | None = "北京甲公司",
        credit: str | None = CODE_A,
        amount: float | None = None,
        case_id: str | None = None,
    ) -> str:
        case_id = case_id or self._id("TJ")
        self.con.execute(
            "insert into marts.fct_dispute_cases values (?, ?, ?, ?, null, ?, ?, ?, ?, ?, ?)",
            [
                street,
                case_id,
                employer,
                credit,
                dispute_type,
                workers,
                received,
                status,
                closed,
                Decimal(str(amount)) if amount is not None else None,
            ],
        )
        return case_id

    def ticket(
        self,
        *,
        street: str = S1,
        category: str = "劳动合同",
        employer: str | None = "北京甲公司",
        credit: str | None = CODE_A,
        received: datetime = datetime(2015, 12, 20, 9),
        deadline: datetime = datetime(2016, 1, 10, 9),
        closed: datetime | None = None,
    ) -> str:
        ticket_id = self._id("GD")
        self.con.execute(
            "insert into marts.fct_hotline_tickets values (?, ?, ?, ?, ?, ?, ?, ?)",
            [street, ticket_id, category, employer, credit, received, deadline, closed],
        )
        return ticket_id

    def org(
        self,
        org_id: str,
        snapshots: list[tuple[date, int, str]],
        *,
        street: str = S1,
        employer: str = "北京乙公司",
        credit: str = CODE_B,
    ) -> None:
        """Registry rows (as_of_date, employees, status); the last one is the current."""
        for as_of, employees, status in snapshots:
            self.con.execute(
                "insert into intermediate.int_org_snapshots values (?, ?, ?, ?, ?, ?, ?, ?)",
                [street, as_of, org_id, employer + "工会", employer, credit, employees, status],
            )
        self.con.execute(
            "insert into marts.dim_union_org values (?, ?, ?, ?, ?)",
            [street, org_id, employer, credit, snapshots[-1][2] == "正常"],
        )

    def contract(
        self,
        *,
        org_id: str = "GH1",
        street: str = S1,
        end: date,
        start: date | None = None,
        covered: int = 50,
        contract_type: str = "综合性",
        renewal_signed: date | None = None,
        signed: date | None = None,
    ) -> str:
        contract_id = self._id("HT")
        start = start or end - timedelta(days=3 * 365)
        self.con.execute(
            "insert into marts.fct_collective_contracts values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                street,
                contract_id,
                org_id,
                contract_type,
                signed or start,
                start,
                end,
                covered,
                renewal_signed,
            ],
        )
        return contract_id

    def dc13(self, quarter_start: date, success: int, decided: int, *, street: str = S1) -> None:
        """Indicator DC13 of a quarter: ``success`` of ``decided`` cases mediated."""
        self.con.execute(
            "insert into intermediate.int_indicator_street_measures values "
            "('DC13', ?, 'quarter', ?, ?, ?)",
            [street, quarter_start, success, decided],
        )

    def evaluate(self, as_of: date = AS_OF, rules: RuleSet = RULES) -> None:
        """Run the warning rule models over the tables as they are now."""
        materialise(self.con, as_of, rules)

    def members(self, org_id: str, counts: list[tuple[date, int]], *, street: str = S1) -> None:
        for as_of, n in counts:  # split over two worker types, as the mart is
            self.con.execute(
                "insert into marts.fct_membership_counts values (?, ?, ?, '职工', ?)",
                [street, as_of, org_id, n - n // 3],
            )
            self.con.execute(
                "insert into marts.fct_membership_counts values (?, ?, ?, '农民工', ?)",
                [street, as_of, org_id, n // 3],
            )


@pytest.fixture
def wh() -> Warehouse:
    return Warehouse()


def fired(
    wh: Warehouse, code: str, as_of: date = AS_OF, rules: RuleSet = RULES
) -> dict[str, Firing]:
    """The rule's firings by entity key (each with its level)."""
    rule = rules[code]
    out = {}
    wh.evaluate(as_of, rules)
    for finding in labour_findings(wh.con, as_of, rules):
        f = fire(finding, rule) if finding.rule_code == code else None
        if f is not None:
            out[f.entity_key] = f
    return out


def levels(wh: Warehouse, code: str, as_of: date = AS_OF) -> dict[str, str]:
    return {k: f.level for k, f in fired(wh, code, as_of).items()}


# --- W01 集体劳动争议: workers_involved 10 黄, 30 橙, 100 红 -------------------------------


@pytest.mark.parametrize(
    ("workers", "level"),
    [
        (9, None),
        (10, "黄"),
        (11, "黄"),
        (29, "黄"),
        (30, "橙"),
        (99, "橙"),
        (100, "红"),
        (250, "红"),
    ],
)
def test_w01_levels_follow_the_workers_involved(
    wh: Warehouse, workers: int, level: str | None
) -> None:
    case_id = wh.case(workers=workers)
    assert levels(wh, "W01") == ({f"case:{S1}:{case_id}": level} if level else {})


def test_w01_watches_open_cases_and_recent_ones_only(wh: Warehouse) -> None:
    old_open = wh.case(workers=12, received=AS_OF - timedelta(days=200), status="调解中")
    recent_closed = wh.case(
        workers=12,
        received=AS_OF - timedelta(days=29),
        status="调解成功",
        closed=AS_OF - timedelta(days=20),
    )
    wh.case(
        workers=12,
        received=AS_OF - timedelta(days=30),
        status="调解成功",
        closed=AS_OF - timedelta(days=20),
    )
    closed_later = wh.case(
        workers=12,
        received=AS_OF - timedelta(days=90),
        status="调解不成",
        closed=AS_OF + timedelta(days=1),
    )
    wh.case(workers=12, received=AS_OF + timedelta(days=1))  # after the as-of date
    assert set(levels(wh, "W01")) == {
        f"case:{S1}:{c}" for c in (old_open, recent_closed, closed_later)
    }
    f = fired(wh, "W01")[f"case:{S1}:{closed_later}"]
    assert f.evidence["status_as_of"] == "未结案" and f.evidence["closed_date"] is None
    assert (
        f.message.startswith("【黄色预警】集体劳动争议：东华门街道北京甲公司")
        and "12人" in f.message
    )


# --- W02 欠薪集中: 3 wage cases or 3 wage tickets per employer in 30 days 橙; 1,000,000 元 红 --


def test_w02_three_wage_cases_within_30_days(wh: Warehouse) -> None:
    for days in (0, 10, 29):
        wh.case(dispute_type="工资报酬", received=AS_OF - timedelta(days=days), amount=100_000)
    wh.case(dispute_type="加班", received=AS_OF)  # another type
    assert levels(wh, "W02") == {f"employer:{CODE_A}": "橙"}
    f = fired(wh, "W02")[f"employer:{CODE_A}"]
    assert (
        f.evidence["cases"] == 3
        and f.evidence["tickets"] == 0
        and f.evidence["amount_claimed_yuan"] == 300_000
    )


def test_w02_two_cases_or_a_case_outside_the_window_do_not_fire(wh: Warehouse) -> None:
    for days in (0, 10, 30):  # day 30 is the 31st day back
        wh.case(dispute_type="工资报酬", received=AS_OF - timedelta(days=days))
    wh.ticket(category="欠薪")
    wh.ticket(category="欠薪")
    assert levels(wh, "W02") == {}


@pytest.mark.parametrize(
    ("amounts", "level"),
    [
        ((500_000, 499_999.99, 0), "橙"),
        ((500_000, 500_000, 0), "红"),
        ((900_000, 100_000, 1), "红"),
    ],
)
def test_w02_red_from_a_million_yuan_claimed(
    wh: Warehouse, amounts: tuple[float, ...], level: str
) -> None:
    for a in amounts:
        wh.case(dispute_type="工资报酬", amount=a)
    assert levels(wh, "W02") == {f"employer:{CODE_A}": level}


def test_w02_tickets_count_by_employer_name_when_the_code_is_missing(wh: Warehouse) -> None:
    wh.ticket(category="欠薪", employer="北京丙公司（东城）", credit=CODE_B)
    wh.ticket(
        category="欠薪", employer="北京丙公司(东城) ", credit=None
    )  # half-width brackets, a space
    wh.ticket(category="欠薪", employer="北京 丙公司（东城）", credit=None)
    wh.ticket(category="欠薪", employer="北京丁公司", credit=None)
    wh.ticket(category="欠薪", employer="北京丁公司", credit=None)
    wh.ticket(category="欠薪", employer=None, credit=None)  # no employer: not counted
    assert levels(wh, "W02") == {f"employer:{CODE_B}": "橙"}
    wh.ticket(category="欠薪", employer="北京丁公司", credit=None)
    assert levels(wh, "W02") == {f"employer:{CODE_B}": "橙", "employer:name:北京丁公司": "橙"}


def test_w02_cases_and_tickets_are_counted_apart(wh: Warehouse) -> None:
    wh.case(dispute_type="工资报酬")
    wh.case(dispute_type="工资报酬")
    wh.ticket(category="欠薪")
    wh.ticket(category="欠薪")
    assert levels(wh, "W02") == {}


# --- W03 争议激增: last 30 days vs the 180 days before; >= 5 cases and 2x 黄, 3x 橙 --------


def _surge(wh: Warehouse, recent: int, baseline: int, street: str = S1) -> None:
    for i in range(recent):
        wh.case(street=street, received=AS_OF - timedelta(days=i % 30))
    for i in range(baseline):
        wh.case(street=street, received=AS_OF - timedelta(days=30 + i % 180))


@pytest.mark.parametrize(
    ("recent", "baseline", "level"),
    [
        (5, 15, "黄"),  # average 2.5 per 30 days: exactly 2x
        (5, 16, None),  # 1.875x
        (4, 6, None),  # 4x but fewer than 5 cases
        (5, 10, "橙"),  # exactly 3x
        (5, 11, "黄"),  # 2.7x
        (8, 16, "橙"),  # exactly 3x
        (5, 0, "橙"),  # nothing before
    ],
)
def test_w03_levels(wh: Warehouse, recent: int, baseline: int, level: str | None) -> None:
    _surge(wh, recent, baseline)
    wh.case(received=AS_OF - timedelta(days=210))  # before the baseline: not counted
    assert levels(wh, "W03") == ({f"street:{S1}": level} if level else {})


def test_w03_is_per_street(wh: Warehouse) -> None:
    _surge(wh, 5, 10, S1)
    _surge(wh, 5, 30, S2)
    f = fired(wh, "W03")
    assert set(f) == {f"street:{S1}"}
    assert (
        f[f"street:{S1}"].evidence["recent_cases"] == 5
        and f[f"street:{S1}"].evidence["baseline_cases"] == 10
    )


# --- W04 集体合同到期未续签: ends within 30 days or ended, not renewed; 蓝, ended >= 100 黄 --


def test_w04_window_and_levels(wh: Warehouse) -> None:
    for i in range(1, 6):
        wh.org(
            f"GH{i}",
            [(date(2015, 9, 30), 200, "正常"), (AS_OF, 200, "正常")],
            employer=f"北京{i}公司",
        )
    in_30 = wh.contract(org_id="GH1", end=AS_OF + timedelta(days=30), covered=500)
    wh.contract(org_id="GH2", end=AS_OF + timedelta(days=31), covered=500)
    today = wh.contract(org_id="GH3", end=AS_OF, covered=500)  # ends today: not ended yet
    ended_100 = wh.contract(org_id="GH4", end=AS_OF - timedelta(days=1), covered=100)
    ended_99 = wh.contract(org_id="GH5", end=AS_OF - timedelta(days=400), covered=99)
    assert levels(wh, "W04") == {
        f"contract:{S1}:{in_30}": "蓝",
        f"contract:{S1}:{today}": "蓝",
        f"contract:{S1}:{ended_100}": "黄",
        f"contract:{S1}:{ended_99}": "蓝",
    }


def test_w04_a_renewal_signed_by_the_as_of_date_clears_it(wh: Warehouse) -> None:
    wh.org("GH1", [(AS_OF, 200, "正常")])
    wh.org("GH2", [(AS_OF, 200, "正常")], employer="北京戊公司")
    wh.contract(end=AS_OF - timedelta(days=5), renewal_signed=AS_OF)
    late = wh.contract(
        org_id="GH2", end=AS_OF - timedelta(days=5), renewal_signed=AS_OF + timedelta(days=1)
    )
    assert set(levels(wh, "W04")) == {f"contract:{S1}:{late}"}


def test_w04_a_later_contract_of_the_same_org_and_type_counts_as_renewal(wh: Warehouse) -> None:
    wh.org("GH1", [(AS_OF, 200, "正常")])
    old = wh.contract(
        end=AS_OF - timedelta(days=5), contract_type="工资专项", start=date(2014, 12, 27)
    )
    wh.contract(end=date(2016, 12, 25), contract_type="综合性", start=date(2015, 12, 26))
    assert set(levels(wh, "W04")) == {f"contract:{S1}:{old}"}  # another type is no renewal
    wh.contract(end=date(2016, 12, 25), contract_type="工资专项", start=date(2015, 12, 26))
    assert levels(wh, "W04") == {}
    wh.contract(org_id="GH2", end=AS_OF - timedelta(days=5), signed=AS_OF + timedelta(days=1))
    assert levels(wh, "W04") == {}  # not signed yet as of the date


def test_w04_skips_contracts_of_orgs_that_are_gone(wh: Warehouse) -> None:
    wh.org("GH1", [(date(2015, 9, 30), 200, "正常"), (AS_OF, 200, "迁出")])
    wh.contract(org_id="GH1", end=AS_OF - timedelta(days=5))
    wh.org("GH2", [(date(2015, 9, 30), 200, "正常")], employer="北京戊公司")
    wh.con.execute("delete from marts.dim_union_org where org_id = 'GH2'")  # dropped from the list
    wh.contract(org_id="GH2", end=AS_OF - timedelta(days=5))
    unknown = wh.contract(
        org_id="GH9", end=AS_OF - timedelta(days=5)
    )  # never registered: still watched
    assert set(levels(wh, "W04")) == {f"contract:{S1}:{unknown}"}


# --- W05 派单超期: past deadline and not closed 蓝; 5 in one street 黄 ----------------------


def test_w05_deadline_and_closing_relative_to_the_end_of_the_as_of_day(wh: Warehouse) -> None:
    end = datetime(2016, 1, 1)
    late = wh.ticket(deadline=end - timedelta(seconds=1))
    wh.ticket(deadline=end)  # due at midnight: not past yet
    closed_after = wh.ticket(deadline=datetime(2015, 12, 29), closed=end)
    wh.ticket(deadline=datetime(2015, 12, 29), closed=end - timedelta(seconds=1))
    assert levels(wh, "W05") == {f"ticket:{S1}:{late}": "蓝", f"ticket:{S1}:{closed_after}": "蓝"}


def test_w05_five_overdue_in_one_street_are_yellow(wh: Warehouse) -> None:
    s1 = [wh.ticket(deadline=datetime(2015, 12, 30)) for _ in range(5)]
    s2 = [wh.ticket(street=S2, deadline=datetime(2015, 12, 30)) for _ in range(4)]
    lv = levels(wh, "W05")
    assert {lv[f"ticket:{S1}:{t}"] for t in s1} == {"黄"}
    assert {lv[f"ticket:{S2}:{t}"] for t in s2} == {"蓝"}
    assert fired(wh, "W05")[f"ticket:{S1}:{s1[0]}"].evidence["street_overdue_tickets"] == 5


# --- W06 企业迁出注销: 正常 -> 迁出/注销/合并 between snapshots; 100 黄, 500 橙 --------------

Q2, Q3, Q4 = date(2015, 6, 30), date(2015, 9, 30), AS_OF


@pytest.mark.parametrize(
    ("employees", "status", "level"),
    [
        (99, "迁出", None),
        (100, "迁出", "黄"),
        (499, "注销", "黄"),
        (500, "合并", "橙"),
        (800, "正常", None),
    ],
)
def test_w06_levels(wh: Warehouse, employees: int, status: str, level: str | None) -> None:
    wh.org("GH1", [(Q3, employees, "正常"), (Q4, employees, status)])
    expected = {f"org:{S1}:GH1": level} if level else {}
    assert levels(wh, "W06") == expected
    if level:
        assert fired(wh, "W06")[f"org:{S1}:GH1"].window == "2015-09-30/2015-12-31"


def test_w06_only_the_latest_two_snapshots_on_or_before_the_as_of_date(wh: Warehouse) -> None:
    wh.org("GH1", [(Q2, 300, "正常"), (Q3, 300, "迁出"), (Q4, 300, "迁出")])  # left earlier
    wh.org("GH2", [(Q2, 300, "正常"), (Q3, 300, "正常"), (Q4, 300, "注销")], employer="北京戊公司")
    assert levels(wh, "W06") == {f"org:{S1}:GH2": "黄"}
    assert levels(wh, "W06", as_of=date(2015, 10, 15)) == {f"org:{S1}:GH1": "黄"}


# --- W07 裁员/会员骤减 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "level"),
    [
        (200, 181, None),  # 19 people, 9.5 %
        (200, 180, "黄"),  # 20 people
        (100, 90, "黄"),  # 10 %
        (100, 91, None),  # 9 %
        (10, 9, "黄"),  # 10 % of 10
        (9, 5, None),  # 44 %, but of fewer than 10
        (100, 71, "黄"),  # 29 %
        (100, 70, "橙"),  # 30 %
        (100, 120, None),
    ],
)
def test_w07_employee_falls(wh: Warehouse, before: int, after: int, level: str | None) -> None:
    wh.org("GH1", [(Q3, before, "正常"), (Q4, after, "正常")])
    assert levels(wh, "W07") == ({f"org:{S1}:GH1": level} if level else {})


@pytest.mark.parametrize(
    ("before", "after", "level"),
    [
        (100, 70, "黄"),  # 30 people, 30 %
        (100, 71, None),  # 29 %
        (60, 40, "黄"),  # 20 people, 33 %
        (50, 31, None),  # 19 people
    ],
)
def test_w07_active_member_falls(wh: Warehouse, before: int, after: int, level: str | None) -> None:
    wh.org("GH1", [(Q3, 300, "正常"), (Q4, 300, "正常")])
    wh.members("GH1", [(Q2, 10), (Q3, before), (Q4, after)])
    assert levels(wh, "W07") == ({f"org:{S1}:GH1": level} if level else {})


def test_w07_members_gone_from_the_list_count_as_a_fall_but_departures_are_w06(
    wh: Warehouse,
) -> None:
    wh.org("GH1", [(Q3, 300, "正常"), (Q4, 300, "正常")])
    wh.members("GH1", [(Q3, 40)])  # nobody listed any more
    wh.members("GH9", [(Q4, 5)])  # the street sent a Q4 member list
    wh.org("GH2", [(Q3, 300, "正常"), (Q4, 100, "迁出")], employer="北京戊公司")
    wh.members("GH2", [(Q3, 200)])
    f = fired(wh, "W07")
    assert set(f) == {f"org:{S1}:GH1"}
    assert f[f"org:{S1}:GH1"].evidence["active_members_after"] == 0


# --- W08 调解成功率下滑: last complete quarter 15 points below the one before, >= 10 cases --


def _quarter(wh: Warehouse, start: date, success: int, failed: int) -> None:
    """The quarter's DC13 as the indicator model gives it (which cases count, 撤回 not:
    tests/test_indicators.py)."""
    wh.dc13(start, success, success + failed)


@pytest.mark.parametrize(
    ("q3", "q4", "level"),
    [
        ((10, 0), (17, 3), "蓝"),  # 100 % -> 85 %: exactly 15 points
        ((10, 0), (18, 2), None),  # 10 points
        ((9, 1), (3, 7), "蓝"),  # 90 % -> 30 %
        ((9, 0), (0, 10), None),  # only 9 cases in Q3
        ((10, 0), (0, 9), None),  # only 9 cases in Q4
    ],
)
def test_w08_levels(
    wh: Warehouse, q3: tuple[int, int], q4: tuple[int, int], level: str | None
) -> None:
    _quarter(wh, Q3 - timedelta(days=91), *q3)
    _quarter(wh, Q4 - timedelta(days=91), *q4)
    f = fired(wh, "W08")
    assert {k: v.level for k, v in f.items()} == ({f"street:{S1}": level} if level else {})
    if level:
        assert f[f"street:{S1}"].window == "2015-Q4"


def test_w08_compares_the_last_complete_quarter(wh: Warehouse) -> None:
    _quarter(wh, date(2015, 4, 1), 10, 0)
    _quarter(wh, date(2015, 7, 1), 5, 5)
    _quarter(wh, date(2015, 10, 1), 10, 0)
    assert levels(wh, "W08", as_of=date(2015, 12, 30)) == {f"street:{S1}": "蓝"}  # Q3 vs Q2
    assert fired(wh, "W08", as_of=date(2015, 12, 30))[f"street:{S1}"].window == "2015-Q3"
    assert levels(wh, "W08", as_of=AS_OF) == {}  # Q4 vs Q3: up


# --- W09 调解超期: open more than 15 days after received 蓝; 10 workers 黄 ---------------------


def test_w09_more_than_fifteen_days(wh: Warehouse) -> None:
    late = wh.case(received=AS_OF - timedelta(days=16))
    wh.case(received=AS_OF - timedelta(days=15))
    big = wh.case(received=AS_OF - timedelta(days=40), status="调解中", workers=10)
    still_open = wh.case(
        received=AS_OF - timedelta(days=20), status="调解成功", closed=AS_OF + timedelta(days=2)
    )
    wh.case(received=AS_OF - timedelta(days=20), status="调解成功", closed=AS_OF)
    wh.case(received=AS_OF - timedelta(days=20), status="撤回", closed=AS_OF - timedelta(days=1))
    assert levels(wh, "W09") == {
        f"case:{S1}:{late}": "蓝",
        f"case:{S1}:{big}": "黄",
        f"case:{S1}:{still_open}": "蓝",
    }
    assert fired(wh, "W09")[f"case:{S1}:{late}"].evidence["open_days"] == 16


# --- all rules together ------------------------------------------------------------------


def test_an_empty_warehouse_raises_nothing(wh: Warehouse) -> None:
    wh.evaluate()
    assert evaluate_labour(wh.con, AS_OF, RULES) == []


def test_thresholds_come_from_the_rule_file(wh: Warehouse, tmp_path: Path) -> None:
    text = (
        (Path(RULES.path))
        .read_text(encoding="utf-8")
        .replace("黄: {workers_involved: 10}", "黄: {workers_involved: 5}")
    )
    custom = tmp_path / "rules.yaml"
    custom.write_text(text, encoding="utf-8")
    wh.case(workers=6)
    assert levels(wh, "W01") == {}
    assert {f.level for f in fired(wh, "W01", rules=load_rules(custom)).values()} == {"黄"}


def test_each_warning_rule_is_one_dbt_model_and_all_are_gathered() -> None:
    """W01-W09 (the labour rules the rule file may name) each have one model
    ``warn_<code>_*``, and ``warning_findings`` reads every one of them."""
    from pipelines.alerts.rules import RULE_SPECS, RuleKind

    nodes = warning_nodes()
    by_name = {n["name"]: uid for uid, n in nodes.items()}
    labour = sorted(c for c, spec in RULE_SPECS.items() if spec.kind is RuleKind.LABOUR)
    rule_models = {c: [n for n in by_name if n.startswith(f"warn_{c.lower()}_")] for c in labour}
    assert all(len(models) == 1 for models in rule_models.values()), rule_models
    assert sorted(n for n in by_name if n.startswith("warn_")) == sorted(m for [m] in rule_models.values())
    gathered = set(nodes[by_name["warning_findings"]]["depends_on"]["nodes"])
    assert {by_name[m] for [m] in rule_models.values()} <= gathered
    for code, [model] in rule_models.items():  # each model names its own rule
        assert f"'{code}' as rule_code" in nodes[by_name[model]]["compiled_code"]
