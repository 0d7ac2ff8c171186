"""Reports for people: the dbt model reference (``dbt docs``) as one static page under
``$UNION_DATA_DIR/reports/dbt_docs/index.html``, rebuilt after the models when what the
project, the as-of date or the tables changed (``dbt docs generate`` takes some 6
seconds; a run that only brought new rows does not need it)."""

import hashlib
import json
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

from pipelines.files import replacing
from pipelines.warehouse import build_state
from pipelines.warehouse.build_plan import AS_OF_KEY, PROJECT_KEY
from pipelines.warehouse.spark_mirror import DUCKDB, SPARK, warehouse_engine

from .dbt import WAREHOUSE_POOL, build_target_path, build_vars, dbt_echo, dbt_environment
from .dbt_log import dbt_log, dbt_log_path
from .resources import AsOf, UnionPaths


def _page_key(warehouse: Path, built_from: dict[str, str] | None) -> str:
    """What the page shows: the project (models, docs, vars) and the as-of date it was
    compiled with, and the warehouse's tables and column types. Not the data: a street's
    new file changes no line of it, so it does not cost a regeneration."""
    shown = {k: v for k, v in (built_from or {}).items() if k in (AS_OF_KEY, PROJECT_KEY)}
    columns: list[tuple] = []
    if warehouse.exists():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            columns = con.execute(
                "select schema_name, table_name, column_name, data_type from duckdb_columns() "
                "where database_name = current_database() order by all"
            ).fetchall()
    blob = json.dumps([shown, columns], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def build_dbt_docs_asset(models: dg.AssetsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=["reports", "dbt_docs"],
        group_name="reports",
        deps=list(models.keys),
        pool=WAREHOUSE_POOL,  # the catalog is read from the working warehouse
        kinds={"dbt", "html"},
        description="The warehouse's model reference (every model and column, with the "
        "Chinese meaning), as one static page: reports/dbt_docs/index.html.",
    )
    def dbt_docs(context: dg.AssetExecutionContext, dbt: DbtCliResource, paths: UnionPaths, as_of: AsOf):
        settings = paths.settings()
        out = settings.reports_dir / "dbt_docs" / "index.html"
        stamp = out.with_name(".built-from")
        built_from = build_state.read_recorded(settings.warehouse_path)
        key = _page_key(settings.warehouse_path, built_from)
        if built_from is not None and out.exists() and stamp.exists() and stamp.read_text() == key:
            return dg.MaterializeResult(metadata={
                "path": str(out), "bytes": out.stat().st_size,
                "regenerated": False,  # the project, as-of date and tables of the page's build
            })
        target = build_target_path(settings)
        dbt_vars = json.dumps(build_vars(as_of.date()), ensure_ascii=False)
        # the build just wrote the manifest to this target, with these vars: reusing it
        # (--no-compile) halves the step (about 6 s instead of 12 on a small district)
        reuse = ["--no-compile"] if (target / "manifest.json").exists() else []
        if warehouse_engine() == SPARK:
            # the page describes the working DuckDB file, which holds the tables Spark built
            # (the mirror): the catalog analysts meet in the published file, and no JVM start
            # (40-60 s on 2 cores). Its own target, compiled for DuckDB: the Spark build's
            # artifacts stay the Spark build's.
            target, reuse = target.with_name(f"{target.name}-docs"), []
        log_path = dbt_log_path(settings.data_dir, context.run.run_id)  # dbt's lines: the run's dbt log
        with dbt_environment(settings, engine=DUCKDB), dbt_log(log_path, echo=dbt_echo(context)) as log, \
                redirect_stdout(log):
            dbt.cli(["docs", "generate", "--static", *reuse, "--vars", dbt_vars], target_path=target,
                    raise_on_error=True).wait()
        with replacing(out) as tmp:
            shutil.copyfile(target / "static_index.html", tmp)
        if built_from is None:
            stamp.unlink(missing_ok=True)
        else:
            stamp.write_text(key)
        return dg.MaterializeResult(
            metadata={"path": str(out), "bytes": out.stat().st_size, "regenerated": True})

    return dbt_docs
