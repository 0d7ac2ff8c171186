"""The drop zone: which files are there, and which of them the ledger has not seen.

Listing is cheap (one ``lstat`` per entry, no hashing) so the sensor can call it every
tick; the ledger is the source of truth for what has been processed.

Decisions (tests/test_dropzone_hostile.py):

* **Nothing outside a street's own folder is ever read through the drop zone.** The
  listing never follows a symbolic link: a link (to a file, a directory, or nowhere) is
  listed as itself (``kind="link"``) and rejected whole (``file.link``) without its
  target being opened, hashed or even stat'ed; a linked directory is not descended. Its
  ledger ``sha256`` is :func:`link_digest`: the SHA-256 of ``b"symlink\\0"`` and the
  link's own text (what ``readlink`` returns), so a retargeted link is a new entry and
  the target's bytes never reach the ledger. Other entries that are not regular files
  (FIFOs, sockets, devices: ``kind="special"``) are never opened either (a FIFO would
  block the run forever): rejected ``file.unreadable`` (not a regular file), ``sha256``
  :func:`special_digest`. Files are hashed through ``O_NOFOLLOW`` after every folder
  below ``inbox/`` was checked not to be a link (:func:`fingerprint`). The ``inbox``
  folder itself may be a link the operator set up.
* **A file name that is not UTF-8** (zips made on Chinese Windows unpack with GBK
  names) is still the street's file. Its ledger path (always valid UTF-8, it goes into
  JSON) decodes that name as GB18030 when the bytes decode and encode back to the very
  same bytes, so the clerk's receipt shows the name they gave (``张三会员.csv``); else,
  or when a sibling already has that name in UTF-8, the name with each undecodable byte
  written ``\\xNN`` (``raw.decode("utf-8", "backslashreplace")``). UTF-8 names are
  their own ledger path. :attr:`FileState.os_name` keeps the real name for opening the
  file and :func:`resolve` maps a ledger path back to the file on disk. Folder names are
  mapped the same way, so a street or dataset folder that is not UTF-8 names a street or
  dataset only as its ledger name does: a GBK ``会员信息`` folder (GB18030-decoded to
  that name) is the members folder, like its UTF-8 twin; a name left escaped (``\\xNN``)
  names none (``file.unknown_street`` / ``file.unknown_dataset``).
* **A dataset folder may bear the dataset's English or Chinese name** (``members`` or
  ``会员信息``; :func:`dataset_of_folder`, from the contract). The ledger keeps the path as
  it is on disk and records the dataset by its English name, so everything past the
  ledger sees one dataset; the same bytes in both folders are a duplicate as anywhere.
* **A change of content is always seen.** A file's cheap state is its size, mtime,
  ctime and inode: ``cp -p``, ``rsync -a`` and unzip keep the mtime, but writing a file
  always sets its ctime (which no user can set back), and a rename-into-place brings a
  new inode. When the state of an already ledgered path changes, the file is hashed;
  the same bytes as that path's last ledger entry is no new submission, other bytes are.
  :class:`StateCache` remembers "path in this state hashed to this SHA-256" so the next
  tick does not hash it again; it is only an optimisation (every entry is checked
  against the ledger's last entry for the path; a lost or deleted cache costs one more
  hash per file, never a wrong answer).
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from pipelines.contract import dataset_for_folder
from pipelines.files import atomic_write_bytes

log = logging.getLogger(__name__)

# Files a street's upload tool may leave while still writing: never read them.
_IGNORED_PREFIXES = (".", "~$")
_IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")

# what an inbox entry is (lstat, never following a link)
FILE = "file"  # a regular file
LINK = "link"  # a symbolic link: never followed
SPECIAL = "special"  # a FIFO, socket or device: never opened


@dataclass(frozen=True, order=True)
class FileState:
    mtime_ns: int
    path: str  # the ledger path: relative to the raw dir, forward slashes, valid UTF-8
    size: int
    ctime_ns: int = 0
    ino: int = 0
    kind: str = FILE
    # the path on disk (relative to the raw dir, os.fsdecode form) when it is not `path`
    # (a name that is not UTF-8); "" when it is `path`
    os_name: str = ""

    @property
    def os_path(self) -> str:
        """The path to open, relative to the raw dir (``path`` unless a name is not UTF-8)."""
        return self.os_name or self.path

    @property
    def key(self) -> tuple[str, int, int, int, int, str]:
        return (self.path, self.size, self.mtime_ns, self.ctime_ns, self.ino, self.kind)

    def token(self) -> str:
        """The cheap state: changes whenever the content can have changed."""
        return f"{self.size}:{self.mtime_ns}:{self.ctime_ns}:{self.ino}"

    def log_ref(self) -> str:
        """How log lines name the file: its folders and a digest of the path, not the
        street's own file name (which may carry a person's name); the ledger maps back."""
        return log_ref(self.path)


# What a file reference keeps of a path: the folders only when they are the drop zone's
# own plain names (inbox/<street>/<dataset>), the extension only when it is a plain one.
# Anything else a street typed (a folder or an "extension" named after a person) is
# folded into the digest. pipelines.warehouse.dbt_sources.file_ref_sql mirrors this.
PLAIN_FOLDERS = re.compile(r"inbox/[0-9A-Za-z_-]+/[0-9A-Za-z_-]+")
PLAIN_SUFFIX = re.compile(r"[0-9A-Za-z]{1,8}")


def log_ref(path: str) -> str:
    """The file reference used everywhere past the ledger and the street's own receipt
    (logs, metadata, published tables, alerts): never the street's own file name."""
    folders, _, name = path.rpartition("/")
    if not PLAIN_FOLDERS.fullmatch(folders):
        folders = "inbox"
    suffix = name.rsplit(".", 1)[1] if "." in name else ""
    if not PLAIN_SUFFIX.fullmatch(suffix):
        suffix = ""
    # surrogateescape: the same digest for every UTF-8 path, and no exception for any other
    digest = hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    return f"{folders}/#{digest}{'.' + suffix if suffix else ''}"


