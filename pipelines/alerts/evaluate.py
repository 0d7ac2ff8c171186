"""Evaluate the enabled rules: the logic's findings, levelled by the rule file."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import duckdb

from .model import Finding, Firing
from .rulefile import RuleConfig, RuleSet
from .rules import LABOUR_LOGIC, OPERATOR_LOGIC, OperatorInputs, RuleKind


def fire(finding: Finding, rule: RuleConfig) -> Firing | None:
    """The finding at the most severe level whose thresholds hold, or None."""
    level = rule.level_for(finding.metrics)
    if level is None:
        return None
    prefix = f"【{level}色预警】" if rule.spec.kind is RuleKind.LABOUR else f"【运维·{level}】"
    return Firing(
        rule_code=rule.code,
        rule_name=rule.name,
        rule_kind=rule.spec.kind.value,
        level=level,
        area_code=finding.area_code,
        entity_key=finding.entity_key,
        window=finding.window,
        message=f"{prefix}{rule.name}：{finding.message}".replace("\n", " "),
        evidence=dict(finding.evidence),
    )


def _levelled(findings: Iterable[Finding], rule: RuleConfig) -> list[Firing]:
    return [f for f in (fire(x, rule) for x in findings) if f is not None]


def evaluate_labour(con: duckdb.DuckDBPyConnection, as_of: date, rules: RuleSet) -> list[Firing]:
    """Every enabled labour-relations rule over the warehouse, as of ``as_of``."""
    out: list[Firing] = []
    for rule in rules.enabled():
        if rule.code in LABOUR_LOGIC:
            out += _levelled(LABOUR_LOGIC[rule.code](con, as_of, rule.params), rule)
    return out


def evaluate_operator(inputs: OperatorInputs, rules: RuleSet) -> list[Firing]:
    """Every enabled operator rule evaluated in batch (not OPS_RUN_FAILED: the sensor's)."""
    out: list[Firing] = []
    for rule in rules.enabled():
        if rule.code in OPERATOR_LOGIC:
            out += _levelled(OPERATOR_LOGIC[rule.code](inputs, rule.params), rule)
    return out


def evaluated_codes(rules: RuleSet) -> set[str]:
    """Codes whose open alerts this batch evaluation may resolve: the enabled rules it
    evaluates, and the disabled ones (switching a rule off resolves its alerts)."""
    batch = set(LABOUR_LOGIC) | set(OPERATOR_LOGIC)
    return {code for code in rules.rules if code in batch}
