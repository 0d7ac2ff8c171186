"""One alert run: evaluate, record the lifecycle, deliver. Also the run-failure path.

    report = run_alerts(settings, as_of=date(2015, 12, 31), run_id="...", sinks=[...])

reads the warning rules' findings in the working warehouse read-only (as built: ``as_of``
must be the build's as-of date, or None for "as of the build"), the ledger and the quality verdicts; writes only
the alert state file and the sinks.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import duckdb

from pipelines.config import Settings
from pipelines.disk import is_disk_full, release_reserve
from pipelines.ingest.ledger import read_ledger
from pipelines.quality.verdicts import blocked_submissions

from .evaluate import built_as_of, evaluate_labour, evaluate_operator, evaluated_codes, fire
from .levels import LEVELS
from .lifecycle import Change, reconcile
from .model import OPEN, Alert, Firing, RunContext
from .modes import DATA_THROUGH_SQL, Mode, data_grace_days, run_mode
from .rulefile import RuleSet, load_rules
from .rules import OPERATOR_LOGIC, RUN_FAILED, OperatorInputs, run_failure
from .sinks import Outcomes, Sink
from .store import AlertStore

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@dataclass
class AlertRunReport:
    """Counts of one run (no personal data): for logs and Dagster metadata."""

    firings: int = 0
    events: Counter[tuple[str, str]] = field(default_factory=Counter)  # (event type, level)
    open_by_level: dict[str, int] = field(default_factory=dict)
    open_by_kind: dict[str, int] = field(default_factory=dict)
    delivered: dict[str, int] = field(default_factory=dict)  # this run, per sink
    failed: dict[str, int] = field(default_factory=dict)
    still_due: dict[str, int] = field(default_factory=dict)  # after this run, per sink
    timings: dict[str, float] = field(default_factory=dict)
    mode: Mode | None = None  # live / backfill / what-if (None: a run-failure record)
    as_of: date | None = None  # the date evaluated as of
    whatif: int = 0  # labour firings written to alert_whatif instead of the live alerts

    def count(self, event_type: str) -> int:
        return sum(n for (kind, _), n in self.events.items() if kind == event_type)

    def metadata(self) -> dict[str, Any]:
        by_level = {
            f"{kind}_by_level": {lv: self.events.get((kind, lv), 0) for lv in LEVELS}
            for kind in ("opened", "escalated", "reopened", "resolved")
        }
        return {
            "mode": self.mode.mode if self.mode else None,
            "mode_reason": self.mode.reason if self.mode else None,
            "data_through": str(self.mode.data_through) if self.mode else None,
            "whatif_alerts": self.whatif,
            "firings": self.firings,
            "open_alerts": sum(self.open_by_level.values()),
            "open_by_level": {lv: self.open_by_level.get(lv, 0) for lv in LEVELS},
            "open_by_kind": self.open_by_kind,
            "opened": self.count("opened"),
            "escalated": self.count("escalated"),
            "deescalated": self.count("deescalated"),
            "reopened": self.count("reopened"),
            "resolved": self.count("resolved"),
            **by_level,
            "delivered": self.delivered,
            "delivery_failures": self.failed,
            "deliveries_due": self.still_due,
            "timings_s": self.timings,
        }


def deliver_pending(
    store: AlertStore, sinks: Sequence[Sink], now: datetime, report: AlertRunReport
) -> None:
    """Send each sink what it is owed now, oldest first, and record each outcome.

    What is owed is worked out per sink at delivery time (:meth:`AlertStore.add_due`),
    so a sink configured late still learns of the open alerts. A failed delivery waits
    out its back-off (:func:`~pipelines.alerts.store.retry_delay`). The sinks send at the
    same time, each in a thread of its own, so a slow or unreachable one (which gives up
    within its own time budget) holds back none of the others; the outcomes are
    recorded here, on this thread, once all have returned."""
    for sink in sinks:
        heal = getattr(sink, "heal", None)  # a sink that keeps a file repairs it first
        if heal is not None:
            heal()
    store.add_due([s.name for s in sinks])
    batches = {s.name: store.pending(s.name, now) for s in sinks}
    todo = [s for s in sinks if batches[s.name]]
    results: dict[str, Outcomes] = {}
    errors: list[BaseException] = []
    if todo:
        with ThreadPoolExecutor(max_workers=len(todo), thread_name_prefix="alert-sink") as pool:
            futures = {
                s.name: pool.submit(s.send, [event.payload(alert) for event, alert in batches[s.name]])
                for s in todo
            }
            for name, future in futures.items():
                try:
                    results[name] = future.result()
                except Exception as exc:  # a broken sink: record the others, then fail the run
                    errors.append(exc)
    for name, outcomes in results.items():
        store.record_attempts(name, outcomes, now)
        report.delivered[name] = sum(err is None for err in outcomes.values())
        report.failed[name] = sum(err is not None for err in outcomes.values())
    counts = store.delivery_counts()
    report.still_due = {
        s.name: sum(n for st, n in counts.get(s.name, {}).items() if st != "delivered")
        for s in sinks
    }
    if errors:
        raise errors[0]


def _record(
    store: AlertStore,
    firings: Sequence[Firing],
    in_scope: Callable[[Alert], bool],
    ctx: RunContext,
    sinks: Sequence[Sink],
    report: AlertRunReport,
) -> list[Change]:
    changes = reconcile(store.alerts(), firings, in_scope, ctx, store.event_counts())
    store.apply(changes, [s.name for s in sinks])
    report.firings = len(firings)
    report.events = Counter(
        (c.event.event_type, c.event.level) for c in changes if c.event is not None
    )
    opened = store.open_alerts()
    report.open_by_level = dict(Counter(a.level for a in opened))
    report.open_by_kind = dict(Counter(a.rule_kind for a in opened))
    return changes


def run_alerts(
    settings: Settings,
    *,
    as_of: date | None,
    run_id: str,
    sinks: Sequence[Sink],
    rules: RuleSet | None = None,
    job_name: str | None = None,
    now: datetime | None = None,
) -> AlertRunReport:
    """Evaluate every enabled rule, update the alert state, deliver the news.

    ``as_of`` is the date the warehouse was built as of (the warning rules' findings are
    computed by the build; another date is :class:`~pipelines.alerts.evaluate.FindingsOutOfDate`),
    or None to take the build's: a run that began before midnight and reaches its alerts
    after it still evaluates the date it built.

    The warning rules' firings update the live alerts only when the evaluation is live
    (:func:`~pipelines.alerts.modes.run_mode`); a backfill or what-if writes them to
    ``alert_whatif`` and touches no live warning. The operator rules are live always.

    Resolves: open alerts of the batch-evaluated rules that no longer fire (and of
    disabled rules), the warnings only in a live evaluation, and, with ``job_name``,
    that job's OPS_RUN_FAILED alert (this run got this far, so the job works again)."""
    rules = rules or load_rules()
    now = now or utc_now()
    grace = data_grace_days()
    report = AlertRunReport()
    t0 = time.perf_counter()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        as_of = as_of or built_as_of(con)
        labour = evaluate_labour(con, as_of, rules)
        [(data_through,)] = con.execute(DATA_THROUGH_SQL).fetchall()
    t1 = time.perf_counter()
    inputs = OperatorInputs(read_ledger(settings.ledger_path), blocked_submissions(settings), now)
    operator = evaluate_operator(inputs, rules)
    t2 = time.perf_counter()
    codes = evaluated_codes(rules)
    operator_codes = {code for code in codes if code in OPERATOR_LOGIC}

    with AlertStore.open(settings.alerts_state_path, settings.published_path) as store:
        mode = run_mode(as_of, store.live_as_of(), data_through, grace)
        scope = codes if mode.live else operator_codes

        def in_scope(a: Alert) -> bool:
            return a.rule_code in scope or (
                a.rule_code == RUN_FAILED and a.entity_key == f"job:{job_name}"
            )

        firings = [*labour, *operator] if mode.live else operator
        report.whatif = store.record_evaluation(mode, run_id, now, labour)
        report.mode = mode
        report.as_of = as_of
        _record(store, firings, in_scope, RunContext(run_id, as_of, now), sinks, report)
        if not mode.live:
            log.info("alerts as of %s: %s (%s); %d warning(s) written to alert_whatif, "
                     "the live warnings untouched", as_of, mode.mode, mode.reason, report.whatif)
        t3 = time.perf_counter()
        deliver_pending(store, sinks, now, report)
    t4 = time.perf_counter()
    report.timings = {
        "evaluate_warehouse": round(t1 - t0, 3),
        "evaluate_operator": round(t2 - t1, 3),
        "record": round(t3 - t2, 3),
        "deliver": round(t4 - t3, 3),
    }
    return report


