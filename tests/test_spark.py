"""The warehouse on Apache Spark (issue 17): one module, one district, the whole path.

``union-warehouse run`` with ``UNION_WAREHOUSE_TARGET=spark`` builds the models on Spark,
mirrors the tables into the working DuckDB file (pipelines/warehouse/spark_mirror.py),
and every later step (asset checks, indicator gates, publish, alerts, the dbt docs page,
exports) runs on that file as on a DuckDB build. The module runs it in session mode
beside a DuckDB run of the same input (the crash-safety tests' small district, three
streets, defects included, copied byte for byte into a data directory each; the DuckDB run
is the crash module's clean run, made once per test session), then shows:

- the published warehouse, the analysts' one interface, is the same: every table equal
  after sorting, the columns that differ between any two runs (run ids, wall-clock times,
  code_version) aside;
- every table of every layer of the working file (reference, staging, intermediate,
  marts, audit, indicators, warnings) holds the same rows, compared as multisets after
  normalising how values differ in type between the engines (DuckDB sums integers into
  HUGEINT, Spark into BIGINT; sums of doubles may differ in the last bits);
- Spark left nothing outside the data directory.

Then the production path, dbt through a Spark Thrift server (``UNION_SPARK_METHOD=thrift``;
a real ``HiveThriftServer2`` from pyspark's jars, tests/spark_thrift.py), started over
the tables and metastore the session run left, as a cluster serves the tables it holds:

- the session settings the models need reach each Thrift session from the profile;
- the single-writer rule holds and incremental models on Spark equal a full refresh on
  Spark: one street corrects its latest members list, two runs start together through
  the server on the Spark data directory, one waits for the other, the correction is
  built incrementally on the server (the partitions of the streets to rebuild
  overwritten, see macros/incremental_rebuild_scope.sql), and a ``--full-refresh`` of
  the member models through the same server gives the same rows;
- the same correction built incrementally on DuckDB publishes the same warehouse.

One full Spark build, not two: the Thrift runs build on what the session run built
(the suite's time, issue 17). The runs' JVMs live in their own processes (the session
run's, then the server's); this process starts none.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import math
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.config import Settings
from pipelines.ingest.ledger import Status, read_ledger
from pipelines.orchestration.dbt import dbt_environment
from pipelines.quality.runner import blocked_submissions
from pipelines.warehouse.build_plan import ENGINE_KEY
from pipelines.warehouse.build_state import STATE_TABLE, read_recorded
from pipelines.warehouse.spark_mirror import mirror_spark_build

from . import test_crash_safety
from .spark_thrift import ThriftServer, thrift_server
from .test_crash_safety import (
    CliRun,
    clean_district_run,
    cli_settings,
    copy_of_clean_run,
    fresh_copy,
    table_digests,
)
from .test_dbt_incremental import SELECT as MEMBER_SELECT
from .test_dbt_models import DBT_DIR
from .test_dbt_sources import spark_settings
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

RUN_LOGS = ("alerts.alert_runs", "audit.publish_manifest")  # a row per run, per publish
Rows = collections.Counter[tuple[Any, ...]]
Tables = dict[str, tuple[list[str], Rows]]


# --- the two runs ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CliRun]:
    """The district run two ways side by side: on Spark in session mode and on DuckDB."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(test_crash_safety, "RUN_TIMEOUT_S", SPARK_RUN_TIMEOUT_S)
        patch.delenv("UNION_SPARK_METHOD", raising=False)
        patch.setenv("UNION_WAREHOUSE_TARGET", "spark")
        spark = CliRun.start(fresh_copy(tmp_path_factory, "spark_run"))
        duck = clean_district_run(tmp_path_factory)  # the crash module's, made once per session
        assert duck.wait() == 0, duck.tail()
        assert spark.wait() == 0, spark.tail()
    print(f"\nDuckDB run {duck.seconds:.0f} s, Spark run {spark.seconds:.0f} s (side by side)")
    return {"duckdb": duck, "spark": spark}


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


@pytest.fixture(scope="module")
def thrift(runs: dict[str, CliRun], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThriftServer]:
    """A Spark Thrift server, as a cluster runs, serving the tables and metastore the
    session-mode run built (that run's process has ended, so Derby is free)."""
    spark_home = runs["spark"].settings.data_dir / "warehouse" / "spark"
    with thrift_server(tmp_path_factory.mktemp("thrift_server"), spark_home) as server:
        yield server


