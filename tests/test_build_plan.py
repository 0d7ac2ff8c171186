"""Which dbt nodes a build runs, on the project's real manifest: what a dataset's new data
can change, and nothing it cannot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.orchestration.dbt import prepare_manifest
from pipelines.warehouse.build_plan import (
    AS_OF_KEY,
    AUDIT_KEY,
    ENGINE_KEY,
    FULL_SCAN_TAG,
    PII_KEY_KEY,
    PROJECT_KEY,
    DbtGraph,
    dataset_fingerprints,
    models_to_run,
    plan_build,
)

DATASETS = ("union_orgs", "members", "street_staff", "collective_contracts", "dispute_cases", "hotline_tickets",
            "legal_services", "training_events", "education_grants", "facilities", "hardship_cases")
ALWAYS = {"audit_ingestion_ledger", "audit_quality_results", "audit_quarantine", "audit_row_reconciliation",
          "stg_accepted_submissions", "indicator_manifest", "indicator_values",
          # the doors to the audit sources
          "stg_pipeline_audit__ingestion_ledger", "stg_pipeline_audit__quality_results",
          "stg_problems__row_problems",
          # the ledger's loaded entries, cast once for stg_accepted_submissions and the manifest
          "stg_loaded_submissions"}


@pytest.fixture(scope="module")
def graph() -> DbtGraph:
    return DbtGraph.from_manifest(json.loads(Path(prepare_manifest()).read_text(encoding="utf-8")))


def names(graph: DbtGraph, ids: set[str] | frozenset[str]) -> set[str]:
    return {graph.nodes[i].name for i in ids}


def inputs(audit: str = "a0", **datasets: str) -> dict[str, str]:
    """Build inputs; a dataset given a new fingerprint comes with a new ledger (audit)."""
    base = {AS_OF_KEY: "2015-12-31", PROJECT_KEY: "p1", PII_KEY_KEY: "k1", AUDIT_KEY: audit}
    if datasets and audit == "a0":
        base[AUDIT_KEY] = "a1"
    return {**base, **{d: "f0" for d in DATASETS}, **datasets}


def test_a_members_list_rebuilds_the_member_models_and_what_reads_them(graph: DbtGraph) -> None:
    plan = plan_build(graph, inputs(), inputs(members="f1"))
    assert not plan.full and plan.changed_datasets == {"members"}
    run = names(graph, plan.run)
    assert {"stg_members", "int_member_snapshots", "int_registry_snapshot_calendar", "dim_member",
            "dim_member_history", "fct_member_changes", "fct_membership_counts", "dim_street",
            "fct_education_grants", "fct_hardship_aid", "int_indicator_street_measures"} | ALWAYS <= run
    # nothing of the rights datasets, nor the orgs' own staging
    assert not {"stg_dispute_cases", "fct_dispute_cases", "stg_hotline_tickets", "fct_hotline_tickets",
                "stg_legal_services", "stg_collective_contracts", "stg_union_orgs", "int_org_snapshots",
                "dim_union_org", "dim_union_org_history", "stg_education_grants"} & run
    assert "not_null_stg_dispute_cases" in plan.excluded
    assert "not_null_stg_members" in run
    assert "dim_union_org" in plan.excluded and "stg_members" not in plan.excluded


def test_an_event_file_leaves_the_member_models_alone(graph: DbtGraph) -> None:
    plan = plan_build(graph, inputs(), inputs(dispute_cases="f1"))
    run = names(graph, plan.run)
    assert {"stg_dispute_cases", "fct_dispute_cases", "fct_street_monthly", "int_indicator_street_measures"} <= run
    assert not {"stg_members", "int_member_snapshots", "dim_member", "fct_member_changes",
                "int_registry_snapshot_calendar", "dim_street", "stg_hotline_tickets"} & run


def test_a_rejected_file_rebuilds_only_the_audit_and_indicator_tables(graph: DbtGraph) -> None:
    """A new ledger entry and no dataset's loaded data changed (a rejected file)."""
    plan = plan_build(graph, inputs(), inputs(audit="a1"))
    assert plan.changed_datasets == frozenset()
    assert {graph.nodes[i].name for i in plan.run if graph.nodes[i].resource_type == "model"} == ALWAYS


