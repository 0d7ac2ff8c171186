"""Dagster's instance on PostgreSQL, against a real server, shared by several processes.

A throw-away PostgreSQL cluster is started for the module (as the ``postgres`` user when
the tests run as root, as CI does: the server refuses to run as root). The instance the
CLI manages is pointed at it the way an operator does, with ``UNION_DAGSTER_POSTGRES_URL``
(``pipelines/orchestration/instance_config.py``), and then, all on the one database:

1. a process runs a job that claims the ``warehouse_writer`` pool slot and sleeps;
2. ``union-warehouse run`` runs the whole pipeline in its own process: it ingests, then
   its writer steps wait for the slot the other process holds;
3. that process is killed (SIGKILL: its run stays "started", its slot claimed);
4. ``dagster-daemon run`` starts: its ``reclaim_dead_runs`` sensor marks the killed run
   failed and frees the slot (the CLI run's writer steps then go on); new files land in
   the drop zone, and its ``inbox_sensor`` turns them into a run, which the run queue holds while the
   CLI run (tagged ``union/exclusive=pipeline``) is in progress and the daemon then
   launches in a run worker. The CLI run publishes; the daemon's run is followed until its
   worker has ingested the new files and holds the writer slot, then stopped with the
   daemon (the rest of it is what the CLI run already proved, and would double the time).

The tests read what each process left in PostgreSQL (through ``DagsterInstance`` and
with plain SQL), and check that nothing was stored in SQLite under ``DAGSTER_HOME`` and
that the password is in no file. One cluster and one scenario for the module: the two
pipeline runs and the daemon's start are most of its time.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest

from pipelines.config import Settings
from pipelines.ingest.ledger import read_ledger
from pipelines.orchestration.instance_config import (
    POSTGRES_URL_ENV,
    InstanceUnavailable,
    instance_yaml,
    open_instance,
    storage_kind,
    write_instance_yaml,
)
from pipelines.orchestration.instance_heal import heal_instance
from pipelines.orchestration.run_recovery import PID_TAG
from pipelines.publish.history import HistoryStore

from .conftest import drop
from .test_dagster_pipeline import members_csv
from .test_run_recovery import POOL, TAGS, _claimed, _start, _wait_for_line

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
A, B = "110101001", "110101002"
AS_OF = "2024-12-31"
PASSWORD = "pg-secret-7f3a"  # must end up in no file (the server trusts every login here)
NAMED = "王小明_110101199003071234.csv"  # a street naming its file after a person


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path | None:
    """The newest installed server's bin directory (Debian: /usr/lib/postgresql/<n>/bin)."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    found.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return found[-1] if found else None


