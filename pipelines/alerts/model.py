"""The values that flow through an alert run: findings, alerts, events.

A *finding* is what a rule's logic reports for one entity (a case, an employer, a
street, ...): the numbers (metrics) the level thresholds are compared with, the evidence
and the body of the message. With a level it becomes a *firing*; a firing updates or
opens the *alert* of its identity (rule + entity + window), and every change of an
alert's state is an *event*.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pipelines.contract import STREETS
from pipelines.contract.streets import DISTRICT_CODE, DISTRICT_NAME

_STREET_NAMES = {s.code: s.name for s in STREETS}

OPEN = "open"
RESOLVED = "resolved"

# Event types; the first four are delivered to the sinks.
OPENED, ESCALATED, REOPENED, RESOLVED_EVENT, DEESCALATED = (
    "opened",
    "escalated",
    "reopened",
    "resolved",
    "deescalated",
)
DELIVERED_EVENTS = frozenset({OPENED, ESCALATED, REOPENED, RESOLVED_EVENT})


def area_name(area_code: str) -> str:
    if area_code == DISTRICT_CODE:
        return DISTRICT_NAME
    return _STREET_NAMES.get(area_code, area_code)


def area_of(street_code: str | None) -> str:
    """A known street's code, else the district's (an alert's area is never unknown)."""
    return street_code if street_code in _STREET_NAMES else DISTRICT_CODE


def alert_id_for(rule_code: str, entity_key: str, window: str) -> str:
    digest = hashlib.sha256(f"{rule_code}|{entity_key}|{window}".encode()).hexdigest()
    return f"{rule_code}-{digest[:16]}"


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def evidence_json(evidence: Mapping[str, Any]) -> str:
    return json.dumps(evidence, ensure_ascii=False, sort_keys=True, default=_json_default)


@dataclass(frozen=True)
class Finding:
    """One entity a rule's logic reports; whether it fires is up to the level thresholds."""

    rule_code: str
    area_code: str  # 9-digit street code, or 110101 for the district
    entity_key: str  # e.g. case:110101003:TJ003-2015-0042
    metrics: Mapping[str, float]
    evidence: Mapping[str, Any]  # numbers and record ids, never personal data
    message: str  # the one-line Chinese body (the rule name and level are prefixed)
    window: str = ""  # part of the identity when the signal belongs to a period


@dataclass(frozen=True)
class Firing:
    """A finding at a level, with the final message."""

    rule_code: str
    rule_name: str
    rule_kind: str
    level: str
    area_code: str
    entity_key: str
    window: str
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def alert_id(self) -> str:
        return alert_id_for(self.rule_code, self.entity_key, self.window)


@dataclass(frozen=True)
class Alert:
    """One alert identity and its current state (a row of ``alerts``)."""

    alert_id: str
    rule_code: str
    rule_name: str
    rule_kind: str
    level: str
    area_code: str
    entity_key: str
    alert_window: str
    status: str
    first_seen: datetime
    last_seen: datetime
    first_seen_as_of: date
    last_seen_as_of: date
    resolved_at: datetime | None
    resolved_as_of: date | None
    message: str
    evidence: str  # JSON text
    first_run_id: str
    last_run_id: str


@dataclass(frozen=True)
class AlertEvent:
    """One change of an alert's state (a row of ``alert_events``)."""

    event_id: str
    alert_id: str
    event_type: str
    level: str
    previous_level: str | None
    rule_code: str
    rule_name: str
    rule_kind: str
    area_code: str
    entity_key: str
    alert_window: str
    run_id: str
    as_of: date
    occurred_at: datetime
    message: str
    evidence: str  # JSON text

    def payload(self, alert: Alert | None = None) -> dict[str, Any]:
        """What the sinks send: the event, its alert's identity and the evidence."""
        out: dict[str, Any] = {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "alert_id": self.alert_id,
            "rule_code": self.rule_code,
            "rule_name": self.rule_name,
            "rule_kind": self.rule_kind,
            "level": self.level,
            "previous_level": self.previous_level,
            "area_code": self.area_code,
            "area_name": area_name(self.area_code),
            "entity_key": self.entity_key,
            "window": self.alert_window,
            "as_of": self.as_of.isoformat(),
            "run_id": self.run_id,
            "occurred_at": self.occurred_at.isoformat(timespec="seconds") + "Z",
            "message": self.message,
            "evidence": json.loads(self.evidence),
        }
        if alert is not None:
            out["first_seen"] = alert.first_seen.isoformat(timespec="seconds") + "Z"
            out["status"] = alert.status
        return out


@dataclass(frozen=True)
class RunContext:
    """Who evaluates, as of when: stamped on every alert change and event."""

    run_id: str
    as_of: date
    now: datetime  # UTC, naive
