"""`survivor-link link`: every record not yet linked joins a person, incrementally.

Why this order: new records are blocked against each other and against stored records
found through indexed blocking keys (so the cost follows the delivery, not the store);
pairs are scored with the stored model; reviewers' decisions override scores; the
constrained clustering decides persons; ids are kept (oldest wins a merge); return
events are regrouped only for the persons that changed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from linkage.match.blocking import (
    KEY_VERSION,
    PASSES,
    PROBE_PASSES,
    REFINE,
    REFINE_ABOVE,
    STORED_KEY_COLUMNS,
    BlockingStats,
    block_keys,
    candidate_pairs,
)
from linkage.match.cluster import cluster, review_pairs
from linkage.match.coherence import Identity
from linkage.match.compare import (
    COMPARE_VERSION,
    FEATURES,
    HOME_LEVELS,
    LEVELS,
    RETURN_LEVELS,
    compare,
    forget_views,
    one_list_one_return,
)
from linkage.match.events import EventRow, group_returns
from linkage.match.frame import RECORD_COLUMNS, build_frame
from linkage.match.ids import allocate, id_number
from linkage.match.model import MatchModel
from linkage.match.training import fit_model
from linkage.settings import Settings
from linkage.store.db import audit, session_scope
from linkage.store.locks import one_at_a_time
from linkage.store.models import (
    CandidatePair,
    Delivery,
    LinkModel,
    MatchDecision,
    Person,
    PersonAlias,
    PersonRecord,
    Record,
    ReturnEvent,
    utcnow,
)
from linkage.store.sealed import read_records_frame

Progress = Callable[[str], None]
_CHUNK = 900  # bound parameters per IN list, safe on SQLite and PostgreSQL
# Above this many changed persons, settled review pairs are found by one scan of all open pairs.
_WHOLE_SCAN_PERSONS = 20_000


@dataclass
class LinkSummary:
    """What a link run did, in counts only (this goes to logs and XCom)."""

    records_linked: int = 0
    persons_created: int = 0
    persons_grown: int = 0
    persons_merged: int = 0
    events_created: int = 0
    pairs_compared: int = 0
    pairs_linked: int = 0
    pairs_for_review: int = 0
    links_refused: int = 0
    model: str = ""
    blocking: BlockingStats = field(default_factory=BlockingStats)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k not in {"blocking", "seconds"}}
        d["candidate_pairs_by_pass"] = dict(self.blocking.pairs_by_pass)
        d["seconds"] = {k: round(v, 2) for k, v in self.seconds.items()}
        return d


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


def _read_records(session: Session, ids: list[int] | None) -> pd.DataFrame:
    """Record columns the frame needs, for the given ids (None: every unlinked record).

    Unlinked records are looked for only in deliveries not linked since they last loaded
    rows, so a small delivery does not make us scan the whole store.
    """
    cols = [getattr(Record, c) for c in RECORD_COLUMNS]
    conn = session.connection()
    if ids is None:
        fresh = select(Delivery.sha256).where(Delivery.linked_at.is_(None))
        linked = select(PersonRecord.record_id).where(PersonRecord.record_id == Record.id).exists()
        stmt = select(*cols).where(Record.delivery_sha256.in_(fresh), ~linked)
        return in_content_order(read_records_frame(conn, stmt))
    frames = [read_records_frame(conn, select(*cols).where(Record.id.in_(chunk))) for chunk in _chunks(ids)]
    if not frames:
        return pd.DataFrame(columns=RECORD_COLUMNS)
    return in_content_order(pd.concat(frames, ignore_index=True))


def in_content_order(records: pd.DataFrame) -> pd.DataFrame:
    """Records ordered by what they are (source, file hash, line), not by when they loaded.

    Row ids follow the order deliveries happened to load in (parallel ingest tasks interleave
    them), and the weights' random sample and the clustering's ties follow row order: in
    content order the same lists give the same persons however they were loaded.
    """
    return records.sort_values(["source", "delivery_sha256", "line"], ignore_index=True, kind="stable")


def _stored_candidates(session: Session, new_keys: pd.DataFrame) -> dict[int, str]:
    """Stored records sharing a blocking key with a new record -> their person_id.

    A block that blocking will split by place (REFINE) brings only the stored records of
    the places its new records come from: at a million records "Sok, born 1990, D" holds
    hundreds of men across the country, and reading them all would cost more than the rest
    of the link.
    """
    found: dict[int, str] = {}

    def lookup(from_cols: tuple[str, ...], in_cols: tuple[str, ...]) -> None:
        values = [int(v) for v in pd.unique(pd.concat([new_keys[c] for c in from_cols]).dropna())]
        for col in in_cols:
            column = getattr(PersonRecord, col)
            for chunk in _chunks(values):
                rows = session.execute(
                    select(PersonRecord.record_id, PersonRecord.person_id).where(column.in_(chunk))
                ).all()
                found.update((int(r), p) for r, p in rows)

    for name, cols in PASSES.items():
        if name in REFINE:
            found.update(_refined_lookup(session, new_keys, cols, REFINE[name]))
        else:
            lookup(cols, cols)
    for probe, build in PROBE_PASSES.values():
        lookup(probe, build)
        lookup(build, probe)
    return found


def _refined_lookup(
    session: Session, new_keys: pd.DataFrame, cols: tuple[str, ...], place: str
) -> dict[int, str]:
    """Stored records of a refined pass that blocking will pair with a new record.

    A block (a key over the pass's columns) of at most REFINE_ABOVE records, new and stored,
    comes whole; a larger one only with the stored records whose place (missing counts as
    a place) is one of its new records'. Block sizes count every stored record with the key,
    so the split is the one a full rebuild makes. (One difference remains: a stored record
    of another place brought in by another pass, a shared phone say, sits in the smaller
    block blocking then sees, which may not be split, so a delivery can meet a few more
    stored records than a rebuild would compare it with; never fewer.) Keys, places and
    record ids come from the index alone on SQLite; only the records kept are looked up for
    their person.
    """
    place_col = f"r_{place}"
    new_place = [None if pd.isna(v) else int(v) for v in new_keys[place_col].tolist()]
    places: dict[int, set[int | None]] = {}
    members: dict[int, set[tuple[str, int]]] = {}
    for c in cols:
        for i, k in enumerate(new_keys[c].tolist()):
            if not pd.isna(k):
                places.setdefault(int(k), set()).add(new_place[i])
                members.setdefault(int(k), set()).add(("new", i))
    stored: list[tuple[int, int, int | None]] = []
    stored_place = getattr(PersonRecord, place_col)
    for c in cols:
        column = getattr(PersonRecord, c)
        for chunk in _chunks(sorted(places)):
            stmt = select(PersonRecord.record_id, column, stored_place).where(column.in_(chunk))
            stored.extend((int(r), int(k), p) for r, k, p in session.execute(stmt).all())
    for rid, key, _p in stored:
        members[key].add(("stored", rid))
    keep = sorted({rid for rid, key, p in stored if len(members[key]) <= REFINE_ABOVE or p in places[key]})
    out: dict[int, str] = {}
    for chunk in _chunks(keep):
        rows = session.execute(
            select(PersonRecord.record_id, PersonRecord.person_id).where(PersonRecord.record_id.in_(chunk))
        ).all()
        out.update((int(r), p) for r, p in rows)
    return out


def _stored_keys(key_row: dict[str, Any]) -> dict[str, int | None]:
    """A record's blocking keys and split places as PersonRecord stores them."""
    return {c: None if pd.isna(key_row[c]) else int(key_row[c]) for c in STORED_KEY_COLUMNS}


def _decisions(session: Session, record_ids: set[int]) -> list[tuple[int, int, str]]:
    ids = sorted(record_ids)
    out: dict[tuple[int, int], str] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(MatchDecision.record_a, MatchDecision.record_b, MatchDecision.decision).where(
                (MatchDecision.record_a.in_(chunk)) | (MatchDecision.record_b.in_(chunk))
            )
        ).all()
        out.update(((int(a), int(b)), d) for a, b, d in rows)
    return [(a, b, d) for (a, b), d in out.items()]


