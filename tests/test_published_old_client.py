"""The published warehouse opens in DuckDB 1.1 (what DBeaver, notebooks and R installs
still bundle), and its catalog describes every table and column as the dbt YAML does.

An old client is a throw-away virtualenv with DuckDB 1.1.3 from the package registry
(uv; its cache makes a rerun take a few seconds). An unreachable registry fails the
test, it never skips. The published file is made by the real :func:`publish` from a
working warehouse built by hand (as in tests/test_published_readers.py), with tables of
some real models' columns, so no dbt build runs; tests/test_pipeline_end_to_end.py
reads the published file of a whole run the same way.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.alert_state import PUBLISHED_DESCRIPTIONS as ALERT_TABLES
from pipelines.config import Settings
from pipelines.feedback.summaries import SUMMARY_SCHEMA
from pipelines.orchestration.dbt import DBT_PROJECT
from pipelines.publish.catalog import (
    PUBLISH_TABLES,
    STAMP_DESCRIPTIONS,
    TableDoc,
    dbt_descriptions,
    write_comments,
)
from pipelines.publish.warehouse import STORAGE_VERSION, publish

from .test_published_readers import STREETS, make_working_warehouse

OLD_DUCKDB = "1.1.3"
# tables of real models (their manifest columns, and one the YAML does not know)
SAMPLE_MODELS = (("marts", "dim_union_org"), ("reference", "streets"), ("audit", "quality_results"))
NOT_IN_THE_YAML = "not_in_the_yaml"

# Reads every table of a DuckDB file, with its columns' types and the catalog's comments,
# and prints it as JSON: run by the old client and by the project's, the two must agree.
READ_EVERYTHING = """
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("set TimeZone = 'UTC'")
tables = {}
for schema, table, comment in con.execute(
        "select schema_name, table_name, comment from duckdb_tables() order by 1, 2").fetchall():
    relation = '"' + schema + '"."' + table + '"'
    tables[schema + "." + table] = {
        "comment": comment,
        "columns": con.execute(
            "select column_name, data_type, comment from duckdb_columns() "
            "where schema_name = ? and table_name = ? order by column_index", [schema, table]).fetchall(),
        "count": con.execute("select count(*) from " + relation).fetchone()[0],
        "rows": con.execute("select * from " + relation + " order by all").fetchall(),
    }
