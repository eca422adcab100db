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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from linkage import memory
from linkage.match import engine, frame_cache
from linkage.match.blocking import BlockingStats, block_keys, keys_fingerprint
from linkage.match.compare import FEATURES, HOME_LEVELS, LEVELS, RETURN_LEVELS
from linkage.match.events import EventRow, group_returns
from linkage.match.first_link import Returns, event_rows
from linkage.match.frame import RECORD_COLUMNS, build_frame
from linkage.match.ids import allocate, id_number
from linkage.match.model import MatchModel
from linkage.match.spec import ModelSpec, spec_for
from linkage.match.stored import (
    chunks,
    decisions,
    forget_keys,
    in_content_order,
    key_rows,
    read_records,
    stored_candidates,
    stored_keys,
    write_keys,
)
from linkage.referral import changes
from linkage.settings import Settings
from linkage.store.bulk import analyze, indexes_deferred, insert_columns, remembered, update_rows
from linkage.store.db import audit, session_scope
from linkage.store.locks import one_at_a_time
from linkage.store.models import (
    BlockingKey,
    CandidatePair,
    Delivery,
    LinkModel,
    MatchDecision,
    Person,
    PersonAlias,
    PersonRecord,
    Record,
    RecordFrame,
    ReturnEvent,
    utcnow,
)
from linkage.store.sealed import read_records_frame

Progress = Callable[[str], None]
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
    pairs_for_review: int = 0  # put in the queue officers are shown (match/queue.py)
    pairs_in_band: int = 0  # kept for review in all (the queue's and those waiting behind it)
    links_refused: int = 0
    links_one_to_one: int = 0  # pairs linked as two lists' one man for a return (mutual.py)
    model: str = ""
    blocking: BlockingStats = field(default_factory=BlockingStats)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k not in {"blocking", "seconds"}}
        d["candidate_pairs_by_pass"] = dict(self.blocking.pairs_by_pass)
        d["seconds"] = {k: round(v, 2) for k, v in self.seconds.items()}
        return d


def _all_record_ids(session: Session) -> list[int]:
    return [int(i) for i in session.execute(select(Record.id)).scalars()]


def _count_linked(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(PersonRecord)) or 0)


def _store_grew(session: Session, threshold: float) -> bool:
    """Whether the store holds at least `threshold` records, without counting them when
    the ids alone say no.

    Why: a count reads a whole index of the record table (0.1-0.9 s at a million records,
    by h3-scale's figures), on every delivery, to learn what is nearly always "not yet". Ids are
    distinct integers, so there are at most max - min + 1 records: two index probes. Only
    when that bound reaches the threshold (gaps from erasures or rolled-back sequences) is
    the count made, so the answer is the count's. Two statements: SQLite probes the index
    for a query of one min() or max() alone, and scans it for both in one (0.12 s warm at
    a million records, for two probes).
    """
    low = session.scalar(select(func.min(Record.id)))
    high = session.scalar(select(func.max(Record.id)))
    if low is None or high is None or high - low + 1 < threshold:
        return False
    return int(session.scalar(select(func.count()).select_from(Record)) or 0) >= threshold


def _record_sources(session: Session) -> set[str]:
    """The distinct sources of records, one index probe each (uq_record_source_key leads
    with the source): a DISTINCT walked the whole index, a million entries for five sources."""
    found: set[str] = set()
    last: str | None = None
    while True:
        stmt = select(Record.source).order_by(Record.source).limit(1)
        last = session.scalar(stmt if last is None else stmt.where(Record.source > last))
        if last is None:
            return found
        found.add(last)


def _refit_reason(session: Session, model: MatchModel, settings: Settings, spec: ModelSpec) -> str | None:
    """Weights fitted for other comparison levels, on a smaller store, before a source
    existed, or before reviewers had decided enough pairs (or many more), are fitted again:
    why, or None."""
    if model.weights_digest != spec.weights_digest() or any(
        len(model.m.get(f, ())) != len(LEVELS[f]) for f in FEATURES
    ):
        return "the model spec changed since the weights were fitted"
    grown = _store_grew(session, settings.refit_growth * max(model.records, 1))
    sources = _record_sources(session)
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


# Linked records whose keys are made again at once (after a spec change or the upgrade).
_REKEY_CHUNK = 200_000


