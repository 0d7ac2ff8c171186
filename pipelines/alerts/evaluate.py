"""Evaluate the enabled rules: the logic's findings, levelled by the rule file.

The warning rules' findings are computed by the warehouse build (the dbt models in
``dbt_project/models/warnings/``, gathered in ``warnings.warning_findings``); here they
are read back, checked to be as of the evaluated date and made with the rule file's
parameters, and levelled. The operator rules' logic runs here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date

import duckdb

from .model import Finding, Firing
from .rulefile import RuleConfig, RuleSet
from .rules import OPERATOR_LOGIC, RULE_SPECS, OperatorInputs, RuleKind

FINDINGS_TABLE = "warnings.warning_findings"
PARAMETERS_TABLE = "warnings.warning_parameters"


class FindingsOutOfDate(RuntimeError):
    """The warehouse's warning findings are missing, or for another as-of date or other
    rule parameters than the evaluation asks for: the warehouse must be built again."""


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


def _recorded_parameters(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """The rows of ``warnings.warning_parameters`` the build wrote (the as-of date under
    rule code '')."""
    try:
        return con.execute(
            f"select rule_code, param_name, param_value from {PARAMETERS_TABLE}"
        ).fetchall()
    except duckdb.CatalogException as exc:
        raise FindingsOutOfDate(
            f"the working warehouse has no warning findings ({FINDINGS_TABLE}): build it first"
        ) from exc


def _as_of_dates(recorded: list[tuple[str, str, str]]) -> list[str]:
    return sorted(v for code, name, v in recorded if code == "" and name == "as_of_date")


def built_as_of(con: duckdb.DuckDBPyConnection) -> date:
    """The as-of date the warehouse's warning findings were built for."""
    dates = _as_of_dates(_recorded_parameters(con))
    if len(dates) != 1:
        raise FindingsOutOfDate(
            f"the working warehouse has no warning findings ({FINDINGS_TABLE}): build it first"
        )
    return date.fromisoformat(dates[0])


def labour_findings(con: duckdb.DuckDBPyConnection, as_of: date, rules: RuleSet) -> list[Finding]:
    """What the warehouse's rule models found, once checked to be as of ``as_of`` with
    the parameters of ``rules`` (:class:`FindingsOutOfDate` otherwise)."""
    recorded = _recorded_parameters(con)
    dates = _as_of_dates(recorded)
    if dates != [as_of.isoformat()]:
        raise FindingsOutOfDate(
            f"the warehouse's warning findings are as of {', '.join(dates) or 'no date'}, "
            f"not {as_of.isoformat()}: build the warehouse as of {as_of.isoformat()} first"
        )
    if sorted(r for r in recorded if r[0]) != sorted(rules.parameter_rows()):
        raise FindingsOutOfDate(
            f"the warehouse's warning findings were computed with other parameters than the "
            f"rule file {rules.path}: build the warehouse again"
        )
    rows = con.execute(
        "select rule_code, area_code, entity_key, alert_window, metrics, evidence, message "
        f"from {FINDINGS_TABLE} order by rule_code, entity_key, alert_window"
    ).fetchall()
    return [
        Finding(
            rule_code=code,
            area_code=area,
            entity_key=entity,
            window=window,
            metrics=json.loads(metrics),
            evidence=json.loads(evidence),
            message=message,
        )
        for code, area, entity, window, metrics, evidence, message in rows
    ]


def evaluate_labour(con: duckdb.DuckDBPyConnection, as_of: date, rules: RuleSet) -> list[Firing]:
    """Every enabled labour-relations rule's findings in the warehouse, as of ``as_of``,
    levelled."""
    enabled = {r.code: r for r in rules.enabled() if r.spec.kind is RuleKind.LABOUR}
    out: list[Firing] = []
    for finding in labour_findings(con, as_of, rules):
        rule = enabled.get(finding.rule_code)
        if rule is not None:
            out += _levelled([finding], rule)
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
    labour = {code for code, spec in RULE_SPECS.items() if spec.kind is RuleKind.LABOUR}
    batch = labour | set(OPERATOR_LOGIC)
    return {code for code in rules.rules if code in batch}
