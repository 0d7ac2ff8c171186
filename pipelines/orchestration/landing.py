"""Landing layer: the drop zone's pending files become typed Parquet, quarantine and
ledger entries. One asset per dataset, so a quality gate on one dataset blocks only
what is downstream of it; plus the ledger itself. Metadata names a file by its file
reference (``LedgerEntry.file_ref``), never by the name the street gave it."""


import dagster as dg

from pipelines.contract import DATASETS
from pipelines.ingest.dropzone import log_ref
from pipelines.ingest.ledger import Status
from pipelines.ingest.process import ingest_pending
from pipelines.ingest.reconcile import reconcile

from .progress import INGEST_PROGRESS_ATTR
from .resources import UnionPaths

LEDGER_KEY = dg.AssetKey(["audit", "ingestion_ledger"])
PROBLEMS_KEY = dg.AssetKey(["audit", "row_problems"])


def landing_key(dataset: str) -> dg.AssetKey:
    return dg.AssetKey(["landing", dataset])


class IngestConfig(dg.Config):
    """Which files to process: the sensor names its batch by path digests
    (:func:`pipelines.ingest.dropzone.path_digest`); empty means all pending."""

    files: list[str] = []


_SPECS = [
    dg.AssetSpec(
        landing_key(d.name),
        description=f"{d.zh} ({d.name}): landed rows of every accepted submission, typed, "
        f"one Parquet per submission under landing/{d.name}/<street>/.",
        group_name="landing",
        kinds={"parquet", "polars"},
        metadata={"dataset_kind": d.kind.value, "key": d.key},
    )
    for d in DATASETS
] + [
    dg.AssetSpec(
        LEDGER_KEY,
        description="The ingestion ledger: one entry per file seen in the drop zone "
        "(status, sha256, rows read / loaded / quarantined, rejection reason).",
        group_name="landing",
        kinds={"json"},
    ),
    dg.AssetSpec(
        PROBLEMS_KEY,
        description="Row problems per submission (line, column, rule code, severity; no "
        "values): the source of audit.quarantine and of the streets' receipts.",
        group_name="landing",
        kinds={"parquet"},
    ),
]


@dg.multi_asset(
    name="ingest_submissions",
    specs=_SPECS,
    check_specs=[
        dg.AssetCheckSpec(
            "reconciliation",
            asset=LEDGER_KEY,
            blocking=True,
            description="rows_read = rows_loaded + rows_quarantined for every file, and the "
            "landing and quarantine files hold exactly those rows",
        )
    ],
)
def ingest_submissions(context: dg.AssetExecutionContext, config: IngestConfig, paths: UnionPaths):
    settings = paths.settings()

    def progress(i: int, n: int, entry) -> None:  # type: ignore[no-untyped-def]
        if i == n or i % 50 == 0:  # the CLI's progress lines read the counts off the record
            context.log.info(f"ingested {i}/{n} files", extra={INGEST_PROGRESS_ATTR: (i, n)})

    result = ingest_pending(
        settings, files=config.files or None, run_id=context.run.run_id, progress=progress
    )
    by_ds = result.by_dataset()
    for d in DATASETS:
        entries = by_ds.get(d.name, [])
        yield dg.MaterializeResult(
            asset_key=landing_key(d.name),
            metadata={
                "files": len(entries),
                "files_rejected": sum(e.status == Status.REJECTED for e in entries),
                "files_duplicate": sum(e.status == Status.DUPLICATE for e in entries),
                "rows_read": sum(e.rows_read for e in entries),
                "rows_loaded": sum(e.rows_loaded for e in entries),
                "rows_quarantined": sum(e.rows_quarantined for e in entries),
                "streets": sorted({e.street_code for e in entries if e.street_code}),
            },
        )
    yield dg.MaterializeResult(
        asset_key=LEDGER_KEY,
        metadata={
            "files_processed": len(result.entries),
            "files_loaded": result.count(Status.LOADED),
            "files_rejected": result.count(Status.REJECTED),
            "files_duplicate": result.count(Status.DUPLICATE),
            "files_failed_internal_error": len(result.errors),
            "files_relanded": len(result.relanded),  # landed data re-made from its raw file
            "rows_read": result.rows_read,
            "rows_loaded": result.rows_loaded,
            "rows_quarantined": result.rows_quarantined,
            "rejections": dg.MetadataValue.md(_rejections_md(result.entries)),
            **{f"timing_{k}": round(v, 3) for k, v in result.timings.items()},
        },
    )
    yield dg.MaterializeResult(
        asset_key=PROBLEMS_KEY,
        metadata={
            "rows_quarantined": result.rows_quarantined,
            "rows_with_warnings": sum(e.rows_warned for e in result.entries),
        },
    )
    rec = reconcile(settings)
    yield dg.AssetCheckResult(
        asset_key=LEDGER_KEY,
        check_name="reconciliation",
        passed=rec.ok,
        metadata={
            "files_checked": rec.files_checked,
            "rows_read": rec.rows_read,
            "rows_loaded": rec.rows_loaded,
            "rows_quarantined": rec.rows_quarantined,
            "failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in rec.failures[:50]) or "none"),
        },
    )
    if result.errors:
        # the files stay pending; failing the run raises the operators' run-failure alert
        raise dg.Failure(
            description=f"{len(result.errors)} file(s) hit an internal error and stay pending",
            metadata={"files": dg.MetadataValue.md("\n".join(f"- {log_ref(p)}: {t}" for p, t in result.errors))},
        )


def _rejections_md(entries) -> str:  # type: ignore[no-untyped-def]
    rows = [e for e in entries if e.status == Status.REJECTED]
    if not rows:
        return "none"
    lines = ["| file_ref | rule | column |", "|---|---|---|"]
    lines += [f"| {e.file_ref} | {e.error_code} | {e.error_column or ''} |" for e in rows[:100]]
    return "\n".join(lines)
