"""Files shared safely between processes: an exclusive lock, and a file replaced whole.

:func:`exclusive` holds an ``fcntl.flock`` on a lock file (created, with its folder, if
missing) for a ``with`` block. The kernel drops a flock when its holder dies, however
it dies (SIGKILL included), so a killed process never blocks the next one. A flock is
only as good as the file system's: keep the data directory on a local disk.

:func:`replacing` and the ``atomic_write_*`` functions write a file under a temporary
name beside its target, flush it to disk and rename it into place: a reader (or a crash)
sees the old file or the new one, never half of one. On an error the temporary file is
removed; after a crash one may be left (``.<name>.<pid>.<thread>.tmp``), which no reader
takes for the target.

The bottom layer (docs/architecture.md): imports nothing from ``pipelines``.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl


class Lock:
    """An open lock file; :attr:`held` says whether this process holds its flock."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.held = False

    def try_acquire(self) -> bool:
        """Take the lock if it is free, without waiting; whether it is held now."""
        if not self.held:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                return False
            self.held = True
        return True

    def acquire(self) -> None:
        """Take the lock, waiting (without a timeout) while another process holds it."""
        if not self.held:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            self.held = True


@contextmanager
def exclusive(path: Path, *, blocking: bool = True) -> Iterator[Lock]:
    """An exclusive ``flock`` on ``path`` (created, with its folder, if missing) while
    the block runs. ``blocking=False`` does not wait: the :class:`Lock` yielded says
    whether it is held, and may be taken later with :meth:`Lock.acquire`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    lock = Lock(fd)
    try:
        if blocking:
            lock.acquire()
        else:
            lock.try_acquire()
        yield lock
    finally:
        try:
            if lock.held:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def temp_beside(target: Path) -> Path:
    """A temporary name beside ``target`` that no other process or thread uses."""
    return target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")


def move_into_place(tmp: Path, target: Path) -> None:
    """Flush the finished ``tmp`` to disk and rename it to ``target``."""
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """Yields a temporary path to write ``target``'s new content to (its folder is
    created); on a clean exit it is flushed and renamed into place, on an error removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(target)
    try:
        yield tmp
        move_into_place(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(target: Path, data: bytes) -> None:
    with replacing(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: Path, text: str, encoding: str = "utf-8") -> None:
    with replacing(target) as tmp:
        tmp.write_text(text, encoding=encoding)


def atomic_write_parquet(frame: pl.DataFrame, target: Path, metadata: dict[str, str] | None = None) -> None:
    """A Parquet file (zstd level 1, with statistics, and ``metadata`` as its key-value
    metadata) written then renamed: a reader (or a crash) never sees half a file."""
    with replacing(target) as tmp:
        frame.write_parquet(tmp, compression="zstd", compression_level=1, statistics=True, metadata=metadata)
