"""Run the expectation suites on landed submissions and record every verdict.

GX's SQL engine does not work on DuckDB (see shared/stack.md), so each submission's
landed Parquet is validated as a pandas batch: one submission at a time, never the
whole warehouse. Results are written per submission to
``$UNION_DATA_DIR/quality/results/<dataset>/<street>/<sha256>.parquet`` (the warehouse's
``audit.quality_results``); a submission with a failed ``critical`` expectation is held
back from the warehouse, the other streets' submissions flow on.

Failing examples are kept only for columns that hold no personal data; a submission is
named by its file reference (``LedgerEntry.file_ref``), never by the street's file name.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import time
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path

import pandas as pd
import polars as pl

from pipelines.config import Settings
from pipelines.contract import DATASETS_BY_NAME, Dataset
from pipelines.files import atomic_write_parquet, atomic_write_text
from pipelines.ingest.ledger import LedgerEntry, Status, read_ledger

from .offline_docs import ASSETS_TAG, localize_site
from .suites import MIN_SNAPSHOT_RATIO
from .verdicts import Verdict, _label, blocked_submissions, results_path, unchecked, verdict_schema

__all__ = ["QualityRunner", "Verdict", "blocked_submissions", "check_pending", "results_path",
           "unchecked"]

log = logging.getLogger(__name__)

FRESHNESS_DAYS = 180
MAX_EXAMPLES = 5


def parameters_for(
    entry: LedgerEntry, history: list[LedgerEntry], as_of: date, blocked: set[str]
) -> dict[str, object]:
    """Expectation parameters for one submission, from the street's earlier accepted ones."""
    params: dict[str, object] = {"fresh_since": pd.Timestamp(as_of - timedelta(days=FRESHNESS_DAYS))}
    earlier = [
        h for h in history
        if h.status == Status.LOADED and h.dataset == entry.dataset and h.street_code == entry.street_code
        and h.seq < entry.seq and h.sha256 not in blocked and h.as_of_date
        and entry.as_of_date and h.as_of_date <= entry.as_of_date
    ]
    if earlier:
        prev = max(earlier, key=lambda h: (h.as_of_date, h.seq))
        params["min_rows"] = math.ceil(prev.rows_loaded * MIN_SNAPSHOT_RATIO)
        params["previous_as_of_date"] = pd.Timestamp(prev.as_of_date)
    else:
        params["min_rows"] = 0
        params["previous_as_of_date"] = pd.Timestamp("1900-01-01")
    return params


DOCS_SITE = "union_warehouse"
SUITES_MARKER = ".suites.sha256"  # in the docs folder: the suites its pages were rendered from


