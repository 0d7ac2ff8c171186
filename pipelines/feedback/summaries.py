"""Per run, per street: what the streets sent and what became of it, in counts only.

One Parquet per run at ``$UNION_DATA_DIR/receipts/_summaries/<run id>.parquet``
(``_no_run_id.parquet`` for files ingested outside a run), one row per street that sent
files in that run, with the schema :data:`SUMMARY_SCHEMA`. A summary is a pure
function of the ledger, the problems Parquet and the quality verdicts of that run's
files, so writing it again gives the same rows (a file written before the quality gate
judged the run's files is written again with the verdicts when their receipts are). No
names, ID numbers, phones or file names: rule codes and counts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.config import Settings
from pipelines.files import replacing
from pipelines.ingest.ledger import LedgerEntry, Status

from .sources import problem_counts, quality_verdict

NO_RUN_ID = "_no_run_id"
SUMMARY_GLOB = "*.parquet"

_TS = pa.timestamp("us", tz="UTC")
SUMMARY_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string()),  # the ingestion run (Dagster run id); null outside one
        pa.field("street_code", pa.string()),  # null: a street folder not in the street list
        pa.field("files", pa.int64(), nullable=False),
        pa.field("files_loaded", pa.int64(), nullable=False),  # incl. held back
        pa.field("files_rejected", pa.int64(), nullable=False),
        pa.field("files_duplicate", pa.int64(), nullable=False),
        pa.field("files_held_back", pa.int64(), nullable=False),  # failed a critical expectation
        pa.field("files_quality_pending", pa.int64(), nullable=False),  # not judged yet
        pa.field("rows_read", pa.int64(), nullable=False),
        pa.field("rows_loaded", pa.int64(), nullable=False),
        pa.field("rows_quarantined", pa.int64(), nullable=False),
        pa.field("rows_warned", pa.int64(), nullable=False),
        pa.field("problems", pa.int64(), nullable=False),  # row problems (quarantine + warning)
        pa.field(
            "problems_by_code",  # row problems per rule code, and each file's one reason
            pa.list_(
                pa.struct(
                    [
                        pa.field("code", pa.string(), nullable=False),
                        pa.field("severity", pa.string(), nullable=False),
                        pa.field("count", pa.int64(), nullable=False),
                    ]
                )
            ),
            nullable=False,
        ),
        pa.field("first_received_at", _TS),
        pa.field("last_received_at", _TS),
        pa.field("summarised_at", _TS, nullable=False),
    ]
)

_COUNTS = (
    "files",
    "files_loaded",
    "files_rejected",
    "files_duplicate",
    "files_held_back",
    "files_quality_pending",
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "rows_warned",
    "problems",
)


def summary_path(settings: Settings, run_id: str | None) -> Path:
    name = re.sub(r"[^\w.\-]+", "_", run_id) if run_id else NO_RUN_ID
    return settings.receipt_summaries_dir / f"{name}.parquet"


def _received(entry: LedgerEntry) -> datetime | None:
    try:
        moment = datetime.fromisoformat(entry.first_seen)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def summarise(settings: Settings, entries: Iterable[LedgerEntry]) -> list[dict[str, object]]:
    """One row per street among ``entries`` (the files of one run), in street order."""
    by_street: dict[str | None, list[LedgerEntry]] = {}
    for e in entries:
        by_street.setdefault(e.street_code, []).append(e)
    now = datetime.now(UTC)
    rows: list[dict[str, object]] = []
    for street in sorted(by_street, key=lambda s: (s is None, s or "")):
        files = by_street[street]
        n: Counter[str] = Counter()
        codes: Counter[tuple[str, str]] = Counter()
        for e in files:
            verdict = quality_verdict(settings, e)
            n["files"] += 1
            n["files_loaded"] += e.status == Status.LOADED
            n["files_rejected"] += e.status == Status.REJECTED
            n["files_duplicate"] += e.status == Status.DUPLICATE
            n["files_held_back"] += verdict.state == "held_back"
            n["files_quality_pending"] += verdict.state == "pending"
            n["rows_read"] += e.rows_read
            n["rows_loaded"] += e.rows_loaded
            n["rows_quarantined"] += e.rows_quarantined
            n["rows_warned"] += e.rows_warned
            for (code, _column, severity), count in problem_counts(settings, e).items():
                codes[(code, severity)] += count
                if severity in ("quarantine", "warning"):
                    n["problems"] += count
        received = [t for t in map(_received, files) if t is not None]
        rows.append(
            {
                "run_id": files[0].run_id,
                "street_code": street,
                **{k: int(n[k]) for k in _COUNTS},
                "problems_by_code": [
                    {"code": c, "severity": s, "count": k} for (c, s), k in sorted(codes.items())
                ],
                "first_received_at": min(received, default=None),
                "last_received_at": max(received, default=None),
                "summarised_at": now,
            }
        )
    return rows


def write_summary(settings: Settings, run_id: str | None, entries: Iterable[LedgerEntry]) -> Path:
    """Write the summary of run ``run_id`` from its ledger entries (all of ``entries``
    whose run is ``run_id``); atomic (temporary name, then rename)."""
    rows = summarise(settings, (e for e in entries if e.run_id == run_id))
    table = pa.Table.from_pylist(rows, schema=SUMMARY_SCHEMA)
    target = summary_path(settings, run_id)
    with replacing(target) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return target


def write_summaries(
    settings: Settings, entries: list[LedgerEntry], run_ids: Iterable[str | None]
) -> list[Path]:
    return [
        write_summary(settings, r, entries) for r in sorted(set(run_ids), key=lambda r: r or "")
    ]
