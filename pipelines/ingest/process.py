"""Process every pending submission once: read, validate, land, quarantine, ledger.

This is the one code path behind the Dagster ingestion asset, the drop-zone sensor's
runs and ``union-warehouse run``. Each file is handled on its own: a rejected file is
recorded with its one reason and the batch goes on.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from pipelines.config import Settings
from pipelines.contract import DATASETS, DATASETS_BY_NAME, Dataset, is_known_street, rule
from pipelines.faults import fault_point

from .dropzone import FileState, list_inbox, locate, log_ref, sha256_of
from .ledger import LedgerEntry, LedgerIndex, Status, append_entries, ingest_lock, read_ledger
from .model import LINE, FileRejected, RawTable, Validated
from .readers import read_submission
from .validate import file_facts, validate

log = logging.getLogger(__name__)

SUBMISSION = "_submission_sha256"
SEQ = "_ingest_seq"
STREET = "_street_code"  # the folder's street (the submitting street)

# A file with more rows than this is validated and landed in slices of this many rows,
# the file-wide rules computed once beforehand (same outputs, bounded memory).
SLICE_ROWS = 1_000_000


@dataclass
class BatchResult:
    entries: list[LedgerEntry] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, exception type)
    timings: dict[str, float] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for e in self.entries if e.status == status)

    @property
    def rows_read(self) -> int:
        return sum(e.rows_read for e in self.entries)

    @property
    def rows_loaded(self) -> int:
        return sum(e.rows_loaded for e in self.entries)

    @property
    def rows_quarantined(self) -> int:
        return sum(e.rows_quarantined for e in self.entries)

    def by_dataset(self) -> dict[str, list[LedgerEntry]]:
        out: dict[str, list[LedgerEntry]] = {}
        for e in self.entries:
            out.setdefault(e.dataset or "(unknown)", []).append(e)
        return out


def pending(settings: Settings, index: LedgerIndex | None = None) -> list[FileState]:
    """Files in the drop zone whose (path, size, mtime) the ledger has not seen."""
    if index is None:
        index = LedgerIndex.build(read_ledger(settings.ledger_path))
    return [f for f in list_inbox(settings.raw_dir) if f.key not in index.by_path_state]


def ingest_pending(
    settings: Settings,
    paths: Iterable[str] | None = None,
    run_id: str | None = None,
    progress: Callable[[int, int, LedgerEntry], None] | None = None,
) -> BatchResult:
    """Process the pending files (all of them, or only ``paths`` among them)."""
    result = BatchResult()
    started = time.perf_counter()
    with ingest_lock(settings.lock_path):
        ensure_landing_schemas(settings)
        index = LedgerIndex.build(read_ledger(settings.ledger_path))
        todo = pending(settings, index)
        if paths is not None:
            wanted = set(paths)
            todo = [f for f in todo if f.path in wanted]
        result.timings["scan_s"] = time.perf_counter() - started
        for i, fs in enumerate(todo, start=1):
            try:
                entry = _process_one(settings, fs, index, run_id)
            except FileNotFoundError:
                log.warning("file vanished before it was read: %s", fs.log_ref())
                continue
            except Exception as exc:  # a bug or an I/O fault: not the street's fault
                # the type only: an exception's text or traceback may quote the file name
                log.error("internal error (%s) on %s; it stays pending", type(exc).__name__, fs.log_ref())
                result.errors.append((fs.path, type(exc).__name__))
                continue
            if entry is None:
                continue
            fault_point("ingest.landed")  # crash-safety tests: outputs landed, ledger not yet
            append_entries(settings.ledger_path, [entry])
            _remember(index, entry)
            result.entries.append(entry)
            log.info(
                "ingested file=%s seq=%d sha256=%s dataset=%s street=%s status=%s read=%d loaded=%d quarantined=%d",
                log_ref(entry.path), entry.seq, entry.sha256[:12], entry.dataset, entry.street_code, entry.status,
                entry.rows_read, entry.rows_loaded, entry.rows_quarantined,
            )
            if progress:
                progress(i, len(todo), entry)
    result.timings["total_s"] = time.perf_counter() - started
    return result


def _remember(index: LedgerIndex, e: LedgerEntry) -> None:
    index.by_path_state.add((e.path, e.bytes, e.mtime_ns))
    index.by_path_sha.add((e.path, e.sha256))
    if e.status != Status.DUPLICATE:
        index.original_by_sha.setdefault(e.sha256, e)
    index.next_seq = max(index.next_seq, e.seq + 1)


def _process_one(
    settings: Settings, fs: FileState, index: LedgerIndex, run_id: str | None
) -> LedgerEntry | None:
    abs_path = settings.raw_dir / fs.path
    loc = locate(fs.path)
    sha = sha256_of(abs_path)
    entry = LedgerEntry(
        seq=index.next_seq,
        path=fs.path,
        sha256=sha,
        bytes=fs.size,
        mtime_ns=fs.mtime_ns,
        dataset=loc.dataset if loc.dataset in DATASETS_BY_NAME else None,
        street_code=loc.street_code if loc.street_code and is_known_street(loc.street_code) else None,
        first_seen=_now(),
        status=Status.LOADED,
        run_id=run_id,
    )
    original = index.original_by_sha.get(sha)
    if original is not None or (fs.path, sha) in index.by_path_sha:
        # the same bytes again: under another name, or this very file touched (new mtime)
        entry.status = Status.DUPLICATE
        entry.error_code = "file.duplicate"
        entry.duplicate_of = original.path if original is not None else fs.path
        entry.error = rule("file.duplicate").message_en(detail=f" ({entry.duplicate_of})")
        return entry
    validated: Validated | None = None
    try:
        dataset, street = _check_location(settings, fs, loc)
        raw = read_submission(abs_path, dataset)
        entry.file_format, entry.encoding = raw.file_format, raw.encoding
        if raw.frame.height <= SLICE_ROWS:
            validated = validate(raw.frame, dataset, street)
    except FileRejected as rej:
        entry.status = Status.REJECTED
        entry.error_code = rej.code
        entry.error_column = rej.column
        entry.error = rule(rej.code).message_en(
            column=rej.column or "", detail=f" ({rej.detail})" if rej.detail else ""
        )
        return entry
    if validated is not None:
        _land(settings, entry, dataset, street, validated)
    else:
        _land_sliced(settings, entry, dataset, street, raw)
    return entry


def _check_location(settings: Settings, fs: FileState, loc) -> tuple[Dataset, str]:  # type: ignore[no-untyped-def]
    if fs.size > settings.max_file_bytes:
        raise FileRejected("file.too_large", f"{fs.size} > {settings.max_file_bytes} bytes")
    if not loc.street_code or not is_known_street(loc.street_code):
        raise FileRejected("file.unknown_street", f"folder {loc.street_code!r}")
    if loc.dataset not in DATASETS_BY_NAME:
        raise FileRejected("file.unknown_dataset", f"folder {loc.dataset!r}")
    return DATASETS_BY_NAME[loc.dataset], loc.street_code


def _output_rel(entry: LedgerEntry, dataset: Dataset, street: str) -> str:
    """A submission's file name under landing/, quarantine/ and problems/."""
    return f"{dataset.name}/{street}/{entry.sha256}.parquet"


