"""What an operator sees in `dagster dev`: the asset graph by layer, the checks that
gate it, the sensors and the schedules, all from the one Definitions object."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster_dbt import DbtProject

from pipelines.definitions import PIPELINE_JOB, build_definitions
from pipelines.orchestration import dbt
from pipelines.orchestration.exports import MONTHLY_EXPORT_JOB, NIGHTLY_JOB

ROOT = Path(__file__).resolve().parents[1]


def test_assets_are_grouped_by_layer(settings) -> None:
    graph = build_definitions(settings).resolve_asset_graph()
    groups: dict[str, set[str]] = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            groups.setdefault(node.group_name, set()).add(key.to_user_string())
    assert {"landing", "reference", "staging", "intermediate", "marts", "audit", "indicators", "publish",
            "reports"} <= set(groups)
    assert "landing/members" in groups["landing"]
    assert "marts/dim_member" in groups["marts"] and "marts/fct_dispute_cases" in groups["marts"]
    assert {"indicators/indicator_values", "indicators/indicator_manifest"} <= groups["indicators"]
    assert groups["publish"] == {"published/warehouse"}
    assert {"reports/dbt_docs", "reports/indicator_exports"} <= groups["reports"]


def test_checks_gate_landing_models_and_publishing(settings) -> None:
    graph = build_definitions(settings).resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert ("audit/ingestion_ledger", "reconciliation") in checks
    assert ("landing/members", "quality_suite") in checks
    assert {("indicators/indicator_values", name) for name in (
        "district_equals_street_sum", "rates_are_consistent", "deterministic", "rows_reconcile")} <= checks
    # every dbt test of a staging or mart model shows up as an asset check of that model
    manifest = json.loads(dbt.prepared_manifest().read_text(encoding="utf-8"))
    tested = {(n["attached_node"].split(".")[-1], n["name"]) for n in manifest["nodes"].values()
              if n["resource_type"] == "test" and (n.get("attached_node") or "").startswith(
                  ("model.union_warehouse.stg_", "model.union_warehouse.dim_", "model.union_warehouse.fct_"))}
    dbt_tests = {(c[0].split("/")[-1], c[1]) for c in checks if c[0].startswith(("marts/", "staging/"))}
    assert len(tested) > 50 and tested <= dbt_tests


def test_jobs_schedules_and_sensors(settings) -> None:
    defs = build_definitions(settings)
    assert defs.resolve_job_def(PIPELINE_JOB)
    sensors = {s.name: s for s in defs.sensors}
    assert set(sensors) == {"inbox_sensor", "alert_on_run_failure", "reclaim_dead_runs"}
    assert sensors["inbox_sensor"].default_status == dg.DefaultSensorStatus.RUNNING
    assert sensors["reclaim_dead_runs"].default_status == dg.DefaultSensorStatus.RUNNING
    # every job says which host its runs execute on, so a killed run can be reclaimed
    for name in (PIPELINE_JOB, NIGHTLY_JOB, MONTHLY_EXPORT_JOB):
        assert defs.resolve_job_def(name).tags.get("union/host") == socket.gethostname()
    schedules = {s.name: s for s in defs.schedules}
    nightly, monthly = schedules["nightly_rebuild"], schedules["monthly_indicator_export"]
    assert (nightly.cron_schedule, nightly.job_name) == ("0 2 * * *", NIGHTLY_JOB)
    assert (monthly.cron_schedule, monthly.job_name) == ("0 6 1 * *", MONTHLY_EXPORT_JOB)
    assert {s.execution_timezone for s in schedules.values()} == {"Asia/Shanghai"}
    assert all(s.default_status == dg.DefaultScheduleStatus.STOPPED for s in schedules.values())
    nightly_job = defs.resolve_job_def(NIGHTLY_JOB)
    assert nightly_job.run_config == {"ops": {"warehouse_models": {"config": {"full_refresh": True}}}}
    assert dg.validate_run_config(nightly_job, nightly_job.run_config)  # the dbt asset accepts it
    monthly_job = defs.resolve_job_def(MONTHLY_EXPORT_JOB)
    assert {k.to_user_string() for k in monthly_job.asset_layer.selected_asset_keys} == {"reports/indicator_exports"}


def test_the_code_location_loads_as_dagster_dev_loads_it(tmp_path: Path) -> None:
    env = {**os.environ, "UNION_DATA_DIR": str(tmp_path / "data"), "UNION_RAW_DIR": str(tmp_path / "raw"),
           "DAGSTER_HOME": str(tmp_path / "home")}
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "dagster.yaml").write_bytes((ROOT / "dagster.yaml").read_bytes())
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-m", "pipelines.definitions"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "All code locations passed validation" in done.stdout + done.stderr


def test_the_instance_queues_runs_admits_one_writer_retries_and_monitors(tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_bytes((ROOT / "dagster.yaml").read_bytes())
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.get_settings("telemetry") == {"enabled": False}
        assert instance.run_coordinator.__class__.__name__ == "QueuedRunCoordinator"
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] == 30


def test_importing_the_definitions_imports_neither_great_expectations_nor_dbt() -> None:
    """Every CLI subcommand, code server, run worker and sensor module that imports the
    definitions paid for dbt (through dagster-dbt) and once for Great Expectations (about
    nine seconds: the alerts read the quality verdicts through the module that runs the
    suites). Importing loads neither: the definitions are built when Dagster loads them."""
    heavy = ("great_expectations", "dbt", "dagster_dbt", "dbt_common", "pyspark")
    code = (
        "import sys, pipelines.definitions, pipelines.alerts, pipelines.cli;"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_loading_the_definitions_does_not_load_great_expectations() -> None:
    """Loading them (as a code server does) imports dbt, never Great Expectations: only
    the step that validates does."""
    code = (
        "import sys, pipelines.definitions as d; d.defs();"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'great_expectations')[:3],"
        " 'dagster_dbt' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] True", out.stdout


SPY_ON_PROCESSES = """
import subprocess
started = []
real_init = subprocess.Popen.__init__
def spy(self, args, *rest, **kwargs):
    started.append(" ".join(map(str, args)) if isinstance(args, (list, tuple)) else str(args))
    real_init(self, args, *rest, **kwargs)
