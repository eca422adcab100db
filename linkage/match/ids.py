"""Permanent ids for persons and return events, handed out once and never reused.

Why a counter table and not max(id)+1: a merged person's id must stay taken even after
its rows are gone, and two runs must never hand out the same number.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkage.store.models import IdCounter

PREFIX = {"person": "SL", "event": "EV"}
WIDTH = {"person": 7, "event": 8}


def allocate(session: Session, kind: str, count: int) -> list[str]:
    """Reserve `count` new ids of a kind ('person' or 'event') inside the caller's transaction."""
    if count <= 0:
        return []
    row = session.execute(
        select(IdCounter).where(IdCounter.name == kind).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        row = IdCounter(name=kind, next_value=1)
        session.add(row)
        session.flush()
    start = row.next_value
    row.next_value = start + count
    session.flush()
    return [f"{PREFIX[kind]}{n:0{WIDTH[kind]}d}" for n in range(start, start + count)]


def id_number(identifier: str) -> int:
    """The number inside an id: smaller is older."""
    return int(identifier[2:])
