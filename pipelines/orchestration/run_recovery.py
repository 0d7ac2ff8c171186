"""Runs whose process died: mark them failed and give back their pool slots.

A run killed outright (SIGKILL, OOM killer, a pulled plug) never writes its own
failure, so the instance keeps it STARTED and the ``warehouse_writer`` pool slot it
claimed stays claimed: every later run then waits for that slot forever. Dagster's run
monitoring cannot see this for the default run launcher (it has no worker health
check) nor for ``union-warehouse run`` (in-process, no launcher at all).

So every run of this project says where it runs: the job tags carry ``union/host``;
the CLI adds ``union/pid``; the run's RUN_START event records the pid of the process
executing it. A run on this host whose process no longer exists, or is a different
process that reused the pid, is dead: it is reported failed and its slots are freed.
Runs of other hosts (a shared Postgres instance) are never touched.

Called before every ``union-warehouse run`` and by the ``reclaim_dead_runs`` sensor
under ``dagster dev``.
"""

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

log = logging.getLogger("union_warehouse.recovery")

HOST_TAG = "union/host"
PID_TAG = "union/pid"
LIVE_STATUSES = (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.CANCELING)


def this_host() -> str:
    return socket.gethostname()


def owner_tags() -> dict[str, str]:
    """Tags every job of the project carries (the host its runs execute on)."""
    return {HOST_TAG: this_host()}


def _clock_ticks() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (ValueError, OSError, AttributeError):
        return 100


def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def process_started_at(pid: int) -> float | None:
    """Unix time the process ``pid`` started, or None when unknown (not Linux)."""
    boot = _boot_time()
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    if boot is None:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after the last ')'
    fields = stat[stat.rfind(")") + 2 :].split()
    return boot + int(fields[19]) / _clock_ticks()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def process_is(pid: int, started_by: float | None) -> bool:
    """Whether ``pid`` is alive *and* plausibly the process that started the run at
    ``started_by`` (a process started after the run did is a pid reuse, not the run)."""
    if not pid_alive(pid):
        return False
    if started_by is None:
        return True
    began = process_started_at(pid)
    return began is None or began <= started_by + 2.0  # clock-tick rounding


@dataclass(frozen=True)
class RunView:
    """What the decision needs to know about one run."""

    run_id: str
    status: dg.DagsterRunStatus
    host: str | None
    pid: int | None  # from the RUN_START event, else the union/pid tag
    pid_seen_at: float | None  # when that pid was known to run it (its process began before)


def is_dead(run: RunView, host: str, alive: Callable[[int, float | None], bool]) -> bool:
    """A run is dead when it is live in the instance, ran on this host, and its process
    is gone. Without a host or a pid nothing can be known: the run is left alone."""
    if run.status not in LIVE_STATUSES or run.host != host or run.pid is None:
        return False
    return not alive(run.pid, run.pid_seen_at)


def _view(instance: dg.DagsterInstance, record: dg.RunRecord) -> RunView:
    run = record.dagster_run
    pid: int | None = None
    seen_at: float | None = None
    started = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_START, limit=1).records
    if started and started[0].event_log_entry.dagster_event is not None:
        pid = started[0].event_log_entry.dagster_event.pid
        seen_at = started[0].event_log_entry.timestamp
    if pid is None and run.tags.get(PID_TAG, "").isdigit():
        # the CLI's own process, which existed before it created the run
        pid = int(run.tags[PID_TAG])
        seen_at = record.create_timestamp.timestamp() if record.create_timestamp else None
    return RunView(run.run_id, run.status, run.tags.get(HOST_TAG), pid, seen_at)


def reclaim_dead_runs(
    instance: dg.DagsterInstance,
    *,
    host: str | None = None,
    alive: Callable[[int, float | None], bool] = process_is,
) -> list[str]:
    """Report every dead run of this host failed and free its concurrency slots.
    Returns the run ids reclaimed."""
    host = host or this_host()
    reclaimed: list[str] = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=list(LIVE_STATUSES))):
        view = _view(instance, record)
        if not is_dead(view, host, alive):
            continue
        instance.report_run_failed(
            record.dagster_run,
            message=f"the process running it (pid {view.pid}) no longer exists; "
            "marked failed and its pool slots freed",
        )
        instance.event_log_storage.free_concurrency_slots_for_run(view.run_id)
        log.warning("reclaimed dead run %s (pid %s): failed, pool slots freed", view.run_id, view.pid)
        reclaimed.append(view.run_id)
    return reclaimed


def build_reclaim_sensor() -> dg.SensorDefinition:
    @dg.sensor(
        name="reclaim_dead_runs",
        minimum_interval_seconds=60,
        description="Marks runs whose process was killed as failed and frees the pool "
        "slots they held, so the next run does not wait forever.",
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def reclaim_dead_runs_sensor(context: dg.SensorEvaluationContext):
        reclaimed = reclaim_dead_runs(context.instance)
        if reclaimed:
            return dg.SkipReason(f"reclaimed {len(reclaimed)} dead run(s): {', '.join(reclaimed)}")
        return dg.SkipReason("no dead runs")

    return reclaim_dead_runs_sensor
