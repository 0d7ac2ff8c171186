"""The managed instance's SQLite event log keeps a connection open per database
(pipelines/orchestration/sqlite_event_log.py): what that must not change."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry

from pipelines.orchestration.instance_config import instance_yaml, storage_kind, write_instance_yaml
from pipelines.orchestration.instance_heal import heal_instance
from pipelines.orchestration.sqlite_event_log import PooledSqliteEventLogStorage

ROOT = Path(__file__).resolve().parents[1]
RUN = "0f8c2b8e-0000-4000-8000-000000000001"


def _event(i: int) -> EventLogEntry:
    ev = DagsterEvent(
        event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value, job_name="j",
        event_specific_data=StepMaterializationData(dg.AssetMaterialization(asset_key=["a", f"m{i}"])),
    )
    return EventLogEntry(error_info=None, level=20, user_message="", run_id=RUN, timestamp=time.time(),
                         step_key="s", job_name="j", dagster_event=ev)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    write_instance_yaml(tmp_path, ROOT / "dagster.yaml", {})
    return tmp_path


def _instance(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(home))


def test_the_managed_sqlite_instance_uses_it_in_dagsters_own_place(home: Path) -> None:
    instance = _instance(home)
    assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
    instance.store_event(_event(0))
    assert (home / "history" / "runs" / f"{RUN}.db").exists() and (home / "history" / "runs" / "index.db").exists()
    assert storage_kind(home) == "sqlite"
    # what the repository's file says stays as it was; only the managed copy names the class
    base = (ROOT / "dagster.yaml").read_text(encoding="utf-8")
    assert instance_yaml(base, postgres=False) == base
    assert (home / "dagster.yaml").read_text(encoding="utf-8").startswith(base)


def test_another_process_reads_every_event_while_the_writer_keeps_its_connection(home: Path) -> None:
    writer = _instance(home)
    for i in range(5):
        writer.store_event(_event(i))
    # the writer's connection is still open (its writes may sit in the -wal file)
    reader = sqlite3.connect(home / "history" / "runs" / f"{RUN}.db")
    try:
        assert reader.execute("select count(*) from event_logs").fetchone()[0] == 5
    finally:
        reader.close()
    assert len(_instance(home).get_records_for_run(RUN).records) == 5
    assert writer.get_latest_materialization_event(dg.AssetKey(["a", "m4"])) is not None


def test_a_database_file_replaced_under_a_live_process_is_opened_again(home: Path) -> None:
    """The healing of another process moves damaged files aside; a pooled connection must
    not go on reading (or writing) the file that was moved away."""
    instance = _instance(home)
    for i in range(3):
        instance.store_event(_event(i))
    path = home / "history" / "runs" / f"{RUN}.db"
    copy = path.with_name("copy.db")
    with sqlite3.connect(path) as con:  # a consistent copy of the live (WAL) database
        con.execute(f"vacuum into '{copy}'")
    with sqlite3.connect(copy) as con:
        con.execute("delete from event_logs where id = (select max(id) from event_logs)")
    con.close()
    os.replace(copy, path)
    assert len(instance.get_records_for_run(RUN).records) == 2
    instance.store_event(_event(9))
    with sqlite3.connect(path) as con:
        assert con.execute("select count(*) from event_logs").fetchone()[0] == 3
    con.close()


def test_the_live_view_of_a_run_sees_events_a_pooled_writer_stores(home: Path) -> None:
    """The webserver streams a run's events by watching its database: with the writer's
    connection open they land in the -wal file first."""
    viewer = _instance(home)
    writer = _instance(home)
    writer.store_event(_event(0))
    seen: list[EventLogEntry] = []
    arrived = threading.Event()

    def callback(entry: EventLogEntry, _cursor: str) -> None:
        seen.append(entry)
        if len(seen) >= 4:
            arrived.set()

    viewer.event_log_storage.watch(RUN, None, callback)
    try:
        time.sleep(0.5)  # the observer is up
        for i in range(1, 4):
            writer.store_event(_event(i))
        assert arrived.wait(15), f"the watcher saw {len(seen)} of 4 events"
    finally:
        viewer.event_log_storage.end_watch(RUN, callback)
        viewer.event_log_storage.dispose()


def test_healing_moves_the_files_aside_and_the_next_instance_starts_new(home: Path) -> None:
    instance = _instance(home)
    instance.store_event(_event(0))
    instance.event_log_storage.dispose()
    (home / "history" / "runs.db").write_bytes(b"not a database")
    assert heal_instance(home, managed=True) is not None
    assert not (home / "history").exists() and list(home.glob("damaged-*/history/runs/*.db"))
    again = _instance(home)
    again.store_event(_event(1))
    assert len(again.get_records_for_run(RUN).records) == 1