def _all_record_ids(session: Session) -> list[int]:
    return [int(i) for i in session.execute(select(Record.id)).scalars()]


def _count_linked(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(PersonRecord)) or 0)


def _refit_reason(session: Session, model: MatchModel, settings: Settings) -> str | None:
    """Weights fitted for other comparison levels, on a smaller store, before a source
    existed, or before reviewers had decided enough pairs (or many more), are fitted again:
    why, or None."""
    if model.compare_version != COMPARE_VERSION or any(
        len(model.m.get(f, ())) != len(LEVELS[f]) for f in FEATURES
    ):
        return "the comparisons changed since the weights were fitted"
    records = int(session.scalar(select(func.count()).select_from(Record)) or 0)
    sources = set(session.execute(select(Record.source).distinct()).scalars())
    grown = records >= settings.refit_growth * max(model.records, 1)
    same = int(
        session.scalar(
            select(func.count()).select_from(MatchDecision).where(MatchDecision.decision == "same")
        )
        or 0
    )
    decided = same >= max(settings.supervised_min_decisions, settings.refit_growth * model.decisions)
    if grown or not sources <= set(model.sources):
        return "the store outgrew the weights"
    return "reviewers' decisions" if decided else None


def _same_positions(session: Session, frame: pd.DataFrame) -> list[tuple[int, int]]:
    """Reviewers' "same" decisions between records of this frame, as position pairs."""
    pos_of = {int(r): i for i, r in enumerate(frame["record_id"].tolist())}
    rows = session.execute(
        select(MatchDecision.record_a, MatchDecision.record_b).where(MatchDecision.decision == "same")
    ).all()
    return [(pos_of[a], pos_of[b]) for a, b in rows if a in pos_of and b in pos_of]