def _rekey_if_needed(s: Session, spec: ModelSpec, say: Progress) -> None:
    """Stored keys made under other key definitions, or missing (the upgrade that moved
    them into blocking_key), are made again from the records (once)."""
    model = latest_model(s)
    if model is None:
        return
    fingerprint = keys_fingerprint(spec)
    linked = s.scalar(select(PersonRecord.record_id).limit(1)) is not None
    keyed = s.scalar(select(BlockingKey.key).limit(1)) is not None
    if model.keys_digest == fingerprint and (keyed or not linked):
        return
    say("making the stored records' blocking keys again (the spec's blocking keys changed)")
    forget_keys(s, None)
    last = -1
    while True:
        ids = s.scalars(
            select(PersonRecord.record_id)
            .where(PersonRecord.record_id > last)
            .order_by(PersonRecord.record_id)
            .limit(_REKEY_CHUNK)
        ).all()
        if not ids:
            break
        last = int(ids[-1])
        frame = build_frame(read_records(s, [int(i) for i in ids]))
        write_keys(s, key_rows(block_keys(frame, spec), frame["record_id"].to_numpy(), spec))
    model.keys_digest = fingerprint
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
_SHARED_WORDS = {
    "family_name": "family name",
    "father": "father",
    "phone": "phone",
    "context": "home",
    "village": "village",
}
# the lowest level of each that counts as shared, where not the top two (a phone one slip
# off the other is no phone a family shares)
_SHARED_FROM = {"phone": LEVELS["phone"].index("same")}
_OWN_WORDS = {"given_name": "given names differ", "birth": "births differ", "id_document": "IDs differ"}
# the highest level of each at which it still says "differ" (a house name is a given name
# that differs; births 3-5 years apart differ)
_OWN_DIFFER_UP_TO = {"given_name": LEVELS["given_name"].index("a house name"), "birth": 1, "id_document": 0}


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
        elif lv >= _SHARED_FROM.get(f, len(LEVELS[f]) - 2) and lv >= 1:
            shared.append(word)
    own = [word for f, word in _OWN_WORDS.items() if 0 <= int(levels[f]) <= _OWN_DIFFER_UP_TO[f]]
    text = "same family, likely another man"
    if shared:
        listed = [", ".join(shared[:-1]), shared[-1]] if len(shared) > 1 else shared
        text += ": shares " + " and ".join(listed)
    if own:
        text += "; " + ", ".join(own)
    return text


def _nothing_to_keep() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, "datetime64[ns]")


@dataclass
class _Batch:
    """The records one run links (new ones first) and the stored records they may meet,
    with the persons those belong to and reviewers' decisions between them."""

    frame: pd.DataFrame
    keys: pd.DataFrame
    n_new: int
    stored: dict[int, str]  # stored record id -> its person
    decided: dict[tuple[int, int], str]  # position pairs (low, high) -> same / different
    returns: Returns  # what grouping returns needs of the new records (first_link.py)
    # rows for record_frame (frame_cache.py): the new records' and the stored ones built
    # from their records (none kept): positions in frame, their lines and loaded_at
    to_keep: tuple[np.ndarray, np.ndarray, np.ndarray] = field(default_factory=lambda: _nothing_to_keep())

    @property
    def is_new(self) -> np.ndarray:
        flags = np.zeros(len(self.frame), dtype=bool)
        flags[: self.n_new] = True
        return flags

    def new_record_ids(self) -> np.ndarray:
        return self.frame["record_id"].to_numpy()[: self.n_new].astype(np.int64)

    def take_keys(self) -> pd.DataFrame:
        """The keys, no longer held here (whoever takes them may let them go)."""
        keys, self.keys = self.keys, None  # type: ignore[assignment]
        return keys

    def initial(self) -> np.ndarray:
        """The stored persons as starting labels (-1: a new record)."""
        rid = self.frame["record_id"].to_numpy()[self.n_new :].tolist()
        out = np.full(len(self.frame), -1, dtype=np.int64)
        # codes in order of first appearance, as factorize numbers them: one C pass, not a
        # dict lookup per stored record (60,000 a delivery at a million records)
        persons = _persons_of(self.stored, rid)
        out[self.n_new :] = pd.factorize(persons)[0] if len(persons) else np.empty(0, np.int64)
        return out


def _new_records(s: Session, rebuild: bool, old_assignment: dict[int, str]) -> pd.DataFrame:
    """Every record on a rebuild; else the unlinked ones and those a decision detached."""
    if rebuild:
        stmt = select(*[getattr(Record, c) for c in RECORD_COLUMNS])
        return in_content_order(read_records_frame(s.connection(), stmt))
    records = read_records(s, None)
    detached = sorted(set(old_assignment) - set(records["id"].tolist()))
    if detached:  # records a reviewer's decision unlinked, from deliveries linked before
        parts = [p for p in (records, read_records(s, detached)) if not p.empty]
        records = pd.concat(parts, ignore_index=True) if parts else records
    return records


