"""Crash safety: the pipeline killed at its worst moments recovers, on a plain rerun, to
exactly the warehouse a run that was never killed publishes.

The kills are real: ``union-warehouse run`` is started in a session of its own with
``UNION_FAULT_AT`` set (:mod:`pipelines.faults`), and at that point the whole process
group, the dbt subprocess included, gets SIGKILL: no cleanup code runs.

Also here: the unit tests of :meth:`HistoryStore.discard_orphans` and a publish
interrupted between its history and its swap, in process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipelines.config import Settings
from pipelines.files import exclusive
from pipelines.generate import MANIFEST_NAME, generate_district, load_manifest
from pipelines.ingest.dropzone import list_inbox
from pipelines.ingest.ledger import read_ledger
from pipelines.orchestration.dbt import WAREHOUSE_POOL
from pipelines.publish import warehouse as warehouse_mod
from pipelines.publish.code_version import fingerprint
from pipelines.publish.history import HistoryStore
from pipelines.publish.warehouse import publish

from .test_published_readers import make_working_warehouse

REPO = Path(__file__).resolve().parents[1]
AS_OF = "2015-12-31"
# Three streets of a small generated district (135 files, ~1,300 rows): 110101003 sends a
# byte-identical resubmission, 110101007 a truncated file, and the quality gate holds back
# 110101014's member list; the others' files are dropped to keep the runs short.
STREETS = ("110101003", "110101007", "110101014")
SCALE, SEED = 0.02, 3
EXIT_STATUS = "exit_status"  # "<status> <started> <ended>" of a run other test processes wait for
RUN_TIMEOUT_S = 420  # a run here takes about a minute; one waiting for a lost pool slot never ends

# Columns that legitimately differ between two runs of the same input (see the chain test).
RUN_IDS = {"run_id", "first_run_id", "last_run_id"}
RANDOM_IDS = {"event_id"}  # alert events: a fresh uuid per recorded event
WALL_CLOCK = {
    "first_seen",  # ledger: when the file was first read
    "checked_at",  # quality results: when the suite ran
    "computed_at",  # indicators and their history: when the publish stamped them
    "published_at",  # publish log
    "summarised_at", "first_received_at", "last_received_at",  # receipt summaries
    "last_seen", "recorded_at", "occurred_at",  # alert state and events
}
# JSON text columns whose objects may carry the keys above (an operator alert's evidence
# quotes the ledger entry, first_seen included): compared without those keys.
JSON_COLUMNS = {"evidence"}
# Tables with a row per alert evaluation (each run that reached the alerts step).
EVALUATION_LOGS = ("alerts.alert_runs",)
# Tables with one row per ingesting run: a run killed after ingesting splits their rows.
PER_RUN_TABLES = {"audit.street_submission_summary"}


# --- running the CLI as an operator would --------------------------------------------------


@dataclass
class CliRun:
    """``union-warehouse run`` in a session (process group) of its own."""

    root: Path
    fault: str | None
    proc: subprocess.Popen[bytes] | None  # None: started by another test process
    stderr_path: Path
    started: float
    seconds: float | None = None

    @property
    def settings(self) -> Settings:
        return cli_settings(self.root)

    @classmethod
    def start(cls, root: Path, fault: str | None = None, *, ingest_only: bool = False,
              record_exit: bool = False) -> CliRun:
        """``union-warehouse run`` (or, with ``ingest_only``, just the ingestion it starts
        with: ``ingest_pending``, the code path of the Dagster ingestion step). With
        ``record_exit``, its exit status and times are left in ``root/exit_status`` for
        other test processes (:meth:`started_elsewhere`)."""
        env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "UNION_FAULT_AT")}
        env.update(UNION_RAW_DIR=str(root / "raw"), UNION_DATA_DIR=str(root / "data"), UNION_PII_KEY="test-key",
                   UNION_LOG_LEVEL="INFO")
        if fault:
            env["UNION_FAULT_AT"] = fault
        exe = Path(sys.executable).parent / "union-warehouse"
        if ingest_only:
            cmd = [sys.executable, "-c", "from pipelines.config import Settings; "
                   "from pipelines.ingest.process import ingest_pending; "
                   "ingest_pending(Settings.from_env(), run_id='ingest-only')"]
        else:
            cmd = [*([str(exe)] if exe.exists() else [sys.executable, "-m", "pipelines.cli"]),
                   "run", "--as-of", AS_OF]
        if record_exit:
            cmd = ["sh", "-c", 'started=$(date +%s.%N); "$@"; rc=$?; echo "$rc $started $(date +%s.%N)" > "$0.tmp" '
                   '&& mv "$0.tmp" "$0"; exit $rc', str(root / EXIT_STATUS), *cmd]
        stderr_path = root / f"run{len(list(root.glob('run*.stderr'))) + 1}.stderr"
        with (root / "cli.stdout").open("ab") as out, stderr_path.open("wb") as err:
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=err, start_new_session=True)
        return cls(root, fault, proc, stderr_path, time.perf_counter())

    @classmethod
    def started_elsewhere(cls, root: Path) -> CliRun:
        """The run another test process started in ``root`` with ``record_exit``."""
        return cls(root, None, None, root / "run1.stderr", time.perf_counter())

    def wait(self) -> int:
        if self.proc is None:
            return self._wait_elsewhere()
        if self.seconds is None:
            try:
                self.proc.wait(timeout=RUN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                _kill_group(self.proc.pid)
                self.proc.wait()
                pytest.fail(f"union-warehouse run (fault {self.fault}) hung for {RUN_TIMEOUT_S} s:\n{self.tail()}")
            self.seconds = time.perf_counter() - self.started
        return self.proc.returncode

    def _wait_elsewhere(self) -> int:
        status = self.root / EXIT_STATUS
        while not status.exists():
            if time.perf_counter() - self.started > RUN_TIMEOUT_S:
                pytest.fail(f"the shared run in {self.root} did not end within {RUN_TIMEOUT_S} s (its "
                            f"test process stops it):\n{self.tail()}")
            time.sleep(0.5)
        rc, started, ended = status.read_text().split()
        self.seconds = float(ended) - float(started)
        return int(rc)

    def tail(self, chars: int = 4000) -> str:
        if not self.stderr_path.exists():
            return f"({self.stderr_path.name} not written yet)"
        return self.stderr_path.read_text(errors="replace")[-chars:]


def cli_settings(root: Path) -> Settings:
    return Settings(raw_dir=root / "raw", data_dir=root / "data", pii_key="test-key")


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def _live_processes_in_group(pgid: int) -> list[int]:
    """Processes of the group that are still running (zombies excluded)."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            live.append(int(stat.parent.name))
    return live


