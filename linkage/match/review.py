"""Review and explanation: the human side of linkage.

Why stored explanations: a reviewer deciding a pair, or a case lead asking why two lists
were joined into one man, needs to see which fields agreed, disagreed or were missing and
how much each weighed, without anyone re-running the model. Explanations hold levels and
weights only; names appear only when a person asks for them, and that is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from linkage.match.spec import ModelSpec, spec_for
from linkage.privacy import file_label
from linkage.settings import Settings
from linkage.store.db import audit, current_actor, session_scope
from linkage.store.models import (
    CandidatePair,
    Delivery,
    Flag,
    MatchDecision,
    Person,
    PersonAlias,
    PersonRecord,
    Record,
    ReturnEvent,
    utcnow,
)

DECISIONS = ("same", "different")


class ReviewError(ValueError):
    """A review command that cannot be done, with why."""


@dataclass
class RecordRef:
    """Where a record came from (and, only when asked, what it says)."""

    record_id: int
    source: str
    file: str
    line: int
    source_record_id: str
    person_id: str | None
    event_id: str | None
    values: dict[str, Any] | None = None


def record_refs(s: Session, ids: list[int], show_values: bool) -> dict[int, RecordRef]:
    rows = s.execute(
        select(Record, Delivery.file_name, PersonRecord.person_id, PersonRecord.event_id)
        .join(Delivery, Delivery.sha256 == Record.delivery_sha256)
        .outerjoin(PersonRecord, PersonRecord.record_id == Record.id)
        .where(Record.id.in_(ids))
    ).all()
    out = {}
    for rec, file_name, pid, eid in rows:
        values = None
        file = file_name if show_values else file_label(file_name, rec.source, rec.delivery_sha256)
        if show_values:
            values = {
                "name": rec.name_latin or rec.full_name,
                "name_kh": rec.name_kh,
                "birth": str(rec.birth_date or rec.birth_year or ""),
                "age": rec.age,
                "home": rec.village_code or rec.commune_code or rec.district_code or rec.province_code,
                "return": str(rec.return_date or ""),
                "phone": rec.phone,
            }
        out[rec.id] = RecordRef(rec.id, rec.source, file, rec.line, rec.source_record_id, pid, eid, values)
    return out


# Why a pair comes first in the queue, most consequential first.
QUEUE_REASONS = (
    "joins two flagged persons (one man counted twice)",
    "may close or move a flag",
    "no flag depends on it",
)


def open_pairs(
    settings: Settings, limit: int = 50, show_values: bool = False, include: int | None = None
) -> list[dict[str, Any]]:
    """The review queue's pairs nobody has decided yet, those whose decision changes a flag first.

    Why this order: a queue people can finish starts with the pairs that change what the
    weekly report says. Two persons both flagged are likely one man counted twice; a pair
    with one side flagged may carry the referral that closes it (or move the flag to the
    right man); a pair no flag depends on can wait. Within each, the likeliest "same"
    first (linkage/match/queue.py).

    Only the queue is listed: the rest of the review band stays stored (the estimate and the
    flags count it, `explain` shows it) but is not worth a person's time yet; "in_band" says
    how many open pairs the band holds in all. `include`: one band pair to list even if it is
    not queued (a flag names the pair it waits on, and an officer opens it from there).
    """
    with session_scope(settings) as s:
        is_open = (CandidatePair.band == "review") & (CandidatePair.status == "open")
        rows = s.execute(
            select(
                CandidatePair.id, CandidatePair.record_a, CandidatePair.record_b, CandidatePair.queue_value
            )
            .where(is_open, CandidatePair.queue_value.is_not(None) | (CandidatePair.id == include))
            .order_by(CandidatePair.id)
        ).all()
        in_band = int(s.scalar(select(func.count()).select_from(CandidatePair).where(is_open)) or 0)
        flagged = _flagged_records(s, sorted({r.record_a for r in rows} | {r.record_b for r in rows}))
        queued = sum(r.queue_value is not None for r in rows)
        ranked = sorted(
            rows,
            key=lambda r: (
                _queue_rank(r.record_a in flagged, r.record_b in flagged),
                -(r.queue_value or 0.0),  # the likeliest "same" first; a pair asked for by id last
                r.id,
            ),
        )[:limit]
        chosen = [r.id for r in ranked]
        pairs = {p.id: p for p in s.scalars(select(CandidatePair).where(CandidatePair.id.in_(chosen)))}
        ids = sorted({r.record_a for r in ranked} | {r.record_b for r in ranked})
        refs = record_refs(s, ids, show_values)
        if show_values and ranked:
            audit(s, "review.show_values", None, pairs=len(ranked))
        return [
            {
                "pair": r.id,
                "probability": pairs[r.id].probability,
                "a": refs.get(r.record_a),
                "b": refs.get(r.record_b),
                "explanation": pairs[r.id].explanation or {},
                "first_because": QUEUE_REASONS[_queue_rank(r.record_a in flagged, r.record_b in flagged)],
                "waiting": queued,
                "in_band": in_band,
            }
            for r in ranked
        ]


def _queue_rank(a_flagged: bool, b_flagged: bool) -> int:
    return 0 if a_flagged and b_flagged else 1 if a_flagged or b_flagged else 2


def _flagged_records(s: Session, record_ids: list[int]) -> set[int]:
    """Which of these records belong to a person with an open flag."""
    from linkage.match.stored import chunks

    # Two plain reads, joined here: as one join SQLite walked every open flag (by the status
    # index) for each record, 0.6-4 s a page at 40k records with 12,000 open flags.
    flagged = set(s.execute(select(Flag.person_id).where(Flag.status == "open").distinct()).scalars())
    out: set[int] = set()
    for chunk in chunks(record_ids):
        stmt = select(PersonRecord.record_id, PersonRecord.person_id).where(PersonRecord.record_id.in_(chunk))
        out.update(int(r) for r, person in s.execute(stmt) if person in flagged)
    return out


def decide(settings: Settings, pair_id: int, decision: str, note: str | None = None) -> MatchDecision:
    """Record a reviewer's verdict; every later `link` applies it before the model."""
    if decision not in DECISIONS:
        raise ReviewError(f"decision must be one of {', '.join(DECISIONS)}, not '{decision}'")
    with session_scope(settings) as s:
        pair = s.get(CandidatePair, pair_id)
        if pair is None:
            raise ReviewError(f"no candidate pair {pair_id}; `survivor-link review list` shows the open ones")
        return record_decision(s, pair.record_a, pair.record_b, decision, note)


