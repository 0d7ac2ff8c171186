"""The rule file: every rule's parameters and level thresholds, checked at load.

``pipelines/alerts/warning_rules.yaml`` unless ``UNION_WARNING_RULES`` names another
file. A file that does not parse, names an unknown rule, level, parameter or metric,
leaves a rule or parameter out, or gives a value of the wrong kind raises
:class:`RuleFileError` naming the file, the place (``rules.W03.params.window_days``)
and the problem: nothing is skipped silently.

The file's shape is a pydantic model: the file (``version``, ``rules``), and per rule
code a model of its ``name``, ``enabled``, ``params`` and ``levels`` built from the code's
:class:`RuleSpec` (the parameters it reads and their kinds, the metrics it reports), so
pydantic checks each rule against its logic and says where a value is wrong.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StringConstraints,
    ValidationError,
    WrapValidator,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from pipelines.contract import DATASETS_BY_NAME

from .levels import LEVELS, severity
from .rules import RULE_SPECS, ParamKind, RuleKind, RuleSpec

DEFAULT_RULES_PATH = Path(__file__).resolve().parent / "warning_rules.yaml"
RULES_ENV = "UNION_WARNING_RULES"
FILE_VERSION = 1


class RuleFileError(ValueError):
    """The rule file is unusable; the message names the file and the problem."""


@dataclass(frozen=True)
class LevelRule:
    level: str
    conditions: Mapping[str, float]  # metric -> minimum (every one must hold)

    def holds(self, metrics: Mapping[str, float]) -> bool:
        return all(metrics.get(m, -math.inf) >= v for m, v in self.conditions.items())


@dataclass(frozen=True)
class RuleConfig:
    code: str
    name: str
    enabled: bool
    params: Mapping[str, Any]
    levels: tuple[LevelRule, ...]  # most severe first
    spec: RuleSpec

    def level_for(self, metrics: Mapping[str, float]) -> str | None:
        """The most severe level whose conditions all hold; None: the rule does not fire."""
        return next((lr.level for lr in self.levels if lr.holds(metrics)), None)


@dataclass(frozen=True)
class RuleSet:
    path: Path
    rules: Mapping[str, RuleConfig]

    def enabled(self) -> list[RuleConfig]:
        return [r for r in self.rules.values() if r.enabled]

    def __getitem__(self, code: str) -> RuleConfig:
        return self.rules[code]

    def parameter_rows(self) -> list[tuple[str, str, str]]:
        """The warning rules' parameters as (rule code, name, value as text) rows, a list
        parameter one row per item: what the warehouse's rule models read (dbt var
        ``warning_parameters``, table ``warnings.warning_parameters``)."""
        rows: list[tuple[str, str, str]] = []
        for code, rule in sorted(self.rules.items()):
            if rule.spec.kind is not RuleKind.LABOUR:
                continue
            for name, value in sorted(rule.params.items()):
                values = value if isinstance(value, list | tuple) else [value]
                rows += [(code, name, str(v)) for v in values]
        return rows


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (YAML would keep the
    last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:  # type: ignore[override]
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def rules_path() -> Path:
    """The rule file in use: ``$UNION_WARNING_RULES`` or the packaged default."""
    env = os.environ.get(RULES_ENV, "").strip()
    return Path(env) if env else DEFAULT_RULES_PATH


def load_rules(path: Path | str | None = None) -> RuleSet:
    path = Path(path) if path is not None else rules_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        hint = f" (set by {RULES_ENV})" if os.environ.get(RULES_ENV) else ""
        raise RuleFileError(
            f"warning rule file {path}{hint} cannot be read: {exc.strerror or exc}"
        ) from exc
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise RuleFileError(f"warning rule file {path} is not valid YAML: {exc}") from exc
    return parse_rules(data, path)


def parse_rules(data: object, path: Path) -> RuleSet:
    """The rule set of ``data`` (the parsed YAML of ``path``), or :class:`RuleFileError`
    listing every problem pydantic found, each with its place in the file."""
    try:
        checked = _file_model().model_validate(data)
    except ValidationError as exc:
        raise RuleFileError(_message(path, exc)) from None
    return RuleSet(path=path, rules={code: _config(code, getattr(checked.rules, code))
                                     for code in RULE_SPECS})


def _config(code: str, rule: Any) -> RuleConfig:
    levels = [LevelRule(level, {m: float(v) for m, v in conditions.items()})
              for level, conditions in rule.levels.items()]
    levels.sort(key=lambda lr: -severity(lr.level))
    return RuleConfig(code, rule.name, rule.enabled, rule.params.model_dump(), tuple(levels),
                      RULE_SPECS[code])


# --- what pydantic checks, and how its errors read ----------------------------------

_RULE_FILE_ERROR = "rule_file"


def _problem(text: str) -> PydanticCustomError:
    """An error worded for the rule file (no context given: its text is shown as is)."""
    return PydanticCustomError(_RULE_FILE_ERROR, text)


def _message(path: Path, exc: ValidationError) -> str:
    """``warning rule file <path>: <place>: <problem>``, a line a problem."""
    lines: list[str] = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"] if p != "[key]") or "top level"
        what = error["msg"]
        if error["type"] != _RULE_FILE_ERROR:  # pydantic's own wording, and the value
            what = f"{what}, got {error.get('input')!r}"
        line = f"{where}: {what}"
        if line not in lines:
            lines.append(line)
    if len(lines) == 1:
        return f"warning rule file {path}: {lines[0]}"
    return f"warning rule file {path}: {len(lines)} problems\n" + "\n".join(f"  {ln}" for ln in lines)


def _expect(what: str) -> WrapValidator:
    """Whatever is wrong with a value, say ``expected <what>, got <value>``."""

    def reword(value: object, handler: Callable[[object], object]) -> object:
        try:
            return handler(value)
        except ValidationError:
            raise _problem(f"expected {what}, got {value!r}") from None

    return WrapValidator(reword)


def _mapping(what: str, *, empty: bool) -> BeforeValidator:
    """A mapping (``None``, an empty YAML value, counts as ``{}`` where ``empty``)."""

    def shape(value: object) -> object:
        if value is None and empty:
            return {}
        if not isinstance(value, dict) or not (value or empty):
            raise _problem(f"expected {what}")
        return value

    return BeforeValidator(shape)


def _known(noun: str, known: tuple[str, ...], listing: str = "") -> AfterValidator:
    def check(key: object) -> object:
        if key not in known:
            raise _problem(f"unknown {noun}" + (f"; {listing}" if listing else ""))
        return key

    return AfterValidator(check)


_WHOLE = Annotated[int, Field(strict=True, ge=0)]
_NUMBER = Annotated[StrictInt | Annotated[StrictFloat, Field(allow_inf_nan=False)], Field(ge=0)]
_TEXT = Annotated[str, Field(strict=True), StringConstraints(pattern=r"\S")]
_DATASET = Annotated[Any, _known("dataset", tuple(DATASETS_BY_NAME))]
_PARAM_TYPES: dict[ParamKind, Any] = {
    ParamKind.INT: _WHOLE,
    ParamKind.NUMBER: _NUMBER,
    ParamKind.TEXT: _TEXT,
    ParamKind.TEXT_LIST: Annotated[list[_TEXT], Field(strict=True, min_length=1)],
    ParamKind.DAYS_BY_DATASET: Annotated[dict[_DATASET, _WHOLE], Field(strict=True)],
}
_MINIMUM = Annotated[_NUMBER, _expect("a number >= 0")]
_LEVEL = Annotated[Any, _known("level", LEVELS, f"expected one of {', '.join(LEVELS)}")]


class _Part(BaseModel):
    """A mapping of the rule file with fixed keys. An unknown or a missing key is an error
    at the mapping, listing them (``{keys}``; ``{names}`` quoted; ``{fields}`` the known)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    shape: ClassVar[str] = "a mapping"
    empty: ClassVar[bool] = False  # whether an empty value (None) means {}
    code: ClassVar[str] = ""
    unknown: ClassVar[str] = "unknown key(s) {keys}; expected {fields}"
    missing: ClassVar[str] = "key(s) {keys} missing"

    @model_validator(mode="before")
    @classmethod
    def _keys(cls, data: object) -> object:
        if data is None and cls.empty:
            data = {}
        if not isinstance(data, dict):
            raise _problem(f"expected {cls.shape}")
        unknown = sorted(str(k) for k in data if k not in cls.model_fields)
        missing = [k for k, f in cls.model_fields.items() if f.is_required() and k not in data]
        for keys, text in ((unknown, cls.unknown), (missing, cls.missing)):
            if keys:
                fields = sorted(cls.model_fields) or "none"
                names = ", ".join(map(repr, keys))
                raise _problem(text.format(keys=keys, names=names, fields=fields, code=cls.code))
        return data