def _gather(
    s: Session, spec: ModelSpec, rebuild: bool, old_assignment: dict[int, str], lap: Callable[[str], None]
) -> _Batch | None:
    """The batch this run links, or None when there is nothing new."""
    new_records = _new_records(s, rebuild, old_assignment)
    lap("read new")
    if new_records.empty:
        return None
    new_frame = build_frame(new_records)
    returns = Returns.of(new_records)
    new_lines = new_records["line"].to_numpy(dtype=np.int64)
    new_loaded = new_records["loaded_at"].to_numpy(dtype="datetime64[ns]")
    del new_records
    new_keys = block_keys(new_frame, spec)
    lap("frame and keys")
    first = s.scalar(select(BlockingKey.key).limit(1)) is None  # nothing stored to meet
    met = None if rebuild or first else stored_candidates(s, new_keys, spec)
    stored = {} if met is None else met.persons
    lap("find stored")
    new_ids = set(new_frame["record_id"].tolist())
    pairs = decisions(s, new_ids)
    for a, b, _d in pairs:  # a decided partner must be in the frame to apply
        for rid in (a, b):
            if rid not in new_ids and rid not in stored:
                pid = s.execute(
                    select(PersonRecord.person_id).where(PersonRecord.record_id == rid)
                ).scalar_one_or_none()
                if pid:
                    stored[rid] = pid
    frame, keys = new_frame, new_keys
    keep = (np.arange(len(new_frame)), new_lines, new_loaded)
    if stored:
        # kept rows where the records have one, else built from the records
        got = frame_cache.stored_frame(s, sorted(stored), read_records)
        old_frame = got.frame
        keep = (
            np.r_[keep[0], len(new_frame) + got.built],
            np.r_[new_lines, np.asarray(got.lines, dtype=np.int64)],
            np.r_[new_loaded, np.asarray(got.loaded_at, dtype="datetime64[ns]")],
        )
        del got
        lap("read stored")
        frame = pd.concat([new_frame, old_frame], ignore_index=True)
        old_keys = block_keys(old_frame, spec) if met is None else stored_keys(met, old_frame, spec)
        keys = pd.concat([new_keys, old_keys], ignore_index=True)
        lap("stored keys")
    lap("read stored")
    pos_of = {int(r): i for i, r in enumerate(frame["record_id"].tolist())}
    decided = {tuple(sorted((pos_of[a], pos_of[b]))): d for a, b, d in pairs if a in pos_of and b in pos_of}
    return _Batch(frame, keys, len(new_frame), stored, decided, returns, keep)  # type: ignore[arg-type]


def _stored_model(
    s: Session, settings: Settings, spec: ModelSpec, batch: _Batch, rebuild: bool, refit: bool, say: Progress
) -> tuple[MatchModel | None, str]:
    """The weights to score with, and what became of them. None: fit them on the batch's
    own candidates (a first run or a rebuild: the batch is the whole store)."""
    model = None if (rebuild or refit) else latest_model(s)
    why = "asked" if refit else "rebuild" if rebuild else "first run"
    if model is not None and (reason := _refit_reason(s, model, settings, spec)):
        model, why = None, reason
    if model is not None:
        return model, "reused"
    say(f"fitting match weights ({why})")
    if rebuild or not batch.stored and not _count_linked(s):
        return None, f"fitted ({why})"
    everything = build_frame(read_records(s, _all_record_ids(s)))
    return engine.fit(everything, spec, same=_same_positions(s, everything)), f"fitted ({why})"


class _Laps:
    """Seconds per phase of a run, into the summary; a long phase's freed memory goes back
    to the system as it ends (memory.py: the next phase's peak then holds none of it).

    Why only a long one's: giving back walks the heap, 12-17 ms over a heap of 1.5 GB; after
    a phase of a second or more that is at most 2% of it (the million's big phases), while a
    delivery's twenty short phases would pay it twenty times and free little."""

    GIVE_BACK_AFTER = 1.0  # seconds

    def __init__(self, summary: LinkSummary) -> None:
        self.summary, self.clock = summary, time.perf_counter()

    def __call__(self, name: str) -> None:
        if time.perf_counter() - self.clock >= self.GIVE_BACK_AFTER:
            memory.give_back()  # counted in the phase whose memory it frees
        now = time.perf_counter()
        self.summary.seconds[name] = self.summary.seconds.get(name, 0.0) + now - self.clock
        self.clock = now


@one_at_a_time("link", "linking")  # two links at once would race for person ids: the second waits
def link(
    settings: Settings, rebuild: bool = False, refit: bool = False, progress: Progress | None = None
) -> LinkSummary:
    """Link every unlinked record (or, with rebuild, every record) into persons."""
    say = progress or (lambda _msg: None)
    spec = spec_for(settings)
    summary = LinkSummary()
    memory.map_big_arrays()  # each big array back to the system when freed (memory.py)
    lap = _Laps(summary)
    with session_scope(settings) as s:
        lap("open")
        say("applying reviewers' decisions")
        old_assignment, old_events = _detach(s, rebuild)
        if not rebuild:
            _rekey_if_needed(s, spec, say)
        lap("detach")
        say("reading new records")
        batch = _gather(s, spec, rebuild, old_assignment, lap)
        if batch is None:
            summary.model = "no new records"
            return summary
        model, summary.model = _stored_model(s, settings, spec, batch, rebuild, refit, say)
        lap("model")
        # the new records' keys go to the store now (they do not depend on the persons), so
        # the engine can drop the frame of keys once blocking is done: at 981,187 records
        # about 0.6 GB that scoring and clustering otherwise held
        _keep_keys(s, batch.keys.iloc[: batch.n_new], batch.new_record_ids(), old_assignment, spec)
        lap("keys")
        kept_rows = _keep_frame_rows(s, batch, rebuild)
        lap("frame rows")
        say(f"linking {batch.n_new} new records with {len(batch.frame) - batch.n_new} stored ones")
        linked = engine.link_frame(
            batch.frame,
            spec,
            batch.take_keys(),
            model,
            batch.is_new,
            batch.initial(),
            engine.Decisions.at_positions(batch.decided),
            same_for_fit=_same_positions(s, batch.frame) if model is None else None,
            lap=lap,
        )
        if summary.model.startswith("fitted"):
            s.add(LinkModel(kind=linked.model.kind, params=linked.model.to_params()))
        summary.blocking = linked.candidates.stats
        summary.pairs_compared = len(linked.candidates)
        summary.links_refused = len(linked.outcome.refused)
        one = linked.scores.one_to_one
        summary.links_one_to_one = 0 if one is None else int(one.sum())
        pairs = _plan_pairs(batch.frame, linked, settings.link_threshold, batch.decided)
        labels = linked.labels
        # what is written from here on needs the labels, record ids, deliveries and keys only
        del linked, one
        summary.blocking.pass_mask = np.empty(0, np.int32)
        batch.frame = batch.frame[["record_id", "delivery"]]
        lap("plan pairs")
        frame_cache.settle(s, kept_rows)  # no row of a record re-sent since it was read
        lap("frame rows")
        _persist(
            s, settings, spec, batch, labels, pairs, old_assignment, old_events, rebuild, summary, say, lap
        )
    lap("commit")
    return summary


