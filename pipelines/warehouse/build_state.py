"""What a completed warehouse build was built from, kept in the warehouse itself.

The record lives in the working DuckDB file (``pipeline_state.warehouse_build_inputs``,
one row per key: the as-of date, the dbt project's fingerprint, the engine and one
fingerprint per dataset), so it goes wherever the file goes: a deleted or replaced warehouse has no
record and gets a full build. It is written only after a build of every dbt node that
succeeded, and is not published to analysts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from pipelines.config import Settings
from pipelines.ingest.ledger import LedgerEntry, Status, read_ledger
from pipelines.quality.verdicts import results_path

from .build_plan import (
    DEFAULT_ENGINE,
    STATE_SCHEMA,
    STATE_TABLE,
    build_inputs,
    dataset_fingerprints,
    project_fingerprint,
)


def describe_submission(settings: Settings, entry: LedgerEntry) -> str:
    """One loaded submission as it matters to the models: its identity, order, date and
    row count, and its quality verdict file (present or not, and its size)."""
    verdict = results_path(settings, entry)
    verdict_size = verdict.stat().st_size if verdict.exists() else -1
    return (f"{entry.sha256}|{entry.seq}|{entry.street_code}|{entry.as_of_date}|{entry.rows_loaded}|"
            f"verdict:{verdict_size}")


def current_inputs(settings: Settings, dbt_vars: Mapping[str, Any], project_dir: Path,
                   project_inputs: Iterable[str], engine: str = DEFAULT_ENGINE) -> dict[str, str]:
    """What a build with ``dbt_vars`` on ``engine`` would be built from. The vars other
    than the as-of date (the warning rules' parameters) count as part of the project:
    changing them rebuilds everything."""
    loaded = [e for e in read_ledger(settings.ledger_path) if e.status == Status.LOADED and e.dataset]
    datasets = dataset_fingerprints((e.dataset, describe_submission(settings, e)) for e in loaded)  # type: ignore[misc]
    other_vars = json.dumps({k: v for k, v in dbt_vars.items() if k != "as_of_date"}, sort_keys=True,
                            ensure_ascii=False)
    project = hashlib.sha256(
        f"{project_fingerprint(project_dir, project_inputs)}|{other_vars}".encode()).hexdigest()
    return build_inputs(str(dbt_vars["as_of_date"]), project, datasets, settings.pii_key,
                        audit_fingerprint(settings), engine)


def audit_fingerprint(settings: Settings) -> str:
    """The audit inputs' fingerprint: the ledger's bytes, and each verdict and problems
    file by its path and size (they are written once per submission, never changed)."""
    h = hashlib.sha256()
    if settings.ledger_path.exists():
        with settings.ledger_path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    for root in (settings.data_dir / "quality" / "results", settings.problems_dir):
        if root.exists():
            for p in sorted(root.rglob("*.parquet")):
                h.update(f"\n{p.relative_to(settings.data_dir).as_posix()}:{p.stat().st_size}".encode())
    return h.hexdigest()


def read_recorded(warehouse: Path) -> dict[str, str] | None:
    """The inputs of the last completed build of this warehouse, or None."""
    if not warehouse.exists():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        present = con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
            [STATE_SCHEMA, STATE_TABLE.split(".")[1]],
        ).fetchone()[0]  # type: ignore[index]
        if not present:
            return None
        return dict(con.execute(f"select input_key, fingerprint from {STATE_TABLE}").fetchall())


def record(warehouse: Path, inputs: Mapping[str, str]) -> None:
    """Replace the record with ``inputs`` (one transaction)."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("begin")
        con.execute(f"create schema if not exists {STATE_SCHEMA}")
        con.execute(f"create or replace table {STATE_TABLE} (input_key varchar primary key, fingerprint varchar not null)")
        con.executemany(f"insert into {STATE_TABLE} values (?, ?)", sorted(inputs.items()))
        con.execute("commit")


def forget(warehouse: Path) -> None:
    """Drop the record, so the next build is a full one (before a build that may fail
    half-way: its partial work must not look complete)."""
    if not warehouse.exists():
        return
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"drop table if exists {STATE_TABLE}")
