"""The ingestion ledger: what happened to every file that reached the drop zone.

One JSON object a line in an append-only file. An entry is appended only after the
file's landing, quarantine and problem files are in place, so a crash leaves either
no entry (the file is simply processed again, with identical output) or a complete one.
A torn last line (a crash mid-append) is ignored on read and cut off before the next
append.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from pipelines.files import exclusive
from pipelines.jsonl import cut_torn_tail

from .dropzone import log_ref


class Status:
    LOADED = "loaded"  # read and validated; good rows landed, bad rows quarantined
    REJECTED = "rejected"  # a file rule was broken: nothing landed
    DUPLICATE = "duplicate"  # the same bytes were loaded before: nothing landed


@dataclass
class LedgerEntry:
    seq: int  # order in which submissions were first seen ("later" for event upserts)
    path: str  # relative to the raw dir, forward slashes
    sha256: str
    bytes: int
    mtime_ns: int
    dataset: str | None
    street_code: str | None
    first_seen: str  # ISO-8601 UTC
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_warned: int = 0
    error_code: str | None = None
    error_column: str | None = None
    # every column a rejection names (file.missing_column: all the missing ones, in
    # contract order; error_column is the first); None in entries written before
    error_columns: list[str] | None = None
    # a file rejected for missing columns: its header cells naming no column, as written
    # (the street's own text: for its receipt, never passed to the warehouse)
    unknown_headers: list[str] | None = None
    error: str | None = None  # operator-facing, never a cell value
    duplicate_of: str | None = None  # path of the earlier file with the same bytes
    file_format: str | None = None
    encoding: str | None = None
    as_of_date: str | None = None
    landing_path: str | None = None  # relative to the data dir
    quarantine_path: str | None = None
    problems_path: str | None = None
    run_id: str | None = None

    @property
    def file_ref(self) -> str:
        """The file without its name (a street's file name may carry a person's name):
        how every table, alert, log line and metadata past this ledger and the street's
        own receipt names it. Derived from ``path``, never stored."""
        return log_ref(self.path)

    @property
    def rejected_columns(self) -> list[str]:
        """Every column the rejection names (entries older than ``error_columns``: the one)."""
        if self.error_columns:
            return list(self.error_columns)
        return [self.error_column] if self.error_column else []

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)


_FIELDS = {f.name for f in fields(LedgerEntry)}


def read_ledger(path: Path) -> list[LedgerEntry]:
    if not path.exists():
        return []
    out: list[LedgerEntry] = []
    with path.open("rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                break  # torn write from a crash: not an entry
            record = json.loads(raw)
            out.append(LedgerEntry(**{k: v for k, v in record.items() if k in _FIELDS}))
    return out


def append_entries(path: Path, entries: Iterable[LedgerEntry]) -> None:
    """Append entries durably; call only while holding :func:`ingest_lock`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab+") as fh:
        cut_torn_tail(fh)
        for e in entries:
            fh.write((e.to_json() + "\n").encode("utf-8"))
        fh.flush()
        os.fsync(fh.fileno())



@contextmanager
def ingest_lock(lock_path: Path) -> Iterator[None]:
    """One ingestion batch at a time across processes (sensor runs, CLI, schedules)."""
    with exclusive(lock_path):
        yield


@dataclass
class LedgerIndex:
    """What the ledger already knows, for deciding what is pending."""

    by_path_state: set[tuple[str, int, int]]  # (path, bytes, mtime_ns) already processed
    by_path_sha: set[tuple[str, str]]
    # the entry a duplicate of this sha256 repeats: the first loaded one (in ledgers written
    # before duplicates were judged against loaded submissions only: the first non-duplicate)
    original_by_sha: dict[str, LedgerEntry]
    next_seq: int
    # first loaded entry per sha256: only these make later files duplicates (a rejected
    # file changed nothing downstream, so the same bytes again are judged afresh)
    loaded_by_sha: dict[str, LedgerEntry]
    last_by_path: dict[str, LedgerEntry]  # latest entry per path (what is known of its bytes)

    @classmethod
    def build(cls, entries: list[LedgerEntry]) -> LedgerIndex:
        index = cls(set(), set(), {}, 1, {}, {})
        for e in entries:
            index.add(e)
        return index

    def add(self, e: LedgerEntry) -> None:
        """Take a new entry into account (entries come in ledger order)."""
        self.by_path_state.add((e.path, e.bytes, e.mtime_ns))
        self.by_path_sha.add((e.path, e.sha256))
        if e.status == Status.LOADED:
            self.loaded_by_sha.setdefault(e.sha256, e)
        if e.status != Status.DUPLICATE:
            known = self.original_by_sha.get(e.sha256)
            if known is None or (known.status != Status.LOADED and e.status == Status.LOADED):
                self.original_by_sha[e.sha256] = e
        self.last_by_path[e.path] = e
        self.next_seq = max(self.next_seq, e.seq + 1)