@one_at_a_time("link", "linking")  # its rows are a link's to write: none is written twice at once
def fill_frame_rows(settings: Settings, progress: Progress | None = None, chunk: int = 100_000) -> int:
    """Make every linked record's comparison row that is missing or of other frame code
    (frame_cache.py), a chunk per transaction, so an interrupted fill goes on where it
    stopped; how many. Why a command: after the upgrade that added the rows, or a change
    of the frame code, a delivery would otherwise make the rows of what it meets itself."""
    say = progress or (lambda _msg: None)
    total, after = 0, -1
    while after is not None:
        with session_scope(settings) as s:
            n, last = frame_cache.fill_chunk(s, read_records, after, chunk)
        total += n
        after = last if last >= 0 else None
        if n:
            say(f"comparison rows made: {total}")
    if total:
        with session_scope(settings) as s:
            analyze(s, (RecordFrame.__table__,))  # PostgreSQL: the planner sees the rows
    return total


def _persist(
    s: Session,
    settings: Settings,
    spec: ModelSpec,
    batch: _Batch,
    labels: np.ndarray,
    pairs: _PairPlan,
    old_assignment: dict[int, str],
    old_events: dict[int, str],
    rebuild: bool,
    summary: LinkSummary,
    say: Progress,
    lap: _Laps,
) -> None:
    """Persons, return events and the review queue of a run, into the store.

    When the store links no record yet (a first link, a rebuild), every person's records
    are the batch's, so returns are grouped from memory and each person_record row is
    written once with its event (first_link.py); else the rows are written, then read back
    with the persons' stored records to group returns, then given their events."""
    say("assigning permanent ids")
    loaded = (PersonRecord.__table__, ReturnEvent.__table__)
    alone = s.scalar(select(PersonRecord.record_id).limit(1)) is None
    window = settings.event_window_days
    with indexes_deferred(s, loaded) as first_load:
        new = _assign_persons(
            s, batch.frame, batch.is_new, labels, batch.stored, old_assignment, summary,
            link_now=not alone,
        )  # fmt: skip
        lap("persons")
        say("grouping returns")
        follows = settings.intake_follows_days
        if alone:
            links: dict[int, str] = {}
            rows = event_rows(batch.returns, new.record_ids, new.persons, old_events, _EVENT_BATCH)
            made = _regroup_events(s, new.affected, window, old_events, follows, rows, links)
            summary.events_created = made
            summary.records_linked = _link_new_records(s, new.record_ids, new.persons, links, new.now)
            _recount(s, new.grown, new.now)
        else:
            summary.events_created = _regroup_events(s, new.affected, window, old_events, follows)
        lap("events")
    if first_load:
        # the record and its rows too: a first delivery finds its stored records' rows by id
        written = (Person.__table__, BlockingKey.__table__, Record.__table__, RecordFrame.__table__)
        analyze(s, (*loaded, *written))
    lap("indexes")
    _upsert_pairs(s, pairs.rows)
    _queue_for_flags(s, batch, new, old_assignment, pairs, alone)
    summary.pairs_linked, summary.pairs_in_band = pairs.linked, pairs.band
    summary.pairs_for_review = pairs.queued
    lap("pairs")
    _supersede_settled_reviews(s, None if rebuild else new.affected)
    lap("settled")
    delivered = batch.frame["delivery"].iloc[: batch.n_new].unique().tolist()
    s.execute(update(Delivery).where(Delivery.sha256.in_(delivered)).values(linked_at=utcnow()))
    audit(s, "link", None, **{k: v for k, v in summary.as_dict().items() if k != "seconds"})
    lap("store")


