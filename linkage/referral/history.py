"""The flag table: what each computation found, kept as a history.

Why a history beside a pure computation: officers and auditors ask "when did we first see
that this man was never referred, and when and why did that end". A flag row is opened
when a return first shows up unreferred past the grace period and closed, with the
reason, when that stops (a referral arrived, or the return was merged into another).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from linkage.referral.flags import close_reason, event_status, summary_counts
from linkage.settings import Settings
from linkage.store.db import audit, session_scope
from linkage.store.models import Flag, utcnow


@dataclass
class FlagRun:
    """Counts of one flag update (no personal data: goes to logs and XCom)."""

    as_of: dt.date
    opened: int
    closed: int
    open: int
    counts: dict[str, int]


def update_flags(settings: Settings, as_of: dt.date) -> FlagRun:
    """Open flags for newly unreferred returns and close those that are resolved."""
    with session_scope(settings) as s:
        status = event_status(s, settings, as_of)
        by_event = status.set_index("event_id")
        now_flagged = set(status.loc[status["flagged"], "event_id"])
        open_flags = {f.event_id: f for f in s.scalars(select(Flag).where(Flag.status == "open"))}
        closed = 0
        for event_id, flag in open_flags.items():
            if event_id in now_flagged:
                flag.reason = str(by_event.at[event_id, "reason"])
                flag.updated_at = utcnow()
                continue
            row = by_event.loc[event_id] if event_id in by_event.index else None
            flag.status = "closed"
            flag.closed_on = as_of
            flag.close_reason = close_reason(row)
            flag.updated_at = utcnow()
            closed += 1
        opened = 0
        for event_id in sorted(now_flagged - set(open_flags)):
            row = by_event.loc[event_id]
            s.add(
                Flag(
                    event_id=event_id,
                    person_id=str(row["person_id"]),
                    status="open",
                    opened_on=as_of,
                    reason=str(row["reason"]),
                    return_date=row["return_date"].date(),
                )
            )
            opened += 1
        counts = summary_counts(status)
        audit(s, "flag", as_of.isoformat(), opened=opened, closed=closed, **counts)
    return FlagRun(as_of=as_of, opened=opened, closed=closed, open=len(now_flagged), counts=counts)
