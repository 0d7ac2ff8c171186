"""Reconciliation: every row read is accounted for, from the file to the landing zone.

Two checks per ledgered file: the ledger's own arithmetic
(``rows_read = rows_loaded + rows_quarantined``) and the files on disk (the landing
Parquet holds ``rows_loaded`` rows, the quarantine Parquet ``rows_quarantined``).
A failure names the file by its file reference (the street's file name may carry a
person's name, and failures reach the Dagster event log).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow.parquet as pq

from pipelines.config import Settings

from .ledger import LedgerEntry, Status, read_ledger


@dataclass
class Reconciliation:
    files_checked: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    failures: list[str] = field(default_factory=list)  # "file_ref: what is wrong" (no values)

    @property
    def ok(self) -> bool:
        return not self.failures


def _parquet_rows(settings: Settings, rel: str | None) -> int:
    if rel is None:
        return 0
    return pq.ParquetFile(settings.data_dir / rel).metadata.num_rows


def reconcile(settings: Settings, entries: list[LedgerEntry] | None = None) -> Reconciliation:
    if entries is None:
        entries = read_ledger(settings.ledger_path)
    rep = Reconciliation()
    for e in entries:
        rep.files_checked += 1
        rep.rows_read += e.rows_read
        rep.rows_loaded += e.rows_loaded
        rep.rows_quarantined += e.rows_quarantined
        if not e.reconciles:
            rep.failures.append(
                f"{e.file_ref}: rows_read {e.rows_read} != loaded {e.rows_loaded} + quarantined {e.rows_quarantined}"
            )
        if e.status != Status.LOADED:
            if e.rows_read or e.landing_path:
                rep.failures.append(f"{e.file_ref}: {e.status} file has rows or a landing file")
            continue
        try:
            landed = _parquet_rows(settings, e.landing_path)
            quarantined = _parquet_rows(settings, e.quarantine_path)
        except FileNotFoundError as exc:
            rep.failures.append(
                f"{e.file_ref}: missing {exc.filename}, and its raw file is gone or changed so it "
                "cannot be re-made: restore the file from a backup, or have the street send it again"
            )
            continue
        if landed != e.rows_loaded:
            rep.failures.append(f"{e.file_ref}: landing holds {landed} rows, ledger says {e.rows_loaded}")
        if quarantined != e.rows_quarantined:
            rep.failures.append(
                f"{e.file_ref}: quarantine holds {quarantined} rows, ledger says {e.rows_quarantined}"
            )
    return rep
