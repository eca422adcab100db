"""Many rows written at once: SQLite `executemany` inside the caller's transaction,
PostgreSQL `COPY`.

Why not the ORM: a first link of a million records writes a million persons, a million
person-record rows, some twenty million blocking keys and a million events; through ORM
objects or SQLAlchemy's per-statement parameter handling that took minutes. Values pass
through each column type's own bind processing (dates on SQLite become the text SQLAlchemy
reads back), so rows written here read back exactly as rows the ORM wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Boolean, Float, Integer, String, Table
from sqlalchemy.orm import Session

# Rows per executemany call on SQLite: bounds the memory of one batch of tuples.
_BATCH = 50_000


# Types the driver takes as Python gives them (their bind processing only re-checks them).
_PLAIN = (Integer, String, Boolean, Float)


def _processors(table: Table, columns: Sequence[str], dialect: Any) -> list[Callable[[Any], Any] | None]:
    return [
        None if isinstance(table.c[c].type, _PLAIN) else table.c[c].type._cached_bind_processor(dialect)
        for c in columns
    ]


def _processed(rows: Iterable[Sequence[Any]], procs: list[Callable[[Any], Any] | None]) -> Iterable[tuple]:
    if not any(procs):
        return (tuple(r) for r in rows)
    return (tuple(v if p is None or v is None else p(v) for p, v in zip(procs, r, strict=True)) for r in rows)


def insert_rows(session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert rows (tuples in `columns` order) into table; how many were written."""
    conn = session.connection()
    dialect = conn.dialect
    names = ", ".join(columns)
    raw = conn.connection.dbapi_connection
    count = 0
    if dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' for _ in columns)})"
    cur = raw.cursor()
    batch: list[tuple] = []
    for row in _processed(rows, _processors(table, columns, dialect)):
        batch.append(row)
        if len(batch) >= _BATCH:
            cur.executemany(sql, batch)
            count += len(batch)
            batch.clear()
    if batch:
        cur.executemany(sql, batch)
        count += len(batch)
    cur.close()
    return count


def update_rows(
    session: Session, table: Table, key: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Set `columns` of the row whose `key` is the tuple's first value (then the columns'
    values, in order), for many rows at once; how many tuples were given."""
    conn = session.connection()
    dialect = conn.dialect
    raw = conn.connection.dbapi_connection
    mark = "%s" if dialect.name == "postgresql" else "?"
    sets = ", ".join(f"{c} = {mark}" for c in columns)
    sql = f"UPDATE {table.name} SET {sets} WHERE {key} = {mark}"
    procs = _processors(table, [key, *columns], dialect)
    values = [(*r[1:], r[0]) for r in _processed(rows, procs)]
    if values:
        cur = raw.cursor()
        cur.executemany(sql, values)
        cur.close()
    return len(values)
