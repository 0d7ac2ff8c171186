"""Faults and delivery guarantees, on real files and local servers: a damaged or lost
alert state is moved aside and rebuilt from the published warehouse without sending
anything twice; event ids are stable; a sink configured late learns what is open; a
slow webhook is bounded per run and backed off across runs; an old state file keeps
working."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.alert_state import schema_sql
from pipelines.alerts import load_rules, record_run_failure
from pipelines.alerts.sinks import OutboxSink, Payload, Sink, WebhookSink
from pipelines.alerts.store import ALERT_COLUMNS, EVENT_COLUMNS, RETRY_FIRST_DELAY
from pipelines.config import Settings
from pipelines.publish.warehouse import publish

from .test_alerts_lifecycle import NOW, build, outbox
from .test_alerts_rules import AS_OF, S1, Warehouse
from .test_alerts_sinks import run
from .test_published_readers import make_working_warehouse

SECRET = "s3cret-for-tests"
RULES = load_rules()


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    return ("127.0.0.1", 0)


Case = tuple[str, int, int, bool]  # case id, workers involved, days since received, closed


def cases(*specs: Case) -> Callable[[Warehouse], None]:
    def fill(wh: Warehouse) -> None:
        for case_id, workers, age, closed in specs:
            wh.case(
                case_id=case_id,
                workers=workers,
                received=AS_OF - timedelta(days=age),
                status="调解成功" if closed else "调解中",
                closed=AS_OF - timedelta(days=1) if closed else None,
            )

    return fill


A, B = "TJ001-2015-0001", "TJ001-2015-0002"
FIRST = cases((A, 4, 20, False), (B, 40, 2, False))  # W09 蓝 on A, W01 橙 on B
SECOND = cases((A, 12, 20, False))  # W09 A escalates to 黄, W01 opens on A, W01 on B resolves
THIRD = cases((A, 12, 20, True))  # A settled: W09 resolves (W01 still watches it: received in 30 days)


def hook(server: HTTPServer, **kw: Any) -> WebhookSink:
    return WebhookSink(
        server.url_for("/hook"), SECRET, **{"backoff_seconds": 0.01, "timeout_seconds": 5, **kw}
    )


def sinks(settings: Settings, server: HTTPServer) -> list[Sink]:
    return [OutboxSink(settings.outbox_path), hook(server)]


def received(server: HTTPServer) -> list[str]:
    """The event id of every request the server answered, in order."""
    ids = [req.headers["X-Union-Event-Id"] for req, _ in server.log]
    assert ids == [json.loads(req.get_data())["event_id"] for req, _ in server.log]
    return ids


def publish_now(settings: Settings, run_id: str) -> None:
    """Publish the warehouse (the real publish step) with a minimal indicator table."""
    make_working_warehouse(settings, {S1: 10})
    publish(settings, run_id)


def state_rows(path: Path) -> tuple[list[tuple], list[tuple], list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        alerts = con.execute(
            f"select {', '.join(ALERT_COLUMNS)} from alerts order by alert_id"
        ).fetchall()
        events = con.execute(
            f"select event_seq, {', '.join(EVENT_COLUMNS)} from alert_events order by event_seq"
        ).fetchall()
        deliveries = con.execute(
            "select event_id, sink, status from alert_deliveries order by all"
        ).fetchall()
    return alerts, events, deliveries


def truncate(path: Path) -> int:
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.truncate(size // 2)
    return size // 2


def damaged_copies(settings: Settings) -> list[Path]:
    return sorted(settings.alerts_state_path.parent.glob("alerts.duckdb.damaged-*"))


def store_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "pipelines.alert_state" and r.levelno >= logging.WARNING
    ]


# --- a damaged or lost state file ----------------------------------------------------------


def test_a_truncated_state_is_moved_aside_and_rebuilt_and_nothing_is_sent_twice(
    settings: Settings, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    build(settings, FIRST)
    assert run(settings, 1, sinks(settings, httpserver)).delivered == {"outbox": 2, "webhook": 2}
    build(settings, SECOND)
    second = run(settings, 2, sinks(settings, httpserver))
    assert (second.count("escalated"), second.count("opened"), second.count("resolved")) == (1, 1, 1)
    publish_now(settings, "publish-2")
    alerts, events, deliveries = state_rows(settings.alerts_state_path)
    assert len(events) == 5 and {d[2] for d in deliveries} == {"delivered"}

    half = truncate(settings.alerts_state_path)
    with pytest.raises(duckdb.Error):  # the damage is real: DuckDB cannot read the file
        state_rows(settings.alerts_state_path)
    caplog.set_level(logging.INFO)
    build(settings, SECOND)
    third = run(settings, 3, sinks(settings, httpserver))  # no exception
    assert third.count("opened") == third.count("resolved") == third.count("escalated") == 0
    assert third.delivered == {} and third.still_due == {"outbox": 0, "webhook": 0}

    [aside] = damaged_copies(settings)  # kept, never deleted
    assert aside.stat().st_size == half
    [line] = store_warnings(caplog)
    assert "damaged" in line and aside.name in line and "rebuilt from the published warehouse" in line
    after_alerts, after_events, after_deliveries = state_rows(settings.alerts_state_path)
    assert after_events == events  # same events, same ids and numbers
    assert after_deliveries == deliveries
    unchanged = [c for c in ALERT_COLUMNS if c not in ("last_seen", "last_run_id")]
    idx = [ALERT_COLUMNS.index(c) for c in unchanged]
    assert [[a[i] for i in idx] for a in after_alerts] == [[a[i] for i in idx] for a in alerts]

    ids = [e[1] for e in events]
    assert received(httpserver) == ids  # every event exactly once, in order
    assert [m["event_id"] for m in outbox(settings)] == ids

    build(settings, THIRD)  # news after the rebuild is numbered on and sent once
    fourth = run(settings, 4, sinks(settings, httpserver))
    assert fourth.count("resolved") == 1 and fourth.delivered == {"outbox": 1, "webhook": 1}
    _, final_events, _ = state_rows(settings.alerts_state_path)
    assert [e[0] for e in final_events] == [1, 2, 3, 4, 5, 6]
    assert len(received(httpserver)) == len(set(received(httpserver))) == 6


@pytest.mark.parametrize("damage", ["empty", "garbage", "missing table", "deleted"])
def test_any_damage_or_loss_is_healed_from_the_published_warehouse(
    settings: Settings, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    build(settings, FIRST)
    run(settings, 1, [OutboxSink(settings.outbox_path)])
    publish_now(settings, "publish-1")
    alerts, events, deliveries = state_rows(settings.alerts_state_path)
    path = settings.alerts_state_path
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "garbage":
        path.write_bytes(b"not a database " * 1000)
    elif damage == "missing table":
        with duckdb.connect(str(path)) as con:
            con.execute("drop table alert_deliveries")
    else:
        path.unlink()
    caplog.set_level(logging.INFO)
    report = run(settings, 2, [OutboxSink(settings.outbox_path)])
    assert report.delivered == {} and report.count("opened") == 0
    after_alerts, after_events, after_deliveries = state_rows(path)
    assert (len(after_alerts), after_events, after_deliveries) == (len(alerts), events, deliveries)
    assert len(outbox(settings)) == 2
    [line] = store_warnings(caplog)
    if damage == "deleted":
        assert damaged_copies(settings) == [] and "was missing" in line
    else:
        assert len(damaged_copies(settings)) == 1 and "damaged" in line
        if damage == "missing table":
            assert "missing table(s) alert_deliveries" in line


def test_a_state_file_another_process_holds_is_in_use_not_damaged(settings: Settings) -> None:
    build(settings, FIRST)
    run(settings, 1, [OutboxSink(settings.outbox_path)])
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('open', flush=True); time.sleep(60)", str(settings.alerts_state_path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(duckdb.IOException, match="lock"):
            run(settings, 2, [OutboxSink(settings.outbox_path)])
    finally:
        holder.kill()
        holder.wait()
    assert damaged_copies(settings) == []
    assert run(settings, 3, [OutboxSink(settings.outbox_path)]).delivered == {}


def test_an_event_recorded_again_after_a_loss_keeps_its_id(
    settings: Settings, httpserver: HTTPServer
) -> None:
    """A change made after the last publish is lost with the state; recorded again, it
    has the same event id, so a receiver drops the second copy."""
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    build(settings, FIRST)
    run(settings, 1, sinks(settings, httpserver))
    publish_now(settings, "publish-1")
    build(settings, SECOND)
    run(settings, 2, sinks(settings, httpserver))  # escalated, opened, resolved: not published
    _, events, _ = state_rows(settings.alerts_state_path)
    truncate(settings.alerts_state_path)
    run(settings, 3, sinks(settings, httpserver))
    _, again, _ = state_rows(settings.alerts_state_path)
    key = [EVENT_COLUMNS.index(c) + 1 for c in ("event_id", "alert_id", "event_type", "level")]
    assert [[e[i] for i in key] for e in again] == [[e[i] for i in key] for e in events]
    assert [e[-5] for e in again[2:]] == ["run-3"] * 3  # recorded again, by the third run
    ids = received(httpserver)
    assert len(ids) == 8 and len(set(ids)) == 5  # sent again (at least once), same ids


def test_without_a_published_warehouse_the_state_starts_over_with_the_same_ids(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    build(settings, FIRST)
    run(settings, 1, [OutboxSink(settings.outbox_path)])
    first = [m["event_id"] for m in outbox(settings)]
    truncate(settings.alerts_state_path)
    caplog.set_level(logging.INFO)
    assert run(settings, 2, [OutboxSink(settings.outbox_path)]).count("opened") == 2
    assert [m["event_id"] for m in outbox(settings)] == first * 2  # a receiver drops the copies
    [line] = store_warnings(caplog)
    assert "no published warehouse" in line and len(damaged_copies(settings)) == 1


def test_a_run_failure_is_recorded_and_delivered_over_a_damaged_state(
    settings: Settings, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    build(settings, FIRST)
    run(settings, 1, sinks(settings, httpserver))
    publish_now(settings, "publish-1")
    truncate(settings.alerts_state_path)
    report = record_run_failure(
        settings,
        job_name="union_pipeline",
        run_id="run-failed",
        failed_steps=["dbt_build"],
        error="step dbt_build failed",
        as_of=AS_OF,
        sinks=sinks(settings, httpserver),
        rules=RULES,
        now=NOW + timedelta(hours=2),
    )
    assert report.count("opened") == 1 and report.delivered == {"outbox": 1, "webhook": 1}
    [payload] = [json.loads(req.get_data()) for req, _ in httpserver.log][2:]
    assert payload["rule_code"] == "OPS_RUN_FAILED" and payload["event_type"] == "opened"
    assert len(damaged_copies(settings)) == 1
    alerts, _, _ = state_rows(settings.alerts_state_path)
    assert sorted(a[1] for a in alerts) == ["OPS_RUN_FAILED", "W01", "W09"]  # the rest rebuilt


def test_the_published_deliveries_carry_no_times_or_errors(settings: Settings) -> None:
    build(settings, FIRST)
    run(settings, 1, [OutboxSink(settings.outbox_path)])
    publish_now(settings, "publish-1")
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        cols = [r[0] for r in con.execute("describe alerts.alert_deliveries").fetchall()]
        rows = con.execute("select sink, status from alerts.alert_deliveries").fetchall()
    assert cols == ["event_id", "sink", "status", "attempts"]
    assert rows == [("outbox", "delivered")] * 2


# --- a sink configured late ----------------------------------------------------------------


def test_a_sink_configured_late_gets_the_open_alerts_not_the_history(
    settings: Settings, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    outbox_only = [OutboxSink(settings.outbox_path)]

    def got() -> list[tuple[str, str, str, str]]:
        return [
            (p["rule_code"], p["event_type"], p["level"], p["status"])
            for p in (json.loads(req.get_data()) for req, _ in httpserver.log)
        ]

    build(settings, FIRST)
    run(settings, 1, outbox_only)  # W09 A 蓝 and W01 B 橙 open
    build(settings, SECOND)
    run(settings, 2, outbox_only)  # W09 A escalated to 黄, W01 A opened, W01 B resolved
    build(settings, cases((A, 4, 20, False)))
    run(settings, 3, outbox_only)  # W09 A back to 蓝 (deescalated), W01 A resolved
    # the webhook is configured now: it learns the one open alert at its current level
    assert run(settings, 4, sinks(settings, httpserver)).delivered == {"webhook": 1}
    assert got() == [("W09", "deescalated", "蓝", "open")]  # nothing of the resolved W01 alerts
    assert run(settings, 5, sinks(settings, httpserver)).delivered == {}
    # the daemon restarts without the webhook variables; A is settled with 12 workers
    build(settings, THIRD)
    fifth = run(settings, 6, outbox_only)
    assert (fifth.count("resolved"), fifth.count("reopened")) == (1, 1)  # W09 A; W01 A
    # back: told how the alert it knew ended, and of the one open now
    assert run(settings, 7, sinks(settings, httpserver)).delivered == {"webhook": 2}
    assert sorted(got()[1:]) == [("W01", "reopened", "黄", "open"), ("W09", "resolved", "蓝", "resolved")]
    assert len(received(httpserver)) == len(set(received(httpserver))) == 3
    assert run(settings, 8, sinks(settings, httpserver)).delivered == {}


# --- a slow webhook ------------------------------------------------------------------------


class SlowReceiver:
    """Notes each event id as the request arrives, then answers after ``delay`` s."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.arrived: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.arrived.append(request.headers["X-Union-Event-Id"])
        time.sleep(self.delay)
        return Response("ok")


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


