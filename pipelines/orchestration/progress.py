"""What ``union-warehouse run`` prints while a run goes: a line when each step starts and
one when it ends, with its counts and seconds, e.g.::

    [12:03:05] 入库 ingest_submissions: 136 files (134 loaded, 1 rejected, 1 duplicate); rows 1190 of 1195 loaded, 5 quarantined in 9.4 s

The counts are the ones the steps already report to Dagster (the metadata of their
materializations and check results), read from the run's events as Dagster logs them:
:func:`progress_logger` is a Dagster logger the CLI adds to its in-process run. dbt's
outcome comes from the summary the ``warehouse_models`` step logs
(:mod:`pipelines.orchestration.dbt_log`). Counts, seconds and file references only:
never a value, a person's name or a file's own name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import dagster as dg

from .dbt_log import SUMMARY_ATTR, DbtSummary

INGEST_PROGRESS_ATTR = "union_ingest_progress"  # (files done, files pending) on a log record
PROGRESS_EVERY_S = 15.0  # the least time between two "n/N files" lines

# A word for each step, in the operators' language.
STEP_LABELS = {
    "ingest_submissions": "入库",
    "quality_suites": "质检",
    "audit__receipts": "回执",
    "warehouse_models": "建模",
    "alerts__alert_state": "预警",
    "indicator_gates": "指标校验",
    "published__warehouse": "发布",
    "reports__dbt_docs": "模型文档",
    "reports__indicator_exports": "导出",
}


@dataclass
class StepSeen:
    """What a step reported so far: its materializations' metadata (by asset key), its
    check results, dbt's summary."""

    materialized: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: list[tuple[str, bool, dict[str, Any]]] = field(default_factory=list)
    dbt: DbtSummary | None = None

    def add_materialization(self, key: str, metadata: Mapping[str, Any]) -> None:
        self.materialized[key] = {k: getattr(v, "value", v) for k, v in metadata.items()}

    def add_check(self, name: str, passed: bool, metadata: Mapping[str, Any]) -> None:
        self.checks.append((name, passed, {k: getattr(v, "value", v) for k, v in metadata.items()}))

    def of(self, key: str) -> dict[str, Any]:
        return self.materialized.get(key, {})


def _ingested(seen: StepSeen) -> str:
    m = seen.of("audit/ingestion_ledger")
    if not m.get("files_processed"):
        return "no new file in the drop zone"
    failed = m.get("files_failed_internal_error", 0)
    return (f"{m.get('files_processed', 0)} files ({m.get('files_loaded', 0)} loaded, "
            f"{m.get('files_rejected', 0)} rejected, {m.get('files_duplicate', 0)} duplicate"
            f"{f', {failed} failed' if failed else ''}); rows {m.get('rows_loaded', 0)} of "
            f"{m.get('rows_read', 0)} loaded, {m.get('rows_quarantined', 0)} quarantined")


def _checked(seen: StepSeen) -> str:
    ran = [m for _, _, m in seen.checks if m.get("submissions_checked")]
    if not ran:
        return "no new submission to check"
    held = sum(m.get("submissions_held_back", 0) for m in ran)
    return (f"{len(ran)} suites run on {sum(m['submissions_checked'] for m in ran)} submissions, "
            f"{sum(m.get('expectations_evaluated', 0) for m in ran)} expectations, "
            f"{sum(m.get('expectations_failed', 0) for m in ran)} not met; {held} submission(s) held back")


def _receipts(seen: StepSeen) -> str:
    m = seen.of("audit/receipts")
    return f"{m.get('receipts_written', 0)} receipts for {m.get('streets', 0)} streets"


def _built(seen: StepSeen) -> str:
    current = sum(1 for m in seen.materialized.values() if m.get("rebuilt") is False)
    if seen.dbt is None:
        return f"nothing changed since the last build: dbt not started ({current} models current)"
    kept = f" ({current} current, not rebuilt)" if current else ""
    return seen.dbt.counts().replace(" built;", f" built{kept};", 1)


def _alerts(seen: StepSeen) -> str:
    m = seen.of("alerts/alert_state")
    return (f"{m.get('open_alerts', 0)} open alerts ({m.get('opened', 0)} opened, "
            f"{m.get('escalated', 0)} escalated, {m.get('resolved', 0)} resolved)")


def _gates(seen: StepSeen) -> str:
    failed = [name for name, passed, _ in seen.checks if not passed]
    said = f"{len(seen.checks) - len(failed)} of {len(seen.checks)} checks passed"
    return said + (f"; failed: {', '.join(failed)}" if failed else "")


