"""The expectation suites, one per dataset, built from the contract.

Column-level expectations (required columns complete, keys unique within a submission,
enum sets, ranges, code patterns) are derived from the dataset declarations; the
dataset-level ones that no single row can break (volume against the street's previous
snapshot, completeness of contact data, freshness) are declared below in
``DATASET_EXPECTATIONS``. ``union-warehouse contract-sync`` writes each suite to
``expectations/<dataset>.json``, where it is reviewed like code; the runner loads the
files, and a test fails if they drift from this module.

Severity is GX's own: ``critical`` blocks the submission from publishing, ``warning``
is reported and does not block. Expectation parameters (``$PARAMETER``) are filled in
per submission by the runner (see :func:`pipelines.quality.runner.parameters_for`).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import great_expectations as gx
from great_expectations.expectations.metadata_types import FailureSeverity

from pipelines.contract import DATASETS, ColumnType, Dataset
from pipelines.rules import idcard, uscc

E = gx.expectations
CRITICAL, WARNING = FailureSeverity.CRITICAL, FailureSeverity.WARNING

USCC_PATTERN = uscc.FORMAT_PATTERN  # the row rules' own patterns, not copies
ID18_PATTERN = idcard.FORMAT_PATTERN
STREET_PATTERN = r"^[0-9]{9}$"

# A registry snapshot smaller than this share of the street's previous snapshot is
# suspicious enough to hold back (a half-exported list would make half the members
# look as if they had left).
MIN_SNAPSHOT_RATIO = 0.5


def _param(name: str) -> dict[str, str]:
    return {"$PARAMETER": name}


def _column_expectations(d: Dataset) -> list:
    out: list = []
    for c in d.columns:
        if c.required:
            out.append(E.ExpectColumnValuesToNotBeNull(column=c.name, severity=CRITICAL))
        if c.type is ColumnType.ENUM:
            out.append(E.ExpectColumnValuesToBeInSet(column=c.name, value_set=list(c.enum), severity=CRITICAL))
        lo, hi = c.effective_minimum, c.maximum
        if c.type in (ColumnType.INT, ColumnType.DECIMAL, ColumnType.MONEY) and (lo is not None or hi is not None):
            out.append(E.ExpectColumnValuesToBeBetween(column=c.name, min_value=lo, max_value=hi, severity=CRITICAL))
        pattern = {ColumnType.USCC: USCC_PATTERN, ColumnType.ID18: ID18_PATTERN}.get(c.type)
        if c.name == "street_code":
            pattern = STREET_PATTERN
        if pattern:
            out.append(E.ExpectColumnValuesToMatchRegex(column=c.name, regex=pattern, severity=CRITICAL))
    out.append(E.ExpectColumnValuesToBeUnique(column=d.key, severity=CRITICAL))
    return out


def _registry_volume() -> list:
    return [
        E.ExpectTableRowCountToBeBetween(
            min_value=_param("min_rows"),
            severity=CRITICAL,
            notes=f"at least {MIN_SNAPSHOT_RATIO:.0%} of the street's previous snapshot",
        ),
        E.ExpectColumnMinToBeBetween(
            column="as_of_date",
            min_value=_param("previous_as_of_date"),
            severity=WARNING,
            notes="a snapshot older than the one already received is probably a late re-send",
        ),
    ]


def _freshness(column: str) -> list:
    return [
        E.ExpectColumnMaxToBeBetween(
            column=column,
            min_value=_param("fresh_since"),
            severity=WARNING,
            notes="the newest record is older than 180 days before the run's as-of date",
        )
    ]


DATASET_EXPECTATIONS: dict[str, Callable[[], list]] = {
    "union_orgs": lambda: _registry_volume() + [
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="employees", column_B="members", or_equal=True, mostly=0.9, severity=WARNING,
            notes="members above employees on more than 10% of orgs",
        ),
    ],
    "members": lambda: _registry_volume() + [
        E.ExpectColumnValuesToNotBeNull(
            column="phone", mostly=0.8, severity=CRITICAL,
            notes="more than 20% of members without a phone: the list is not usable for service",
        ),
        E.ExpectColumnProportionOfNonNullValuesToBeBetween(
            column="birth_date", min_value=0.5, severity=WARNING,
            notes="birth_date mostly missing",
        ),
    ],
    "street_staff": _registry_volume,
    "collective_contracts": lambda: _freshness("signed_date"),
    "dispute_cases": lambda: _freshness("received_date"),
    "hotline_tickets": lambda: _freshness("received_at"),
    "legal_services": lambda: _freshness("service_date"),
    "training_events": lambda: _freshness("event_date"),
    "education_grants": lambda: _freshness("approved_date"),
    "facilities": lambda: _freshness("stage_date"),
    "hardship_cases": lambda: _freshness("aid_date"),
}


def build_suite(d: Dataset) -> gx.ExpectationSuite:
    return gx.ExpectationSuite(
        name=d.name,
        expectations=_column_expectations(d) + DATASET_EXPECTATIONS[d.name](),
        meta={"dataset": d.name, "zh": d.zh, "generated_from": "pipelines/contract"},
    )


def suite_json(d: Dataset) -> str:
    body = build_suite(d).to_json_dict()
    body["meta"] = {k: v for k, v in body["meta"].items() if k != "great_expectations_version"}
    return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True, default=str)


def suite_artifacts() -> dict[str, Callable[[], str]]:
    return {f"expectations/{d.name}.json": (lambda d=d: suite_json(d)) for d in DATASETS}