def record_decision(
    s: Session, record_a: int, record_b: int, decision: str, note: str | None = None
) -> MatchDecision:
    a, b = sorted((record_a, record_b))
    row = s.execute(
        select(MatchDecision).where(MatchDecision.record_a == a, MatchDecision.record_b == b)
    ).scalar_one_or_none()
    if row is None:
        row = MatchDecision(record_a=a, record_b=b)
        s.add(row)
    row.decision = decision
    row.decided_by = current_actor()
    row.decided_at = utcnow()
    row.note = note
    for pair in s.execute(
        select(CandidatePair).where(CandidatePair.record_a == a, CandidatePair.record_b == b)
    ).scalars():
        pair.status = "decided"
    s.flush()
    from linkage.referral.changes import queue_records

    queue_records(s, (a, b))  # the pair no longer waits: both men's flags may say so
    audit(s, "review.decide", f"{a}:{b}", decision=decision)
    return row


def resolve_person(s: Session, person_id: str) -> str:
    """The current id of a person, following aliases left by merges."""
    seen = set()
    current = person_id
    while current not in seen:
        seen.add(current)
        alias = s.get(PersonAlias, current)
        if alias is None:
            break
        current = alias.person_id
    if s.get(Person, current) is None:
        raise ReviewError(f"no person {person_id}")
    return current


