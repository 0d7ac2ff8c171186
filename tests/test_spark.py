"""The warehouse on Apache Spark (issue 17): one module, one district, the whole path.

``union-warehouse run`` with ``UNION_WAREHOUSE_TARGET=spark`` builds the models on Spark,
mirrors the tables into the working DuckDB file (pipelines/warehouse/spark_mirror.py),
and every later step (asset checks, indicator gates, publish, alerts, the dbt docs page,
exports) runs on that file as on a DuckDB build. The module runs it, a DuckDB run and a
run through a Spark Thrift server of the same input side by side (the crash-safety
tests' small district, three streets, defects included, copied byte for byte into a data
directory each), then shows:

- the published warehouse, the analysts' one interface, is the same: every table equal
  after sorting, the columns that differ between any two runs (run ids, wall-clock times,
  code_version) aside;
- every table of every layer of the working file (reference, staging, intermediate,
  marts, audit, indicators, warnings) holds the same rows, compared as multisets after
  normalising how values differ in type between the engines (DuckDB sums integers into
  HUGEINT, Spark into BIGINT; sums of doubles may differ in the last bits);
- Spark left nothing outside the data directory;
- the production path, dbt through a Spark Thrift server (``UNION_SPARK_METHOD=thrift``;
  a real ``HiveThriftServer2`` from pyspark's jars, tests/spark_thrift.py), publishes the
  same too, its tables mirrored from the server's warehouse directory, and the session
  settings the models need reach each Thrift session from the profile;
- the single-writer rule holds on Spark, and incremental models on Spark equal a full
  refresh on Spark: one street corrects its latest members list, two runs start together
  on the Spark data directory, one waits for the other, the correction is built
  incrementally on Spark (the partitions of the streets to rebuild overwritten, see
  macros/incremental_rebuild_scope.sql), and a ``--full-refresh`` of the member models
  gives the same rows.

The runs' JVMs live in their own processes. The full refresh runs dbt in this process
(``dbtRunner``; dbt-spark's session method runs Spark inside the dbt process) and reads
the tables through that same SparkSession, the module's one JVM here, stopped when the
module ends (a second process could not open the Derby metastore while this one holds it,
and reading the Parquet files directly would bypass the metastore's idea of which
partitions are live).
"""

from __future__ import annotations

import collections
import datetime
import decimal
import math
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from pipelines.config import Settings
from pipelines.ingest.ledger import Status, read_ledger
from pipelines.orchestration.dbt import dbt_environment
from pipelines.quality.runner import blocked_submissions
from pipelines.warehouse.build_plan import ENGINE_KEY
from pipelines.warehouse.build_state import STATE_TABLE, read_recorded

from . import test_crash_safety
from .spark_thrift import ThriftServer, thrift_server
from .test_crash_safety import CliRun, fresh_copy, table_digests
from .test_dbt_incremental import SELECT as MEMBER_SELECT
from .test_dbt_models import DBT_DIR
from .test_state_faults import EXCLUDE

pytestmark = pytest.mark.slow

try:
    import pyspark  # noqa: F401
except ImportError:  # pragma: no cover - the README's test command installs the extra
    pytest.skip("pyspark is not importable: install the `spark` extra (uv sync --extra spark)",
                allow_module_level=True)

SPARK_RUN_TIMEOUT_S = 1500  # JVM starts and some 400 dbt nodes on Spark, on 2 shared cores
# the crash and state tests' volatile columns, and when the alerts were evaluated (those
# tests compare alerts.alert_runs by what each run adds; here each side has one run)
VOLATILE = EXCLUDE | {"evaluated_at"}
SCHEMAS = ("reference", "staging", "intermediate", "marts", "audit", "indicators", "warnings")
MEMBER_TABLES = ("staging.stg_members", "intermediate.int_member_snapshots", "marts.dim_member",
                 "marts.dim_member_history", "marts.fct_member_changes", "marts.fct_membership_counts")

Rows = collections.Counter[tuple[Any, ...]]
Tables = dict[str, tuple[list[str], Rows]]


