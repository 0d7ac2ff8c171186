"""The Dagster instance ``union-warehouse`` manages: its ``dagster.yaml``, and where it stores.

The embedded default keeps the instance in SQLite files under ``$UNION_DATA_DIR/dagster``
(``DAGSTER_HOME``), configured by a copy of the repository's ``dagster.yaml``: one
machine, one daemon. For several daemons, webservers or run workers sharing one instance
(and many runs), the storage moves to PostgreSQL: with ``UNION_DAGSTER_POSTGRES_URL`` set,
the copy gets a ``storage: postgres:`` block that reads the URL from that variable
(Dagster's ``{env: ...}``), so every process started with it (``union-warehouse run``,
``dagster dev``, ``dagster-daemon run``, the run workers they launch) shares runs, event
logs, sensor cursors, the run queue and the pool slots. The URL, which may hold the
password, is never written to a file; it may also leave the password out for libpq's
``PGPASSWORD`` or ``~/.pgpass``. It is an SQLAlchemy URL naming the driver,
``postgresql+psycopg2://user@host:5432/db``: dagster-postgres installs psycopg2, and
SQLAlchemy 2.1 reads a plain ``postgresql://`` as psycopg 3, which is not installed. An operator's own ``DAGSTER_HOME`` is never written: its
``dagster.yaml`` says where it stores (:func:`storage_kind`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from pipelines.files import atomic_write_text

POSTGRES_URL_ENV = "UNION_DAGSTER_POSTGRES_URL"
DRIVER_SCHEME = "postgresql+psycopg2"  # the driver dagster-postgres installs

POSTGRES_STORAGE = f"""
# Written by union-warehouse because {POSTGRES_URL_ENV} was set (README, "Dagster on
# PostgreSQL"): runs, event logs, schedules and sensor state, the run queue and the pool
# slots live in PostgreSQL. Every process reads the URL from its own environment; it is
# never written here. Without the variable the next run writes the SQLite default back.
storage:
  postgres:
    postgres_url:
      env: {POSTGRES_URL_ENV}
"""


def wants_postgres(environ: Mapping[str, str] = os.environ) -> bool:
    return bool(environ.get(POSTGRES_URL_ENV, "").strip())


SQLITE_EVENT_LOG = """
# Written by union-warehouse: Dagster's SQLite event log, its files where Dagster keeps
# them, with an open connection per database instead of one per event
# (pipelines/orchestration/sqlite_event_log.py: 1.6 ms per event instead of 5.7 ms).
event_log_storage:
  module: pipelines.orchestration.sqlite_event_log
  class: PooledSqliteEventLogStorage
  config:
    base_dir: {base_dir}
