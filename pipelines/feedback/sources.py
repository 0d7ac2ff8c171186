"""What a receipt is made of, read from ingestion's outputs in bounded memory.

Every reader here takes one ledger entry and reads only that submission's own files
(its problems, quarantine and landing Parquet, its quality verdicts), in record batches
via pyarrow: no read materialises a whole file, so a submission with 100,000 bad rows
costs what one with ten does, apart from time.

The problems Parquet is in line order, and so are the quarantine and landing Parquet
(ingestion writes rows in the order it read them, slice after slice). Row values are
therefore found by walking each file once alongside the problems (:class:`LineLookup`;
asked for an earlier line than the last one, it starts again from the top).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.config import Settings
from pipelines.ingest.ledger import LedgerEntry, Status
from pipelines.ingest.model import LINE
from pipelines.quality.verdicts import results_path

BATCH_ROWS = 8_192
PROBLEM_COLUMNS = (LINE, "column", "code", "severity")


@dataclass(frozen=True)
class Problem:
    line: int | None
    column: str | None
    code: str
    severity: str


def data_path(settings: Settings, rel: str | None) -> Path | None:
    """A path the ledger records relative to the data dir, if the file is there."""
    if not rel:
        return None
    path = settings.data_dir / rel
    return path if path.exists() else None


def iter_problems(settings: Settings, entry: LedgerEntry) -> Iterator[Problem]:
    """The submission's row problems, in line order, a batch at a time."""
    path = data_path(settings, entry.problems_path)
    if path is None:
        return
    for batch in pq.ParquetFile(path).iter_batches(BATCH_ROWS, columns=list(PROBLEM_COLUMNS)):
        lines, columns, codes, severities = (batch.column(i).to_pylist() for i in range(4))
        for line, column, code, severity in zip(lines, columns, codes, severities, strict=True):
            yield Problem(line, column, code, severity)


def problem_counts(settings: Settings, entry: LedgerEntry) -> Counter[tuple[str, str | None, str]]:
    """How many problems the submission has per (code, column, severity); a rejected or
    duplicate file counts its one reason."""
    counts: Counter[tuple[str, str | None, str]] = Counter()
    if entry.status != Status.LOADED:
        if entry.error_code:
            severity = "duplicate" if entry.status == Status.DUPLICATE else "reject"
            counts[(entry.error_code, entry.error_column, severity)] = 1
        return counts
    path = data_path(settings, entry.problems_path)
    if path is None:
        return counts
    for batch in pq.ParquetFile(path).iter_batches(65_536, columns=["code", "column", "severity"]):
        counts.update(zip(*(batch.column(i).to_pylist() for i in range(3)), strict=True))
    return counts


def text(value: object) -> str | None:
    """A landed (typed) value as the clerk would have written it."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes" if not value.second else "seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return format(value, "g")
    return str(value)


@dataclass
class LineLookup:
    """Rows of one line-ordered Parquet file, fetched by ascending line number."""

    path: Path | None
    columns: Sequence[str]
    _batches: Iterator[pa.RecordBatch] | None = field(default=None, init=False)
    _rows: dict[int, tuple[object, ...]] = field(default_factory=dict, init=False)
    _last_line: int = field(default=-1, init=False)
    _last_asked: int = field(default=-1, init=False)

    def __post_init__(self) -> None:
        if self.path is not None:
            present = set(pq.read_schema(self.path).names)
            self.columns = [c for c in self.columns if c in present]

    def _restart(self) -> None:
        self._rows, self._last_line = {}, -1
        assert self.path is not None
        file = pq.ParquetFile(self.path)
        self._batches = file.iter_batches(BATCH_ROWS, columns=[LINE, *self.columns])

    def get(self, line: int | None) -> dict[str, str | None]:
        """The row at ``line`` as {column: text} ({} when the file has no such row)."""
        if self.path is None or line is None:
            return {}
        if self._batches is None or line < self._last_asked:
            self._restart()
        self._last_asked = line
        while line > self._last_line and self._advance():
            pass
        row = self._rows.get(line)
        return {} if row is None else dict(zip(self.columns, map(text, row), strict=True))

    def _advance(self) -> bool:
        assert self._batches is not None
        batch = next(self._batches, None)
        if batch is None:
            self._last_line = 1 << 62
            return False
        lines = batch.column(0).to_pylist()
        values = [batch.column(i + 1).to_pylist() for i in range(len(self.columns))]
        self._rows = {ln: tuple(v[k] for v in values) for k, ln in enumerate(lines)}
        self._last_line = max(lines, default=self._last_line)
        return True


# --- the quality gate's verdicts --------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    expectation: str
    column: str | None
    unexpected_count: int | None
    element_count: int | None
    observed_value: str | None


@dataclass(frozen=True)
class QualityVerdict:
    state: str  # not_applicable | pending | passed | held_back
    failures: tuple[Failure, ...] = ()


def quality_verdict(settings: Settings, entry: LedgerEntry) -> QualityVerdict:
    """Whether the gate held the submission back, and on which critical expectations."""
    if entry.status != Status.LOADED:
        return QualityVerdict("not_applicable")
    path = results_path(settings, entry)
    if not path.exists():
        return QualityVerdict("pending")
    cols = [
        "expectation",
        "column",
        "severity",
        "success",
        "unexpected_count",
        "element_count",
        "observed_value",
    ]
    rows = pq.read_table(path, columns=cols).to_pylist()
    failures = tuple(
        Failure(
            r["expectation"],
            r["column"],
            r["unexpected_count"],
            r["element_count"],
            r["observed_value"],
        )
        for r in rows
        if not r["success"] and r["severity"] == "critical"
    )
    return QualityVerdict("held_back" if failures else "passed", failures)


def json_line(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)