def record_run_failure(
    settings: Settings,
    *,
    job_name: str,
    run_id: str,
    failed_steps: Sequence[str],
    error: str,
    as_of: date,
    sinks: Sequence[Sink],
    rules: RuleSet | None = None,
    now: datetime | None = None,
) -> AlertRunReport:
    """Open (or update) the job's OPS_RUN_FAILED alert and deliver it: the run-failure
    sensor calls this; a command line that runs a job in-process may too."""
    rules = rules or load_rules()
    now = now or utc_now()
    rule = rules[RUN_FAILED]

    def attempt() -> AlertRunReport:
        report = AlertRunReport()
        # a damaged state file is healed on opening: the operators' alert still goes out
        with AlertStore.open(settings.alerts_state_path, settings.published_path) as store:
            firings: list[Firing] = []
            if rule.enabled:
                current = next(
                    (
                        a
                        for a in store.alerts(OPEN).values()
                        if a.rule_code == RUN_FAILED and a.entity_key == f"job:{job_name}"
                    ),
                    None,
                )
                previous = json.loads(current.evidence) if current else None
                firing = fire(run_failure(job_name, run_id, failed_steps, error, previous), rule)
                firings = [firing] if firing else []
            _record(store, firings, lambda a: False, RunContext(run_id, as_of, now), sinks, report)
            deliver_pending(store, sinks, now, report)
        return report

    try:
        return attempt()
    except Exception as exc:
        # the state and the outbox live on the data disk: when it is full, the space
        # reserve kept for this moment is given up and the alert recorded and sent
        if not (is_disk_full(exc, settings.data_dir) and release_reserve(settings.data_dir)):
            raise
    return attempt()
