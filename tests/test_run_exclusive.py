"""One pipeline run at a time, from its first step to its last (run_lock.py).

The real thing: two ``union-warehouse run`` processes started together on the same
directories, with different as-of dates. One waits for the other (and says so, naming
it), then does only what is left: each file is in the ledger once, one run reports the
files, the other 0, and each publish carries the as-of date and run id of the run that
built it (before, the steps interleaved and a run published another's build under its
own name). And a holder killed with SIGKILL gives the lock back: the next run proceeds,
its step not blocked by the dead run's writer slot.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from pipelines.config import Settings
from pipelines.ingest.ledger import read_ledger
from pipelines.orchestration.run_lock import (
    EXCLUSIVE_TAGS,
    RESOURCE_KEY,
    holds_pipeline_lock,
    pipeline_lock,
    read_holder,
)
from pipelines.orchestration.run_recovery import HOST_TAG, PID_TAG
from pipelines.publish.history import HistoryStore

from .conftest import drop
from .helpers import instance_home
from .test_dagster_pipeline import members_csv

ROOT = Path(__file__).resolve().parents[1]
A, B = "110101001", "110101002"
AS_OF = ("2024-12-31", "2024-11-30")
NAMED = "王小明_110101199003071234.csv"  # a street naming its file after a person


def _home(root: Path) -> Path:
    return instance_home(root / "dagster_home")


def _wait_for(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


# --- the jobs: the lock, the hook, the queue --------------------------------------------------


def test_the_writing_jobs_hold_the_lock_for_the_whole_run(settings: Settings) -> None:
    from dagster._core.execution.api import create_execution_plan
    from dagster._core.execution.resources_init import get_required_resource_keys_to_init

    from pipelines.definitions import PIPELINE_JOB, build_definitions
    from pipelines.orchestration.exports import MONTHLY_EXPORT_JOB, NIGHTLY_JOB

    defs = build_definitions(settings)
    for name in (PIPELINE_JOB, NIGHTLY_JOB):
        job = defs.resolve_job_def(name)
        assert holds_pipeline_lock in job.hook_defs
        assert job.executor_def.name == "in_process"  # resources set up once per run, not per step
        assert EXCLUSIVE_TAGS.items() <= job.tags.items()
        assert RESOURCE_KEY in get_required_resource_keys_to_init(create_execution_plan(job), job)
    assert holds_pipeline_lock not in defs.resolve_job_def(MONTHLY_EXPORT_JOB).hook_defs  # reads only


def test_the_daemon_starts_one_exclusive_run_at_a_time(tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_bytes((ROOT / "dagster.yaml").read_bytes())
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    [(key, value)] = EXCLUSIVE_TAGS.items()
    assert {"key": key, "value": value, "limit": 1} in limits


# --- a killed holder ------------------------------------------------------------------------

LOCKED_JOB = textwrap.dedent(
    """
    import sys, time
    import dagster as dg
    from pipelines.orchestration.run_lock import PipelineLock, holds_pipeline_lock

    @dg.op(pool="warehouse_writer")
    def write_warehouse():
        print("CLAIMED", flush=True)
        time.sleep(float(sys.argv[2]))

    @dg.job(executor_def=dg.in_process_executor, hooks={holds_pipeline_lock},
            resource_defs={"pipeline_lock": PipelineLock(data_dir=sys.argv[1])})
    def writer():
        write_warehouse()

    with dg.DagsterInstance.get() as instance:
        result = writer.execute_in_process(instance=instance, tags={%(tags)s})
        print("DONE", result.success, flush=True)
    """
) % {"tags": f"{HOST_TAG!r}: {socket.gethostname()!r}"}


def _locked_job(home: Path, data: Path, sleep_s: float, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", LOCKED_JOB, str(data), str(sleep_s)], cwd=ROOT,
        env={**os.environ, "DAGSTER_HOME": str(home)}, stdout=out.open("wb"), stderr=subprocess.STDOUT,
    )


def test_a_holder_killed_with_sigkill_lets_the_next_run_proceed(tmp_path: Path) -> None:
    """The holder claims the writer slot too (as a run killed mid-build does): the next
    run waits on the lock naming it, gets the lock when it dies, frees its slot (the dead
    run is marked failed) and runs its step."""
    home, data = _home(tmp_path), tmp_path / "data"
    first_out, second_out = tmp_path / "first.out", tmp_path / "second.out"
    first = _locked_job(home, data, 600, first_out)
    second = None
    try:
        _wait_for(lambda: "CLAIMED" in first_out.read_text(), 120, "the first run's step")
        holder = read_holder(data)
        assert holder is not None and holder.pid == first.pid
        second = _locked_job(home, data, 0, second_out)
        _wait_for(lambda: "waiting for run" in second_out.read_text(), 120, "the second run to wait")
        time.sleep(1)
        text = second_out.read_text()
        assert f"waiting for run {holder.run_id} (pid {first.pid} on {socket.gethostname()}" in text
        assert "CLAIMED" not in text  # its step has not started: the whole run waits
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        assert second.wait(120) == 0, second_out.read_text()
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
    text = second_out.read_text()
    assert "CLAIMED" in text and "DONE True" in text
    assert len([line for line in text.splitlines() if line.startswith("waiting for")]) == 1
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_run_by_id(holder.run_id).status == dg.DagsterRunStatus.FAILURE
    assert read_holder(data) is None  # the lock is free again, and says so


def test_the_lock_is_released_for_the_next_taker_when_the_holder_returns(tmp_path: Path) -> None:
    with pipeline_lock(tmp_path, "run-1") as waited:
        assert waited is None
        assert read_holder(tmp_path).run_id == "run-1"
    with pipeline_lock(tmp_path, "run-2") as waited:
        assert waited is None
    assert read_holder(tmp_path) is None


# --- two real runs started together ----------------------------------------------------------


@dataclass
class Ran:
    settings: Settings
    home: Path
    outputs: dict[str, str]  # as-of -> stdout + stderr
    stdout: dict[str, str]
    pids: dict[str, int]
    seconds: float


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    root = tmp_path_factory.mktemp("exclusive")
    settings = Settings(raw_dir=root / "raw", data_dir=root / "data", pii_key="test-key")
    settings.inbox.mkdir(parents=True)
    home = _home(root)
    drop(settings, A, "members", NAMED, members_csv(6, "2024-06-30", A))
    drop(settings, B, "members", "m.csv", members_csv(5, "2024-06-30", B, start=50))
    drop(settings, B, "dispute_cases", "bad.csv", "案件编号,受理日期\nC2,2024-07-01\n")  # rejected
    env = {**os.environ, "UNION_RAW_DIR": str(settings.raw_dir), "UNION_DATA_DIR": str(settings.data_dir),
           "DAGSTER_HOME": str(home), "UNION_PII_KEY": "test-key", "UNION_LOG_LEVEL": "WARNING"}
    started = time.monotonic()
    procs = {
        as_of: subprocess.Popen([sys.executable, "-m", "pipelines.cli", "run", "--as-of", as_of], cwd=ROOT, env=env,
                                stdout=(root / f"{as_of}.out").open("wb"), stderr=(root / f"{as_of}.err").open("wb"))
        for as_of in AS_OF
    }
    try:
        codes = {as_of: proc.wait(1500) for as_of, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
    stdout = {as_of: (root / f"{as_of}.out").read_text(errors="replace") for as_of in AS_OF}
    outputs = {as_of: stdout[as_of] + (root / f"{as_of}.err").read_text(errors="replace") for as_of in AS_OF}
    assert codes == {as_of: 0 for as_of in AS_OF}, outputs
    return Ran(settings, home, outputs, stdout, {as_of: p.pid for as_of, p in procs.items()},
               time.monotonic() - started)


def _cli_runs(ran: Ran) -> dict[str, dg.DagsterRun]:
    """as-of -> the Dagster run of the CLI process started with it."""
    with dg.DagsterInstance.from_config(str(ran.home)) as instance:
        runs = instance.get_runs()
    by_pid = {run.tags.get(PID_TAG): run for run in runs}
    return {as_of: by_pid[str(pid)] for as_of, pid in ran.pids.items()}


def test_both_runs_succeed_and_each_file_is_ledgered_once(two_runs: Ran) -> None:
    entries = read_ledger(two_runs.settings.ledger_path)
    assert sorted(e.path.rsplit("/", 2)[-2] + "/" + e.path.rsplit("/", 1)[-1] for e in entries) == [
        "dispute_cases/bad.csv", "members/m.csv", f"members/{NAMED}"]
    assert [e.seq for e in entries] == [1, 2, 3]
    assert len({e.run_id for e in entries}) == 1  # all by the run that went first


def test_one_run_waits_for_the_other_and_names_it(two_runs: Ran) -> None:
    runs = _cli_runs(two_runs)
    waiting = {as_of: [line for line in out.splitlines() if line.startswith("waiting for")]
               for as_of, out in two_runs.stdout.items()}
    [second] = [as_of for as_of, lines in waiting.items() if lines]
    [first] = [as_of for as_of in AS_OF if as_of != second]
    assert waiting[first] == []
    [line] = waiting[second]
    assert line.startswith(f"waiting for run {runs[first].run_id} (pid {two_runs.pids[first]} on ")
    assert line.endswith("to finish: one pipeline run at a time on this data directory")


def test_each_run_reports_only_what_it_ingested(two_runs: Ran) -> None:
    runs = _cli_runs(two_runs)
    [first] = {e.run_id for e in read_ledger(two_runs.settings.ledger_path)}
    for as_of, out in two_runs.stdout.items():
        if runs[as_of].run_id == first:
            assert "  files: 3 (loaded 2, rejected 1, duplicate 0)" in out
            assert "  rows:  read 11, loaded 11, quarantined 0" in out
        else:
            assert "  files: 0 (loaded 0, rejected 0, duplicate 0)" in out
            assert "  rows:  read 0, loaded 0, quarantined 0" in out
        assert "  ledger, all runs so far: files 3 (loaded 2, rejected 1, duplicate 0); rows read 11, loaded 11, " \
               "quarantined 0; reconciliation OK" in out
        assert "Published: " in out


def test_the_runs_do_not_interleave(two_runs: Ran) -> None:
    """Every step of one run ended before the first step of the other began."""
    runs = _cli_runs(two_runs)
    spans = []
    with dg.DagsterInstance.from_config(str(two_runs.home)) as instance:
        for run in runs.values():
            stamps = [r.timestamp for r in instance.all_logs(run.run_id)
                      if r.dagster_event is not None and r.dagster_event.event_type_value in (
                          "STEP_START", "STEP_SUCCESS", "STEP_FAILURE")]
            assert len(stamps) >= 10
            spans.append((min(stamps), max(stamps)))
    spans.sort()
    assert spans[0][1] < spans[1][0], spans


def test_each_publish_is_the_build_of_the_run_that_published_it(two_runs: Ran) -> None:
    import duckdb

    runs = _cli_runs(two_runs)
    as_of_of = {run.run_id: as_of for as_of, run in runs.items()}
    publishes = HistoryStore(two_runs.settings.data_dir / "history").publishes()
    assert publishes is not None and publishes.height == 2
    for row in publishes.iter_rows(named=True):
        assert row["run_id"] in as_of_of
        assert str(row["as_of_date"]) == as_of_of[row["run_id"]], row
    with duckdb.connect(str(two_runs.settings.published_path), read_only=True) as con:
        manifest = con.sql("select run_id, cast(as_of_date as varchar) from audit.publish_manifest").fetchall()
        values = con.sql("select distinct run_id, cast(as_of_date as varchar) from indicators.indicator_values"
                         ).fetchall()
    assert sorted(manifest) == sorted((run_id, as_of) for run_id, as_of in as_of_of.items())
    assert len(values) == 1 and values[0] in manifest  # the last publish: its own run's as-of


def test_no_file_name_reaches_the_terminal(two_runs: Ran) -> None:
    person = NAMED.removesuffix(".csv")
    for out in two_runs.outputs.values():
        assert person not in out and "王小明" not in out and "110101199003071234" not in out
