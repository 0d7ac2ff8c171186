"""Alerts in Dagster: the ``alerts/alert_state`` asset and the run-failure sensor.

After every successful build, ``alerts/alert_state`` levels the warning rules' findings
(W01-W09, computed by the build's ``warnings`` models) in the working warehouse (read-only) and the operator rules over the ledger
and the quality verdicts, records the alert lifecycle in ``Settings.alerts_state_path``
and delivers what changed through the sinks of the ``alert_sinks`` resource. It runs in
the ``warehouse_writer`` pool, so it never opens the warehouse while dbt writes it.

``alert_on_run_failure`` opens (or counts into) an OPS_RUN_FAILED alert for the failed
run's job; the next successful run of that job that reaches the asset resolves it.

Importing this module reads nothing. The rule file is checked when the definitions are
built (:func:`pipelines.definitions.build_definitions`), so a bad one stops the code
location from loading with an error naming the file and the problem; the asset loads
it again on every run (edits take effect without a restart).
"""

from datetime import date

import dagster as dg
import pydantic

from pipelines.alerts import load_rules, record_run_failure, run_alerts
from pipelines.alerts.config import ENV_VARS, SECRET_SETTINGS, SinkSettings
from pipelines.alerts.sinks import Sink
from pipelines.config import Settings

from .dbt import WAREHOUSE_POOL
from .landing import LEDGER_KEY
from .resources import AsOf, UnionPaths

ALERTS_KEY = dg.AssetKey(["alerts", "alert_state"])
ALERTS_GROUP = "alerts"
SENSOR_NAME = "alert_on_run_failure"

# What the rules read: the warning rules' findings (the dbt models of W01-W09, whose own
# lineage the dbt graph holds), the ledger and the verdicts.
WAREHOUSE_INPUTS: tuple[dg.AssetKey, ...] = (dg.AssetKey(["warnings", "warning_findings"]),)
OPERATOR_INPUTS: tuple[dg.AssetKey, ...] = (LEDGER_KEY, dg.AssetKey(["audit", "quality_results"]))

# the secrets (the webhook secret, the SMTP password, the robots' URLs and secrets) -> their variables
_SECRETS = {name: ENV_VARS[name] for name in SECRET_SETTINGS}


# The resource's fields are SinkSettings' own (names, types, defaults; the recipients one
# comma-separated string), so the two never drift.
_SinkFields = pydantic.create_model(
    "_SinkFields", __base__=dg.ConfigurableResource, **SinkSettings.config_fields()
)


class AlertSinks(_SinkFields):
    """Where alert events go besides the outbox (always on): the fields of
    :class:`~pipelines.alerts.config.SinkSettings` as configuration. Build it with
    :meth:`from_env` (``UNION_ALERT_WEBHOOK_URL`` / ``_SECRET``, ``UNION_SMTP_*``,
    ``UNION_ALERT_WECOM_URL``, ``UNION_ALERT_DINGTALK_*``, ``UNION_ALERT_FEISHU_*``: the
    variables of :data:`~pipelines.alerts.config.ENV_VARS`); tests construct it directly
    to point at local servers."""

    @classmethod
    def from_env(cls) -> "AlertSinks":
        """From the environment, checked now (a half-configured sink is an error). The
        secrets (:data:`~pipelines.alerts.config.SECRET_SETTINGS`: the webhook secret, the
        SMTP password, the robots' URLs, which hold their keys, and signing secrets) are
        passed as ``EnvVar``, so none ever shows in the run's config."""
        s = SinkSettings.from_env()
        s.validate()
        values = s.to_config()
        for name, variable in _SECRETS.items():
            values[name] = dg.EnvVar(variable) if values[name] else ""
        return cls(**values)

    def sink_settings(self) -> SinkSettings:
        return SinkSettings.from_config(self)

    def build(self, settings: Settings) -> list[Sink]:
        return self.sink_settings().build(settings.outbox_path)


def _md_table(counts: dict[str, int]) -> str:
    return "| level | open |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in counts.items())