def _queue_for_flags(
    s: Session, batch: _Batch, new: _Assigned, old_assignment: dict[int, str], pairs: _PairPlan, alone: bool
) -> None:
    """The persons whose flags this run may change, for the next flag run (changes.py): those
    it grew, made, merged or split, and both men of each review pair it kept. A first link or
    a rebuild changed everyone: the next flag run recomputes all."""
    if alone:
        changes.forget_state(s)
        return
    person_of = dict(zip(new.record_ids.tolist(), new.persons, strict=True))
    in_pairs = {r[k] for r in pairs.rows for k in ("record_a", "record_b")}
    paired = {person_of.get(r) or batch.stored.get(r) or "" for r in in_pairs}
    changes.queue_persons(s, new.affected | new.merged | set(old_assignment.values()) | paired)


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
        forget_keys(s, None)
    else:
        for chunk in chunks(sorted(assignment)):
            s.execute(delete(PersonRecord).where(PersonRecord.record_id.in_(chunk)))
    return assignment, events


@dataclass
class _Assigned:
    """The persons a run's new records join (by position among them), and the persons
    whose records or events changed."""

    record_ids: np.ndarray  # the new records' ids
    persons: list[str]  # each new record's person
    affected: set[str]  # persons whose returns are grouped again
    grown: set[str]  # stored persons to count again once the new rows are written
    now: Any
    merged: set[str] = field(default_factory=set)  # ids merged into others this run


@dataclass
class _Choice:
    """Which permanent id each cluster gets, and which persons merge into which."""

    clusters: dict[int, int]  # cluster label -> its size, in order of first appearance
    chosen: dict[int, str] = field(default_factory=dict)  # cluster label -> person id
    merges: dict[str, str] = field(default_factory=dict)  # merged id -> surviving id
    taken: set[str] = field(default_factory=set)


