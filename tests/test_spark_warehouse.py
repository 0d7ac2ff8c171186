"""The warehouse on Spark (``UNION_WAREHOUSE_TARGET=spark``, the ``spark`` extra) equals the
warehouse on DuckDB, table by table, built from the same landing.

A small generated district (four streets, defects included) is landed by the pipeline's
own code (generate, ingest, quality gate), then built twice: ``dbt build`` on DuckDB (a
subprocess, as the pipeline runs it) and ``dbt build`` on Spark. Every table of every
layer (reference, staging, intermediate, marts, audit, indicators, warnings) must hold
the same rows on both engines, compared as multisets after normalising how each engine
hands values to Python (numbers to 12 significant digits, instants to UTC). No column is
set aside: no model computes anything from the build itself (run ids and check times come
from the verdict files, the same input for both).

Then one street corrects its latest members list (the same date sent again without its
last two members), the pipeline lands the correction, and Spark builds the member models
incrementally (partitions of the streets to rebuild dropped and overwritten, see
macros/incremental_rebuild_scope.sql) and then with ``--full-refresh``: the same rows.

One Spark JVM for the module: dbt-spark's session method runs Spark inside the dbt process,
so dbt runs here, in-process (``dbtRunner``), and the tables are read through that same
SparkSession (a second process could not open the Derby metastore while this one holds
it, and reading the Parquet files directly would bypass the metastore's idea of which
partitions are live). The JVM is shut down when the module ends.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.config import Settings
from pipelines.generate import generate_district
from pipelines.ingest.ledger import Status, read_ledger
from pipelines.ingest.process import ingest_pending
from pipelines.orchestration.dbt import dbt_environment
from pipelines.quality.runner import QualityRunner, blocked_submissions, check_pending
from pipelines.warehouse.bootstrap import ensure_dbt_inputs

from .test_dbt_incremental import SELECT as MEMBER_SELECT
from .test_dbt_models import DBT_DIR, ROOT

pytestmark = pytest.mark.slow

try:
    import pyspark  # noqa: F401
except ImportError:  # pragma: no cover - the README's test command installs the extra
    pytest.skip("pyspark is not importable: install the `spark` extra (uv sync --extra spark)",
                allow_module_level=True)

AS_OF = "2015-12-31"
SEED, SCALE = 3, 0.02
KEPT_STREETS = 4  # of the 17: enough for transfers between streets, small enough to build fast
SCHEMAS = ("reference", "staging", "intermediate", "marts", "audit", "indicators", "warnings")
MEMBER_TABLES = ("staging.stg_members", "intermediate.int_member_snapshots", "marts.dim_member",
                 "marts.dim_member_history", "marts.fct_member_changes", "marts.fct_membership_counts")

Rows = collections.Counter[tuple[Any, ...]]


# --- values as both engines hand them over ------------------------------------------------


def normalise(value: Any) -> Any:
    """One value, engine-neutral: numbers as floats of 12 significant digits (DuckDB sums
    integers into HUGEINT, Spark into BIGINT; sums of doubles may differ in the last bits),
    instants in UTC, lists as tuples."""
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


def duckdb_tables(path: Path) -> dict[str, tuple[list[str], Rows]]:
    out = {}
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            f"where table_schema in ({', '.join(repr(s) for s in SCHEMAS)}) and table_type = 'BASE TABLE'"
        ).fetchall()
        for (name,) in names:
            cursor = con.execute(f"select * from {name}")
            columns = [d[0] for d in cursor.description]
            records = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            out[name] = (sorted(columns), as_rows(records, sorted(columns)))
    return out


def spark_table(name: str) -> tuple[list[str], Rows]:
    from pyspark.sql import SparkSession

    frame = SparkSession.builder.getOrCreate().table(name)
    columns = sorted(frame.columns)
    # through Arrow: instants keep their zone (collect() would give local wall-clock times)
    return columns, as_rows(frame.toArrow().to_pylist(), columns)


def spark_tables() -> dict[str, tuple[list[str], Rows]]:
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    names = [f"{schema}.{t.tableName}" for schema in SCHEMAS
             for t in spark.sql(f"show tables in {schema}").collect() if not t.isTemporary]
    return {name: spark_table(name) for name in names}


def differences(left: dict[str, tuple[list[str], Rows]], right: dict[str, tuple[list[str], Rows]]) -> dict[str, str]:
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


# --- the district, landed -----------------------------------------------------------------


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("spark_district")
    settings = Settings(raw_dir=root / "raw", data_dir=root / "data", pii_key="spark-test-key")
    generate_district(settings.raw_dir, scale=SCALE, seed=SEED, defects=True)
    inbox = settings.raw_dir / "inbox"
    for street in sorted(p for p in inbox.iterdir() if p.is_dir())[KEPT_STREETS:]:
        shutil.rmtree(street)
    ingest_pending(settings)
    check_pending(settings, QualityRunner(ROOT / "expectations"), "spark-test", datetime.date(2015, 12, 31))
    ensure_dbt_inputs(settings)
    return settings


def dbt_subprocess(settings: Settings, *args: str) -> None:
    """dbt on DuckDB, in its own process, as the pipeline runs it."""
    target = settings.data_dir.parent / "target-duckdb"
    env = {**os.environ, "UNION_DATA_DIR": str(settings.data_dir), "UNION_WAREHOUSE_TARGET": "duckdb",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
         "--target-path", str(target), "--log-path", str(target / "logs"), "--vars", f'{{"as_of_date": "{AS_OF}"}}'],
        env=env, capture_output=True, text=True, cwd=DBT_DIR, timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


class SparkDbt:
    """dbt on Spark in this process: one JVM (dbt-spark's session method) for the module."""

    def __init__(self, settings: Settings) -> None:
        from dbt.cli.main import dbtRunner

        self.settings = settings
        self.runner = dbtRunner()
        self.target = settings.data_dir.parent / "target-spark"
        self.seconds: dict[str, float] = {}

    def __call__(self, label: str, *args: str) -> None:
        started = time.perf_counter()
        result = self.runner.invoke([
            *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
            "--target-path", str(self.target), "--log-path", str(self.target / "logs"), "--quiet",
            "--vars", f'{{"as_of_date": "{AS_OF}"}}',
        ])
        self.seconds[label] = round(time.perf_counter() - started, 1)
        failed = [f"{r.node.name}: {r.status}: {r.message}" for r in (result.result or [])
                  if str(r.status) in ("error", "fail", "runtime error")]
        assert result.success and not failed, result.exception or failed


@pytest.fixture(scope="module")
def spark_dbt(landed: Settings) -> Iterator[SparkDbt]:
    saved = os.environ.get("UNION_WAREHOUSE_TARGET")
    os.environ["UNION_WAREHOUSE_TARGET"] = "spark"
    try:
        with dbt_environment(landed):
            yield SparkDbt(landed)
    finally:
        if saved is None:
            os.environ.pop("UNION_WAREHOUSE_TARGET", None)
        else:
            os.environ["UNION_WAREHOUSE_TARGET"] = saved
        stop_spark()


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


@pytest.fixture(scope="module")
def both_built(landed: Settings, spark_dbt: SparkDbt) -> dict[str, dict[str, tuple[list[str], Rows]]]:
    started = time.perf_counter()
    dbt_subprocess(landed, "build")
    spark_dbt.seconds["duckdb_build"] = round(time.perf_counter() - started, 1)
    spark_dbt("spark_build", "build")
    built = {"duckdb": duckdb_tables(landed.warehouse_path), "spark": spark_tables()}
    print(f"\nbuild seconds: {spark_dbt.seconds}")
    return built


def test_the_build_left_nothing_outside_the_data_dir(landed: Settings, both_built) -> None:  # type: ignore[no-untyped-def]
    spark_dir = landed.data_dir / "warehouse" / "spark"
    assert (spark_dir / "metastore_db").is_dir() and (spark_dir / "tables").is_dir()
    for stray in ("metastore_db", "derby.log", "spark-warehouse"):
        assert not (DBT_DIR / stray).exists() and not (Path.cwd() / stray).exists(), stray


def test_every_table_of_every_layer_is_equal_on_spark_and_duckdb(both_built) -> None:  # type: ignore[no-untyped-def]
    duck, spark = both_built["duckdb"], both_built["spark"]
    # every layer is there, with rows where the district has them
    assert {name.split(".")[0] for name in duck} == set(SCHEMAS)
    for name in ("marts.dim_member", "marts.fct_member_changes", "indicators.indicator_values",
                 "warnings.warning_findings", "audit.quarantine", "audit.row_reconciliation"):
        assert sum(duck[name][1].values()) > 0, f"{name} is empty: the comparison would prove little"
    assert differences(duck, spark) == {}


# --- incremental on Spark -----------------------------------------------------------------


def correct_latest_members_list(settings: Settings) -> str:
    """Send a street's latest accepted members list again (same date) without its last two
    members, into the drop zone, and land it with the pipeline. Returns the street."""
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
    target.write_bytes("".join(kept).encode("utf-8-sig" if encoding == "utf-8-sig" else encoding))
    old = time.time() - 60  # not a file still being written
    os.utime(target, (old, old))
    new = ingest_pending(settings).entries
    assert [e.status for e in new] == [Status.LOADED], [(e.status, e.error_code) for e in new]
    check_pending(settings, QualityRunner(ROOT / "expectations"), "spark-test-2", datetime.date(2015, 12, 31))
    assert new[0].sha256 not in blocked_submissions(settings)
    return latest.street_code


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def test_an_incremental_spark_build_equals_a_full_refresh(landed: Settings, spark_dbt: SparkDbt, both_built) -> None:  # type: ignore[no-untyped-def]
    before = {name: spark_table(name) for name in MEMBER_TABLES}
    street = correct_latest_members_list(landed)

    spark_dbt("spark_incremental", "run", "--select", MEMBER_SELECT)
    incremental = {name: spark_table(name) for name in MEMBER_TABLES}
    spark_dbt("spark_full_refresh", "run", "--select", MEMBER_SELECT, "--full-refresh")
    rebuilt = {name: spark_table(name) for name in MEMBER_TABLES}
    print(f"\nspark seconds: {spark_dbt.seconds}")

    # the correction reached the member models (else the comparison proves nothing) ...
    changed = differences(before, incremental)
    assert "staging.stg_members" in changed and "marts.fct_member_changes" in changed, (street, changed)
    # ... and what the incremental run left is what a rebuild from scratch gives
    assert differences(incremental, rebuilt) == {}
