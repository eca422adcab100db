"""Many rows written at once: SQLite `executemany` inside the caller's transaction,
PostgreSQL `COPY`.

Why not the ORM: a first link of a million records writes a million persons, a million
person-record rows, some twenty million blocking keys and a million events; through ORM
objects or SQLAlchemy's per-statement parameter handling that took minutes. Values pass
through each column type's own bind processing (dates on SQLite become the text SQLAlchemy
reads back), so rows written here read back exactly as rows the ORM wrote.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    any_,
    bindparam,
    func,
    inspect,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex, DropIndex
from sqlalchemy.types import TypeEngine

# Rows per executemany call on SQLite: bounds the memory of one batch of tuples.
_BATCH = 50_000


# Types the driver takes as Python gives them (their bind processing only re-checks them).
_PLAIN = (Integer, String, Boolean, Float)


def _processors(table: Table, columns: Sequence[str], dialect: Any) -> list[Callable[[Any], Any] | None]:
    """Each column's bind processor (None: the value goes as it is); those of dates and
    timestamps remember what they made of each value (see remembered). Only those: a sealed
    column's processor must seal each value anew (a fresh nonce each time)."""
    out: list[Callable[[Any], Any] | None] = []
    for c in columns:
        kind = table.c[c].type
        proc = None if isinstance(kind, _PLAIN) else kind._cached_bind_processor(dialect)
        out.append(remembered(proc) if proc is not None and isinstance(kind, (Date, DateTime)) else proc)
    return out


# Distinct values whose bound form a column remembers (a link's rows share one timestamp,
# and return dates repeat): beyond this many, the rest are processed one by one.
_MEMO = 100_000


