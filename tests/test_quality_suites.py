"""Each dataset's Great Expectations suite: a batch that must pass and one that must fail."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from pipelines.contract import DATASETS, ColumnType, Dataset, get_dataset
from pipelines.ingest.validate import validate
from pipelines.quality.runner import QualityRunner

from .test_validate import STREET, frame, valid_row

ROOT = Path(__file__).resolve().parents[1]
PARAMS = {
    "fresh_since": pd.Timestamp("2023-01-01"),
    "min_rows": 0,
    "previous_as_of_date": pd.Timestamp("1900-01-01"),
}


@pytest.fixture(scope="module")
def runner() -> QualityRunner:
    return QualityRunner(ROOT / "expectations")


def landed(dataset: Dataset, n: int = 6) -> pl.DataFrame:
    v = validate(frame([valid_row(dataset, i) for i in range(n)], dataset), dataset, STREET)
    assert v.quarantined.height == 0
    return v.good


def failed(results: list[dict[str, object]], severity: str | None = None) -> set[tuple[str, str | None]]:
    return {
        (str(r["expectation"]), r["column"])  # type: ignore[misc]
        for r in results
        if not r["success"] and (severity is None or r["severity"] == severity)
    }


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_a_clean_submission_passes_its_suite(runner: QualityRunner, dataset: Dataset) -> None:
    results = runner.validate(landed(dataset), dataset, PARAMS)
    assert len(results) >= len(dataset.required_columns)
    assert failed(results) == set()


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_a_repeated_key_fails_the_uniqueness_expectation(runner: QualityRunner, dataset: Dataset) -> None:
    good = landed(dataset)
    bad = pl.concat([good, good.head(1)])
    assert ("expect_column_values_to_be_unique", dataset.key) in failed(
        runner.validate(bad, dataset, PARAMS), "critical"
    )


@pytest.mark.parametrize(
    "dataset", [d for d in DATASETS if any(c.type is ColumnType.ENUM for c in d.columns)], ids=lambda d: d.name
)
def test_a_value_outside_the_enum_fails_the_set_expectation(runner: QualityRunner, dataset: Dataset) -> None:
    col = next(c for c in dataset.columns if c.type is ColumnType.ENUM)
    bad = landed(dataset).with_columns(pl.lit("不存在的值").alias(col.name))
    assert ("expect_column_values_to_be_in_set", col.name) in failed(runner.validate(bad, dataset, PARAMS), "critical")


def test_members_with_30_percent_null_phones_fail_critically(runner: QualityRunner) -> None:
    ds = get_dataset("members")
    good = landed(ds, 10)
    bad = good.with_columns(
        pl.when(pl.int_range(pl.len()) < 3).then(None).otherwise(pl.col("phone")).alias("phone")
    )
    assert failed(runner.validate(good, ds, PARAMS)) == set()
    assert ("expect_column_values_to_not_be_null", "phone") in failed(runner.validate(bad, ds, PARAMS), "critical")


@pytest.mark.parametrize("name", ["union_orgs", "members", "street_staff"])
def test_a_snapshot_half_the_size_of_the_previous_one_fails(runner: QualityRunner, name: str) -> None:
    ds = get_dataset(name)
    params = {**PARAMS, "min_rows": 7}  # half of a previous snapshot of 14 rows
    assert failed(runner.validate(landed(ds, 7), ds, params)) == set()
    assert ("expect_table_row_count_to_be_between", None) in failed(
        runner.validate(landed(ds, 6), ds, params), "critical"
    )


def test_a_snapshot_older_than_the_last_one_is_only_a_warning(runner: QualityRunner) -> None:
    ds = get_dataset("union_orgs")
    params = {**PARAMS, "previous_as_of_date": pd.Timestamp(date(2025, 3, 31))}
    results = runner.validate(landed(ds), ds, params)
    assert failed(results) == {("expect_column_min_to_be_between", "as_of_date")}
    assert failed(results, "critical") == set()


def test_stale_event_data_is_only_a_warning(runner: QualityRunner) -> None:
    ds = get_dataset("dispute_cases")
    params = {**PARAMS, "fresh_since": pd.Timestamp("2025-06-01")}
    results = runner.validate(landed(ds), ds, params)
    assert failed(results) == {("expect_column_max_to_be_between", "received_date")}
    assert failed(results, "critical") == set()


def test_failing_examples_never_carry_personal_data(runner: QualityRunner) -> None:
    ds = get_dataset("members")
    good = landed(ds, 4)
    bad = pl.concat([good, good.head(1)])  # the repeated member also repeats an ID number
    for r in runner.validate(bad, ds, PARAMS):
        if r["column"] in ds.personal_columns:
            assert r["examples"] is None and r["observed_value"] is None


def test_the_data_docs_are_rendered_again_only_when_something_new_is_on_them(tmp_path: Path) -> None:
    """Rendering the suite pages costs every run seconds; a run that held nothing back,
    with the suites unchanged, leaves the pages as they are."""
    import shutil

    suites = tmp_path / "suites"
    shutil.copytree(ROOT / "expectations", suites)
    docs = tmp_path / "docs"
    index = QualityRunner(suites, docs).build_docs()
    assert index is not None and index.exists() and (docs / "expectations" / "members.html").exists()
    rendered = index.stat().st_mtime_ns
    assert QualityRunner(suites, docs).build_docs() == index
    assert index.stat().st_mtime_ns == rendered  # nothing new: not rendered again
    members = suites / "members.json"
    members.write_text(members.read_text(encoding="utf-8").replace("\n", "\n ", 1), encoding="utf-8")
    QualityRunner(suites, docs).build_docs()
    assert index.stat().st_mtime_ns > rendered  # a suite changed: its pages are rendered again
    rendered = index.stat().st_mtime_ns
    runner = QualityRunner(suites, docs)
    d = get_dataset("members")
    runner.document(landed(d, 3), d, PARAMS, run_name="held-back")
    runner.build_docs()
    assert index.stat().st_mtime_ns > rendered  # a held-back submission's page: the index again
