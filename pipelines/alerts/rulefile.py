"""The rule file: every rule's parameters and level thresholds, checked at load.

``pipelines/alerts/warning_rules.yaml`` unless ``UNION_WARNING_RULES`` names another
file. A file that does not parse, names an unknown rule, level, parameter or metric,
leaves a rule or parameter out, or gives a value of the wrong kind raises
:class:`RuleFileError` naming the file and the place: nothing is skipped silently.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipelines.contract import DATASETS_BY_NAME

from .levels import LEVELS, severity
from .rules import RULE_SPECS, ParamKind, RuleKind, RuleSpec

DEFAULT_RULES_PATH = Path(__file__).resolve().parent / "warning_rules.yaml"
RULES_ENV = "UNION_WARNING_RULES"
FILE_VERSION = 1
_RULE_KEYS = {"name", "enabled", "params", "levels"}


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
    def fail(where: str, problem: str) -> RuleFileError:
        return RuleFileError(f"warning rule file {path}: {where}: {problem}")

    if not isinstance(data, dict):
        raise fail("top level", "expected a mapping with 'version' and 'rules'")
    extra = set(data) - {"version", "rules"}
    if extra:
        raise fail(
            "top level", f"unknown key(s) {sorted(map(str, extra))}; expected 'version' and 'rules'"
        )
    if data.get("version") != FILE_VERSION:
        raise fail("version", f"expected {FILE_VERSION}, got {data.get('version')!r}")
    rules = data.get("rules")
    if not isinstance(rules, dict):
        raise fail("rules", "expected a mapping of rule code to rule")
    unknown = [str(c) for c in rules if c not in RULE_SPECS]
    if unknown:
        raise fail("rules", f"unknown rule code(s) {unknown}; known: {sorted(RULE_SPECS)}")
    missing = [c for c in RULE_SPECS if c not in rules]
    if missing:
        raise fail(
            "rules", f"rule(s) {missing} missing (to switch a rule off, give it 'enabled: false')"
        )
    parsed = {code: _parse_rule(code, rules[code], RULE_SPECS[code], fail) for code in RULE_SPECS}
    return RuleSet(path=path, rules=parsed)


def _number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _check_param(kind: ParamKind, value: object) -> bool:
    match kind:
        case ParamKind.INT:
            return isinstance(value, int) and not isinstance(value, bool) and value >= 0
        case ParamKind.NUMBER:
            return _number(value)
        case ParamKind.TEXT:
            return isinstance(value, str) and bool(value.strip())
        case ParamKind.TEXT_LIST:
            return (
                isinstance(value, list)
                and bool(value)
                and all(isinstance(v, str) and v.strip() for v in value)
            )
        case ParamKind.DAYS_BY_DATASET:
            return isinstance(value, dict) and all(
                k in DATASETS_BY_NAME and isinstance(v, int) and not isinstance(v, bool) and v >= 0
                for k, v in value.items()
            )
    return False


def _parse_rule(code: str, raw: object, spec: RuleSpec, fail: Any) -> RuleConfig:
    where = f"rules.{code}"
    if not isinstance(raw, dict):
        raise fail(where, "expected a mapping with name, params and levels")
    extra = set(raw) - _RULE_KEYS
    if extra:
        raise fail(
            where, f"unknown key(s) {sorted(map(str, extra))}; expected {sorted(_RULE_KEYS)}"
        )
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail(f"{where}.name", "expected a non-empty name")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise fail(f"{where}.enabled", f"expected true or false, got {enabled!r}")
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        raise fail(f"{where}.params", "expected a mapping")
    unknown = set(params) - set(spec.params)
    if unknown:
        raise fail(
            f"{where}.params",
            f"unknown parameter(s) {sorted(map(str, unknown))}; "
            f"{code} reads {sorted(spec.params) or 'none'}",
        )
    for pname, kind in spec.params.items():
        if pname not in params:
            raise fail(f"{where}.params", f"parameter {pname!r} missing")
        if not _check_param(kind, params[pname]):
            raise fail(f"{where}.params.{pname}", f"expected {kind.value}, got {params[pname]!r}")
    levels = raw.get("levels")
    if not isinstance(levels, dict) or not levels:
        raise fail(
            f"{where}.levels", f"expected a mapping of level ({'/'.join(LEVELS)}) to conditions"
        )
    parsed: list[LevelRule] = []
    for level, conditions in levels.items():
        lw = f"{where}.levels.{level}"
        if level not in LEVELS:
            raise fail(lw, f"unknown level; expected one of {', '.join(LEVELS)}")
        conditions = conditions or {}
        if not isinstance(conditions, dict):
            raise fail(lw, "expected a mapping of metric to minimum (or {} for always)")
        for metric, minimum in conditions.items():
            if metric not in spec.metrics:
                raise fail(
                    f"{lw}.{metric}",
                    f"unknown metric; {code} reports {list(spec.metrics) or 'none'}",
                )
            if not _number(minimum):
                raise fail(f"{lw}.{metric}", f"expected a number >= 0, got {minimum!r}")
        parsed.append(LevelRule(level, {m: float(v) for m, v in conditions.items()}))
    parsed.sort(key=lambda lr: -severity(lr.level))
    return RuleConfig(code, name.strip(), enabled, dict(params), tuple(parsed), spec)
