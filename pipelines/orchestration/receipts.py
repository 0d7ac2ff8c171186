"""The streets' receipts: after every run, one per submission file, and the run's
per-street summary (``pipelines.feedback.receipts``).

The asset depends on the ingestion ledger, on the quality results and on every landing
dataset: the landing datasets carry the blocking ``quality_suite`` checks, so the
receipts wait for this run's verdicts and can say which submissions the gate held back.
Metadata: counts per street and timings; never a value, a name or a file name.
"""

import dagster as dg

from pipelines.contract import DATASETS
from pipelines.feedback.receipts import STATUS_CODES, ReceiptRun, write_receipts

from .landing import LEDGER_KEY, landing_key
from .resources import UnionPaths

RECEIPTS_KEY = dg.AssetKey(["audit", "receipts"])
QUALITY_RESULTS_KEY = dg.AssetKey(["audit", "quality_results"])

_STATUSES = STATUS_CODES  # a receipt's one status (pipelines.feedback.outcome)


def _streets_md(run: ReceiptRun) -> str:
    by_street = run.by_street()
    if not by_street:
        return "none"
    head = (
        "| street | receipts | "
        + " | ".join(_STATUSES)
        + " | rows read | loaded | quarantined | problems |"
    )
    lines = [head, "|" + "---|" * (len(_STATUSES) + 6)]
    for street, c in by_street.items():
        cells = [
            street,
            c.get("receipts", 0),
            *(c.get(s, 0) for s in _STATUSES),
            c.get("rows_read", 0),
            c.get("rows_loaded", 0),
            c.get("rows_quarantined", 0),
            c.get("problems", 0),
        ]
        lines.append("| " + " | ".join(str(x) for x in cells) + " |")
    return "\n".join(lines)


def receipt_metadata(run: ReceiptRun) -> dict[str, object]:
    """Counts and timings only (no personal data, no file names)."""
    statuses = {s: sum(o.status == s for o in run.outcomes) for s in _STATUSES}
    return {
        "receipts_written": len(run.outcomes),
        "receipts_failed": run.errors,
        **{f"receipts_{s}": n for s, n in statuses.items()},
        "receipts_quality_pending": sum(o.quality == "pending" for o in run.outcomes),
        "streets": len(run.by_street()),
        "problems": sum(o.problems for o in run.outcomes),
        "summary_files": len(run.summaries),
        "by_street": dg.MetadataValue.md(_streets_md(run)),
        **{f"timing_{k}": round(v, 3) for k, v in run.timings.items()},
    }


@dg.asset(
    key=RECEIPTS_KEY,
    group_name="landing",
    deps=[LEDGER_KEY, QUALITY_RESULTS_KEY, *(landing_key(d.name) for d in DATASETS)],
    kinds={"xlsx", "json", "parquet"},
    description="A receipt for every submission file (receipts/<street>/<id>.xlsx + .json: "
    "status, rows loaded, every problem with line, column, rule code and how to fix it) "
    "and one per-street summary per run (receipts/_summaries/<run id>.parquet).",
)
def street_receipts(context: dg.AssetExecutionContext, paths: UnionPaths) -> dg.MaterializeResult:
    run = write_receipts(paths.settings(), run_id=context.run.run_id)
    metadata = receipt_metadata(run)
    if run.errors:
        # the failed receipts stay pending and are retried by the next run
        raise dg.Failure(
            description=f"{run.errors} receipt(s) could not be written; they are retried next run",
            metadata=metadata,
        )
    return dg.MaterializeResult(metadata=metadata)