class Timed:
    """A sink that notes when its send returned (how long the others kept it waiting)."""

    def __init__(self, sink: Sink) -> None:
        self.sink, self.name = sink, sink.name
        self.done_at: float | None = None

    def send(self, payloads: Sequence[Payload]) -> dict[str, str | None]:
        out = self.sink.send(payloads)
        self.done_at = time.monotonic()
        return out


FIVE = cases(*((f"TJ001-2015-{i:04d}", 4, 40, False) for i in range(1, 6)))  # five W09 alerts (no W03: old)


def test_a_slow_webhook_is_bounded_per_run_and_backed_off_across_runs(
    settings: Settings, threaded_server: HTTPServer
) -> None:
    slow = SlowReceiver(delay=1.5)
    threaded_server.expect_request("/hook", method="POST").respond_with_handler(slow)
    build(settings, FIVE)

    def slow_sinks() -> tuple[Timed, Timed]:
        return Timed(OutboxSink(settings.outbox_path)), Timed(hook(threaded_server, timeout_seconds=0.5))

    box, webhook = slow_sinks()
    assert isinstance(webhook.sink, WebhookSink) and webhook.sink.budget == 1.5  # three timeouts
    first = run(settings, 1, [webhook, box])
    # not 5 events x 4 attempts x the timeout: the budget (and the last request's timeout at most)
    assert first.timings["deliver"] < 1.5 + 0.75
    assert box.done_at is not None and webhook.done_at is not None
    assert webhook.done_at - box.done_at > 1.0  # the outbox was not held back by the webhook
    assert first.delivered == {"outbox": 5, "webhook": 0} and first.still_due == {"outbox": 0, "webhook": 5}
    tried = list(slow.arrived)
    assert 1 <= len(tried) <= 3 and len(set(tried)) == len(tried)  # each event POSTed once at most
    assert first.failed["webhook"] == len(tried)

    # an immediate second run does not retry them (back-off); it tries the others
    box, webhook = slow_sinks()
    second = run(settings, 2, [webhook, box], now=NOW + timedelta(hours=1, minutes=1))
    retried = slow.arrived[len(tried) :]
    assert not set(retried) & set(tried) and len(set(retried)) == len(retried)
    assert second.delivered["webhook"] == 0
    with duckdb.connect(str(settings.alerts_state_path), read_only=True) as con:
        waits = con.execute(
            "select event_id, attempts, next_attempt_at - last_attempt_at from alert_deliveries "
            "where sink = 'webhook' and status = 'failed'"
        ).fetchall()
    assert {w[0] for w in waits} == set(tried) | set(retried)
    assert {(n, wait) for _, n, wait in waits} == {(1, RETRY_FIRST_DELAY)}

    # after the back-off, with the receiver answering in time again, all go through once
    slow.delay = 0
    arrived_before = len(slow.arrived)
    box, webhook = slow_sinks()
    third = run(settings, 3, [webhook, box], now=NOW + timedelta(hours=1, minutes=10))
    assert third.delivered == {"webhook": 5} and third.still_due == {"outbox": 0, "webhook": 0}
    assert sorted(slow.arrived[arrived_before:]) == sorted({m["event_id"] for m in outbox(settings)})
    box, webhook = slow_sinks()
    assert run(settings, 4, [webhook, box]).delivered == {}