@dataclass
class Postgres:
    port: int

    def connect(self, db: str = "postgres"):  # type: ignore[no-untyped-def]
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=db)
        con.autocommit = True
        return con

    def url(self, db: str, user: str, password: str) -> str:
        return f"postgresql+psycopg2://{user}:{password}@127.0.0.1:{self.port}/{db}"

    def query(self, db: str, sql: str, *args: object) -> list[tuple]:
        con = self.connect(db)
        try:
            with con.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall()
        finally:
            con.close()


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A throw-away cluster on a free port on 127.0.0.1, its socket in its own directory;
    as root, run as the ``postgres`` user (the directory made traversable for it)."""
    as_root = os.geteuid() == 0
    if as_root:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run the server as "
                        "(PostgreSQL refuses to run as root)")
    bindir = _pg_bin()
    if bindir is None:
        pytest.fail("PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin/initdb): the "
                    "README's test command installs Debian's `postgresql` when it is missing")
    root = Path(tempfile.mkdtemp(prefix="union-pg-"))
    root.chmod(0o755)
    if as_root:
        shutil.chown(root, "postgres")
    data, log, port = root / "data", root / "log", _free_port()

    def as_server_user(*cmd: str) -> None:
        argv = ["runuser", "-u", "postgres", "--", *cmd] if as_root else list(cmd)
        done = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            server_log = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            pytest.fail(f"{' '.join(cmd[:1])} failed ({done.returncode}): {done.stdout}{done.stderr}{server_log}")

    try:
        as_server_user(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                       "-E", "UTF8", "--no-locale", "--no-sync")
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        as_server_user(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60",
                       "start")
        yield Postgres(port)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run((["runuser", "-u", "postgres", "--"] if as_root else [])
                           + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                           cwd=root, capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


def _wait_for(predicate, timeout: float, what: str, *procs: subprocess.Popen):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        for proc in procs:
            if proc.poll() is not None:
                raise AssertionError(f"a process ({proc.args!r}) exited ({proc.returncode}) before {what}")
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _stop(proc: subprocess.Popen | None) -> None:
    """Stop a process started in a session of its own, and whatever it started (the
    daemon's code server and run worker, the worker's dbt)."""
    if proc is None:
        return
    with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # the group's stragglers
    proc.wait()


# --- choosing the storage, without a server ------------------------------------------------


def test_the_url_is_read_from_the_environment_never_written(tmp_path: Path) -> None:
    base = (ROOT / "dagster.yaml").read_text(encoding="utf-8")
    assert instance_yaml(base, postgres=False) == base  # the SQLite default, unchanged
    written = write_instance_yaml(tmp_path, ROOT / "dagster.yaml",
                                  {POSTGRES_URL_ENV: f"postgresql://u:{PASSWORD}@db/dagster"})
    text = written.read_text(encoding="utf-8")
    assert text.startswith(base) and f"env: {POSTGRES_URL_ENV}" in text and PASSWORD not in text
    assert storage_kind(tmp_path) == "postgres"
    write_instance_yaml(tmp_path, ROOT / "dagster.yaml", {})  # the variable unset: SQLite again
    assert written.read_text(encoding="utf-8") == instance_yaml(base, postgres=False, home=tmp_path)
    assert "postgres" not in written.read_text(encoding="utf-8") and storage_kind(tmp_path) == "sqlite"


@pytest.mark.parametrize(("yaml_text", "kind"), [
    (None, "sqlite"),
    ("telemetry:\n  enabled: false\n", "sqlite"),
    ("storage:\n  sqlite:\n    base_dir: /x\n", "sqlite"),
    ("storage:\n  postgres:\n    postgres_db:\n      username: {env: U}\n      hostname: h\n      db_name: d\n",
     "postgres"),
    ("run_storage:\n  module: dagster_postgres.run_storage\n  class: PostgresRunStorage\n", "postgres"),
    ("storage:\n  mysql:\n    mysql_url: x\n", "other"),
])
def test_where_an_instance_stores(tmp_path: Path, yaml_text: str | None, kind: str) -> None:
    if yaml_text is not None:
        (tmp_path / "dagster.yaml").write_text(yaml_text, encoding="utf-8")
    assert storage_kind(tmp_path) == kind


@pytest.mark.parametrize(("scheme", "says"), [
    ("postgresql+psycopg2", "Connection refused"),  # nobody listens on that port
    ("postgresql", "start it with postgresql+psycopg2://"),  # SQLAlchemy 2.1 would want psycopg 3
])
def test_an_unusable_url_is_one_line_without_the_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           scheme: str, says: str) -> None:
    url = f"{scheme}://warehouse:{PASSWORD}@127.0.0.1:{_free_port()}/dagster"
    monkeypatch.setenv(POSTGRES_URL_ENV, url)
    monkeypatch.setattr("dagster_postgres.utils.calculate_delay", lambda *a, **k: 0)  # its retries, without waits
    write_instance_yaml(tmp_path, ROOT / "dagster.yaml")
    with pytest.raises(InstanceUnavailable) as caught:
        open_instance(tmp_path)
    message = str(caught.value)
    assert POSTGRES_URL_ENV in message and says in message and "run again" in message
    assert PASSWORD not in message and url not in message and "\n" not in message


# --- the real thing: one database, four processes -----------------------------------------


@dataclass
class Shared:
    pg: Postgres
    settings: Settings
    home: Path
    victim: str  # the run killed while it held the writer slot
    claimed_after_kill: set[str]  # writer-slot holders, right after the kill
    claimed_after_cli: set[str]  # ... when the CLI run had ended
    claimed_by_worker: set[str]  # ... once the daemon's run worker got to its writer step
    cli: str
    cli_pid: int
    cli_code: int
    cli_out: str
    sensor: str  # the inbox sensor's run, queued and launched by the daemon (stopped in its build)
    daemon_pid: int
    seconds: dict[str, float] = field(default_factory=dict)


def _step_done(instance: dg.DagsterInstance, run_id: str, step_key: str) -> bool:
    return any(e.dagster_event and e.dagster_event.event_type_value == "STEP_SUCCESS"
               and e.dagster_event.step_key == step_key for e in instance.all_logs(run_id))


@pytest.fixture(scope="module")
def shared(postgres: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    """The order makes each proof certain: the killed run dies only after the CLI run has
    passed every point where it reclaims dead runs itself (so only the daemon can), and the
    sensor's files are dropped only after the CLI run has ingested (so they are the sensor
    run's) and while it builds (so the sensor's run is queued while it is in progress)."""
    started = time.monotonic()
    seconds: dict[str, float] = {}
    con = postgres.connect()
    with con.cursor() as cur:
        cur.execute("create role warehouse login password %s", (PASSWORD,))
        cur.execute("create database dagster owner warehouse")
    con.close()
    url = postgres.url("dagster", "warehouse", PASSWORD)

    root = tmp_path_factory.mktemp("pg_instance")
    settings = Settings(raw_dir=root / "raw", data_dir=root / "data", pii_key="test-key")
    settings.inbox.mkdir(parents=True)
    home = settings.data_dir / "dagster"  # the instance `union-warehouse` manages itself
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update({"UNION_RAW_DIR": str(settings.raw_dir), "UNION_DATA_DIR": str(settings.data_dir),
                "UNION_PII_KEY": "test-key", "UNION_LOG_LEVEL": "WARNING", POSTGRES_URL_ENV: url})
    # the daemon must find the instance's dagster.yaml before the CLI first writes it: the
    # same function writes it (the CLI then finds it current)
    write_instance_yaml(home, ROOT / "dagster.yaml", env)

    daemon = victim = cli = None
    logs = root / "logs"
    logs.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(POSTGRES_URL_ENV, url)
        mp.delenv("DAGSTER_HOME", raising=False)
        try:
            with dg.DagsterInstance.from_config(str(home)) as instance:  # creates the schema
                seconds["postgres_and_schema"] = time.monotonic() - started

                # 1. a run holding the writer slot (alive for now), and the CLI's whole pipeline
                victim = _start(home, {**TAGS, PID_TAG: "0"}, sleep_s=900)
                _wait_for_line(victim, "CLAIMED")
                (victim_run,) = instance.get_runs()
                drop(settings, A, "members", NAMED, members_csv(6, "2024-06-30", A))
                drop(settings, B, "dispute_cases", "bad.csv", "案件编号,受理日期\nC2,2024-07-01\n")  # rejected
                with (logs / "cli.out").open("wb") as out:
                    cli = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "run", "--as-of", AS_OF],
                                           cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                           start_new_session=True)
                cli_run = _wait_for(lambda: next((r for r in instance.get_runs()
                                                  if r.tags.get(PID_TAG) == str(cli.pid)), None),
                                    240, "the CLI's run", cli)
                seconds["cli_run_created"] = time.monotonic() - started

                # 2. past its own reclaiming (before the run and under the pipeline lock), the
                # CLI run ingests its files; its writer steps then wait for the slot
                _wait_for(lambda: _step_done(instance, cli_run.run_id, "ingest_submissions"), 240,
                          "the CLI run's ingestion", cli)
                seconds["cli_ingested"] = time.monotonic() - started

                # 3. the writer dies holding its slot; then the daemon starts (after the CLI run
                # ingested: its inbox sensor finds nothing pending yet, and its first
                # reclaim_dead_runs tick finds the writer dead), fails the run and frees the slot
                victim.send_signal(signal.SIGKILL)
                victim.wait(timeout=30)
                claimed_after_kill = _claimed(instance)
                with (logs / "daemon.log").open("wb") as out:
                    daemon = subprocess.Popen(
                        [str(BIN / "dagster-daemon"), "run", "-m", "pipelines.definitions"], cwd=ROOT,
                        env={**env, "DAGSTER_HOME": str(home)}, stdout=out, stderr=subprocess.STDOUT,
                        start_new_session=True)
                _wait_for(lambda: instance.get_run_by_id(victim_run.run_id).status == dg.DagsterRunStatus.FAILURE,
                          240, "the daemon's reclaim_dead_runs sensor to fail the killed run", daemon)
                seconds["daemon_reclaimed"] = time.monotonic() - started

                # 4. new files for the inbox sensor, while the CLI run builds
                drop(settings, B, "members", "m.csv", members_csv(5, "2024-06-30", B, start=50))
                cli_code = cli.wait(900)
                claimed_after_cli = _claimed(instance)
                seconds["cli_run_ended"] = time.monotonic() - started

                # 5. the queued run, launched by the daemon: followed until its run worker holds
                # the writer slot (its ingestion is done); the rest of it is the CLI run again
                sensor_run = _wait_for(lambda: next(iter(_runs_with(instance, **{"union/trigger": "inbox_sensor"})),
                                                    None), 120, "the inbox sensor's run", daemon)
                claimed_by_worker = _wait_for(lambda: _claimed(instance) or None, 300,
                                              "the daemon's run worker to claim the writer slot", daemon)
                for run in instance.get_runs():  # which run is which, should an assertion below fail
                    print(f"run {run.run_id} job={run.job_name} status={run.status.value} "
                          f"trigger={run.tags.get('union/trigger')} parent={run.parent_run_id}")
                seconds["sensor_run_holds_the_slot"] = time.monotonic() - started
        except BaseException:
            for name in ("cli.out", "daemon.log"):
                if (logs / name).exists():
                    print(f"--- {name}\n" + (logs / name).read_text(errors="replace")[-4000:])
            raise
        finally:
            for proc in (victim, cli):
                if proc is not None and proc.poll() is None:
                    proc.kill()
            _stop(daemon)  # and the run worker with it: the sensor's run ends there
        seconds["total"] = time.monotonic() - started
        print("\ninstance on PostgreSQL, seconds since the module began:",
              ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
        yield Shared(postgres, settings, home, victim_run.run_id, claimed_after_kill, claimed_after_cli,
                     claimed_by_worker, cli_run.run_id, cli.pid, cli_code,
                     (logs / "cli.out").read_text(errors="replace"), sensor_run.run_id, daemon.pid, seconds)


def _runs_with(instance: dg.DagsterInstance, **tags: str) -> list[dg.DagsterRun]:
    return list(instance.get_runs(dg.RunsFilter(tags=tags)))


def _events(shared: Shared, run_id: str) -> list[dg.EventLogEntry]:
    with dg.DagsterInstance.from_config(str(shared.home)) as instance:
        return list(instance.all_logs(run_id))


def _first(events: list[dg.EventLogEntry], kind: dg.DagsterEventType) -> dg.EventLogEntry:
    found = [e for e in events if e.dagster_event and e.dagster_event.event_type == kind]
    assert found, f"no {kind.value} event"
    return found[0]


def _pool_steps() -> set[str]:
    """The pipeline job's steps in the writer pool."""
    from pipelines.definitions import PIPELINE_JOB, build_definitions

    job = build_definitions().resolve_job_def(PIPELINE_JOB)
    return {node.name for node in job.graph.nodes if getattr(node.definition, "pool", None) == POOL}


