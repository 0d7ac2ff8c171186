"""The rule codes and where each one's logic lives; parameters and levels come from the
rule file.

Each code declares the parameters it reads and the metrics it reports (its
:class:`RuleSpec`), so the rule file is checked against the logic at load time. The
labour-relations rules W01-W09 are dbt models (``dbt_project/models/warnings/``, one per
rule, gathered in ``warnings.warning_findings``) built with the warehouse; the operator
rules read the ledger and the quality verdicts here; OPS_RUN_FAILED is raised by the
run-failure sensor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pipelines.alerts.model import Finding

from .operator import (
    OperatorInputs,
    held_back_submissions,
    rejected_submissions,
    run_failure,
    silent_feeds,
)
from .spec import ParamKind, RuleKind, RuleSpec

OperatorLogic = Callable[[OperatorInputs, Mapping[str, Any]], list[Finding]]

INT, NUM, TXT, TXTS = ParamKind.INT, ParamKind.NUMBER, ParamKind.TEXT, ParamKind.TEXT_LIST
LAB, OPS = RuleKind.LABOUR, RuleKind.OPERATOR

RULE_SPECS: dict[str, RuleSpec] = {
    s.code: s
    for s in (
        RuleSpec(
            "W01",
            LAB,
            {"recent_days": INT},
            ("workers_involved",),
            "a dispute case open, or received recently, involving many workers",
        ),
        RuleSpec(
            "W02",
            LAB,
            {"window_days": INT, "dispute_type": TXT, "ticket_category": TXT},
            ("complaints", "amount_claimed_yuan"),
            "wage cases or wage-arrears tickets piling up against one employer",
        ),
        RuleSpec(
            "W03",
            LAB,
            {"window_days": INT, "baseline_days": INT},
            ("recent_cases", "ratio"),
            "a street's recent dispute cases against its own baseline",
        ),
        RuleSpec(
            "W04",
            LAB,
            {"expiring_within_days": INT},
            ("days_since_end", "employees_covered"),
            "a collective contract ending or ended with no renewal signed",
        ),
        RuleSpec(
            "W05",
            LAB,
            {},
            ("street_overdue_tickets", "hours_overdue"),
            "a hotline ticket past its deadline and not closed",
        ),
        RuleSpec(
            "W06",
            LAB,
            {"statuses": TXTS},
            ("employees",),
            "an org going from 正常 to moved out, deregistered or merged between snapshots",
        ),
        RuleSpec(
            "W07",
            LAB,
            {
                "employee_fall_min": INT,
                "employee_fall_share": NUM,
                "employee_share_min_base": INT,
                "member_fall_share": NUM,
                "member_fall_min": INT,
            },
            ("employee_fall", "employee_fall_share", "member_fall", "member_fall_share"),
            "an org's employees or active members falling sharply between snapshots",
        ),
        RuleSpec(
            "W08",
            LAB,
            {"min_closed_cases": INT},
            ("drop_points",),
            "a street's mediation success rate (DC13) falling quarter on quarter",
        ),
        RuleSpec(
            "W09",
            LAB,
            {"overdue_days": INT},
            ("workers_involved", "open_days"),
            "a dispute case still in mediation past the statutory 15 days",
        ),
        RuleSpec("OPS_REJECTED", OPS, {}, (), "a submission rejected whole"),
        RuleSpec(
            "OPS_QUALITY_GATE", OPS, {}, (), "a blocking quality suite held a submission back"
        ),
        RuleSpec(
            "OPS_SILENT",
            OPS,
            {"silent_days": INT, "silent_days_by_dataset": ParamKind.DAYS_BY_DATASET},
            ("days_silent",),
            "a street that has sent nothing for a dataset for a while",
        ),
        RuleSpec("OPS_RUN_FAILED", OPS, {}, ("failed_runs",), "a pipeline run failed"),
    )
}

OPERATOR_LOGIC: dict[str, OperatorLogic] = {
    "OPS_REJECTED": rejected_submissions,
    "OPS_QUALITY_GATE": held_back_submissions,
    "OPS_SILENT": silent_feeds,
}

RUN_FAILED = "OPS_RUN_FAILED"  # raised by the run-failure sensor, resolved by a successful run

__all__ = [
    "OPERATOR_LOGIC",
    "RULE_SPECS",
    "RUN_FAILED",
    "OperatorInputs",
    "ParamKind",
    "RuleKind",
    "RuleSpec",
    "run_failure",
]
