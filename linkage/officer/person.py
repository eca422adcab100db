"""A person's page: explain_person plus his flags, so the page says why he is flagged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from linkage.match.review import explain_person
from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import Flag


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
