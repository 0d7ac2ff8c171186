"""Helpers shared by test modules that are not fixtures."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Raise TimeoutError in the main thread after ``seconds``: a test fails instead of
    hanging (a blocking open of a FIFO included)."""

    def expire(signum, frame):  # type: ignore[no-untyped-def]
        raise TimeoutError(f"still running after {seconds} s (blocked: a FIFO opened, or a hang)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def instance_text(home: Path) -> str:
    """Everything a Dagster instance at ``home`` keeps of its runs, serialised: every run
    (tags, config), every event, and any captured compute log. What a personal-data
    scan of the event logs reads."""
    import dagster as dg
    from dagster._serdes import serialize_value

    parts = []
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for run in instance.get_runs():
            parts.append(serialize_value(run))
            parts.extend(serialize_value(entry) for entry in instance.all_logs(run.run_id))
    for path in home.rglob("*"):
        if path.is_file() and path.suffix in (".out", ".err", ".log", ".txt"):
            parts.append(path.read_text(errors="replace"))
    return "\n".join(parts)
