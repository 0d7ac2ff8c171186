"""The alert state file (``Settings.alerts_state_path``): its tables, the columns the
published warehouse carries of them, its lock, and how it heals when opened.

Two layers read the file: the alerts (``pipelines/alerts/store.py``, which evaluates
and delivers over it) and the publish step (``pipelines/publish/warehouse.py``, which
copies the tables into the published warehouse). Neither imports the other: both read
the file's shape and its rules from here (docs/architecture.md).

Tables (schema ``main``):

- ``alerts`` — one row per alert identity, its current state;
- ``alert_events`` — every change of state (opened / escalated / deescalated /
  reopened / resolved), with the run and as-of date;
- ``alert_deliveries`` — per (event, sink): pending, delivered or failed, attempts, and
  when a failed one may be tried again (``next_attempt_at``);
- ``alert_runs`` — one row per evaluation: its as-of date and mode (live, backfill,
  what-if: :mod:`pipelines.alerts.modes`), how far the data reached, how many fired;
- ``alert_whatif`` — what the latest backfill or what-if evaluation of each as-of date
  found, beside the live alerts it did not touch.

Writers (the alert asset, the run-failure sensor) take :func:`state_lock` first, so
one process at a time opens the file for writing; a reader that copies the tables (the
publish step, through :func:`prepared_state`) takes it too.

Opening heals (:func:`connect_state`): a file DuckDB cannot open or read, or one missing
a table, is moved aside (``alerts.duckdb.damaged-<UTC time>``, never deleted) and the
state is rebuilt from what the published warehouse holds (``alerts.alerts``,
``alerts.alert_events``, ``alerts.alert_deliveries``); a missing file is rebuilt the
same way. A file written by an older version gets the columns it lacks.

Layer 1: imports nothing from ``pipelines`` but the files layer.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.files import exclusive

log = logging.getLogger(__name__)

TABLES = ("alerts", "alert_events", "alert_deliveries", "alert_runs", "alert_whatif")
# A file without one of these is not an alert state; the later tables are simply created.
REQUIRED_TABLES = TABLES[:3]
# What the published warehouse carries of each table (schema ``alerts``), and so what a
# damaged or lost state file is rebuilt from. Deliveries without their times and errors:
# whether each (event, sink) was delivered and how often it was tried is what matters.
PUBLISHED_COLUMNS = {
    "alerts": "*",
    "alert_events": "*",
    "alert_deliveries": "event_id, sink, status, attempts",
    "alert_runs": "*",
    "alert_whatif": "*",
}
# What each published table is, in the published catalog (COMMENT ON: pipelines/publish/catalog.py).
PUBLISHED_DESCRIPTIONS = {
    "alerts": "预警：每个预警对象一行，及其当前级别与状态（open 未解除 / resolved 已解除）。 "
              "(One row per alert identity, its current level and state.)",
    "alert_events": "预警事件：每次状态变化一行（产生、升级、降级、重新产生、解除），带运行编号与统计日期。 "
                    "(Every change of an alert's state, with its run and as-of date.)",
    "alert_deliveries": "预警推送：每个事件在每个推送渠道的结果（pending / delivered / failed）与尝试次数。 "
                        "(Per event and sink: whether it was delivered, and how often it was tried.)",
    "alert_runs": "预警评估：每次评估一行，含统计日期、方式（live / backfill / what-if）、数据截止日与触发数。 "
                  "(One row per evaluation: as-of date, mode, data reach, firings.)",
    "alert_whatif": "回溯与假设评估：每个统计日期最近一次 backfill 或 what-if 评估发现的预警，与实时预警并列。 "
                    "(What the latest backfill or what-if evaluation of each as-of date found.)",
}

SCHEMA = """
create table if not exists alerts (
    alert_id varchar not null,
    rule_code varchar not null,
    rule_name varchar not null,
    rule_kind varchar not null,        -- labour / operator
    level varchar not null,            -- 红 / 橙 / 黄 / 蓝
    area_code varchar not null,        -- 9-digit street code, or 110101 for the district
    entity_key varchar not null,
    alert_window varchar not null,     -- '' when the identity has no period
    status varchar not null,           -- open / resolved
    first_seen timestamp not null,     -- UTC wall clock of the run that opened it
    last_seen timestamp not null,
    first_seen_as_of date not null,    -- the as-of date of that run
    last_seen_as_of date not null,
    resolved_at timestamp,
    resolved_as_of date,
    message varchar not null,
    evidence varchar not null,         -- JSON
    first_run_id varchar not null,
    last_run_id varchar not null
);
create table if not exists alert_events (
    event_id varchar not null,
    event_seq bigint not null,
    alert_id varchar not null,
    event_type varchar not null,
    level varchar not null,
    previous_level varchar,
    rule_code varchar not null,
    rule_name varchar not null,
    rule_kind varchar not null,
    area_code varchar not null,
    entity_key varchar not null,
    alert_window varchar not null,
    run_id varchar not null,
    as_of date not null,
    occurred_at timestamp not null,
    message varchar not null,
    evidence varchar not null
);
create table if not exists alert_deliveries (
    event_id varchar not null,
    sink varchar not null,
    status varchar not null,           -- pending / delivered / failed
    attempts integer not null,
    last_attempt_at timestamp,
    delivered_at timestamp,
    last_error varchar,
    next_attempt_at timestamp          -- a failed delivery waits until then (back-off)
);
create table if not exists alert_runs (
    run_id varchar not null,
    as_of date not null,
    mode varchar not null,             -- live / backfill / what-if
    live_as_of date,                   -- the latest live as-of date before this evaluation
    data_through date,                 -- the latest record on or before as_of
    evaluated_at timestamp not null,   -- UTC wall clock
    labour_firings integer not null,
    reason varchar not null
);
create table if not exists alert_whatif (
    as_of date not null,
    mode varchar not null,             -- backfill / what-if
    run_id varchar not null,
    alert_id varchar not null,
    rule_code varchar not null,
    rule_name varchar not null,
    level varchar not null,
    area_code varchar not null,
    entity_key varchar not null,
    alert_window varchar not null,
    live_status varchar,               -- the live alert of this identity: open / resolved / null
    message varchar not null,
    evidence varchar not null
);
"""
# Columns added since the first version of the file: a file written before them keeps working.
MIGRATIONS = (
    "alter table alert_deliveries add column if not exists next_attempt_at timestamp",
)


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables a state file lacks, and the columns an older file lacks."""
    con.execute(SCHEMA)
    for sql in MIGRATIONS:
        con.execute(sql)


