"""A damaged Dagster instance (SQLite storage) is moved aside, not left for a person.

The embedded default keeps Dagster's run history, event logs and sensor cursors in
SQLite files under ``DAGSTER_HOME`` (``history/runs.db``, ``history/runs/index.db``,
``schedules/schedules.db``). A torn or truncated one makes every later run fail with
"database disk image is malformed" before it starts. None of it is the pipeline's data
(the ledger, landing, warehouse, alert state and published files are): it is the
operators' log of runs. So, for the instance the command line manages itself
(``<data dir>/dagster``), the damaged storage is moved aside (``damaged-<UTC time>/``,
never deleted) and a new one is created, with one line saying so; the run history
before that is in the folder moved aside. An instance the operator chose
(``DAGSTER_HOME``) is not touched: the run stops with one line naming the file and the fix.

An instance whose ``dagster.yaml`` stores elsewhere (PostgreSQL: ``instance_config.py``)
has nothing here to heal: SQLite files left under its home from before the switch are
not its storage, and are neither judged nor moved.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from .instance_config import storage_kind

SQLITE_FILES = ("history/runs.db", "history/runs/index.db", "schedules/schedules.db")
STORAGE_DIRS = ("history", "schedules")


class DamagedInstance(Exception):
    """The operator's Dagster instance has damaged storage; the message says what to do."""


def damaged_files(home: Path) -> list[tuple[Path, str]]:
    """(file, what SQLite says) for each storage file that does not pass ``quick_check``."""
    out: list[tuple[Path, str]] = []
    for rel in SQLITE_FILES:
        path = home / rel
        if not path.exists():
            continue
        try:
            with closing(sqlite3.connect(path, timeout=30)) as con:
                result = [r[0] for r in con.execute("pragma quick_check").fetchall()]
            if result != ["ok"]:
                out.append((path, "; ".join(str(r) for r in result[:3])))
        except sqlite3.DatabaseError as exc:
            out.append((path, str(exc)))
    return out


def heal_instance(home: Path, *, managed: bool) -> str | None:
    """Check the instance's SQLite storage; None when whole. When damaged: for a
    ``managed`` home, move its storage aside and return the line saying so; otherwise
    raise :class:`DamagedInstance` with the line naming the file and the fix. An instance
    not stored in SQLite is left alone (None)."""
    if storage_kind(home) != "sqlite":
        return None
    damaged = damaged_files(home)
    if not damaged:
        return None
    path, why = damaged[0]
    if not managed:
        raise DamagedInstance(
            f"the Dagster instance at {home} is damaged ({path.relative_to(home)}: {why}): "
            f"move {', '.join(d + '/' for d in STORAGE_DIRS)} out of {home} (a new instance is "
            "created; the pipeline's data does not live there) or restore them, and run again"
        )
    aside = home / f"damaged-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    aside.mkdir(parents=True, exist_ok=True)
    for name in STORAGE_DIRS:
        if (home / name).exists():
            os.replace(home / name, aside / name)
    return (
        f"the Dagster instance's storage was damaged ({path.relative_to(home)}: {why}): moved "
        f"aside to {aside}, a new one is created (the run history before it is in that folder)"
    )
