"""Files in the repository that are generated from the contract, and the command that
keeps them in step (``union-warehouse contract-sync``; ``--check`` only reports drift).

It sits above every layer (it imports the renderers of each), so the contract itself
never imports anything downstream."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipelines.contract.render import render_contract_md, render_rules_md
from pipelines.quality.suites import suite_artifacts
from pipelines.warehouse.dbt_sources import dbt_artifacts

Renderer = Callable[[], str]


def artifacts() -> dict[str, Renderer]:
    """Repository-relative path -> the function that renders it."""
    out: dict[str, Renderer] = {
        "docs/rules.md": render_rules_md,
        "docs/contract.md": render_contract_md,
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