def schema_sql(schema: str = "main") -> str:
    """The DDL of the state's tables in ``schema`` (e.g. empty ``alerts.*`` tables for a
    warehouse published before any alert was evaluated)."""
    return SCHEMA.replace("create table if not exists ", f"create table if not exists {schema}.")


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


@contextmanager
def state_lock(state_path: Path) -> Iterator[None]:
    """Exclusive access to the alert state file across processes."""
    with exclusive(lock_path(state_path)):
        yield


class DamagedState(Exception):
    """The state file opened but is not a whole alert state (a table is missing)."""


def _check(path: Path) -> None:
    """Raise if the file cannot be opened or any of its tables read through (DuckDB
    checks each block it reads, so a torn or truncated file fails here)."""
    with duckdb.connect(str(path), read_only=True) as con:
        present = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() "
                "where database_name = current_database() and schema_name = 'main'"
            ).fetchall()
        }
        missing = [t for t in REQUIRED_TABLES if t not in present]
        if missing:
            raise DamagedState(f"missing table(s) {', '.join(missing)}")
        for table in TABLES:
            if table in present:
                con.execute(f"select * from {table}").fetchall()


def _in_use(exc: BaseException) -> bool:
    """An error that says the file is open elsewhere (another process holds DuckDB's lock
    on it, or this one has it open differently): not damage, so never moved aside."""
    return isinstance(exc, duckdb.ConnectionException) or (
        type(exc).__name__ == "ResourceInUseException" or "Could not set lock on file" in str(exc)
    )


def _move_aside(path: Path) -> Path:
    """Rename the file (and its write-ahead log) to ``<name>.damaged-<UTC time>``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    os.replace(path, aside)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        os.replace(wal, aside.with_name(aside.name + ".wal"))
    return aside


def _restore(con: duckdb.DuckDBPyConnection, published: Path | None) -> tuple[int, str]:
    """Fill the (new, empty) state from the published warehouse's ``alerts`` schema:
    (rows restored, what was done, for the log line)."""
    if published is None or not published.exists():
        return 0, "no published warehouse to rebuild from: started empty"
    try:
        con.execute("attach ? as published (read_only)", [str(published)])
    except duckdb.Error as exc:
        return 0, f"the published warehouse cannot be read ({type(exc).__name__}): started empty"
    counts: dict[str, int] = {}
    try:
        present = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() "
                "where database_name = 'published' and schema_name = 'alerts'"
            ).fetchall()
        }
        con.execute("begin transaction")
        try:
            for table in TABLES:
                if table not in present:
                    continue
                ours = [r[0] for r in con.execute(f"describe main.{table}").fetchall()]
                theirs = {
                    r[0] for r in con.execute(f"describe published.alerts.{table}").fetchall()
                }
                cols = ", ".join(c for c in ours if c in theirs)
                con.execute(
                    f"insert into main.{table} ({cols}) select {cols} from published.alerts.{table}"
                )
                [(n,)] = con.execute(f"select count(*) from main.{table}").fetchall()
                counts[table] = int(n)
            con.execute("commit")
        except duckdb.Error as exc:
            con.execute("rollback")
            return 0, (
                f"the published warehouse's alert tables cannot be read ({type(exc).__name__}): "
                "started empty"
            )
    finally:
        con.execute("detach published")
    if not counts:
        return 0, "the published warehouse has no alert tables: started empty"
    listed = ", ".join(f"{n} {t}" for t, n in counts.items())
    return sum(counts.values()), f"rebuilt from the published warehouse ({listed})"


def connect_state(path: Path, published: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-write connection to a whole, current alert state file; hold
    :func:`state_lock` around it.

    A file that cannot be opened or read, or lacks a table, is moved aside and the
    state rebuilt from the published warehouse ``published``, as is a missing file; one
    line is logged saying so (counts only; nothing when a missing file had nothing to
    rebuild, as on the first run). A file open in another process is not damaged: the
    error is raised. An older file gets the columns it lacks."""
    damaged: tuple[str, Path] | None = None
    if path.exists():
        try:
            _check(path)
        except (duckdb.Error, DamagedState) as exc:
            if _in_use(exc):
                raise
            reason = str(exc) if isinstance(exc, DamagedState) else type(exc).__name__
            damaged = (reason, _move_aside(path))
    existed = path.exists()
    con = duckdb.connect(str(path))
    try:
        create_tables(con)
        if not existed:
            rows, what = _restore(con, published)
            con.execute("checkpoint")
            if damaged is not None:
                log.warning(
                    "alert state %s was damaged (%s): moved aside to %s; %s",
                    path, damaged[0], damaged[1].name, what,
                )
            elif rows:
                log.warning("alert state %s was missing: %s", path, what)
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def prepared_state(path: Path, published: Path | None = None) -> Iterator[None]:
    """Under the lock, a whole and current state file at ``path`` (healed if it was
    damaged): for a reader that attaches the file itself (the publish step)."""
    with state_lock(path):
        connect_state(path, published).close()
        yield
