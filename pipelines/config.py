"""Where things live and the knobs an operator can turn, read from the environment.

The README's configuration table lists them all; here ``UNION_RAW_DIR`` (drop zone, default ``raw/``),
``UNION_DATA_DIR`` (everything the pipeline writes, default ``data/``), ``UNION_PII_KEY``
(key of the ID-number hash), ``UNION_MAX_FILE_BYTES`` (file size limit).
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from datetime import timedelta, timezone
from pathlib import Path

# The federation's clock (UTC+8, no daylight saving): what clerks and operators read.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

log = logging.getLogger(__name__)

DEMO_PII_KEY = "dongcheng-demo-key-not-for-production"
DEFAULT_MAX_FILE_BYTES = 2 * 1024**3  # 2 GiB: larger files are rejected whole


@functools.cache
def _warn_demo_key() -> None:
    log.warning("UNION_PII_KEY is not set: using the demo key (not for production)")


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    data_dir: Path
    pii_key: str = DEMO_PII_KEY
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES

    @classmethod
    def from_env(cls, *, warn_demo_key: bool = True) -> Settings:
        """The settings from the environment; without ``UNION_PII_KEY`` the demo key, with a
        warning unless ``warn_demo_key`` is false (for what hashes nothing)."""
        key = os.environ.get("UNION_PII_KEY")
        if not key:
            if warn_demo_key:
                _warn_demo_key()
            key = DEMO_PII_KEY
        return cls(
            raw_dir=Path(os.environ.get("UNION_RAW_DIR", "raw")).resolve(),
            data_dir=Path(os.environ.get("UNION_DATA_DIR", "data")).resolve(),
            pii_key=key,
            max_file_bytes=int(os.environ.get("UNION_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES)),
        )

    # --- the drop zone -------------------------------------------------------------------
    @property
    def inbox(self) -> Path:
        return self.raw_dir / "inbox"

    # --- what the pipeline writes --------------------------------------------------------
    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def quarantine_dir(self) -> Path:
        """Restricted to operators: holds the original values of quarantined rows."""
        return self.data_dir / "quarantine"

    @property
    def problems_dir(self) -> Path:
        return self.data_dir / "problems"

    @property
    def ledger_path(self) -> Path:
        return self.data_dir / "ledger" / "ingestion_ledger.jsonl"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / "ledger" / ".ingest.lock"

    @property
    def receipts_dir(self) -> Path:
        return self.data_dir / "receipts"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse" / "working.duckdb"

    @property
    def published_path(self) -> Path:
        return self.data_dir / "published" / "warehouse.duckdb"

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox" / "alerts.jsonl"

    # --- state that outlives any rebuild of the working warehouse -----------------------
    @property
    def alerts_state_path(self) -> Path:
        """Alert identities, their events and delivery state (append-mostly DuckDB file)."""
        return self.data_dir / "alerts" / "alerts.duckdb"

    @property
    def history_path(self) -> Path:
        """Append-only indicator history and the publish manifests (DuckDB file)."""
        return self.data_dir / "history" / "history.duckdb"

    @property
    def receipt_summaries_dir(self) -> Path:
        """One Parquet per run: files, rows and problems by rule code, per street."""
        return self.data_dir / "receipts" / "_summaries"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"
