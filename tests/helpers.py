"""Helpers shared by test modules that are not fixtures."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def instance_home(home: Path) -> Path:
    """``home`` made into a Dagster instance home as ``union-warehouse`` makes its own
    (pipelines/orchestration/instance_config.py): the repository's ``dagster.yaml`` (pools,
    run queue, monitoring) and the pooled SQLite event log, the instance a user's runs
    get. A bare directory would be Dagster's default storage, which opens and closes a
    connection per event: some 10 s more of every small run's CPU."""
    from pipelines.orchestration.instance_config import write_instance_yaml

    write_instance_yaml(home, REPO / "dagster.yaml", environ={})
    return home


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


def check_char_rows_agree(
    values: Sequence[str], rows: Iterator[dict[str, Any]], *, format_ok: Callable[[str], bool],
    is_valid: Callable[[str], bool], check_char: Callable[[str], str],
) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """For an 18-character code with a check character (resident ID, credit code): assert
    that the expressions' ``fmt``, ``valid``, ``check_char`` and ``chk`` columns agree with
    the scalar functions on every value; yield (value, row, format ok) for the checks a
    code has beyond these."""
    for s, row in zip(values, rows, strict=True):
        u = s.upper()
        fmt_ok = format_ok(u)
        assert row["fmt"] is (not fmt_ok), s
        assert row["valid"] is is_valid(s), s
        if fmt_ok:
            assert row["check_char"] == check_char(u[:17]), s
            assert row["chk"] is (check_char(u[:17]) != u[17]), s
        else:
            assert row["chk"] is False, s
        yield s, row, fmt_ok


def hold_back(settings: Any, entry: Any, expectation: str = "expect_table_row_count_to_be_between") -> None:
    """A failed critical verdict for the ledger ``entry``, where and as the quality gate
    writes it (the columns the gate's readers use): the submission is held back."""
    import polars as pl

    from pipelines.quality.verdicts import results_path

    path = results_path(settings, entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"submission_sha256": [entry.sha256], "success": [False], "severity": ["critical"],
                  "expectation": [expectation], "column": [None]},
                 schema_overrides={"column": pl.String}).write_parquet(path)
