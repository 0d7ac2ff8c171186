"""The working DuckDB file after a build on Spark: each table as Spark built it.

With ``UNION_WAREHOUSE_TARGET=spark`` dbt builds the models on Spark (session mode:
plain Parquet tables under ``$UNION_DATA_DIR/warehouse/spark/tables/<schema>.db/<table>/``,
incremental ones partitioned by ``street_code``). Every step after the build (the asset
checks, the indicator gates and publish, alerts, the dbt docs page, exports) reads the
working DuckDB file ``$UNION_DATA_DIR/warehouse/working.duckdb``. So inside the same
``warehouse_models`` step, after dbt succeeded, :func:`mirror_spark_build` replaces in that
file every table the build ran (models, seeds and snapshots; ephemeral models have no
table) with the rows of its Parquet files, and the later steps work unchanged:

- one DuckDB transaction for all of them: a mirror that fails leaves the file as it was,
  and the step fails, so the build is not recorded as complete (the next one is full);
- rows read with ``read_parquet(..., hive_partitioning = true)``, partition values as
  text, never re-typed (``hive_types_autocast = false``; DuckDB decodes Hive's ``%XX``
  escapes and reads ``__HIVE_DEFAULT_PARTITION__`` as null);
- column names and order as the DuckDB build has them, which is the order of the model's
  select: a table Spark did not partition has it in its Parquet files; for a partitioned
  one (Spark moves partition columns last) it is read from the select list of the SQL
  the build ran (``compiled_code`` in ``run_results.json``, parsed with sqlglot), else
  taken from the table already in the DuckDB file, else from the documented columns, each
  only if it names exactly the table's columns (else Spark's order stands);
- a table with no Parquet file (an empty partitioned table writes none) is created empty
  from Spark's own metadata: ``describe`` of just those tables, through the project's
  ``describe_relations`` macro (``dbt run-operation``, one more JVM start; dbt's
  ``catalog.json`` names an array type without its element type), the types mapped by
  :func:`duckdb_type`.

The Parquet files must be readable here. In session mode they are under the data
directory. With a Thrift server (``UNION_SPARK_METHOD=thrift``) they are in the cluster's
``spark.sql.warehouse.dir``, which this machine reads at ``UNION_SPARK_TABLES_DIR`` (the
same host, or a shared mount of the cluster's storage); without it
:func:`mirror_spark_build` refuses, naming the variable.

At national scale the mirror should not copy: the working file (or the published
catalog) would hold *views* over the Parquet datasets (``read_parquet`` of each table's
directory), so nothing is read twice. Not done yet: views over files the next Spark
build rewrites in place would change under a reader mid-run, and the publish step copies
the working tables into the published file anyway; copies keep today's semantics exactly.

Pure functions first; the I/O (listing the files, writing DuckDB) is at the end.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
import sqlglot.errors

ENGINE_ENV = "UNION_WAREHOUSE_TARGET"
METHOD_ENV = "UNION_SPARK_METHOD"
TABLES_DIR_ENV = "UNION_SPARK_TABLES_DIR"  # a Thrift server's warehouse directory, as seen here
DUCKDB = "duckdb"
SPARK = "spark"
ENGINES = (DUCKDB, SPARK)
MIRRORED_TYPES = ("model", "seed", "snapshot")


class MirrorError(RuntimeError):
    """The Spark build cannot be mirrored into the working DuckDB file."""


def warehouse_engine(environ: Mapping[str, str] = os.environ) -> str:
    """The engine dbt builds on (``profiles.yml`` reads the same variable)."""
    engine = environ.get(ENGINE_ENV, DUCKDB) or DUCKDB
    if engine not in ENGINES:
        raise ValueError(f"{ENGINE_ENV}={engine!r}: the warehouse engine is one of {', '.join(ENGINES)}")
    return engine


def spark_tables_dir(data_dir: Path, environ: Mapping[str, str] = os.environ) -> Path:
    """Where the Spark tables' files are read from: session mode keeps them under the data
    directory (``spark.sql.warehouse.dir`` in profiles.yml); a Thrift server keeps them in
    its own warehouse directory, which ``UNION_SPARK_TABLES_DIR`` names as this machine
    sees it."""
    method = environ.get(METHOD_ENV, "session") or "session"
    if method == "session":
        return data_dir / "warehouse" / "spark" / "tables"
    named = environ.get(TABLES_DIR_ENV, "")
    if not named:
        raise MirrorError(
            f"{METHOD_ENV}={method}: set {TABLES_DIR_ENV} to the Thrift server's warehouse directory "
            "(spark.sql.warehouse.dir) as this machine reads it, so the built tables can be mirrored "
            "into the working DuckDB file")
    tables = Path(named)
    if not tables.is_dir():
        raise MirrorError(f"{TABLES_DIR_ENV}={named}: no such directory on this machine")
    return tables


# --- what to mirror -----------------------------------------------------------------------


@dataclass(frozen=True)
class Relation:
    """A table the Spark build wrote: its dbt node, ``schema.name``, the column names of
    its SQL's select list in order (empty if not known: a seed, a ``*``) and its
    documented columns in the YAML's order (all lower case, as both engines store them)."""

    unique_id: str
    schema: str
    name: str
    documented: tuple[str, ...] = ()
    selected: tuple[str, ...] = ()

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


