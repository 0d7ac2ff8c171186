"""Files in the repository that are generated from the contract, and the command that
keeps them in step (``union-warehouse contract-sync``; ``--check`` only reports drift).

It sits above every layer (it imports the renderers of each), so the contract itself
never imports anything downstream."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from pipelines.alerts.rulefile import DEFAULT_RULES_PATH, load_rules
from pipelines.contract.render import render_contract_md, render_rules_md
from pipelines.quality.suites import suite_artifacts
from pipelines.warehouse.dbt_sources import dbt_artifacts

Renderer = Callable[[], str]

_WARNING_PARAMETERS = "dbt_project/macros/generated/warning_parameters.sql"


def render_warning_parameters_macro() -> str:
    """The default rule file's parameters, for a dbt run without var('warning_parameters')."""
    rows = load_rules(DEFAULT_RULES_PATH).parameter_rows()
    lines = [
        "{# Generated from pipelines/alerts/warning_rules.yaml by `union-warehouse "
        "contract-sync`; do not edit. #}",
        "{# The default rule file's parameters: [rule code, name, value]. The pipeline passes",
        "   the rule file in use as var('warning_parameters') instead. #}",
        "{% macro default_warning_parameters() %}",
        "{{ return([",
        *(f"    {json.dumps(list(row), ensure_ascii=False)}," for row in rows),
        "]) }}",
        "{% endmacro %}",
    ]
    return "\n".join(lines)


def artifacts() -> dict[str, Renderer]:
    """Repository-relative path -> the function that renders it."""
    out: dict[str, Renderer] = {
        "docs/rules.md": render_rules_md,
        "docs/contract.md": render_contract_md,
        _WARNING_PARAMETERS: render_warning_parameters_macro,
    }
    out.update(suite_artifacts())
    out.update(dbt_artifacts())
    return out


def sync(root: Path, *, check: bool = False) -> list[str]:
    """Write every artifact (or, with ``check``, only list the stale ones)."""
    stale: list[str] = []
    for rel, render in artifacts().items():
        text = render()
        if not text.endswith("\n"):
            text += "\n"
        target = root / rel
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(rel)
        if not check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return stale
