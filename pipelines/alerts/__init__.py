"""Labour-relations warning alerts (W01-W09) and operator alerts (OPS_*).

- rules: ``warning_rules.yaml`` (or ``$UNION_WARNING_RULES``), checked at load
  (:func:`load_rules`); the logic of each rule code in :mod:`pipelines.alerts.rules`;
- lifecycle: :func:`reconcile` (open / escalate / resolve, pure);
- state: :class:`AlertStore` over ``Settings.alerts_state_path``;
- delivery: :mod:`pipelines.alerts.sinks` (outbox, webhook, e-mail, WeCom / DingTalk /
  Feishu robots; their readable text in :mod:`pipelines.alerts.messages`), configured by
  :func:`sinks_from_env`;
- one run: :func:`run_alerts`; a failed run: :func:`record_run_failure`;
- for a terminal: :func:`open_alert_lines`.

See ``docs/alerts.md``.
"""

from __future__ import annotations

from pipelines.alert_state import state_lock

from .config import SinkSettings, sinks_from_env
from .levels import LEVELS
from .lifecycle import Change, reconcile
from .model import Alert, AlertEvent, Finding, Firing, RunContext
from .report import open_alert_lines, open_alerts
from .rulefile import RuleFileError, RuleSet, load_rules, rules_path
from .service import AlertRunReport, record_run_failure, run_alerts
from .store import AlertStore

__all__ = [
    "LEVELS",
    "Alert",
    "AlertEvent",
    "AlertRunReport",
    "AlertStore",
    "Change",
    "Finding",
    "Firing",
    "RuleFileError",
    "RuleSet",
    "RunContext",
    "SinkSettings",
    "load_rules",
    "open_alert_lines",
    "open_alerts",
    "reconcile",
    "record_run_failure",
    "rules_path",
    "run_alerts",
    "sinks_from_env",
    "state_lock",
]