print(json.dumps({"duckdb": duckdb.__version__, "tables": tables}, default=str, ensure_ascii=False))
"""


def old_duckdb_python(root: Path) -> Path:
    """The interpreter of a new virtualenv under ``root`` holding DuckDB 1.1.3 (and pytz,
    which its Python client needs for timestamps with a time zone). Fails, naming the
    cause, when uv or the package registry cannot provide it."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not on PATH: the old-client test makes its DuckDB 1.1 virtualenv with uv")
    venv = root / "duckdb-old"
    python = venv / "bin" / "python"
    for step in ([uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
                 [uv, "pip", "install", "--quiet", "--python", str(python), f"duckdb=={OLD_DUCKDB}", "pytz"]):
        try:
            done = subprocess.run(step, cwd=root, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`{' '.join(step)}` took over 10 minutes: is the package registry reachable?")
        if done.returncode != 0:
            pytest.fail(f"could not make a virtualenv with DuckDB {OLD_DUCKDB} (is the package registry "
                        f"reachable?): `{' '.join(step)}` exited {done.returncode}:\n{done.stderr.strip()}")
    return python


def read_everything(python: Path, database: Path) -> dict[str, Any]:
    """What the DuckDB of ``python`` reads of ``database``: its version, and per table its
    comment, columns (name, type, comment), row count and rows."""
    done = subprocess.run([str(python), "-c", READ_EVERYTHING, str(database)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"{python} could not read {database}:\n{done.stderr}"
    return json.loads(done.stdout)


def storage_version(database: Path) -> str:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute("select tags['storage_version'] from duckdb_databases() "
                           "where database_name = current_database()").fetchone()[0]  # type: ignore[index]


def assert_described_as_in(manifest: Path, tables: dict[str, Any]) -> None:
    """Every published table has a comment; each dbt model's and seed's, and each of its
    columns', is its description in ``manifest``; the tables the publish step writes
    carry the descriptions declared for them."""
    models = dbt_descriptions(manifest)
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"]
    raw = {(n["schema"], n.get("alias") or n["name"]): n for n in nodes.values()
           if n["resource_type"] in ("model", "seed")}
    assert {name for name, t in tables.items() if not t["comment"]} == set(), "tables without a description"
    for name, table in tables.items():
        schema, table_name = name.split(".")
        comments = {column: comment for column, _type, comment in table["columns"]}
        if (schema, table_name) in raw:
            node = raw[(schema, table_name)]
            assert table["comment"] == node["description"].strip(), name
            stamps = STAMP_DESCRIPTIONS if name == "indicators.indicator_values" else {}
            for column, comment in comments.items():
                described = (node["columns"].get(column) or {}).get("description", "").strip()
                assert comment == (described or stamps.get(column)), f"{name}.{column}"
        elif schema == "alerts":
            assert table["comment"] == ALERT_TABLES[table_name]
        else:
            assert table["comment"] == PUBLISH_TABLES[(schema, table_name)], name
    if "indicators.indicator_history" in tables:  # the rows of indicator_values: its columns' descriptions
        values = models[("indicators", "indicator_values")].columns
        history = {c: comment for c, _t, comment in tables["indicators.indicator_history"]["columns"]}
        shared = set(values) & set(history)
        assert shared and all(history[c] == values[c] for c in shared)
        assert all(history[c] == STAMP_DESCRIPTIONS[c] for c in STAMP_DESCRIPTIONS)


def _add_sample_models(settings: Settings, manifest: Path) -> None:
    models = dbt_descriptions(manifest)
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"]
    with duckdb.connect(str(settings.warehouse_path)) as con:
        for schema, table in SAMPLE_MODELS:
            node = next(n for n in nodes.values()
                        if n["resource_type"] in ("model", "seed") and (n["schema"], n["alias"]) == (schema, table))
            columns = [*node["columns"], NOT_IN_THE_YAML]
            assert models[(schema, table)].columns, f"{schema}.{table} has no column descriptions any more"
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create table {schema}.{table} ({', '.join(f'{c} varchar' for c in columns)})")
            con.execute(f"insert into {schema}.{table} values ({', '.join('?' for _ in columns)})",
                        [f"{table}.{c}" for c in columns])


def _write_receipt_summary(settings: Settings) -> None:
    settings.receipt_summaries_dir.mkdir(parents=True, exist_ok=True)
    at = datetime(2015, 1, 31, 8, 30, tzinfo=UTC)
    counts = dict.fromkeys(("files", "files_loaded", "files_rejected", "files_duplicate", "files_held_back",
                            "files_quality_pending", "rows_read", "rows_loaded", "rows_quarantined", "rows_warned",
                            "problems"), 1)
    row = {"run_id": "run-0", "street_code": STREETS[0], **counts,
           "problems_by_code": [{"code": "value.too_long", "severity": "quarantine", "count": 1}],
           "first_received_at": at, "last_received_at": at, "summarised_at": at}
    pq.write_table(pa.Table.from_pylist([row], schema=SUMMARY_SCHEMA), settings.receipt_summaries_dir / "run-0.parquet")


@pytest.fixture(scope="module")
def manifest() -> Path:
    return DBT_PROJECT.manifest_path  # prepared for the session (tests/conftest.py)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, manifest: Path) -> Settings:
    """A data directory whose published warehouse was made by :func:`publish` (twice:
    the history and the publish manifest have two publishes)."""
    root = tmp_path_factory.mktemp("published")
    settings = Settings(raw_dir=root / "raw", data_dir=root / "data", pii_key="test-key")
    make_working_warehouse(settings, {STREETS[0]: 10, STREETS[1]: 20}, manifest_id="m1")
    _add_sample_models(settings, manifest)
    _write_receipt_summary(settings)
    publish(settings, "run-1", now=datetime(2015, 2, 1, tzinfo=UTC), dbt_manifest=manifest)
    make_working_warehouse(settings, {STREETS[0]: 11, STREETS[1]: 20}, manifest_id="m2")
    publish(settings, "run-2", now=datetime(2015, 2, 2, tzinfo=UTC), dbt_manifest=manifest)
    return settings


@pytest.fixture(scope="module")
def old_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return old_duckdb_python(tmp_path_factory.mktemp("old-client"))


def test_the_published_file_is_written_for_duckdb_1_1(published: Settings) -> None:
    assert STORAGE_VERSION == "v1.1.0"
    # DuckDB names the format by the first version that wrote it: 1.0 and 1.1 share it
    assert storage_version(published.published_path) == "v1.0.0+"


def test_duckdb_1_1_reads_every_published_table_and_its_descriptions(published: Settings, old_python: Path,
                                                                       manifest: Path) -> None:
    old = read_everything(old_python, published.published_path)
    assert old["duckdb"] == OLD_DUCKDB
    new = read_everything(Path(sys.executable), published.published_path)
    assert old["tables"] == new["tables"]  # every table, type, row and comment alike
    tables = old["tables"]
    assert {"marts.dim_street", "marts.dim_union_org", "reference.streets", "audit.quality_results",
            "audit.publish_manifest", "audit.street_submission_summary", "indicators.indicator_values",
            "indicators.indicator_history", "indicators.indicator_manifest", "alerts.alerts"} <= set(tables)
    assert tables["marts.dim_street"]["rows"] == [[STREETS[0], 11], [STREETS[1], 20]]
    # dates, decimals, lists (of structs), timestamps with a time zone, as the project's DuckDB reads them
    values = dict(zip([c for c, _t, _c in tables["indicators.indicator_values"]["columns"]],
                      tables["indicators.indicator_values"]["rows"][0], strict=True))
    assert (values["period_start"], values["numerator"], values["computed_at"]) == (
        "2015-01-01", "31.00", "2015-02-02 00:00:00+00:00")
    assert [(r[0], r[-1]) for r in tables["audit.publish_manifest"]["rows"]] == [(1, ["am1"]), (2, ["am2"])]
    summary = tables["audit.street_submission_summary"]
    assert summary["count"] == 1 and ["value.too_long", "quarantine", 1] in [
        list(p.values()) for p in summary["rows"][0][13]]
    assert tables["indicators.indicator_history"]["count"] == 5  # 3 rows, 2 of them changed in publish 2
    assert_described_as_in(manifest, tables)
    assert tables["marts.dim_union_org"]["comment"]  # a model's description, as the old client shows it
    assert dict((c, comment) for c, _t, comment in tables["reference.streets"]["columns"])[NOT_IN_THE_YAML] is None


def test_descriptions_keep_their_quotes_lines_and_chinese() -> None:
    text = "街道名称 'quoted' \"double\"\n第二行 (two lines); -- not a comment"
    with duckdb.connect() as con:
        con.execute('create schema "odd""schema"')
        con.execute('create table "odd""schema"."t" ("a ""b""" varchar, plain int)')
        written = write_comments(con, {('odd"schema', "t"): TableDoc(text, {'a "b"': text, "absent": "x"})})
        assert written == 2
        assert con.execute("select comment from duckdb_tables()").fetchall() == [(text,)]
        assert con.execute("select column_name, comment from duckdb_columns() where table_name = 't' "
                           "order by column_index").fetchall() == [
            ('a "b"', text), ("plain", None)]


def test_a_type_duckdb_1_1_cannot_store_fails_the_publish_and_keeps_the_last_one(settings: Settings) -> None:
    make_working_warehouse(settings, {STREETS[0]: 10})
    publish(settings, "run-1", now=datetime(2015, 2, 1, tzinfo=UTC))
    before = settings.published_path.read_bytes()
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create table marts.fct_new (v variant)")  # DuckDB 1.5's VARIANT
        con.execute("insert into marts.fct_new values (1::variant)")
    with pytest.raises(duckdb.Error, match="(?i)variant"):
        publish(settings, "run-2", now=datetime(2015, 2, 2, tzinfo=UTC))
    assert settings.published_path.read_bytes() == before
    assert storage_version(settings.published_path) == "v1.0.0+"
