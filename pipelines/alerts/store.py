"""Alert state in its own DuckDB file (``Settings.alerts_state_path``), which outlives
every rebuild of the working warehouse.

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
publish step) should take it too.

Opening heals (:func:`connect_state`): a file DuckDB cannot open or read, or one missing
a table, is moved aside (``alerts.duckdb.damaged-<UTC time>``, never deleted) and the
state is rebuilt from what the published warehouse holds (``alerts.alerts``,
``alerts.alert_events``, ``alerts.alert_deliveries``); a missing file is rebuilt the
same way. A file written by an older version gets the columns it lacks.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import astuple, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from pipelines.files import exclusive

from .lifecycle import Change, strongest
from .model import DELIVERED_EVENTS, OPEN, Alert, AlertEvent, Firing, evidence_json
from .modes import LIVE, Mode

log = logging.getLogger(__name__)

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
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
# A failed delivery is tried again at a run at least this long after its last attempt,
# doubling with every failed run, up to the cap.
RETRY_FIRST_DELAY = timedelta(minutes=5)
RETRY_MAX_DELAY = timedelta(hours=6)


def retry_delay(attempts: int) -> timedelta:
    """How long a delivery that has failed ``attempts`` runs waits before the next."""
    return min(RETRY_FIRST_DELAY * 2 ** min(max(attempts - 1, 0), 16), RETRY_MAX_DELAY)

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

ALERT_COLUMNS = [f.name for f in fields(Alert)]
EVENT_COLUMNS = [f.name for f in fields(AlertEvent)]


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


def _insert(con: duckdb.DuckDBPyConnection, sql: str, rows: list[tuple[object, ...]]) -> None:
    if rows:
        con.executemany(sql, rows)


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
        con.execute(SCHEMA)
        for sql in MIGRATIONS:
            con.execute(sql)
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


class AlertStore:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.con.execute(SCHEMA)
        for sql in MIGRATIONS:
            self.con.execute(sql)

    @classmethod
    @contextmanager
    def open(cls, state_path: Path, published_path: Path | None = None) -> Iterator[AlertStore]:
        """Lock, open (healing a damaged file from ``published_path``, creating the
        tables if needed), yield, close."""
        with state_lock(state_path):
            con = connect_state(state_path, published_path)
            try:
                yield cls(con)
            finally:
                con.close()

    # --- reading --------------------------------------------------------------------------

    def alerts(self, status: str | None = None) -> dict[str, Alert]:
        sql = f"select {', '.join(ALERT_COLUMNS)} from alerts"
        rows = self.con.execute(
            sql + (" where status = ?" if status else ""), [status] if status else []
        ).fetchall()
        return {r[0]: Alert(*r) for r in rows}

    def open_alerts(self) -> list[Alert]:
        return sorted(
            self.alerts(OPEN).values(), key=lambda a: (a.rule_code, a.area_code, a.entity_key)
        )

    def events(self) -> list[AlertEvent]:
        rows = self.con.execute(
            f"select {', '.join(EVENT_COLUMNS)} from alert_events order by event_seq"
        ).fetchall()
        return [AlertEvent(*r) for r in rows]

    def event_counts(self) -> dict[str, int]:
        """How many events each alert has had (the next one's number within its alert)."""
        return dict(
            self.con.execute("select alert_id, count(*) from alert_events group by 1").fetchall()
        )

    def pending(self, sink: str, now: datetime | None = None) -> list[tuple[AlertEvent, Alert]]:
        """Events ``sink`` has not taken and may be sent now (a failed one once its
        back-off has passed), oldest first, with their alert's state."""
        cols = ", ".join(f"e.{c}" for c in EVENT_COLUMNS)
        acols = ", ".join(f"a.{c}" for c in ALERT_COLUMNS)
        rows = self.con.execute(
            f"""
            select {cols}, {acols}
            from alert_deliveries d
            join alert_events e using (event_id)
            join alerts a on a.alert_id = e.alert_id
            where d.sink = ? and d.status <> '{DELIVERED}'
              and (d.next_attempt_at is null or ?::timestamp is null or d.next_attempt_at <= ?)
            order by e.event_seq""",
            [sink, now, now],
        ).fetchall()
        n = len(EVENT_COLUMNS)
        return [(AlertEvent(*r[:n]), Alert(*r[n:])) for r in rows]

    def add_due(self, sinks: Sequence[str]) -> int:
        """Make the deliveries each sink is owed beyond those of the events recorded while
        it was configured (worked out now, per sink, so a sink configured late, back
        after a gap, or facing a rebuilt state is not skipped):

        - an open alert the sink has no delivery of at all: its latest event (whatever
          its type: it says the alert's current level), so the sink learns what is open
          now, not the history it missed;
        - an alert the sink was told about (a delivered event): its latest opened /
          escalated / reopened / resolved event when that is newer than anything the
          sink has of the alert, so it learns how what it knew ended.

        Returns the rows made."""
        if not sinks:
            return 0
        kinds = sorted(DELIVERED_EVENTS)
        [(before,)] = self.con.execute("select count(*) from alert_deliveries").fetchall()
        self.con.execute(
            f"""
            insert into alert_deliveries (event_id, sink, status, attempts)
            with ranked as (
                select event_id, alert_id, event_seq, event_type in (select unnest($kinds)) as news,
                       row_number() over (partition by alert_id order by event_seq desc) as nth,
                       row_number() over (
                           partition by alert_id, event_type in (select unnest($kinds))
                           order by event_seq desc) as nth_of_kind
                from alert_events
            ), sinks as (
                select unnest($sinks) as sink
            ), known as (
                select e.alert_id, d.sink, bool_or(d.status = '{DELIVERED}') as told,
                       max(e.event_seq) as last_seq
                from alert_deliveries d join alert_events e on e.event_id = d.event_id
                group by all
            ), owed as (
                select r.event_id, r.event_seq, s.sink
                from ranked r
                cross join sinks s
                join alerts a on a.alert_id = r.alert_id
                left join known k on k.alert_id = r.alert_id and k.sink = s.sink
                where r.nth = 1 and a.status = '{OPEN}' and k.alert_id is null
                union
                select r.event_id, r.event_seq, s.sink
                from ranked r
                cross join sinks s
                join known k on k.alert_id = r.alert_id and k.sink = s.sink
                where r.news and r.nth_of_kind = 1 and k.told and r.event_seq > k.last_seq
            )
            select event_id, sink, '{PENDING}', 0
            from owed o
            where not exists (
                select 1 from alert_deliveries d where d.event_id = o.event_id and d.sink = o.sink)
            order by event_seq, sink""",
            {"kinds": kinds, "sinks": list(sinks)},
        )
        [(after,)] = self.con.execute("select count(*) from alert_deliveries").fetchall()
        return int(after - before)

    def live_as_of(self) -> date | None:
        """The latest as-of date evaluated live: from the evaluations recorded, and (for a
        state written before they were) the labour alerts' own as-of dates."""
        [(runs,)] = self.con.execute(
            f"select max(as_of) from alert_runs where mode = '{LIVE}'"
        ).fetchall()
        [(seen,)] = self.con.execute(
            "select max(greatest(last_seen_as_of, coalesce(resolved_as_of, last_seen_as_of))) "
            "from alerts where rule_kind = 'labour'"
        ).fetchall()
        known = [d for d in (runs, seen) if d is not None]
        return max(known) if known else None

    def delivery_counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for sink, status, n in self.con.execute(
            "select sink, status, count(*) from alert_deliveries group by all order by all"
        ).fetchall():
            out.setdefault(sink, {})[status] = n
        return out

    # --- writing --------------------------------------------------------------------------

    def apply(self, changes: Sequence[Change], sinks: Sequence[str]) -> None:
        """Write the changes in one transaction: alert states, events, and a pending
        delivery per delivered event and configured sink."""
        if not changes:
            return
        con = self.con
        con.execute("begin transaction")
        try:
            ids = [c.alert.alert_id for c in changes]
            con.execute("delete from alerts where alert_id in (select unnest(?))", [ids])
            _insert(
                con,
                f"insert into alerts ({', '.join(ALERT_COLUMNS)}) "
                f"values ({', '.join('?' * len(ALERT_COLUMNS))})",
                [astuple(c.alert) for c in changes],
            )
            events = [c.event for c in changes if c.event is not None]
            (seq,) = con.execute(
                "select coalesce(max(event_seq), 0) from alert_events"
            ).fetchone() or (0,)
            _insert(
                con,
                f"insert into alert_events (event_seq, {', '.join(EVENT_COLUMNS)}) "
                f"values (?, {', '.join('?' * len(EVENT_COLUMNS))})",
                [(seq + i, *astuple(e)) for i, e in enumerate(events, start=1)],
            )
            _insert(
                con,
                f"insert into alert_deliveries (event_id, sink, status, attempts) "
                f"values (?, ?, '{PENDING}', 0)",
                [
                    (e.event_id, s)
                    for e in events
                    if e.event_type in DELIVERED_EVENTS
                    for s in sinks
                ],
            )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise

    def record_evaluation(
        self, mode: Mode, run_id: str, now: datetime, labour: Sequence[Firing]
    ) -> int:
        """One row in ``alert_runs``; for a backfill or what-if, this evaluation's firings
        (one per alert identity) replace the earlier ones of the same as-of date in
        ``alert_whatif``. Returns the what-if rows written (0 for a live evaluation)."""
        whatif = [] if mode.live else list(strongest(labour).values())
        con = self.con
        con.execute("begin transaction")
        try:
            con.execute(
                "insert into alert_runs values (?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, mode.as_of, mode.mode, mode.live_as_of, mode.data_through, now,
                 len(labour), mode.reason],
            )
            if not mode.live:
                con.execute("delete from alert_whatif where as_of = ?", [mode.as_of])
                status = dict(con.execute("select alert_id, status from alerts").fetchall())
                _insert(
                    con,
                    "insert into alert_whatif values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (mode.as_of, mode.mode, run_id, f.alert_id, f.rule_code, f.rule_name,
                         f.level, f.area_code, f.entity_key, f.window, status.get(f.alert_id),
                         f.message, evidence_json(f.evidence))
                        for f in whatif
                    ],
                )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        return len(whatif)

    def record_attempts(self, sink: str, outcomes: Mapping[str, str | None], now: datetime) -> None:
        """Per event id: None = delivered, else the error: the event stays due and is
        tried again at a run after :func:`retry_delay` of its failed attempts."""
        if not outcomes:
            return
        attempts = dict(
            self.con.execute(
                "select event_id, attempts from alert_deliveries "
                "where sink = ? and event_id in (select unnest(?::varchar[]))",
                [sink, list(outcomes)],
            ).fetchall()
        )
        self.con.executemany(
            f"""
            update alert_deliveries set
                attempts = attempts + 1, last_attempt_at = ?,
                status = case when ? then '{DELIVERED}' else '{FAILED}' end,
                delivered_at = case when ? then ? else delivered_at end,
                last_error = ?,
                next_attempt_at = ?
            where event_id = ? and sink = ?""",
            [
                (
                    now,
                    err is None,
                    err is None,
                    now,
                    err,
                    None if err is None else now + retry_delay(attempts.get(event_id, 0) + 1),
                    event_id,
                    sink,
                )
                for event_id, err in outcomes.items()
            ],
        )
