"""The quality verdicts recorded per submission, read without Great Expectations.

What the pipeline needs to know of the suites' outcome after they ran (which loaded
submissions have no verdict yet, which were held back and why, where a verdict lives)
is here, apart from :mod:`pipelines.quality.runner`, which runs the suites and so loads
Great Expectations (about nine seconds): the alerts, the warehouse build and the command
line read verdicts without paying for that.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.config import Settings
from pipelines.ingest.ledger import LedgerEntry, Status


@dataclass
class Verdict:
    run_id: str
    checked_at: str
    submission_sha256: str
    file_ref: str  # LedgerEntry.file_ref: the file without its name
    dataset: str
    street_code: str
    suite: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    observed_value: str | None
    examples: str | None  # JSON list, non-personal columns only
    error: str | None


def verdict_schema() -> dict[str, pl.DataType]:
    """The Polars types of a verdict file's columns, from :class:`Verdict`: declared, so a
    column that is null in every row of a file (no examples, no error) is still a string
    column, not an untyped one (Spark cannot merge an untyped column with a typed one
    across files; DuckDB can)."""
    types: dict[str, pl.DataType] = {"int": pl.Int64(), "bool": pl.Boolean()}
    return {f.name: types.get(str(f.type).replace(" | None", "").strip(), pl.String())
            for f in dataclasses.fields(Verdict)}


def results_path(settings: Settings, e: LedgerEntry) -> Path:
    return settings.data_dir / "quality" / "results" / f"{e.dataset}/{e.street_code}/{e.sha256}.parquet"


def unchecked(settings: Settings, entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """Loaded submissions that have no quality verdict yet (in ledger order)."""
    return [e for e in entries if e.status == Status.LOADED and not results_path(settings, e).exists()]


def blocked_submissions(settings: Settings) -> dict[str, list[str]]:
    """sha256 -> the critical expectations it failed, for every held-back submission."""
    root = settings.data_dir / "quality" / "results"
    files = sorted(root.glob("*/*/*.parquet"))
    if not files:
        return {}
    df = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
    failed = df.filter(~pl.col("success") & (pl.col("severity") == "critical"))
    out: dict[str, list[str]] = {}
    for row in failed.iter_rows(named=True):
        out.setdefault(row["submission_sha256"], []).append(_label(row["expectation"], row["column"]))
    return out


def _label(expectation: str, column: str | None) -> str:
    return f"{expectation}({column})" if column else expectation