def _choose_ids(
    rid: np.ndarray, is_new: np.ndarray, labels: np.ndarray, stored: dict[int, str], old: dict[int, str]
) -> _Choice:
    """Ids kept: a cluster holding stored records keeps the oldest of their persons' ids
    (the others merge into it); detached records (a rebuild, or a reviewer's decision) get
    back the id they had, by largest overlap, older ids first, each id to one cluster only.

    Only the stored and detached records are looked at one by one: a first link of a
    million records has none, and a pass over every cluster's members cost 3 s there."""
    lab_list, rid_list = labels.tolist(), rid.tolist()
    uniq, first, size = np.unique(labels, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")
    c = _Choice(dict(zip(uniq[order].tolist(), size[order].tolist(), strict=True)))
    clusters = c.clusters
    olds_of = _persons_of_clusters(rid, is_new, labels, stored)
    for lab in clusters if olds_of else ():  # in cluster order: a person split over two merges once
        if lab in olds_of:
            olds = sorted(olds_of[lab], key=id_number)
            c.chosen[lab] = olds[0]
            c.merges.update((p, olds[0]) for p in olds[1:])
    c.taken = set(c.chosen.values()) | set(c.merges)
    counts_of: dict[int, Counter] = {}  # cluster -> its detached records' previous persons
    for i, r in enumerate(rid_list) if old else ():
        if p := old.get(r):
            counts_of.setdefault(lab_list[i], Counter())[p] += 1
    ranked = []
    for lab, counts in counts_of.items():
        if lab not in c.chosen:
            ranked += [(-n, id_number(p), lab, p) for p, n in counts.items() if p not in c.taken]
    for _n, _num, lab, p in sorted(ranked):
        if lab not in c.chosen and p not in c.taken:
            c.chosen[lab] = p
            c.taken.add(p)
    return c


def _persons_of(stored: dict[int, str], record_ids: list[int]) -> np.ndarray:
    """The person of each stored record, as an object array (one C pass over the ids)."""
    return np.asarray(list(map(stored.__getitem__, record_ids)), dtype=object)


def _persons_of_clusters(
    rid: np.ndarray, is_new: np.ndarray, labels: np.ndarray, stored: dict[int, str]
) -> dict[int, set[str]]:
    """Each cluster holding stored records -> the persons of those records.

    Why by distinct (cluster, person): a delivery's frame holds some 60,000 stored records
    of far fewer persons, and a set update per record was most of choosing the ids."""
    at = np.flatnonzero(~is_new)
    if not len(at):
        return {}
    codes, names = pd.factorize(_persons_of(stored, rid[at].tolist()))
    pairs = np.unique(labels[at].astype(np.int64) * len(names) + codes)
    out: dict[int, set[str]] = {}
    for lab, code in zip((pairs // len(names)).tolist(), (pairs % len(names)).tolist(), strict=True):
        out.setdefault(lab, set()).add(names[code])
    return out


def _assign_persons(
    s: Session,
    frame: pd.DataFrame,
    is_new: np.ndarray,
    labels: np.ndarray,
    stored: dict[int, str],
    old_assignment: dict[int, str],
    summary: LinkSummary,
    link_now: bool = True,
) -> _Assigned:
    """Give each cluster a permanent id; merged persons become aliases of the oldest.
    With link_now, links the new records (person_record rows without events) and counts
    the stored persons they joined; else the caller does both once it knows their events
    (a first link). Their blocking keys are already kept (link, before the engine)."""
    rid = frame["record_id"].to_numpy()
    now = utcnow()
    c = _choose_ids(rid, is_new, labels, stored, old_assignment)
    with_new = set(labels[is_new].tolist())
    fresh = [lab for lab in c.clusters if lab not in c.chosen and lab in with_new]
    s.flush()  # what the session holds goes first: the rows below bypass it
    fresh_ids = allocate(s, "person", len(fresh))
    c.chosen.update(zip(fresh, fresh_ids, strict=True))
    # a fresh person holds only new records (a stored one would have given him its id)
    counts = [c.clusters[lab] for lab in fresh]
    same = {"created_at": now, "updated_at": now, "status": "active"}
    insert_columns(s, Person.__table__, {"person_id": fresh_ids, "record_count": counts}, same)
    summary.persons_created = len(fresh)
    # A previous id that no cluster kept resolves to where most of its records went.
    lost = set(old_assignment.values()) - c.taken
    if lost:
        label_of = dict(zip(rid.tolist(), labels.tolist(), strict=True))
        where_of: dict[str, Counter] = {}  # in old_assignment's order, as ties break
        for r, q in old_assignment.items():
            if q in lost and r in label_of:
                where_of.setdefault(q, Counter())[label_of[r]] += 1
        for p in sorted(lost, key=id_number):
            if where := where_of.get(p):
                c.merges[p] = c.chosen[where.most_common(1)[0][0]]
    new_pos = np.flatnonzero(is_new)
    record_ids = rid[new_pos].astype(np.int64)
    persons = list(map(c.chosen.__getitem__, labels[new_pos].tolist()))
    if link_now:  # before the merges: a merged person's rows move, new ones included
        summary.records_linked = _link_new_records(s, record_ids, persons, None, now)
    _merge_persons(s, c.merges, now)
    summary.persons_merged = len(c.merges)
    linked_to = set(persons)
    summary.persons_grown = len(linked_to - set(fresh_ids))
    affected = linked_to | set(c.merges.values())
    grown = affected - set(fresh_ids)  # fresh persons were written counted
    if link_now:
        _recount(s, grown, now)
    return _Assigned(record_ids, persons, affected, grown, now, set(c.merges))


def _keep_frame_rows(s: Session, batch: _Batch, rebuild: bool) -> frame_cache.Written:
    """The comparison rows of the records this run built a frame for, into record_frame:
    the new records' and the stored ones that had none (frame_cache.py). A first link or a
    rebuild writes every row (whose rows are then settled over the whole table)."""
    at, lines, loaded = batch.to_keep
    batch.to_keep = _nothing_to_keep()
    whole = rebuild or s.scalar(select(PersonRecord.record_id).limit(1)) is None
    if whole:
        frame_cache.forget(s, None)
    written = frame_cache.Written(None if whole else [])
    frame_cache.write(s, batch.frame, at, lines, loaded, written, replace=not whole)
    return written


def _keep_keys(
    s: Session, keys: pd.DataFrame, record_ids: np.ndarray, old_assignment: dict[int, str], spec: ModelSpec
) -> None:
    """The new records' blocking keys, into the store (a detached record's replace its own)."""
    rows = key_rows(keys, record_ids, spec)
    again = rows["record_id"].isin(list(old_assignment))  # detached: their keys are still stored
    if again.any():
        forget_keys(s, rows[again])
    write_keys(s, rows)


def _link_new_records(
    s: Session, record_ids: np.ndarray, persons: list[str], events: dict[int, str] | None, now: Any
) -> int:
    """person_record rows of the new records (in record id order), with their events when
    known (else the events come later); how many."""
    order = np.argsort(record_ids, kind="stable")
    rids = record_ids[order].tolist()
    values = {"record_id": rids, "person_id": np.asarray(persons, dtype=object)[order].tolist()}
    if events is not None:
        values["event_id"] = list(map(events.__getitem__, rids))
    return insert_columns(s, PersonRecord.__table__, values, {"linked_at": now})


def _merge_persons(s: Session, merges: dict[str, str], now: Any) -> None:
    """Each merged person's records and aliases move to the survivor; his id stays an alias."""
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
    s.flush()


def _recount(s: Session, persons: set[str], now: Any) -> None:
    """These persons' record counts from the store (they hold stored records too)."""
    count = (
        select(func.count())
        .select_from(PersonRecord)
        .where(PersonRecord.person_id == Person.person_id)
        .scalar_subquery()
    )
    for chunk in chunks(sorted(persons)):
        s.execute(
            update(Person)
            .where(Person.person_id.in_(chunk))
            .values(record_count=count, status="active", merged_into=None, updated_at=now)
        )


_EVENT_COLUMNS = (
    PersonRecord.person_id,
    PersonRecord.record_id,
    PersonRecord.event_id,
    Record.return_date,
    Record.country,
    Record.point_of_entry,
    Record.intake_date,
    Record.loaded_at,
)
# Persons whose events are regrouped at once when every person's are (a first link).
_EVENT_BATCH = 20_000


def _event_rows(
    s: Session, persons: set[str], old_events: dict[int, str]
) -> Iterator[dict[str, list[EventRow]]]:
    """The changed persons' records as EventRows, a batch of persons at a time, in id order.

    Few persons: looked up by id. Many (a first link or a rebuild): one scan of person_record
    in person order, read whole before anything is written, so a million persons cost one
    query, not a thousand.
    """

    def row(*values: Any) -> EventRow:
        rid, eid, ret, country, poe, intake, loaded = values
        return EventRow(
            record_id=int(rid),
            return_date=ret,
            country=country,
            point_of_entry=poe,
            other_date=intake or (loaded.date() if loaded else None),
            previous_event=eid or old_events.get(int(rid)),
            intake_date=intake,
        )

    query = select(*_EVENT_COLUMNS).join(Record, Record.id == PersonRecord.record_id)
    if len(persons) <= _WHOLE_SCAN_PERSONS:
        for chunk in chunks(sorted(persons)):
            by_person: dict[str, list[EventRow]] = {}
            for pid, *rest in s.execute(query.where(PersonRecord.person_id.in_(chunk))).all():
                by_person.setdefault(pid, []).append(row(*rest))
            yield by_person
        return
    batch: dict[str, list[EventRow]] = {}
    for pid, *rest in _all_rows(s, query.order_by(PersonRecord.person_id)):
        if pid not in persons:
            continue
        if pid not in batch and len(batch) >= _EVENT_BATCH:
            yield batch
            batch = {}
        batch.setdefault(pid, []).append(row(*rest))
    if batch:
        yield batch


def _all_rows(s: Session, query: Any) -> list[tuple]:
    """Every row of a query without bound parameters, as SQLAlchemy would give its values,
    read through the driver's cursor with each column's result processor remembering what
    it made of each stored value.

    Why: a first link reads back a million persons' records to group their returns; as
    SQLAlchemy rows, with SQLite's date processor parsing three dates a row one by one,
    that was a third of grouping them (return dates and load times repeat: a few thousand
    distinct values)."""
    s.flush()
    conn = s.connection()
    compiled = query.compile(dialect=conn.dialect)
    procs = [c.type._cached_result_processor(conn.dialect, None) for c in query.selected_columns]
    at = [(i, remembered(p)) for i, p in enumerate(procs) if p is not None]
    cur = conn.connection.dbapi_connection.cursor()
    try:
        cur.execute(str(compiled))
        rows = cur.fetchall()
    finally:
        cur.close()
    if not at:
        return rows
    out = []
    for row in rows:
        values = list(row)
        for i, p in at:
            if values[i] is not None:
                values[i] = p(values[i])
        out.append(tuple(values))
    return out


def _regroup_events(
    s: Session,
    persons: set[str],
    window_days: int,
    old_events: dict[int, str],
    follows_days: int = 0,
    rows: Iterator[dict[str, list[EventRow]]] | None = None,
    links: dict[int, str] | None = None,
) -> int:
    """Recompute return events of the changed persons, keeping event ids by overlap.

    An event id goes to at most one group in a run (older ids first), so a split person
    never shares an event with the part that left; ids nobody claims are retired.
    rows: the persons' records (None: read from the store, `_event_rows`); links: where
    each record's event goes (None: into its person_record row at once).
    """
    created = 0
    now = utcnow()
    claimed: set[str] = set()
    previous_ids: set[str] = set()
    for by_person in _event_rows(s, persons, old_events) if rows is None else rows:
        planned: list[tuple[str, Any, str | None]] = []  # (person, group, kept id or None)
        for pid in sorted(by_person, key=id_number):
            recs = by_person[pid]
            previous = {r.record_id: r.previous_event for r in recs if r.previous_event}
            previous_ids.update(previous.values())
            for g in group_returns(recs, window_days, follows_days):
                pick = None
                if previous:  # a first link's records had none
                    counts = Counter(previous[r] for r in g.record_ids if r in previous)
                    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], id_number(kv[0])))
                    pick = next((eid for eid, _n in ranked if eid not in claimed), None)
                if pick:
                    claimed.add(pick)
                planned.append((pid, g, pick))
        created += _write_events(s, planned, claimed, now, links)
    for chunk in chunks(sorted(previous_ids - claimed)):
        s.execute(
            update(ReturnEvent)
            .where(ReturnEvent.event_id.in_(chunk))
            .values(status="retired", updated_at=now)
        )
    return created


