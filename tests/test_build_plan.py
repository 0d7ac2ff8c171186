"""Which dbt nodes a build runs, on the project's real manifest: what a dataset's new data
can change, and nothing it cannot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.orchestration.dbt import prepare_manifest
from pipelines.warehouse.build_plan import (
    AS_OF_KEY,
    FULL_SCAN_TAG,
    PROJECT_KEY,
    DbtGraph,
    dataset_fingerprints,
    models_to_run,
    plan_build,
)

DATASETS = ("union_orgs", "members", "street_staff", "collective_contracts", "dispute_cases", "hotline_tickets",
            "legal_services", "training_events", "education_grants", "facilities", "hardship_cases")
ALWAYS = {"audit_ingestion_ledger", "audit_quality_results", "audit_quarantine", "audit_row_reconciliation",
          "stg_accepted_submissions", "indicator_manifest", "indicator_values"}


@pytest.fixture(scope="module")
def graph() -> DbtGraph:
    return DbtGraph.from_manifest(json.loads(Path(prepare_manifest()).read_text(encoding="utf-8")))


def names(graph: DbtGraph, ids: set[str] | frozenset[str]) -> set[str]:
    return {graph.nodes[i].name for i in ids}


def inputs(**datasets: str) -> dict[str, str]:
    base = {AS_OF_KEY: "2015-12-31", PROJECT_KEY: "p1"}
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
    assert "not_null_stg_dispute_cases_case_id" in plan.excluded
    assert "not_null_stg_members_member_id" in run
    assert "dim_union_org" in plan.excluded and "stg_members" not in plan.excluded


def test_an_event_file_leaves_the_member_models_alone(graph: DbtGraph) -> None:
    plan = plan_build(graph, inputs(), inputs(dispute_cases="f1"))
    run = names(graph, plan.run)
    assert {"stg_dispute_cases", "fct_dispute_cases", "fct_street_monthly", "int_indicator_street_measures"} <= run
    assert not {"stg_members", "int_member_snapshots", "dim_member", "fct_member_changes",
                "int_registry_snapshot_calendar", "dim_street", "stg_hotline_tickets"} & run


def test_nothing_new_rebuilds_only_the_audit_and_indicator_tables(graph: DbtGraph) -> None:
    plan = plan_build(graph, inputs(), inputs())
    assert plan.changed_datasets == frozenset()
    assert {graph.nodes[i].name for i in plan.run if graph.nodes[i].resource_type == "model"} == ALWAYS


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


# --- through Dagster: the op plans, records and forgets ------------------------------------


def test_the_warehouse_build_runs_only_what_a_new_members_list_changes(tmp_path: Path) -> None:
    import os

    import dagster as dg
    from dagster_dbt import DbtProject

    from pipelines.config import Settings
    from pipelines.orchestration.dbt import build_dbt_assets, dbt_resource
    from pipelines.orchestration.resources import AsOf, UnionPaths
    from pipelines.warehouse import build_state
    from pipelines.warehouse.bootstrap import ensure_dbt_inputs

    from .test_dbt_models import AS_OF, DBT_DIR, KEY, Landing, member, phase1

    settings = Settings(raw_dir=tmp_path / "raw", data_dir=tmp_path / "data", pii_key=KEY)
    ensure_dbt_inputs(settings)
    land = Landing(settings)
    phase1(land)
    project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR, target_path=tmp_path / "target")
    assets = build_dbt_assets(project)

    instance = dg.DagsterInstance.ephemeral()

    def build() -> dg.ExecuteInProcessResult:
        return dg.materialize([assets], instance=instance, resources={
            "paths": UnionPaths.from_settings(settings), "as_of": AsOf(as_of=AS_OF), "dbt": dbt_resource(project)})

    def said(result: dg.ExecuteInProcessResult) -> str:
        return "\n".join(e.user_message for e in instance.all_logs(result.run_id))

    saved = os.environ.get("UNION_PII_KEY")
    os.environ["UNION_PII_KEY"] = KEY
    try:
        first = build()
        assert "full build (no completed build recorded in this warehouse)" in said(first)
        recorded = build_state.read_recorded(settings.warehouse_path)
        assert recorded is not None and recorded["members"]

        land.submit("members", "110101001", [member("m1", "O2"), member("m5", "O1")], as_of="2015-12-31")
        second = build()
    finally:
        if saved is None:
            os.environ.pop("UNION_PII_KEY", None)
        else:
            os.environ["UNION_PII_KEY"] = saved
    assert "incremental build: datasets changed since the last build: members;" in said(second)

    def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
        return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}

    def checked(result: dg.ExecuteInProcessResult) -> set[str]:
        return {e.check_name for e in result.get_asset_check_evaluations()}

    assert {"marts/fct_dispute_cases", "staging/stg_dispute_cases", "marts/dim_member"} <= materialized(first)
    assert {"marts/dim_member", "staging/stg_members", "marts/fct_member_changes",
            "indicators/indicator_values"} <= materialized(second)
    assert not {"marts/fct_dispute_cases", "staging/stg_dispute_cases", "marts/dim_union_org",
                "reference/streets"} & materialized(second)
    assert "unique_dim_member_member_key" in checked(first)  # full_scan: full builds only
    assert "unique_dim_member_member_key" not in checked(second)
    assert "not_null_dim_member_member_key" in checked(second)
    assert len(materialized(second)) < len(materialized(first)) / 2
    after = build_state.read_recorded(settings.warehouse_path)
    assert after is not None and after["members"] != recorded["members"]
    assert {k: v for k, v in after.items() if k != "members"} == {k: v for k, v in recorded.items() if k != "members"}
