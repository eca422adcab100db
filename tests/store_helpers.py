"""What the bad-input tests ask of a scratch store: ingest bytes (and check nothing was
lost or failed inside), the records loaded, the rows quarantined."""

from __future__ import annotations

from sqlalchemy import select

from linkage.ingest.load import DeliveryResult, Ingestor
from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import Quarantine, Record


def ingest(settings: Settings, data: bytes, name: str, source: str) -> DeliveryResult:
    """One delivery; never an internal error, and every row read is loaded or quarantined."""
    r = Ingestor(settings).ingest_bytes(data, name, source)
    assert "internal error" not in (r.reason or "")
    if r.status == "ingested":
        assert r.rows_loaded + r.rows_quarantined == r.rows_read
    return r


def records(settings: Settings) -> list[Record]:
    with session_scope(settings) as s:
        rows = list(s.scalars(select(Record).order_by(Record.line)))
        s.expunge_all()
        return rows


def quarantined(settings: Settings) -> dict[int, str]:
    """Quarantined rows: line -> rule."""
    with session_scope(settings) as s:
        return {q.line: q.rule for q in s.scalars(select(Quarantine))}


def quarantine(settings: Settings) -> dict[int, tuple[str, str]]:
    """Quarantined rows: line -> (rule, reason)."""
    with session_scope(settings) as s:
        return {q.line: (q.rule, q.reason) for q in s.scalars(select(Quarantine))}


def outcome(r: DeliveryResult) -> str:
    """What became of a delivery, in the corpus's words: refused file, quarantined rows, ingested."""
    if r.status == "rejected":
        return "refused file"
    return "quarantined rows" if r.rows_quarantined else "ingested"


def shown(settings: Settings, r: DeliveryResult) -> str:
    """Everything an officer is shown of a delivery: its notes, its reason, its rows' reasons."""
    return "\n".join([*r.notes, r.reason or "", *(reason for _, reason in quarantine(settings).values())])
