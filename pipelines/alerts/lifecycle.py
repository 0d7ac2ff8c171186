"""The alert lifecycle as a pure function: current alerts + this run's firings -> changes.

- a firing with no alert of its identity opens one (``opened``);
- a firing of an open alert updates it (last seen, message, evidence); a more severe
  level is an ``escalated`` event, a less severe one ``deescalated``; the same level
  records no event (an unchanged re-fire is not news);
- a firing of a resolved alert reopens it (``reopened``);
- an open alert within the run's scope that did not fire is ``resolved``, once.

Only opened, escalated, reopened and resolved events are delivered to the sinks (a sink
configured later gets each open alert's latest event, whatever its type: see
:meth:`AlertStore.add_due`).

An event's id is derived from what it is, not drawn at random: the alert, the event's
number within the alert's history, its type and its level (:func:`event_id_for`). The
same change of the same alert gets the same id whenever it is recorded, so should a
lost state be rebuilt and a change be recorded (and sent) again, a receiver that
de-duplicates on ``event_id`` drops it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from .levels import more_severe, severity
from .model import (
    DEESCALATED,
    ESCALATED,
    OPEN,
    OPENED,
    REOPENED,
    RESOLVED,
    RESOLVED_EVENT,
    Alert,
    AlertEvent,
    Firing,
    RunContext,
    evidence_json,
)


@dataclass(frozen=True)
class Change:
    alert: Alert  # the alert's new state
    event: AlertEvent | None  # None: state refreshed (last seen), nothing happened


def event_id_for(alert_id: str, number: int, event_type: str, level: str) -> str:
    """The id of the ``number``-th event (0 = the first) of ``alert_id``: 32 hex digits."""
    key = f"{alert_id}|{number}|{event_type}|{level}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _event(
    alert: Alert, event_type: str, previous_level: str | None, ctx: RunContext, number: int
) -> AlertEvent:
    return AlertEvent(
        event_id=event_id_for(alert.alert_id, number, event_type, alert.level),
        alert_id=alert.alert_id,
        event_type=event_type,
        level=alert.level,
        previous_level=previous_level,
        rule_code=alert.rule_code,
        rule_name=alert.rule_name,
        rule_kind=alert.rule_kind,
        area_code=alert.area_code,
        entity_key=alert.entity_key,
        alert_window=alert.alert_window,
        run_id=ctx.run_id,
        as_of=ctx.as_of,
        occurred_at=ctx.now,
        message=alert.message,
        evidence=alert.evidence,
    )


def strongest(firings: Sequence[Firing]) -> dict[str, Firing]:
    """One firing per alert identity (the most severe, should logic report one twice)."""
    out: dict[str, Firing] = {}
    for f in firings:
        kept = out.get(f.alert_id)
        if kept is None or more_severe(f.level, kept.level):
            out[f.alert_id] = f
    return out


def reconcile(
    existing: Mapping[str, Alert],
    firings: Sequence[Firing],
    in_scope: Callable[[Alert], bool],
    ctx: RunContext,
    event_counts: Mapping[str, int] | None = None,
) -> list[Change]:
    """The changes this run makes. ``existing``: every known alert by id; ``in_scope``:
    which open alerts this run evaluated (and may therefore resolve); ``event_counts``:
    how many events each alert has had so far (numbers this run's events)."""
    counts = event_counts or {}
    changes: list[Change] = []
    fired = strongest(firings)
    for alert_id, f in fired.items():
        current = existing.get(alert_id)
        seen = {
            "rule_name": f.rule_name,
            "level": f.level,
            "area_code": f.area_code,
            "message": f.message,
            "evidence": evidence_json(f.evidence),
            "last_seen": ctx.now,
            "last_seen_as_of": ctx.as_of,
            "last_run_id": ctx.run_id,
        }
        if current is None:
            alert = Alert(
                alert_id=alert_id,
                rule_code=f.rule_code,
                rule_kind=f.rule_kind,
                entity_key=f.entity_key,
                alert_window=f.window,
                status=OPEN,
                first_seen=ctx.now,
                first_seen_as_of=ctx.as_of,
                resolved_at=None,
                resolved_as_of=None,
                first_run_id=ctx.run_id,
                **seen,
            )
            changes.append(Change(alert, _event(alert, OPENED, None, ctx, counts.get(alert_id, 0))))
        elif current.status != OPEN:
            alert = replace(current, status=OPEN, resolved_at=None, resolved_as_of=None, **seen)
            changes.append(
                Change(alert, _event(alert, REOPENED, current.level, ctx, counts.get(alert_id, 0)))
            )
        else:
            alert = replace(current, **seen)
            if severity(f.level) == severity(current.level):
                changes.append(Change(alert, None))
            else:
                kind = ESCALATED if more_severe(f.level, current.level) else DEESCALATED
                changes.append(
                    Change(alert, _event(alert, kind, current.level, ctx, counts.get(alert_id, 0)))
                )
    for alert in existing.values():
        if alert.status == OPEN and alert.alert_id not in fired and in_scope(alert):
            done = replace(
                alert,
                status=RESOLVED,
                resolved_at=ctx.now,
                resolved_as_of=ctx.as_of,
                last_run_id=ctx.run_id,
            )
            event = _event(done, RESOLVED_EVENT, None, ctx, counts.get(alert.alert_id, 0))
            changes.append(Change(done, replace(event, message=f"【已解除】{alert.message}")))
    return changes
