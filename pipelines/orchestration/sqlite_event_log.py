"""Dagster's SQLite event log, with an open connection per database instead of one per event.

Dagster's ``SqliteEventLogStorage`` creates an SQLAlchemy engine, opens a connection,
writes and closes it for every event it stores, two or three times per asset event (the
run's own database, then the cross-run index). Closing the last connection to a WAL
database checkpoints it and deletes its ``-wal`` file, and a new engine compiles every
statement afresh: 5.7 ms per event on an idle 2-core machine (10-20 ms while the test
suite runs), and a run of this pipeline stores about 1,300 (one per dbt model, test and
step event), so 7 s of every run or more. Pooled, an event costs 1.6 ms
(``bench/event_store.py``).

:class:`PooledSqliteEventLogStorage` keeps one engine per database (the run databases a
long-lived process touches are bounded: the least recently used are closed) and one
pooled connection in each. The files and their layout are Dagster's own, so every
Dagster process and tool reads them, and the instance healing
(``instance_heal.py``) judges and moves them as before. Two things a pooled connection
changes, both handled here:

* a database file replaced under a live process (moved aside by the healing of another
  process, deleted): a connection is checked out only while its file is still the one it
  opened (same inode), otherwise it is dropped and the path opened again, as Dagster's
  per-event connections would;
* the webserver's live view of a run watches the run's database file for changes: with
  the connection kept open, writes reach the ``-wal`` file and the database file only at
  checkpoints, so the watcher here watches both.

``union-warehouse`` writes the instance's ``dagster.yaml`` with this class for the
SQLite default (``instance_config.instance_yaml``); on PostgreSQL it is not used.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as db
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
    SqliteEventLogStorageWatchdog,
)
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine

MAX_OPEN_DATABASES = 16  # engines kept per process: the index and the latest runs' databases


def _file_id(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _pooled_engine(path: str, conn_string: str) -> Engine:
    """An engine holding one open connection to ``path``, dropped when the file changes."""
    engine = db.create_engine(
        conn_string,
        pool_size=1,
        max_overflow=4,  # a second thread meanwhile (the lock in _connect makes it rare)
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
    )

    @db.event.listens_for(engine, "connect")
    def _remember(_dbapi_connection: Any, record: Any) -> None:
        record.info["file_id"] = _file_id(path)

    @db.event.listens_for(engine, "checkout")
    def _still_the_same_file(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.info.get("file_id") != _file_id(path):
            raise db.exc.DisconnectionError(f"{path} was replaced or removed")  # the pool reconnects

    return engine


class _WalWatchdog(SqliteEventLogStorageWatchdog):
    """Dagster's watcher of a run's events, firing on its ``-wal`` file too."""

    def __init__(self, storage: SqliteEventLogStorage, run_id: str, callback: Any, cursor: str | None) -> None:
        super().__init__(storage, run_id, callback, cursor)
        self._patterns = [self._log_path, self._log_path + "-wal"]

    def on_modified(self, event: Any) -> None:
        self._process_log()


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` with an engine and a pooled connection per database."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        self._tables: set[str] = set()  # index tables seen to exist (a table is never dropped)
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Any) -> PooledSqliteEventLogStorage:  # type: ignore[override]
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            engine = _pooled_engine(self.path_for_shard(shard), self.conn_string_for_shard(shard))
            self._engines[shard] = engine
            while len(self._engines) > MAX_OPEN_DATABASES:
                _, oldest = self._engines.popitem(last=False)
                oldest.dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:  # type: ignore[override]
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        """Whether the index database has ``table_name``. Dagster asks before storing every
        asset check event, through a new engine each time (about 10 ms: 3 s of a run's
        330 check events); a table once there stays (a migration only adds), so a yes is
        remembered, and the question goes through the pooled engine. Not through
        :meth:`_connect`: Dagster also asks while it holds the index connection (and the
        lock) for a write."""
        if table_name in self._tables:
            return True
        engine = self._engine(INDEX_SHARD_NAME)
        with engine.connect() as conn:
            found = bool(engine.dialect.has_table(conn, table_name))
        if found:
            self._tables.add(table_name)
        return found

    def _close_all(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
            self._tables.clear()  # the files may go (wipe) or be replaced (healing)

    def watch(self, run_id: str, cursor: str | None, callback: Any) -> None:
        from watchdog.observers import Observer

        if not self._obs:
            self._obs = Observer()
            self._obs.start()
        watchdog = _WalWatchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (watchdog, self._obs.schedule(watchdog, self._base_dir, recursive=True))

    def wipe(self) -> None:
        self._close_all()  # before the files go
        super().wipe()

    def dispose(self) -> None:
        self._close_all()
        super().dispose()
