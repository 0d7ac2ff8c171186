"""The mirror of a Spark build into the working DuckDB file (pipelines/warehouse/spark_mirror.py),
without Spark: table directories laid out as Spark writes them (Parquet part files, Hive
partition directories, ``_SUCCESS`` and ``.crc`` files beside them), made here with DuckDB.
The whole path, on Spark, is tests/test_spark.py."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse.spark_mirror import (
    TABLES_DIR_ENV,
    MirrorError,
    Relation,
    built_relations,
    column_order,
    duckdb_type,
    mirror_relations,
    parquet_files,
    select_list,
    spark_tables_dir,
    warehouse_engine,
)


@pytest.mark.parametrize(("spark", "duck"), [
    ("string", "VARCHAR"), ("bigint", "BIGINT"), ("int", "INTEGER"), ("double", "DOUBLE"),
    ("decimal(18,2)", "DECIMAL(18,2)"), ("date", "DATE"), ("timestamp_ntz", "TIMESTAMP"),
    ("boolean", "BOOLEAN"), ("array<string>", "VARCHAR[]"), ("array<decimal(38, 6)>", "DECIMAL(38,6)[]"),
    ("map<string,bigint>", "MAP(VARCHAR, BIGINT)"), ("struct<a:int,b:array<string>>", 'STRUCT("a" INTEGER, "b" VARCHAR[])'),
])
def test_spark_types_map_to_the_duckdb_types_their_parquet_reads_as(spark: str, duck: str) -> None:
    assert duckdb_type(spark) == duck


def test_an_unknown_spark_type_is_an_error_not_a_guess() -> None:
    with pytest.raises(MirrorError, match="interval"):
        duckdb_type("interval day to second")


def test_the_engine_is_duckdb_unless_told_and_nothing_else() -> None:
    assert warehouse_engine({}) == "duckdb"
    assert warehouse_engine({"UNION_WAREHOUSE_TARGET": "spark"}) == "spark"
    with pytest.raises(ValueError, match="postgres"):
        warehouse_engine({"UNION_WAREHOUSE_TARGET": "postgres"})


def test_column_order_is_the_first_candidate_naming_exactly_the_columns() -> None:
    spark = ["a", "c", "street_code"]  # Spark puts the partition column last
    assert column_order(spark, ["street_code", "a", "c"], []) == ["street_code", "a", "c"]
    assert column_order(spark, ["street_code", "a"], ["a", "street_code", "c"]) == ["a", "street_code", "c"]
    assert column_order(spark, ["x"], ["a", "street_code"]) == spark  # none names exactly these
    assert column_order(spark) == spark


def test_the_select_list_of_compiled_spark_sql() -> None:
    sql = ("with t as (select * from x) select a, upper(B) as b, street_code, `Weird` "
           "from t where a > 1 union all select 1, 2, 3, 4")
    assert select_list(sql) == ("a", "b", "street_code", "weird")
    assert select_list("select * from t") == ()
    assert select_list("select t.*, 1 as n from t") == ()
    assert select_list("") == () and select_list("this is not sql ((") == ()


def test_built_relations_are_the_tables_the_build_wrote() -> None:
    manifest = {"nodes": {
        "model.p.m1": {"resource_type": "model", "name": "m1", "alias": "m1", "schema": "marts",
                       "config": {"materialized": "incremental"}, "columns": {"B": {}, "a": {}}},
        "model.p.eph": {"resource_type": "model", "name": "eph", "schema": "marts", "config": {"materialized": "ephemeral"}},
        "seed.p.s": {"resource_type": "seed", "name": "s", "schema": "reference", "config": {"materialized": "seed"}},
        "model.p.failed": {"resource_type": "model", "name": "failed", "schema": "marts", "config": {"materialized": "table"}},
        "test.p.t": {"resource_type": "test", "name": "t", "schema": "marts", "config": {"materialized": "test"}},
    }}
    results = {"results": [{"unique_id": u, "status": "success", "compiled_code": "select 1 as a, 2 as b"}
                           for u in ("model.p.m1", "model.p.eph", "test.p.t")]
               + [{"unique_id": "seed.p.s", "status": "success", "compiled_code": None},
                  {"unique_id": "model.p.failed", "status": "error"}]}
    assert built_relations(manifest, results) == [
        Relation("model.p.m1", "marts", "m1", ("b", "a"), ("a", "b")), Relation("seed.p.s", "reference", "s")]
    manifest["nodes"]["model.p.m1"]["config"]["materialized"] = "view"
    with pytest.raises(MirrorError, match="views"):
        built_relations(manifest, results)


def _spark_layout(tables: Path) -> None:
    """Two tables as Spark writes them: ``marts.counts`` partitioned by street_code (one
    value a Hive escape, one the null partition), ``marts.plain`` not partitioned; and the
    empty partitioned ``marts.nothing`` (a directory without data files)."""
    counts = tables / "marts.db" / "counts"
    with duckdb.connect() as con:
        for street, value in (("0101", 1), ("01%2F02", 2), ("__HIVE_DEFAULT_PARTITION__", 3)):
            part = counts / f"street_code={street}"
            part.mkdir(parents=True)
            con.execute(f"copy (select {value}::bigint as n, 'x' as label, 1.50::decimal(18,2) as amount) "
                        f"to '{part}/part-00000-abc.c000.snappy.parquet'")
            (part / ".part-00000-abc.c000.snappy.parquet.crc").write_bytes(b"crc")
        (counts / "_SUCCESS").touch()
        staging = counts / ".spark-staging-123" / "street_code=0101"
        staging.mkdir(parents=True)
        con.execute(f"copy (select 99::bigint as n, 'stale' as label, 0::decimal(18,2) as amount) to '{staging}/part-1.parquet'")
        plain = tables / "marts.db" / "plain"
        plain.mkdir(parents=True)
        con.execute(f"copy (select 7 as k, date '2015-12-31' as d) to '{plain}/part-00000.parquet'")
    (tables / "marts.db" / "nothing").mkdir(parents=True)


def test_spark_tables_are_mirrored_with_their_rows_types_and_the_duckdb_column_order(tmp_path: Path) -> None:
    tables, warehouse = tmp_path / "tables", tmp_path / "working.duckdb"
    _spark_layout(tables)
    assert {p.parent.name for p in parquet_files(tables / "marts.db" / "counts")} == {
        "street_code=0101", "street_code=01%2F02", "street_code=__HIVE_DEFAULT_PARTITION__"}
    with duckdb.connect(str(warehouse)) as con:  # a previous build's tables, in another order
        con.execute("create schema marts; create table marts.plain (d date, k integer); "
                    "create table marts.nothing (street_code varchar, months date[], total decimal(38,2))")
    asked: list[list[str]] = []

    def describe(relations):  # type: ignore[no-untyped-def]
        asked.append([r.name for r in relations])
        return {"marts.nothing": [["total", "decimal(38,2)"], ["months", "array<date>"], ["street_code", "string"]]}

    result = mirror_relations(warehouse, tables, [
        Relation("model.p.counts", "marts", "counts", documented=("label", "n"),
                 selected=("n", "street_code", "label", "amount")),
        Relation("model.p.plain", "marts", "plain", selected=("d", "k")),
        Relation("model.p.nothing", "marts", "nothing", selected=("total", "street_code")),
    ], describe)
    assert (result.tables, result.empty_described, result.rows) == (3, 1, 4)
    assert asked == [["nothing"]]  # Spark is asked only about the table without files
    with duckdb.connect(str(warehouse), read_only=True) as con:
        def shape(table: str) -> list[tuple[str, str]]:
            return con.execute("select column_name, data_type from duckdb_columns() where table_name = ? "
                               "order by column_index", [table]).fetchall()

        assert shape("counts") == [("n", "BIGINT"), ("street_code", "VARCHAR"), ("label", "VARCHAR"),
                                   ("amount", "DECIMAL(18,2)")]
        assert sorted(con.execute("select street_code, n from marts.counts").fetchall(), key=str) == [
            ("01/02", 2), ("0101", 1), (None, 3)]  # never re-typed: '0101' keeps its zero
        # not partitioned: the Parquet files have the select's order
        assert shape("plain") == [("k", "INTEGER"), ("d", "DATE")]
        assert con.execute("select k from marts.plain").fetchall() == [(7,)]
        # empty: the select list does not name every column, the table already there does
        assert shape("nothing") == [("street_code", "VARCHAR"), ("months", "DATE[]"), ("total", "DECIMAL(38,2)")]
        assert con.execute("select count(*) from marts.nothing").fetchone() == (0,)


def test_a_failing_mirror_leaves_the_working_file_as_it_was(tmp_path: Path) -> None:
    tables, warehouse = tmp_path / "tables", tmp_path / "working.duckdb"
    _spark_layout(tables)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts; create table marts.counts as select 42 as n")

    def no_catalog(relations):  # type: ignore[no-untyped-def]
        return {}

    with pytest.raises(MirrorError, match="nothing"):
        mirror_relations(warehouse, tables, [Relation("model.p.counts", "marts", "counts"),
                                             Relation("model.p.nothing", "marts", "nothing")], no_catalog)
    with pytest.raises(MirrorError, match="no table directory"):
        mirror_relations(warehouse, tables, [Relation("model.p.gone", "marts", "gone")], no_catalog)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select * from marts.counts").fetchall() == [(42,)]
        assert con.execute("select count(*) from duckdb_tables() where table_name = 'plain'").fetchone() == (0,)


def test_the_tables_are_read_under_the_data_dir_in_session_mode_and_where_named_on_a_thrift_server(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert spark_tables_dir(data, {}) == data / "warehouse" / "spark" / "tables"
    assert spark_tables_dir(data, {"UNION_SPARK_METHOD": "session"}) == data / "warehouse" / "spark" / "tables"
    # a Thrift server's tables are in its own warehouse directory: the operator names it ...
    with pytest.raises(MirrorError, match=TABLES_DIR_ENV):
        spark_tables_dir(data, {"UNION_SPARK_METHOD": "thrift"})
    # ... as this machine reads it (a mount that is not there is said so, not mirrored as empty)
    with pytest.raises(MirrorError, match="no such directory"):
        spark_tables_dir(data, {"UNION_SPARK_METHOD": "thrift", TABLES_DIR_ENV: str(tmp_path / "not-mounted")})
    served = tmp_path / "cluster" / "warehouse"
    served.mkdir(parents=True)
    assert spark_tables_dir(data, {"UNION_SPARK_METHOD": "thrift", TABLES_DIR_ENV: str(served)}) == served
