"""Make the dbt sources readable on any install, even a fresh one.

The dbt sources read globs and files under ``$UNION_DATA_DIR``: a glob that matches no
file, or a missing ledger, would fail the build before a single model ran. Before every
``dbt build`` the pipeline calls :func:`ensure_dbt_inputs`, which creates what is missing:

- ``landing/<dataset>/_schema/empty.parquet``: an empty typed landing file per dataset
  (written by ingestion itself; reused here);
- ``ledger/ingestion_ledger.jsonl``: the ingestion ledger (created empty if missing;
  the dbt source gives ``read_json`` explicit columns, so 0 lines is fine);
- ``quality/results/_schema/empty.parquet``: an empty typed file of quality verdicts, so
  the ``quality/results/**/*.parquet`` glob always matches;
- ``problems/_schema/empty.parquet``: an empty typed file of row problems (the source of
  ``audit.quarantine``);
- ``warehouse/``: the directory of the working DuckDB file (DuckDB does not create it).

Nothing here ever rewrites an existing file. One thing is healed: a working warehouse
that DuckDB cannot open (truncated, overwritten, torn by a full disk) is moved aside as
``working.duckdb.damaged-<UTC time>`` (never deleted) with one log line. Everything in
it is derived from the files above, and without it the build record is gone too, so
the build that follows is a full one (:mod:`pipelines.warehouse.build_state`).
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime

import duckdb
import polars as pl

from pipelines.config import Settings
from pipelines.files import atomic_write_parquet
from pipelines.ingest.ledger import ingest_lock
from pipelines.ingest.model import PROBLEM_SCHEMA
from pipelines.ingest.pii_columns import rekey_landing
from pipelines.ingest.process import (
    SEQ,
    STREET,
    SUBMISSION,
    ensure_landing_schemas,
)
from pipelines.quality.verdicts import verdict_schema

log = logging.getLogger(__name__)

_HEADERS_BYTES = 3 * 4096  # DuckDB's main header and its two database headers


def quality_results_dir(settings: Settings):  # type: ignore[no-untyped-def]
    return settings.data_dir / "quality" / "results"


def empty_quality_results() -> pl.DataFrame:
    """An empty frame with the columns and types of the quality verdict files."""
    return pl.DataFrame(schema=verdict_schema())


def ensure_dbt_inputs(settings: Settings) -> None:
    """Create every input the dbt sources need and that is still missing (idempotent),
    and re-make the ID hashes of landing files not made with the current key (the
    warehouse only ever reads the hashes: pipelines/ingest/pii_columns.py)."""
    with ingest_lock(settings.lock_path):
        ensure_landing_schemas(settings)
        rekey_landing(settings.landing_dir, settings.pii_key)
    settings.ledger_path.parent.mkdir(parents=True, exist_ok=True)
    if not settings.ledger_path.exists():
        settings.ledger_path.touch()
    empty = quality_results_dir(settings) / "_schema" / "empty.parquet"
    if not empty.exists():
        atomic_write_parquet(empty_quality_results(), empty)
    empty_problems = settings.problems_dir / "_schema" / "empty.parquet"
    if not empty_problems.exists():
        atomic_write_parquet(empty_problems_frame(), empty_problems)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    heal_working_warehouse(settings)


def heal_working_warehouse(settings: Settings) -> bool:
    """Move a working warehouse DuckDB cannot open out of the way; True if it did.
    A file another process holds open (a lock conflict) is not damage: that error is
    raised as it is. Call only while holding the pipeline lock."""
    path = settings.warehouse_path
    if not path.exists():
        return False
    try:
        with duckdb.connect(str(path)) as con:
            con.sql("select count(*) from duckdb_tables()").fetchall()
            [(block_size, used_blocks)] = con.sql(
                "select block_size, used_blocks from pragma_database_size() "
                "where database_name = current_database()"
            ).fetchall()
        # a truncated file still opens (its catalog may sit in the first blocks) but is
        # shorter than its three 4 KiB headers and the blocks in use. Not the total: DuckDB
        # cuts free blocks off the end of a healthy file and still counts them (a healthy
        # warehouse of 71 used and 14 free blocks was 14 blocks "short" and moved aside).
        if path.stat().st_size >= _HEADERS_BYTES + int(block_size) * int(used_blocks):
            return False
        reason = "truncated"
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            raise
        reason = type(exc).__name__
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    os.replace(path, aside)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        os.replace(wal, aside.with_name(aside.name + ".wal"))
    log.warning("the working warehouse could not be opened (%s): moved aside to %s; "
                "this build rebuilds it from the landed files", reason, aside.name)
    return True


def empty_problems_frame() -> pl.DataFrame:
    """An empty frame shaped like the per-submission problem files ingestion writes."""
    return pl.DataFrame(schema={**PROBLEM_SCHEMA, SUBMISSION: pl.String(), SEQ: pl.Int64(), STREET: pl.String()})