def _rekey_if_needed(s: Session, say: Progress) -> None:
    """Stored keys made under older key definitions are made again (once, after an upgrade)."""
    model = latest_model(s)
    if model is None or model.key_version == KEY_VERSION:
        return
    say("recomputing stored blocking keys (key definitions changed)")
    ids = [int(i) for i in s.execute(select(PersonRecord.record_id)).scalars()]
    for chunk in _chunks(ids):
        frame = build_frame(_read_records(s, chunk))
        keys = block_keys(frame)
        rows = []
        for rid, key_row in zip(frame["record_id"], keys.to_dict("records"), strict=True):
            rows.append({"record_id": int(rid), **_stored_keys(key_row)})
        s.execute(update(PersonRecord), rows)
    model.key_version = KEY_VERSION
    s.add(LinkModel(kind=model.kind, params=model.to_params()))
    s.flush()


def latest_model(session: Session) -> MatchModel | None:
    row = session.execute(select(LinkModel).order_by(LinkModel.id.desc()).limit(1)).scalar_one_or_none()
    return MatchModel.from_params(row.params) if row else None


def explanation(
    levels: dict[str, int], weights: dict[str, float], swapped: bool, family_bits: float | None = None
) -> dict[str, Any]:
    """Which fields agreed, disagreed or were missing, and their weight (no values); with
    family_bits (log2 odds of "his brother" against "the same man"), in words when a
    brother is the likelier reading."""
    out: dict[str, Any] = {}
    for f in FEATURES:
        lv = int(levels[f])
        out[f] = {"level": "missing" if lv < 0 else LEVELS[f][lv], "weight": round(float(weights[f]), 2)}
    out["names_swapped"] = bool(swapped)
    if family_bits is not None and np.isfinite(family_bits):
        out["family_bits"] = round(float(family_bits), 2)
        if family_bits > 0:
            out["summary"] = same_family_words(levels)
    return out


# What a family shares, and what is a man's own, as a reviewer reads them.
_SHARED_WORDS = {"family_name": "family name", "father": "father", "phone": "phone", "context": "home"}
_OWN_WORDS = {"given_name": "given names differ", "birth": "births differ", "id_document": "IDs differ"}