def path_digest(path: str) -> str:
    """A path as the Dagster instance stores it (sensor cursor, run config): a digest,
    never the street's own file name."""
    return hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()[:20]


@dataclass(frozen=True)
class Location:
    """What the path says about a file: ``inbox/<street_code>/<dataset>/<file>``.
    ``dataset`` is the dataset's name whichever of its names the folder bears."""

    street_code: str | None
    dataset: str | None


def is_ignored(name: str) -> bool:
    return name.startswith(_IGNORED_PREFIXES) or name.lower().endswith(_IGNORED_SUFFIXES)


# --- names that are not UTF-8 ----------------------------------------------------------------


def _name_candidates(os_name: str) -> tuple[bool, list[str]]:
    """(is UTF-8, the ledger names this directory entry may take, preferred first)."""
    raw = os.fsencode(os_name)
    try:
        return True, [raw.decode("utf-8")]
    except UnicodeDecodeError:
        pass
    out: list[str] = []
    try:
        text = raw.decode("gb18030")
        if text.encode("gb18030") == raw:
            out.append(text)
    except UnicodeDecodeError:
        pass
    out.append(raw.decode("utf-8", "backslashreplace"))
    return False, out


def ledger_names(os_names: Iterable[str]) -> dict[str, str]:
    """The ledger name of each entry of one directory (``os.fsdecode`` form -> valid
    UTF-8), one-to-one: a UTF-8 name is itself; another takes its first candidate that
    no sibling has (an entry left without a name is left out, and logged)."""
    names = sorted(set(os_names))
    out: dict[str, str] = {}
    others: list[tuple[str, list[str]]] = []
    for n in names:
        utf8, candidates = _name_candidates(n)
        if utf8:
            out[n] = candidates[0]
        else:
            others.append((n, candidates))
    taken = set(out.values())
    for n, candidates in others:  # sorted by their bytes' fsdecode form: deterministic
        for c in candidates:
            if c not in taken:
                out[n] = c
                taken.add(c)
                break
    return out


def resolve(raw_dir: Path, ledger_path: str) -> Path | None:
    """The file on disk a ledger path names (None when it is no longer there)."""
    current = raw_dir
    for part in ledger_path.split("/"):
        try:
            with os.scandir(current) as it:
                names = ledger_names(e.name for e in it)
        except OSError:
            return None
        matches = [os_name for os_name, name in names.items() if name == part]
        if not matches:
            return None
        current = current / matches[0]
    return current


# --- listing ----------------------------------------------------------------------------------


def _kind(mode: int) -> str | None:
    if stat.S_ISLNK(mode):
        return LINK
    if stat.S_ISREG(mode):
        return FILE
    if stat.S_ISDIR(mode):
        return None
    return SPECIAL