def test_nothing_new_runs_nothing(graph: DbtGraph) -> None:
    """The same ledger, verdicts and data: no model, no test (dbt is not even started)."""
    plan = plan_build(graph, inputs(), inputs())
    assert not plan.full and plan.run == frozenset()


def test_full_scan_tests_wait_for_a_full_build(graph: DbtGraph) -> None:
    full_scan = {n.unique_id for n in graph.nodes.values() if FULL_SCAN_TAG in n.tags}
    assert len(full_scan) >= 4  # member uniqueness over tens of millions of rows
    plan = plan_build(graph, inputs(), inputs(members="f1"))
    assert not full_scan & plan.run


@pytest.mark.parametrize(("previous", "current", "full_refresh", "reason"), [
    (None, inputs(), False, "no completed build"),
    (inputs(), {**inputs(), AS_OF_KEY: "2016-01-31"}, False, "as-of date"),
    (inputs(), {**inputs(), PROJECT_KEY: "p2"}, False, "dbt project"),
    (inputs(), inputs(), True, "full refresh"),
])
def test_a_full_build_when_nothing_can_be_assumed(graph, previous, current, full_refresh, reason) -> None:  # type: ignore[no-untyped-def]
    plan = plan_build(graph, previous, current, full_refresh=full_refresh)
    assert plan.full and reason in plan.reason and plan.excluded == ()


def test_switching_engines_is_a_full_build(graph: DbtGraph) -> None:
    """DuckDB -> Spark and back: the working file then holds the other engine's tables,
    rebuilt whole. A record from before the engine was recorded is a DuckDB build's."""
    spark = {**inputs(), ENGINE_KEY: "spark"}
    plan = plan_build(graph, inputs(), spark)
    assert plan.full and not plan.full_refresh and "engine" in plan.reason
    assert plan_build(graph, spark, {**inputs(), ENGINE_KEY: "duckdb"}).full
    assert not plan_build(graph, inputs(), {**inputs(), ENGINE_KEY: "duckdb"}).full
    assert not plan_build(graph, spark, {**spark, "members": "f1"}).full


def test_a_new_hashing_key_rebuilds_the_incremental_models_from_scratch(graph: DbtGraph) -> None:
    plan = plan_build(graph, inputs(), {**inputs(), PII_KEY_KEY: "k2"})
    assert plan.full and plan.full_refresh and "hashing key" in plan.reason
    assert not plan_build(graph, inputs(), {**inputs(), AS_OF_KEY: "2016-01-31"}).full_refresh


def test_a_dataset_seen_for_the_first_time_counts_as_changed(graph: DbtGraph) -> None:
    previous = {k: v for k, v in inputs().items() if k != "facilities"}
    assert plan_build(graph, previous, inputs()).changed_datasets == {"facilities"}


@pytest.mark.parametrize("dataset", DATASETS)
def test_whatever_runs_its_readers_run_too(graph: DbtGraph, dataset: str) -> None:
    """Closure: a model reading a model that runs runs too, except through the
    dataset-partitioned accepted-submissions list, whose readers run when their own
    dataset (or declared datasets) changed."""
    changed = frozenset({dataset})
    run = models_to_run(graph, changed)
    for node in graph.models_in_order():
        for parent in node.parents:
            if parent in run and not graph.nodes[parent].partitioned_by_dataset:
                assert node.unique_id in run, f"{node.name} reads {graph.nodes[parent].name} but would not run"
        if node.landing_datasets & changed:
            assert node.unique_id in run


def test_fingerprints_change_with_a_submission_or_its_verdict_not_with_order() -> None:
    a = dataset_fingerprints([("members", "s1|1|v:10"), ("members", "s2|2|v:-1"), ("facilities", "s3|3|v:9")])
    b = dataset_fingerprints([("facilities", "s3|3|v:9"), ("members", "s2|2|v:-1"), ("members", "s1|1|v:10")])
    c = dataset_fingerprints([("members", "s1|1|v:10"), ("members", "s2|2|v:12"), ("facilities", "s3|3|v:9")])
    assert a == b
    assert c["members"] != a["members"] and c["facilities"] == a["facilities"]