def same_family_words(levels: dict[str, int]) -> str:
    """'same family, likely another man: shares family name and phone; given names differ',
    from the levels alone."""
    shared = []
    for f, word in _SHARED_WORDS.items():
        lv = int(levels[f])
        if f == "context":
            home = lv // (len(RETURN_LEVELS) + 1) - 1  # the home part of the joint level
            if home >= HOME_LEVELS.index("same district, other commune"):
                shared.append(word)
        elif lv >= len(LEVELS[f]) - 2 and lv >= 1:
            shared.append(word)
    own = [word for f, word in _OWN_WORDS.items() if 0 <= int(levels[f]) <= (1 if f == "birth" else 0)]
    text = "same family, likely another man"
    if shared:
        listed = [", ".join(shared[:-1]), shared[-1]] if len(shared) > 1 else shared
        text += ": shares " + " and ".join(listed)
    if own:
        text += "; " + ", ".join(own)
    return text


@one_at_a_time("link", "linking")  # two links at once would race for person ids: the second waits
def link(
    settings: Settings, rebuild: bool = False, refit: bool = False, progress: Progress | None = None
) -> LinkSummary:
    """Link every unlinked record (or, with rebuild, every record) into persons."""
    say = progress or (lambda _msg: None)
    summary = LinkSummary()
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        summary.seconds[name] = summary.seconds.get(name, 0.0) + now - clock
        clock = now

    with session_scope(settings) as s:
        say("applying reviewers' decisions")
        old_assignment, old_events = _detach(s, rebuild)
        if not rebuild:
            _rekey_if_needed(s, say)
        say("reading new records")
        if rebuild:
            new_records = in_content_order(
                pd.read_sql(select(*[getattr(Record, c) for c in RECORD_COLUMNS]), s.connection())
            )
        else:
            new_records = _read_records(s, None)
            detached = sorted(set(old_assignment) - set(new_records["id"].tolist()))
            if detached:  # records a reviewer's decision unlinked, from deliveries linked before
                parts = [p for p in (new_records, _read_records(s, detached)) if not p.empty]
                new_records = pd.concat(parts, ignore_index=True) if parts else new_records
        if new_records.empty:
            summary.model = "no new records"
            return summary
        new_frame = build_frame(new_records)
        new_keys = block_keys(new_frame)
        stored = {} if rebuild else _stored_candidates(s, new_keys)
        new_ids = set(new_frame["record_id"].tolist())
        decisions = _decisions(s, new_ids)
        for a, b, _d in decisions:  # a decided partner must be in the frame to apply
            for rid in (a, b):
                if rid not in new_ids and rid not in stored:
                    pid = s.execute(
                        select(PersonRecord.person_id).where(PersonRecord.record_id == rid)
                    ).scalar_one_or_none()
                    if pid:
                        stored[rid] = pid
        if stored:
            old_frame = build_frame(_read_records(s, sorted(stored)))
            frame = pd.concat([new_frame, old_frame], ignore_index=True)
            keys = pd.concat([new_keys, block_keys(old_frame)], ignore_index=True)
        else:
            old_frame, frame, keys = new_frame.iloc[0:0], new_frame, new_keys
        is_new = np.zeros(len(frame), dtype=bool)
        is_new[: len(new_frame)] = True
        lap("read")

        say(f"blocking {len(new_frame)} new against {len(old_frame)} stored records")
        left, right, summary.blocking = candidate_pairs(keys, is_new, settings.max_block_size)
        lap("block")

        say(f"comparing {len(left)} candidate pairs")
        levels = compare(frame, left, right)
        summary.pairs_compared = len(left)
        lap("compare")

        model = None if (rebuild or refit) else latest_model(s)
        why = "asked" if refit else "rebuild" if rebuild else "first run"
        if model is not None and (reason := _refit_reason(s, model, settings)):
            model, why = None, reason
        if model is None:
            say(f"fitting match weights ({why})")
            if rebuild or not stored and not _count_linked(s):
                model = fit_model(
                    frame, keys, settings, (left, right, levels, summary.blocking), _same_positions(s, frame)
                )
            else:
                everything = build_frame(_read_records(s, _all_record_ids(s)))
                model = fit_model(
                    everything, block_keys(everything), settings, same=_same_positions(s, everything)
                )
            s.add(LinkModel(kind=model.kind, params=model.to_params()))
            summary.model = f"fitted ({why})"
        else:
            summary.model = "reused"
        forget_views(frame)
        lap("fit")

        total, prob = model.score_levels(levels, frame, settings.family_margin_bits)
        lap("score")

        say("clustering into persons")
        rid = frame["record_id"].to_numpy()
        pos_of = {int(r): i for i, r in enumerate(rid)}
        same, different = [], []
        decided: dict[tuple[int, int], str] = {}
        for a, b, d in decisions:
            if a in pos_of and b in pos_of:
                pa, pb = sorted((pos_of[a], pos_of[b]))
                (same if d == "same" else different).append((pa, pb))
                decided[(pa, pb)] = d
        if decided:
            codes = left.astype(np.int64) * len(frame) + right  # sorted: candidate_pairs returns them so
            for (pa, pb), d in decided.items():
                k = int(np.searchsorted(codes, pa * len(frame) + pb))
                if k < len(codes) and codes[k] == pa * len(frame) + pb:
                    prob[k] = 1.0 if d == "same" else 0.0
                    total[k] = 100.0 if d == "same" else -100.0
        person_codes: dict[str, int] = {}
        initial = np.full(len(frame), -1, dtype=np.int64)
        for i in range(len(new_frame), len(frame)):
            initial[i] = person_codes.setdefault(stored[int(rid[i])], len(person_codes))
        outcome = cluster(
            len(frame),
            left,
            right,
            prob,
            settings.link_threshold,
            settings.max_cluster_size,
            initial=initial,
            same=same,
            different=different,
            weight=total,
            one_list=one_list_one_return(levels),
            identity=Identity.of(frame),
        )
        summary.links_refused = len(outcome.refused)
        lap("cluster")

        say("assigning permanent ids")
        affected = _assign_persons(
            s, frame, is_new, outcome.labels, stored, old_assignment, new_keys, summary
        )
        lap("persons")

        say("grouping returns")
        summary.events_created = _regroup_events(s, affected, settings.event_window_days, old_events)
        lap("events")

        summary.pairs_linked, summary.pairs_for_review = _store_pairs(
            s, model, frame, levels, total, prob, outcome, settings, decided
        )
        _supersede_settled_reviews(s, None if rebuild else affected)
        s.execute(
            update(Delivery)
            .where(Delivery.sha256.in_(new_frame["delivery"].unique().tolist()))
            .values(linked_at=utcnow())
        )
        audit(s, "link", None, **{k: v for k, v in summary.as_dict().items() if k != "seconds"})
        lap("store")
    return summary


