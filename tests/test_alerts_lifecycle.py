"""The alert lifecycle across runs and rebuilds: open once, escalate, resolve once,
reopen; state in its own DuckDB file; the outbox gets only the news."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.alerts import AlertStore, RunContext, load_rules, reconcile, run_alerts
from pipelines.alerts.model import Alert, Firing
from pipelines.alerts.sinks import OutboxSink
from pipelines.config import Settings

from .test_alerts_rules import AS_OF, S1, Warehouse
from .warning_models import materialise_file

NOW = datetime(2016, 1, 1, 2, 0)


def build(settings: Settings, fill: Callable[[Warehouse], None], as_of: date = AS_OF,
          rules_path: Path | None = None) -> None:
    """(Re)build the working warehouse from scratch, as every dbt build does, the warning
    rule models included (as of ``as_of``, with the rule file at ``rules_path``)."""
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    settings.warehouse_path.unlink(missing_ok=True)
    wh = Warehouse(settings.warehouse_path)
    fill(wh)
    wh.evaluate(as_of, load_rules(rules_path))
    wh.con.close()


def run(settings: Settings, n: int, as_of: date = AS_OF, rules_path: Path | None = None):  # type: ignore[no-untyped-def]
    """Alert run ``n`` over the warehouse as it is, its rule models rebuilt first as of
    ``as_of`` with the rule file (as a build at that date would)."""
    materialise_file(settings.warehouse_path, as_of, load_rules(rules_path))
    return run_alerts(
        settings,
        as_of=as_of,
        run_id=f"run-{n}",
        sinks=[OutboxSink(settings.outbox_path)],
        rules=load_rules(rules_path),
        now=NOW + timedelta(hours=n),
    )


def outbox(settings: Settings) -> list[dict]:
    if not settings.outbox_path.exists():
        return []
    return [
        json.loads(line) for line in settings.outbox_path.read_text(encoding="utf-8").splitlines()
    ]


def state(settings: Settings) -> tuple[list[tuple], list[tuple]]:
    with duckdb.connect(str(settings.alerts_state_path), read_only=True) as con:
        alerts = con.execute(
            "select rule_code, level, status, entity_key from alerts order by all"
        ).fetchall()
        events = con.execute(
            "select rule_code, event_type, level, previous_level, run_id from alert_events "
            "order by event_seq"
        ).fetchall()
    return alerts, events


def overdue_case(workers: int = 4, closed: bool = False) -> Callable[[Warehouse], None]:
    def fill(wh: Warehouse) -> None:
        wh.case(
            case_id="TJ001-2015-0001",
            workers=workers,
            received=AS_OF - timedelta(days=20),
            status="调解成功" if closed else "调解中",
            closed=AS_OF - timedelta(days=1) if closed else None,
        )

    return fill


KEY = f"case:{S1}:TJ001-2015-0001"


def test_a_rule_that_keeps_firing_is_one_open_alert_and_is_sent_once(settings: Settings) -> None:
    build(settings, overdue_case())
    first = run(settings, 1)
    assert first.count("opened") == 1 and first.delivered == {"outbox": 1}
    build(settings, overdue_case())  # rebuilt warehouse, same data
    second = run(settings, 2)
    assert second.count("opened") == 0 and second.delivered == {}
    alerts, events = state(settings)
    assert alerts == [("W09", "蓝", "open", KEY)]
    assert events == [("W09", "opened", "蓝", None, "run-1")]
    [sent] = outbox(settings)
    assert (
        sent["event_type"] == "opened"
        and sent["entity_key"] == KEY
        and sent["as_of"] == "2015-12-31"
    )
    with AlertStore.open(settings.alerts_state_path) as store:
        [alert] = store.open_alerts()
    assert alert.first_seen == NOW + timedelta(hours=1) and alert.last_seen == NOW + timedelta(
        hours=2
    )
    assert alert.first_run_id == "run-1" and alert.last_run_id == "run-2"


def test_clearing_the_condition_resolves_the_alert_once(settings: Settings) -> None:
    build(settings, overdue_case())
    run(settings, 1)
    build(settings, overdue_case(closed=True))
    assert run(settings, 2).count("resolved") == 1
    assert run(settings, 3).count("resolved") == 0
    alerts, events = state(settings)
    assert alerts == [("W09", "蓝", "resolved", KEY)]
    assert [e[1] for e in events] == ["opened", "resolved"]
    assert [(m["event_type"], m["message"][:5]) for m in outbox(settings)] == [
        ("opened", "【蓝色预警"),
        ("resolved", "【已解除】"),
    ]
    with AlertStore.open(settings.alerts_state_path) as store:
        [alert] = store.alerts().values()
    assert alert.resolved_at == NOW + timedelta(hours=2) and alert.resolved_as_of == AS_OF


def test_a_more_severe_level_escalates_and_a_return_reopens(settings: Settings) -> None:
    build(settings, overdue_case(workers=4))
    run(settings, 1)
    build(settings, overdue_case(workers=12))  # W09 黄 (and W01 opens)
    assert run(settings, 2).count("escalated") == 1
    build(settings, overdue_case(workers=4))
    assert run(settings, 3).count("deescalated") == 1
    build(settings, overdue_case(closed=True, workers=4))
    run(settings, 4)
    build(settings, overdue_case(workers=4))
    assert run(settings, 5).count("reopened") == 1
    _, events = state(settings)
    w09 = [e[1:4] for e in events if e[0] == "W09"]
    assert w09 == [
        ("opened", "蓝", None),
        ("escalated", "黄", "蓝"),
        ("deescalated", "蓝", "黄"),
        ("resolved", "蓝", None),
        ("reopened", "蓝", "蓝"),
    ]
    delivered = [(m["rule_code"], m["event_type"]) for m in outbox(settings)]
    assert ("W09", "deescalated") not in delivered  # recorded, not news
    assert delivered.count(("W09", "escalated")) == 1 and delivered.count(("W09", "reopened")) == 1
    alerts, _ = state(settings)
    assert ("W09", "蓝", "open", KEY) in alerts


def test_the_evaluation_is_relative_to_the_as_of_date(settings: Settings) -> None:
    build(settings, overdue_case())
    assert run(settings, 1, as_of=AS_OF - timedelta(days=6)).firings == 0  # 14 days open then
    assert run(settings, 2).count("opened") == 1


def test_switching_a_rule_off_resolves_its_alerts(settings: Settings, tmp_path: Path) -> None:
    build(settings, overdue_case())
    run(settings, 1)
    text = load_rules().path.read_text(encoding="utf-8")
    off = tmp_path / "rules.yaml"
    off.write_text(
        text.replace("    name: 调解超期\n", "    name: 调解超期\n    enabled: false\n"),
        encoding="utf-8",
    )
    assert run(settings, 2, rules_path=off).count("resolved") == 1
    alerts, _ = state(settings)
    assert alerts == [("W09", "蓝", "resolved", KEY)]


def test_a_failing_rule_changes_nothing(settings: Settings) -> None:
    build(settings, overdue_case())
    run(settings, 1)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("drop table marts.fct_hotline_tickets")
    with pytest.raises(duckdb.CatalogException):
        run(settings, 2)
    alerts, events = state(settings)
    assert alerts == [("W09", "蓝", "open", KEY)] and len(events) == 1


# --- the pure function ----------------------------------------------------------------------


def _firing(level: str, entity: str = "case:1") -> Firing:
    return Firing("W09", "调解超期", "labour", level, S1, entity, "", f"msg {level}", {"n": 1})


def test_reconcile_keeps_the_most_severe_of_duplicate_firings_and_scopes_resolution() -> None:
    ctx = RunContext("r1", AS_OF, NOW)
    [change] = reconcile({}, [_firing("蓝"), _firing("黄"), _firing("蓝")], lambda a: True, ctx)
    assert (
        change.alert.level == "黄"
        and change.event is not None
        and change.event.event_type == "opened"
    )
    existing: dict[str, Alert] = {change.alert.alert_id: change.alert}
    assert reconcile(existing, [], lambda a: False, ctx) == []  # out of scope: left open
    [resolved] = reconcile(existing, [], lambda a: True, ctx)
    assert resolved.alert.status == "resolved" and resolved.event is not None
    assert resolved.event.event_type == "resolved"
    assert change.alert.alert_id == _firing("红").alert_id != _firing("黄", "case:2").alert_id


def test_event_ids_are_derived_from_the_change_not_drawn() -> None:
    from pipelines.alerts.lifecycle import event_id_for

    ctx, later = RunContext("r1", AS_OF, NOW), RunContext("r9", AS_OF + timedelta(days=3), NOW + timedelta(days=3))
    [a] = reconcile({}, [_firing("蓝")], lambda a: True, ctx)
    [b] = reconcile({}, [_firing("蓝")], lambda a: True, later)  # recorded again elsewhen
    assert a.event is not None and b.event is not None and a.event.event_id == b.event.event_id
    assert a.event.event_id == event_id_for(a.alert.alert_id, 0, "opened", "蓝")
    existing = {a.alert.alert_id: a.alert}
    [up] = reconcile(existing, [_firing("黄")], lambda a: True, ctx, {a.alert.alert_id: 1})
    [done] = reconcile(existing, [], lambda a: True, ctx, {a.alert.alert_id: 1})
    ids = {a.event.event_id, up.event.event_id, done.event.event_id}  # type: ignore[union-attr]
    assert len(ids) == 3 and all(len(i) == 32 for i in ids)
    # the same transition at another place in the history is another event
    [again] = reconcile(existing, [], lambda a: True, ctx, {a.alert.alert_id: 3})
    assert again.event is not None and again.event.event_id != done.event.event_id  # type: ignore[union-attr]


def test_open_alerts_for_the_terminal(settings: Settings) -> None:
    from pipelines.alerts import open_alert_lines

    assert open_alert_lines(settings) == ["Open alerts: none"]
    build(settings, overdue_case(workers=40))  # W09 黄 and W01 橙
    run(settings, 1)
    lines = open_alert_lines(settings)
    assert lines[0] == "Open alerts: 2 warning(s) (橙 1, 黄 1), 0 operator alert(s)"
    assert lines[1].startswith("  【橙色预警】集体劳动争议") and lines[2].startswith(
        "  【黄色预警】调解超期"
    )
    assert open_alert_lines(settings, limit=1)[-1].startswith("  ... and 1 more")


def test_the_state_tables_can_be_created_empty_elsewhere(settings: Settings) -> None:
    from pipelines.alert_state import schema_sql
    from pipelines.alerts.store import ALERT_COLUMNS, EVENT_COLUMNS

    with duckdb.connect() as con:
        con.execute("create schema alerts")
        con.execute(schema_sql("alerts"))
        cols = {
            t: [r[0] for r in con.execute(f"describe alerts.{t}").fetchall()]
            for t in ("alerts", "alert_events")
        }
    assert cols["alerts"] == ALERT_COLUMNS
    assert cols["alert_events"] == ["event_id", "event_seq", *EVENT_COLUMNS[1:]]
