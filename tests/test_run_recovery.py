"""A run whose process is killed outright must not block the next run forever.

The real thing: a child process runs a one-op job that claims the ``warehouse_writer``
pool slot and sleeps; the test SIGKILLs it. The instance still says STARTED and the
slot is still claimed (that is the bug being guarded against), then
``reclaim_dead_runs`` marks the run failed, frees the slot, and a new run goes through.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.orchestration.run_recovery import (
    HOST_TAG,
    PID_TAG,
    RunView,
    is_dead,
    process_is,
    reclaim_dead_runs,
    this_host,
)

from .helpers import instance_home

ROOT = Path(__file__).resolve().parents[1]
POOL = "warehouse_writer"

JOB_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    import dagster as dg

    @dg.op(pool="warehouse_writer")
    def write_warehouse():
        print("CLAIMED", flush=True)
        time.sleep(float(sys.argv[1]))

    @dg.job(executor_def=dg.in_process_executor)
    def writer():
        write_warehouse()

    with dg.DagsterInstance.get() as instance:
        result = writer.execute_in_process(instance=instance, tags={%(tags)s})
        print("DONE", result.success, flush=True)
    """
)


def _script(tags: dict[str, str]) -> str:
    return JOB_SCRIPT % {"tags": ", ".join(f"{k!r}: {v!r}" for k, v in tags.items())}


def _home(tmp_path: Path) -> Path:
    return instance_home(tmp_path / "dagster")


def _start(home: Path, tags: dict[str, str], sleep_s: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _script(tags), str(sleep_s)],
        env={**os.environ, "DAGSTER_HOME": str(home)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _wait_for_line(proc: subprocess.Popen[str], token: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if line.startswith(token):
            return line
    raise AssertionError(f"no {token!r} from the child: {''.join(seen)[-2000:]}")


def _claimed(instance: dg.DagsterInstance) -> set[str]:
    return {s.run_id for s in instance.event_log_storage.get_concurrency_info(POOL).claimed_slots}


# --- the decision, without processes ------------------------------------------------------


def _view(**kw) -> RunView:  # type: ignore[no-untyped-def]
    base = dict(run_id="r1", status=dg.DagsterRunStatus.STARTED, host="h1", pid=4242, pid_seen_at=1.0)
    return RunView(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("view", "alive", "dead"),
    [
        (_view(), False, True),  # our host, process gone
        (_view(), True, False),  # still running
        (_view(host="h2"), False, False),  # another host's run: never touched
        (_view(host=None), False, False),  # no host recorded: unknown, left alone
        (_view(pid=None), False, False),  # no pid recorded: unknown, left alone
        (_view(status=dg.DagsterRunStatus.FAILURE), False, False),  # already ended
        (_view(status=dg.DagsterRunStatus.QUEUED), False, False),  # not started yet
        (_view(status=dg.DagsterRunStatus.STARTING), False, True),
    ],
)
def test_which_runs_are_dead(view: RunView, alive: bool, dead: bool) -> None:
    assert is_dead(view, "h1", lambda pid, at: alive) is dead


def test_a_pid_reused_by_a_newer_process_is_not_the_run() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not process_is(child.pid, time.time())  # gone
    assert process_is(os.getpid(), time.time())  # this process, started before now
    # a run seen running long before this process began cannot be this process
    assert not process_is(os.getpid(), time.time() - 10 * 365 * 86400)


# --- the real thing ---------------------------------------------------------------------


TAGS = {"union/trigger": "cli", HOST_TAG: this_host()}


def _kill_a_writer(tmp_path: Path) -> Path:
    """A run killed while holding the writer slot; returns its DAGSTER_HOME."""
    home = _home(tmp_path)
    victim = _start(home, {**TAGS, PID_TAG: "0"}, sleep_s=600)
    _wait_for_line(victim, "CLAIMED")
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    return home


def test_a_killed_run_is_failed_and_its_writer_slot_freed(tmp_path: Path) -> None:
    home = _kill_a_writer(tmp_path)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (record,) = instance.get_run_records()
        run_id = record.dagster_run.run_id
        # what a kill leaves behind: a run that looks alive and holds the writer slot
        assert record.dagster_run.status == dg.DagsterRunStatus.STARTED
        assert run_id in _claimed(instance)

        # a live run of another host and a run of this host still running are left alone
        assert reclaim_dead_runs(instance, host="another-host") == []
        assert reclaim_dead_runs(instance, alive=lambda pid, at: True) == []
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED

        assert reclaim_dead_runs(instance) == [run_id]
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
        assert run_id not in _claimed(instance)
        failure = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
        assert "no longer exists" in (failure[0].event_log_entry.dagster_event.message or "")
        assert reclaim_dead_runs(instance) == []  # once only

    # the next run gets the slot and finishes
    follower = _start(home, TAGS, sleep_s=0)
    try:
        out, _ = follower.communicate(timeout=180)  # would wait forever for a held slot
    finally:
        follower.kill()
    assert "DONE True" in out, out[-2000:]


def test_the_sensor_reclaims_a_killed_run_under_dagster_dev(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    from pipelines.definitions import build_definitions

    home = _kill_a_writer(tmp_path)
    sensor = build_definitions(settings).resolve_sensor_def("reclaim_dead_runs")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (record,) = instance.get_run_records()
        with dg.build_sensor_context(instance=instance) as context:
            result = sensor.evaluate_tick(context)
        assert record.dagster_run.run_id in (result.skip_message or "")
        assert instance.get_run_by_id(record.dagster_run.run_id).status == dg.DagsterRunStatus.FAILURE
        assert _claimed(instance) == set()
        with dg.build_sensor_context(instance=instance) as context:
            assert sensor.evaluate_tick(context).skip_message == "no dead runs"