"""


def instance_yaml(base: str, *, postgres: bool, home: Path | None = None) -> str:
    """The managed instance's ``dagster.yaml``: the repository's (pools, run queue, run
    monitoring), plus the PostgreSQL storage when asked for; otherwise, given the
    instance's ``home``, the pooled SQLite event log in Dagster's place under it."""
    if postgres:
        return base.rstrip("\n") + "\n" + POSTGRES_STORAGE
    if home is None:
        return base
    base_dir = json.dumps(str(Path(home).resolve() / "history" / "runs"), ensure_ascii=False)  # a YAML string
    return base.rstrip("\n") + "\n" + SQLITE_EVENT_LOG.format(base_dir=base_dir)


def write_instance_yaml(home: Path, base: Path, environ: Mapping[str, str] = os.environ) -> Path:
    """Write ``home/dagster.yaml`` for the managed instance when it differs from what it
    should be (a rename: a daemon reading it never sees half a file)."""
    home.mkdir(parents=True, exist_ok=True)
    dst = home / "dagster.yaml"
    text = instance_yaml(base.read_text(encoding="utf-8"), postgres=wants_postgres(environ), home=home)
    if not dst.exists() or dst.read_text(encoding="utf-8") != text:
        atomic_write_text(dst, text)
    return dst


def storage_kind(home: Path) -> str:
    """Where the instance at ``home`` keeps its runs: ``sqlite`` (files under ``home``: the
    default, also without a ``dagster.yaml``), ``postgres``, or ``other``."""
    try:
        config: Any = yaml.safe_load((home / "dagster.yaml").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "sqlite"
    except (OSError, yaml.YAMLError):
        return "other"  # unreadable: Dagster will say why; nothing here to judge
    if not isinstance(config, dict):
        return "sqlite"
    storage = config.get("storage")
    if isinstance(storage, dict) and storage:
        return "postgres" if "postgres" in storage else "sqlite" if "sqlite" in storage else "other"
    run_storage = config.get("run_storage")
    if isinstance(run_storage, dict):
        module = str(run_storage.get("module", ""))
        return "postgres" if module.startswith("dagster_postgres") else (
            "sqlite" if "sqlite" in module else "other")
    return "sqlite"


class InstanceUnavailable(Exception):
    """The instance's PostgreSQL cannot be reached or refused us; the message says what to
    check, and never holds the URL (which may hold the password)."""


def _root_cause(exc: BaseException) -> BaseException:
    seen = {id(exc)}
    while (exc.__cause__ or exc.__context__) is not None and id(exc.__cause__ or exc.__context__) not in seen:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        seen.add(id(exc))
    return exc


def open_instance(home: Path, environ: Mapping[str, str] = os.environ):  # type: ignore[no-untyped-def]
    """``DagsterInstance.from_config(home)``. For an instance on PostgreSQL, a server that
    is down, a wrong URL or a refused login is an :class:`InstanceUnavailable` with one
    line (Dagster retries a few seconds first), not a traceback of the storage layer."""
    import dagster as dg

    try:
        return dg.DagsterInstance.from_config(str(home))
    except Exception as exc:
        if storage_kind(home) != "postgres":
            raise
        cause = _root_cause(exc)
        if isinstance(cause, ModuleNotFoundError) and cause.name == "psycopg":
            raise InstanceUnavailable(
                f"the Dagster instance's PostgreSQL URL (${POSTGRES_URL_ENV}) must name the driver "
                f"that is installed: start it with {DRIVER_SCHEME}:// (a plain postgresql:// means "
                "psycopg 3 to SQLAlchemy 2.1), and run again"
            ) from exc
        text = (str(cause).strip().splitlines() or [""])[0]
        url = environ.get(POSTGRES_URL_ENV, "")
        if url:
            text = text.replace(url, f"${POSTGRES_URL_ENV}")
        raise InstanceUnavailable(
            f"the Dagster instance's PostgreSQL (${POSTGRES_URL_ENV}) cannot be used: "
            f"{type(cause).__name__}: {text}: check the URL and that the server is up, and run again"
        ) from exc


SQLITE_SYNC_ENV = "UNION_DAGSTER_SQLITE_SYNC"
_SYNC_MODES = ("off", "normal", "full")
_listening = False


def sqlite_sync_mode(environ: Mapping[str, str] = os.environ) -> str:
    mode = environ.get(SQLITE_SYNC_ENV, "").strip().lower() or "off"
    return mode if mode in _SYNC_MODES else "off"


def relax_sqlite_instance_syncs() -> None:
    """Every SQLite connection this process opens to a file under ``DAGSTER_HOME`` gets
    ``PRAGMA synchronous`` = :func:`sqlite_sync_mode` (default ``off``).

    Dagster's SQLite storages open, write, commit and close a connection for every event
    (it uses WAL and no pool), and each commit and closing checkpoint waits for the disk:
    a small run's ~1,300 events spent ~25 s there, a third of its time. Without the waits
    a killed process loses nothing (the writes are in the OS's cache); a power cut or an
    OS crash can lose the last events or damage the files, which the next run moves aside
    (``instance_heal``) with the run history they held: the ledger, the landing files and
    the warehouse keep their own durability. Set ``UNION_DAGSTER_SQLITE_SYNC=full`` to
    keep SQLite's default; production instances belong on PostgreSQL anyway (README).
    Installed once per process, at the definitions' import (the CLI, run workers, code
    servers); cheap: an event listener."""
    global _listening
    if _listening:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _relax(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        import sqlite3

        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        home = os.environ.get("DAGSTER_HOME")
        mode = sqlite_sync_mode()
        if not home or mode == "full":
            return
        rows = dbapi_connection.execute("pragma database_list").fetchall()
        main = next((r[2] for r in rows if r[1] == "main"), "")
        if main and os.path.realpath(main).startswith(os.path.realpath(home) + os.sep):
            dbapi_connection.execute(f"pragma synchronous = {mode}")

    _listening = True
