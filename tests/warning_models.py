"""The warning rules' dbt models run over hand-made tables, without a warehouse build.

dbt compiles the models of ``dbt_project/models/warnings`` once per test process (one
``dbt compile``, a few seconds; the models read their as-of date and parameters from
the table ``warnings.warning_parameters``, so the SQL is the same whatever the values).
:func:`materialise` then writes that table from a rule file and an as-of date and runs
each other model's compiled SQL in dependency order, as ``dbt build`` does: the rules'
own SQL, on exactly the rows a test put in.

The connection's catalog must be ``working`` (the profile's database, which the
compiled SQL names): a file ``.../working.duckdb``, or :func:`connect_memory`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import date
from functools import cache
from pathlib import Path

import duckdb

from pipelines.alerts.rulefile import RuleSet

ROOT = Path(__file__).resolve().parents[1]
DBT_DIR = ROOT / "dbt_project"
CATALOG = "working"


def connect_memory() -> duckdb.DuckDBPyConnection:
    """An in-memory database whose catalog is named as the compiled SQL expects."""
    con = duckdb.connect()
    con.execute(f"attach ':memory:' as {CATALOG}")
    con.execute(f"use {CATALOG}")
    return con


@cache
def warning_nodes() -> dict[str, dict]:
    """The manifest nodes (compiled) of the models in ``models/warnings``, by unique id."""
    work = Path(tempfile.mkdtemp(prefix="warning-models-"))
    (work / "warehouse").mkdir()
    env = {
        **os.environ,
        "UNION_DATA_DIR": str(work),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    target = work / "target"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "compile", "--select", "warnings",
         "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
         "--target-path", str(target), "--log-path", str(work / "logs")],
        env=env, capture_output=True, text=True, cwd=DBT_DIR, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    nodes = json.loads((target / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    return {
        uid: node for uid, node in nodes.items()
        if node["resource_type"] == "model" and node["fqn"][1] == "warnings"
    }


@cache
def compiled_models() -> tuple[tuple[str, str], ...]:
    """(model name, compiled SQL) of every warnings model but the parameters table, each
    after the models it reads."""
    models = warning_nodes()
    ordered: list[str] = []

    def visit(uid: str) -> None:
        if uid in ordered or uid not in models:
            return
        for parent in models[uid]["depends_on"]["nodes"]:
            visit(parent)
        ordered.append(uid)

    for uid in sorted(models):
        visit(uid)
    return tuple(
        (models[uid]["name"], models[uid]["compiled_code"])
        for uid in ordered
        if models[uid]["name"] != "warning_parameters"
    )


def _streets(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists reference")
    con.execute(
        "create or replace table reference.streets as select * from read_csv(?, all_varchar = true)",
        [str(DBT_DIR / "seeds" / "streets.csv")],
    )


def materialise(con: duckdb.DuckDBPyConnection, as_of: date, rules: RuleSet) -> None:
    """Build the warnings models over the tables in ``con``, as of ``as_of`` with the
    parameters of ``rules`` (a missing input table is created empty)."""
    _streets(con)
    con.execute("create schema if not exists warnings")
    con.execute(
        "create or replace table warnings.warning_parameters "
        "(rule_code varchar, param_name varchar, param_value varchar)"
    )
    con.executemany(
        "insert into warnings.warning_parameters values (?, ?, ?)",
        [("", "as_of_date", as_of.isoformat()), *rules.parameter_rows()],
    )
    for name, sql in compiled_models():
        con.execute(f"create or replace table warnings.{name} as {sql}")


def materialise_file(path: Path, as_of: date, rules: RuleSet) -> None:
    """:func:`materialise` on the DuckDB file at ``path`` (opened and closed here)."""
    assert path.name == f"{CATALOG}.duckdb", path
    with duckdb.connect(str(path)) as con:
        materialise(con, as_of, rules)
