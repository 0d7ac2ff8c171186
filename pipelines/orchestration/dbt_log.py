"""dbt's own output: its per-node lines go to a log file of the run, its outcome to one line.

dagster-dbt re-prints every line dbt logs (``1 of 393 START test ...``, ``PASS``, colour
codes and all) on the process's stdout while it streams dbt's events. For an operator
that is hundreds of lines a run. Here those lines go to
``$UNION_DATA_DIR/logs/dbt-<run id>.log`` (each line stamped with the time), and the
build's outcome is summarised from dbt's ``run_results.json`` in one line: models and
seeds built, tests passed / warned / failed, seconds, and the log file. Tests that warned
or failed are then named, a short list, with dbt's message (counts, never a row's values).

Imports nothing heavy: no dbt, no Dagster.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

LOGS_DIR = "logs"
KEEP_LOGS = 60  # dbt log files kept per data directory (the oldest are removed)
LISTED = 10  # tests named on the console; the rest are counted
SUMMARY_ATTR = "union_dbt_summary"  # log-record attribute carrying a DbtSummary
T = TypeVar("T")


def dbt_log_path(data_dir: Path, run_id: str) -> Path:
    """The file dbt's lines of run ``run_id`` are written to."""
    return Path(data_dir) / LOGS_DIR / f"dbt-{run_id}.log"


class StampedLines(io.TextIOBase):
    """A text sink that writes each complete line to ``out`` prefixed with the time, and,
    with ``echo``, also as it came to ``echo`` (a Dagster compute log, for instance)."""

    def __init__(self, out: IO[str], echo: IO[str] | None = None) -> None:
        super().__init__()
        self._out = out
        self._echo = echo
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._echo is not None:
            self._echo.write(text)
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._out.write(f"{datetime.now():%H:%M:%S} {line}\n" if line else "\n")
        return len(text)

    def flush(self) -> None:
        self._out.flush()
        if self._echo is not None:
            self._echo.flush()


@contextmanager
def dbt_log(path: Path, echo: IO[str] | None = None) -> Iterator[StampedLines]:
    """``path`` opened for appending (its folder made, old logs beside it pruned) as a
    :class:`StampedLines` sink."""
    path.parent.mkdir(parents=True, exist_ok=True)
    prune_logs(path.parent, keep=KEEP_LOGS, spare=path)
    with path.open("a", encoding="utf-8", errors="replace") as fh:
        sink = StampedLines(fh, echo)
        try:
            yield sink
        finally:
            if sink._pending:
                sink.write("\n")
            sink.flush()


def prune_logs(folder: Path, keep: int, spare: Path | None = None) -> list[Path]:
    """Remove the oldest ``dbt-*.log`` files of ``folder`` beyond ``keep`` (never ``spare``)."""
    logs = sorted((p for p in folder.glob("dbt-*.log") if p != spare), key=lambda p: p.stat().st_mtime)
    gone = logs[: max(0, len(logs) - (keep - 1))]
    for p in gone:
        p.unlink(missing_ok=True)
    return gone


def quietly(events: Iterable[T], sink: IO[str]) -> Iterator[T]:
    """``events`` one by one, with what the producer prints while making each (dagster-dbt
    prints dbt's lines as it reads them) sent to ``sink``; what the consumer does with an
    event between two steps prints where it always did."""
    it = iter(events)
    while True:
        with redirect_stdout(sink):
            try:
                item = next(it)
            except StopIteration:
                return
        yield item


@dataclass(frozen=True)
class Node:
    name: str
    status: str
    message: str


