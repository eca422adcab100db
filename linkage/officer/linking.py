"""Whether the link step has anything to do: records not yet linked, or decisions not yet applied."""

from __future__ import annotations

from sqlalchemy import func, select

from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import AuditLog, MatchDecision, PersonRecord, Record


def link_work(settings: Settings) -> dict[str, int]:
    """Counts of what the next link would take up; all zero means linking would change nothing.

    Why: an ingest run that loaded nothing (a rejected file, a duplicate) still wakes the link
    DAG; it should then say so and stop, not run the whole model for nothing. A reviewer's
    decision made since the last link counts as work, so that the next link applies it.
    """
    with session_scope(settings) as s:
        unlinked = s.scalar(
            select(func.count())
            .select_from(Record)
            .outerjoin(PersonRecord, PersonRecord.record_id == Record.id)
            .where(PersonRecord.record_id.is_(None))
        )
        last_link = s.scalar(select(func.max(AuditLog.at)).where(AuditLog.action == "link"))
        decided = select(func.count()).select_from(MatchDecision)
        if last_link is not None:
            decided = decided.where(MatchDecision.decided_at > last_link)
        return {"records_unlinked": int(unlinked or 0), "decisions_unapplied": int(s.scalar(decided) or 0)}
