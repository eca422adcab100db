"""Write a delivery's records: new ones straight through the driver, re-sent ones updated.

Why not a plain SQLAlchemy executemany: it builds and processes a parameter dictionary per
row, which cost more than mapping and inserting together (about 45 us a row). Here each
column's values go through SQLAlchemy's own bind processors once, column by column, and the
rows reach the driver's executemany as plain tuples, so what is stored is exactly what
SQLAlchemy would have stored, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, bindparam, insert, select, update
from sqlalchemy.orm import Session

from linkage.ingest.canonical import spread
from linkage.sources import SourceMapping
from linkage.store.models import Record, utcnow

# record columns a mapped row fills (the id is the store's; loaded_at is set here)
MAPPED_COLUMNS = [c.name for c in Record.__table__.columns if c.name not in ("id", "loaded_at")]
# keys per lookup query: SQLite before 3.32 bound at most 999 values; since, 32,766
_LOOKUP_CHUNK, _LOOKUP_CHUNK_OLD_SQLITE = 5_000, 900


def record_key(mapping: SourceMapping, sha: str, rid: str) -> str:
    """Stable ids key a record across deliveries; others are only unique inside one file."""
    return rid if mapping.stable_ids else f"{sha[:16]}:{rid}"


def upsert_records(
    s: Session, sha: str, mapping: SourceMapping, columns: dict[str, list[Any]], rows: list[int]
) -> None:
    """Store rows `rows` of `columns` for this delivery; a record id seen before is updated."""
    if not rows:
        return
    now = utcnow()
    values = {c: _pick(columns[c], rows) for c in MAPPED_COLUMNS if c in columns}
    values["source"] = [mapping.source] * len(rows)
    values["delivery_sha256"] = [sha] * len(rows)
    values["record_key"] = [record_key(mapping, sha, rid) for rid in values["source_record_id"]]
    values["loaded_at"] = [now] * len(rows)
    existing = _existing_ids(s, mapping.source, values["record_key"])
    names = list(values)
    fresh = [i for i, key in enumerate(values["record_key"]) if key not in existing]
    again = [i for i, key in enumerate(values["record_key"]) if key in existing]
    conn = s.connection()
    if fresh:
        _insert_new(conn, names, {c: [v[i] for i in fresh] for c, v in values.items()} if again else values)
    if again:  # a record id the source sent before: its row is replaced by the new values
        table = Record.__table__
        stmt = update(table).where(table.c.id == bindparam("_id")).values({c: bindparam(c) for c in names})
        params = [
            {"_id": existing[values["record_key"][i]], **{c: values[c][i] for c in names}} for i in again
        ]
        conn.execute(stmt, params)


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
    compiled = insert(table).compile(dialect=dialect, column_keys=names)
    order = list(compiled.positiontup) if dialect.positional else names
    for name in names:
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is None:
            continue
        if isinstance(table.c[name].type, JSON):  # dictionaries, one per row, or mostly None
            none = process(None)
            values[name] = [none if v is None else process(v) for v in values[name]]
        else:  # dates and times repeat: each distinct value once
            values[name] = spread(values[name], process)
    rows = zip(*(values[name] for name in order), strict=True)
    if dialect.positional:
        conn.exec_driver_sql(str(compiled), list(rows))
    else:
        conn.exec_driver_sql(str(compiled), [dict(zip(order, row, strict=True)) for row in rows])
