"""The gate checks row-wise expectations once per batch of new submissions, and still
says exactly which submission failed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from pipelines.ingest.ledger import LedgerEntry, read_ledger
from pipelines.ingest.process import ingest_pending
from pipelines.quality.runner import (
    QualityRunner,
    _batches,
    blocked_submissions,
    check_pending,
    is_rowwise,
)

from .conftest import drop
from .test_dagster_pipeline import members_csv

ROOT = Path(__file__).resolve().parents[1]
A, B = "110101001", "110101002"


def test_the_two_parts_of_each_suite_are_the_whole_suite() -> None:
    runner = QualityRunner(ROOT / "expectations")
    for path in sorted((ROOT / "expectations").glob("*.json")):
        full = runner.suite(path.stem).expectations
        rowwise = runner.suite_part(path.stem, "rowwise").expectations
        other = runner.suite_part(path.stem, "per_submission").expectations
        assert len(rowwise) + len(other) == len(full)
        assert all(is_rowwise(e) for e in rowwise) and not any(is_rowwise(e) for e in other)
    members_other = {e.expectation_type for e in runner.suite_part("members", "per_submission").expectations}
    assert "expect_table_row_count_to_be_between" in members_other
    assert "expect_column_values_to_be_unique" in members_other


def test_batches_stay_under_the_row_cap_and_keep_order() -> None:
    def e(seq: int, rows: int) -> LedgerEntry:
        return LedgerEntry(seq, f"p{seq}", "x", 1, 1, "members", A, "t", "loaded", rows_loaded=rows)

    got = _batches([e(1, 5), e(2, 5), e(3, 20), e(4, 1)], max_rows=10)
    assert [[x.seq for x in b] for b in got] == [[1, 2], [3], [4]]


def test_a_row_wise_failure_in_a_batch_is_pinned_on_its_own_submission(settings) -> None:
    drop(settings, A, "members", "a.csv", members_csv(5, "2024-06-30", A))
    drop(settings, B, "members", "b.csv", members_csv(5, "2024-06-30", B, start=50))
    ingest_pending(settings)
    ledger = {e.path: e for e in read_ledger(settings.ledger_path)}
    bad = ledger[f"inbox/{B}/members/b.csv"]
    path = settings.data_dir / bad.landing_path
    # a value no row rule would have let through (as if the validator had a bug)
    pl.read_parquet(path).with_columns(pl.lit("其他").alias("status")).write_parquet(path)
    verdicts = check_pending(settings, QualityRunner(ROOT / "expectations"), "r1", date(2024, 12, 31))
    held = blocked_submissions(settings)
    assert held == {bad.sha256: ["expect_column_values_to_be_in_set(status)"]}
    good = ledger[f"inbox/{A}/members/a.csv"].sha256
    mine = [v for v in verdicts if v.submission_sha256 == good]
    assert mine and all(v.success for v in mine)
    assert {v.expectation for v in mine} >= {"expect_column_values_to_be_in_set", "expect_table_row_count_to_be_between"}
    assert len(mine) == len([v for v in verdicts if v.submission_sha256 == bad.sha256])