@pytest.fixture(scope="module")
def corrected(runs: dict[str, CliRun], thrift: ThriftServer,
              tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One street corrects its latest members list in the Spark data directory and in a
    copy of the DuckDB one. On the Spark one, two ``union-warehouse run`` start together
    through the Thrift server (the production path: dbt on the server, the tables mirrored
    from its warehouse directory, ``UNION_SPARK_TABLES_DIR``); on the DuckDB copy, one
    run, beside them."""
    spark_root, settings = runs["spark"].root, runs["spark"].settings
    before = working_tables(settings.warehouse_path, MEMBER_TABLES, exclude=set())
    seen = (spark_root / "cli.stdout").stat().st_size
    correction = write_corrected_members_list(settings)
    duck_root = copy_of_clean_run(tmp_path_factory, "duckdb_correction")  # the clean run stays as it is
    assert write_corrected_members_list(cli_settings(duck_root)).name == correction.name
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(test_crash_safety, "RUN_TIMEOUT_S", SPARK_RUN_TIMEOUT_S)
        patch.setenv("UNION_WAREHOUSE_TARGET", "duckdb")
        duck = CliRun.start(duck_root)
        for name, value in thrift.environ().items():
            patch.setenv(name, value)
        first, second = CliRun.start(spark_root), CliRun.start(spark_root)
        assert first.wait() == 0, first.tail()
        assert second.wait() == 0, second.tail()
        assert duck.wait() == 0, duck.tail()
    print(f"\ntwo Thrift runs on one data directory: {first.seconds:.0f} s and {second.seconds:.0f} s; "
          f"DuckDB {duck.seconds:.0f} s")
    said = (spark_root / "cli.stdout").read_bytes()[seen:].decode(errors="replace").splitlines()
    return {"before": before, "correction": correction, "runs": (first, second), "said": said, "duckdb": duck}


def test_two_thrift_runs_on_one_data_dir_take_turns_and_build_incrementally(
        runs: dict[str, CliRun], corrected: dict[str, Any], thrift: ThriftServer) -> None:
    """The single-writer rule through a Thrift server: of two runs started together on one
    data directory, one waits for the other; the correction is landed once and built
    incrementally on the server (the partitions of the streets to rebuild overwritten, see
    macros/incremental_rebuild_scope.sql), and the other run finds nothing left to build."""
    settings = runs["spark"].settings
    waited = [line for line in corrected["said"] if line.startswith("waiting for run")]
    assert len(waited) == 1, corrected["said"]  # one waited for the other
    plans = sorted(found.group(0) for run in corrected["runs"] for line in run.tail(10**8).splitlines()
                   if (found := re.search(r"(incremental build: |full build \().*", line)))
    assert len(plans) == 2 and plans[0].startswith("incremental build: datasets changed since the last build: members;") \
        and plans[1].startswith("incremental build: datasets changed since the last build: none;"), plans
    landed = [e for e in read_ledger(settings.ledger_path) if e.path.endswith(corrected["correction"].name)]
    assert [e.status for e in landed] == [Status.LOADED]
    assert landed[0].sha256 not in blocked_submissions(settings)
    # the correction reached the member models (else the comparisons prove little)
    changed = differences(corrected["before"], working_tables(settings.warehouse_path, MEMBER_TABLES, exclude=set()))
    assert "staging.stg_members" in changed and "marts.fct_member_changes" in changed, changed


def test_after_the_correction_a_thrift_build_publishes_what_a_duckdb_build_publishes(
        runs: dict[str, CliRun], corrected: dict[str, Any]) -> None:
    """Both engines built the same correction incrementally: the published warehouses and
    every table of the working files are still equal."""
    on_thrift, duck = runs["spark"].settings, corrected["duckdb"].settings
    assert (read_recorded(on_thrift.warehouse_path) or {}).get(ENGINE_KEY) == "spark"
    on_duckdb = table_digests(duck.published_path, VOLATILE)
    served = table_digests(on_thrift.published_path, VOLATILE)
    assert sorted(served) == sorted(on_duckdb)
    # the Spark side ran twice (the second found nothing to build), the DuckDB side once:
    # the logs of runs and publishes hold one row more there, and only those differ
    for log in RUN_LOGS:
        assert served.pop(log)[0] == on_duckdb.pop(log)[0] + 1, log
    differing = sorted(t for t in on_duckdb if on_duckdb[t] != served[t])
    assert not differing, _published_differences(duck.published_path, on_thrift.published_path, differing)
    assert differences(working_tables(duck.warehouse_path), working_tables(on_thrift.warehouse_path)) == {}


def test_the_incremental_build_on_spark_equals_a_full_refresh_on_spark(
        runs: dict[str, CliRun], corrected: dict[str, Any], thrift: ThriftServer, tmp_path: Path) -> None:
    """What the incremental build left on Spark is what a ``--full-refresh`` of the member
    models on Spark gives (dbt through the same server; the rebuilt tables mirrored into a
    copy of the working file, as a run mirrors them)."""
    settings = runs["spark"].settings
    incremental = working_tables(settings.warehouse_path, MEMBER_TABLES, exclude=set())
    target = tmp_path / "target-full-refresh"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in thrift.environ().items():
            patch.setenv(name, value)
        with dbt_environment(settings, engine="spark"):
            from dbt.cli.main import dbtRunner

            result = dbtRunner().invoke([
                "run", "--select", MEMBER_SELECT, "--full-refresh", "--project-dir", str(DBT_DIR),
                "--profiles-dir", str(DBT_DIR), "--target-path", str(target), "--log-path", str(target / "logs"),
                "--quiet", "--vars", '{"as_of_date": "2015-12-31"}',
            ])
        failed = [f"{r.node.name}: {r.status}: {r.message}" for r in (result.result or [])
                  if str(r.status) in ("error", "fail", "runtime error")]
        assert result.success and not failed, result.exception or failed
        copy = tmp_path / "full_refresh.duckdb"
        shutil.copyfile(settings.warehouse_path, copy)
        mirrored = mirror_spark_build(settings.data_dir, copy, target, describe=_no_describe, environ=os.environ)
    assert mirrored.tables >= len(MEMBER_TABLES)
    assert differences(incremental, working_tables(copy, MEMBER_TABLES, exclude=set())) == {}


def test_the_profiles_session_settings_reach_each_thrift_session(thrift: ThriftServer) -> None:
    """The settings the project needs (timestamps without a zone, UTC, dynamic partition
    overwrite for the incremental models) are the profile's, sent with each session: the
    server was started without them, as a cluster's would be."""
    from pyhive import hive

    sent = spark_settings("spark_thrift", os.environ)
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
        "spark.sql.timestampType", "spark.sql.session.timeZone", "spark.sql.sources.partitionOverwriteMode",
        "spark.sql.sources.parallelPartitionDiscovery.threshold"}


def _no_describe(relations: Any) -> dict[str, Any]:
    raise AssertionError(f"a member table came back without data files: {relations}")


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