def _state(st: os.stat_result, path: str, os_path: str, kind: str) -> FileState:
    return FileState(st.st_mtime_ns, path, st.st_size, st.st_ctime_ns, st.st_ino, kind,
                     os_path if os_path != path else "")


def list_inbox(raw_dir: Path) -> list[FileState]:
    """Every candidate entry under ``raw_dir/inbox``, oldest first (then by path):
    regular files, and the links and special files found there (never followed)."""
    inbox = raw_dir / "inbox"
    if not inbox.is_dir():  # the inbox itself may be a link the operator set up
        return []
    out: list[FileState] = []
    _walk(inbox, "inbox", "inbox", out)
    return sorted(out)


def _walk(directory: Path, rel: str, rel_os: str, out: list[FileState]) -> None:
    try:
        with os.scandir(directory) as it:
            entries = list(it)
    except (FileNotFoundError, NotADirectoryError):  # removed while listing
        return
    except OSError as exc:
        log.warning("cannot list folder %s (%s): its files wait", log_ref(rel), type(exc).__name__)
        return
    names = ledger_names(e.name for e in entries)
    for e in entries:
        if is_ignored(e.name):
            continue
        name = names.get(e.name)
        if name is None:
            log.warning("an entry of folder %s has no unambiguous name: left out", log_ref(rel))
            continue
        child_rel, child_os = f"{rel}/{name}", f"{rel_os}/{e.name}"
        try:
            st = e.stat(follow_symlinks=False)
        except FileNotFoundError:  # removed while listing
            continue
        kind = _kind(st.st_mode)
        if kind is None:  # a real directory (a linked one is a LINK: not descended)
            _walk(directory / e.name, child_rel, child_os, out)
        else:
            out.append(_state(st, child_rel, child_os, kind))


def dataset_of_folder(folder: str) -> str:
    """The dataset a dataset folder names (its English or Chinese name, e.g. ``members``
    or ``会员信息``: :func:`pipelines.contract.dataset_for_folder`), or the folder as
    written when it names none (rejected ``file.unknown_dataset``, naming it)."""
    dataset = dataset_for_folder(folder)
    return dataset.name if dataset is not None else folder


def locate(rel_path: str) -> Location:
    parts = rel_path.split("/")
    # inbox / street / dataset / file
    if len(parts) == 4:
        return Location(parts[1], dataset_of_folder(parts[2]))
    if len(parts) == 3:
        return Location(parts[1], None)
    return Location(None, None)


# --- what is there now, without following anything -------------------------------------------


class NotRegularFile(Exception):
    """The path is (now) a link or a special file, or sits under a linked folder."""


class FileChanged(Exception):
    """The file changed while it was being read: it waits for the next run."""


def lstat_safely(raw_dir: Path, os_path: str) -> os.stat_result:
    """``lstat`` of a drop-zone path after checking that no folder below ``inbox/`` on
    the way is a link (or anything but a folder): :class:`NotRegularFile` if one is."""
    parts = os_path.split("/")
    current = raw_dir / parts[0]  # inbox: may be a link the operator set up
    for part in parts[1:-1]:
        current = current / part
        if not stat.S_ISDIR(os.lstat(current).st_mode):
            raise NotRegularFile("a folder on the way is a link or not a folder")
    return os.lstat(current / parts[-1])


def link_digest(path: Path) -> str:
    """The ledger ``sha256`` of a link: its own text, never its target's bytes."""
    return hashlib.sha256(b"symlink\0" + os.readlink(os.fsencode(path))).hexdigest()


def special_digest(st: os.stat_result) -> str:
    """The ledger ``sha256`` of a FIFO, socket or device: its type and device numbers."""
    return hashlib.sha256(f"special\0{stat.S_IFMT(st.st_mode)}:{st.st_rdev}".encode()).hexdigest()


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_ino, a.st_size, a.st_mtime_ns, a.st_ctime_ns) == (b.st_ino, b.st_size, b.st_mtime_ns, b.st_ctime_ns)


