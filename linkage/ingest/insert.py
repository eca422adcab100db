"""Write a delivery's records: new ones straight through the driver, re-sent ones updated.

Why not a plain SQLAlchemy executemany: it builds and processes a parameter dictionary per
row, which cost more than mapping and inserting together (about 45 us a row). Here each
column's values go through SQLAlchemy's own bind processors once, column by column, and the
rows reach the driver's executemany as plain tuples, so what is stored is exactly what
SQLAlchemy would have stored, on SQLite and on PostgreSQL: personal fields sealed by their
column types (linkage/seal/types.py), a column in one pass, each cell with a nonce of its own.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, bindparam, insert, select, update
from sqlalchemy.orm import Session

from linkage.ingest.canonical import spread
from linkage.seal import current
from linkage.seal.blind import content_digest, keyed_record_key
from linkage.seal.types import Sealed
from linkage.sources import SourceMapping
from linkage.store.models import Record, RecordVersion, utcnow

# record columns a mapped row fills (the id is the store's; loaded_at is set here)
MAPPED_COLUMNS = [c.name for c in Record.__table__.columns if c.name not in ("id", "loaded_at")]
# keys per lookup query: SQLite before 3.32 bound at most 999 values; since, 32,766
_LOOKUP_CHUNK, _LOOKUP_CHUNK_OLD_SQLITE = 5_000, 900


# what a correction can change: every mapped field but where the row sits and as received
COMPARED = [
    c
    for c in MAPPED_COLUMNS
    if c not in ("source", "record_key", "source_record_id", "delivery_sha256", "line", "raw", "extra")
]


def record_key(mapping: SourceMapping, sha: str, rid: str) -> str:
    """Stable ids key a record across deliveries; others are only unique inside one file."""
    return rid if mapping.stable_ids else f"{sha[:16]}:{rid}"


def _key_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(str(value).casefold().split())


def content_keys(mapping: SourceMapping, columns: dict[str, list[Any]]) -> list[str]:
    """A key per row of the whole delivery from what the row says of the man (the mapping's
    content_key fields): the same cells give the same key whatever the file's bytes or row
    numbers. Rows of one delivery that say exactly the same get #2, #3 in file order
    (namesakes of one return batch stay two records); counted over every row, quarantined
    ones too, so a replay gives a row the key it would have had. Keyed by the open store's
    blind key (linkage/seal/blind.py): the stored key confirms no guessed name."""
    blind_key = current.ring().blind_key
    n = len(columns["line"])
    # each field's distinct values made key text once (names, dates and places repeat)
    fields = [spread(columns.get(f) or [None] * n, _key_text) for f in mapping.content_key]
    seen: Counter[str] = Counter()
    keys = []
    for parts in zip(*fields, strict=True):
        key = keyed_record_key(blind_key, content_digest("\x1f".join(parts)))
        seen[key] += 1
        keys.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return keys


def upsert_records(
    s: Session, sha: str, mapping: SourceMapping, columns: dict[str, list[Any]], rows: list[int]
) -> int:
    """Store rows `rows` of `columns` for this delivery; a record key seen before is updated,
    its earlier values kept as a record version when any changed. The number of versions."""
    if not rows:
        return 0
    now = utcnow()
    values = {c: _pick(columns[c], rows) for c in MAPPED_COLUMNS if c in columns}
    values["source"] = [mapping.source] * len(rows)
    values["delivery_sha256"] = [sha] * len(rows)
    if mapping.content_key:
        values["record_key"] = _pick(content_keys(mapping, columns), rows)
    else:
        values["record_key"] = [record_key(mapping, sha, rid) for rid in values["source_record_id"]]
    values["loaded_at"] = [now] * len(rows)
    existing = _existing_ids(s, mapping.source, values["record_key"])
    names = list(values)
    fresh = [i for i, key in enumerate(values["record_key"]) if key not in existing]
    again = [i for i, key in enumerate(values["record_key"]) if key in existing]
    conn = s.connection()
    if fresh:
        _insert_new(conn, names, {c: [v[i] for i in fresh] for c, v in values.items()} if again else values)
    if not again:
        return 0
    # a record the source sent before: its row is replaced by the new values
    table = Record.__table__
    ids = {i: existing[values["record_key"][i]] for i in again}
    versions = _versions(s, sha, values, ids)
    stmt = update(table).where(table.c.id == bindparam("_id")).values({c: bindparam(c) for c in names})
    conn.execute(stmt, [{"_id": ids[i], **{c: values[c][i] for c in names}} for i in again])
    from linkage.match.frame_cache import forget
    from linkage.referral.changes import queue_records

    forget(s, list(ids.values()))  # his kept comparison row says what he said before

    queue_records(s, ids.values())  # a corrected referral or date changes his flags
    return versions


def _as_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def _versions(s: Session, sha: str, values: dict[str, list[Any]], ids: dict[int, int]) -> int:
    """Keep what each record said before, where a field of the new row differs."""
    table = Record.__table__
    compared = [c for c in COMPARED if c in values]
    old: dict[int, Any] = {}
    id_list = list(ids.values())
    for i in range(0, len(id_list), _LOOKUP_CHUNK_OLD_SQLITE):
        chunk = id_list[i : i + _LOOKUP_CHUNK_OLD_SQLITE]
        query = select(table.c.id, table.c.delivery_sha256, table.c.line, *(table.c[c] for c in compared))
        old.update((row.id, row) for row in s.execute(query.where(table.c.id.in_(chunk))))
    rows = []
    for i, record_id in ids.items():
        before = old[record_id]
        changed = [c for c in compared if getattr(before, c) != values[c][i]]
        if changed:
            rows.append(
                {
                    "record_id": record_id,
                    "delivery_sha256": before.delivery_sha256,
                    "line": before.line,
                    "replaced_by_sha256": sha,
                    "replaced_at": utcnow(),
                    "changed": changed,
                    "values": {c: _as_json(getattr(before, c)) for c in changed},
                }
            )
    if rows:
        s.execute(insert(RecordVersion.__table__), rows)
    return len(rows)


def _pick(column: list[Any], rows: list[int]) -> list[Any]:
    """column[r] for each r of rows (ascending), without a Python loop per cell."""
    if len(rows) == len(column):  # nothing quarantined: every row, in order
        return column
    return [column[rows[0]]] if len(rows) == 1 else list(itemgetter(*rows)(column))


def _existing_ids(s: Session, source: str, keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    step = _LOOKUP_CHUNK
    if s.get_bind().dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 32):
        step = _LOOKUP_CHUNK_OLD_SQLITE
    for i in range(0, len(keys), step):
        chunk = keys[i : i + step]
        query = select(Record.record_key, Record.id).where(
            Record.source == source, Record.record_key.in_(chunk)
        )
        found.update(s.execute(query).all())
    return found


def _insert_new(conn: Connection, names: list[str], values: dict[str, list[Any]]) -> None:
    """One executemany of plain tuples, each value already in the driver's type.

    A column that no row of the delivery fills is left out (a quarter of them: an IOM list
    has no Khmer names, an NGO list no return), so the database stores its NULL without a
    value bound and copied per row. JSON columns stay: SQLAlchemy stores JSON null there.
    """
    dialect = conn.dialect
    table = Record.__table__
    names = [n for n in names if isinstance(table.c[n].type, JSON) or values[n].count(None) < len(values[n])]
    # (a sealed column no row fills is left out too: NULL, nothing sealed)
    compiled = insert(table).compile(dialect=dialect, column_keys=names)
    order = list(compiled.positiontup) if dialect.positional else names
    for name in names:
        kind = table.c[name].type
        if isinstance(kind, Sealed):  # every cell sealed on its own (a fresh nonce), a column at once
            values[name] = kind.seal_column(values[name], dialect)
            continue
        process = kind.dialect_impl(dialect).bind_processor(dialect)
        if process is None:
            continue
        if isinstance(kind, JSON):  # dictionaries, one per row, or mostly None
            none = process(None)
            values[name] = [none if v is None else process(v) for v in values[name]]
        else:  # dates and times repeat: each distinct value once
            values[name] = spread(values[name], process)
    rows = zip(*(values[name] for name in order), strict=True)
    if dialect.positional:
        conn.exec_driver_sql(str(compiled), list(rows))
    else:
        conn.exec_driver_sql(str(compiled), [dict(zip(order, row, strict=True)) for row in rows])