def built_relations(manifest: Mapping[str, Any], run_results: Mapping[str, Any]) -> list[Relation]:
    """The tables a successful build wrote: the models, seeds and snapshots ``run_results``
    reports as done (ephemeral models have no table). A view cannot be mirrored from files
    and is refused."""
    done = {r["unique_id"]: r for r in run_results.get("results", []) if r.get("status") == "success"}
    out: list[Relation] = []
    views: list[str] = []
    for uid in sorted(done):
        node = manifest.get("nodes", {}).get(uid)
        if node is None or node.get("resource_type") not in MIRRORED_TYPES:
            continue
        materialized = (node.get("config") or {}).get("materialized")
        if materialized == "ephemeral":
            continue
        if materialized == "view":
            views.append(uid)
            continue
        name = node.get("alias") or node["name"]
        documented = tuple(str(c).lower() for c in (node.get("columns") or {}))
        selected = select_list(done[uid].get("compiled_code") or node.get("compiled_code") or "")
        out.append(Relation(uid, node["schema"].lower(), name.lower(), documented, selected))
    if views:
        raise MirrorError(f"views cannot be mirrored from Parquet files: {', '.join(views)}")
    return out


def select_list(sql: str) -> tuple[str, ...]:
    """The output column names of a model's compiled Spark SQL, in order (lower case);
    empty when they cannot be told (no SQL, a ``*``, an expression without a name)."""
    if not sql.strip():
        return ()
    try:
        names = sqlglot.parse_one(sql, read="spark").named_selects
    except (sqlglot.errors.SqlglotError, ValueError):
        return ()
    if not names or any(not n or n == "*" for n in names):
        return ()
    return tuple(n.lower() for n in names)


def column_order(spark_columns: Sequence[str], *candidates: Sequence[str]) -> list[str]:
    """The columns in the DuckDB build's order: the first of ``candidates`` (the select
    list, the table already in the working file, the documented columns) that names
    exactly ``spark_columns``, else Spark's order (partition columns last)."""
    wanted = set(spark_columns)
    for candidate in candidates:
        if len(candidate) == len(spark_columns) and set(candidate) == wanted:
            return list(candidate)
    return list(spark_columns)


