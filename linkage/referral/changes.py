"""Which persons a flag run must recompute, and the queue that tells it.

Why: a person's flags depend on his own records and returns, the as-of date, and the open
review pairs between his records and another man's referral (flags._awaiting_review). So
after a link only the persons it touched can change, plus those whose returns or referrals
the as-of date moved across (a return past its grace period, a referral now dated on or
before it), plus their partners in open review pairs. Writers queue the persons they change
(`queue_persons`, `queue_records`); a first link or a rebuild forgets the last run's state
instead, so the next run recomputes everyone (as it does when the rules or settings differ).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import String, delete, or_, select
from sqlalchemy.orm import Session

from linkage.match.events import REGISTERED_LATE_DAYS, SLACK_DAYS
from linkage.referral.rules import ReferralRules
from linkage.settings import Settings
from linkage.store.bulk import insert_columns, one_of
from linkage.store.models import (
    CandidatePair,
    FlagPending,
    FlagState,
    PersonRecord,
    Record,
    ReturnEvent,
)

_HERE = Path(__file__).resolve().parent
# The code a flag depends on: a change to any of these is a change of the rules.
_CODE = (_HERE / "flags.py", _HERE / "rules.py", _HERE / "history.py", _HERE / "changes.py")


def rules_digest(settings: Settings) -> str:
    """A digest of everything a flag is computed by but the store: rules, settings, code."""
    rules = ReferralRules.from_settings(settings)
    parts = [repr(rules), settings.grace_days, settings.intake_follows_days, SLACK_DAYS, REGISTERED_LATE_DAYS]
    h = hashlib.sha256(json.dumps([str(p) for p in parts]).encode())
    for path in _CODE:
        h.update(path.read_bytes())
    return h.hexdigest()


def texts_in(column: Any, values: Iterable[str], dialect: str) -> Any:
    """`column` is one of `values`, as one statement with one bound value (bulk.one_of)."""
    return one_of(column, sorted(set(values)), dialect, String())


def queue_persons(s: Session, persons: Iterable[str]) -> None:
    """These persons' flags may have changed: the next flag run recomputes them."""
    listed = sorted({p for p in persons if p})
    if listed:
        s.flush()
        insert_columns(s, FlagPending.__table__, {"person_id": listed})


def queue_records(s: Session, record_ids: Iterable[int]) -> None:
    """The persons of these records (those linked) may have changed flags."""
    ids = sorted({int(r) for r in record_ids})
    if not ids:
        return
    from linkage.match.stored import ids_in

    dialect = s.connection().dialect.name
    stmt = select(PersonRecord.person_id).where(ids_in(PersonRecord.record_id, ids, dialect))
    queue_persons(s, s.execute(stmt).scalars())


def forget_state(s: Session) -> None:
    """The next flag run recomputes every person (a first link, a rebuild)."""
    s.execute(delete(FlagState))


@dataclass
class FlagPlan:
    """What a flag run recomputes: everyone (full), or `persons`, reading `loaded`."""

    full: bool
    pending: list[int]  # flag_pending rows read: deleted once the run is written
    persons: set[str]
    loaded: set[str]  # persons, and their partners in open review pairs


def plan(s: Session, settings: Settings, as_of: dt.date, everything: bool = False) -> FlagPlan:
    """Everyone on a first run, when asked, or when the rules changed; else who changed."""
    rows = s.execute(select(FlagPending.id, FlagPending.person_id)).all()
    pending = [int(r[0]) for r in rows]
    state = s.get(FlagState, 1)
    if everything or state is None or state.rules != rules_digest(settings):
        return FlagPlan(True, pending, set(), set())
    changed = {r[1] for r in rows}
    if state.as_of != as_of:
        changed |= moved_by_date(s, state.as_of, as_of, settings.grace_days)
    pairs = open_review_persons(s)
    persons = changed | partners(pairs, changed)
    return FlagPlan(False, pending, persons, persons | partners(pairs, persons))


def moved_by_date(s: Session, before: dt.date, now: dt.date, grace_days: int) -> set[str]:
    """Persons with a return or a referral that moving the as-of date from `before` to `now`
    may change: a return on or before one date and not the other, one past the grace period
    on one and not the other, a referral or intake dated on or before one and not the other.
    Each window is widened by a day either side (a superset costs a little, a miss a flag)."""
    lo, hi = min(before, now), max(before, now)
    day, grace = dt.timedelta(days=1), dt.timedelta(days=grace_days)
    windows = [(lo - day, hi + day), (lo - grace - day, hi - grace + day)]

    def within(column: Any) -> Any:
        return or_(*(column.between(a, b) for a, b in windows))

    events = select(ReturnEvent.person_id).where(
        ReturnEvent.status == "active", within(ReturnEvent.return_date)
    )
    # an NGO-only return is dated by its first intake: that intake's windows are the return's
    records = (
        select(PersonRecord.person_id)
        .join(Record, Record.id == PersonRecord.record_id)
        .where(or_(within(Record.intake_date), within(Record.referral_date)))
    )
    return set(s.execute(events).scalars()) | set(s.execute(records).scalars())


def open_review_persons(s: Session) -> list[tuple[str, str]]:
    """The two persons of each open review pair between two men."""
    a, b = PersonRecord.__table__.alias("a"), PersonRecord.__table__.alias("b")
    stmt = (
        select(a.c.person_id, b.c.person_id)
        .select_from(CandidatePair)
        .join(a, a.c.record_id == CandidatePair.record_a)
        .join(b, b.c.record_id == CandidatePair.record_b)
        .where(CandidatePair.band == "review", CandidatePair.status == "open", a.c.person_id != b.c.person_id)
    )
    return [(pa, pb) for pa, pb in s.execute(stmt).all()]


def partners(pairs: list[tuple[str, str]], persons: set[str]) -> set[str]:
    """The other men of these persons' open review pairs."""
    out = {pb for pa, pb in pairs if pa in persons}
    return out | {pa for pa, pb in pairs if pb in persons}


def events_of(s: Session, persons: set[str]) -> set[str]:
    """Every return event these persons hold or held last (retired ones too)."""
    if not persons:
        return set()
    dialect = s.connection().dialect.name
    stmt = select(ReturnEvent.event_id).where(texts_in(ReturnEvent.person_id, persons, dialect))
    return set(s.execute(stmt).scalars())