def _suites_digest(suites_dir: Path) -> str:
    """The suites the pages were rendered from, and the vendored assets they point at
    (a site rendered before the assets changed is rendered, and localized, again)."""
    h = hashlib.sha256(ASSETS_TAG.encode() + b"\0")
    for path in sorted(suites_dir.glob("*.json")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


class QualityRunner:
    """Validates submissions against the suites in ``suites_dir``; with ``docs_dir`` it
    also renders GX Data Docs there: the suite pages, and a validation page for every
    submission held back by a critical failure; the pages work offline (``offline_docs``
    copies the files GX loads from CDNs into the site). Rendering goes through a GX
    checkpoint, several times the cost of a plain validation, so submissions that passed
    or only broke a warning are recorded in the results table (and the check's metadata)
    only."""

    def __init__(self, suites_dir: Path, docs_dir: Path | None = None) -> None:
        self.suites_dir = suites_dir
        self.docs_dir = docs_dir
        self._documented = False  # a held-back submission's page was rendered

    @cached_property
    def _gx(self):  # type: ignore[no-untyped-def]
        import great_expectations as gx

        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = {"globally": False}  # type: ignore[assignment]
        if self.docs_dir is not None:
            ctx.add_data_docs_site(
                site_name=DOCS_SITE,
                site_config={
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(self.docs_dir),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
        return gx, ctx

    def document(self, frame: pl.DataFrame, dataset: Dataset, params: dict[str, object], run_name: str) -> None:
        """Render this submission's validation into the Data Docs site."""
        if self.docs_dir is None:
            return
        gx, ctx = self._gx
        self._documented = True
        name = dataset.name
        try:
            checkpoint = ctx.checkpoints.get(name)
        except Exception:  # noqa: BLE001 - GX raises its own not-found types
            suite = ctx.suites.add(self.suite(name))
            vd = ctx.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=self._batch_definition(name), suite=suite)
            )
            checkpoint = ctx.checkpoints.add(gx.Checkpoint(
                name=name, validation_definitions=[vd],
                actions=[gx.checkpoint.UpdateDataDocsAction(name="docs", site_names=[DOCS_SITE])],
                # no example values on the pages: they could be ID numbers or names
                result_format={"result_format": "SUMMARY", "partial_unexpected_count": 0},
            ))
        started = time.time()
        checkpoint.run(
            batch_parameters={"dataframe": frame.to_pandas()},
            expectation_parameters=params,
            run_id=gx.RunIdentifier(run_name=run_name),
        )
        # the pages the checkpoint's UpdateDataDocsAction wrote (its page, the index)
        localize_site(self.docs_dir, since=started - 2)

    def build_docs(self) -> Path | None:
        """Write the suite pages and the index; returns the index page. Skipped (the
        pages on disk are what it would write) when this runner documented no held-back
        submission and the suites are those the pages were rendered from."""
        if self.docs_dir is None:
            return None
        index = self.docs_dir / "index.html"
        marker = self.docs_dir / SUITES_MARKER
        digest = _suites_digest(self.suites_dir)
        if not self._documented and index.exists() and marker.exists() and marker.read_text() == digest:
            return index
        _, ctx = self._gx
        for path in sorted(self.suites_dir.glob("*.json")):
            try:
                ctx.suites.get(path.stem)
            except Exception:  # noqa: BLE001
                ctx.suites.add(self.suite(path.stem))
        ctx.build_data_docs(site_names=[DOCS_SITE])
        localize_site(self.docs_dir)  # every page: those of earlier runs too
        atomic_write_text(marker, digest)
        return index

    @functools.cache  # noqa: B019 - one runner per run; suites are small
    def suite(self, dataset: str):  # type: ignore[no-untyped-def]
        gx, _ = self._gx
        body = json.loads((self.suites_dir / f"{dataset}.json").read_text(encoding="utf-8"))
        return gx.ExpectationSuite(**body)

    def _batch_definition(self, dataset: str):  # type: ignore[no-untyped-def]
        _, ctx = self._gx
        name = f"landing_{dataset}"
        try:
            source = ctx.data_sources.get(name)
        except Exception:  # noqa: BLE001 - GX raises its own not-found types
            source = ctx.data_sources.add_pandas(name)
            source.add_dataframe_asset(dataset).add_batch_definition_whole_dataframe("submission")
        return source.get_asset(dataset).get_batch_definition("submission")

    @functools.cache  # noqa: B019
    def suite_part(self, dataset: str, part: str):  # type: ignore[no-untyped-def]
        """The suite, or only its row-wise (``rowwise``) or its other (``per_submission``)
        expectations. Row-wise ones judge each row alone, so if they hold for several
        submissions together they hold for each; the others (row counts, uniqueness,
        completeness ratios, minima and maxima) only mean something per submission."""
        gx, _ = self._gx
        full = self.suite(dataset)
        if part == "all":
            return full
        keep = [e for e in full.expectations if is_rowwise(e) == (part == "rowwise")]
        return gx.ExpectationSuite(name=f"{dataset}__{part}", expectations=[e.copy() for e in keep])

    def rowwise_verdicts(self, dataset: Dataset, element_count: int) -> list[dict[str, object]]:
        """The verdicts of the row-wise expectations for a submission whose batch passed."""
        out = []
        for e in self.suite_part(dataset.name, "rowwise").expectations:
            out.append({
                "expectation": e.expectation_type, "column": e.column,
                "severity": str(getattr(e.severity, "value", e.severity)), "success": True,
                "element_count": element_count, "unexpected_count": 0, "observed_value": None,
                "examples": None, "error": None,
            })
        return out

    def validate(
        self, frame: pl.DataFrame, dataset: Dataset, params: dict[str, object], part: str = "all"
    ) -> list[dict[str, object]]:
        suite = self.suite_part(dataset.name, part)
        batch = self._batch_definition(dataset.name).get_batch(
            batch_parameters={"dataframe": frame.to_pandas()}
        )
        result = batch.validate(suite, expectation_parameters=params, result_format="SUMMARY")
        personal = set(dataset.personal_columns)
        out = []
        for r in result.results:
            cfg = r.expectation_config
            column = cfg.kwargs.get("column") or cfg.kwargs.get("column_A")
            res = r.result or {}
            examples = None
            if column and column not in personal and res.get("partial_unexpected_list"):
                examples = json.dumps(
                    [str(v) for v in res["partial_unexpected_list"][:MAX_EXAMPLES]], ensure_ascii=False
                )
            error = None
            if r.exception_info and r.exception_info.get("raised_exception"):
                error = str(r.exception_info.get("exception_message"))[:300]
            observed = res.get("observed_value")
            out.append({
                "expectation": cfg.type,
                "column": column,
                "severity": str(getattr(cfg.severity, "value", cfg.severity)),
                "success": bool(r.success),
                "element_count": res.get("element_count"),
                "unexpected_count": res.get("unexpected_count"),
                "observed_value": None if observed is None or column in personal else str(observed),
                "examples": examples,
                "error": error,
            })
        return out


_ROWWISE_TYPES = frozenset({
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex",
})

# Submissions of one dataset whose row-wise expectations are checked together, at most
# this many rows at a time (the batch is converted to pandas at once).
UNION_MAX_ROWS = 2_000_000


def is_rowwise(expectation) -> bool:  # type: ignore[no-untyped-def]
    mostly = getattr(expectation, "mostly", 1)
    return expectation.expectation_type in _ROWWISE_TYPES and (mostly is None or mostly == 1)


def _batches(entries: list[LedgerEntry], max_rows: int) -> list[list[LedgerEntry]]:
    """Consecutive groups of one dataset's submissions, each under ``max_rows`` rows
    (a larger submission is a group of its own)."""
    out: list[list[LedgerEntry]] = []
    rows = 0
    for e in entries:
        if out and rows + e.rows_loaded <= max_rows:
            out[-1].append(e)
            rows += e.rows_loaded
        else:
            out.append([e])
            rows = e.rows_loaded
    return out


def check_pending(
    settings: Settings, runner: QualityRunner, run_id: str, as_of: date, datasets: set[str] | None = None
) -> list[Verdict]:
    """Validate every loaded submission without a verdict; return this run's verdicts.

    GX's cost is mostly per validation, not per row, so the row-wise expectations run
    once per batch of a dataset's new submissions; only if a batch fails them is each
    submission validated whole (to say which one failed). The other expectations run
    submission by submission, in ledger order (a held-back snapshot is never the
    "previous snapshot" of a later one)."""
    entries = read_ledger(settings.ledger_path)
    blocked = set(blocked_submissions(settings))
    verdicts: list[Verdict] = []
    todo = [e for e in unchecked(settings, entries) if datasets is None or e.dataset in datasets]
    by_dataset: dict[str, list[LedgerEntry]] = {}
    for e in todo:
        by_dataset.setdefault(e.dataset, []).append(e)  # type: ignore[arg-type]
    for name, group in by_dataset.items():
        dataset = DATASETS_BY_NAME[name]
        for batch in _batches(group, UNION_MAX_ROWS):
            frames = {e.sha256: pl.read_parquet(settings.data_dir / e.landing_path) for e in batch}  # type: ignore[operator]
            union = pl.concat(list(frames.values()), how="diagonal_relaxed")
            batch_ok = all(r["success"] for r in runner.validate(union, dataset, {}, part="rowwise"))
            del union
            for e in batch:
                verdicts.extend(_check_one(settings, runner, run_id, e, dataset, frames.pop(e.sha256),
                                           parameters_for(e, entries, as_of, blocked), batch_ok, blocked))
    runner.build_docs()
    return verdicts


def _check_one(
    settings: Settings, runner: QualityRunner, run_id: str, e: LedgerEntry, dataset: Dataset,
    frame: pl.DataFrame, params: dict[str, object], rowwise_ok: bool, blocked: set[str],
) -> list[Verdict]:
    if rowwise_ok:
        results = runner.rowwise_verdicts(dataset, frame.height) + runner.validate(
            frame, dataset, params, part="per_submission")
    else:
        results = runner.validate(frame, dataset, params)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    rows = [
        Verdict(run_id=run_id, checked_at=now, submission_sha256=e.sha256, file_ref=e.file_ref,
                dataset=e.dataset, street_code=e.street_code, suite=dataset.name, **r)  # type: ignore[arg-type]
        for r in results
    ]
    atomic_write_parquet(pl.DataFrame([asdict(v) for v in rows], schema=verdict_schema()),
                         results_path(settings, e))
    failed = [_label(v.expectation, v.column) for v in rows if not v.success and v.severity == "critical"]
    if failed:
        runner.document(frame, dataset, params, run_name=f"{e.street_code}-{e.sha256[:12]}")
        blocked.add(e.sha256)
        log.warning("quality gate held back %s (%s)", e.file_ref, ", ".join(failed))
    return rows