class _File(_Part):
    shape: ClassVar[str] = "a mapping with 'version' and 'rules'"
    unknown: ClassVar[str] = "unknown key(s) {keys}; expected 'version' and 'rules'"
    version: Annotated[Literal[1], _expect(str(FILE_VERSION))]
    rules: Any  # the model of every rule code: _file_model()


class _Rules(_Part):
    shape: ClassVar[str] = "a mapping of rule code to rule"
    unknown: ClassVar[str] = "unknown rule code(s) {keys}; known: {fields}"
    missing: ClassVar[str] = "rule(s) {keys} missing (to switch a rule off, give it 'enabled: false')"


class _Rule(_Part):
    shape: ClassVar[str] = "a mapping with name, params and levels"
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1), _expect("a non-empty name")
    ]
    enabled: Annotated[bool, _expect("true or false")] = True


class _Params(_Part):
    empty: ClassVar[bool] = True
    unknown: ClassVar[str] = "unknown parameter(s) {keys}; {code} reads {fields}"
    missing: ClassVar[str] = "parameter {names} missing"


def _rule_model(spec: RuleSpec) -> type[_Rule]:
    """The model of one rule: its parameters of their kinds, its levels' metrics."""
    params = create_model(  # type: ignore[call-overload]
        f"{spec.code}Params",
        __base__=_Params,
        **{name: (Annotated[_PARAM_TYPES[kind], _expect(kind.value)], ...)
           for name, kind in spec.params.items()},
    )
    params.code = spec.code  # for its messages
    metric = Annotated[
        Any, _known("metric", spec.metrics, f"{spec.code} reports {list(spec.metrics) or 'none'}")
    ]
    conditions = Annotated[
        dict[metric, _MINIMUM],
        _mapping("a mapping of metric to minimum (or {} for always)", empty=True),
    ]
    levels = Annotated[
        dict[_LEVEL, conditions],
        _mapping(f"a mapping of level ({'/'.join(LEVELS)}) to conditions", empty=False),
    ]
    return create_model(  # type: ignore[call-overload, no-any-return]
        f"{spec.code}Rule",
        __base__=_Rule,
        params=(params, Field(default_factory=dict, validate_default=True)),
        levels=(levels, ...),
    )


@cache
def _file_model() -> type[_File]:
    """The rule file's model, one field a rule code (built once, when first loaded)."""
    rules = create_model(  # type: ignore[call-overload]
        "Rules", __base__=_Rules, **{code: (_rule_model(spec), ...) for code, spec in RULE_SPECS.items()}
    )
    return create_model("RuleFile", __base__=_File, rules=(rules, ...))  # type: ignore[call-overload, no-any-return]