def _published(seen: StepSeen) -> str:
    m = seen.of("published/warehouse")
    return (f"publish {m.get('publish_id', '?')}: {m.get('indicator_rows', 0)} indicator rows "
            f"({m.get('versions_appended', 0)} new versions), {m.get('submissions_included', 0)} submissions")


def _docs(seen: StepSeen) -> str:
    m = seen.of("reports/dbt_docs")
    return "model reference regenerated" if m.get("regenerated") else "model reference unchanged, kept"


def _exports(seen: StepSeen) -> str:
    m = seen.of("reports/indicator_exports")
    return f"{m.get('indicator_rows', 0)} indicator rows to the spreadsheet and the report"


SAYS: dict[str, Callable[[StepSeen], str]] = {
    "ingest_submissions": _ingested,
    "quality_suites": _checked,
    "audit__receipts": _receipts,
    "warehouse_models": _built,
    "alerts__alert_state": _alerts,
    "indicator_gates": _gates,
    "published__warehouse": _published,
    "reports__dbt_docs": _docs,
    "reports__indicator_exports": _exports,
}


def _generic(seen: StepSeen) -> str:
    return f"{len(seen.materialized)} assets, {len(seen.checks)} checks"


class RunProgress(logging.Handler):
    """Turns the run's Dagster events into the progress lines, written to ``stream``."""

    def __init__(self, stream: IO[str], clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(logging.DEBUG)
        self._stream = stream
        self._clock = clock
        self._steps: dict[str, StepSeen] = {}
        self._said_progress = clock()

    def say(self, text: str) -> None:
        self._stream.write(f"[{datetime.now():%H:%M:%S}] {text}\n")
        self._stream.flush()

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        step = meta.get("step_key") or ""
        summary = getattr(record, SUMMARY_ATTR, None)
        if isinstance(summary, DbtSummary):
            self._steps.setdefault(step, StepSeen()).dbt = summary
        files = getattr(record, INGEST_PROGRESS_ATTR, None)
        if files is not None:
            self._ingest_progress(step, *files)
        event = meta.get("dagster_event")
        if event is not None:
            self._event(step, event, str(meta.get("run_id") or ""))

    def _ingest_progress(self, step: str, done: int, pending: int) -> None:
        now = self._clock()
        if done < pending and now - self._said_progress >= PROGRESS_EVERY_S:
            self._said_progress = now
            self.say(f"{_name(step)}: {done}/{pending} files")

    def _event(self, step: str, event: Any, run_id: str) -> None:  # a DagsterEvent
        kind = event.event_type_value
        data = event.event_specific_data
        seen = self._steps.setdefault(step, StepSeen())
        if kind == "PIPELINE_START":
            self.say(f"run {run_id} started")
        elif kind == "STEP_START":
            self._said_progress = self._clock()
            self.say(f"{_name(step)}: started")
        elif kind == "ASSET_MATERIALIZATION":
            seen.add_materialization(data.materialization.asset_key.to_user_string(), data.materialization.metadata)
        elif kind == "ASSET_CHECK_EVALUATION":
            seen.add_check(data.check_name, data.passed, data.metadata)
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            self._ended(step, seen, kind == "STEP_SUCCESS", (getattr(data, "duration_ms", None) or 0) / 1000)
        elif kind == "STEP_SKIPPED":
            self.say(f"{_name(step)}: skipped (nothing upstream to build on)")

    def _ended(self, step: str, seen: StepSeen, ok: bool, seconds: float) -> None:
        """The step's line (dbt's time and log file after a build), then the dbt tests that
        warned or failed, named, indented under it."""
        said = SAYS.get(step, _generic)(seen)
        dbt = f" (dbt {seen.dbt.seconds} s); dbt log: {seen.dbt.log}" if seen.dbt is not None else ""
        if ok:
            self.say(f"{_name(step)}: {said} in {seconds:.1f} s{dbt}")
        else:
            self.say(f"{_name(step)}: FAILED after {seconds:.1f} s ({said}){dbt}; the reason is given at the end")
        for line in seen.dbt.detail_lines() if seen.dbt is not None else []:
            self._stream.write(f"    {line}\n")
        self._stream.flush()


def _name(step: str) -> str:
    label = STEP_LABELS.get(step)
    return f"{label} {step}" if label else step


def progress_logger(stream: IO[str]) -> dg.LoggerDefinition:
    """A Dagster logger printing the run's progress lines to ``stream`` (configure it in
    the run config under ``loggers: {progress: {}}``)."""

    @dg.logger(description="union-warehouse's progress lines: each step's start and end, with counts")
    def progress(init_context: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger("union_warehouse.progress", level=logging.DEBUG)
        logger.addHandler(RunProgress(stream))
        return logger

    return progress
