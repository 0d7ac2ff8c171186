"""Publishing: the blocking checks on the indicators, then the atomic swap of the
published warehouse analysts read.

The four checks run on ``indicators/indicator_values`` after every build. They are
blocking at ERROR severity: one failure and ``published/warehouse`` is not materialised
in that run, so the published file keeps the last good version, and ``union-warehouse
run`` exits non-zero naming the check.
"""

import json
import time
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.config import Settings
from pipelines.publish import checks
from pipelines.publish.code_version import code_version
from pipelines.publish.history import HistoryStore, values_fingerprint
from pipelines.publish.warehouse import publish, read_indicator_values

from .dbt import DBT_PROJECT, WAREHOUSE_POOL, build_target_path
from .resources import UnionPaths

INDICATORS_KEY = dg.AssetKey(["indicators", "indicator_values"])
PUBLISHED_KEY = dg.AssetKey(["published", "warehouse"])

CHECKS = {
    "district_equals_street_sum": "The district row of every indicator and period equals the sum of its streets "
    "(numerators and denominators).",
    "rates_are_consistent": "Every rate lies in [0, 1] and equals numerator / denominator; a zero denominator has "
    "no value and status 无数据.",
    "deterministic": "A previous publish from the same inputs (manifest_id: every loaded submission and its quality "
    "verdict), code version and as-of date had byte-identical indicator values.",
    "rows_reconcile": "Every submitted row is accounted for from the file to the models (ledger, landing, models).",
}


def _result(outcome: checks.CheckOutcome, **extra: object) -> dg.AssetCheckResult:
    metadata: dict[str, object] = {"summary": outcome.summary, "failures_listed": len(outcome.failures), **extra}
    if outcome.failures:
        metadata["failures"] = dg.MetadataValue.json(json.loads(json.dumps(outcome.failures, default=str)))
    return dg.AssetCheckResult(
        asset_key=INDICATORS_KEY,
        check_name=outcome.name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=outcome.summary,
        metadata=metadata,
    )


@dg.multi_asset_check(
    name="indicator_gates",
    specs=[
        dg.AssetCheckSpec(name, asset=INDICATORS_KEY, description=description, blocking=True)
        for name, description in CHECKS.items()
    ],
    pool=WAREHOUSE_POOL,  # reads the working warehouse: never while a build writes it
)
def indicator_gates(context: dg.AssetCheckExecutionContext, paths: UnionPaths):
    settings = paths.settings()
    started = time.perf_counter()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        yield _result(checks.district_equals_street_sum(con))
        yield _result(checks.rates_are_consistent(con))
        yield _result(checks.rows_reconcile(con))
    values = read_indicator_values(settings.warehouse_path)
    fingerprint = values_fingerprint(values)
    manifest_id = str(values["manifest_id"][0]) if values.height else ""
    yield _result(
        checks.deterministic(values, fingerprint, manifest_id, code_version(), HistoryStore(settings.data_dir / "history")),
        values_sha256=fingerprint, manifest_id=manifest_id, code_version=code_version(),
    )
    context.log.info("indicator gates evaluated in %.1f s", time.perf_counter() - started)


def built_manifest(settings: Settings) -> Path:
    """The dbt manifest whose descriptions the published catalog carries: that of the
    build that wrote the working warehouse (its target directory), or, before any build
    of this data directory wrote one, the manifest the definitions were loaded from."""
    built = build_target_path(settings) / "manifest.json"
    return built if built.exists() else DBT_PROJECT.manifest_path


def build_published_warehouse(extra_deps: list[dg.AssetKey] | None = None) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISHED_KEY,
        group_name="publish",
        deps=[INDICATORS_KEY, *(extra_deps or [])],
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        description="The read-only warehouse analysts open ($UNION_DATA_DIR/published/warehouse.duckdb): marts, "
        "indicators with their append-only history, alerts and audit tables, its tables and the models' columns "
        "described in its catalog; readable by DuckDB 1.1 and later. Replaced atomically, only after every blocking check "
        "passed.",
    )
    def published_warehouse(context: dg.AssetExecutionContext, paths: UnionPaths) -> dg.MaterializeResult:
        settings = paths.settings()
        result = publish(settings, context.run.run_id, dbt_manifest=built_manifest(settings))
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "publish_id": result.publish_id,
            "manifest_id": result.manifest_id,
            "code_version": result.code_version,
            "values_sha256": result.values_sha256,
            "indicator_rows": result.indicator_rows,
            "versions_appended": result.versions_appended,
            "submissions_included": result.submissions_included,
            "tables": dg.MetadataValue.json(result.tables),
            "seconds": round(result.seconds, 2),
        })

    return published_warehouse
