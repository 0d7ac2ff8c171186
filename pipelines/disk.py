"""A full disk: recognised, said in one line, and room kept for the operators' alert.

When the disk holding the data directory fills, whatever writes next fails: Dagster's
SQLite event log ("database or disk is full", or "disk I/O error"), DuckDB ("No space
left on device"), a Parquet file (``OSError`` ENOSPC). :func:`is_disk_full` recognises
each, through the chain of causes. Nothing is published half-way (the published
warehouse is replaced by a rename, only once its new version is whole), so the run just
stops; :func:`disk_full_line` says where and how much space there is.

The operators' alert must still be recorded and sent, yet it is written to the alert
state and the outbox on the same full disk. So the pipeline keeps a small reserve file
(:data:`RESERVE_BYTES`, ``<data dir>/space-reserve``) made at the start of each run when
there is room; on a full disk the reserve is removed (:func:`release_reserve`) to make
room for the alert, and made again at the next run once space has been freed.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

RESERVE_NAME = "space-reserve"
RESERVE_BYTES = 16 * 1024 * 1024
_MESSAGES = ("no space left on device", "database or disk is full", "disk quota exceeded")
# SQLite says only "disk I/O error" when a write fails for want of space: that is a full
# disk when the disk is (nearly) full, and something else otherwise.
_AMBIGUOUS = ("disk i/o error",)
NEARLY_FULL_BYTES = 1024 * 1024


def reserve_path(data_dir: Path) -> Path:
    return data_dir / RESERVE_NAME


def ensure_reserve(data_dir: Path, size: int = RESERVE_BYTES) -> bool:
    """Make the reserve file if it is missing or short; False when there is no room
    (the run goes on: it may well fail for the same reason, and say so)."""
    path = reserve_path(data_dir)
    try:
        if path.stat().st_size >= size:
            return True
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(data_dir)
    # a name of its own: runs started together each make theirs and rename it into
    # place (the last rename wins, both whole); a shared name raced (one renamed the
    # other's file away under it)
    partial = path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            try:
                os.posix_fallocate(fd, 0, size)
            except OSError as exc:  # a file system without fallocate: write the bytes
                if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                chunk = b"\0" * (1024 * 1024)
                for _ in range(0, size, len(chunk)):
                    os.write(fd, chunk)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(partial, path)
        return True
    except OSError as exc:
        partial.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            log.warning("no room for the %d MB space reserve in %s", size >> 20, data_dir)
            return False
        raise


def _remove_stale_partials(data_dir: Path) -> None:
    """Remove the partial reserve files of processes that died making them (killed runs)."""
    for partial in data_dir.glob(f"{RESERVE_NAME}.*.partial"):
        pid = partial.name[len(RESERVE_NAME) + 1:].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            partial.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def release_reserve(data_dir: Path) -> bool:
    """Remove the reserve (on a full disk, to make room for the operators' alert);
    True if there was one."""
    path = reserve_path(data_dir)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    log.warning("disk full: released the %s space reserve to record the alert", path)
    return True


def _chain(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [e.__cause__, e.__context__, getattr(e, "orig", None)]


def _existing(path: Path) -> Path:
    """``path``, or its nearest parent that exists (the file system it will be on)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def free_bytes(path: Path) -> int:
    """Free bytes on the file system holding ``path``."""
    return shutil.disk_usage(_existing(path)).free


def is_disk_full(problem: BaseException | str, data_dir: Path) -> bool:
    """Whether an exception (or the text of an error) means the disk is full."""
    if isinstance(problem, str):
        texts = [problem.lower()]
    else:
        chain = list(_chain(problem))
        if any(isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT) for e in chain):
            return True
        texts = [str(e).lower() for e in chain]
    if any(m in t for t in texts for m in _MESSAGES):
        return True
    return any(m in t for t in texts for m in _AMBIGUOUS) and free_bytes(data_dir) < NEARLY_FULL_BYTES


def disk_full_line(data_dir: Path) -> str:
    """One line: which disk, how much space, what to do."""
    usage = shutil.disk_usage(_existing(data_dir))
    return (
        f"the disk holding {data_dir} is full ({usage.free / 2**20:.1f} MB free of "
        f"{usage.total / 2**20:.1f} MB): free space there and run again; nothing was "
        "published half-way, and the rerun picks up where this run stopped"
    )