def _detach(s: Session, everything: bool) -> tuple[dict[int, str], dict[int, str]]:
    """Unlink records so this run links them again; return their previous person and event.

    Everything on a rebuild; otherwise the persons a reviewer's decision contradicts: a
    "different" pair inside one person, or a "same" pair split over two persons.
    """
    pr_a, pr_b = PersonRecord.__table__.alias("a"), PersonRecord.__table__.alias("b")
    if everything:
        persons = None
    else:
        rows = s.execute(
            select(MatchDecision.decision, pr_a.c.person_id, pr_b.c.person_id)
            .join(pr_a, pr_a.c.record_id == MatchDecision.record_a)
            .join(pr_b, pr_b.c.record_id == MatchDecision.record_b)
        ).all()
        persons = set()
        for decision, pa, pb in rows:
            if (decision == "different") == (pa == pb):
                persons.update({pa, pb})
        if not persons:
            return {}, {}
    stmt = select(PersonRecord.record_id, PersonRecord.person_id, PersonRecord.event_id)
    if persons is not None:
        stmt = stmt.where(PersonRecord.person_id.in_(sorted(persons)))
    assignment, events = {}, {}
    for rid, pid, eid in s.execute(stmt).all():
        assignment[int(rid)] = pid
        if eid:
            events[int(rid)] = eid
    if persons is None:
        s.execute(delete(PersonRecord))
    else:
        for chunk in _chunks(sorted(assignment)):
            s.execute(delete(PersonRecord).where(PersonRecord.record_id.in_(chunk)))
    return assignment, events