def test_the_cli_run_published_and_postgres_holds_its_run_and_events(shared: Shared) -> None:
    assert shared.cli_code == 0, shared.cli_out[-3000:]
    assert "Published: " in shared.cli_out
    # plain SQL on the server: the run, its status and its event log are rows in PostgreSQL
    [(status,)] = shared.pg.query("dagster", "select status from runs where run_id = %s", shared.cli)
    assert status == "SUCCESS"
    kinds = {k for (k,) in shared.pg.query(
        "dagster", "select distinct dagster_event_type from event_logs where run_id = %s", shared.cli)}
    assert {"PIPELINE_START", "STEP_START", "STEP_SUCCESS", "ASSET_MATERIALIZATION", "PIPELINE_SUCCESS"} <= kinds
    [(published,)] = shared.pg.query(
        "dagster", "select count(*) from event_logs where run_id = %s and dagster_event_type = "
        "'ASSET_MATERIALIZATION' and asset_key like %s", shared.cli, '%"published", "warehouse"%')
    assert published == 1


def test_nothing_is_stored_in_sqlite_under_dagster_home_and_no_file_holds_the_password(shared: Shared) -> None:
    assert storage_kind(shared.home) == "postgres"
    assert not list(shared.home.rglob("*.db")) and not (shared.home / "history").exists()
    assert heal_instance(shared.home, managed=True) is None  # nothing here to judge or move
    assert f"env: {POSTGRES_URL_ENV}" in (shared.home / "dagster.yaml").read_text(encoding="utf-8")
    for path in [*shared.settings.data_dir.rglob("*"), *shared.settings.raw_dir.rglob("*")]:
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_the_writer_slot_is_shared_and_the_daemon_reclaims_the_killed_run(shared: Shared) -> None:
    # the slot the killed process claimed, seen by this process through PostgreSQL
    assert shared.claimed_after_kill == {shared.victim}
    [(limit,)] = shared.pg.query("dagster", 'select "limit" from concurrency_limits where concurrency_key = %s', POOL)
    assert limit == 1  # dagster.yaml's default pool limit, kept in PostgreSQL
    failure = _first(_events(shared, shared.victim), dg.DagsterEventType.RUN_FAILURE)
    assert "no longer exists" in (failure.dagster_event.message or "")
    # the daemon's sensor did it (its tick, in PostgreSQL, names the run), not the CLI run
    [(ticks,)] = shared.pg.query("dagster", "select count(*) from job_ticks where tick_body like %s",
                                 f"%dead run(s): {shared.victim}%")
    assert ticks == 1
    assert "was killed" not in shared.cli_out
    # the CLI run's writer steps waited for the dead run's slot: none started before the reclaim
    cli = _events(shared, shared.cli)
    pool_steps = _pool_steps()
    starts = {e.dagster_event.step_key: e.timestamp for e in cli
              if e.dagster_event and e.dagster_event.event_type_value == "STEP_START"}
    started_pool = pool_steps & set(starts)
    assert any("dbt" in k for k in started_pool), (pool_steps, sorted(starts))
    assert _first(cli, dg.DagsterEventType.RUN_START).timestamp < failure.timestamp
    assert min(starts[k] for k in started_pool) >= failure.timestamp
    # given back when the CLI run ended, then claimed by the daemon's run worker, a third process
    assert shared.claimed_after_cli == set()
    assert shared.claimed_by_worker == {shared.sensor}


