"""The vocabulary the contract is written in: column types, columns, datasets, and the
declarative cross-field rules a dataset can carry.

Everything downstream (readers, row validators, quality suites, dbt sources, templates,
the rule catalogue and the docs) is generated from declarations made with these classes
in :mod:`pipelines.contract.datasets`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

# --- what every cell and every workbook of a submission must respect ---------------------

MAX_CELL_CHARS = 4096
"""The longest value any cell may hold, in characters (``value.too_long`` beyond it). The
longest real values (names of employers and unions, activity titles) are a few hundred
characters at most; anything longer is a paste gone wrong or rows run together."""

INSTRUCTIONS_SHEET = "填报说明"
"""The instructions sheet of the fill-in templates (:mod:`pipelines.feedback.templates`).
Data is read from a workbook's first sheet only; this sheet may follow it."""

LISTS_SHEET = "_lists"
"""The hidden sheet holding the templates' long dropdown lists; it may follow the data
sheet too. Any other sheet with a non-blank cell rejects the workbook (``file.extra_sheet``)."""


LABEL_SEPARATOR = " "
"""Between a code and its name in a dropdown choice (``C 制造业``)."""

# Characters a folder name cannot hold on Windows or Linux; a Chinese dataset name's
# folder form writes each of them as 、 (what the "/" key types in a Chinese input method).
_NOT_IN_FOLDER_NAMES = '/\\:*?"<>|'


class ColumnType(StrEnum):
    STR = "str"
    INT = "int"
    DECIMAL = "decimal"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"
    ENUM = "enum"
    ID18 = "id18"
    USCC = "uscc"
    PHONE = "phone"


class DatasetKind(StrEnum):
    REGISTRY = "registry"  # a file is the street's complete list as of as_of_date
    EVENT = "event"  # rows are upserts keyed by the record id


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    type: ColumnType
    required: bool = False
    enum: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    personal: bool = False  # personal information: never leaves landing/quarantine
    blank_default: str | None = None  # value a blank cell stands for (劳模级别: blank = 无)
    doc: str = ""  # what the column means, for clerks and analysts
    # Free text that may run over several lines. Otherwise a line break inside a value is
    # a row problem (value.line_break; in a CSV, row.broken_quote for each line it spans).
    allows_line_break: bool = False
    # For an enum of codes (行业门类 A-T): the name of each value, in ``enum`` order. The
    # templates offer "<code> <name>"; ingestion accepts the code alone or with its name
    # (pipelines.rules.values.labelled_code) and stores the code.
    enum_labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.type is ColumnType.ENUM and not self.enum:
            raise ValueError(f"enum column {self.name} declares no values")
        if self.type is not ColumnType.ENUM and self.enum:
            raise ValueError(f"column {self.name} lists enum values but is {self.type}")
        if self.enum_labels and len(self.enum_labels) != len(self.enum):
            raise ValueError(f"column {self.name} names {len(self.enum_labels)} of {len(self.enum)} values")
        if len(set(self.enum_labels)) != len(self.enum_labels):
            raise ValueError(f"column {self.name} gives two values the same name")

    @property
    def choices(self) -> tuple[str, ...]:
        """What a template's dropdown offers: the values, each with its name when the
        contract names them (``C 制造业``)."""
        if not self.enum_labels:
            return self.enum
        return tuple(f"{v}{LABEL_SEPARATOR}{label}" for v, label in zip(self.enum, self.enum_labels, strict=True))

    @property
    def effective_minimum(self) -> float | None:
        """Counts and money are >= 0 unless the contract says otherwise."""
        if self.minimum is not None:
            return self.minimum
        if self.type in (ColumnType.INT, ColumnType.MONEY):
            return 0
        return None


# --- declarative cross-field rules --------------------------------------------------------
# Each carries the stable rule code it raises; the validator interprets them into
# vectorised expressions and the catalogue describes them, so the two cannot drift.


# What a dataset rule raises: (rule code, the column it names, the other column involved).
# Each rule class says its own (the rule beside its notice), so the catalogue of what
# applies to a dataset needs no list of rule kinds.
Notice = tuple[str, str, str | None]


@dataclass(frozen=True)
class Ordered:
    """``column`` must be after (``strict``) or not before ``other`` when both are given."""

    code: str
    column: str
    other: str
    strict: bool

    def notices(self) -> tuple[Notice, ...]:
        return ((self.code, self.column, self.other),)


@dataclass(frozen=True)
class NotAfter:
    """``column`` must not be after ``other`` when both are given."""

    code: str
    column: str
    other: str

    def notices(self) -> tuple[Notice, ...]:
        return ((self.code, self.column, self.other),)


@dataclass(frozen=True)
class RequiredWhen:
    """``column`` is required when ``when_column`` takes one of ``values``."""

    code: str
    column: str
    when_column: str
    values: tuple[str, ...]

    def notices(self) -> tuple[Notice, ...]:
        return ((self.code, self.column, self.when_column),)


@dataclass(frozen=True)
class Prefix:
    """``column``, when given, starts with ``prefix``."""

    code: str
    column: str
    prefix: str

    def notices(self) -> tuple[Notice, ...]:
        return ((self.code, self.column, None),)


@dataclass(frozen=True)
class IdentityAgreement:
    """Gender and birth date must agree with the resident ID; joining needs age 16."""

    id_column: str
    gender_column: str
    birth_column: str
    join_column: str
    min_join_age: int = 16

    def notices(self) -> tuple[Notice, ...]:
        return (
            ("gender.id_mismatch", self.gender_column, self.id_column),
            ("birth_date.id_mismatch", self.birth_column, self.id_column),
            ("join_date.under_16", self.join_column, self.id_column),
        )


@dataclass(frozen=True)
class UniqueWhere:
    """``column`` is unique among the rows whose ``where_column`` equals ``where_value``."""

    code: str
    column: str
    where_column: str
    where_value: str

    def notices(self) -> tuple[Notice, ...]:
        return ((self.code, self.column, self.where_column),)


@dataclass(frozen=True)
class WarnGreater:
    """A warning (the row still loads) when ``column`` > ``other``."""

    code: str
    column: str
    other: str

    def notices(self) -> tuple[Notice, ...]:
        return ((self.code, self.column, self.other),)


DatasetRule = Ordered | NotAfter | RequiredWhen | Prefix | IdentityAgreement | UniqueWhere | WarnGreater


@dataclass(frozen=True)
class Dataset:
    name: str
    zh: str
    kind: DatasetKind
    key: str
    columns: tuple[Column, ...]
    rules: tuple[DatasetRule, ...] = field(default=())
    doc: str = ""

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    @property
    def personal_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.personal)

    @property
    def is_registry(self) -> bool:
        return self.kind is DatasetKind.REGISTRY

    @property
    def folder_zh(self) -> str:
        """The Chinese name as a drop-zone folder name (``会员信息``; ``职工之家、职工书屋、
        创新工作室`` for a name holding a ``/``): the folder may be named this or ``name``."""
        return "".join("、" if ch in _NOT_IN_FOLDER_NAMES else ch for ch in self.zh)