@dataclass(frozen=True)
class DbtSummary:
    """What one dbt invocation did, from its ``run_results.json``."""

    command: str
    seconds: float
    log: str
    built: Mapping[str, int] = field(default_factory=dict)  # resource type -> built (models, seeds, snapshots)
    not_built: tuple[Node, ...] = ()  # models, seeds or snapshots that errored or were skipped
    tests: Mapping[str, int] = field(default_factory=dict)  # pass / warn / error / skipped -> count
    warned: tuple[Node, ...] = ()
    failed: tuple[Node, ...] = ()  # tests that failed or errored

    @classmethod
    def from_run_results(cls, run_results: Mapping[str, Any], log: Path) -> DbtSummary:
        built: dict[str, int] = {}
        tests = {"pass": 0, "warn": 0, "error": 0, "skipped": 0}
        not_built: list[Node] = []
        warned: list[Node] = []
        failed: list[Node] = []
        for r in run_results.get("results", []):
            kind, _, rest = str(r.get("unique_id", "")).partition(".")
            name = rest.split(".")[1] if "." in rest else rest
            status = str(r.get("status", ""))
            # dbt's message of a test that warned or failed counts rows ("Got 3 results,
            # configured to warn if != 0"); an error's may quote a value: not repeated
            said = _one_line(r.get("message")) if kind in ("test", "unit_test") and status in ("warn", "fail") else ""
            node = Node(name, status, said)
            if kind in ("test", "unit_test"):
                outcome = {"fail": "error", "success": "pass"}.get(status, status)
                tests[outcome] = tests.get(outcome, 0) + 1
                if outcome == "warn":
                    warned.append(node)
                elif outcome == "error":
                    failed.append(node)
            elif status == "success":
                built[kind] = built.get(kind, 0) + 1
            elif status not in ("no op",):
                not_built.append(node)
        command = str((run_results.get("args") or {}).get("which") or "build")
        return cls(command, round(float(run_results.get("elapsed_time") or 0.0), 1), str(log), built,
                   tuple(not_built), tests, tuple(warned), tuple(failed))

    @classmethod
    def read(cls, run_results: Path, log: Path) -> DbtSummary | None:
        """From the file, or None when there is none (dbt stopped before writing it)."""
        try:
            return cls.from_run_results(json.loads(run_results.read_text(encoding="utf-8")), log)
        except (OSError, ValueError):
            return None

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_built

    def line(self) -> str:
        """``dbt build: 56 models, 6 seeds built; 331 tests: 329 pass, 2 warn, 0 error in 26.6 s (log: ...)``"""
        return f"{self.counts()} in {self.seconds} s (log: {self.log})"

    def counts(self) -> str:
        """``dbt build: 56 models, 6 seeds built; 331 tests: 329 pass, 2 warn, 0 error``"""
        made = ", ".join(f"{n} {_plural(kind)}" for kind, n in sorted(self.built.items())) or "nothing"
        tests = sum(self.tests.values())
        said = f"{self.tests.get('pass', 0)} pass, {self.tests.get('warn', 0)} warn, {self.tests.get('error', 0)} error"
        if self.tests.get("skipped"):
            said += f", {self.tests['skipped']} skipped"
        broken = f"; {len(self.not_built)} not built" if self.not_built else ""
        return f"dbt {self.command}: {made} built{broken}; {tests} tests: {said}"

    def detail_lines(self) -> list[str]:
        """The tests that warned or failed and the nodes not built, named (a short list each),
        and where to read more."""
        lines: list[str] = []
        for what, nodes in (("not built", self.not_built), ("tests failed", self.failed),
                            ("tests warned", self.warned)):
            if not nodes:
                continue
            lines.append(f"{len(nodes)} {what}:")
            lines += [f"  {n.name} ({n.status}){': ' + n.message if n.message else ''}" for n in nodes[:LISTED]]
            if len(nodes) > LISTED:
                lines.append(f"  ... and {len(nodes) - LISTED} more")
        if lines:
            lines.append(f'details: {self.log} (search for "Warning in" / "Failure in" / "Error in" and '
                         "the test's name; its compiled SQL is named there)")
        return lines


def _plural(kind: str) -> str:
    return {"model": "models", "seed": "seeds", "snapshot": "snapshots"}.get(kind, kind)


def _one_line(message: object, limit: int = 160) -> str:
    text = " ".join(str(message or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