def test_the_back_off_grows_with_each_failed_run(settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("down", status=503)
    build(settings, cases((A, 4, 20, False)))
    t = NOW
    seen: list[timedelta] = []
    for n in range(1, 5):
        report = run(settings, n, [hook(httpserver, attempts=1)], now=t)
        assert report.failed == {"webhook": 1}
        with duckdb.connect(str(settings.alerts_state_path), read_only=True) as con:
            [(attempts, due)] = con.execute(
                "select attempts, next_attempt_at from alert_deliveries where sink = 'webhook'"
            ).fetchall()
        assert attempts == n
        seen.append(due - t)
        # a run just before it is due sends nothing
        assert run(settings, 100 + n, [hook(httpserver, attempts=1)], now=due - timedelta(seconds=1)).failed == {}
        t = due
    assert seen == [RETRY_FIRST_DELAY * k for k in (1, 2, 4, 8)]
    assert len(httpserver.log) == 4


# --- a state file written before these columns -----------------------------------------------

OLD_DELIVERIES = """
create table alert_deliveries (
    event_id varchar not null, sink varchar not null, status varchar not null, attempts integer not null,
    last_attempt_at timestamp, delivered_at timestamp, last_error varchar);
"""


def test_a_state_file_of_the_previous_version_keeps_working(
    settings: Settings, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    build(settings, FIRST)
    run(settings, 1, [OutboxSink(settings.outbox_path)])  # today's file, then made old:
    path = settings.alerts_state_path
    with duckdb.connect(str(path)) as con:
        con.execute("create table old as select * exclude (next_attempt_at) from alert_deliveries")
        con.execute("drop table alert_deliveries")
        con.execute(OLD_DELIVERIES)
        con.execute("insert into alert_deliveries select * from old")
        con.execute("drop table old")
        # its events had random ids, and one delivery to the webhook failed
        con.execute("update alert_deliveries d set event_id = 'random-' || e.event_seq "
                    "from alert_events e where e.event_id = d.event_id")
        con.execute("update alert_events set event_id = 'random-' || event_seq")
        con.execute("insert into alert_deliveries values ('random-1', 'webhook', 'failed', 1, ?, null, 'HTTP 503')",
                    [NOW])
    report = run(settings, 2, [OutboxSink(settings.outbox_path), hook(httpserver)])
    assert report.delivered == {"webhook": 2} and report.still_due == {"outbox": 0, "webhook": 0}
    assert sorted(received(httpserver)) == ["random-1", "random-2"]  # old ids are kept
    with duckdb.connect(str(path), read_only=True) as con:
        cols = [r[0] for r in con.execute("describe alert_deliveries").fetchall()]
    assert cols[-1] == "next_attempt_at" and damaged_copies(settings) == []


def test_the_empty_published_tables_have_the_published_shape(settings: Settings) -> None:
    with duckdb.connect() as con:
        con.execute("create schema a")
        con.execute(schema_sql("a"))
        assert "next_attempt_at" in [r[0] for r in con.execute("describe a.alert_deliveries").fetchall()]
    make_working_warehouse(settings, {S1: 10})
    publish(settings, "publish-1")  # no alert ever evaluated
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        for table in ("alerts", "alert_events", "alert_deliveries"):
            assert con.execute(f"select count(*) from alerts.{table}").fetchall() == [(0,)]
