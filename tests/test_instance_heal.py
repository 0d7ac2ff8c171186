"""A damaged Dagster instance: the CLI's own is moved aside; an operator's is named."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipelines.orchestration.instance_heal import DamagedInstance, damaged_files, heal_instance


def _instance(home: Path) -> Path:
    (home / "history" / "runs").mkdir(parents=True)
    (home / "schedules").mkdir()
    for rel in ("history/runs.db", "history/runs/index.db", "schedules/schedules.db"):
        with sqlite3.connect(home / rel) as con:
            con.execute("create table t (x integer)")
            con.executemany("insert into t values (?)", [(i,) for i in range(5000)])
    return home / "history" / "runs.db"


def _tear(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_a_whole_instance_is_left_alone(tmp_path: Path) -> None:
    _instance(tmp_path)
    assert damaged_files(tmp_path) == []
    assert heal_instance(tmp_path, managed=True) is None
    assert (tmp_path / "history" / "runs.db").exists()


def test_the_clis_own_damaged_instance_is_moved_aside(tmp_path: Path) -> None:
    _tear(_instance(tmp_path))
    line = heal_instance(tmp_path, managed=True)
    assert line is not None and "history/runs.db" in line and "moved aside" in line
    [aside] = tmp_path.glob("damaged-*")
    assert (aside / "history" / "runs.db").exists() and (aside / "schedules" / "schedules.db").exists()
    assert not (tmp_path / "history").exists() and damaged_files(tmp_path) == []


def test_an_operators_damaged_instance_is_named_not_touched(tmp_path: Path) -> None:
    runs = _instance(tmp_path)
    _tear(runs)
    with pytest.raises(DamagedInstance) as caught:
        heal_instance(tmp_path, managed=False)
    assert "history/runs.db" in str(caught.value) and "run again" in str(caught.value)
    assert runs.exists() and not list(tmp_path.glob("damaged-*"))


def test_an_instance_on_postgres_is_not_judged_by_sqlite_files_left_in_its_home(tmp_path: Path) -> None:
    """Files of the SQLite instance before the switch are not the instance's storage: a torn
    one is neither reported nor moved."""
    runs = _instance(tmp_path)
    _tear(runs)
    (tmp_path / "dagster.yaml").write_text(
        "storage:\n  postgres:\n    postgres_url:\n      env: UNION_DAGSTER_POSTGRES_URL\n", encoding="utf-8")
    assert heal_instance(tmp_path, managed=True) is None
    assert heal_instance(tmp_path, managed=False) is None
    assert runs.exists() and not list(tmp_path.glob("damaged-*"))


def _synchronous(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.exec_driver_sql("pragma synchronous").scalar()


def test_the_sqlite_instance_does_not_wait_for_the_disk_on_every_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dagster's SQLite storages commit (and wait for the disk) once per event; under the
    instance's home the wait is off unless the operator asks for it, elsewhere untouched."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from pipelines.orchestration.instance_config import SQLITE_SYNC_ENV, relax_sqlite_instance_syncs

    home, other = tmp_path / "home", tmp_path / "other"
    (home / "history").mkdir(parents=True)
    other.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv(SQLITE_SYNC_ENV, raising=False)
    relax_sqlite_instance_syncs()
    relax_sqlite_instance_syncs()  # once per process, however often called
    inside = create_engine(f"sqlite:///{home / 'history' / 'runs.db'}", poolclass=NullPool)
    outside = create_engine(f"sqlite:///{other / 'x.db'}", poolclass=NullPool)
    assert _synchronous(inside) == 0 and _synchronous(outside) == 2  # off; SQLite's default, full
    monkeypatch.setenv(SQLITE_SYNC_ENV, "full")
    assert _synchronous(inside) == 2
    monkeypatch.setenv(SQLITE_SYNC_ENV, "normal")
    assert _synchronous(inside) == 1
    # and Dagster's own storage of an instance there gets it
    monkeypatch.delenv(SQLITE_SYNC_ENV)
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance, instance.run_storage.connect() as conn:  # type: ignore[attr-defined]
        assert conn.exec_driver_sql("pragma synchronous").scalar() == 0