def _tags(entry: LedgerEntry, street: str) -> list[pl.Expr]:
    """The columns every output row of a submission carries."""
    return [pl.lit(entry.sha256).alias(SUBMISSION), pl.lit(entry.seq, pl.Int64).alias(SEQ),
            pl.lit(street).alias(STREET)]


def _land(
    settings: Settings, entry: LedgerEntry, dataset: Dataset, street: str, v: Validated
) -> None:
    entry.rows_read = v.rows_read
    entry.rows_loaded = v.good.height
    entry.rows_quarantined = v.quarantined.height
    entry.rows_warned = v.problems.filter(pl.col("severity") == "warning")[LINE].n_unique()
    entry.as_of_date = v.as_of_date.isoformat() if v.as_of_date else None
    rel = _output_rel(entry, dataset, street)
    tag = _tags(entry, street)
    atomic_write_parquet(v.good.with_columns(tag), settings.landing_dir / rel)
    entry.landing_path = f"landing/{rel}"
    if v.quarantined.height:
        atomic_write_parquet(v.quarantined.with_columns(tag), settings.quarantine_dir / rel)
        entry.quarantine_path = f"quarantine/{rel}"
    if v.problems.height:
        atomic_write_parquet(v.problems.with_columns(tag), settings.problems_dir / rel)
        entry.problems_path = f"problems/{rel}"


