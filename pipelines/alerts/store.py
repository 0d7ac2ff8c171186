"""Alert state in its own DuckDB file (``Settings.alerts_state_path``), which outlives
every rebuild of the working warehouse.

Tables (schema ``main``):

- ``alerts`` — one row per alert identity, its current state;
- ``alert_events`` — every change of state (opened / escalated / deescalated /
  reopened / resolved), with the run and as-of date;
- ``alert_deliveries`` — per (event, sink): pending, delivered or failed, attempts.

Writers (the alert asset, the run-failure sensor) take :func:`state_lock` first, so
one process at a time opens the file for writing; a reader that copies the tables (the
publish step) should take it too.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import astuple, fields
from datetime import datetime
from pathlib import Path

import duckdb

from .lifecycle import Change
from .model import DELIVERED_EVENTS, OPEN, Alert, AlertEvent

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"

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
    last_error varchar
);
"""

ALERT_COLUMNS = [f.name for f in fields(Alert)]
EVENT_COLUMNS = [f.name for f in fields(AlertEvent)]


def schema_sql(schema: str = "main") -> str:
    """The DDL of the three tables in ``schema`` (e.g. empty ``alerts.*`` tables for a
    warehouse published before any alert was evaluated)."""
    return SCHEMA.replace("create table if not exists ", f"create table if not exists {schema}.")


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


@contextmanager
def state_lock(state_path: Path) -> Iterator[None]:
    """Exclusive access to the alert state file across processes."""
    state_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path(state_path).open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _insert(con: duckdb.DuckDBPyConnection, sql: str, rows: list[tuple[object, ...]]) -> None:
    if rows:
        con.executemany(sql, rows)


class AlertStore:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.con.execute(SCHEMA)

    @classmethod
    @contextmanager
    def open(cls, state_path: Path) -> Iterator[AlertStore]:
        """Lock, open (creating the tables if needed), yield, close."""
        with state_lock(state_path):
            con = duckdb.connect(str(state_path))
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

    def pending(self, sink: str) -> list[tuple[AlertEvent, Alert]]:
        """Events not yet delivered to ``sink``, oldest first, with their alert's state."""
        cols = ", ".join(f"e.{c}" for c in EVENT_COLUMNS)
        acols = ", ".join(f"a.{c}" for c in ALERT_COLUMNS)
        rows = self.con.execute(
            f"""
            select {cols}, {acols}
            from alert_deliveries d
            join alert_events e using (event_id)
            join alerts a on a.alert_id = e.alert_id
            where d.sink = ? and d.status <> '{DELIVERED}'
            order by e.event_seq""",
            [sink],
        ).fetchall()
        n = len(EVENT_COLUMNS)
        return [(AlertEvent(*r[:n]), Alert(*r[n:])) for r in rows]

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
                f"insert into alert_deliveries values (?, ?, '{PENDING}', 0, null, null, null)",
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

    def record_attempts(self, sink: str, outcomes: Mapping[str, str | None], now: datetime) -> None:
        """Per event id: None = delivered, else the error (the event stays due)."""
        if not outcomes:
            return
        self.con.executemany(
            f"""
            update alert_deliveries set
                attempts = attempts + 1, last_attempt_at = ?,
                status = case when ? then '{DELIVERED}' else '{FAILED}' end,
                delivered_at = case when ? then ? else delivered_at end,
                last_error = ?
            where event_id = ? and sink = ?""",
            [
                (now, err is None, err is None, now, err, event_id, sink)
                for event_id, err in outcomes.items()
            ],
        )
