"""Reports for people: the dbt model reference (``dbt docs``) as one static page under
``$UNION_DATA_DIR/reports/dbt_docs/index.html``, rebuilt after the models when what the
warehouse was built from changed (``dbt docs generate`` takes some 13 seconds; a run
with nothing new does not need it)."""

import hashlib
import json
import shutil

import dagster as dg
from dagster_dbt import DbtCliResource

from pipelines.files import replacing
from pipelines.warehouse import build_state

from .dbt import WAREHOUSE_POOL, build_target_path, build_vars, dbt_environment
from .resources import AsOf, UnionPaths


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
        key = hashlib.sha256(json.dumps(built_from, sort_keys=True).encode()).hexdigest()
        if built_from is not None and out.exists() and stamp.exists() and stamp.read_text() == key:
            return dg.MaterializeResult(metadata={
                "path": str(out), "bytes": out.stat().st_size,
                "regenerated": False,  # the warehouse's inputs are those of the page's build
            })
        target = build_target_path(settings)
        dbt_vars = json.dumps(build_vars(as_of.date()), ensure_ascii=False)
        # the build just wrote the manifest to this target, with these vars: reusing it
        # (--no-compile) halves the step (about 6 s instead of 12 on a small district)
        reuse = ["--no-compile"] if (target / "manifest.json").exists() else []
        with dbt_environment(settings):
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
