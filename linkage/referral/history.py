"""The flag table: what each computation found, kept as a history.

Why a history beside a pure computation: officers and auditors ask "when did we first see
that this man was never referred, and when and why did that end". A flag row is opened
when a return first shows up unreferred past the grace period and closed, with the
reason, when that stops (a referral arrived, or the return was merged into another).

Why only some persons each run: a person's flags change only when his records, returns or
review pairs do, or when the as-of date moves across one of his dates (changes.py); the
others' rows would come out as they are. A first run, a run with other rules or settings,
and `survivor-link flag --all` recompute everyone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import case, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from linkage.referral import changes
from linkage.referral.flags import close_reason, event_status, load_event_records, summary_counts
from linkage.settings import Settings
from linkage.store.bulk import insert_columns
from linkage.store.db import audit, session_scope
from linkage.store.locks import one_at_a_time
from linkage.store.models import Flag, FlagPending, FlagState, FlagStatus, utcnow


@dataclass
class FlagRun:
    """Counts of one flag update (no personal data: goes to logs and XCom)."""

    as_of: dt.date
    opened: int
    closed: int
    open: int
    counts: dict[str, int]
    persons: int = -1  # persons recomputed (-1: every one)


@one_at_a_time("flags", "flagging")  # two runs at once would both open a new return's flag
def update_flags(
    settings: Settings, as_of: dt.date, everything: bool = False, progress: object = None
) -> FlagRun:
    """Open flags for newly unreferred returns and close those that are resolved.

    Why columns and one insert: a first run at a million records opens a quarter of a
    million flags; a label lookup in the status frame and an ORM object per flag cost more
    than computing every status.
    """
    with session_scope(settings) as s:
        p = changes.plan(s, settings, as_of, everything)
        if p.full:
            status = event_status(s, settings, as_of)
            open_flags = {f.event_id: f for f in s.scalars(select(Flag).where(Flag.status == "open"))}
        else:
            records = load_event_records(s, p.loaded)
            status = event_status(s, settings, as_of, records)
            status = status[status["person_id"].isin(p.persons)].reset_index(drop=True)
            open_flags = _open_flags_of(s, p.persons)
        opened, closed = _apply(s, status, open_flags, as_of)
        _keep_status(s, status, None if p.full else p.persons)
        counts = summary_counts(status) if p.full else _summed_counts(s)
        _done(s, settings, as_of, p.pending)
        persons = -1 if p.full else len(p.persons)
        audit(s, "flag", as_of.isoformat(), opened=opened, closed=closed, persons=persons, **counts)
    return FlagRun(as_of, opened, closed, counts["flagged"], counts, persons)


def _open_flags_of(s: Session, persons: set[str]) -> dict[str, Flag]:
    """Open flags these persons may hold: by the flag's person, or by the return's (a return
    that moved to a survivor of a merge keeps its flag's first person)."""
    if not persons:
        return {}
    dialect = s.connection().dialect.name
    events = changes.events_of(s, persons)
    where = [changes.texts_in(Flag.person_id, persons, dialect)]
    if events:
        where.append(changes.texts_in(Flag.event_id, events, dialect))
    stmt = select(Flag).where(Flag.status == "open", or_(*where))
    return {f.event_id: f for f in s.scalars(stmt)}


def _apply(s: Session, status: pd.DataFrame, open_flags: dict[str, Flag], as_of: dt.date) -> tuple[int, int]:
    """Close the open flags no longer flagged, open those newly flagged; (opened, closed)."""
    ids = status["event_id"].tolist()
    position = dict(zip(ids, range(len(ids)), strict=True))
    reasons = status["reason"].astype(str).tolist()
    now_flagged = {e for e, f in zip(ids, status["flagged"].tolist(), strict=True) if f}
    closed = 0
    for event_id, flag in open_flags.items():
        flag.updated_at = utcnow()
        if event_id in now_flagged:
            flag.reason = reasons[position[event_id]]
            continue
        row = status.iloc[position[event_id]] if event_id in position else None
        flag.status, flag.closed_on, flag.close_reason = "closed", as_of, close_reason(row)
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
    return len(rows), closed


_STATUS = ("return_known", "referred", "flagged", "partial", "status_unknown")


def _keep_status(s: Session, status: pd.DataFrame, persons: set[str] | None) -> None:
    """Each return's counted status, for every return (persons None) or these persons'."""
    s.flush()
    if persons is None:
        s.execute(delete(FlagStatus))
    elif persons:
        dialect = s.connection().dialect.name
        s.execute(delete(FlagStatus).where(changes.texts_in(FlagStatus.person_id, persons, dialect)))
        ids = set(status["event_id"].tolist()) | changes.events_of(s, persons)
        if ids:
            s.execute(delete(FlagStatus).where(changes.texts_in(FlagStatus.event_id, ids, dialect)))
    if status.empty:
        return
    values = {c: status[c].astype(bool).tolist() for c in _STATUS}
    values["dated"] = status["return_date"].notna().tolist()
    values["event_id"] = status["event_id"].astype(str).tolist()
    values["person_id"] = status["person_id"].astype(str).tolist()
    insert_columns(s, FlagStatus.__table__, values)


def _summed_counts(s: Session) -> dict[str, int]:
    """summary_counts over every return's kept status (flag_status)."""
    t = FlagStatus
    flagged = t.flagged.is_(True)

    def n(cond: object) -> object:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    row = s.execute(
        select(
            func.count(),
            n(t.referred.is_(True)),
            n(t.referred.is_(False) & t.flagged.is_(False) & t.dated.is_(True)),
            n(t.return_known.is_(False)),
            n(flagged),
            n(flagged & t.partial.is_(True)),
            n(flagged & t.status_unknown.is_(True)),
            func.count(func.distinct(case((flagged, t.person_id)))),
        )
    ).one()
    names = ("returns", "returns_referred", "returns_within_grace", "returns_without_date", "flagged")
    names += ("flagged_partial_assistance", "flagged_status_unknown", "persons_flagged")
    return {k: int(v) for k, v in zip(names, row, strict=True)}


def _done(s: Session, settings: Settings, as_of: dt.date, pending: list[int]) -> None:
    """The run's as-of date and rules kept; the queue rows it read are done."""
    state = s.get(FlagState, 1) or FlagState(id=1)
    state.as_of, state.rules, state.updated_at = as_of, changes.rules_digest(settings), utcnow()
    s.add(state)
    from linkage.match.stored import chunks

    for chunk in chunks(pending):
        s.execute(delete(FlagPending).where(FlagPending.id.in_(chunk)))