def _split_top_level(text: str) -> list[str]:
    """``a, b<c, d>, e`` -> ``[a, b<c, d>, e]`` (commas inside ``<>`` or ``()`` kept)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


_SCALAR_TYPES = {
    "string": "VARCHAR", "varchar": "VARCHAR", "char": "VARCHAR",
    "bigint": "BIGINT", "long": "BIGINT", "int": "INTEGER", "integer": "INTEGER",
    "smallint": "SMALLINT", "short": "SMALLINT", "tinyint": "TINYINT", "byte": "TINYINT",
    "double": "DOUBLE", "float": "FLOAT", "real": "FLOAT", "boolean": "BOOLEAN",
    "date": "DATE", "timestamp_ntz": "TIMESTAMP", "timestamp": "TIMESTAMP WITH TIME ZONE",
    "timestamp_ltz": "TIMESTAMP WITH TIME ZONE", "binary": "BLOB", "void": "INTEGER",
}


def duckdb_type(spark_type: str) -> str:
    """A Spark SQL type as Spark's metadata prints it (``describe``) -> the
    DuckDB type its Parquet column reads as: string -> VARCHAR, decimal(p,s) -> DECIMAL(p,s),
    timestamp_ntz -> TIMESTAMP, array<t> -> t[], map and struct likewise."""
    t = spark_type.strip()
    low = t.lower()
    if low.startswith("array<") and low.endswith(">"):
        return f"{duckdb_type(t[6:-1])}[]"
    if low.startswith("map<") and low.endswith(">"):
        key, value = _split_top_level(t[4:-1])
        return f"MAP({duckdb_type(key)}, {duckdb_type(value)})"
    if low.startswith("struct<") and low.endswith(">"):
        fields = []
        for field in _split_top_level(t[7:-1]):
            name, _, inner = field.partition(":")
            fields.append(f'{_quote(name.strip().strip("`"))} {duckdb_type(inner)}')
        return f"STRUCT({', '.join(fields)})"
    decimal = re.fullmatch(r"(?:decimal|numeric|dec)\s*(?:\((\d+)\s*,\s*(\d+)\))?", low)
    if decimal:
        precision, scale = decimal.group(1) or "10", decimal.group(2) or "0"
        return f"DECIMAL({precision},{scale})"
    if re.fullmatch(r"(?:var)?char\(\d+\)", low):
        return "VARCHAR"
    if low in _SCALAR_TYPES:
        return _SCALAR_TYPES[low]
    raise MirrorError(f"no DuckDB type for the Spark type {spark_type!r}")


def described_columns(described: Mapping[str, Sequence[Sequence[str]]], relation: Relation) -> list[tuple[str, str]]:
    """``[(column, Spark type)]`` of ``relation`` in Spark's ``describe`` (the
    ``describe_relations`` macro's ``{schema.table: [[column, type], ...]}``), in its order."""
    columns = described.get(relation.qualified)
    if not columns:
        raise MirrorError(f"Spark did not describe {relation.qualified}")
    return [(str(name).lower(), str(spark_type)) for name, spark_type in columns]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def copy_statement(relation: Relation, files: Sequence[Path], columns: Sequence[str]) -> str:
    """``create or replace table`` of ``relation`` from its Parquet files, ``columns`` in order."""
    file_list = "[" + ", ".join(_literal(str(f)) for f in files) + "]"
    select = ", ".join(_quote(c) for c in columns)
    return (f"create or replace table {_quote(relation.schema)}.{_quote(relation.name)} as "
            f"select {select} from read_parquet({file_list}, hive_partitioning = true, "
            "hive_types_autocast = false, union_by_name = true)")


def empty_statement(relation: Relation, typed: Sequence[tuple[str, str]]) -> str:
    """``create or replace table`` of an empty ``relation`` with DuckDB ``typed`` columns."""
    columns = ", ".join(f"{_quote(c)} {t}" for c, t in typed)
    return f"create or replace table {_quote(relation.schema)}.{_quote(relation.name)} ({columns})"


# --- I/O ----------------------------------------------------------------------------------


def parquet_files(table_dir: Path) -> list[Path]:
    """The data files of a Spark Parquet table: ``*.parquet`` under its directory, in
    ``column=value`` partition directories if any, without Spark's ``_``/``.`` entries
    (``_SUCCESS``, ``.crc`` files, ``_temporary`` and ``.spark-staging`` directories)."""
    if not table_dir.is_dir():
        return []
    out = []
    for path in table_dir.rglob("*.parquet"):
        parts = path.relative_to(table_dir).parts
        if any(p.startswith(("_", ".")) for p in parts):
            continue
        if any("=" not in p for p in parts[:-1]):
            continue  # not a partition directory
        out.append(path)
    return sorted(out)


