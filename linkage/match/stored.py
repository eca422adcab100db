"""What the linker reads from the store: records as frames, the stored records a delivery
may meet (through the indexed blocking keys), and reviewers' decisions.

Why apart from the linker: `link`, review and explain read records the same way, and the
lookups are where the cost of a small delivery against a large store lies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, bindparam, delete, select
from sqlalchemy.orm import Session

from linkage.match.blocking import NO_KEY, salted, unsalted
from linkage.match.frame import RECORD_COLUMNS
from linkage.match.spec import ModelSpec
from linkage.store.bulk import insert_int_rows, one_of
from linkage.store.models import BlockingKey, Delivery, MatchDecision, PersonRecord, Record
from linkage.store.sealed import read_records_frame

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
        return in_content_order(read_records_frame(conn, stmt))
    if not ids:
        return pd.DataFrame(columns=RECORD_COLUMNS)
    stmt = select(*cols).where(ids_in(Record.id, ids, conn.dialect.name))
    return in_content_order(read_records_frame(conn, stmt, share=len(ids) > _SHARE_ABOVE))


# Records read by id past this many share equal values (the first link's and a refit's
# reads, which build frames of the whole store); a delivery's stored candidates do not.
_SHARE_ABOVE = 100_000


def ids_in(column: Any, ids: list[int], dialect: str) -> Any:
    """`column` is one of `ids`, as one query with one bound value (bulk.one_of), however
    many the ids: a delivery at a million records meets 29,645 stored records."""
    return one_of(column, [int(i) for i in ids], dialect, BigInteger())


def in_content_order(records: pd.DataFrame) -> pd.DataFrame:
    """Records ordered by what they are (source, file hash, line), not by when they loaded.

    Row ids follow the order deliveries happened to load in (parallel ingest tasks interleave
    them), and the weights' random sample and the clustering's ties follow row order: in
    content order the same lists give the same persons however they were loaded.
    """
    return records.sort_values(["source", "delivery_sha256", "line"], ignore_index=True, kind="stable")


def _salted(
    keys: pd.DataFrame, spec: ModelSpec
) -> Iterator[tuple[str, bool, np.ndarray, np.ndarray, np.ndarray | None]]:
    """Per key column of every pass: (pass, probe side, positions of the records that have
    the key, their keys salted by the pass, their splitting places or None)."""
    for p in spec.passes.values():
        place = keys[f"r_{p.split_by}"].to_numpy(dtype=np.int64, na_value=NO_KEY) if p.split_by else None
        for probe, columns in ((False, p.keys), (True, p.probe)):
            for c in columns:
                k = keys[c].to_numpy(dtype=np.int64, na_value=NO_KEY)
                given = np.flatnonzero(k != NO_KEY)
                yield (
                    p.name,
                    probe,
                    given,
                    salted(k[given], p.name),
                    place[given] if place is not None else None,
                )


def key_rows(keys: pd.DataFrame, record_ids: np.ndarray, spec: ModelSpec) -> pd.DataFrame:
    """The rows of blocking_key for records with these keys (block_keys' frame): one per
    key given, salted by its pass, with the splitting place where the pass splits; distinct,
    sorted by key, record and side (the table's order, so a first load appends).

    Why distinct as made: two rows of one key, record and side can only be one record's
    two keys of one pass and side that are equal (his two names alike), so a key equal to
    one of the record's earlier columns of that pass and side is left out as it is made.
    The order is two stable sorts (by record and side, then by key) instead of a three-key
    lexsort: 15M rows 8.9 -> about 6 CPU s. A sort by key alone is not enough: rows of one
    key out of record order do not land at the end of the table's last page, and SQLite
    then splits pages the slow way (the key rows of 981,187 records took minutes).
    """
    parts = []
    side: tuple[str, bool] | None = None
    earlier: list[tuple[np.ndarray, np.ndarray]] = []  # this pass and side's keys so far
    for name, probe, at, sk, places in _salted(keys, spec):
        if (name, probe) != side:  # a pass's columns come together, side by side
            side, earlier = (name, probe), []
        fresh = np.ones(len(at), dtype=bool)
        for given, full in earlier:
            fresh &= ~(given[at] & (full[at] == sk))
        earlier.append((_spread(len(keys), at, True), _spread(len(keys), at, sk)))
        if not fresh.all():
            at, sk = at[fresh], sk[fresh]
            places = places[fresh] if places is not None else None
        parts.append(
            (
                sk,
                record_ids[at].astype(np.int64),
                np.full(len(at), probe),
                places if places is not None else np.full(len(at), NO_KEY),
            )
        )
    del earlier
    columns = [np.concatenate(x) for x in zip(*parts, strict=True)] if parts else [np.empty(0, np.int64)] * 4
    del parts
    side_order = np.argsort(columns[1] * 2 + columns[2], kind="stable")
    order = side_order[np.argsort(columns[0][side_order], kind="stable")]
    del side_order
    # one column at a time, each set as its own block: at a million records these are 15
    # million rows (120 MB a column), and a frame built at once would copy them together
    rows = pd.DataFrame(index=pd.RangeIndex(len(order)))
    for name in ("key", "record_id", "probe", "place"):
        rows[name] = columns.pop(0)[order]
    return rows


def _spread(n: int, at: np.ndarray, values: np.ndarray | bool) -> np.ndarray:
    """n values, `values` at positions `at` (zero, or False, elsewhere)."""
    out = np.zeros(n, dtype=bool if isinstance(values, bool) else np.int64)
    out[at] = values
    return out


def write_keys(session: Session, rows: pd.DataFrame) -> int:
    """Key rows into blocking_key, in bulk, in the rows' order (a missing place as NULL)."""
    columns = ("key", "record_id", "probe", "place")
    values = [rows[c].to_numpy() for c in columns]
    return insert_int_rows(session, BlockingKey.__table__, columns, values, ("place", NO_KEY))


def forget_keys(session: Session, rows: pd.DataFrame | None) -> None:
    """Delete these key rows (None: every key); by primary key, so no scan."""
    if rows is None:
        session.execute(delete(BlockingKey))
        return
    table = BlockingKey.__table__
    for start in range(0, len(rows), 50_000):
        part = rows.iloc[start : start + 50_000]
        session.execute(
            delete(table).where(
                table.c.key == bindparam("k"),
                table.c.record_id == bindparam("r"),
                table.c.probe == bindparam("p"),
            ),
            [
                {"k": k, "r": r, "p": p}
                for k, r, p in zip(
                    part["key"].tolist(), part["record_id"].tolist(), part["probe"].tolist(), strict=True
                )
            ],
        )


def _wanted(
    keys: pd.DataFrame, spec: ModelSpec
) -> tuple[dict[int, tuple[str, bool]], dict[int, set], set[int]]:
    """Each salted key of the new records -> (its pass, from the probe side), for keys of
    a splitting pass the new records' places and positions under the key, and the key-side
    keys of the asymmetric passes (a key on both sides is the probe side's in the first)."""
    wanted: dict[int, tuple[str, bool]] = {}
    members: dict[int, set] = {}
    key_side: set[int] = set()
    for name, probe, at, sk, places in _salted(keys, spec):
        if spec.passes[name].probe and not probe:
            key_side.update(sk.tolist())
        for j, (i, key) in enumerate(zip(at.tolist(), sk.tolist(), strict=True)):
            wanted[key] = (name, probe)
            if places is not None:
                v = int(places[j])
                members.setdefault(key, set()).add(("new", i, None if v == NO_KEY else v))
    return wanted, members, key_side


def fetch_by_keys(session: Session, sql: str, keys: list[int], *extra: Any) -> list[tuple]:
    """Rows of `sql` (its `{keys}` the test that a column is one of the keys, then `extra`
    parameters), as one statement however many the keys, through the driver's own cursor.

    Why one statement: in IN lists of 900 a delivery's 40,000 keys at a million records
    were some fifty statements, each compiled and bound with its 900 parameters; SQLite
    takes them as one JSON array (json_each, searched through the primary key as an IN
    list is), PostgreSQL as one bigint array. Why the driver's cursor: the keys meet a few
    hundred thousand stored key rows at a million records, and SQLAlchemy's row objects
    cost several times what the driver's tuples do; these are plain integers that need no
    type processing. On PostgreSQL the array is cast to bigint[]: psycopg sends a Python
    int past 32 bits as numeric, and `bigint = numeric` cannot use the index.
    """
    if not keys:
        return []
    session.flush()
    conn = session.connection()
    pg = conn.dialect.name == "postgresql"
    test = "= ANY(%s::bigint[])" if pg else "IN (SELECT value FROM json_each(?))"
    cur = conn.connection.dbapi_connection.cursor()
    try:
        cur.execute(
            sql.format(keys=test, mark="%s" if pg else "?"), [keys if pg else json.dumps(keys), *extra]
        )
        return cur.fetchall()
    finally:
        cur.close()


def _sides(wanted: dict[int, tuple[str, bool]], spec: ModelSpec) -> dict[str, list[int]]:
    """The wanted keys by what is read for them: every stored row with its place, of a
    symmetric pass (`symmetric`: `_kept` then tells which bring their record), or the stored
    rows of the other side of an asymmetric pass (`probe`: the stored probe side, `keys`: the
    stored key side)."""
    out: dict[str, list[int]] = {"symmetric": [], "probe": [], "keys": []}
    for key in sorted(wanted):
        name, new_probe = wanted[key]
        if spec.passes[name].probe:
            out["keys" if new_probe else "probe"].append(key)
        else:
            out["symmetric"].append(key)
    return out


# Rows of a key come as one text of integers separated by spaces (`_grouped`): its
# records, or its records each followed by its place (NO_KEY for none).
_BY_KEY_PLACE = "SELECT key, {ids} FROM blocking_key WHERE key {{keys}} GROUP BY key"
_BY_KEY_SIDE = "SELECT key, {ids} FROM blocking_key WHERE key {{keys}} AND probe = {{mark}} GROUP BY key"


@dataclass
class Stored:
    """The stored records a delivery meets (-> their person), and the rows of blocking_key
    that met the delivery's keys, from which their keys for blocking are made again
    (`stored_keys`): of its symmetric passes (salted key, record, place; NO_KEY for no
    place), and of its asymmetric ones (salted key, record, from the probe side)."""

    persons: dict[int, str]
    rows: tuple[np.ndarray, np.ndarray, np.ndarray]
    wanted: dict[int, tuple[str, bool]]
    sided: tuple[np.ndarray, np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, bool))
    )


