"""The project's one Dagster ``Definitions``: ``dagster dev -m pipelines.definitions``.

``defs`` is loaded lazily (``@dg.definitions``): importing this module costs little and
imports neither dbt nor Great Expectations (a CLI subcommand, a test or a sensor module
that only needs the job's name pays nothing for them). Loading the definitions, as a code
server, a run worker or ``union-warehouse run`` does, reads the warning rule file (a bad
one stops the load, naming the file and the place) and the prepared dbt manifest; it
runs no dbt (``union-warehouse prepare`` writes the manifest:
:func:`pipelines.orchestration.dbt.prepared_manifest`)."""

from __future__ import annotations

import dagster as dg

import pipelines  # noqa: F401  (turns telemetry off before anything else)
from pipelines.config import Settings
from pipelines.orchestration.instance_config import relax_sqlite_instance_syncs
from pipelines.orchestration.run_lock import EXCLUSIVE_TAGS, holds_pipeline_lock
from pipelines.orchestration.run_recovery import owner_tags

PIPELINE_JOB = "process_submissions_job"

relax_sqlite_instance_syncs()  # the SQLite instance's per-event disk waits (instance_config.py)

process_submissions_job = dg.define_asset_job(
    PIPELINE_JOB,
    selection=dg.AssetSelection.all(),
    description="Everything pending in the drop zone, through every layer, once.",
    # steps run one after the other anyway (one warehouse writer); a process per step
    # cost ~74 s of a 124 s drop-to-publish latency (bench/event_latency.py)
    executor_def=dg.in_process_executor,
    # the host its runs execute on, for reclaiming killed runs; one in progress at a time
    tags={**owner_tags(), **EXCLUSIVE_TAGS},
    # every step requires the pipeline lock: in process, Dagster takes it before the
    # first step and releases it after the last, so the whole run is exclusive
    # (pipelines/orchestration/run_lock.py)
    hooks={holds_pipeline_lock},
)


# Written by the quality_suites checks (one Parquet per checked submission); declared so
# the dbt model audit.quality_results has a real upstream asset.
quality_results_spec = dg.AssetSpec(
    ["audit", "quality_results"],
    description="Great Expectations verdicts per submission and expectation "
    "($UNION_DATA_DIR/quality/results/), written by the quality_suites checks.",
    group_name="landing",
    kinds={"parquet"},
)


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """Raises :class:`~pipelines.alerts.RuleFileError` on a bad rule file (fail fast: not
    at the first run's alert step) and ``ManifestNotPrepared`` without a current manifest."""
    from pipelines.alerts import load_rules
    from pipelines.orchestration.alerts import (
        ALERTS_KEY,
        AlertSinks,
        alert_on_run_failure,
        alert_state,
    )
    from pipelines.orchestration.dbt import build_dbt_assets, dbt_resource
    from pipelines.orchestration.exports import (
        indicator_exports,
        monthly_export_job,
        monthly_export_schedule,
        nightly_rebuild_job,
        nightly_rebuild_schedule,
    )
    from pipelines.orchestration.landing import ingest_submissions
    from pipelines.orchestration.publish import build_published_warehouse, indicator_gates
    from pipelines.orchestration.quality import quality_suites
    from pipelines.orchestration.receipts import street_receipts
    from pipelines.orchestration.reports import build_dbt_docs_asset
    from pipelines.orchestration.resources import AsOf, UnionPaths
    from pipelines.orchestration.run_lock import RESOURCE_KEY, PipelineLock
    from pipelines.orchestration.run_recovery import build_reclaim_sensor
    from pipelines.orchestration.sensors import build_inbox_sensor

    settings = settings or Settings.from_env()
    load_rules()
    models = build_dbt_assets()
    return dg.Definitions(
        assets=[
            ingest_submissions,
            quality_results_spec,
            street_receipts,
            models,
            alert_state,
            build_published_warehouse(extra_deps=[street_receipts.key, ALERTS_KEY]),
            build_dbt_docs_asset(models),
            indicator_exports,
        ],
        asset_checks=[quality_suites, indicator_gates],
        jobs=[process_submissions_job, nightly_rebuild_job, monthly_export_job],
        schedules=[nightly_rebuild_schedule, monthly_export_schedule],
        sensors=[build_inbox_sensor(PIPELINE_JOB), alert_on_run_failure, build_reclaim_sensor()],
        resources={
            "paths": UnionPaths.from_settings(settings),
            "as_of": AsOf(),
            "dbt": dbt_resource(),
            "alert_sinks": AlertSinks.from_env(),
            RESOURCE_KEY: PipelineLock(data_dir=str(settings.data_dir)),
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    """What ``dagster dev -m pipelines.definitions`` (and every code server and run
    worker) loads, from the environment's settings."""
    return build_definitions()
