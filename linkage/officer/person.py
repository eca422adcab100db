"""A person's page (explain_person plus his flags, so the page says why he is flagged), and
the rest of a person beside a review pair."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from linkage.match.review import explain_person, record_refs, resolve_person
from linkage.settings import Settings
from linkage.store.db import audit, session_scope
from linkage.store.models import Flag, PersonRecord, ReturnEvent


def person_page(settings: Settings, person_id: str, show_values: bool = False) -> dict[str, Any]:
    """Records, return events, aliases, pairs with their weights, decisions, and flags with why."""
    info = explain_person(settings, person_id, show_values)
    with session_scope(settings) as s:
        flags = s.scalars(
            select(Flag).where(Flag.person_id == info["person_id"]).order_by(Flag.opened_on.desc())
        )
        info["flags"] = [
            {
                "event_id": f.event_id,
                "status": f.status,
                "opened_on": f.opened_on,
                "closed_on": f.closed_on,
                "reason": f.reason,
                "close_reason": f.close_reason,
            }
            for f in flags
        ]
    return info


def person_context(
    settings: Settings, person_id: str, except_record: int | None = None, show_values: bool = False
) -> dict[str, Any]:
    """The rest of a person as the review page shows it beside a pair: his other records, his
    return events and his flags. Values only when asked, and then the asking is audited.

    Why not person_page: that scores every pair of his records again, which a reviewer
    moving through the queue by keyboard should not wait for; this is three lookups.
    """
    with session_scope(settings) as s:
        current = resolve_person(s, person_id)
        ids = list(s.scalars(select(PersonRecord.record_id).where(PersonRecord.person_id == current)))
        others = sorted(int(i) for i in ids if i != except_record)
        refs = record_refs(s, others, show_values)
        events = s.scalars(
            select(ReturnEvent)
            .where(ReturnEvent.person_id == current, ReturnEvent.status == "active")
            .order_by(ReturnEvent.return_date, ReturnEvent.event_id)
        )
        flags = s.scalars(select(Flag).where(Flag.person_id == current).order_by(Flag.opened_on.desc()))
        if show_values and others:
            audit(s, "person.values_shown", current, records=len(others))
        return {
            "person_id": current,
            "records": [refs[i] for i in others if i in refs],
            "events": [
                {"event_id": e.event_id, "return_date": e.return_date, "country": e.country}
                for e in events
            ],
            "flags": [
                {"event_id": f.event_id, "status": f.status, "opened_on": f.opened_on, "reason": f.reason}
                for f in flags
            ],
        }
