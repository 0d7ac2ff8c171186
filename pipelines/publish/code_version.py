"""The code version stamped on every published indicator: the package version and a
fingerprint of the code that computes the numbers (the Python package and the dbt
project's models, macros and seeds), so two runs of the same code agree without git."""

from __future__ import annotations

import functools
import hashlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_SOURCES = (
    ("pipelines", "*.py"),
    ("pipelines", "*.yaml"),
    ("dbt_project/models", "*.sql"),
    ("dbt_project/models", "*.yml"),
    ("dbt_project/macros", "*.sql"),
    ("dbt_project/seeds", "*.csv"),
    ("dbt_project", "dbt_project.yml"),
)


def fingerprint(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    files = sorted({p for folder, pattern in _SOURCES for p in (root / folder).rglob(pattern) if p.is_file()})
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


@functools.cache
def code_version() -> str:
    try:
        package = version("union-warehouse")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        package = "0"
    return f"{package}+{fingerprint()}"