def remembered(proc: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """proc, remembering what it made of at most _MEMO distinct values (processors are
    pure). Why: a first link binds one timestamp for two million rows, and SQLite's
    DateTime processor formats it anew each time; reading events back parses as many."""
    made: dict[Any, Any] = {}

    def bound(value: Any) -> Any:
        got = made.get(value, made)
        if got is made:
            got = proc(value)
            if len(made) < _MEMO:
                made[value] = got
        return got

    return bound


def _processed(rows: Iterable[Sequence[Any]], procs: list[Callable[[Any], Any] | None]) -> Iterable[Sequence]:
    """Rows with their values in bound form (lists: the driver and the flattening take any
    sequence)."""
    if not any(procs):
        return rows  # type: ignore[return-value]
    at = [(i, p) for i, p in enumerate(procs) if p is not None]

    def bind(row: Sequence[Any]) -> list[Any]:
        out = list(row)
        for i, p in at:
            if out[i] is not None:
                out[i] = p(out[i])
        return out

    return map(bind, rows)


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
    cur = raw.cursor()
    try:
        for batch in _batches(_processed(rows, _processors(table, columns, dialect)), _BATCH):
            _insert_batch(cur, table.name, columns, batch)
            count += len(batch)
    finally:
        cur.close()
    return count


# Rows per INSERT statement on SQLite, at most; within the 999 parameters older SQLite allows.
_ROWS_PER_STATEMENT = 50


def _batches(rows: Iterable[Sequence], size: int) -> Iterator[list[Sequence]]:
    batch: list[Sequence] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert_batch(cur: Any, name: str, columns: Sequence[str], batch: list[Sequence]) -> None:
    """One batch of rows, as INSERTs of many rows each (then one-row INSERTs for the rest).

    Why many rows a statement: SQLite's per-statement work (step, reset, binding) was about
    a third of writing a million records' blocking keys; 50 rows a statement wrote 2M key
    rows in 3.2 s where one a statement took 4.5 s (a 2-core machine shared with others).
    Rows go in in the order given, so row ids are the ones one-row INSERTs would give.
    """
    width = len(columns)
    per = max(1, min(_ROWS_PER_STATEMENT, 999 // width))
    one = f"({', '.join('?' for _ in columns)})"
    head = f"INSERT INTO {name} ({', '.join(columns)}) VALUES "
    full = len(batch) - len(batch) % per
    if full:
        flat = [v for row in batch[:full] for v in row]
        step = per * width
        groups = (flat[i : i + step] for i in range(0, len(flat), step))
        cur.executemany(head + ", ".join([one] * per), groups)
    if full < len(batch):
        cur.executemany(head + one, batch[full:])


def insert_columns(
    session: Session,
    table: Table,
    values: Mapping[str, Sequence[Any] | np.ndarray],
    same: Mapping[str, Any] | None = None,
) -> int:
    """Insert rows given column by column: `values` the columns that vary (lists, or numpy
    arrays of integers, all of one length), `same` those every row shares; how many rows.

    Why columns: a first link writes half a million persons, a million person-record rows
    and half a million events; made as a tuple a row and bound a value at a time, the
    Python around SQLite cost as much as SQLite. Here each column is bound once per
    distinct value (a shared timestamp once in all), and the rows' flat parameter list is
    filled a column at a time by slice assignment, in C.
    """
    same = same or {}
    names = [*values, *same]
    n = len(next(iter(values.values()))) if values else 0
    if n == 0:
        return 0
    conn = session.connection()
    pg = conn.dialect.name == "postgresql"  # COPY takes Python's values as they are
    procs = [None] * len(names) if pg else _processors(table, names, conn.dialect)
    cols: list[list[Any]] = []
    for name, proc in zip(names, procs, strict=True):
        col = [same[name]] * n if name in same else values[name]
        col = col.tolist() if isinstance(col, np.ndarray) else list(col)
        if len(col) != n:
            raise ValueError(f"{table.name}.{name}: {len(col)} values for {n} rows")
        if proc is not None and isinstance(table.c[name].type, (Date, DateTime)):
            # each distinct value bound once (only these: a sealed value is sealed anew each time)
            bound = {x: None if x is None else proc(x) for x in dict.fromkeys(col)}
            col = list(map(bound.__getitem__, col))
        elif proc is not None:
            col = [None if x is None else proc(x) for x in col]
        cols.append(col)
    if pg:
        return insert_rows(session, table, names, zip(*cols, strict=True))
    width = len(names)
    flat: list[Any] = [None] * (n * width)
    for i, col in enumerate(cols):
        flat[i::width] = col
    del cols
    _insert_flat(conn.connection.dbapi_connection, table.name, names, flat)
    return n


def _insert_flat(raw: Any, name: str, columns: Sequence[str], flat: list[Any]) -> None:
    """Rows given as one row-major list of their values, as INSERTs of many rows each."""
    width = len(columns)
    per = max(1, min(_ROWS_PER_STATEMENT, 999 // width))
    one = f"({', '.join('?' for _ in columns)})"
    head = f"INSERT INTO {name} ({', '.join(columns)}) VALUES "
    step = per * width
    full = len(flat) - len(flat) % step
    cur = raw.cursor()
    try:
        cur.executemany(head + ", ".join([one] * per), (flat[i : i + step] for i in range(0, full, step)))
        if full < len(flat):
            cur.executemany(head + one, (flat[i : i + width] for i in range(full, len(flat), width)))
    finally:
        cur.close()


def insert_int_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    values: Sequence[np.ndarray],
    missing: tuple[str, int] | None = None,
) -> int:
    """Insert rows given as one integer array per column (in `columns` order), with
    missing = (column, value): that value of that column as NULL; how many were written.

    Why apart from insert_rows: a first link writes some 18 million blocking-key rows, and
    making a tuple of Python values per row, then flattening the tuples into each
    statement's parameters, was most of the time; here the parameters of a batch are one
    `tolist()` of an int64 array (integers the driver binds as they are: SQLite stores a
    Boolean as the integer 0 or 1 either way). PostgreSQL's COPY takes them as tuples.
    """
    n = len(values[0]) if len(values) else 0
    batches = (_int_batch(values, at) for at in range(0, n, _BATCH))
    nullable, null = (columns.index(missing[0]), missing[1]) if missing else (-1, 0)
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        rows = (
            tuple(None if j == nullable and v == null else v for j, v in enumerate(row))
            for part in batches
            for row in part.tolist()
        )
        return insert_rows(session, table, columns, rows)
    width = len(columns)
    for part in batches:
        flat = part.ravel().tolist()
        if nullable >= 0:
            for i in (np.flatnonzero(part[:, nullable] == null) * width + nullable).tolist():
                flat[i] = None
        _insert_flat(conn.connection.dbapi_connection, table.name, columns, flat)
    return n


def _int_batch(values: Sequence[np.ndarray], at: int) -> np.ndarray:
    """Rows at..at+_BATCH of the columns, as one row-major int64 array."""
    part = np.empty((len(values[0][at : at + _BATCH]), len(values)), dtype=np.int64)
    for i, column in enumerate(values):
        part[:, i] = column[at : at + _BATCH]
    return part


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


@contextmanager
def indexes_deferred(session: Session, tables: Sequence[Table]) -> Iterator[bool]:
    """While the first of these tables is empty, drop their secondary indexes for the block
    and build them again at its end, in the same transaction; yields whether it did.

    Why: a first link writes a million person_record rows and then sets each one's event,
    a million return events, each touching indexes on random strings (person and event ids);
    an index built once over the finished table is one sort instead. Only an empty store's
    first load gains (and only then is nothing reading the indexes meanwhile: the link holds
    its lock). Only indexes the store has are dropped, and exactly those are built again; an
    error inside rolls the drops back with everything else (DDL is transactional on both).
    """
    conn = session.connection()
    first = tables[0]
    if conn.execute(select(first.c[next(iter(first.primary_key.columns)).name]).limit(1)).first() is not None:
        yield False
        return
    if not _may_change(conn, tables):  # a least-privilege role (docker-compose's) writes rows only
        yield False
        return
    raw = conn.connection.dbapi_connection
    if conn.dialect.name == "sqlite" and not raw.in_transaction:
        raw.execute("BEGIN")  # pysqlite leaves DDL outside a transaction: the drops must roll back
    present = {ix["name"] for t in tables for ix in inspect(conn).get_indexes(t.name)}
    dropped = [ix for t in tables for ix in sorted(t.indexes, key=lambda i: i.name) if ix.name in present]
    for ix in dropped:
        conn.execute(DropIndex(ix))
    yield True
    session.flush()
    for ix in dropped:
        conn.execute(CreateIndex(ix))


def _may_change(conn: Any, tables: Sequence[Table]) -> bool:
    """Whether this connection's role may drop and create these tables' indexes: on
    PostgreSQL only their owner (or a member of its role) may; SQLite has no roles."""
    if conn.dialect.name != "postgresql":
        return True
    sql = text(
        "select bool_and(pg_has_role(current_user, tableowner, 'MEMBER')) from pg_tables "
        "where schemaname = current_schema() and tablename = any(:names)"
    )
    return bool(conn.execute(sql, {"names": [t.name for t in tables]}).scalar())


def analyze(session: Session, tables: Sequence[Table]) -> None:
    """PostgreSQL: gather the planner's statistics of tables a first load just filled.

    Why: with none (autovacuum had not come by an hour after a million-record first link),
    the planner guessed that a delivery's 900 blocking keys match the whole table and read
    all 15 million key rows for each chunk: 20 s of a small delivery's link. ANALYZE reads
    a sample, about a second. SQLite plans these lookups by index without statistics.
    """
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return
    session.flush()
    if not _may_change(conn, tables):  # only an owner may; the operator's guide says when to
        return
    for table in tables:
        conn.exec_driver_sql(f"ANALYZE {table.name}")


def one_of(column: Any, values: list[Any], dialect: str, element: TypeEngine[Any]) -> Any:
    """`column` is one of `values`, as one statement with one bound value, however many.

    Why: in IN lists of 900 (SQLite's old bound on parameters) the 29,645 stored records a
    delivery meets at a million records were 33 statements, each compiled with its 900
    parameters. SQLite takes the values as one JSON array (json_each), PostgreSQL as one
    array of `element`.
    """
    if dialect == "postgresql":
        return column == any_(bindparam("values", values, type_=ARRAY(element), unique=True))
    listed = select(literal_column("value")).select_from(func.json_each(json.dumps(values)))
    return column.in_(listed)
