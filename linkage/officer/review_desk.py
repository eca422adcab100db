"""The review queue as a desk: decide a pair (through linkage.match.review) and undo it.

Why undo lives here: a reviewer working by keyboard mis-types, and the queue must let him
take the last decision back before the next link applies it. After a link has applied it,
undoing would leave persons split or joined on a decision nobody holds, so it is refused:
decide the pair again the other way instead.
"""

from __future__ import annotations

from sqlalchemy import func, select

from linkage.match.review import ReviewError, decide
from linkage.settings import Settings
from linkage.store.db import acting_as, audit, session_scope
from linkage.store.models import AuditLog, CandidatePair, MatchDecision


def decide_pair(settings: Settings, pair_id: int, decision: str, actor: str, note: str | None = None) -> dict:
    """Record a reviewer's verdict as `actor`; the next link applies it."""
    with acting_as(actor):
        d = decide(settings, pair_id, decision, (note or "").strip() or None)
    return {"pair": pair_id, "decision": d.decision, "by": d.decided_by}


def undo_pair(settings: Settings, pair_id: int, actor: str) -> dict:
    """Take back the decision on a pair that no link has applied yet; the pair waits again."""
    with acting_as(actor), session_scope(settings) as s:
        pair = s.get(CandidatePair, pair_id)
        if pair is None:
            raise ReviewError(f"no candidate pair {pair_id}")
        a, b = sorted((pair.record_a, pair.record_b))
        row = s.execute(
            select(MatchDecision).where(MatchDecision.record_a == a, MatchDecision.record_b == b)
        ).scalar_one_or_none()
        if row is None:
            raise ReviewError(f"pair {pair_id} has no decision to undo")
        last_link = s.scalar(select(func.max(AuditLog.at)).where(AuditLog.action == "link"))
        if last_link is not None and row.decided_at <= last_link:
            raise ReviewError(f"pair {pair_id} was applied by a link already; decide it again instead")
        s.delete(row)
        for p in s.scalars(
            select(CandidatePair).where(CandidatePair.record_a == a, CandidatePair.record_b == b)
        ):
            p.status = "open"
        from linkage.referral.changes import queue_records

        queue_records(s, (a, b))
        audit(s, "review.undo", f"{a}:{b}")
    return {"pair": pair_id, "decision": None}