def runs_left_started(data_dir: Path) -> dict[str, list[str]]:
    """The Dagster runs a kill left 'started', with the pools whose slot each still holds
    (read only: reclaiming them is the next ``union-warehouse run``'s job)."""
    with dg.DagsterInstance.from_config(str(data_dir / "dagster")) as instance:
        claimed = {s.run_id for s in instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots}
        live = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]
        return {
            r.dagster_run.run_id: [WAREHOUSE_POOL] if r.dagster_run.run_id in claimed else []
            for r in instance.get_run_records(dg.RunsFilter(statuses=live))
        }


# --- the input, generated once per session and copied byte for byte (mtimes too) ------------

_SHARED: dict[str, object] = {}


def shared_temp(factory: pytest.TempPathFactory) -> Path:
    """A folder every test process of this session sees (xdist's workers each have a
    base temp of their own, side by side in the session's)."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def district_input(factory: pytest.TempPathFactory) -> Path:
    """``raw/`` of the small generated district, generated once per session (under a
    lock: the first test process to need it writes it, the others wait and read it)."""
    if "input" not in _SHARED:
        folder = shared_temp(factory) / "district_input"
        with exclusive(shared_temp(factory) / "district_input.lock"):
            if not (folder / "generated").exists():
                shutil.rmtree(folder, ignore_errors=True)
                raw = folder / "raw"
                generate_district(raw, scale=SCALE, seed=SEED, defects=True)
                for street in (raw / "inbox").iterdir():
                    if street.name not in STREETS:
                        shutil.rmtree(street)
                (folder / "generated").touch()
        _SHARED["input"] = folder / "raw"
    return _SHARED["input"]  # type: ignore[return-value]


def fresh_copy(factory: pytest.TempPathFactory, name: str) -> Path:
    root = factory.mktemp(name)
    shutil.copytree(district_input(factory), root / "raw")  # copy2: the same mtimes, the same order
    return root


def landing_kill_point(settings: Settings, after: int = 20) -> int:
    """The position, in processing order, of the first file from the ``after``-th on that
    lands rows (the generator's manifest names the files rejected whole or duplicated)."""
    not_landing = {d.path for d in load_manifest(settings.raw_dir / MANIFEST_NAME).file_defects}
    order = [f.path for f in list_inbox(settings.raw_dir)]  # the order ingestion takes them in
    return next(i for i, path in enumerate(order, start=1) if i >= after and path not in not_landing)


def clean_district_run(factory: pytest.TempPathFactory) -> CliRun:
    """One uninterrupted run of the district on DuckDB, started once per session by the
    first test process to ask (in the background: the crash chain, or the Spark run, goes
    on beside it); the other processes wait for the exit status it leaves. The crash, log
    and Spark tests read it; the state-fault and Spark correction tests damage or extend a
    copy (:func:`copy_of_clean_run`). Never changed once run."""
    if "clean" not in _SHARED:
        root = shared_temp(factory) / "clean_run"
        try:
            root.mkdir()  # the first to create it runs it
        except FileExistsError:
            _SHARED["clean"] = CliRun.started_elsewhere(root)
        else:
            shutil.copytree(district_input(factory), root / "raw")
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("UNION_WAREHOUSE_TARGET", "duckdb")
                patch.delenv("UNION_SPARK_METHOD", raising=False)
                _SHARED["clean"] = CliRun.start(root, record_exit=True)
    return _SHARED["clean"]  # type: ignore[return-value]


def copy_of_clean_run(factory: pytest.TempPathFactory, name: str) -> Path:
    """A new root holding what the clean run left (its inbox and data directory, mtimes
    kept): a test that goes on from there pays a copy, not a run of its own."""
    clean = clean_district_run(factory)
    assert clean.wait() == 0, clean.tail()
    root = factory.mktemp(name)
    shutil.copytree(clean.root / "raw", root / "raw")
    shutil.copytree(clean.settings.data_dir, root / "data", symlinks=True)
    return root


# --- comparing two data directories -------------------------------------------------------


def table_digests(published: Path, exclude: set[str]) -> dict[str, tuple[int, str]]:
    """{schema.table: (rows, sha256 of the sorted rows without the ``exclude`` columns)};
    a per-run table is reduced to per-street sums first."""
    out: dict[str, tuple[int, str]] = {}
    with duckdb.connect(":memory:") as con:
        con.execute("attach ? as w (read_only)", [str(published)])
        tables = con.execute("select schema_name, table_name from duckdb_tables() where database_name = 'w' "
                             "order by 1, 2").fetchall()
        for schema, table in tables:
            name = f"{schema}.{table}"
            columns = con.execute("select column_name, data_type from duckdb_columns() where database_name = 'w' "
                                  "and schema_name = ? and table_name = ? order by column_index",
                                  [schema, table]).fetchall()
            kept = [c for c, _ in columns if c not in exclude]
            if name in PER_RUN_TABLES:
                sums = [f'sum("{c}")' for c, t in columns if c in kept and t in ("BIGINT", "INTEGER", "HUGEINT")]
                sql = f'select street_code, {", ".join(sums)} from w."{schema}"."{table}" group by all'
            else:
                sql = f'select {", ".join(chr(34) + c + chr(34) for c in kept)} from w."{schema}"."{table}"'
            json_at = [i for i, c in enumerate(kept) if c in JSON_COLUMNS] if name not in PER_RUN_TABLES else []
            rows = sorted(repr(_without_keys(r, json_at, exclude)) for r in con.execute(sql).fetchall())
            digest = hashlib.sha256(("|".join(kept) + "\n" + "\n".join(rows)).encode()).hexdigest()
            out[name] = (len(rows), digest)
    return out


def _without_keys(row: tuple[object, ...], json_at: list[int], exclude: set[str]) -> tuple[object, ...]:
    if not json_at:
        return row
    out = list(row)
    for i in json_at:
        if isinstance(out[i], str) and out[i].startswith("{"):
            obj = json.loads(out[i])
            out[i] = json.dumps({k: v for k, v in obj.items() if k not in exclude}, sort_keys=True)
    return tuple(out)


def output_files(settings: Settings) -> dict[str, pl.DataFrame]:
    """Every landing, quarantine and problems Parquet, by path under the data dir."""
    out = {}
    for folder in (settings.landing_dir, settings.quarantine_dir, settings.problems_dir):
        for p in sorted(folder.rglob("*.parquet")):
            out[p.relative_to(settings.data_dir).as_posix()] = pl.read_parquet(p)
    return out


def ledger_by_path(settings: Settings) -> dict[str, dict[str, object]]:
    entries = read_ledger(settings.ledger_path)
    paths = [e.path for e in entries]
    assert len(paths) == len(set(paths)), "a file was ledgered twice"
    return {e.path: {k: v for k, v in dataclasses.asdict(e).items() if k not in WALL_CLOCK | RUN_IDS}
            for e in entries}


def leftovers(settings: Settings) -> list[str]:
    return sorted(p.relative_to(settings.data_dir).as_posix() for p in settings.data_dir.rglob("*.tmp")
                  if "dagster" not in p.relative_to(settings.data_dir).parts)


def _wait_for(predicate: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


# --- the chain of kills ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_run_killed_at_each_step_recovers_to_the_clean_runs_warehouse(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """One input, two data directories. In one, ingestion is killed (SIGKILL to its process
    group) between landing a file and ledgering it, then ``union-warehouse run`` is killed
    during its dbt build, the rerun between writing the indicator history and swapping
    the published file, and a last rerun completes; in the other, one run is never
    interrupted.

    The two published warehouses must be equal table by table (sha256 of the sorted rows),
    and so must every landing, quarantine and problems file and every ledger entry (each
    inbox file ledgered exactly once), leaving no temporary file behind. Before the last
    rerun the working warehouse is also truncated to half its size: the rerun moves it
    aside and rebuilds it.

    Excluded from the comparison, because they differ between any two runs of the same
    input, killed or not:

    - run ids: ``run_id`` (ledger, quality results, indicator values and history,
      publish log, alert events), ``first_run_id`` / ``last_run_id`` (alerts): each run
      has its own Dagster run id, and the chain's work is spread over four runs;
    - ``event_id`` of alert events (derived from the alert and its history; ids
      written by older versions were random uuids);
    - wall-clock stamps: ``first_seen`` (ledger), ``checked_at`` (quality results),
      ``computed_at`` (indicator values and history), ``published_at`` (publish log),
      ``summarised_at`` / ``first_received_at`` / ``last_received_at`` (receipt
      summaries), ``last_seen`` / ``recorded_at`` / ``occurred_at`` (alerts); inside
      an alert's JSON ``evidence`` the same keys are dropped (an operator alert quotes
      the ledger entry of the file, ``first_seen`` included), the rest is compared;
    - ``audit.street_submission_summary`` is compared as per-street sums of its counts:
      it has a row per ingesting run and street, and the chain ingested in two runs;
    - ``code_version`` only if the source tree changed while the test ran (a shared
      working tree); otherwise it is compared too.

    Publish ids and the publish log's row count are compared: the publish killed between
    its history and its swap leaves nothing the rerun keeps (``discard_orphans``).
    """
    tree_before = fingerprint()
    clean = clean_district_run(tmp_path_factory)
    root = fresh_copy(tmp_path_factory, "killed_runs")
    settings = cli_settings(root)
    inbox = {f.path for f in list_inbox(settings.raw_dir)}
    timings: dict[str, float] = {}
    try:
        # 1. killed while landing: the n-th file's outputs are written, its ledger entry is not
        nth = landing_kill_point(settings)
        run = CliRun.start(root, f"ingest.landed:{nth}", ingest_only=True)
        assert run.wait() == -signal.SIGKILL, run.tail()
        timings["killed mid-landing"] = run.seconds or 0
        ledgered = read_ledger(settings.ledger_path)
        assert len(ledgered) == nth - 1
        landed = {p.stem for p in settings.landing_dir.glob("*/*/*.parquet")} - {"empty"}
        assert len(landed - {e.sha256 for e in ledgered}) == 1, "the kill should leave one landed, unledgered file"

        # 2. killed during the dbt build: dbt dies with the run, the working warehouse is half written
        run = CliRun.start(root, "dbt.materialized:10")
        assert run.wait() == -signal.SIGKILL, run.tail()
        timings["killed mid-dbt"] = run.seconds or 0
        assert _wait_for(lambda: not _live_processes_in_group(run.proc.pid)), "dbt outlived the kill"
        assert {e.path for e in read_ledger(settings.ledger_path)} == inbox
        assert settings.warehouse_path.exists() and not settings.published_path.exists()
        held = runs_left_started(settings.data_dir)
        assert [WAREHOUSE_POOL] in held.values(), f"the killed build should hold the writer slot: {held}"

        # 3. killed mid-publish: history has the new versions, the published file is not swapped
        run = CliRun.start(root, "publish.history_appended")
        assert run.wait() == -signal.SIGKILL, run.tail()
        timings["killed mid-publish"] = run.seconds or 0
        history = HistoryStore(settings.data_dir / "history")
        assert [p.name for p in history.indicator_files()] == ["00000001.parquet"]
        assert history.publish_files() == [] and not settings.published_path.exists()
        assert list(settings.published_path.parent.glob(".warehouse.*.tmp"))
        # this run got the writer slot only because it reclaimed the build killed before
        said = (root / "cli.stdout").read_text()
        assert all(f"an earlier run ({run_id}) was killed" in said for run_id in held), said[-2000:]
        killed_publish = runs_left_started(settings.data_dir)
        assert len(killed_publish) == 1 and not set(killed_publish) & set(held)

        # 3b. and the working warehouse is torn (a full disk, a bad copy): the rerun heals it
        size = settings.warehouse_path.stat().st_size
        with settings.warehouse_path.open("r+b") as fh:
            fh.truncate(size // 2)

        # 4. the rerun completes
        run = CliRun.start(root)
        assert run.wait() == 0, run.tail()
        assert len(list(settings.warehouse_path.parent.glob("working.duckdb.damaged-*"))) == 1
        timings["rerun to completion"] = run.seconds or 0
        said = (root / "cli.stdout").read_text()
        assert all(f"an earlier run ({run_id}) was killed" in said for run_id in killed_publish), said[-2000:]
        assert runs_left_started(settings.data_dir) == {}
    finally:
        code = clean.wait()
    assert code == 0, clean.tail()
    print("run wall times (s):", {k: round(v, 1) for k, v in timings.items()})

    # the same ledger, each file once, and the same landed, quarantined and problem rows
    assert set(ledger_by_path(settings)) == inbox
    assert ledger_by_path(settings) == ledger_by_path(clean.settings)
    mine, theirs = output_files(settings), output_files(clean.settings)
    assert sorted(mine) == sorted(theirs)
    different = [p for p in mine if not mine[p].equals(theirs[p])]
    assert different == []
    assert leftovers(settings) == []

    # the same published warehouse, table by table
    exclude = RUN_IDS | RANDOM_IDS | WALL_CLOCK
    if fingerprint() != tree_before:
        exclude = exclude | {"code_version"}
    killed = table_digests(settings.published_path, exclude)
    never_killed = table_digests(clean.settings.published_path, exclude)
    for log_table in EVALUATION_LOGS:  # a row per evaluation: the chain evaluated more often
        killed.pop(log_table), never_killed.pop(log_table)
    assert sorted(killed) == sorted(never_killed)
    assert {t: killed[t] for t in killed if killed[t] != never_killed[t]} == {}
    assert killed["audit.publish_manifest"][0] == 1
    assert [p.name for p in history.publish_files()] == ["00000001.parquet"]


@pytest.mark.slow
def test_logs_and_run_metadata_hold_no_personal_data(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The uninterrupted run's logs and run metadata hold no personal data (the check is
    in tests/test_logs_no_pii.py; it runs here, in the module that made the run)."""
    from .test_logs_no_pii import check_logs_and_run_metadata_hold_no_personal_data

    check_logs_and_run_metadata_hold_no_personal_data(tmp_path_factory)


