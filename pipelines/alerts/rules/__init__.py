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
            look_at="marts.fct_dispute_cases",
        ),
        RuleSpec(
            "W02",
            LAB,
            {"window_days": INT, "dispute_type": TXT, "ticket_category": TXT},
            ("complaints", "amount_claimed_yuan"),
            "wage cases or wage-arrears tickets piling up against one employer",
            look_at="marts.fct_dispute_cases、marts.fct_hotline_tickets",
        ),
        RuleSpec(
            "W03",
            LAB,
            {"window_days": INT, "baseline_days": INT},
            ("recent_cases", "ratio"),
            "a street's recent dispute cases against its own baseline",
            look_at="marts.fct_dispute_cases",
        ),
        RuleSpec(
            "W04",
            LAB,
            {"expiring_within_days": INT},
            ("days_since_end", "employees_covered"),
            "a collective contract ending or ended with no renewal signed",
            look_at="marts.fct_collective_contracts",
        ),
        RuleSpec(
            "W05",
            LAB,
            {},
            ("street_overdue_tickets", "hours_overdue"),
            "a hotline ticket past its deadline and not closed",
            look_at="marts.fct_hotline_tickets",
        ),
        RuleSpec(
            "W06",
            LAB,
            {"statuses": TXTS},
            ("employees",),
            "an org going from 正常 to moved out, deregistered or merged between snapshots",
            look_at="marts.dim_union_org_history",
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
            look_at="marts.dim_union_org_history、marts.fct_membership_counts",
        ),
        RuleSpec(
            "W08",
            LAB,
            {"min_closed_cases": INT},
            ("drop_points",),
            "a street's mediation success rate (DC13) falling quarter on quarter",
            look_at="marts.fct_dispute_cases",
        ),
        RuleSpec(
            "W09",
            LAB,
            {"overdue_days": INT},
            ("workers_involved", "open_days"),
            "a dispute case still in mediation past the statutory 15 days",
            look_at="marts.fct_dispute_cases",
        ),
        RuleSpec("OPS_REJECTED", OPS, {}, (), "a submission rejected whole",
                 look_at="audit.ingestion_ledger（按文件编号查对，街道的回执单同样列出）"),
        RuleSpec(
            "OPS_QUALITY_GATE", OPS, {}, (), "a blocking quality suite held a submission back",
            look_at="audit.quality_results，质量报告 data/reports/data_docs/",
        ),
        RuleSpec(
            "OPS_SILENT",
            OPS,
            {"silent_days": INT, "silent_days_by_dataset": ParamKind.DAYS_BY_DATASET},
            ("days_silent",),
            "a street that has sent nothing for a dataset for a while",
            look_at="audit.ingestion_ledger",
        ),
        RuleSpec("OPS_RUN_FAILED", OPS, {}, ("failed_runs",), "a pipeline run failed",
                 look_at="Dagster 运行记录（该作业的失败运行及其日志）"),
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