def _write_events(
    s: Session,
    planned: list[tuple[str, Any, str | None]],
    claimed: set[str],
    now: Any,
    links_out: dict[int, str] | None = None,
) -> int:
    """Events of planned groups into the store (new ids for groups that kept none), and each
    record's event (into its person_record row, or into links_out); how many are new."""
    fresh = iter(allocate(s, "event", sum(1 for *_x, pick in planned if pick is None)))
    inserts, changes, links = [], [], []
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
        links += [(r, row["event_id"]) for r in g.record_ids]
    existing = set()
    for ids in chunks([r["event_id"] for r in changes]):
        existing.update(
            s.execute(select(ReturnEvent.event_id).where(ReturnEvent.event_id.in_(ids))).scalars()
        )
    inserts += [r for r in changes if r["event_id"] not in existing]  # kept ids from a rebuild
    changes = [r for r in changes if r["event_id"] in existing]
    if changes:
        s.execute(update(ReturnEvent), changes)
    s.flush()
    if inserts:
        varying = [c for c in _EVENT_FIELDS if c not in {"status", "updated_at"}]
        same = {"status": "active", "updated_at": now, "created_at": now}
        insert_columns(s, ReturnEvent.__table__, {c: [r[c] for r in inserts] for c in varying}, same)
    if links_out is None:
        update_rows(s, PersonRecord.__table__, "record_id", ("event_id",), links)
    else:
        links_out.update(links)
    return len(inserts)


