"""Append-only JSON-lines files (the ingestion ledger, the alert outbox): a write torn by
a crash or a full disk leaves a last line without its newline. Readers skip it; before
the next append it is cut, or the next record would be glued to it and both lost."""

from __future__ import annotations

import os
from typing import BinaryIO


def cut_torn_tail(fh: BinaryIO) -> int:
    """Truncate ``fh`` (opened for reading and writing, binary) after its last newline
    when it does not end in one; leave it at its end. Returns the bytes cut."""
    size = fh.seek(0, os.SEEK_END)
    if size == 0:
        return 0
    fh.seek(size - 1)
    if fh.read(1) == b"\n":
        return 0
    keep, pos = 0, size
    while pos > 0:
        start = max(0, pos - 65536)
        fh.seek(start)
        at = fh.read(pos - start).rfind(b"\n")
        if at >= 0:
            keep = start + at + 1
            break
        pos = start
    fh.truncate(keep)
    fh.seek(0, os.SEEK_END)
    return size - keep
