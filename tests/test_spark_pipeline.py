"""Everything after the build works on Spark (issue 17): ``union-warehouse run`` with
``UNION_WAREHOUSE_TARGET=spark`` builds the models on Spark, mirrors the tables into the
working DuckDB file (pipelines/warehouse/spark_mirror.py), and every later step (asset
checks, indicator gates, publish, alerts, the dbt docs page, exports) runs on that file as
on a DuckDB build. The published warehouse, the analysts' one interface, must be the
same: every table equal to the DuckDB run's of the same input, after sorting, the
columns that differ between any two runs (run ids, wall-clock times, code_version) aside.

The input is the crash-safety tests' small district (three streets, defects included),
copied byte for byte into two data directories; the two runs go side by side (the Spark
one is the long one: a JVM start for the build and one for the docs page).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse.build_plan import ENGINE_KEY
from pipelines.warehouse.build_state import read_recorded

from . import test_crash_safety
from .test_crash_safety import CliRun, fresh_copy, table_digests
from .test_state_faults import EXCLUDE

pytestmark = pytest.mark.slow

try:
    import pyspark  # noqa: F401
except ImportError:  # pragma: no cover - the README's test command installs the extra
    pytest.skip("pyspark is not importable: install the `spark` extra (uv sync --extra spark)",
                allow_module_level=True)

SPARK_RUN_TIMEOUT_S = 1500  # two JVM starts and some 400 dbt nodes on Spark, on 2 shared cores
# the crash and state tests' volatile columns, and when the alerts were evaluated (those
# tests compare alerts.alert_runs by what each run adds; here each side has one run)
VOLATILE = EXCLUDE | {"evaluated_at"}


def _differences(left: Path, right: Path, tables: list[str]) -> dict[str, str]:
    """For each table, what differs between the two published files: the column types,
    or how many rows (without the excluded columns) only one side has, with an example."""
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


def test_a_spark_run_publishes_what_a_duckdb_run_publishes(tmp_path_factory: pytest.TempPathFactory,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(test_crash_safety, "RUN_TIMEOUT_S", SPARK_RUN_TIMEOUT_S)
    monkeypatch.setenv("UNION_WAREHOUSE_TARGET", "spark")
    monkeypatch.delenv("UNION_SPARK_METHOD", raising=False)
    spark = CliRun.start(fresh_copy(tmp_path_factory, "spark_run"))
    monkeypatch.delenv("UNION_WAREHOUSE_TARGET")
    duck = CliRun.start(fresh_copy(tmp_path_factory, "duckdb_run"))
    started = time.perf_counter()
    assert duck.wait() == 0, duck.tail()
    assert spark.wait() == 0, spark.tail()
    print(f"\nDuckDB run {duck.seconds:.0f} s, Spark run {spark.seconds:.0f} s (side by side; "
          f"the test {time.perf_counter() - started:.0f} s after both started)")

    # the Spark run did build on Spark, and recorded it (a switch of engine is a full build)
    assert any((spark.settings.data_dir / "warehouse" / "spark" / "tables" / "marts.db").iterdir())
    assert not (duck.settings.data_dir / "warehouse" / "spark").exists()
    assert (read_recorded(spark.settings.warehouse_path) or {}).get(ENGINE_KEY) == "spark"
    assert (read_recorded(duck.settings.warehouse_path) or {}).get(ENGINE_KEY) == "duckdb"
    for run in (spark, duck):  # the steps after publish ran too
        assert (run.settings.reports_dir / "dbt_docs" / "index.html").stat().st_size > 0
        assert list(run.settings.exports_dir.glob("indicators_*.xlsx"))

    on_duckdb = table_digests(duck.settings.published_path, VOLATILE)
    on_spark = table_digests(spark.settings.published_path, VOLATILE)
    assert sorted(on_spark) == sorted(on_duckdb)
    assert len(on_duckdb) > 30 and sum(rows for rows, _ in on_duckdb.values()) > 10_000  # not an empty district
    differing = sorted(t for t in on_duckdb if on_duckdb[t] != on_spark[t])
    assert not differing, _differences(duck.settings.published_path, spark.settings.published_path, differing)
