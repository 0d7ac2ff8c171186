"""One pipeline run at a time on a data directory, from its first step to its last.

The writer pool (``warehouse_writer``, ``granularity: op``) admits one *step* at a time,
so without more two runs interleave: one run's dbt build, another's build (as of another
date), then the first run's alerts, gates and publish on top of the second's build, its
run id on another run's numbers. And two runs started together both did the whole
ingestion gate. So a run of the pipeline job (or of the nightly rebuild) holds an
exclusive ``fcntl.flock`` on ``$UNION_DATA_DIR/locks/pipeline.lock`` for its whole
length: the :class:`PipelineLock` resource takes it when Dagster sets up the run's
resources (with the in-process executor once per run, before the first step) and gives
it back at teardown (after the last). A second run started meanwhile, by the CLI or by
``dagster dev``'s sensor, waits there, prints one line naming the run it waits for, and
then does only what is left: the ledger says its files were already processed.

The kernel drops a flock when its holder dies, however it dies (SIGKILL included): a
killed run never blocks the next one. The holder's run id, pid, host and start time are
kept beside the lock (``pipeline.holder.json``) only to say whom a waiting run waits for.
A flock is only as good as the file system's: keep ``UNION_DATA_DIR`` on a local disk
(the DuckDB files need that anyway).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from pipelines.files import Lock, atomic_write_text, exclusive

from .run_recovery import pid_alive, reclaim_dead_runs

log = logging.getLogger("union_warehouse.run_lock")

RESOURCE_KEY = "pipeline_lock"
LOCK_DIR = "locks"
LOCK_NAME = "pipeline.lock"
HOLDER_NAME = "pipeline.holder.json"
# Tag of the jobs that hold the lock; dagster.yaml limits queued runs with it to one in
# progress, so the daemon queues them instead of parking a run worker on the lock.
EXCLUSIVE_TAGS = {"union/exclusive": "pipeline"}


def lock_path(data_dir: Path) -> Path:
    return Path(data_dir) / LOCK_DIR / LOCK_NAME


def holder_path(data_dir: Path) -> Path:
    return Path(data_dir) / LOCK_DIR / HOLDER_NAME


@dataclass(frozen=True)
class Holder:
    """Who holds the pipeline lock (as the holder wrote it when it took the lock)."""

    run_id: str
    pid: int
    host: str
    since: str  # ISO-8601 UTC

    def describe(self) -> str:
        return f"run {self.run_id} (pid {self.pid} on {self.host}, running since {self.since})"


def read_holder(data_dir: Path) -> Holder | None:
    """The holder the side file names, or None (no file, or one being replaced)."""
    try:
        data = json.loads(holder_path(data_dir).read_text(encoding="utf-8"))
        return Holder(str(data["run_id"]), int(data["pid"]), str(data["host"]), str(data["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_holder(data_dir: Path, holder: Holder) -> None:
    atomic_write_text(holder_path(data_dir), json.dumps(asdict(holder), sort_keys=True))


def _clear_holder(data_dir: Path, holder: Holder) -> None:
    if read_holder(data_dir) == holder:
        holder_path(data_dir).unlink(missing_ok=True)


_FREE = Holder("", 0, "", "")  # sentinel: the lock came free while looking for its holder


def _current_holder(data_dir: Path, lock: Lock, patience: float = 2.0) -> Holder | None:
    """The live holder of the lock, for the waiting message. A holder writes its side
    file just after taking the lock, and a killed one leaves a stale file behind: look
    for a moment for a holder whose process is alive. Returns ``_FREE`` (holding the
    lock now) if it came free meanwhile, None if the holder stays unknown."""
    deadline = time.monotonic() + patience
    while True:
        holder = read_holder(data_dir)
        if holder is not None and (holder.host != socket.gethostname() or pid_alive(holder.pid)):
            return holder
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)
        if lock.try_acquire():
            return _FREE


@contextmanager
def pipeline_lock(
    data_dir: Path,
    run_id: str,
    *,
    on_wait: Callable[[Holder | None], None] | None = None,
) -> Iterator[Holder | None]:
    """Hold the data directory's pipeline lock for the ``with`` block, waiting (without
    a timeout) while another process holds it. ``on_wait`` is called once, before
    waiting, with the holder if known. Yields the holder waited for, or None when the
    lock was free."""
    waited_for: Holder | None = None
    with exclusive(lock_path(data_dir), blocking=False) as lock:
        if not lock.held:
            waited_for = _current_holder(data_dir, lock)
            if waited_for is not _FREE:
                if on_wait is not None:
                    on_wait(waited_for)
                lock.acquire()
            else:
                waited_for = None
        mine = Holder(run_id, os.getpid(), socket.gethostname(), datetime.now(UTC).isoformat(timespec="seconds"))
        _write_holder(data_dir, mine)
        try:
            yield waited_for
        finally:
            _clear_holder(data_dir, mine)


def waiting_line(holder: Holder | None) -> str:
    who = holder.describe() if holder is not None else "another run (it has not said which)"
    return f"waiting for {who} to finish: one pipeline run at a time on this data directory"


class PipelineLock(dg.ConfigurableResource):
    """Holds ``$UNION_DATA_DIR/locks/pipeline.lock`` while a run executes (module
    docstring). Every step of the pipeline job and of the nightly rebuild requires it
    (through :data:`holds_pipeline_lock`), so Dagster takes it before the run's first
    step and gives it back after its last."""

    data_dir: str

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[PipelineLock]:
        run_id = context.run_id or "(no run)"

        def announce(holder: Holder | None) -> None:
            line = waiting_line(holder)
            print(line, file=sys.stdout, flush=True)  # the terminal of `union-warehouse run`
            if context.log is not None:
                context.log.info(line)  # the run's event log (dagster dev)

        with pipeline_lock(Path(self.data_dir), run_id, on_wait=announce):
            if context.instance is not None:
                # the run before may have been killed holding the lock: then it also
                # still holds its writer-pool slots, which this run's steps would wait
                # for forever (run_recovery.py); a live run is never touched
                for dead in reclaim_dead_runs(context.instance):
                    log.warning("run %s was killed: marked failed, its warehouse slot freed", dead)
            yield self


@dg.success_hook(name="holds_pipeline_lock", required_resource_keys={RESOURCE_KEY})
def holds_pipeline_lock(context: dg.HookContext) -> None:
    """Does nothing itself: attached to a job, it makes every step require the
    ``pipeline_lock`` resource, so the lock is held for the whole run."""