def test_the_sensors_run_was_queued_behind_the_cli_run_and_launched_by_the_daemon(shared: Shared) -> None:
    events = _events(shared, shared.sensor)
    enqueued = _first(events, dg.DagsterEventType.RUN_ENQUEUED).timestamp
    launched = _first(events, dg.DagsterEventType.RUN_STARTING).timestamp  # the daemon dequeued it
    start = _first(events, dg.DagsterEventType.RUN_START)
    assert enqueued < launched < start.timestamp
    # the queue counted the CLI's run (another process, union/exclusive=pipeline) as in progress
    cli_end = _first(_events(shared, shared.cli), dg.DagsterEventType.RUN_SUCCESS).timestamp
    assert enqueued < cli_end <= launched
    # executed by a run worker of its own, not the daemon, the CLI or this process
    assert start.dagster_event.pid not in (shared.daemon_pid, shared.cli_pid, os.getpid(), None)
    with dg.DagsterInstance.from_config(str(shared.home)) as instance:
        assert instance.get_run_by_id(shared.sensor).tags.get("dagster/sensor_name") == "inbox_sensor"


def test_each_run_ingested_its_own_files_and_the_runs_did_not_interleave(shared: Shared) -> None:
    entries = read_ledger(shared.settings.ledger_path)
    by_run = {"/".join(e.path.split("/")[-3:]): e.run_id for e in entries}
    assert len(entries) == 3 and by_run == {f"{A}/members/{NAMED}": shared.cli,
                                            f"{B}/dispute_cases/bad.csv": shared.cli,
                                            f"{B}/members/m.csv": shared.sensor}
    spans = []
    for run_id in (shared.cli, shared.sensor):
        stamps = [e.timestamp for e in _events(shared, run_id)
                  if e.dagster_event and e.dagster_event.event_type_value in ("STEP_START", "STEP_SUCCESS",
                                                                                "STEP_FAILURE")]
        assert len(stamps) >= 3
        spans.append((min(stamps), max(stamps)))
    assert spans[0][1] < spans[1][0], spans  # every step of the CLI run ended before the sensor run's began
    publishes = HistoryStore(shared.settings.data_dir / "history").publishes()
    assert publishes is not None and list(publishes["run_id"]) == [shared.cli]
