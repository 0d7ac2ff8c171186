"""Where a submission's receipt goes, and which ledger entries get one.

``receipts/<street_code>/<stem>_回执_<digest>.xlsx`` and ``.json``: ``<stem>`` is the
clerk's own file name without its extension, made safe for any file system
(:func:`file_stem`), and ``<digest>`` 8 hex digits of sha256(path + SHA-256), so the
name is stable for a given (path, content) and two files of the same name (in two
dataset folders, or two versions of one file) never share a receipt. The clerk sent
``会员名单2015年12月.csv``: the receipt is ``会员名单2015年12月_回执_1a2b3c4d.xlsx``.

The name holds the clerk's file name, which may be personal data: it stays in the
street's own receipts folder (and the ``_pending`` markers beside it). Logs, Dagster
metadata, alerts and tables name a file by its ``file_ref`` or ledger seq, never by
this name.

A file in a street folder that is not in the street list has no street: its receipt
goes to ``receipts/_unknown/``. ``receipts/_pending/`` holds the markers of receipts
written before the quality gate judged their file.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipelines.config import Settings
from pipelines.ingest.ledger import LedgerEntry

from .sources import quality_verdict

UNKNOWN_STREET_DIR = "_unknown"
PENDING_DIR = "_pending"

RECEIPT_MARK = "回执"
DIGEST_HEX = 8
# 50 characters: at most 150 bytes of UTF-8 for the stem, ~170 with the rest of the
# name (file systems allow 255), and a short enough path for Windows shares
MAX_STEM_CHARS = 50
DEFAULT_STEM = "文件"

# path separators and the characters Windows does not allow in a file name
_FORBIDDEN = frozenset('/\\:*?"<>|')
_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)]
)
_EXTENSION = re.compile(r"[A-Za-z][A-Za-z0-9]{0,4}")


@dataclass(frozen=True)
class ReceiptPaths:
    xlsx: Path
    json: Path
    pending: Path  # marker: the receipt was written before the quality verdict existed


def street_dir(entry: LedgerEntry) -> str:
    return entry.street_code or UNKNOWN_STREET_DIR


def _safe_char(ch: str) -> str:
    # control, format, surrogate, private-use and unassigned characters (category C*)
    return "_" if ch in _FORBIDDEN or unicodedata.category(ch).startswith("C") else ch


def file_stem(path: str) -> str:
    """The file's own name without folder and extension, safe as part of a file name on
    Linux, macOS and Windows: NFC, no path separator, control or Windows-forbidden
    character (each becomes ``_``), no leading or trailing space or dot, at most
    :data:`MAX_STEM_CHARS` characters, never a Windows device name; ``文件`` if nothing
    is left."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    base, dot, ext = name.rpartition(".")
    if dot and base and _EXTENSION.fullmatch(ext):
        name = base
    name = "".join(map(_safe_char, unicodedata.normalize("NFC", name)))
    name = re.sub(r"_{2,}", "_", re.sub(r"\s+", " ", name)).strip(" ._")
    if name.split(".", 1)[0].strip().upper() in _WINDOWS_RESERVED:
        name = "_" + name
    return name[:MAX_STEM_CHARS].rstrip(" ._") or DEFAULT_STEM


def receipt_digest(entry: LedgerEntry) -> str:
    """8 hex digits of sha256(path + SHA-256): the same for the same file, different for
    another path or other content."""
    return hashlib.sha256(f"{entry.path}\n{entry.sha256}".encode()).hexdigest()[:DIGEST_HEX]


def receipt_id(entry: LedgerEntry) -> str:
    """The receipt's file name without extension: ``<stem>_回执_<digest>``."""
    return f"{file_stem(entry.path)}_{RECEIPT_MARK}_{receipt_digest(entry)}"


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