@pytest.mark.slow
def test_the_console_says_what_each_step_did(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The uninterrupted run's console, written to files as from cron: a line per step with
    its counts, dbt's outcome in one line and its per-node lines in the run's dbt log, no
    colour codes (the check is in tests/test_run_console.py)."""
    from .test_run_console import check_the_console_of_a_cli_run

    run = clean_district_run(tmp_path_factory)
    assert run.wait() == 0, run.tail()
    check_the_console_of_a_cli_run((run.root / "cli.stdout").read_text(encoding="utf-8"),
                                   run.stderr_path.read_text(encoding="utf-8"), run.settings.data_dir)


# --- the history a killed publish leaves ----------------------------------------------------


def _versions(publish_id: int, value: float) -> pl.DataFrame:
    return pl.DataFrame({"indicator_code": ["DC00"], "area_code": ["110101"], "period_type": ["year"],
                         "period_start": ["2015-01-01"], "value": [value], "version_number": [publish_id],
                         "publish_id": [publish_id]})


def _publish_row(publish_id: int) -> pl.DataFrame:
    return pl.DataFrame({"publish_id": [publish_id], "run_id": [f"run-{publish_id}"]})


def test_discard_orphans_drops_versions_of_a_publish_that_never_swapped(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "history")
    store.append(1, _versions(1, 10.0), _publish_row(1))
    store.append_versions(2, _versions(2, 11.0))  # killed before its swap: no publish row
    (store.indicators_dir / ".00000003.parquet.tmp").write_bytes(b"half a file")
    assert store.latest_versions()["value"].to_list() == [11.0]  # what the gap used to serve

    report = store.discard_orphans(published=None)
    assert (report.discarded, report.restored, report.temporaries) == ([2], [], 1)
    assert [p.name for p in store.indicator_files()] == ["00000001.parquet"]
    assert store.latest_versions()["value"].to_list() == [10.0]
    assert store.next_publish_id() == 2
    assert store.discard_orphans(published=None).clean  # idempotent


def test_discard_orphans_restores_the_row_of_a_publish_that_did_swap(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "history")
    store.append(1, _versions(1, 10.0), _publish_row(1))
    store.append_versions(2, _versions(2, 11.0))  # swapped in, killed before commit()
    published = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(published)) as con:
        con.execute("create schema audit")
        con.execute("create table audit.publish_manifest as "
                    "select * from (values (1, 'run-1'), (2, 'run-2')) t(publish_id, run_id)")
    report = store.discard_orphans(published)
    assert (report.discarded, report.restored) == ([], [2])
    assert store.publishes()["run_id"].to_list() == ["run-1", "run-2"]
    assert store.latest_versions()["value"].to_list() == [11.0]
    assert store.next_publish_id() == 3


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_discard_orphans_over_a_damaged_published_file_takes_the_publish_as_never_swapped(
        tmp_path: Path, damage: str) -> None:
    """A published file that cannot be read (truncated by a full disk, overwritten) says
    nothing of a killed publish: its versions are recomputed by the publish that replaces
    the file, never a reason for that publish to fail."""
    store = HistoryStore(tmp_path / "history")
    store.append(1, _versions(1, 10.0), _publish_row(1))
    store.append_versions(2, _versions(2, 11.0))
    published = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(published)) as con:
        con.execute("create schema audit")
        con.execute("create table audit.publish_manifest as select range as publish_id, 'run-' || range as run_id "
                    "from range(1, 200000)")
    if damage == "truncated":
        os.truncate(published, published.stat().st_size // 2)
    else:
        published.write_bytes(b"not a database at all" * 1000)
    report = store.discard_orphans(published)
    assert (report.discarded, report.restored) == ([2], [])
    assert store.next_publish_id() == 2


def test_a_publish_interrupted_before_its_swap_leaves_no_trace(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process: publish 2 dies between writing its history and swapping the file; the
    next publish's history equals the history of a publish that never died."""

    class Killed(BaseException):
        pass

    def die_at(name: str) -> None:
        if name == "publish.history_appended":
            raise Killed(name)

    make_working_warehouse(settings, {"110101001": 10, "110101002": 20}, manifest_id="m1")
    publish(settings, "run-1", now=datetime(2015, 2, 1, tzinfo=UTC))
    make_working_warehouse(settings, {"110101001": 12, "110101002": 20}, manifest_id="m2")
    monkeypatch.setattr(warehouse_mod, "fault_point", die_at)
    with pytest.raises(Killed):
        publish(settings, "run-killed", now=datetime(2015, 2, 2, tzinfo=UTC))
    history = HistoryStore(settings.data_dir / "history")
    assert len(history.indicator_files()) == 2 and len(history.publish_files()) == 1
    monkeypatch.undo()

    result = publish(settings, "run-2", now=datetime(2015, 2, 3, tzinfo=UTC))
    assert result.publish_id == 2
    with duckdb.connect(":memory:") as con:
        con.execute("attach ? as p (read_only)", [str(settings.published_path)])
        rows = con.execute("select publish_id, run_id, area_code, version_number from p.indicators.indicator_history "
                           "order by 1, 3").fetchall()
        log = con.execute("select publish_id, run_id, versions_appended from p.audit.publish_manifest "
                          "order by 1").fetchall()
    # publish 2 changed 110101001 and the district; nothing of the killed run survives
    assert rows == [(1, "run-1", "110101", 1), (1, "run-1", "110101001", 1), (1, "run-1", "110101002", 1),
                    (2, "run-2", "110101", 2), (2, "run-2", "110101001", 2)]
    assert log == [(1, "run-1", 3), (2, "run-2", 2)]
