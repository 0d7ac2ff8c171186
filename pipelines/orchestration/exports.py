"""The indicator spreadsheet and HTML report as an asset downstream of the published
warehouse (also ``union-warehouse export``), and the schedules operators switch on."""

import time
from typing import TYPE_CHECKING

import dagster as dg

from pipelines.export.run import export_indicators

from .publish import PUBLISHED_KEY
from .resources import UnionPaths
from .run_lock import EXCLUSIVE_TAGS, holds_pipeline_lock
from .run_recovery import owner_tags

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

EXPORTS_KEY = dg.AssetKey(["reports", "indicator_exports"])
NIGHTLY_JOB = "nightly_rebuild_job"
MONTHLY_EXPORT_JOB = "monthly_export_job"
TIMEZONE = "Asia/Shanghai"


@dg.asset(
    key=EXPORTS_KEY,
    group_name="reports",
    deps=[PUBLISHED_KEY],
    kinds={"excel", "html"},
    description="The published indicators for people who do not write SQL: "
    "exports/indicators_<as-of>.xlsx (a sheet per period type, Chinese headers) and "
    "exports/indicators_<as-of>.html (progress against targets by street and month).",
)
def indicator_exports(context: dg.AssetExecutionContext, paths: UnionPaths) -> dg.MaterializeResult:
    started = time.perf_counter()
    done = export_indicators(paths.settings())
    return dg.MaterializeResult(metadata={
        "as_of": done.as_of,
        "indicator_rows": done.rows,
        "workbook": dg.MetadataValue.path(str(done.workbook)),
        "report": dg.MetadataValue.path(str(done.report)),
        "seconds": round(time.perf_counter() - started, 2),
    })


nightly_rebuild_job = dg.define_asset_job(
    NIGHTLY_JOB,
    selection=dg.AssetSelection.all(),
    description="Everything pending, then the warehouse rebuilt from scratch (dbt --full-refresh), "
    "every check, publish and exports.",
    config={"ops": {"warehouse_models": {"config": {"full_refresh": True}}}},
    tags={**owner_tags(), **EXCLUSIVE_TAGS},
    # like the pipeline job: in one process, holding the pipeline lock from the first
    # step to the last (run_lock.py); a process per step would take it per step
    executor_def=dg.in_process_executor,
    hooks={holds_pipeline_lock},
)

monthly_export_job = dg.define_asset_job(
    MONTHLY_EXPORT_JOB,
    selection=dg.AssetSelection.assets(EXPORTS_KEY),
    description="The indicator spreadsheet and report of the published warehouse.",
    tags=owner_tags(),
)


def _schedule(
    name: str, job: "UnresolvedAssetJobDefinition", cron: str, description: str
) -> dg.ScheduleDefinition:
    """A schedule in the district's time zone, stopped until an operator starts it."""
    return dg.ScheduleDefinition(
        name=name,
        job=job,
        cron_schedule=cron,
        execution_timezone=TIMEZONE,
        description=description,
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )


nightly_rebuild_schedule = _schedule(
    "nightly_rebuild", nightly_rebuild_job, "0 2 * * *", "02:00 every night: full rebuild, checks and publish."
)
monthly_export_schedule = _schedule(
    "monthly_indicator_export", monthly_export_job, "0 6 1 * *",
    "06:00 on the 1st of each month: the indicator spreadsheet and report.",
)