_EVENT_FIELDS = (
    "event_id",
    "person_id",
    "return_date",
    "country",
    "point_of_entry",
    "record_count",
    "status",
    "updated_at",
)


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
    for chunk in chunks(sorted(persons)):
        ids = select(settled.where(a.c.person_id.in_(chunk)).subquery().c.id)
        s.execute(update(CandidatePair).where(CandidatePair.id.in_(ids)).values(status="superseded"))


@dataclass
class _PairPlan:
    """The candidate_pair rows a run keeps and its pair counts, planned before anything is
    written so that the engine's arrays can go (see `_plan_pairs`)."""

    rows: list[dict[str, Any]]
    linked: int
    band: int
    queued: int


def _plan_pairs(
    frame: pd.DataFrame,
    linked: engine.Linked,
    link_threshold: float,
    decided: dict[tuple[int, int], str],
) -> _PairPlan:
    """The review band's pairs to keep, the queue's marked with its chance of "same"; and
    the count of links, of the band's pairs kept and of the queue's.

    Links are not stored: `explain` recomputes them for one person with the stored model.
    Why planned before the persons are written: the rows need the candidate pairs, their
    levels and scores (some 2 GiB at a million records), and persons and events need none
    of it, so the link frees them first.
    """
    labels, left, right = linked.labels, linked.candidates.left, linked.candidates.right
    n_link = int(((labels[left] == labels[right]) & (linked.scores.prob >= link_threshold)).sum())
    queued = dict(zip(linked.queue.pairs.tolist(), linked.queue.chance.tolist(), strict=True))
    rows = _pair_rows(frame, linked, linked.band, decided, "review", queued=queued)
    n_band, n_queue = len(rows), sum(r["queue_value"] is not None for r in rows)
    # a pair linked one to one (mutual.py) is kept with its reason: explain scores a
    # person's pairs alone, and alone its weight is below the link threshold
    one = linked.scores.one_to_one
    if one is not None and one.any():
        linked_one = np.flatnonzero(one & (labels[left] == labels[right]))
        rows += _pair_rows(frame, linked, linked_one, decided, "one-to-one", ONE_TO_ONE_WORDS)
    return _PairPlan(rows, n_link, n_band, n_queue)


ONE_TO_ONE_WORDS = (
    "linked one to one: two lists each name the other record first for this return, "
    "clearly ahead of their next candidates"
)


def _pair_rows(
    frame: pd.DataFrame,
    linked: engine.Linked,
    pairs: np.ndarray,
    decided: dict[tuple[int, int], str],
    band: str,
    summary: str | None = None,
    queued: dict[int, float] | None = None,
) -> list[dict[str, Any]]:
    """These candidate pairs not yet decided, as candidate_pair rows with their explanation:
    the review band's (open; the queue's with their chance of "same", the rest None: in
    the band, not shown), or the one-to-one links (with their reason)."""
    queued = queued or {}
    model = linked.model
    left, right, levels = linked.candidates.left, linked.candidates.right, linked.candidates.levels
    total, prob = linked.scores.total, linked.scores.prob
    rid = frame["record_id"].to_numpy()
    sub = levels.iloc[pairs]
    lv_arr = sub[FEATURES].to_numpy()
    w_arr = model.feature_weights(sub, frame)[FEATURES].to_numpy()
    family = model.family_odds(sub)
    swapped = sub["swapped"].to_numpy()
    rows = []
    for j, k in enumerate(np.asarray(pairs).tolist()):
        a, b = int(left[k]), int(right[k])
        if (a, b) in decided:
            continue
        ra, rb = sorted((int(rid[a]), int(rid[b])))
        value = queued.get(k)
        rows.append(
            {
                "record_a": ra,
                "record_b": rb,
                "probability": float(prob[k]),
                "weight": float(total[k]),
                "band": band,
                "explanation": explanation(
                    dict(zip(FEATURES, lv_arr[j], strict=True)),
                    dict(zip(FEATURES, w_arr[j], strict=True)),
                    bool(swapped[j]),
                    float(family[j]),
                )
                | ({"summary": summary} if summary else {}),
                "status": "open" if band == "review" else "linked",
                "queue_value": None if value is None else round(float(value), 4),
                "created_at": utcnow(),
            }
        )
    return rows


def _upsert_pairs(s: Session, rows: list[dict[str, Any]]) -> None:
    """Insert the pairs not stored yet; a pair already stored gets the new score and explanation."""
    for chunk in chunks(rows):
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