def _assign_persons(
    s: Session,
    frame: pd.DataFrame,
    is_new: np.ndarray,
    labels: np.ndarray,
    stored: dict[int, str],
    old_assignment: dict[int, str],
    new_keys: pd.DataFrame,
    summary: LinkSummary,
) -> set[str]:
    """Give each cluster a permanent id; merged persons become aliases of the oldest."""
    rid = frame["record_id"].to_numpy()
    clusters: dict[int, list[int]] = {}
    for i, lab in enumerate(labels.tolist()):
        clusters.setdefault(lab, []).append(i)
    now = utcnow()
    chosen: dict[int, str] = {}
    merges: dict[str, str] = {}  # merged id -> surviving id
    # 1. A cluster holding stored records keeps the oldest of their persons' ids.
    for lab, members in clusters.items():
        olds = sorted({stored[int(rid[i])] for i in members if not is_new[i]}, key=id_number)
        if olds:
            chosen[lab] = olds[0]
            merges.update((p, olds[0]) for p in olds[1:])
    # 2. Detached records (rebuild, or a reviewer's decision) get back the id they had,
    #    by largest overlap, older ids first; each id goes to one cluster only.
    taken = set(chosen.values()) | set(merges)
    ranked = []
    for lab, members in clusters.items():
        if lab in chosen:
            continue
        counts = Counter(old_assignment.get(int(rid[i])) for i in members)
        ranked += [(-n, id_number(p), lab, p) for p, n in counts.items() if p and p not in taken]
    for _n, _num, lab, p in sorted(ranked):
        if lab not in chosen and p not in taken:
            chosen[lab] = p
            taken.add(p)
    fresh = [
        lab for lab, members in clusters.items() if lab not in chosen and any(is_new[i] for i in members)
    ]
    for lab, pid in zip(fresh, allocate(s, "person", len(fresh)), strict=True):
        chosen[lab] = pid
        s.add(Person(person_id=pid, created_at=now, updated_at=now))
    summary.persons_created = len(fresh)
    # 3. A previous id that no cluster kept resolves to where most of its records went.
    label_of = {int(rid[i]): int(labels[i]) for i in range(len(rid))}
    for p in sorted(set(old_assignment.values()) - taken, key=id_number):
        where = Counter(label_of[r] for r, q in old_assignment.items() if q == p and r in label_of)
        if where:
            merges[p] = chosen[where.most_common(1)[0][0]]

    new_rows = []
    key_rows = new_keys.to_dict("records")
    for i in np.flatnonzero(is_new):
        row = {"record_id": int(rid[i]), "person_id": chosen[int(labels[i])], "linked_at": now}
        row.update(_stored_keys(key_rows[i]))
        new_rows.append(row)
    for chunk in _chunks(new_rows):
        s.execute(insert(PersonRecord), chunk)
    summary.records_linked = len(new_rows)

    for old, survivor in merges.items():
        s.execute(update(PersonRecord).where(PersonRecord.person_id == old).values(person_id=survivor))
        s.execute(update(PersonAlias).where(PersonAlias.person_id == old).values(person_id=survivor))
        s.execute(
            update(Person)
            .where(Person.person_id == old)
            .values(status="merged", merged_into=survivor, updated_at=now)
        )
        if s.get(PersonAlias, old) is None:
            s.add(PersonAlias(alias_id=old, person_id=survivor, created_at=now))
    summary.persons_merged = len(merges)

    affected = {chosen[int(labels[i])] for i in np.flatnonzero(is_new)} | set(merges.values())
    grown = {chosen[int(labels[i])] for i in np.flatnonzero(is_new)} - set(chosen[lab] for lab in fresh)
    summary.persons_grown = len(grown)
    s.flush()
    count = (
        select(func.count())
        .select_from(PersonRecord)
        .where(PersonRecord.person_id == Person.person_id)
        .scalar_subquery()
    )
    for chunk in _chunks(sorted(affected)):
        s.execute(
            update(Person)
            .where(Person.person_id.in_(chunk))
            .values(record_count=count, status="active", merged_into=None, updated_at=now)
        )
    return affected


