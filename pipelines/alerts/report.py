"""The open alerts as lines for a terminal (``union-warehouse run`` / ``demo``)."""

from __future__ import annotations

from collections import Counter

from pipelines.config import Settings

from .levels import LEVELS, severity
from .model import OPEN, Alert
from .modes import LIVE
from .store import AlertStore


def open_alerts(settings: Settings) -> list[Alert]:
    """Every open alert, most severe first (warnings before operator alerts at a level)."""
    path = settings.alerts_state_path
    if not path.exists():
        return []
    # opened like a writer does: a damaged file is healed, not a traceback at the end of a run
    with AlertStore.open(path, settings.published_path) as store:
        alerts = list(store.alerts(OPEN).values())
    return sorted(
        alerts,
        key=lambda a: (
            -severity(a.level),
            a.rule_kind != "labour",
            a.rule_code,
            a.area_code,
            a.entity_key,
        ),
    )


def evaluation_line(settings: Settings, run_id: str) -> str | None:
    """What the run ``run_id``'s evaluation of the warning rules was (live, backfill or
    what-if) and what it did with what fired; None if it evaluated none."""
    path = settings.alerts_state_path
    if not path.exists():
        return None
    with AlertStore.open(path, settings.published_path) as store:
        rows = store.con.execute(
            "select as_of, mode, reason, labour_firings from alert_runs where run_id = ? "
            "order by evaluated_at desc limit 1",
            [run_id],
        ).fetchall()
    if not rows:
        return None
    as_of, mode, reason, fired = rows[0]
    if mode == LIVE:
        return f"Warning rules as of {as_of}: live ({reason})."
    return (
        f"Warning rules as of {as_of}: {mode} ({reason}). {fired} firing(s) written to "
        "alerts.alert_whatif; the live warnings are unchanged and nobody was notified."
    )


def open_alert_lines(settings: Settings, limit: int = 50) -> list[str]:
    """A heading with the counts, then one line per open alert (its Chinese message)."""
    alerts = open_alerts(settings)
    if not alerts:
        return ["Open alerts: none"]
    labour = Counter(a.level for a in alerts if a.rule_kind == "labour")
    ops = sum(a.rule_kind != "labour" for a in alerts)
    by_level = ", ".join(f"{lv} {labour[lv]}" for lv in LEVELS if labour[lv]) or "none"
    lines = [
        f"Open alerts: {sum(labour.values())} warning(s) ({by_level}), {ops} operator alert(s)"
    ]
    lines += [f"  {a.message}" for a in alerts[:limit]]
    if len(alerts) > limit:
        lines.append(
            f"  ... and {len(alerts) - limit} more (table alerts in {settings.alerts_state_path})"
        )
    return lines