@dg.asset(
    key=ALERTS_KEY,
    group_name=ALERTS_GROUP,
    deps=[*WAREHOUSE_INPUTS, *OPERATOR_INPUTS],
    pool=WAREHOUSE_POOL,  # opens the working warehouse: never while dbt writes it
    kinds={"duckdb"},
    description="Warning alerts (W01-W09) and operator alerts (OPS_*): evaluated after every "
    "build, their open/resolved lifecycle in data/alerts/alerts.duckdb (tables alerts, "
    "alert_events), news delivered to the outbox, webhook, e-mail and the WeCom / DingTalk / "
    "Feishu group robots.",
)
def alert_state(
    context: dg.AssetExecutionContext, paths: UnionPaths, as_of: AsOf, alert_sinks: AlertSinks
) -> dg.MaterializeResult:
    settings = paths.settings()
    rules = load_rules()
    report = run_alerts(
        settings,
        as_of=as_of.configured(),  # None: as of the build (which ran before midnight, maybe)
        run_id=context.run.run_id,
        sinks=alert_sinks.build(settings),
        rules=rules,
        job_name=context.job_name,
    )
    failed = {k: v for k, v in report.failed.items() if v}
    if failed:
        context.log.warning(f"alert deliveries failed (retried next run): {failed}")
    meta = report.metadata()
    return dg.MaterializeResult(
        metadata={
            "as_of": report.as_of.isoformat() if report.as_of else None,
            "mode": meta["mode"],
            "mode_reason": meta["mode_reason"],
            "data_through": meta["data_through"],
            "whatif_alerts": meta["whatif_alerts"],
            "rules_file": str(rules.path),
            "open_alerts": meta["open_alerts"],
            "opened": meta["opened"],
            "escalated": meta["escalated"],
            "reopened": meta["reopened"],
            "resolved": meta["resolved"],
            "deescalated": meta["deescalated"],
            "open_by_level": dg.MetadataValue.md(_md_table(meta["open_by_level"])),
            "events_by_level": dg.MetadataValue.json(
                {k: v for k, v in meta.items() if k.endswith("_by_level")}
            ),
            "open_by_kind": dg.MetadataValue.json(meta["open_by_kind"]),
            "delivered": dg.MetadataValue.json(meta["delivered"]),
            "delivery_failures": dg.MetadataValue.json(meta["delivery_failures"]),
            "deliveries_due": dg.MetadataValue.json(meta["deliveries_due"]),
            "timings_s": dg.MetadataValue.json(meta["timings_s"]),
        }
    )


def run_as_of(run_config: dict) -> date:
    """The as-of date a run was configured with (resource ``as_of``), else today."""
    value = (((run_config or {}).get("resources") or {}).get("as_of") or {}).get("config", {}) or {}
    text = value.get("as_of") if isinstance(value, dict) else None
    return date.fromisoformat(text) if text else date.today()


@dg.run_failure_sensor(
    name=SENSOR_NAME,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Opens an OPS_RUN_FAILED operator alert (delivered like any alert) when a run of "
    "this code location fails; the next successful run of the job resolves it.",
)
def alert_on_run_failure(
    context: dg.RunFailureSensorContext, paths: UnionPaths, alert_sinks: AlertSinks
) -> None:
    run = context.dagster_run
    settings = paths.settings()
    steps = sorted({e.step_key for e in context.get_step_failure_events() if e.step_key})
    report = record_run_failure(
        settings,
        job_name=run.job_name,
        run_id=run.run_id,
        failed_steps=steps,
        error=context.failure_event.message or "",
        as_of=run_as_of(run.run_config),
        sinks=alert_sinks.build(settings),
    )
    context.log.info(
        f"run {run.run_id} of {run.job_name} failed: OPS_RUN_FAILED alert recorded "
        f"({report.count('opened')} opened, {report.count('escalated')} escalated, "
        f"{sum(report.delivered.values())} deliveries)"
    )