def _regroup_events(s: Session, persons: set[str], window_days: int, old_events: dict[int, str]) -> int:
    """Recompute return events of the changed persons, keeping event ids by overlap.

    An event id goes to at most one group in a run (older ids first), so a split person
    never shares an event with the part that left; ids nobody claims are retired.
    """
    created = 0
    now = utcnow()
    claimed: set[str] = set()
    previous_ids: set[str] = set()
    for chunk in _chunks(sorted(persons)):
        rows = s.execute(
            select(
                PersonRecord.person_id,
                PersonRecord.record_id,
                PersonRecord.event_id,
                Record.return_date,
                Record.country,
                Record.point_of_entry,
                Record.intake_date,
                Record.loaded_at,
            )
            .join(Record, Record.id == PersonRecord.record_id)
            .where(PersonRecord.person_id.in_(chunk))
        ).all()
        by_person: dict[str, list[EventRow]] = {}
        for pid, rid, eid, ret, country, poe, intake, loaded in rows:
            by_person.setdefault(pid, []).append(
                EventRow(
                    record_id=int(rid),
                    return_date=ret,
                    country=country,
                    point_of_entry=poe,
                    other_date=intake or (loaded.date() if loaded else None),
                    previous_event=eid or old_events.get(int(rid)),
                )
            )
        updates: list[dict[str, Any]] = []
        planned: list[tuple[str, Any, str | None]] = []  # (person, group, kept id or None)
        for pid in sorted(by_person, key=id_number):
            recs = by_person[pid]
            previous = {r.record_id: r.previous_event for r in recs}
            previous_ids.update(e for e in previous.values() if e)
            for g in group_returns(recs, window_days):
                counts = Counter(previous[r] for r in g.record_ids if previous[r])
                ranked = sorted(counts.items(), key=lambda kv: (-kv[1], id_number(kv[0])))
                pick = next((eid for eid, _n in ranked if eid not in claimed), None)
                if pick:
                    claimed.add(pick)
                planned.append((pid, g, pick))
        fresh = iter(allocate(s, "event", sum(1 for *_x, pick in planned if pick is None)))
        inserts, changes = [], []
        for pid, g, pick in planned:
            row = {
                "event_id": pick or next(fresh),
                "person_id": pid,
                "return_date": g.return_date,
                "country": g.country,
                "point_of_entry": g.point_of_entry,
                "record_count": len(g.record_ids),
                "status": "active",
                "updated_at": now,
            }
            claimed.add(row["event_id"])
            (changes if pick else inserts).append(row)
            updates += [{"record_id": r, "event_id": row["event_id"]} for r in g.record_ids]
        created += len(inserts)
        existing = set()
        for ids in _chunks([r["event_id"] for r in changes]):
            existing.update(
                s.execute(select(ReturnEvent.event_id).where(ReturnEvent.event_id.in_(ids))).scalars()
            )
        inserts += [r for r in changes if r["event_id"] not in existing]  # kept ids from a rebuild
        changes = [r for r in changes if r["event_id"] in existing]
        for chunk in _chunks(inserts):
            s.execute(insert(ReturnEvent), [{**r, "created_at": now} for r in chunk])
        if changes:
            s.execute(update(ReturnEvent), changes)
        if updates:
            s.execute(update(PersonRecord), updates)
    for chunk in _chunks(sorted(previous_ids - claimed)):
        s.execute(
            update(ReturnEvent)
            .where(ReturnEvent.event_id.in_(chunk))
            .values(status="retired", updated_at=now)
        )
    return created


