"""What the bad-input tests ask of a scratch store: ingest bytes (and check nothing was
lost or failed inside), the records loaded, the rows quarantined."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from linkage.ingest.load import DeliveryResult, Ingestor
from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import Quarantine, Record

if TYPE_CHECKING:
    from benchmarks.bad_input.corpus import Case


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


def meets_its_outcome(settings: Settings, case: Case) -> DeliveryResult:
    """A corpus case ingested and held to what the corpus says of it: its outcome and rows
    loaded; every man kept (a refused file keeps them all: it loads nothing and is replayed
    whole), a row that is no man quarantined or set aside with a note, never loaded; and no
    personal value of it in what an officer is shown."""
    r = ingest(settings, case.data, case.file_name, case.source)
    assert outcome(r) == case.expect, r.reason
    assert r.rows_loaded == case.expect_loaded
    if r.status != "rejected":
        assert case.persons <= r.rows_loaded + r.rows_quarantined <= case.persons + case.extra
    said = shown(settings, r)
    assert not [v for v in case.values if len(v) >= 5 and v in said]  # no personal value shown
    return r