class _ParquetSink:
    """A Parquet file written slice by slice to a temporary name, renamed when complete
    (like :func:`atomic_write_parquet`); nothing is created until the first write."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        self._writer: pq.ParquetWriter | None = None

    def write(self, frame: pl.DataFrame) -> None:
        table = frame.to_arrow(compat_level=pl.CompatLevel.oldest())
        if self._writer is None:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(  # as atomic_write_parquet: zstd level 1
                self.tmp, table.schema, compression="zstd", compression_level=1,
                write_statistics=True,
            )
        elif not table.schema.equals(self._writer.schema):
            table = table.cast(self._writer.schema)
        self._writer.write_table(table)

    def commit(self) -> bool:
        """Close and rename into place; False when nothing was written."""
        if self._writer is None:
            return False
        self._writer.close()
        self._writer = None
        with self.tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(self.tmp, self.target)
        return True

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.tmp.unlink(missing_ok=True)


def _land_sliced(
    settings: Settings, entry: LedgerEntry, dataset: Dataset, street: str, raw: RawTable
) -> None:
    """:func:`_land` for a large file: the file-wide facts first (from the few columns they
    read), then :data:`SLICE_ROWS` rows at a time validated and appended to the landing,
    quarantine and problems files. Same rows, in line order, as the whole-file path."""
    frame, raw.frame = raw.frame, raw.frame.clear()  # the slices below hold the rows now
    facts = file_facts(frame, dataset, street, slice_rows=SLICE_ROWS)
    slices = [frame.slice(start, SLICE_ROWS) for start in range(0, frame.height, SLICE_ROWS)]
    del frame
    rel = _output_rel(entry, dataset, street)
    tag = _tags(entry, street)
    landing = _ParquetSink(settings.landing_dir / rel)
    quarantine = _ParquetSink(settings.quarantine_dir / rel)
    problems = _ParquetSink(settings.problems_dir / rel)
    sinks = (landing, quarantine, problems)
    read = loaded = quarantined = warned = 0

    def write(v: Validated) -> None:
        landing.write(v.good.with_columns(tag))
        if v.quarantined.height:
            quarantine.write(v.quarantined.with_columns(tag))
        if v.problems.height:
            problems.write(v.problems.with_columns(tag))

    try:
        # One slice is written (Arrow conversion and zstd release the GIL) while the
        # next is validated; waiting for it first keeps at most two slices' outputs alive.
        with ThreadPoolExecutor(max_workers=1) as pool:
            writing: Future[None] | None = None
            while slices:
                v = validate(slices.pop(0), dataset, street, file_facts=facts)
                read += v.rows_read
                loaded += v.good.height
                quarantined += v.quarantined.height
                warned += v.problems.filter(pl.col("severity") == "warning")[LINE].n_unique()
                if writing is not None:
                    writing.result()
                writing = pool.submit(write, v)
                del v
            if writing is not None:
                writing.result()
        entry.rows_read, entry.rows_loaded = read, loaded
        entry.rows_quarantined, entry.rows_warned = quarantined, warned
        entry.as_of_date = facts.as_of_date.isoformat() if facts.as_of_date else None
        landing.commit()
        entry.landing_path = f"landing/{rel}"
        if quarantine.commit():
            entry.quarantine_path = f"quarantine/{rel}"
        if problems.commit():
            entry.problems_path = f"problems/{rel}"
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise


def atomic_write_parquet(frame: pl.DataFrame, target: Path) -> None:
    """Write then rename: a reader (or a crash) never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    frame.write_parquet(tmp, compression="zstd", compression_level=1, statistics=True)
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)


def ensure_landing_schemas(settings: Settings) -> None:
    """An empty, typed Parquet per dataset so every landing glob matches at least one
    file with the contract's columns, even before any street has sent that dataset."""
    for dataset in DATASETS:
        target = settings.landing_dir / dataset.name / "_schema" / "empty.parquet"
        if target.exists():
            continue
        empty = empty_landing_frame(dataset)
        atomic_write_parquet(empty, target)


def empty_landing_frame(dataset: Dataset) -> pl.DataFrame:
    raw = pl.DataFrame(
        {LINE: pl.Series([], dtype=pl.Int64), "_malformed": pl.Series([], dtype=pl.Boolean)}
    )
    good = validate(raw, dataset, "000000000").good
    return good.with_columns(
        pl.lit(None, pl.String).alias(SUBMISSION),
        pl.lit(None, pl.Int64).alias(SEQ),
        pl.lit(None, pl.String).alias(STREET),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