def _supersede_settled_reviews(s: Session, persons: set[str] | None = None) -> None:
    """Open review pairs whose two records now belong to one person need no decision.

    persons: the persons this run changed (None: look at every open pair). Only their
    pairs can have become settled, so a small delivery does not scan every open pair.
    """
    a, b = PersonRecord.__table__.alias("a"), PersonRecord.__table__.alias("b")
    settled = (
        select(CandidatePair.id)
        .join(a, a.c.record_id == CandidatePair.record_a)
        .join(b, b.c.record_id == CandidatePair.record_b)
        .where(CandidatePair.status == "open", a.c.person_id == b.c.person_id)
    )
    if persons is None or len(persons) > _WHOLE_SCAN_PERSONS:
        s.execute(update(CandidatePair).where(CandidatePair.id.in_(settled)).values(status="superseded"))
        return
    for chunk in _chunks(sorted(persons)):
        ids = select(settled.where(a.c.person_id.in_(chunk)).subquery().c.id)
        s.execute(update(CandidatePair).where(CandidatePair.id.in_(ids)).values(status="superseded"))


def _store_pairs(
    s: Session,
    model: MatchModel,
    frame: pd.DataFrame,
    levels: pd.DataFrame,
    total: np.ndarray,
    prob: np.ndarray,
    outcome: Any,
    settings: Settings,
    decided: dict[tuple[int, int], str],
) -> tuple[int, int]:
    """Keep review-band pairs (for people to decide); count the links.

    Links are not stored: `explain` recomputes them for one person with the stored model.
    """
    labels = outcome.labels
    left = levels.index.get_level_values(0).to_numpy()
    right = levels.index.get_level_values(1).to_numpy()
    together = labels[left] == labels[right]
    n_link = int((together & (prob >= settings.link_threshold)).sum())
    review_idx = review_pairs(
        outcome, left, right, prob, total, settings.review_threshold, settings.link_threshold
    )
    rid = frame["record_id"].to_numpy()
    sub = levels.iloc[review_idx]
    lv_arr = sub[FEATURES].to_numpy()
    w_arr = model.feature_weights(sub, frame)[FEATURES].to_numpy()
    family = model.family_odds(sub)
    swapped = sub["swapped"].to_numpy()
    rows = []
    for j, k in enumerate(review_idx):
        a, b = int(left[k]), int(right[k])
        if (a, b) in decided:
            continue
        ra, rb = sorted((int(rid[a]), int(rid[b])))
        rows.append(
            {
                "record_a": ra,
                "record_b": rb,
                "probability": float(prob[k]),
                "weight": float(total[k]),
                "band": "review",
                "explanation": explanation(
                    dict(zip(FEATURES, lv_arr[j], strict=True)),
                    dict(zip(FEATURES, w_arr[j], strict=True)),
                    bool(swapped[j]),
                    float(family[j]),
                ),
                "status": "open",
                "created_at": utcnow(),
            }
        )
    for chunk in _chunks(rows):
        pairs = [(r["record_a"], r["record_b"]) for r in chunk]
        existing = {
            (a, b)
            for a, b in s.execute(
                select(CandidatePair.record_a, CandidatePair.record_b).where(
                    CandidatePair.record_a.in_([p[0] for p in pairs])
                )
            ).all()
        }
        fresh = [r for r in chunk if (r["record_a"], r["record_b"]) not in existing]
        stale = [r for r in chunk if (r["record_a"], r["record_b"]) in existing]
        if fresh:
            s.execute(insert(CandidatePair), fresh)
        for r in stale:
            s.execute(
                update(CandidatePair)
                .where(CandidatePair.record_a == r["record_a"], CandidatePair.record_b == r["record_b"])
                .values({k: v for k, v in r.items() if k not in {"record_a", "record_b"}})
            )
    return n_link, len(rows)
