"""Fault injection: kill the pipeline at a named point, to prove it recovers.

The code calls :func:`fault_point` at the moments where a crash would be worst (a
landing file written but not yet in the ledger, the dbt build half done, the history
appended but the published file not yet swapped). Normally that is one environment
lookup and nothing else. With ``UNION_FAULT_AT=<name>`` (or ``<name>:<n>`` for the n-th
time the point is reached in this process) the process group is killed with SIGKILL
there: no ``finally`` block, ``atexit`` hook or signal handler runs, and the dbt
subprocess dies with its parent, as they would in a power cut or an OOM kill.

Only tests set the variable; they start the pipeline in a session of its own
(``subprocess.Popen(..., start_new_session=True)``) so the kill reaches nothing else.

The points (``FAULT_POINTS``):

- ``ingest.landed``: a file's landing/quarantine/problems Parquet is in place, its
  ledger entry is not yet written (``pipelines/ingest/process.py``);
- ``dbt.materialized``: the dbt build has materialised a model or seed and is still
  running (``pipelines/orchestration/dbt.py``);
- ``publish.history_appended``: the indicator history and publish log have the new
  publish, the published warehouse has not been swapped (``pipelines/publish/warehouse.py``).
"""

from __future__ import annotations

import logging
import os
import signal

ENV_VAR = "UNION_FAULT_AT"

FAULT_POINTS = ("ingest.landed", "dbt.materialized", "publish.history_appended")

log = logging.getLogger(__name__)

_hits: dict[str, int] = {}


def parse_target(value: str) -> tuple[str, int]:
    """``"name"`` -> ``("name", 1)``; ``"name:3"`` -> ``("name", 3)``."""
    name, sep, nth = value.strip().partition(":")
    if not sep:
        return name, 1
    count = int(nth)
    if count < 1:
        raise ValueError(f"{ENV_VAR}={value!r}: the hit number counts from 1")
    return name, count


def fault_point(name: str) -> None:
    """Kill the whole process group here when ``UNION_FAULT_AT`` names this point."""
    target = os.environ.get(ENV_VAR)
    if not target:
        return
    wanted, nth = parse_target(target)
    if wanted != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] == nth:
        _kill(f"{name}:{nth}")


def _kill(label: str) -> None:
    log.critical("UNION_FAULT_AT: killing process group %d at %s", os.getpgrp(), label)
    for handler in logging.getLogger().handlers:
        handler.flush()
    try:
        os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:  # not a group we may signal: at least this process dies
        os.kill(os.getpid(), signal.SIGKILL)
