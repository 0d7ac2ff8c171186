"""Process every pending submission once: read, validate, land, quarantine, ledger.

This is the one code path behind the Dagster ingestion asset, the drop-zone sensor's
runs and ``union-warehouse run``. Each file is handled on its own: a rejected file is
recorded with its one reason and the batch goes on; any other failure on one file
(reading, landing, its ledger append) leaves that file pending and the batch goes on.

What is pending, what is a duplicate, and what is never opened (links, FIFOs, names
that are not UTF-8): see :mod:`pipelines.ingest.dropzone` and "Duplicates and
identity" in ``docs/operations.md``. In short: a path is pending when its cheap state
(size, mtime, ctime, inode) is one the drop-zone state cache has not seen with the
bytes of the path's last ledger entry; the same bytes as that entry are no new
submission; a duplicate is the same bytes as an earlier *loaded* submission (any
street, any name), because the warehouse identifies a loaded submission by its
SHA-256 alone.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from pipelines.config import Settings
from pipelines.contract import DATASETS, DATASETS_BY_NAME, Dataset, is_known_street, rule
from pipelines.faults import fault_point
from pipelines.files import atomic_write_parquet, move_into_place, temp_beside
from pipelines.ingest.pii_columns import (
    parquet_metadata,
    rekey_landing,
    with_derived_columns,
    write_landing_parquet,
)

from .dropzone import (
    FILE,
    LINK,
    STATE_CACHE_NAME,
    FileChanged,
    FileState,
    StateCache,
    check_unchanged,
    fingerprint,
    list_inbox,
    locate,
    log_ref,
    path_digest,
)
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
    relanded: list[str] = field(default_factory=list)  # file refs whose landed data was re-made

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


def state_cache_path(settings: Settings) -> Path:
    return settings.ledger_path.with_name(STATE_CACHE_NAME)


def pending(settings: Settings, index: LedgerIndex | None = None) -> list[FileState]:
    """Files in the drop zone whose content the ledger may not have seen: a path never
    ledgered, or one whose state changed and whose bytes now differ from its last entry
    (only those changed paths are hashed, once: the state cache remembers the rest)."""
    if index is None:
        index = LedgerIndex.build(read_ledger(settings.ledger_path))
    cache = StateCache(state_cache_path(settings))
    listed = list_inbox(settings.raw_dir)
    todo = pending_files(settings, listed, index, cache)
    cache.save(f.path for f in listed)
    return todo


def pending_files(
    settings: Settings, listed: list[FileState], index: LedgerIndex, cache: StateCache
) -> list[FileState]:
    out: list[FileState] = []
    for fs in listed:
        last = index.last_by_path.get(fs.path)
        if last is None:
            out.append(fs)  # never ledgered: nothing to hash yet
            continue
        if cache.sha_for(fs) == last.sha256:
            continue  # this state was seen with the bytes of the last entry
        try:
            sha, state = fingerprint(settings.raw_dir, fs)
        except Exception:  # vanished, changing, unreadable: the run will judge it
            out.append(fs)
            continue
        if sha == last.sha256:
            cache.remember(state, sha)  # touched or copied over with the same bytes
        else:
            out.append(fs)
    return out


def ingest_pending(
    settings: Settings,
    paths: Iterable[str] | None = None,
    run_id: str | None = None,
    progress: Callable[[int, int, LedgerEntry], None] | None = None,
    files: Iterable[str] | None = None,
) -> BatchResult:
    """Process the pending files: all of them, or only those among them whose path is in
    ``paths`` or whose :func:`path_digest` is in ``files`` (what the sensor sends)."""
    result = BatchResult()
    started = time.perf_counter()
    with ingest_lock(settings.lock_path):
        ensure_landing_schemas(settings)
        entries = read_ledger(settings.ledger_path)
        index = LedgerIndex.build(entries)
        cache = StateCache(state_cache_path(settings))
        listed = list_inbox(settings.raw_dir)
        result.relanded = heal_outputs(settings, entries, listed)
        rekey_landing(settings.landing_dir, settings.pii_key)
        try:
            todo = pending_files(settings, listed, index, cache)
            if paths is not None:
                wanted = set(paths)
                todo = [f for f in todo if f.path in wanted]
            if files is not None:
                digests = set(files)
                todo = [f for f in todo if path_digest(f.path) in digests]
            result.timings["scan_s"] = time.perf_counter() - started
            for i, fs in enumerate(todo, start=1):
                entry = _ingest_one(settings, fs, index, cache, run_id, result)
                if entry is not None and progress:
                    try:
                        progress(i, len(todo), entry)
                    except Exception as exc:
                        log.error("progress callback failed (%s)", type(exc).__name__)
        finally:
            cache.save(f.path for f in listed)
    result.timings["total_s"] = time.perf_counter() - started
    return result


def _ingest_one(
    settings: Settings, fs: FileState, index: LedgerIndex, cache: StateCache, run_id: str | None,
    result: BatchResult,
) -> LedgerEntry | None:
    """One file, start to ledger; whatever goes wrong stays with this file."""
    try:
        entry, state = process_one(settings, fs, index, run_id)
        if entry is None:  # the same bytes as this path's last entry: nothing new
            cache.remember(state, index.last_by_path[fs.path].sha256)
            return None
        fault_point("ingest.landed")  # crash-safety tests: outputs landed, ledger not yet
        append_entries(settings.ledger_path, [entry])
        index.add(entry)
        cache.remember(state, entry.sha256)
        result.entries.append(entry)
        log.info(
            "ingested file=%s seq=%d sha256=%s dataset=%s street=%s status=%s read=%d loaded=%d quarantined=%d",
            log_ref(entry.path), entry.seq, entry.sha256[:12], entry.dataset, entry.street_code, entry.status,
            entry.rows_read, entry.rows_loaded, entry.rows_quarantined,
        )
        return entry
    except FileNotFoundError:
        log.warning("file vanished before it was read: %s", fs.log_ref())
    except FileChanged:
        log.warning("file changed while it was read: %s; it waits for the next run", fs.log_ref())
    except Exception as exc:  # a bug or an I/O fault: not the street's fault
        # the type only: an exception's text or traceback may quote the file name
        log.error("internal error (%s) on %s; it stays pending", type(exc).__name__, fs.log_ref())
        result.errors.append((fs.path, type(exc).__name__))
    return None


def _output_whole(settings: Settings, rel: str | None) -> bool:
    if rel is None:
        return True
    try:
        pq.ParquetFile(settings.data_dir / rel).metadata  # noqa: B018  (reads the footer)
    except Exception:
        return False
    return True


def heal_outputs(settings: Settings, entries: list[LedgerEntry], listed: list[FileState]) -> list[str]:
    """Re-make the landing, quarantine and problems files of a loaded submission whose
    file is missing or unreadable, from its raw file when that still holds the same bytes
    (raw files are never changed by the pipeline, and reading is deterministic: the
    same rows, lines and reasons). Returns the file references healed. One that cannot
    be re-made (the raw file is gone or changed) is left for the reconciliation check,
    which stops the run naming it."""
    by_path = {fs.path: fs for fs in listed}
    healed: list[str] = []
    for e in entries:
        if e.status != Status.LOADED or not e.dataset or not e.street_code:
            continue
        if all(_output_whole(settings, rel) for rel in (e.landing_path, e.quarantine_path, e.problems_path)):
            continue
        fs = by_path.get(e.path)
        try:
            if fs is None or fs.kind != FILE:
                raise FileNotFoundError(e.path)
            sha, state = fingerprint(settings.raw_dir, fs)
            if sha != e.sha256:
                raise FileChanged(e.path)
            again = dataclasses.replace(e)
            dataset = DATASETS_BY_NAME[e.dataset]
            raw = read_submission(settings.raw_dir / state.os_path, dataset)
            check_unchanged(settings.raw_dir, state)
            if raw.frame.height <= SLICE_ROWS:
                _land(settings, again, dataset, e.street_code, validate(raw.frame, dataset, e.street_code))
            else:
                _land_sliced(settings, again, dataset, e.street_code, raw)
        except (FileNotFoundError, FileChanged, FileRejected) as exc:
            log.warning("the landed data of %s is missing or damaged and its raw file %s: it cannot be "
                        "re-made", e.file_ref, "changed" if isinstance(exc, FileChanged) else "is gone")
            continue
        same = (again.rows_loaded, again.rows_quarantined) == (e.rows_loaded, e.rows_quarantined)
        log.warning("the landed data of %s was missing or damaged: re-made from its raw file (%s)",
                    e.file_ref, "the same rows" if same else "the counts differ: reconciliation will say")
        healed.append(e.file_ref)
    return healed


def _rejected(entry: LedgerEntry, code: str, column: str | None = None, detail: str | None = None,
              columns: Sequence[str] = (), unknown_headers: Sequence[str] = ()) -> LedgerEntry:
    """Mark ``entry`` rejected by rule ``code``, naming ``column`` (or every one of
    ``columns``, ``column`` being the first) and the header cells that name no column."""
    named = list(columns) or ([column] if column else [])
    entry.status = Status.REJECTED
    entry.error_code = code
    entry.error_column = column
    entry.error_columns = named or None
    entry.unknown_headers = list(unknown_headers) or None
    entry.error = rule(code).message_en(column=", ".join(named), detail=f" ({detail})" if detail else "")
    return entry


def process_one(
    settings: Settings, fs: FileState, index: LedgerIndex, run_id: str | None
) -> tuple[LedgerEntry | None, FileState]:
    """The ledger entry of the file at ``fs`` (None: the same bytes as the path's last
    entry) and the state its bytes were hashed in. A link or a special file is rejected
    without being opened; a regular file is hashed without following links, read, and
    checked unchanged before anything lands."""
    sha, state = fingerprint(settings.raw_dir, fs)
    last = index.last_by_path.get(fs.path)
    if last is not None and last.sha256 == sha:
        return None, state
    abs_path = settings.raw_dir / state.os_path
    loc = locate(state.path)
    entry = LedgerEntry(
        seq=index.next_seq,
        path=state.path,
        sha256=sha,
        bytes=state.size,
        mtime_ns=state.mtime_ns,
        dataset=loc.dataset if loc.dataset in DATASETS_BY_NAME else None,
        street_code=loc.street_code if loc.street_code and is_known_street(loc.street_code) else None,
        first_seen=_now(),
        status=Status.LOADED,
        run_id=run_id,
    )
    if state.kind == LINK:
        return _rejected(entry, "file.link"), state
    if state.kind != FILE:
        return _rejected(entry, "file.unreadable", detail="not a regular file: never opened"), state
    original = index.loaded_by_sha.get(sha)
    if original is not None:
        # the same bytes as an earlier loaded submission, under another name or street
        # (the warehouse identifies a loaded submission by its sha256 alone)
        entry.status = Status.DUPLICATE
        entry.error_code = "file.duplicate"
        entry.duplicate_of = original.path
        other = "" if original.street_code == entry.street_code else f"of street {original.street_code or '(none)'}, "
        # the earlier file by its reference: a street's file name may hold a person's name
        entry.error = rule("file.duplicate").message_en(detail=f" ({other}{log_ref(original.path)})")
        return entry, state
    validated: Validated | None = None
    try:
        dataset, street = _check_location(settings, state, loc)
        raw = read_submission(abs_path, dataset)
        check_unchanged(settings.raw_dir, state)  # what was read is what was hashed
        entry.file_format, entry.encoding = raw.file_format, raw.encoding
        if raw.frame.height <= SLICE_ROWS:
            validated = validate(raw.frame, dataset, street)
    except FileRejected as rej:
        check_unchanged(settings.raw_dir, state)
        return _rejected(entry, rej.code, rej.column, rej.detail, rej.columns, rej.unknown_headers), state
    if validated is not None:
        _land(settings, entry, dataset, street, validated)
    else:
        _land_sliced(settings, entry, dataset, street, raw)
    return entry, state


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
    write_landing_parquet(with_derived_columns(v.good.with_columns(tag), dataset, settings.pii_key),
                          settings.landing_dir / rel, dataset, settings.pii_key)
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

    def __init__(self, target: Path, metadata: dict[str, str] | None = None) -> None:
        self.target = target
        self.tmp = temp_beside(target)
        self.metadata = metadata
        self._writer: pq.ParquetWriter | None = None

    def write(self, frame: pl.DataFrame) -> None:
        table = frame.to_arrow(compat_level=pl.CompatLevel.oldest())
        if self.metadata and self._writer is None:
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), **self.metadata})
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
        move_into_place(self.tmp, self.target)
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
    landing = _ParquetSink(settings.landing_dir / rel, parquet_metadata(dataset, settings.pii_key))
    quarantine = _ParquetSink(settings.quarantine_dir / rel)
    problems = _ParquetSink(settings.problems_dir / rel)
    sinks = (landing, quarantine, problems)
    read = loaded = quarantined = warned = 0

    def write(v: Validated) -> None:
        landing.write(with_derived_columns(v.good.with_columns(tag), dataset, settings.pii_key))
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


def ensure_landing_schemas(settings: Settings) -> None:
    """An empty, typed Parquet per dataset so every landing glob matches at least one
    file with the contract's columns, even before any street has sent that dataset."""
    for dataset in DATASETS:
        target = settings.landing_dir / dataset.name / "_schema" / "empty.parquet"
        if target.exists():
            continue
        empty = with_derived_columns(empty_landing_frame(dataset), dataset, settings.pii_key)
        write_landing_parquet(empty, target, dataset, settings.pii_key)


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
