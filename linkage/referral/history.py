"""The flag table: what each computation found, kept as a history.

Why a history beside a pure computation: officers and auditors ask "when did we first see
that this man was never referred, and when and why did that end". A flag row is opened
when a return first shows up unreferred past the grace period and closed, with the
reason, when that stops (a referral arrived, or the return was merged into another).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select

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
    """Open flags for newly unreferred returns and close those that are resolved.

    Why columns and one insert: a first run at a million records opens a quarter of a
    million flags; a label lookup in the status frame and an ORM object per flag cost more
    than computing every status.
    """
    with session_scope(settings) as s:
        status = event_status(s, settings, as_of)
        ids = status["event_id"].tolist()
        position = dict(zip(ids, range(len(ids)), strict=True))
        reasons = status["reason"].astype(str).tolist()
        flagged_now = status["flagged"].tolist()
        now_flagged = {e for e, f in zip(ids, flagged_now, strict=True) if f}
        open_flags = {f.event_id: f for f in s.scalars(select(Flag).where(Flag.status == "open"))}
        closed = 0
        for event_id, flag in open_flags.items():
            if event_id in now_flagged:
                flag.reason = reasons[position[event_id]]
                flag.updated_at = utcnow()
                continue
            row = status.iloc[position[event_id]] if event_id in position else None
            flag.status = "closed"
            flag.closed_on = as_of
            flag.close_reason = close_reason(row)
            flag.updated_at = utcnow()
            closed += 1
        new = sorted(now_flagged - set(open_flags))
        persons, returns = status["person_id"].tolist(), status["return_date"].tolist()
        now = utcnow()
        rows = [
            {
                "event_id": event_id,
                "person_id": str(persons[i]),
                "status": "open",
                "opened_on": as_of,
                "reason": reasons[i],
                "return_date": returns[i].date(),
                "updated_at": now,
            }
            for event_id in new
            for i in (position[event_id],)
        ]
        if rows:
            s.execute(insert(Flag.__table__), rows)
        counts = summary_counts(status)
        audit(s, "flag", as_of.isoformat(), opened=len(rows), closed=closed, **counts)
    return FlagRun(as_of=as_of, opened=len(rows), closed=closed, open=len(now_flagged), counts=counts)
