"""Where a submission's receipt goes, and which ledger entries get one.

``receipts/<street_code>/<id>.xlsx`` and ``.json``; ``<id>`` is
``<dataset>__<file name>__<12 hex of sha256(path + sha256)>``, stable for a given (path,
content). A file in a street folder that is not in the street list has no street: its
receipt goes to ``receipts/_unknown/``. ``receipts/_pending/`` holds the markers of
receipts written before the quality gate judged their file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipelines.config import Settings
from pipelines.ingest.ledger import LedgerEntry

from .sources import quality_verdict

UNKNOWN_STREET_DIR = "_unknown"
PENDING_DIR = "_pending"


@dataclass(frozen=True)
class ReceiptPaths:
    xlsx: Path
    json: Path
    pending: Path  # marker: the receipt was written before the quality verdict existed


def street_dir(entry: LedgerEntry) -> str:
    return entry.street_code or UNKNOWN_STREET_DIR


def receipt_id(entry: LedgerEntry) -> str:
    name = entry.path.rsplit("/", 1)[-1]
    safe = re.sub(r"[^\w.\-]+", "_", name).strip("._")[:80] or "file"
    digest = hashlib.sha256(f"{entry.path}\n{entry.sha256}".encode()).hexdigest()[:12]
    return f"{entry.dataset or '_'}__{safe.replace('.', '_')}__{digest}"


def receipt_paths(settings: Settings, entry: LedgerEntry) -> ReceiptPaths:
    rid = receipt_id(entry)
    folder = settings.receipts_dir / street_dir(entry)
    pending = settings.receipts_dir / PENDING_DIR / street_dir(entry) / rid
    return ReceiptPaths(folder / f"{rid}.xlsx", folder / f"{rid}.json", pending)


def receipt_entries(entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
    """The first ledger entry of each distinct (path, sha256), in ledger order."""
    seen: set[tuple[str, str]] = set()
    out: list[LedgerEntry] = []
    for e in entries:
        if (e.path, e.sha256) not in seen:
            seen.add((e.path, e.sha256))
            out.append(e)
    return out


def needs_receipt(settings: Settings, entry: LedgerEntry) -> bool:
    paths = receipt_paths(settings, entry)
    if not (paths.json.exists() and paths.xlsx.exists()):
        return True
    return paths.pending.exists() and quality_verdict(settings, entry).state != "pending"
