"""Quality gates: the GX suites as asset checks on each landing dataset.

A submission that fails a ``critical`` expectation is held back from the warehouse (the
models read only accepted submissions), so one street's bad snapshot blocks its own
data, never the other streets'. The checks are blocking, so the models always wait for
this run's verdicts; a held-back submission fails its check at WARN severity (the build
goes on without it) and the check names the suite, the expectation and the file (by its
file reference: a street's file name may carry a person's name).
"""


from pathlib import Path

import dagster as dg

from pipelines.contract import DATASETS
from pipelines.ingest.ledger import read_ledger
from pipelines.quality.verdicts import unchecked

from .landing import landing_key
from .resources import AsOf, UnionPaths

SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations"


@dg.multi_asset_check(
    name="quality_suites",
    specs=[
        dg.AssetCheckSpec(
            "quality_suite",
            asset=landing_key(d.name),
            description=f"Great Expectations suite expectations/{d.name}.json on every new submission",
            blocking=True,
        )
        for d in DATASETS
    ],
)
def quality_suites(context: dg.AssetCheckExecutionContext, paths: UnionPaths, as_of: AsOf):
    settings = paths.settings()
    verdicts = []
    if unchecked(settings, read_ledger(settings.ledger_path)):
        # Great Expectations (seconds to import) is loaded when there is something to validate
        from pipelines.quality.runner import QualityRunner, check_pending

        runner = QualityRunner(SUITES_DIR, settings.reports_dir / "data_docs")
        verdicts = check_pending(settings, runner, context.run.run_id, as_of.date())
    for d in DATASETS:
        mine = [v for v in verdicts if v.dataset == d.name]
        failed = [v for v in mine if not v.success]
        critical = [v for v in failed if v.severity == "critical"]
        held = sorted({v.file_ref for v in critical})
        table = ["| file_ref | expectation | column | severity | unexpected | examples |", "|---|---|---|---|---|---|"]
        table += [
            f"| {v.file_ref} | {v.expectation} | {v.column or ''} | {v.severity} | "
            f"{v.unexpected_count if v.unexpected_count is not None else v.observed_value or ''} | {v.examples or ''} |"
            for v in failed[:50]
        ]
        yield dg.AssetCheckResult(
            asset_key=landing_key(d.name),
            check_name="quality_suite",
            passed=not critical,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "suite": f"expectations/{d.name}.json",
                "data_docs": str(settings.reports_dir / "data_docs" / "index.html"),
                "submissions_checked": len({v.submission_sha256 for v in mine}),
                "expectations_evaluated": len(mine),
                "expectations_failed": len(failed),
                "submissions_held_back": len(held),
                "held_back": dg.MetadataValue.md("\n".join(f"- {p}" for p in held) or "none"),
                "failures": dg.MetadataValue.md("\n".join(table) if failed else "none"),
            },
        )
