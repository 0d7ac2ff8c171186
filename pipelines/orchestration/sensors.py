"""The drop-zone sensor: new files in ``raw/inbox/`` become runs, in batches.

The cursor holds the state (size:mtime:ctime:inode, :meth:`FileState.token`) of every
file already requested but not yet in the ledger, so a restarted sensor neither skips a
file (the ledger, not the clock, says what is done) nor requests one twice (the cursor
says what is in flight). A file rewritten in place with its old size and modification
time (``cp -p``, ``rsync -a``, unzip) has a new ctime (or inode): it is pending again
(``pending`` hashes it once and compares with its last ledger entry) and its new token
is not the one in flight, so it is requested. A burst of files becomes a few runs of up
to ``MAX_FILES_PER_RUN`` files each.

The cursor and the run config live in the Dagster instance, so they name files by
:func:`path_digest`, never by the street's own file name (which may hold a person's name).
"""


import hashlib
import json
import time
from dataclasses import dataclass

import dagster as dg

from pipelines.ingest.dropzone import FileState, path_digest
from pipelines.ingest.process import pending

from .resources import UnionPaths

MAX_FILES_PER_RUN = 200
MAX_RUNS_PER_TICK = 5
SETTLE_SECONDS = 2.0  # a file still being written (mtime this recent) waits a tick


@dataclass(frozen=True)
class Plan:
    batches: list[list[FileState]]
    cursor: dict[str, str]
    waiting: int  # pending files left for a later tick (settling or over the cap)


def plan_requests(
    pending_files: list[FileState],
    cursor: dict[str, str],
    now_ns: int,
    *,
    max_files: int = MAX_FILES_PER_RUN,
    max_runs: int = MAX_RUNS_PER_TICK,
    settle_s: float = SETTLE_SECONDS,
) -> Plan:
    """Pure planning step of the sensor (unit-tested without Dagster)."""
    tokens = {path_digest(f.path): f.token() for f in pending_files}
    # forget what has been ledgered since (or replaced by a newer version of the file)
    in_flight = {p: t for p, t in cursor.items() if tokens.get(p) == t}
    fresh = [f for f in pending_files if in_flight.get(path_digest(f.path)) != f.token()]
    settled = [f for f in fresh if now_ns - f.mtime_ns >= settle_s * 1e9]
    chosen = settled[: max_files * max_runs]
    batches = [chosen[i : i + max_files] for i in range(0, len(chosen), max_files)]
    new_cursor = dict(in_flight)
    new_cursor.update({path_digest(f.path): f.token() for f in chosen})
    return Plan(batches=batches, cursor=new_cursor, waiting=len(fresh) - len(chosen))


def run_key(batch: list[FileState]) -> str:
    h = hashlib.sha256()
    for f in batch:
        h.update(f"{f.path}\0{f.token()}\n".encode())
    return "inbox-" + h.hexdigest()[:24]


def build_inbox_sensor(job_name: str) -> dg.SensorDefinition:
    @dg.sensor(
        name="inbox_sensor",
        job_name=job_name,
        # a tick lists the drop zone and compares it with the ledger (0.1-0.3 s for a
        # district's 750 files): every 3 s, so a new file waits 2-5 s for its run
        minimum_interval_seconds=3,
        description="Watches raw/inbox/ and starts a run for each batch of new files.",
        default_status=dg.DefaultSensorStatus.RUNNING,  # the drop zone is watched as soon as Dagster runs
    )
    def inbox_sensor(context: dg.SensorEvaluationContext, paths: UnionPaths):
        settings = paths.settings()
        cursor = json.loads(context.cursor) if context.cursor else {}
        plan = plan_requests(pending(settings), cursor, time.time_ns())
        requests = [
            dg.RunRequest(
                run_key=run_key(batch),
                run_config={"ops": {"ingest_submissions": {"config": {"files": [path_digest(f.path) for f in batch]}}}},
                tags={"union/trigger": "inbox_sensor", "union/files": str(len(batch))},
            )
            for batch in plan.batches
        ]
        if not requests:
            return dg.SensorResult(
                skip_reason=dg.SkipReason(f"no new files ({plan.waiting} waiting)"),
                cursor=json.dumps(plan.cursor, sort_keys=True),
            )
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(plan.cursor, sort_keys=True))

    return inbox_sensor