def _existing_columns(con: duckdb.DuckDBPyConnection, relation: Relation) -> list[str]:
    rows = con.execute(
        "select column_name from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? and table_name = ? order by column_index", [relation.schema, relation.name],
    ).fetchall()
    return [r[0] for r in rows]


def _parquet_columns(con: duckdb.DuckDBPyConnection, files: Sequence[Path]) -> list[str]:
    file_list = "[" + ", ".join(_literal(str(f)) for f in files) + "]"
    cursor = con.execute(f"select * from read_parquet({file_list}, hive_partitioning = true, "
                         "hive_types_autocast = false, union_by_name = true) limit 0")
    return [d[0].lower() for d in cursor.description]


def _is_partitioned(table_dir: Path, files: Sequence[Path]) -> bool:
    return any(len(f.relative_to(table_dir).parts) > 1 for f in files)


@dataclass(frozen=True)
class MirrorResult:
    tables: int
    empty_described: int
    rows: int
    seconds: float


# relations -> {schema.table: [[column, Spark type], ...]}
Describer = Callable[[Sequence[Relation]], Mapping[str, Sequence[Sequence[str]]]]


def mirror_relations(warehouse: Path, tables_dir: Path, relations: Iterable[Relation],
                     describe: Describer) -> MirrorResult:
    """Replace each of ``relations`` in the DuckDB file ``warehouse`` with its Spark table
    under ``tables_dir`` (``<schema>.db/<name>/``), all in one transaction.
    ``describe`` is called once, only if some table has no Parquet file, with those
    relations, and returns Spark's columns of at least them."""
    started = time.perf_counter()
    relations = list(relations)
    files = {r.unique_id: parquet_files(tables_dir / f"{r.schema}.db" / r.name) for r in relations}
    without_files = [r for r in relations if not files[r.unique_id]]
    for r in without_files:
        if not (tables_dir / f"{r.schema}.db" / r.name).is_dir():
            raise MirrorError(f"Spark has no table directory for {r.qualified} under {tables_dir}")
    described = describe(without_files) if without_files else {}
    rows = 0
    with duckdb.connect(str(warehouse)) as con:
        con.execute("begin")
        for schema in sorted({r.schema for r in relations}):
            con.execute(f"create schema if not exists {_quote(schema)}")
        for r in relations:
            existing = _existing_columns(con, r)
            candidates = (r.selected, existing, r.documented)
            if files[r.unique_id]:
                spark_columns = _parquet_columns(con, files[r.unique_id])
                if not _is_partitioned(tables_dir / f"{r.schema}.db" / r.name, files[r.unique_id]):
                    candidates = ()  # the Parquet files have the select's order
                con.execute(copy_statement(r, files[r.unique_id], column_order(spark_columns, *candidates)))
                rows += con.execute(f"select count(*) from {_quote(r.schema)}.{_quote(r.name)}").fetchone()[0]  # type: ignore[index]
            else:
                typed = dict(described_columns(described, r))
                order = column_order(list(typed), *candidates)
                con.execute(empty_statement(r, [(c, duckdb_type(typed[c])) for c in order]))
        con.execute("commit")
    return MirrorResult(len(relations), len(without_files), rows, round(time.perf_counter() - started, 2))


def mirror_spark_build(data_dir: Path, warehouse: Path, target_path: Path, describe: Describer,
                       environ: Mapping[str, str] = os.environ) -> MirrorResult:
    """Mirror what the build whose artifacts are in ``target_path`` (``manifest.json``,
    ``run_results.json``) wrote on Spark into the working DuckDB file ``warehouse``."""
    import json

    tables_dir = spark_tables_dir(data_dir, environ)
    manifest = json.loads((target_path / "manifest.json").read_text(encoding="utf-8"))
    run_results = json.loads((target_path / "run_results.json").read_text(encoding="utf-8"))
    relations = built_relations(manifest, run_results)
    return mirror_relations(warehouse, tables_dir, relations, describe)
