"""The drop zone: which files are there, and which of them the ledger has not seen.

Listing is cheap (no hashing) so the sensor can call it every tick; the ledger is the
source of truth for what has been processed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

# Files a street's upload tool may leave while still writing: never read them.
_IGNORED_PREFIXES = (".", "~$")
_IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")


@dataclass(frozen=True, order=True)
class FileState:
    mtime_ns: int
    path: str  # relative to the raw dir, forward slashes
    size: int

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.path, self.size, self.mtime_ns)

    def token(self) -> str:
        return f"{self.size}:{self.mtime_ns}"

    def log_ref(self) -> str:
        """How log lines name the file: its folders and a digest of the path, not the
        street's own file name (which may carry a person's name); the ledger maps back."""
        return log_ref(self.path)


def log_ref(path: str) -> str:
    folders, _, name = path.rpartition("/")
    suffix = name.rsplit(".", 1)[1][:8] if "." in name else ""
    digest = hashlib.sha256(path.encode("utf-8")).hexdigest()[:10]
    return f"{folders}/#{digest}{'.' + suffix if suffix else ''}"


@dataclass(frozen=True)
class Location:
    """What the path says about a file: ``inbox/<street_code>/<dataset>/<file>``."""

    street_code: str | None
    dataset: str | None


def is_ignored(name: str) -> bool:
    return name.startswith(_IGNORED_PREFIXES) or name.lower().endswith(_IGNORED_SUFFIXES)


def list_inbox(raw_dir: Path) -> list[FileState]:
    """Every candidate file under ``raw_dir/inbox``, oldest first (then by path)."""
    inbox = raw_dir / "inbox"
    if not inbox.is_dir():
        return []
    out: list[FileState] = []
    for p in inbox.rglob("*"):
        if is_ignored(p.name) or any(is_ignored(part) for part in p.relative_to(inbox).parts[:-1]):
            continue
        try:
            st = p.stat()
        except FileNotFoundError:  # removed while listing
            continue
        if not p.is_file():
            continue
        out.append(FileState(st.st_mtime_ns, p.relative_to(raw_dir).as_posix(), st.st_size))
    return sorted(out)


def locate(rel_path: str) -> Location:
    parts = rel_path.split("/")
    # inbox / street / dataset / file
    if len(parts) == 4:
        return Location(parts[1], parts[2])
    if len(parts) == 3:
        return Location(parts[1], None)
    return Location(None, None)


def sha256_of(path: Path, chunk: int = 8 * 1024 * 1024) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
