"""The submission contract, declared once: streets, datasets, columns, rules."""

from .datasets import DATASETS, DATASETS_BY_NAME, dataset_for_folder, get_dataset
from .rules import CATALOGUE, FILE_RULES, Rule, Severity, applicable_rules, rule
from .schema import (
    INSTRUCTIONS_SHEET,
    LISTS_SHEET,
    MAX_CELL_CHARS,
    Column,
    ColumnType,
    Dataset,
    DatasetKind,
)
from .streets import DISTRICT_CODE, STREETS, STREETS_BY_CODE, Street, is_known_street

__all__ = [
    "CATALOGUE",
    "DATASETS",
    "DATASETS_BY_NAME",
    "DISTRICT_CODE",
    "FILE_RULES",
    "INSTRUCTIONS_SHEET",
    "LISTS_SHEET",
    "MAX_CELL_CHARS",
    "STREETS",
    "STREETS_BY_CODE",
    "Column",
    "ColumnType",
    "Dataset",
    "DatasetKind",
    "Rule",
    "Severity",
    "Street",
    "applicable_rules",
    "dataset_for_folder",
    "get_dataset",
    "is_known_street",
    "rule",
]
