"""Labour-dispute signals from ``marts.fct_dispute_cases`` (and hotline tickets for W02).

W01 集体劳动争议, W02 欠薪集中, W03 争议激增, W08 调解成功率下滑, W09 调解超期. Every
function is pure over the warehouse: (read-only connection, as-of date, parameters) ->
findings. Dates are compared with the as-of date passed in, never with the flags the
marts computed for the build's own as-of date.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

import duckdb

from pipelines.alerts.model import Finding, area_name, area_of
from pipelines.contract.streets import DISTRICT_CODE

from .common import (
    SUCCESS_RATE_STATUSES,
    SUCCESS_STATUS,
    ids,
    last_complete_quarter,
    normalise_employer,
    open_as_of_sql,
    pct,
    previous_quarter,
    quarter_bounds,
    quarter_label,
    query,
    window_start,
    yuan,
)

_CASE_COLUMNS = (
    "street_code, case_id, employer_name, credit_code, dispute_type, workers_involved, "
    "received_date, status, closed_date, amount_claimed"
)


def _case_state(row: Mapping[str, Any], as_of: date) -> str:
    closed = row["closed_date"] is not None and row["closed_date"] <= as_of
    return row["status"] if closed or row["status"] in ("受理", "调解中") else "未结案"


def _case_evidence(row: Mapping[str, Any], as_of: date) -> dict[str, Any]:
    return {
        "case_id": row["case_id"],
        "street_code": row["street_code"],
        "employer_name": row["employer_name"],
        "credit_code": row["credit_code"],
        "dispute_type": row["dispute_type"],
        "workers_involved": row["workers_involved"],
        "received_date": row["received_date"],
        "status_as_of": _case_state(row, as_of),
        "closed_date": row["closed_date"]
        if row["closed_date"] and row["closed_date"] <= as_of
        else None,
        "amount_claimed_yuan": yuan(row["amount_claimed"])
        if row["amount_claimed"] is not None
        else None,
    }


def _case_entity(row: Mapping[str, Any]) -> str:
    return f"case:{row['street_code']}:{row['case_id']}"


# --- W01 集体劳动争议 ------------------------------------------------------------------------


def collective_disputes(
    con: duckdb.DuckDBPyConnection, as_of: date, p: Mapping[str, Any]
) -> list[Finding]:
    """Cases open at the as-of date, or received in the last ``recent_days`` days; the
    level thresholds compare ``workers_involved`` (Art. 7: ten or more is collective)."""
    rows = query(
        con,
        f"""
        select {_CASE_COLUMNS} from marts.fct_dispute_cases
        where received_date <= $as_of and workers_involved is not null
          and ({open_as_of_sql()} or received_date >= $recent_from)
        order by street_code, case_id""",
        {"as_of": as_of, "recent_from": window_start(as_of, p["recent_days"])},
    )
    out = []
    for r in rows:
        where = area_name(area_of(r["street_code"]))
        out.append(
            Finding(
                rule_code="W01",
                area_code=area_of(r["street_code"]),
                entity_key=_case_entity(r),
                metrics={"workers_involved": r["workers_involved"]},
                evidence=_case_evidence(r, as_of),
                message=(
                    f"{where}{r['employer_name']}劳动争议案件{r['case_id']}涉及职工{r['workers_involved']}人"
                    f"（{r['dispute_type']}，{_case_state(r, as_of)}）"
                ),
            )
        )
    return out


# --- W02 欠薪集中 ----------------------------------------------------------------------------


def _employer_codes(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> dict[str, str]:
    """Normalised employer name -> credit code, from the union registry and the records
    themselves; a name seen with two codes is ambiguous and maps to neither."""
    pairs = query(
        con,
        "select employer_name, credit_code from marts.dim_union_org "
        "where employer_name is not null and credit_code is not null",
    )
    pairs += [r for r in rows if r["employer_name"] and r["credit_code"]]
    seen: dict[str, set[str]] = defaultdict(set)
    for r in pairs:
        seen[normalise_employer(r["employer_name"])].add(r["credit_code"])
    return {name: next(iter(codes)) for name, codes in seen.items() if len(codes) == 1}


def wage_arrears_clusters(
    con: duckdb.DuckDBPyConnection, as_of: date, p: Mapping[str, Any]
) -> list[Finding]:
    """Per employer (credit code, else the normalised name): the ``dispute_type`` cases and
    the ``ticket_category`` hotline tickets received in the last ``window_days`` days.
    Metrics: ``complaints`` (the larger of the two counts) and ``amount_claimed_yuan``."""
    start = window_start(as_of, p["window_days"])
    cases = query(
        con,
        """
        select 'case' as kind, street_code, case_id as record_id, employer_name, credit_code, amount_claimed
        from marts.fct_dispute_cases
        where dispute_type = $kind and received_date between $start and $as_of""",
        {"kind": p["dispute_type"], "start": start, "as_of": as_of},
    )
    tickets = query(
        con,
        """
        select 'ticket' as kind, street_code, ticket_id as record_id, employer_name, credit_code,
               null as amount_claimed
        from marts.fct_hotline_tickets
        where category = $kind and received_at >= $start and received_at < $end""",
        {
            "kind": p["ticket_category"],
            "start": datetime.combine(start, time()),
            "end": datetime.combine(as_of + timedelta(days=1), time()),
        },
    )
    rows = [r for r in cases + tickets if r["employer_name"] or r["credit_code"]]
    code_of = _employer_codes(con, rows)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        name = normalise_employer(r["employer_name"]) if r["employer_name"] else ""
        code = r["credit_code"] or code_of.get(name)
        groups[f"employer:{code}" if code else f"employer:name:{name}"].append(r)
    out = []
    for key, group in sorted(groups.items()):
        n_cases = sum(r["kind"] == "case" for r in group)
        n_tickets = len(group) - n_cases
        amount = sum(yuan(r["amount_claimed"]) for r in group)
        streets = sorted({r["street_code"] for r in group})
        area = area_of(streets[0]) if len(streets) == 1 else DISTRICT_CODE
        names = sorted({r["employer_name"] for r in group if r["employer_name"]})
        code = None if key.startswith("employer:name:") else key.removeprefix("employer:")
        employer = names[0] if names else code
        out.append(
            Finding(
                rule_code="W02",
                area_code=area,
                entity_key=key,
                metrics={"complaints": max(n_cases, n_tickets), "amount_claimed_yuan": amount},
                evidence={
                    "employer_name": employer,
                    "credit_code": code,
                    "window_start": start,
                    "window_end": as_of,
                    "street_codes": streets,
                    "cases": n_cases,
                    "tickets": n_tickets,
                    "amount_claimed_yuan": round(amount, 2),
                    "case_ids": ids([r["record_id"] for r in group if r["kind"] == "case"]),
                    "ticket_ids": ids([r["record_id"] for r in group if r["kind"] == "ticket"]),
                },
                message=_arrears_message(area, employer, p, n_cases, n_tickets, amount),
            )
        )
    return out


def _arrears_message(
    area: str, employer: str | None, p: Mapping[str, Any], cases: int, tickets: int, amount: float
) -> str:
    parts = [
        f"{p['dispute_type']}争议{cases}件" if cases else "",
        f"{p['ticket_category']}工单{tickets}件" if tickets else "",
    ]
    claimed = f"，申请金额{amount:,.2f}元" if amount else ""
    return (
        f"{area_name(area)}{employer}近{p['window_days']}天"
        + "、".join(x for x in parts if x)
        + claimed
    )


# --- W03 争议激增 ----------------------------------------------------------------------------


def dispute_surges(
    con: duckdb.DuckDBPyConnection, as_of: date, p: Mapping[str, Any]
) -> list[Finding]:
    """Per street: cases received in the last ``window_days`` days against the average
    per ``window_days`` over the ``baseline_days`` before. Metrics: ``recent_cases`` and
    ``ratio`` (infinite when the baseline is empty and cases came in)."""
    window, baseline = p["window_days"], p["baseline_days"]
    recent_from = window_start(as_of, window)
    base_from = recent_from - timedelta(days=baseline)
    rows = query(
        con,
        """
        select street_code,
               count(*) filter (where received_date >= $recent_from) as recent,
               count(*) filter (where received_date < $recent_from) as baseline,
               list(case_id order by case_id) filter (where received_date >= $recent_from) as recent_ids
        from marts.fct_dispute_cases
        where received_date >= $base_from and received_date <= $as_of
        group by street_code order by street_code""",
        {"recent_from": recent_from, "base_from": base_from, "as_of": as_of},
    )
    out = []
    for r in rows:
        avg = r["baseline"] * window / baseline
        # recent / avg, as one division of integers (exact at a threshold such as 3.0)
        ratio = (
            r["recent"] * baseline / (r["baseline"] * window)
            if r["baseline"]
            else (math.inf if r["recent"] else 0.0)
        )
        area = area_of(r["street_code"])
        times = (
            f"为前{baseline}天平均每{window}天{avg:.1f}件的{ratio:.1f}倍"
            if avg
            else f"前{baseline}天无案件"
        )
        out.append(
            Finding(
                rule_code="W03",
                area_code=area,
                entity_key=f"street:{r['street_code']}",
                metrics={"recent_cases": r["recent"], "ratio": ratio},
                evidence={
                    "street_code": r["street_code"],
                    "recent_cases": r["recent"],
                    "baseline_cases": r["baseline"],
                    "baseline_avg_per_window": round(avg, 2),
                    "ratio": round(ratio, 2) if avg else None,
                    "window_start": recent_from,
                    "window_end": as_of,
                    "baseline_start": base_from,
                    "baseline_end": recent_from - timedelta(days=1),
                    "case_ids": ids(r["recent_ids"] or []),
                },
                message=f"{area_name(area)}近{window}天受理劳动争议{r['recent']}件，{times}",
            )
        )
    return out


# --- W08 调解成功率下滑 ----------------------------------------------------------------------


def success_rate_drops(
    con: duckdb.DuckDBPyConnection, as_of: date, p: Mapping[str, Any]
) -> list[Finding]:
    """Per street: DC13 (closed as 调解成功 / closed as 调解成功, 调解不成 or 转仲裁; 撤回
    left out) in the last complete quarter before the as-of date against the quarter
    before, for streets with at least ``min_closed_cases`` such cases in each quarter.
    Metric: ``drop_points`` (percentage points, positive when the rate fell)."""
    last = last_complete_quarter(as_of)
    prev = previous_quarter(*last)
    (l_start, l_end), (p_start, p_end) = quarter_bounds(*last), quarter_bounds(*prev)
    statuses = ", ".join(f"'{s}'" for s in SUCCESS_RATE_STATUSES)
    rows = query(
        con,
        f"""
        select street_code,
               count(*) filter (where closed_date >= $l_start) as last_closed,
               count(*) filter (where closed_date >= $l_start and status = '{SUCCESS_STATUS}') as last_success,
               count(*) filter (where closed_date <= $p_end) as prev_closed,
               count(*) filter (where closed_date <= $p_end and status = '{SUCCESS_STATUS}') as prev_success
        from marts.fct_dispute_cases
        where status in ({statuses}) and closed_date between $p_start and $l_end
        group by street_code order by street_code""",
        {"l_start": l_start, "l_end": l_end, "p_start": p_start, "p_end": p_end},
    )
    out = []
    for r in rows:
        if min(r["last_closed"], r["prev_closed"]) < p["min_closed_cases"]:
            continue
        rate_last, rate_prev = (
            r["last_success"] / r["last_closed"],
            r["prev_success"] / r["prev_closed"],
        )
        # (rate_prev - rate_last) in points, as one division of integers (exact at 15.0)
        drop = (
            (r["prev_success"] * r["last_closed"] - r["last_success"] * r["prev_closed"])
            * 100
            / (r["prev_closed"] * r["last_closed"])
        )
        area = area_of(r["street_code"])
        out.append(
            Finding(
                rule_code="W08",
                area_code=area,
                entity_key=f"street:{r['street_code']}",
                window=quarter_label(*last),
                metrics={"drop_points": drop},
                evidence={
                    "street_code": r["street_code"],
                    "quarter": quarter_label(*last),
                    "previous_quarter": quarter_label(*prev),
                    "closed_cases": r["last_closed"],
                    "successful_cases": r["last_success"],
                    "success_rate": round(rate_last, 4),
                    "previous_closed_cases": r["prev_closed"],
                    "previous_successful_cases": r["prev_success"],
                    "previous_success_rate": round(rate_prev, 4),
                    "drop_points": round(drop, 1),
                },
                message=(
                    f"{area_name(area)}{quarter_label(*last)}调解成功率{pct(rate_last)}（结案{r['last_closed']}件），"
                    f"比{quarter_label(*prev)}的{pct(rate_prev)}下降{drop:.1f}个百分点"
                ),
            )
        )
    return out


# --- W09 调解超期 ----------------------------------------------------------------------------


def overdue_mediation(
    con: duckdb.DuckDBPyConnection, as_of: date, p: Mapping[str, Any]
) -> list[Finding]:
    """Cases still open (受理 / 调解中) more than ``overdue_days`` days after they were
    received (Art. 14). Metrics: ``workers_involved`` and ``open_days``."""
    rows = query(
        con,
        f"""
        select {_CASE_COLUMNS} from marts.fct_dispute_cases
        where received_date < $limit and {open_as_of_sql()}
        order by street_code, case_id""",
        {"as_of": as_of, "limit": as_of - timedelta(days=p["overdue_days"])},
    )
    out = []
    for r in rows:
        days = (as_of - r["received_date"]).days
        area = area_of(r["street_code"])
        out.append(
            Finding(
                rule_code="W09",
                area_code=area,
                entity_key=_case_entity(r),
                metrics={"workers_involved": r["workers_involved"] or 0, "open_days": days},
                evidence={**_case_evidence(r, as_of), "open_days": days},
                message=(
                    f"{area_name(area)}{r['employer_name']}劳动争议案件{r['case_id']}受理已{days}天仍未结案"
                    f"（{_case_state(r, as_of)}，超过{p['overdue_days']}天调解期限），涉及职工{r['workers_involved']}人"
                ),
            )
        )
    return out