def _pairs_within(s: Session, ids: list[int], spec: ModelSpec) -> list[dict[str, Any]]:
    """Every pair of a person's records, scored now with the stored weights."""
    from linkage.match import engine
    from linkage.match.blocking import BlockingStats
    from linkage.match.compare import FEATURES, compare
    from linkage.match.contact_numbers import set_aside_with_store
    from linkage.match.frame import build_frame
    from linkage.match.linker import explanation, latest_model
    from linkage.match.stored import read_records

    model = latest_model(s)
    if model is None or len(ids) < 2:
        return []
    frame = build_frame(read_records(s, ids))
    set_aside_with_store(s, frame, spec)  # a contact number counts for nothing, as it did at the link
    left, right = (x.astype(np.int64) for x in np.triu_indices(len(frame), k=1))
    pairs = engine.Candidates(left, right, compare(frame, left, right, spec), BlockingStats())
    levels = pairs.levels
    weights = model.feature_weights(levels, frame)
    scores = engine.score(model, pairs, frame, spec)
    family = model.family_odds(levels)
    rid = frame["record_id"].to_numpy()
    out = []
    for k in np.argsort(-scores.prob, kind="stable"):
        out.append(
            {
                "pair": None,
                "a": int(rid[left[k]]),
                "b": int(rid[right[k]]),
                "band": "scored now",
                "probability": float(scores.prob[k]),
                "weight": float(scores.total[k]),
                "explanation": explanation(
                    {f: int(levels[f].iloc[k]) for f in FEATURES},
                    {f: float(weights[f].iloc[k]) for f in FEATURES},
                    bool(levels["swapped"].iloc[k]),
                    float(family[k]),
                ),
                "inside": True,
            }
        )
    return out


def explain_person(settings: Settings, person_id: str, show_values: bool = False) -> dict[str, Any]:
    """A person's records, return events, each pair of his records scored, open reviews."""
    with session_scope(settings) as s:
        current = resolve_person(s, person_id)
        ids = [
            int(r)
            for r in s.execute(
                select(PersonRecord.record_id).where(PersonRecord.person_id == current)
            ).scalars()
        ]
        refs = record_refs(s, ids, show_values)
        within = _pairs_within(s, sorted(ids), spec_for(settings))
        stored = _stored_pairs(s, ids, refs)
        decisions = _decisions(s, ids)
        events = _active_events(s, current)
        aliases = (
            s.execute(select(PersonAlias.alias_id).where(PersonAlias.person_id == current)).scalars().all()
        )
        if show_values:
            audit(s, "explain.show_values", current, records=len(ids))
        return {
            "person_id": current,
            "asked": person_id,
            "aliases": sorted(aliases),
            "records": [refs[i] for i in sorted(refs)],
            "events": events,
            "pairs": within + stored,
            "decisions": decisions,
        }


def _stored_pairs(s: Session, ids: list[int], refs: dict[int, RecordRef]) -> list[dict[str, Any]]:
    """The stored candidate pairs touching these records, likeliest first; `inside` when both
    records are the person's."""
    pairs = s.execute(
        select(CandidatePair)
        .where(or_(CandidatePair.record_a.in_(ids), CandidatePair.record_b.in_(ids)))
        .order_by(CandidatePair.probability.desc())
    ).scalars()
    return [
        {
            "pair": p.id,
            "a": p.record_a,
            "b": p.record_b,
            "band": p.band,
            "probability": p.probability,
            "weight": p.weight,
            "explanation": p.explanation or {},
            "inside": p.record_a in refs and p.record_b in refs,
        }
        for p in pairs
    ]


def _decisions(s: Session, ids: list[int]) -> list[dict[str, Any]]:
    """Reviewers' decisions on pairs touching these records, with who took them and when."""
    decisions = s.execute(
        select(MatchDecision).where(or_(MatchDecision.record_a.in_(ids), MatchDecision.record_b.in_(ids)))
    ).scalars()
    return [
        {"a": d.record_a, "b": d.record_b, "decision": d.decision, "by": d.decided_by, "at": d.decided_at}
        for d in decisions
    ]


def _active_events(s: Session, person_id: str) -> list[dict[str, Any]]:
    """The person's active return events: when, where to, and from how many records."""
    events = s.execute(
        select(ReturnEvent).where(ReturnEvent.person_id == person_id, ReturnEvent.status == "active")
    ).scalars()
    return [
        {
            "event_id": e.event_id,
            "return_date": e.return_date,
            "country": e.country,
            "records": e.record_count,
        }
        for e in events
    ]
