"""The Dagster side: the alerts/alert_state asset, the AlertSinks resource and the
run-failure sensor."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import dagster as dg
import duckdb
import pytest
from pytest_httpserver import HTTPServer

from pipelines.alerts import run_alerts
from pipelines.alerts.sinks import EmailSink
from pipelines.config import Settings
from pipelines.definitions import PIPELINE_JOB, build_definitions
from pipelines.orchestration.alerts import (
    ALERTS_KEY,
    OPERATOR_INPUTS,
    SENSOR_NAME,
    AlertSinks,
    alert_on_run_failure,
    alert_state,
    run_as_of,
)
from pipelines.orchestration.dbt import WAREHOUSE_POOL, build_dbt_assets
from pipelines.orchestration.resources import AsOf, UnionPaths

from .test_alerts_lifecycle import build, outbox, overdue_case
from .test_alerts_rules import AS_OF


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    return ("127.0.0.1", 0)


def _resources(settings: Settings, sinks: AlertSinks | None = None) -> dict[str, object]:
    return {
        "paths": UnionPaths.from_settings(settings),
        "as_of": AsOf(as_of=AS_OF.isoformat()),
        "alert_sinks": sinks or AlertSinks(),
    }


def test_the_asset_reads_what_the_warehouse_builds() -> None:
    models = build_dbt_assets()
    deps = set(alert_state.asset_deps[ALERTS_KEY])
    assert deps - set(OPERATOR_INPUTS) == {dg.AssetKey(["warnings", "warning_findings"])}
    # the rules' own lineage is the dbt graph's: the findings reach back to the marts read
    upstream, todo = set(), [dg.AssetKey(["warnings", "warning_findings"])]
    while todo:
        for parent in models.asset_deps.get(todo.pop(), ()):
            if parent not in upstream:
                upstream.add(parent)
                todo.append(parent)
    assert {
        dg.AssetKey(["marts", "fct_dispute_cases"]),
        dg.AssetKey(["marts", "fct_hotline_tickets"]),
        dg.AssetKey(["marts", "fct_collective_contracts"]),
        dg.AssetKey(["marts", "dim_union_org"]),
        dg.AssetKey(["marts", "fct_membership_counts"]),
        dg.AssetKey(["intermediate", "int_org_snapshots"]),
        dg.AssetKey(["intermediate", "int_indicator_street_measures"]),
    } <= upstream
    assert alert_state.specs_by_key[ALERTS_KEY].group_name == "alerts"
    assert alert_state.op.pool == WAREHOUSE_POOL


def test_wired_into_the_projects_definitions_the_pipeline_job_ends_with_alerts(
    settings: Settings,
) -> None:
    """pipelines/definitions.py holds the asset, the sensor and the resource; publishing
    waits for the alerts."""
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    assert ALERTS_KEY in graph.get_all_asset_keys()
    assert ALERTS_KEY in graph.get(dg.AssetKey(["published", "warehouse"])).parent_keys
    assert defs.resolve_sensor_def(SENSOR_NAME)
    job = defs.resolve_job_def(PIPELINE_JOB)
    assert ALERTS_KEY in job.asset_layer.asset_graph.get_all_asset_keys()


def test_materializing_records_alerts_delivers_and_reports_counts(
    settings: Settings,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build(settings, overdue_case(workers=12))  # W09 黄 and W01 黄
    httpserver.expect_request("/hook").respond_with_data("ok")
    monkeypatch.setenv("UNION_ALERT_WEBHOOK_URL", httpserver.url_for("/hook"))
    monkeypatch.setenv("UNION_ALERT_WEBHOOK_SECRET", "from-the-env")
    sinks = AlertSinks.from_env()
    assert isinstance(sinks.webhook_secret, dg.EnvVar)  # the secret never sits in run config
    result = dg.materialize([alert_state], resources=_resources(settings, sinks))
    assert result.success
    [mat] = result.asset_materializations_for_node("alerts__alert_state")
    meta = {k: v.value for k, v in mat.metadata.items()}
    assert meta["open_alerts"] == 2 and meta["opened"] == 2 and meta["resolved"] == 0
    assert meta["delivered"] == {"outbox": 2, "webhook": 2}
    assert meta["events_by_level"]["opened_by_level"]["黄"] == 2
    assert set(meta["timings_s"]) == {
        "evaluate_warehouse",
        "evaluate_operator",
        "record",
        "deliver",
    }
    assert "| 黄 | 2 |" in meta["open_by_level"]
    for req, _ in httpserver.log:
        body = req.get_data()
        assert (
            req.headers["X-Union-Signature"]
            == "sha256=" + hmac.new(b"from-the-env", body, hashlib.sha256).hexdigest()
        )
    assert len(outbox(settings)) == 2
    again = dg.materialize([alert_state], resources=_resources(settings, sinks))
    [mat2] = again.asset_materializations_for_node("alerts__alert_state")
    assert mat2.metadata["opened"].value == 0 and mat2.metadata["delivered"].value == {}
    assert len(httpserver.log) == 2


def test_a_half_configured_sink_fails_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNION_ALERT_WEBHOOK_URL", "https://hooks.example/x")
    monkeypatch.delenv("UNION_ALERT_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ValueError, match="UNION_ALERT_WEBHOOK_SECRET"):
        AlertSinks.from_env()


# --- the run-failure sensor ---------------------------------------------------------------------


@dg.op
def explode() -> None:
    raise RuntimeError("the warehouse is on fire")


@dg.job(resource_defs={"as_of": AsOf()})
def doomed_job() -> None:
    explode()


def _fail_and_sense(settings: Settings, instance: dg.DagsterInstance) -> str:
    result = doomed_job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={"resources": {"as_of": {"config": {"as_of": "2015-12-31"}}}},
    )
    assert not result.success
    context = dg.build_run_status_sensor_context(
        sensor_name=SENSOR_NAME,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
        resources={"paths": UnionPaths.from_settings(settings), "alert_sinks": AlertSinks()},
    ).for_run_failure()
    alert_on_run_failure(context)
    return result.run_id


def _run_failed_alerts(settings: Settings) -> list[tuple]:
    with duckdb.connect(str(settings.alerts_state_path), read_only=True) as con:
        return con.execute(
            "select level, status, entity_key, evidence from alerts "
            "where rule_code = 'OPS_RUN_FAILED'"
        ).fetchall()


def test_a_failed_run_opens_one_operator_alert_that_escalates_and_resolves(
    settings: Settings,
) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        first = _fail_and_sense(settings, instance)
        [(level, status, entity, evidence)] = _run_failed_alerts(settings)
        assert (level, status, entity) == ("橙", "open", "job:doomed_job")
        ev = json.loads(evidence)
        assert (
            ev["failed_steps"] == ["explode"]
            and ev["failed_runs"] == 1
            and ev["last_failed_run_id"] == first
        )
        [sent] = outbox(settings)
        assert sent["rule_code"] == "OPS_RUN_FAILED" and sent["as_of"] == "2015-12-31"
        assert sent["message"].startswith("【运维·橙】流水线运行失败：流水线作业doomed_job运行失败")
        _fail_and_sense(settings, instance)
        assert len(outbox(settings)) == 1  # still failing: no news
        third = _fail_and_sense(settings, instance)
        [(level, status, _, evidence)] = _run_failed_alerts(settings)
        assert (level, status) == ("红", "open") and json.loads(evidence)["failed_runs"] == 3
        assert json.loads(evidence)["last_failed_run_id"] == third
        assert [m["event_type"] for m in outbox(settings)] == ["opened", "escalated"]
    build(settings, overdue_case(closed=True))
    other = run_alerts(settings, as_of=AS_OF, run_id="ok-1", sinks=[], job_name="another_job")
    assert other.count("resolved") == 0
    build(settings, overdue_case(closed=True), as_of=AS_OF + timedelta(days=1))
    ok = run_alerts(
        settings, as_of=AS_OF + timedelta(days=1), run_id="ok-2", sinks=[], job_name="doomed_job"
    )
    assert ok.count("resolved") == 1
    assert [r[:2] for r in _run_failed_alerts(settings)] == [("红", "resolved")]


def test_the_as_of_date_of_a_run_comes_from_its_config() -> None:
    assert (
        run_as_of({"resources": {"as_of": {"config": {"as_of": "2015-06-30"}}}}).isoformat()
        == "2015-06-30"
    )
    assert run_as_of({}) == run_as_of({"resources": {"as_of": {"config": {"as_of": ""}}}})


def test_the_smtp_password_reaches_the_sink_but_never_the_run_config(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var, value in {"UNION_SMTP_HOST": "mail.example", "UNION_SMTP_SENDER": "a@example",
                       "UNION_SMTP_RECIPIENTS": "b@example", "UNION_SMTP_SECURITY": "starttls",
                       "UNION_SMTP_USER": "union-alerts", "UNION_SMTP_PASSWORD": "pw-from-the-env"}.items():
        monkeypatch.setenv(var, value)
    sinks = AlertSinks.from_env()
    assert isinstance(sinks.smtp_password, dg.EnvVar) and "pw-from-the-env" not in repr(sinks)
    [_, email_sink] = sinks.process_config_and_initialize().build(settings)
    assert isinstance(email_sink, EmailSink)
    assert (email_sink.security, email_sink.port, email_sink.user, email_sink.password) == (
        "starttls", 587, "union-alerts", "pw-from-the-env")


def test_the_resource_has_a_field_for_every_sink_setting() -> None:
    """AlertSinks is SinkSettings as Dagster configuration: a setting added to one and not
    the other would be silently dropped on the way to the sinks."""
    from dataclasses import fields

    from pipelines.alerts import SinkSettings

    resource = set(AlertSinks.model_fields)
    assert resource == {f.name for f in fields(SinkSettings)}
    defaults = AlertSinks().sink_settings()
    assert defaults == SinkSettings()  # and the same defaults
