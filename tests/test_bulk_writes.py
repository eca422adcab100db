"""Bulk writes: many-row INSERTs read back as written, and indexes deferred on a first load
(dropped while the tables are empty, built again, never lost on an error). Real SQLite and
PostgreSQL stores, no mocks."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import inspect, select

from linkage.settings import Settings
from linkage.store.bulk import indexes_deferred, insert_columns, insert_int_rows, insert_rows
from linkage.store.db import session_scope
from linkage.store.models import BlockingKey, Person, PersonRecord, ReturnEvent

TABLES = (PersonRecord.__table__, ReturnEvent.__table__)
INDEXES = {"ix_person_record_person_id", "ix_person_record_event_id", "ix_return_event_person_id"}


def _indexes(settings: Settings) -> set[str]:
    with session_scope(settings) as s:
        conn = s.connection()
        return {ix["name"] for t in TABLES for ix in inspect(conn).get_indexes(t.name)}


def _persons(n: int) -> list[tuple]:
    now = dt.datetime(2026, 12, 1, 8, 30)
    return [(f"P{i:07d}", now, now, "active", 1) for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, 49, 50, 51, 123])
def test_many_row_inserts_keep_every_row_in_order(settings: Settings, n: int) -> None:
    # 50 rows a statement: counts around the statement's size, and a remainder
    keys = [(k * 7 - 300, k, k % 2 == 0, None if k % 3 else k) for k in range(n)]
    with session_scope(settings) as s:
        assert insert_rows(s, BlockingKey.__table__, ("key", "record_id", "probe", "place"), keys) == n
        written = insert_rows(
            s,
            Person.__table__,
            ("person_id", "created_at", "updated_at", "status", "record_count"),
            _persons(n),
        )
        assert written == n
    with session_scope(settings) as s:
        back = s.execute(select(BlockingKey.key, BlockingKey.record_id, BlockingKey.probe, BlockingKey.place))
        assert sorted(back.all()) == sorted(keys)
        people = s.execute(select(Person.person_id, Person.created_at).order_by(Person.person_id)).all()
        assert [(p, c) for p, c, *_ in _persons(n)] == people


@pytest.mark.parametrize(("store", "n"), [("settings", n) for n in (0, 1, 51, 123)] + [("pg_settings", 123)])
def test_integer_columns_insert_as_rows_with_nulls_where_told(
    store: str, n: int, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # batches of 40 rows: several batches, each with whole statements of 50 and a remainder
    import linkage.store.bulk as bulk

    monkeypatch.setattr(bulk, "_BATCH", 40)
    settings: Settings = request.getfixturevalue(store)
    no = np.iinfo(np.int64).min
    keys = [(no if k == 5 else k * 7 - 300, k, k % 2 == 0, None if k % 3 else k) for k in range(n)]
    columns = [
        np.array([row[i] if row[i] is not None else no for row in keys], dtype=np.int64) for i in range(4)
    ]
    with session_scope(settings) as s:
        table = BlockingKey.__table__
        assert insert_int_rows(s, table, ("key", "record_id", "probe", "place"), columns, ("place", no)) == n
    with session_scope(settings) as s:
        back = s.execute(select(BlockingKey.key, BlockingKey.record_id, BlockingKey.probe, BlockingKey.place))
        assert sorted(back.all()) == sorted(keys)  # the missing value of another column is a value


def test_indexes_are_dropped_on_a_first_load_and_built_again(settings: Settings) -> None:
    assert _indexes(settings) >= INDEXES
    with session_scope(settings) as s, indexes_deferred(s, TABLES) as deferred:
        assert deferred
        assert not INDEXES & {
            ix["name"] for t in TABLES for ix in inspect(s.connection()).get_indexes(t.name)
        }
    assert _indexes(settings) >= INDEXES


def test_indexes_stay_when_the_first_table_holds_rows(settings: Settings) -> None:
    # a later link (the store holds events): the indexes serve its lookups and stay
    with session_scope(settings) as s:
        s.execute(ReturnEvent.__table__.insert().values(event_id="E0000001", person_id="P0000001"))
    with (
        session_scope(settings) as s,
        indexes_deferred(s, (ReturnEvent.__table__, PersonRecord.__table__)) as d,
    ):
        assert not d
        assert {ix["name"] for t in TABLES for ix in inspect(s.connection()).get_indexes(t.name)} >= INDEXES


def test_an_error_inside_leaves_the_indexes_in_place(settings: Settings) -> None:
    with pytest.raises(RuntimeError), session_scope(settings) as s, indexes_deferred(s, TABLES):
        raise RuntimeError("the link failed half-way")
    assert _indexes(settings) >= INDEXES


def test_indexes_deferred_on_postgresql(pg_settings: Settings) -> None:
    assert _indexes(pg_settings) >= INDEXES
    with (
        pytest.raises(RuntimeError),
        session_scope(pg_settings) as s,
        indexes_deferred(s, TABLES) as deferred,
    ):
        assert deferred
        raise RuntimeError("the link failed half-way")
    assert _indexes(pg_settings) >= INDEXES
    with session_scope(pg_settings) as s, indexes_deferred(s, TABLES):
        pass
    assert _indexes(pg_settings) >= INDEXES


@pytest.mark.parametrize(("store", "n"), [("settings", n) for n in (1, 49, 50, 123)] + [("pg_settings", 51)])
def test_columns_insert_as_the_rows_would(store: str, n: int, request: pytest.FixtureRequest) -> None:
    # events given column by column (dates, blanks, a shared timestamp and status) read back
    # as the same events given row by row
    settings: Settings = request.getfixturevalue(store)
    now = dt.datetime(2026, 12, 1, 8, 30, 0, 250)
    day = [dt.date(2025, 1, 1) + dt.timedelta(days=i % 7) if i % 5 else None for i in range(n)]
    varying = {
        "event_id": [f"EV{i:08d}" for i in range(n)],
        "person_id": [f"SL{i // 2:07d}" for i in range(n)],
        "return_date": day,
        "country": [None if i % 3 else "TH" for i in range(n)],
        "record_count": np.arange(n),
    }
    same = {"status": "active", "created_at": now, "updated_at": now, "point_of_entry": None}
    table = ReturnEvent.__table__
    with session_scope(settings) as s:
        assert insert_columns(s, table, varying, same) == n
        listed = {c: list(v) if isinstance(v, list) else v.tolist() for c, v in varying.items()}
        rest = list(varying)[1:]
        rows = [(f"EV{i + n:08d}", *(listed[c][i] for c in rest), *same.values()) for i in range(n)]
        insert_rows(s, table, (*varying, *same), rows)
    columns = [table.c[c] for c in ("person_id", "return_date", "country", "record_count", "status",
                                    "created_at", "updated_at", "point_of_entry")]  # fmt: skip
    with session_scope(settings) as s:
        back = s.execute(select(table.c.event_id, *columns).order_by(table.c.event_id)).all()
    assert [tuple(r[1:]) for r in back[:n]] == [tuple(r[1:]) for r in back[n:]]
    assert back[n - 1][1:] == (varying["person_id"][-1], day[-1], varying["country"][-1], n - 1,
                               "active", now, now, None)  # fmt: skip
