"""Signals from contracts, hotline tickets and the union registry's snapshots.

W04 集体合同到期未续签 (``marts.fct_collective_contracts``), W05 派单超期
(``marts.fct_hotline_tickets``), W06 企业迁出注销 and W07 裁员/会员骤减 (consecutive
snapshots in ``intermediate.int_org_snapshots`` and ``marts.fct_membership_counts``).
Pure over the warehouse, relative to the as-of date passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

import duckdb

from pipelines.alerts.model import Finding, area_name, area_of

from .common import pct, query

# --- W04 集体合同到期未续签 ------------------------------------------------------------------


def unrenewed_contracts(
    con: duckdb.DuckDBPyConnection, as_of: date, p: Mapping[str, Any]
) -> list[Finding]:
    """Contracts signed by the as-of date that end within ``expiring_within_days`` days or
    have ended, with no renewal signed by the as-of date: neither a contract naming
    them in renews_contract_id, nor a later contract of the same org and type that runs
    past their end. Contracts of an org the registry lists as gone (迁出, 注销, 合并, or
    dropped from its street's list) are left out. Metrics: ``days_since_end``
    (negative while it still runs) and ``employees_covered``."""
    rows = query(
        con,
        """
        with candidates as (
            select * from marts.fct_collective_contracts
            where signed_date <= $as_of and end_date <= $horizon
              and not (renewal_signed_date is not null and renewal_signed_date <= $as_of)
        ),
        successors as (
            select c.street_code, c.contract_id
            from candidates c
            join marts.fct_collective_contracts n
              on n.street_code = c.street_code and n.org_id = c.org_id
             and n.contract_type = c.contract_type and n.contract_id <> c.contract_id
             and n.signed_date <= $as_of and n.start_date > c.start_date and n.end_date > c.end_date
        ),
        known_orgs as (select distinct street_code, org_id from intermediate.int_org_snapshots)
        select c.street_code, c.contract_id, c.org_id, c.contract_type, c.start_date, c.end_date,
               c.employees_covered, o.employer_name, o.credit_code
        from candidates c
        left join marts.dim_union_org o on o.street_code = c.street_code and o.org_id = c.org_id
        left join known_orgs k on k.street_code = c.street_code and k.org_id = c.org_id
        where not exists (select 1 from successors s
                          where s.street_code = c.street_code and s.contract_id = c.contract_id)
          and (o.is_active or (o.org_id is null and k.org_id is null))
        order by c.street_code, c.contract_id""",
        {"as_of": as_of, "horizon": as_of + timedelta(days=p["expiring_within_days"])},
    )
    out = []
    for r in rows:
        since_end = (as_of - r["end_date"]).days
        area = area_of(r["street_code"])
        who = r["employer_name"] or f"工会组织{r['org_id']}"
        when = (
            f"已于{r['end_date']}到期"
            if since_end > 0
            else f"将于{r['end_date']}到期（还有{-since_end}天）"
        )
        out.append(
            Finding(
                rule_code="W04",
                area_code=area,
                entity_key=f"contract:{r['street_code']}:{r['contract_id']}",
                metrics={
                    "days_since_end": since_end,
                    "employees_covered": r["employees_covered"] or 0,
                },
                evidence={
                    "contract_id": r["contract_id"],
                    "street_code": r["street_code"],
                    "org_id": r["org_id"],
                    "employer_name": r["employer_name"],
                    "credit_code": r["credit_code"],
                    "contract_type": r["contract_type"],
                    "start_date": r["start_date"],
                    "end_date": r["end_date"],
                    "days_since_end": since_end,
                    "employees_covered": r["employees_covered"],
                },
                message=f"{area_name(area)}{who}{r['contract_type']}集体合同{r['contract_id']}{when}，尚未续签，覆盖职工{r['employees_covered']}人",
            )
        )
    return out


# --- W05 派单超期 ----------------------------------------------------------------------------


def overdue_tickets(
    con: duckdb.DuckDBPyConnection, as_of: date, p: Mapping[str, Any]
) -> list[Finding]:
    """Hotline tickets whose deadline passed by the end of the as-of day and that were not
    closed by then. Metrics: ``street_overdue_tickets`` (how many such tickets the
    ticket's street has at once) and ``hours_overdue``."""
    end = datetime.combine(as_of + timedelta(days=1), time())
    rows = query(
        con,
        """
        select street_code, ticket_id, category, employer_name, credit_code, received_at, deadline_at,
               count(*) over (partition by street_code) as street_overdue
        from marts.fct_hotline_tickets
        where received_at < $end and deadline_at < $end and (closed_at is null or closed_at >= $end)
        order by street_code, ticket_id""",
        {"end": end},
    )
    out = []
    for r in rows:
        hours = int((end - r["deadline_at"]).total_seconds() // 3600)
        area = area_of(r["street_code"])
        out.append(
            Finding(
                rule_code="W05",
                area_code=area,
                entity_key=f"ticket:{r['street_code']}:{r['ticket_id']}",
                metrics={"street_overdue_tickets": r["street_overdue"], "hours_overdue": hours},
                evidence={
                    "ticket_id": r["ticket_id"],
                    "street_code": r["street_code"],
                    "category": r["category"],
                    "employer_name": r["employer_name"],
                    "credit_code": r["credit_code"],
                    "received_at": r["received_at"],
                    "deadline_at": r["deadline_at"],
                    "hours_overdue_at_end_of_as_of": hours,
                    "street_overdue_tickets": r["street_overdue"],
                },
                message=(
                    f"{area_name(area)}热线工单{r['ticket_id']}（{r['category']}）办理时限{r['deadline_at']:%Y-%m-%d %H:%M}"
                    f"已过仍未办结；本街道超期未结工单共{r['street_overdue']}件"
                ),
            )
        )
    return out


# --- W06 / W07: consecutive union-registry snapshots ---------------------------------------

_ORG_PAIRS = """
    with dates as (
        select distinct street_code, as_of_date from intermediate.int_org_snapshots where as_of_date <= $as_of
    ),
    ranked as (
        select *, row_number() over (partition by street_code order by as_of_date desc) as n from dates
    ),
    pairs as (
        select street_code, max(as_of_date) filter (where n = 1) as curr, max(as_of_date) filter (where n = 2) as prev
        from ranked where n <= 2 group by street_code having count(*) = 2
    )
    select p.street_code, p.prev, p.curr, b.org_id, b.org_name, b.employer_name, b.credit_code,
           a.status as status_before, b.status as status_after,
           a.employees as employees_before, b.employees as employees_after
    from pairs p
    join intermediate.int_org_snapshots a on a.street_code = p.street_code and a.as_of_date = p.prev
    join intermediate.int_org_snapshots b
      on b.street_code = p.street_code and b.as_of_date = p.curr and b.org_id = a.org_id
"""


def _org_evidence(r: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "org_id": r["org_id"],
        "street_code": r["street_code"],
        "org_name": r["org_name"],
        "employer_name": r["employer_name"],
        "credit_code": r["credit_code"],
        "previous_snapshot": r["prev"],
        "snapshot": r["curr"],
        "status_before": r["status_before"],
        "status_after": r["status_after"],
        "employees_before": r["employees_before"],
        "employees_after": r["employees_after"],
    }


def _window(prev: date, curr: date) -> str:
    return f"{prev.isoformat()}/{curr.isoformat()}"


def departures(con: duckdb.DuckDBPyConnection, as_of: date, p: Mapping[str, Any]) -> list[Finding]:
    """Orgs 正常 in their street's previous snapshot and in one of ``statuses`` in its
    latest (on or before the as-of date). Metric: ``employees`` (before leaving)."""
    rows = query(
        con,
        _ORG_PAIRS + " where a.status = '正常' and b.status in (select unnest($statuses)) "
        "order by p.street_code, b.org_id",
        {"as_of": as_of, "statuses": list(p["statuses"])},
    )
    out = []
    for r in rows:
        area = area_of(r["street_code"])
        out.append(
            Finding(
                rule_code="W06",
                area_code=area,
                entity_key=f"org:{r['street_code']}:{r['org_id']}",
                window=_window(r["prev"], r["curr"]),
                metrics={"employees": r["employees_before"] or 0},
                evidence=_org_evidence(r),
                message=(
                    f"{area_name(area)}{r['employer_name']}（工会{r['org_id']}）{r['prev']}至{r['curr']}间"
                    f"由正常变为{r['status_after']}，职工{r['employees_before']}人"
                ),
            )
        )
    return out


def _member_falls(
    con: duckdb.DuckDBPyConnection, as_of: date
) -> dict[tuple[str, str], dict[str, Any]]:
    """(street, org) -> active members in the street's previous and latest member snapshot."""
    rows = query(
        con,
        """
        with dates as (
            select distinct street_code, as_of_date from marts.fct_membership_counts where as_of_date <= $as_of
        ),
        ranked as (
            select *, row_number() over (partition by street_code order by as_of_date desc) as n from dates
        ),
        pairs as (
            select street_code, max(as_of_date) filter (where n = 1) as curr,
                   max(as_of_date) filter (where n = 2) as prev
            from ranked where n <= 2 group by street_code having count(*) = 2
        ),
        counts as (
            select m.street_code, m.org_id, p.prev, p.curr,
                   sum(m.active_members) filter (where m.as_of_date = p.prev) as before,
                   coalesce(sum(m.active_members) filter (where m.as_of_date = p.curr), 0) as after
            from marts.fct_membership_counts m
            join pairs p on p.street_code = m.street_code and m.as_of_date in (p.prev, p.curr)
            group by all
        )
        select * from counts where before > after""",
        {"as_of": as_of},
    )
    return {(r["street_code"], r["org_id"]): r for r in rows}


def layoffs(con: duckdb.DuckDBPyConnection, as_of: date, p: Mapping[str, Any]) -> list[Finding]:
    """Orgs 正常 in both of their street's latest two snapshots whose employees fell by
    ``employee_fall_min`` or more, or by ``employee_fall_share`` or more of at least
    ``employee_share_min_base`` (劳动合同法 Art. 41); or whose active members (in the
    latest two member snapshots) fell by ``member_fall_share`` or more and by at least
    ``member_fall_min`` people. Metrics: ``employee_fall``, ``employee_fall_share``,
    ``member_fall``, ``member_fall_share``."""
    orgs = query(
        con,
        _ORG_PAIRS + " where a.status = '正常' and b.status = '正常' "
        "order by p.street_code, b.org_id",
        {"as_of": as_of},
    )
    members = _member_falls(con, as_of)
    out = []
    for r in orgs:
        e0, e1 = r["employees_before"] or 0, r["employees_after"] or 0
        e_fall = max(e0 - e1, 0)
        e_share = e_fall / e0 if e0 else 0.0
        by_employees = e_fall > 0 and (
            e_fall >= p["employee_fall_min"]
            or (e0 >= p["employee_share_min_base"] and e_share >= p["employee_fall_share"])
        )
        m = members.get((r["street_code"], r["org_id"]))
        m_fall = (m["before"] - m["after"]) if m else 0
        m_share = m_fall / m["before"] if m else 0.0
        by_members = m_fall >= p["member_fall_min"] and m_share >= p["member_fall_share"]
        if not (by_employees or by_members):
            continue
        area = area_of(r["street_code"])
        parts = []
        if by_employees:
            parts.append(f"职工由{e0}人减至{e1}人（减少{e_fall}人，{pct(e_share)}）")
        if by_members and m:
            parts.append(
                f"在会会员由{m['before']}人减至{m['after']}人（减少{m_fall}人，{pct(m_share)}）"
            )
        evidence = _org_evidence(r) | {
            "employee_fall": e_fall,
            "employee_fall_share": round(e_share, 4),
        }
        if m:
            evidence |= {
                "members_previous_snapshot": m["prev"],
                "members_snapshot": m["curr"],
                "active_members_before": m["before"],
                "active_members_after": m["after"],
                "member_fall": m_fall,
                "member_fall_share": round(m_share, 4),
            }
        out.append(
            Finding(
                rule_code="W07",
                area_code=area,
                entity_key=f"org:{r['street_code']}:{r['org_id']}",
                window=_window(r["prev"], r["curr"]),
                metrics={
                    "employee_fall": e_fall,
                    "employee_fall_share": e_share,
                    "member_fall": m_fall,
                    "member_fall_share": m_share,
                },
                evidence=evidence,
                message=f"{area_name(area)}{r['employer_name']}（工会{r['org_id']}）{r['prev']}至{r['curr']}间"
                + "，".join(parts),
            )
        )
    return out