def hash_regular(path: Path, chunk: int = 8 * 1024 * 1024) -> tuple[str, os.stat_result]:
    """SHA-256 of a regular file opened with ``O_NOFOLLOW`` (and ``O_NONBLOCK``, so a FIFO
    swapped in cannot block), and its ``fstat`` from before the read:
    :class:`NotRegularFile` if it is not a regular file, :class:`FileChanged` if it
    changed while it was read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # the last component is a link
            raise NotRegularFile("a link") from None
        raise
    with open(fd, "rb", buffering=0) as fh:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise NotRegularFile("not a regular file")
        h = hashlib.sha256()
        while block := fh.read(chunk):
            h.update(block)
        if not _same(before, os.fstat(fd)):
            raise FileChanged
    return h.hexdigest(), before


def sha256_of(path: Path, chunk: int = 8 * 1024 * 1024) -> str:
    return hash_regular(path, chunk)[0]


def fingerprint(raw_dir: Path, fs: FileState) -> tuple[str, FileState]:
    """The ledger ``sha256`` of what is at ``fs``'s path now, and its state then: a
    regular file's bytes (hashed without following anything), a link's text
    (:func:`link_digest`), a special file's type (:func:`special_digest`). Nothing is
    opened but a regular file."""
    path = raw_dir / fs.os_path
    try:
        st = lstat_safely(raw_dir, fs.os_path)
    except NotRegularFile:
        raise FileChanged from None  # a folder on the way became a link: listed as one next time
    kind = _kind(st.st_mode)
    if kind is None:
        raise FileChanged  # a folder now
    if kind == LINK:
        sha = link_digest(path)
    elif kind == SPECIAL:
        sha = special_digest(st)
    else:
        try:
            sha, st = hash_regular(path)
        except NotRegularFile:
            raise FileChanged from None  # swapped since the lstat: judge it next time
    return sha, replace(fs, mtime_ns=st.st_mtime_ns, size=st.st_size, ctime_ns=st.st_ctime_ns,
                        ino=st.st_ino, kind=kind)


def check_unchanged(raw_dir: Path, fs: FileState) -> None:
    """:class:`FileChanged` unless the path (and every folder on the way) is still the
    regular file in state ``fs`` (call after reading it by path, before using what was read)."""
    try:
        st = lstat_safely(raw_dir, fs.os_path)
    except (NotRegularFile, FileNotFoundError):
        raise FileChanged from None
    if not stat.S_ISREG(st.st_mode) or _state(st, fs.path, fs.os_path, FILE).token() != fs.token():
        raise FileChanged


# --- the state cache ---------------------------------------------------------------------------

STATE_CACHE_NAME = "dropzone_state.json"
_CACHE_VERSION = 1


class StateCache:
    """``path -> (state token, sha256)``: "when the file at this path was in this state,
    its ledger sha256 was this". Kept next to the ledger, written atomically (temporary
    name, rename), merged with what is on disk when saved (the sensor and the runs both
    write it), rebuilt from nothing when missing or unreadable. The ledger stays the
    truth: an entry only counts while the ledger's last entry for the path has that sha256."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries = self._load()
        self._updates: dict[str, tuple[str, str]] = {}

    def _load(self) -> dict[str, tuple[str, str]]:
        try:
            data = json.loads(self.path.read_bytes())
            if data.get("version") != _CACHE_VERSION:
                return {}
            return {p: (str(v[0]), str(v[1])) for p, v in data["files"].items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
            log.warning("drop-zone state cache unreadable: rebuilding it (files are hashed once more)")
            return {}

    def sha_for(self, fs: FileState) -> str | None:
        """The sha256 remembered for ``fs``'s path in exactly ``fs``'s state."""
        hit = self.entries.get(fs.path)
        return hit[1] if hit is not None and hit[0] == fs.token() else None

    def remember(self, fs: FileState, sha256: str) -> None:
        self.entries[fs.path] = self._updates[fs.path] = (fs.token(), sha256)

    def save(self, present: Iterable[str] | None = None) -> None:
        """Write the remembered states (if any are new), dropping paths not ``present``."""
        if not self._updates:
            return
        merged = self._load()
        merged.update(self._updates)
        if present is not None:
            keep = set(present)
            merged = {p: v for p, v in merged.items() if p in keep}
        body = json.dumps({"version": _CACHE_VERSION, "files": {p: list(v) for p, v in sorted(merged.items())}},
                          ensure_ascii=False, separators=(",", ":"))
        try:
            atomic_write_bytes(self.path, body.encode("utf-8"))
        except OSError as exc:  # only an optimisation: the next tick hashes again
            log.warning("drop-zone state cache not written (%s)", type(exc).__name__)
            return
        self.entries = merged
        self._updates.clear()
