"""Build the published warehouse and swap it in atomically.

The published file is rebuilt whole from the working warehouse (marts, reference data,
audit tables, indicators), the indicator history, the alert state and the streets'
receipt summaries, written under a temporary name in the same folder and renamed over
``warehouse.duckdb``. A rename is atomic: an analyst who has the old file open keeps
reading the old file (its inode lives until they close it) and never sees a half-built
one, and the pipeline never waits for them.

The file is written in DuckDB's storage format of version 1.1
(:data:`STORAGE_VERSION`): DuckDB 1.1 and every later version open it (the DBeaver
driver, notebooks and R installs that bundle an older DuckDB than the pipeline's), where
a file in the pipeline's own format opens only in DuckDB 2. A type the old format cannot
hold (``VARIANT``) makes the publish fail rather than publish a file they cannot read.
Every table, and every column of the models, is described in the catalog (``COMMENT ON``:
:mod:`pipelines.publish.catalog`). The working warehouse keeps the current format.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from pipelines.alert_state import PUBLISHED_COLUMNS, prepared_state, schema_sql
from pipelines.config import Settings
from pipelines.faults import fault_point
from pipelines.publish.catalog import Relation, TableDoc, published_descriptions, write_comments
from pipelines.publish.code_version import code_version
from pipelines.publish.history import STAMP_COLUMNS, HistoryStore, changed_rows, values_fingerprint

log = logging.getLogger(__name__)

# The storage format of the published file, named by the oldest DuckDB that must open it
# (DuckDB 2 writes its own, v2.0.0, unless told; tests/test_published_old_client.py).
STORAGE_VERSION = "v1.1.0"

# schema -> tables copied from the working warehouse (None = every table of the schema)
COPIED: dict[str, list[str] | None] = {
    "marts": None,
    "reference": None,
    "audit": ["ingestion_ledger", "quarantine", "quality_results", "row_reconciliation"],
    "indicators": ["indicator_manifest"],
}


@dataclass(frozen=True)
class PublishResult:
    publish_id: int
    run_id: str
    path: Path
    manifest_id: str
    code_version: str
    values_sha256: str
    indicator_rows: int
    versions_appended: int
    submissions_included: int
    tables: dict[str, int]
    seconds: float


def read_indicator_values(working: Path) -> pl.DataFrame:
    with duckdb.connect(str(working), read_only=True) as con:
        return con.sql(
            "select * from indicators.indicator_values order by indicator_code, area_code, period_type, period_start"
        ).pl()


def _included_submissions(working: Path) -> list[str]:
    with duckdb.connect(str(working), read_only=True) as con:
        rows = con.sql(
            "select submission_sha256 from indicators.indicator_manifest where is_included order by 1"
        ).fetchall()
    return [r[0] for r in rows]


def publish(settings: Settings, run_id: str, *, now: datetime | None = None,
            dbt_manifest: Path | None = None) -> PublishResult:
    """Append the changed indicator versions to history and swap in a new published
    warehouse. Call only after every blocking check passed. ``dbt_manifest``: the dbt
    ``manifest.json`` the models' and columns' descriptions are read from (that of the
    build that wrote the working warehouse); without it the catalog describes only the
    tables written here.

    Crash-safe in this order: what a killed publish left is undone first
    (:meth:`HistoryStore.discard_orphans`), the new versions are written, the new file
    is renamed over the published one, and only then is the publish row written (the
    swap is the commit)."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    working = settings.warehouse_path
    history = HistoryStore(settings.data_dir / "history")
    history.discard_orphans(settings.published_path)  # what a killed publish left behind
    values = read_indicator_values(working)
    version = code_version()
    manifest_id = str(values["manifest_id"][0]) if values.height else ""
    fingerprint = values_fingerprint(values)
    publish_id = history.next_publish_id()
    stamps = [
        pl.lit(publish_id, pl.Int64).alias("publish_id"),
        pl.lit(run_id).alias("run_id"),
        pl.lit(now).alias("computed_at"),
        pl.lit(version).alias("code_version"),
    ]
    new_versions = changed_rows(values, history.latest_versions()).with_columns(stamps)
    included = _included_submissions(working)
    publish_row = pl.DataFrame({
        "publish_id": [publish_id], "run_id": [run_id], "published_at": [now], "code_version": [version],
        "as_of_date": [values["as_of_date"][0] if values.height else None], "manifest_id": [manifest_id],
        "values_sha256": [fingerprint], "indicator_rows": [values.height],
        "versions_appended": [new_versions.height], "submissions_included": [len(included)],
        "submissions": [included],
    })

    settings.published_path.parent.mkdir(parents=True, exist_ok=True)
    for stale in settings.published_path.parent.glob(".warehouse.*.tmp"):
        stale.unlink(missing_ok=True)  # left by a publish that was killed
    tmp = settings.published_path.with_name(f".warehouse.{run_id}.tmp")
    tmp.unlink(missing_ok=True)
    tables = _build(tmp, settings, values, new_versions, history, publish_row, run_id, now, version,
                    published_descriptions(dbt_manifest))
    history.append_versions(publish_id, new_versions.select(values.columns + STAMP_COLUMNS))
    fault_point("publish.history_appended")  # crash-safety tests: history written, no swap yet
    _fsync(tmp)
    os.replace(tmp, settings.published_path)
    _fsync(settings.published_path.parent)
    history.commit(publish_id, publish_row)  # the swap happened: the versions are history now
    seconds = time.perf_counter() - started
    log.info("published %s (publish %d: %d indicator rows, %d new versions, %d tables) in %.1f s",
             settings.published_path, publish_id, values.height, new_versions.height, len(tables), seconds)
    return PublishResult(publish_id, run_id, settings.published_path, manifest_id, version, fingerprint,
                         values.height, new_versions.height, len(included), tables, seconds)