# --- the two runs ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def thrift(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThriftServer]:
    """A Spark Thrift server, as a cluster runs (started after the other runs: its JVM
    starts while they run)."""
    with thrift_server(tmp_path_factory.mktemp("thrift_server")) as server:
        yield server


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict[str, CliRun]:
    """The district run three ways side by side: on Spark in session mode, on DuckDB, and
    on a Spark Thrift server (started once the first two run)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(test_crash_safety, "RUN_TIMEOUT_S", SPARK_RUN_TIMEOUT_S)
        patch.delenv("UNION_SPARK_METHOD", raising=False)
        patch.setenv("UNION_WAREHOUSE_TARGET", "spark")
        spark = CliRun.start(fresh_copy(tmp_path_factory, "spark_run"))
        patch.setenv("UNION_WAREHOUSE_TARGET", "duckdb")
        duck = CliRun.start(fresh_copy(tmp_path_factory, "duckdb_run"))
        started = time.perf_counter()
        server: ThriftServer = request.getfixturevalue("thrift")
        for name, value in server.environ().items():
            patch.setenv(name, value)
        on_thrift = CliRun.start(fresh_copy(tmp_path_factory, "thrift_run"))
        assert duck.wait() == 0, duck.tail()
        assert spark.wait() == 0, spark.tail()
        assert on_thrift.wait() == 0, on_thrift.tail()
    print(f"\nDuckDB run {duck.seconds:.0f} s, Spark run {spark.seconds:.0f} s, Thrift run "
          f"{on_thrift.seconds:.0f} s (side by side; {time.perf_counter() - started:.0f} s after the first started)")
    return {"duckdb": duck, "spark": spark, "thrift": on_thrift}


def test_the_spark_run_built_on_spark_and_ran_every_later_step(runs: dict[str, CliRun]) -> None:
    spark, duck = runs["spark"].settings, runs["duckdb"].settings
    # the Spark run did build on Spark, and recorded it (a switch of engine is a full build)
    assert any((spark.data_dir / "warehouse" / "spark" / "tables" / "marts.db").iterdir())
    assert (spark.data_dir / "warehouse" / "spark" / "metastore_db").is_dir()
    assert (spark.data_dir / "warehouse" / "spark" / "scratch").is_dir()  # Spark's block files, not in /tmp
    assert not (duck.data_dir / "warehouse" / "spark").exists()
    assert (read_recorded(spark.warehouse_path) or {}).get(ENGINE_KEY) == "spark"
    assert (read_recorded(duck.warehouse_path) or {}).get(ENGINE_KEY) == "duckdb"
    for settings in (spark, duck):  # the steps after publish ran too
        assert (settings.reports_dir / "dbt_docs" / "index.html").stat().st_size > 0
        assert list(settings.exports_dir.glob("indicators_*.xlsx"))
    # nothing of Spark's (metastore, Derby log, default warehouse) outside the data directory
    for stray in ("metastore_db", "derby.log", "spark-warehouse"):
        assert not (DBT_DIR / stray).exists() and not (Path.cwd() / stray).exists(), stray


def test_a_spark_run_publishes_what_a_duckdb_run_publishes(runs: dict[str, CliRun]) -> None:
    duck, spark = runs["duckdb"].settings.published_path, runs["spark"].settings.published_path
    on_duckdb = table_digests(duck, VOLATILE)
    on_spark = table_digests(spark, VOLATILE)
    assert sorted(on_spark) == sorted(on_duckdb)
    assert len(on_duckdb) > 30 and sum(rows for rows, _ in on_duckdb.values()) > 10_000  # not an empty district
    differing = sorted(t for t in on_duckdb if on_duckdb[t] != on_spark[t])
    assert not differing, _published_differences(duck, spark, differing)


def test_every_table_of_every_layer_is_equal_on_spark_and_duckdb(runs: dict[str, CliRun]) -> None:
    duck = working_tables(runs["duckdb"].settings.warehouse_path)
    spark = working_tables(runs["spark"].settings.warehouse_path)
    assert {name.split(".")[0] for name in duck} == set(SCHEMAS)
    for name in ("marts.dim_member", "marts.fct_member_changes", "indicators.indicator_values",
                 "warnings.warning_findings", "audit.quarantine", "audit.row_reconciliation"):
        assert sum(duck[name][1].values()) > 0, f"{name} is empty: the comparison would prove little"
    assert differences(duck, spark) == {}


# --- on a Spark Thrift server (UNION_SPARK_METHOD=thrift) ---------------------------------------


def test_a_build_on_a_thrift_server_publishes_what_a_duckdb_run_publishes(
        runs: dict[str, CliRun], thrift: ThriftServer) -> None:
    """The production path: dbt builds on a Spark Thrift server (as a cluster's), the
    pipeline mirrors the tables from the server's warehouse directory
    (``UNION_SPARK_TABLES_DIR``), and the published and working warehouses equal DuckDB's."""
    on_thrift, duck = runs["thrift"].settings, runs["duckdb"].settings
    assert (read_recorded(on_thrift.warehouse_path) or {}).get(ENGINE_KEY) == "spark"
    assert any((thrift.tables_dir / "marts.db").iterdir())  # the server wrote the tables ...
    assert not (on_thrift.data_dir / "warehouse" / "spark").exists()  # ... no local Spark did
    on_duckdb = table_digests(duck.published_path, VOLATILE)
    served = table_digests(on_thrift.published_path, VOLATILE)
    assert sorted(served) == sorted(on_duckdb)
    differing = sorted(t for t in on_duckdb if on_duckdb[t] != served[t])
    assert not differing, _published_differences(duck.published_path, on_thrift.published_path, differing)
    assert differences(working_tables(duck.warehouse_path), working_tables(on_thrift.warehouse_path)) == {}


def test_the_profiles_session_settings_reach_each_thrift_session(thrift: ThriftServer) -> None:
    """The settings the project needs (timestamps without a zone, UTC, dynamic partition
    overwrite for the incremental models) are the profile's, sent with each session: the
    server was started without them, as a cluster's would be."""
    from pyhive import hive

    profile = yaml.safe_load((DBT_DIR / "profiles.yml").read_text(encoding="utf-8"))["union_warehouse"]
    sent = profile["outputs"]["spark_thrift"]["server_side_parameters"]
    connection = hive.connect(host=thrift.host, port=thrift.port, username="union_warehouse", auth="NONE",
                              configuration=sent)
    try:
        cursor = connection.cursor()
        for key, value in sent.items():
            name = key.removeprefix("set:hiveconf:")
            cursor.execute(f"set {name}")
            assert cursor.fetchall() == [(name, str(value))], key
    finally:
        connection.close()
    assert {k.removeprefix("set:hiveconf:") for k in sent} >= {
        "spark.sql.timestampType", "spark.sql.session.timeZone", "spark.sql.sources.partitionOverwriteMode"}


# --- incremental on Spark -------------------------------------------------------------------


class SparkDbt:
    """dbt on Spark in this process: the module's one JVM (dbt-spark's session method)."""

    def __init__(self, settings: Settings) -> None:
        from dbt.cli.main import dbtRunner

        self.runner = dbtRunner()
        self.target = settings.data_dir.parent / "target-spark-incremental"
        self.seconds: dict[str, float] = {}

    def __call__(self, label: str, *args: str) -> None:
        started = time.perf_counter()
        result = self.runner.invoke([
            *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
            "--target-path", str(self.target), "--log-path", str(self.target / "logs"), "--quiet",
            "--vars", '{"as_of_date": "2015-12-31"}',
        ])
        self.seconds[label] = round(time.perf_counter() - started, 1)
        failed = [f"{r.node.name}: {r.status}: {r.message}" for r in (result.result or [])
                  if str(r.status) in ("error", "fail", "runtime error")]
        assert result.success and not failed, result.exception or failed


@pytest.fixture(scope="module")
def spark_dbt(runs: dict[str, CliRun]) -> Iterator[SparkDbt]:
    settings = runs["spark"].settings
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("UNION_SPARK_METHOD", raising=False)
        try:
            with dbt_environment(settings, engine="spark"):
                yield SparkDbt(settings)
        finally:
            stop_spark()


def test_two_spark_runs_on_one_data_dir_take_turns_and_build_incrementally(
        runs: dict[str, CliRun], spark_dbt: SparkDbt) -> None:
    """The single-writer rule on Spark: one street corrects its latest members list and
    two ``union-warehouse run`` start together on the Spark run's data directory. One
    waits for the other (one pipeline run at a time per data directory), so the Derby
    metastore, which one process only may open, is never asked for twice; the correction
    is landed once and built incrementally on Spark, and what that left equals a
    ``--full-refresh`` of the member models on Spark."""
    root, settings = runs["spark"].root, runs["spark"].settings
    # what the first run built, as mirrored into its working file (all columns, as Spark has them)
    before = working_tables(settings.warehouse_path, MEMBER_TABLES, exclude=set())
    stdout = root / "cli.stdout"
    seen = stdout.stat().st_size
    correction = write_corrected_members_list(settings)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(test_crash_safety, "RUN_TIMEOUT_S", SPARK_RUN_TIMEOUT_S)
        patch.delenv("UNION_SPARK_METHOD", raising=False)
        patch.setenv("UNION_WAREHOUSE_TARGET", "spark")
        first, second = CliRun.start(root), CliRun.start(root)
        assert first.wait() == 0, first.tail()
        assert second.wait() == 0, second.tail()
    print(f"\ntwo runs on one data directory: {first.seconds:.0f} s and {second.seconds:.0f} s")

    said = stdout.read_bytes()[seen:].decode(errors="replace").splitlines()
    waited = [line for line in said if line.startswith("waiting for run")]
    assert len(waited) == 1, said  # one waited for the other
    for run in (first, second):
        assert "Another instance of Derby" not in run.tail(10**8)
    # one run built the correction incrementally; the other found nothing left to build
    plans = sorted(found.group(0) for run in (first, second) for line in run.tail(10**8).splitlines()
                   if (found := re.search(r"(incremental build: |full build \().*", line)))
    assert len(plans) == 2 and plans[0].startswith("incremental build: datasets changed since the last build: members;") \
        and plans[1].startswith("incremental build: datasets changed since the last build: none;"), plans
    landed = [e for e in read_ledger(settings.ledger_path) if e.path.endswith(correction.name)]
    assert [e.status for e in landed] == [Status.LOADED]
    assert landed[0].sha256 not in blocked_submissions(settings)

    incremental = working_tables(settings.warehouse_path, MEMBER_TABLES, exclude=set())
    # the correction reached the member models (else the comparison proves nothing) ...
    changed = differences(before, incremental)
    assert "staging.stg_members" in changed and "marts.fct_member_changes" in changed, changed
    # ... and what the incremental build left is what a rebuild from scratch on Spark gives
    spark_dbt("spark_full_refresh", "run", "--select", MEMBER_SELECT, "--full-refresh")
    print(f"spark seconds: {spark_dbt.seconds}")
    assert differences(incremental, spark_tables(MEMBER_TABLES)) == {}


def write_corrected_members_list(settings: Settings) -> Path:
    """A street's latest accepted members list sent again (same date) without its last two
    members, in the drop zone (the next run lands it)."""
    held = blocked_submissions(settings)
    entries = [e for e in read_ledger(settings.ledger_path)
               if e.dataset == "members" and e.status == Status.LOADED and e.sha256 not in held
               and e.path.endswith((".csv", ".jsonl"))]
    latest = max(entries, key=lambda e: (e.as_of_date or "", e.street_code))
    source = settings.raw_dir / latest.path
    data = source.read_bytes()
    encoding = next(enc for enc in ("utf-8-sig", "gb18030") if _decodes(data, enc))
    lines = data.decode(encoding).splitlines(keepends=True)
    kept = [line for line in lines if line.strip()][:-2]
    target = source.with_name(f"{source.stem}_correction{source.suffix}")
    target.write_bytes("".join(kept).encode(encoding))
    old = time.time() - 60  # not a file still being written
    os.utime(target, (old, old))
    return target


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def stop_spark() -> None:
    """Stop the session and the JVM this module started (pyspark would keep it to the end
    of the process)."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()
    gateway = SparkContext._gateway
    if gateway is not None:
        gateway.shutdown()
        proc = getattr(gateway, "proc", None)
        if proc is not None:
            proc.kill()
            proc.wait(timeout=30)
        SparkContext._gateway = None
        SparkContext._jvm = None


# --- tables as both engines hand them over ----------------------------------------------------


def normalise(value: Any) -> Any:
    """One value, engine-neutral: numbers as floats of 12 significant digits, instants in
    UTC, lists as tuples."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | decimal.Decimal):
        number = float(value)
        return repr(number) if math.isnan(number) or math.isinf(number) else float(f"{number:.12g}")
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.UTC).replace(tzinfo=None)
    if isinstance(value, list | tuple):
        return tuple(normalise(v) for v in value)
    return value


