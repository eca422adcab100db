"""What the linker reads from the store: records as frames, the stored records a delivery
may meet (through the indexed blocking keys), and reviewers' decisions.

Why apart from the linker: `link`, review and explain read records the same way, and the
lookups are where the cost of a small delivery against a large store lies.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from linkage.match.blocking import PASSES, PROBE_PASSES, REFINE, REFINE_ABOVE, STORED_KEY_COLUMNS
from linkage.match.frame import RECORD_COLUMNS
from linkage.store.models import Delivery, MatchDecision, PersonRecord, Record

CHUNK = 900  # bound parameters per IN list, safe on SQLite and PostgreSQL


def chunks(values: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def read_records(session: Session, ids: list[int] | None) -> pd.DataFrame:
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
        return in_content_order(pd.read_sql(stmt, conn))
    frames = [pd.read_sql(select(*cols).where(Record.id.in_(chunk)), conn) for chunk in chunks(ids)]
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


def stored_candidates(session: Session, new_keys: pd.DataFrame) -> dict[int, str]:
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
            for chunk in chunks(values):
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
        for chunk in chunks(sorted(places)):
            stmt = select(PersonRecord.record_id, column, stored_place).where(column.in_(chunk))
            stored.extend((int(r), int(k), p) for r, k, p in session.execute(stmt).all())
    for rid, key, _p in stored:
        members[key].add(("stored", rid))
    keep = sorted({rid for rid, key, p in stored if len(members[key]) <= REFINE_ABOVE or p in places[key]})
    out: dict[int, str] = {}
    for chunk in chunks(keep):
        rows = session.execute(
            select(PersonRecord.record_id, PersonRecord.person_id).where(PersonRecord.record_id.in_(chunk))
        ).all()
        out.update((int(r), p) for r, p in rows)
    return out


def stored_keys(key_row: dict[str, Any]) -> dict[str, int | None]:
    """A record's blocking keys and split places as PersonRecord stores them."""
    return {c: None if pd.isna(key_row[c]) else int(key_row[c]) for c in STORED_KEY_COLUMNS}


def decisions(session: Session, record_ids: set[int]) -> list[tuple[int, int, str]]:
    ids = sorted(record_ids)
    out: dict[tuple[int, int], str] = {}
    for chunk in chunks(ids):
        rows = session.execute(
            select(MatchDecision.record_a, MatchDecision.record_b, MatchDecision.decision).where(
                (MatchDecision.record_a.in_(chunk)) | (MatchDecision.record_b.in_(chunk))
            )
        ).all()
        out.update(((int(a), int(b)), d) for a, b, d in rows)
    return [(a, b, d) for (a, b), d in out.items()]
