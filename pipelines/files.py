"""Files shared safely between processes: an exclusive lock.

:func:`exclusive` holds an ``fcntl.flock`` on a lock file (created, with its folder, if
missing) for a ``with`` block. The kernel drops a flock when its holder dies, however
it dies (SIGKILL included), so a killed process never blocks the next one. A flock is
only as good as the file system's: keep the data directory on a local disk.

The bottom layer (docs/architecture.md): imports nothing from ``pipelines``.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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
