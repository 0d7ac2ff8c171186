"""What an alert evaluation at an as-of date is for: live, backfill or what-if.

``union-warehouse run --as-of DATE`` evaluates the warning rules as of DATE. Only some
of those evaluations are news for the people alerts go to:

- **live** — DATE is the latest date evaluated so far (or later) and the warehouse has
  data up to within :data:`DEFAULT_DATA_GRACE_DAYS` days of it. The alerts' lifecycle
  (opened / escalated / resolved) is recorded and the news delivered.
- **backfill** — DATE is before the latest live as-of date: a past date evaluated again
  (indicators re-published for an earlier period, a rule tried on history). What fires
  is written to ``alert_whatif``; the live alerts are not touched and nobody is told.
- **what-if** — DATE is beyond the data: the warehouse's latest record on or before DATE
  (a case received, a ticket, a contract signed, a registry snapshot) is more than the
  grace period before it, or there is none. A contract "expired unrenewed" or a case
  "in mediation 185 days" would then hold only because the later records have not
  arrived; so, as for a backfill, the firings go to ``alert_whatif`` and the live alerts
  stay as they were.

The operator alerts (OPS_*) are about the pipeline itself, not about a date: they stay
live in every mode. Going back to the live date after a backfill or a what-if gives the
same alerts as if the detour had never happened, since the detour changed nothing live.

The grace period is the longest quiet spell a live deployment expects between records:
a monthly report plus the two weeks streets take to send it (45 days by default;
``UNION_ALERT_DATA_GRACE_DAYS`` sets it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta

LIVE, BACKFILL, WHAT_IF = "live", "backfill", "what-if"
MODES = (LIVE, BACKFILL, WHAT_IF)
DEFAULT_DATA_GRACE_DAYS = 45
GRACE_ENV = "UNION_ALERT_DATA_GRACE_DAYS"

# How far the data the warning rules read reaches, as of the build's as-of date: the dbt
# model dbt_project/models/warnings/warning_data_through.sql.
DATA_THROUGH_SQL = "select data_through from warnings.warning_data_through"


def data_grace_days(environ: dict[str, str] | None = None) -> int:
    """The grace period in days, from ``UNION_ALERT_DATA_GRACE_DAYS`` (a whole number
    of days, 0 or more) or the default. Anything else is an error naming the variable."""
    env = os.environ if environ is None else environ
    text = env.get(GRACE_ENV, "").strip()
    if not text:
        return DEFAULT_DATA_GRACE_DAYS
    try:
        days = int(text)
    except ValueError:
        days = -1
    if days < 0:
        raise ValueError(f"{GRACE_ENV}={text!r}: expected a whole number of days, 0 or more")
    return days


@dataclass(frozen=True)
class Mode:
    """The mode of one evaluation and why, in words for a log line or a terminal."""

    mode: str
    as_of: date
    live_as_of: date | None  # the latest as-of date evaluated live before this one
    data_through: date | None  # the warehouse's latest record on or before ``as_of``
    reason: str

    @property
    def live(self) -> bool:
        return self.mode == LIVE


def run_mode(
    as_of: date, live_as_of: date | None, data_through: date | None, grace_days: int
) -> Mode:
    """Live, backfill or what-if (see the module's docstring); pure."""

    def mode(kind: str, reason: str) -> Mode:
        return Mode(kind, as_of, live_as_of, data_through, reason)

    if data_through is None:
        return mode(WHAT_IF, "beyond the data: the warehouse has no record on or before it")
    if as_of > data_through + timedelta(days=grace_days):
        return mode(
            WHAT_IF,
            f"beyond the data: its latest record on or before it is of {data_through}, "
            f"more than {grace_days} days earlier",
        )
    if live_as_of is not None and as_of < live_as_of:
        return mode(BACKFILL, f"a past date: the live alerts are evaluated as of {live_as_of}")
    return mode(LIVE, f"the data runs through {data_through}")