def _grouped(
    session: Session, sql: str, keys: list[int], width: int, *extra: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of blocking_key for these keys as (salted key per row, `width` integers per
    row): record ids, and with width 2 each one's place. `sql`'s `{ids}` is where the
    aggregate of a key's rows goes, its `{keys}` and `{mark}` fetch_by_keys'.

    Why a key's rows come as one text: a delivery at a million records reads some 800,000
    key rows (216,000 of its symmetric passes' keys, half a million of key sides a stored
    probe row met), and a driver's tuple per row cost 0.27 s per half million, one text
    per key read by one C parse 0.08 (the values are plain integers)."""
    pg = session.connection().dialect.name == "postgresql"
    if width == 1:
        each = "record_id::text" if pg else "record_id"
    elif pg:
        each = f"record_id::text || ' ' || coalesce(place, '{NO_KEY}'::bigint)::text"
    else:
        each = f"record_id || ' ' || ifnull(place, {NO_KEY})"
    agg = f"string_agg({each}, ' ')" if pg else f"group_concat({each}, ' ')"
    got = fetch_by_keys(session, sql.format(ids=agg), keys, *extra)
    texts = [t for _k, t in got]
    rows = np.fromiter((t.count(" ") + 1 for t in texts), np.int64, len(texts)) // width
    key = np.repeat(np.fromiter((k for k, _t in got), np.int64, len(got)), rows)
    values = np.fromstring(" ".join(texts), dtype=np.int64, sep=" ") if texts else np.empty(0, np.int64)
    if len(values) != len(key) * width:  # (a text that is not integers: fromstring stops at it)
        raise ValueError("blocking_key: a key's rows did not read back as integers")
    return key, values.reshape(len(key), width)


def _side_rows(session: Session, keys: list[int], probe: bool) -> tuple[np.ndarray, np.ndarray]:
    """(salted key, record) of the stored rows of these keys on one side of their pass."""
    key, values = _grouped(session, _BY_KEY_SIDE, keys, 1, probe)
    return key, values[:, 0]


def stored_candidates(session: Session, new_keys: pd.DataFrame, spec: ModelSpec) -> Stored:
    """Stored records sharing a blocking key with a new record, their persons and key rows.

    One pass over the new records' keys through the primary key of blocking_key. A block
    that blocking will split by place (a pass with split_by) brings only the stored records
    of the places its new records come from, once it holds more than refine_above records
    new and stored: at a million records "Sok, born 1990, D" holds hundreds of men across
    the country, and reading them all would cost more than the rest of the link. Block sizes
    count every stored record with the key, so the split is the one a full rebuild makes.
    (One difference remains: a stored record of another place brought in by another pass,
    a shared phone say, sits in the smaller block blocking then sees, which may not be
    split, so a delivery can meet a few more stored records than a rebuild would compare it
    with; never fewer.) An asymmetric pass meets across its sides only, and only the other
    side's rows bring records: a two-name man's family name and year meet every stored
    two-name man's too, none of which the pass pairs with him. Of those, only the keys a
    stored probe row met are read (for their blocks' sizes, `_asymmetric`): 540,191 rows
    at a million records, where all of them were three quarters of a million.
    """
    wanted, members, key_side = _wanted(new_keys, spec)
    sides = _sides(wanted, spec)
    key, values = _grouped(session, _BY_KEY_PLACE, sides["symmetric"], 2)
    rid, place = values[:, 0].copy(), values[:, 1].copy()
    del values
    found = set(rid[_kept(key, place, members, spec.refine_above)].tolist())
    sided = _asymmetric(session, sides, key_side, found)
    sql = "SELECT record_id, person_id FROM person_record WHERE record_id {keys}"
    persons = {int(r): p for r, p in fetch_by_keys(session, sql, sorted(found))}
    return Stored(persons, (key, rid, place), wanted, sided)


def _asymmetric(
    session: Session, sides: dict[str, list[int]], key_side: set[int], found: set[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stored rows of the asymmetric passes a delivery's blocking needs, adding the
    records they bring to `found`: (salted key, record, from the probe side).

    Which rows: the stored probe side of every new key-side key (those of keys that are
    no new probe key bring their records; the rest only give probe keys to records other
    passes bring), the stored key side of every new probe key (they bring theirs), and the
    stored key side of each key a stored probe row met, which brings no record: the pass
    skips a block by the records of its key side, so a block's size in the frame needs
    every stored record of it there. With these, `stored_keys` gives the pairs the keys made
    again from the frame give (a pair needs a new record; see its docstring)."""
    p_key, p_rid = _side_rows(session, sorted(key_side), True)
    brings = np.isin(p_key, np.asarray(sides["probe"], dtype=np.int64))
    found.update(p_rid[brings].tolist())
    b_key, b_rid = _side_rows(session, sides["keys"], False)
    found.update(b_rid.tolist())
    m_key, m_rid = _side_rows(session, sorted(set(p_key[brings].tolist())), False)
    return (
        np.r_[p_key, b_key, m_key],
        np.r_[p_rid, b_rid, m_rid],
        np.r_[np.ones(len(p_key), bool), np.zeros(len(b_key) + len(m_key), bool)],
    )


def _kept(key: np.ndarray, place: np.ndarray, members: dict[int, set], above: int) -> np.ndarray:
    """Which stored key rows bring their record: every row of a key no pass splits; of a
    splitting pass's key, every row while its block (new and stored records) holds at most
    `above` records, else the rows of the places the key's new records come from (a
    missing place meets a missing place)."""
    split = pd.Index(key).isin(list(members)) if members else np.zeros(len(key), dtype=bool)
    keep = ~split
    if not split.any():
        return keep
    stored_n = pd.Series(key[split]).value_counts().to_dict()
    big = {k for k, n in stored_n.items() if len(members[k]) + n > above}
    allowed = [(k, NO_KEY if m[2] is None else m[2]) for k in big for m in members[k]]
    small = ~pd.Index(key).isin(list(big))
    at_home = pd.MultiIndex.from_arrays([key, place]).isin(allowed) if allowed else False
    return keep | (split & (small | at_home))


def stored_keys(stored: Stored, frame: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    """The stored records' blocking keys, row for row with their frame, as blocking a
    delivery against them needs them: block_keys(frame, spec) would give the same pairs.
    Only the frame's record ids are read.

    Why not block_keys: at a million records a delivery meets some 60,000 stored records,
    and making their forty key columns again cost over half a second; the key rows that
    met the delivery were read anyway (stored_candidates). Why those rows are enough for a
    symmetric pass: a pair needs a new record in its block, so a stored record's key of a
    pass matters only where it is a new record's key of that pass, and every stored row of
    such a key was read (a split key's rows of other places too: a record brought by
    another pass still sits in that block). For an asymmetric pass, a pair is a probe key
    and a key-side key alike, one of them a new record's: a stored probe key matters where
    it is a new key-side key (every stored probe row of those was read), a stored key-side
    key where it is a new probe key, or where a stored probe row met a new key-side key
    (every stored key-side row of both was read, so a block's size, by which the pass skips
    it, is the frame's). A pass's keys go back into its columns (of a side) in any order,
    as blocking pools them; a split pass's place from the rows' place.
    """
    rids = frame["record_id"].to_numpy(dtype=np.int64)
    n = len(rids)
    known = np.array(sorted(stored.wanted), dtype=np.int64)
    index = {p.name: j for j, p in enumerate(spec.passes.values())}
    pass_of = np.array([index[stored.wanted[k][0]] for k in known.tolist()], dtype=np.int64)

    def of_frame(key: np.ndarray, rid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows of records in the frame: their keys' pass, their positions, which rows."""
        inside, pos = _positions(rids, rid)
        key = key[inside]
        return (pass_of[np.searchsorted(known, key)] if len(known) else np.empty(0, np.int64)), pos, inside

    key, rid, place = stored.rows
    row_pass, pos, inside = of_frame(key, rid)
    key, place = key[inside], place[inside]
    s_key, s_rid, s_probe = stored.sided
    s_pass, s_pos, s_inside = of_frame(s_key, s_rid)
    s_key, s_probe = s_key[s_inside], s_probe[s_inside]
    columns: dict[str, np.ndarray] = {}
    places = {name: np.full(n, NO_KEY, dtype=np.int64) for name in spec.split_places()}
    for j, p in enumerate(spec.passes.values()):
        if p.probe:
            for probe, names in ((False, p.keys), (True, p.probe)):
                mine = np.flatnonzero((s_pass == j) & (s_probe == probe))
                columns.update(_placed(unsalted(s_key[mine], p.name), s_pos[mine], n, p.name, tuple(names)))
            continue
        mine = np.flatnonzero(row_pass == j)
        columns.update(_placed(unsalted(key[mine], p.name), pos[mine], n, p.name, tuple(p.keys)))
        if p.split_by:
            places[p.split_by][pos[mine]] = place[mine]
    out = {c: _int64(columns[c]) for c in spec.key_columns()}
    for name, values in places.items():
        out[f"r_{name}"] = _int64(values)
    # not copied: every column was made here for this frame (a dict's columns are copied
    # by default, 40 of them at 60,000 records a delivery)
    return pd.DataFrame(out, index=frame.index, copy=False)


def _positions(rids: np.ndarray, rid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which of the rows' records `rid` are in the frame's `rids`, and their positions."""
    n = len(rids)
    order = np.argsort(rids, kind="stable")
    at = np.searchsorted(rids[order], rid)
    at[at == n] = 0
    inside = (rids[order][at] == rid) if n else np.zeros(len(rid), dtype=bool)
    return inside, order[at[inside]]


def _placed(
    key: np.ndarray, pos: np.ndarray, n: int, name: str, names: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Key columns `names` of n records from (key, position) rows: a record's keys in
    the columns in the order read (blocking pools a pass's columns of a side)."""
    order = np.argsort(pos, kind="stable")
    key, pos = key[order], pos[order]
    first = np.r_[True, pos[1:] != pos[:-1]] if len(pos) else np.empty(0, bool)
    starts = np.flatnonzero(first)
    rank = np.arange(len(pos)) - np.repeat(starts, np.diff(np.r_[starts, len(pos)]))
    if len(rank) and rank.max() >= len(names):
        raise ValueError(f"blocking pass {name}: more stored keys for a record than the pass has")
    out = {}
    for r, column in enumerate(names):
        col = np.full(n, NO_KEY, dtype=np.int64)
        col[pos[rank == r]] = key[rank == r]
        out[column] = col
    return out


def _int64(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Keys as block_keys keeps them: Int64, NO_KEY as missing."""
    return pd.arrays.IntegerArray(values, values == NO_KEY)


def decisions(session: Session, record_ids: set[int]) -> list[tuple[int, int, str]]:
    """Reviewers' decisions on pairs with a record among these (the latest per pair).

    Many records (a first link): every decision is read once and filtered here, since
    decisions are what people made by hand (thousands, not millions) and a thousand IN
    lists of record ids cost seconds for nothing."""
    cols = select(MatchDecision.record_a, MatchDecision.record_b, MatchDecision.decision)
    if len(record_ids) > 20 * CHUNK:
        rows = session.execute(cols.order_by(MatchDecision.id)).all()
        rows = [r for r in rows if r[0] in record_ids or r[1] in record_ids]
    else:
        rows = []
        for chunk in chunks(sorted(record_ids)):
            where = (MatchDecision.record_a.in_(chunk)) | (MatchDecision.record_b.in_(chunk))
            rows += session.execute(cols.where(where).order_by(MatchDecision.id)).all()
    out: dict[tuple[int, int], str] = {}
    for a, b, d in rows:
        out[(int(a), int(b))] = d
    return [(a, b, d) for (a, b), d in out.items()]