subprocess.Popen.__init__ = spy
import pipelines.definitions
pipelines.definitions.defs()  # loaded as a code server loads them
print([a for a in started if "dbt" in a])
"""


def test_loading_the_definitions_runs_no_dbt() -> None:
    """With the manifest prepared (the test session prepares it, as ``union-warehouse
    prepare`` does), a code server, a run worker or a test loads the definitions by reading
    it: no dbt process starts."""
    env = {k: v for k, v in os.environ.items() if k != dbt.DEV_ENV}
    done = subprocess.run([sys.executable, "-c", SPY_ON_PROCESSES], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_outside_dagster_dev_a_missing_or_stale_manifest_is_an_error_saying_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a copy of the dbt project (the real target/ is shared by the other tests)."""
    copy = tmp_path / "dbt_project"
    shutil.copytree(dbt.DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs"))
    project = DbtProject(project_dir=copy, profiles_dir=copy)
    parsed: list[DbtProject] = []
    monkeypatch.setattr(dbt, "prepare_manifest", lambda p: parsed.append(p) or p.manifest_path)
    monkeypatch.delenv(dbt.DEV_ENV, raising=False)

    with pytest.raises(dbt.ManifestNotPrepared, match=r"manifest\.json is missing: .*union-warehouse prepare"):
        dbt.build_dbt_assets(project)

    project.manifest_path.parent.mkdir()
    shutil.copyfile(dbt.DBT_PROJECT.manifest_path, project.manifest_path)  # prepared
    assert dbt.build_dbt_assets(project).keys

    model = sorted((copy / "models").rglob("*.sql"))[0]
    later = time.time() + 60
    os.utime(model, (later, later))  # edited after the manifest was written
    with pytest.raises(dbt.ManifestNotPrepared, match=f"is older than {model.relative_to(copy)}"):
        dbt.build_dbt_assets(project)
    assert parsed == []  # outside dagster dev nothing parses

    monkeypatch.setenv(dbt.DEV_ENV, "1")  # under dagster dev it prepares first, as dagster-dbt does
    assert dbt.prepared_manifest(project) == project.manifest_path and parsed == [project]
