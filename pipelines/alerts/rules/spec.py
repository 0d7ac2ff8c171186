"""What a rule's logic declares, so the rule file can be checked against it.

Each rule code has logic in Python (the modules beside this one) and parameters and
level thresholds in the rule file. The logic declares the parameter names and kinds it
reads and the metrics it reports for each finding; the loader refuses a rule file whose
parameters or level conditions do not match.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum


class ParamKind(Enum):
    INT = "a whole number >= 0"
    NUMBER = "a number >= 0"
    TEXT = "a non-empty text"
    TEXT_LIST = "a non-empty list of texts"
    DAYS_BY_DATASET = "a mapping of dataset names to whole numbers >= 0 (may be empty)"


class RuleKind(Enum):
    LABOUR = "labour"  # labour-relations warnings for the federation (W01-W09)
    OPERATOR = "operator"  # data-engineering alerts (OPS_*)


@dataclass(frozen=True)
class RuleSpec:
    code: str
    kind: RuleKind
    params: Mapping[str, ParamKind]
    metrics: tuple[str, ...]
    summary: str  # one line, English, for errors and docs
    # where a recipient looks for the detail (Chinese, in the alert's message): for a
    # labour rule, the published tables its dbt model reads (a test holds them to the
    # model's lineage)
    look_at: str = ""