def _build(target: Path, settings: Settings, values: pl.DataFrame, new_versions: pl.DataFrame,
           history: HistoryStore, publish_row: pl.DataFrame, run_id: str, now: datetime,
           version: str, docs: dict[Relation, TableDoc]) -> dict[str, int]:
    tables: dict[str, int] = {}
    with duckdb.connect(str(target), config={"storage_compatibility_version": STORAGE_VERSION}) as con:
        con.execute(f"attach '{_sql_path(settings.warehouse_path)}' as working (read_only)")
        for schema, names in COPIED.items():
            con.execute(f"create schema if not exists {schema}")
            present = [r[0] for r in con.execute(
                "select table_name from duckdb_tables() where database_name = 'working' and schema_name = ?",
                [schema]).fetchall()]
            for name in sorted(present if names is None else [n for n in names if n in present]):
                con.execute(f"create table {schema}.{name} as from working.{schema}.{name}")
        con.execute("detach working")

        # indicators: this run's values with their stamps, and the whole history
        latest = _version_numbers(history, new_versions)
        stamped = values.join(latest, on=["indicator_code", "area_code", "period_type", "period_start"], how="left")
        stamped = stamped.with_columns(
            pl.lit(run_id).alias("run_id"), pl.lit(now).alias("computed_at"), pl.lit(version).alias("code_version"))
        con.register("stamped_values", stamped.to_arrow())
        con.execute("create table indicators.indicator_values as from stamped_values")
        con.unregister("stamped_values")
        past = history.indicator_history()
        full_history = new_versions.select(values.columns + STAMP_COLUMNS)
        if past is not None:
            full_history = pl.concat([past, full_history], how="diagonal_relaxed")
        con.register("history_rows", full_history.to_arrow())
        con.execute("create table indicators.indicator_history as from history_rows "
                    "order by indicator_code, area_code, period_type, period_start, version_number")
        con.unregister("history_rows")

        # audit: every publish, this one included
        publishes = history.publishes()
        all_publishes = publish_row if publishes is None else pl.concat([publishes, publish_row], how="diagonal_relaxed")
        con.register("publish_rows", all_publishes.to_arrow())
        con.execute("create table audit.publish_manifest as from publish_rows order by publish_id")
        con.unregister("publish_rows")
        _copy_receipt_summaries(con, settings)
        _copy_alerts(con, settings)
        write_comments(con, docs)

        for schema, name, rows in con.execute(
            "select schema_name, table_name, estimated_size from duckdb_tables() order by 1, 2").fetchall():
            tables[f"{schema}.{name}"] = int(rows)
        con.execute("checkpoint")
    return tables


def _version_numbers(history: HistoryStore, new_versions: pl.DataFrame) -> pl.DataFrame:
    key = ["indicator_code", "area_code", "period_type", "period_start"]
    parts = [new_versions.select(key + ["version_number"])]
    latest = history.latest_versions()
    if latest is not None:
        parts.insert(0, latest.select(key + ["version_number"]))
    return pl.concat(parts, how="diagonal_relaxed").group_by(key).agg(pl.col("version_number").max())


def _copy_receipt_summaries(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    files = sorted(settings.receipt_summaries_dir.glob("*.parquet"))
    if files:
        paths = ", ".join(f"'{_sql_path(p)}'" for p in files)
        con.execute(f"create table audit.street_submission_summary as "
                    f"from read_parquet([{paths}], union_by_name = true)")


def _copy_alerts(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """alerts.alerts, alerts.alert_events and alerts.alert_deliveries (whether each event
    reached each sink, without times or errors) from the alert state file, read under its
    lock, so never half-way through an evaluation; a damaged state file is healed first
    (moved aside, rebuilt from the published warehouse this publish replaces). Empty
    tables of the same shape before any alert was evaluated. What is published here is
    what a lost or damaged state file is rebuilt from (docs/alerts.md)."""
    con.execute("create schema if not exists alerts")
    state = settings.alerts_state_path
    copied: set[str] = set()
    if state.exists():
        with prepared_state(state, settings.published_path):
            con.execute(f"attach '{_sql_path(state)}' as alert_state (read_only)")
            present = {r[0] for r in con.execute(
                "select table_name from duckdb_tables() where database_name = 'alert_state'").fetchall()}
            for name, cols in PUBLISHED_COLUMNS.items():
                if name in present:
                    con.execute(f"create table alerts.{name} as select {cols} from alert_state.main.{name}")
                    copied.add(name)
            con.execute("detach alert_state")
    if copied != set(PUBLISHED_COLUMNS):
        con.execute("create schema if not exists alerts_empty")
        con.execute(schema_sql("alerts_empty"))
        for name, cols in PUBLISHED_COLUMNS.items():
            if name not in copied:
                con.execute(f"create table alerts.{name} as select {cols} from alerts_empty.{name}")
        con.execute("drop schema alerts_empty cascade")


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