def as_rows(records: list[dict[str, Any]], columns: list[str]) -> Rows:
    return collections.Counter(tuple(repr(normalise(r[c])) for c in columns) for r in records)


def working_tables(path: Path, only: tuple[str, ...] = (), exclude: set[str] = VOLATILE) -> Tables:
    """The dbt-built tables of a working DuckDB file (the build's bookkeeping aside; or
    ``only`` those), the ``exclude`` columns (by default those that differ between any
    two runs) set aside."""
    out = {}
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            f"where table_schema in ({', '.join(repr(s) for s in SCHEMAS)}) and table_type = 'BASE TABLE'"
        ).fetchall()
        for (name,) in names:
            if name == STATE_TABLE or (only and name not in only):
                continue
            cursor = con.execute(f"select * from {name}")
            columns = [d[0] for d in cursor.description]
            records = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            kept = sorted(c for c in columns if c not in exclude)
            out[name] = (kept, as_rows(records, kept))
    return out


def spark_tables(names: tuple[str, ...]) -> Tables:
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    out = {}
    for name in names:
        frame = spark.table(name)
        columns = sorted(frame.columns)
        # through Arrow: instants keep their zone (collect() would give local wall-clock times)
        out[name] = (columns, as_rows(frame.toArrow().to_pylist(), columns))
    return out


