"""What the alerts keep in their state file (``Settings.alerts_state_path``), which
outlives every rebuild of the working warehouse: reading and writing alerts, events,
deliveries and evaluations.

The file itself (its tables, lock and healing) is :mod:`pipelines.alert_state`, which
the publish step reads too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import astuple, fields
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from pipelines.alert_state import connect_state, create_tables, state_lock

from .lifecycle import Change, strongest
from .model import DELIVERED_EVENTS, OPEN, Alert, AlertEvent, Firing, evidence_json
from .modes import LIVE, Mode

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
# A failed delivery is tried again at a run at least this long after its last attempt,
# doubling with every failed run, up to the cap.
RETRY_FIRST_DELAY = timedelta(minutes=5)
RETRY_MAX_DELAY = timedelta(hours=6)


def retry_delay(attempts: int) -> timedelta:
    """How long a delivery that has failed ``attempts`` runs waits before the next."""
    return min(RETRY_FIRST_DELAY * 2 ** min(max(attempts - 1, 0), 16), RETRY_MAX_DELAY)


ALERT_COLUMNS = [f.name for f in fields(Alert)]
EVENT_COLUMNS = [f.name for f in fields(AlertEvent)]


def _insert(con: duckdb.DuckDBPyConnection, sql: str, rows: list[tuple[object, ...]]) -> None:
    if rows:
        con.executemany(sql, rows)


class AlertStore:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        create_tables(con)

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