def differences(left: Tables, right: Tables) -> dict[str, str]:
    """{table: what differs} over the tables of both sides (and those of only one)."""
    out = {}
    for name in sorted(set(left) | set(right)):
        if name not in left or name not in right:
            out[name] = "only on " + ("the left" if name in left else "the right")
            continue
        (lcols, lrows), (rcols, rrows) = left[name], right[name]
        if lcols != rcols:
            out[name] = f"columns differ: {sorted(set(lcols) ^ set(rcols))}"
        elif lrows != rrows:
            only_left, only_right = lrows - rrows, rrows - lrows
            example = next(iter(only_left or only_right))
            out[name] = (f"{sum(only_left.values())} rows only left, {sum(only_right.values())} only right, "
                         f"e.g. {dict(zip(lcols, example, strict=True))}")
    return out


def _published_differences(left: Path, right: Path, tables: list[str]) -> dict[str, str]:
    """For each table, what differs between the two published files: the column types,
    or how many rows (without the volatile columns) only one side has, with an example."""
    out = {}
    with duckdb.connect(":memory:") as con:
        con.execute("attach ? as l (read_only)", [str(left)])
        con.execute("attach ? as r (read_only)", [str(right)])
        for name in tables:
            schema, table = name.split(".")
            typed = {}
            for side in ("l", "r"):
                typed[side] = con.execute(
                    "select column_name, data_type from duckdb_columns() where database_name = ? and schema_name = ? "
                    "and table_name = ? order by column_index", [side, schema, table]).fetchall()
            if typed["l"] != typed["r"]:
                out[name] = f"columns differ: duckdb {typed['l']} spark {typed['r']}"
                continue
            kept = ", ".join(f'"{c}"' for c, _ in typed["l"] if c not in VOLATILE)
            only = [con.execute(f'select {kept} from {a}."{schema}"."{table}" except all '
                                f'select {kept} from {b}."{schema}"."{table}"').fetchall() for a, b in (("l", "r"), ("r", "l"))]
            out[name] = (f"{len(only[0])} rows only on DuckDB, {len(only[1])} only on Spark; e.g. "
                         f"{only[0][:1]} / {only[1][:1]}")
    return out
