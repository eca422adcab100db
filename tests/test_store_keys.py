"""Bulk writes and the table of blocking keys, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from alembic import command
from sqlalchemy import delete, func, select

from linkage.match.linker import link
from linkage.settings import Settings
from linkage.store.bulk import insert_rows, update_rows
from linkage.store.db import alembic_config, get_engine, session_scope
from linkage.store.models import BlockingKey, Person, PersonRecord, ReturnEvent
from tests.test_linkage import ingest, lists


@pytest.mark.parametrize("store", ["settings", "pg_settings"])
def test_bulk_rows_read_back_as_the_orm_writes_them(store: str, request: pytest.FixtureRequest) -> None:
    settings: Settings = request.getfixturevalue(store)
    when = dt.datetime(2026, 12, 2, 7, 0, 0)  # no microseconds: SQLite's text form differs there
    later = dt.datetime(2026, 12, 2, 7, 0, 0, 123456)
    with session_scope(settings) as s:
        s.add(Person(person_id="SL0000001", created_at=when, updated_at=when, record_count=2))
        s.flush()
        n = insert_rows(
            s,
            Person.__table__,
            ("person_id", "created_at", "updated_at", "status", "record_count"),
            [("SL0000002", when, later, "active", 3), ("SL0000003", later, when, "merged", 0)],
        )
        assert n == 2
        insert_rows(
            s,
            ReturnEvent.__table__,
            ("event_id", "person_id", "return_date", "country", "point_of_entry", "record_count", "status",
             "created_at", "updated_at"),
            [("EV00000001", "SL0000002", dt.date(2025, 6, 1), None, None, 1, "active", when, when)],
        )  # fmt: skip
    with session_scope(settings) as s:
        by_orm, a, b = (s.get(Person, p) for p in ("SL0000001", "SL0000002", "SL0000003"))
        assert (by_orm.created_at, a.created_at, a.updated_at, b.created_at) == (when, when, later, later)
        assert (a.record_count, b.status, b.merged_into) == (3, "merged", None)
        event = s.get(ReturnEvent, "EV00000001")
        assert event.return_date == dt.date(2025, 6, 1) and event.country is None
        changed = [("SL0000003", 7, "active")]
        assert update_rows(s, Person.__table__, "person_id", ("record_count", "status"), changed) == 1
    with session_scope(settings) as s:
        assert (s.get(Person, "SL0000003").record_count, s.get(Person, "SL0000003").status) == (7, "active")


def _keys(settings: Settings) -> int:
    with session_scope(settings) as s:
        return int(s.scalar(select(func.count()).select_from(BlockingKey)) or 0)


def _persons(settings: Settings) -> dict[int, str]:
    with session_scope(settings) as s:
        return {int(r): p for r, p in s.execute(select(PersonRecord.record_id, PersonRecord.person_id)).all()}


@pytest.mark.parametrize("store", ["settings", "pg_settings"])
def test_a_delivery_meets_stored_records_through_the_key_table(
    store: str, request: pytest.FixtureRequest, synth_dir: Path
) -> None:
    """Linked in two steps, persons are those of one link of everything; the keys kept are
    the linked records' and are made again when they go missing (the upgrade to the table)."""
    settings: Settings = request.getfixturevalue(store)
    files = lists(synth_dir)
    later = [f for f in files if not f.name.startswith("iom_")]
    ingest(settings, [f for f in files if f not in later])
    first = link(settings)
    assert first.records_linked > 0
    keys_after_first = _keys(settings)
    assert keys_after_first > 5 * first.records_linked  # about a key per pass per record
    ingest(settings, later)
    second = link(settings)
    assert _keys(settings) > keys_after_first
    persons = _persons(settings)
    with session_scope(settings) as s:  # the new records met stored ones: persons grew
        assert second.persons_grown > 0 and second.records_linked == len(persons) - first.records_linked
    # the keys go missing (as after the upgrade that moved them into their own table): the
    # next link makes them again before it looks anything up
    with session_scope(settings) as s:
        s.execute(delete(BlockingKey))
    before = _keys(settings)
    assert before == 0
    rebuilt = link(settings, rebuild=True)
    assert _keys(settings) >= keys_after_first and rebuilt.records_linked == len(persons)
    with session_scope(settings) as s:
        s.execute(delete(BlockingKey))
    assert link(settings).model == "no new records"  # nothing new to link, but keys are back
    assert _keys(settings) > keys_after_first


@pytest.mark.parametrize("store", ["settings", "pg_settings"])
def test_the_key_table_migration_runs_both_ways(store: str, request: pytest.FixtureRequest) -> None:
    settings: Settings = request.getfixturevalue(store)
    cfg = alembic_config(settings)
    with get_engine(settings).begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0012")
        command.upgrade(cfg, "head")
    with session_scope(settings) as s:
        assert s.scalar(select(func.count()).select_from(BlockingKey)) == 0


@pytest.mark.parametrize("store", ["settings", "pg_settings"])
def test_records_read_by_id_in_one_query_are_those_read_one_by_one(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """read_records takes any number of ids in one statement (a JSON array on SQLite, a
    bigint array on PostgreSQL) and does not share equal values below its bound: the frame
    must be the per-value one, row for row, in content order, for more ids than an IN list
    of 900 held, with ids that are no record's."""
    import pandas as pd

    from linkage.ingest.load import Ingestor
    from linkage.match.frame import RECORD_COLUMNS
    from linkage.match.stored import in_content_order, read_records
    from linkage.store.models import Record
    from tests.conftest import write
    from tests.helpers import iom_csv, iom_row

    settings: Settings = request.getfixturevalue(store)
    rows = [
        iom_row(
            f"KH-IOM-2024-{i:04d}",
            name=f"SOK {'DARA' if i % 3 else 'CHEA'}",
            phone="" if i % 5 else "012 345 678",
        )
        for i in range(1, 1202)
    ]
    Ingestor(settings).ingest_path(write(tmp_path / "iom" / "big.csv", iom_csv(rows)), "iom")
    with session_scope(settings) as s:
        ids = sorted(s.scalars(select(Record.id)).all())
        assert len(ids) == 1201
        wanted = [i for i in ids if i % 7 != 3]  # 1,029 ids: more than 900
        got = read_records(s, [*reversed(wanted), max(ids) + 5])
        cols = [getattr(Record, c) for c in RECORD_COLUMNS]
        one_by_one = in_content_order(pd.read_sql(select(*cols).where(Record.id.in_(wanted)), s.connection()))
        assert got.equals(one_by_one) and list(got.dtypes) == list(one_by_one.dtypes)
        assert len(got) == len(wanted) and read_records(s, []).empty


@pytest.mark.parametrize("store", ["settings", "pg_settings"])
def test_stored_keys_read_back_block_as_the_keys_made_again(
    store: str, request: pytest.FixtureRequest, synth_dir: Path
) -> None:
    """The stored records a delivery meets, with keys made from the key rows that met it
    (stored_keys), give the candidate pairs their keys made again from their frame give,
    pass by pass; also with blocks split by place from three records on and blocks of more
    than four records skipped, so that the split and the skip are both at work."""
    import dataclasses

    from linkage.match.blocking import block_keys, candidate_pairs
    from linkage.match.frame import build_frame
    from linkage.match.spec import spec_for
    from linkage.match.stored import read_records, stored_candidates, stored_keys

    settings: Settings = request.getfixturevalue(store)
    files = lists(synth_dir)
    later = [f for f in files if f.name.startswith("iom_")]
    ingest(settings, [f for f in files if f not in later])
    link(settings)
    ingest(settings, later)
    base = spec_for(settings)
    tight = dataclasses.replace(
        base, refine_above=3, limits=dataclasses.replace(base.limits, max_block_size=4)
    )
    met_by: dict[str, int] = {}
    with session_scope(settings) as s:
        new_frame = build_frame(read_records(s, None))
        new_keys = block_keys(new_frame, base)
        assert len(new_frame) > 100
        for name, spec in (("base", base), ("tight", tight)):
            met = stored_candidates(s, new_keys, spec)
            met_by[name] = len(met.persons)
            old_frame = build_frame(read_records(s, sorted(met.persons)))
            made = block_keys(old_frame, spec)
            read = stored_keys(met, old_frame, spec)
            assert list(read.columns) == list(made.columns)
            is_new = np.r_[np.ones(len(new_frame), bool), np.zeros(len(old_frame), bool)]
            found = []
            for old_keys in (made, read):
                keys = pd.concat([new_keys, old_keys], ignore_index=True)
                left, right, stats = candidate_pairs(keys, is_new, spec.limits.max_block_size, spec=spec)
                found.append((left.tolist(), right.tolist(), dict(stats.pairs_by_pass)))
            assert found[0] == found[1]
            assert len(found[0][0]) > 0
            # the keys read are the ones made, where a record has them (a symmetric pass's
            # keys that met no new record's are not read)
            column = "k_phone"
            given = read[column].notna().to_numpy()
            assert given.any()
            assert (read[column][given] == made[column][given]).all()
            # so are the asymmetric passes' (read, not made from the frame: only its ids
            # are needed, and the rows of stored key sides that met no probe are not read)
            # an asymmetric pass's keys read are some of those made, side by side (in any
            # of a side's columns: blocking pools them), not all: only rows that met are read
            read_n = made_n = 0
            for q in (q for q in spec.passes.values() if q.probe):
                for cols in (list(q.probe), list(q.keys)):
                    pair = (f[cols].to_numpy(dtype=object, na_value=None).tolist() for f in (read, made))
                    for mine, theirs in zip(*pair, strict=True):
                        got = {k for k in mine if k is not None}
                        assert got <= {k for k in theirs if k is not None}
                        read_n, made_n = read_n + len(got), made_n + sum(k is not None for k in theirs)
            assert 0 < read_n < made_n
            assert stored_keys(met, old_frame[["record_id"]], spec).equals(read)
    assert 0 < met_by["tight"] < met_by["base"]  # the split left stored records of other places out


@pytest.mark.parametrize("store", ["settings", "pg_settings"])
def test_a_key_both_sides_of_an_asymmetric_pass_gives_stored_probe_keys(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A delivery's one-name SOK born 1990 probes with the key its two-name SOK DARA born
    1990 has on the key side; a stored one-name SOK of 1990 that another pass brings (his
    phone) must then keep that probe key, so that he pairs with SOK DARA as the keys made
    from his record would pair them (stored_keys reads the stored probe rows of such keys)."""
    from linkage.ingest.load import Ingestor
    from linkage.match.blocking import block_keys, candidate_pairs, salted
    from linkage.match.frame import build_frame
    from linkage.match.spec import spec_for
    from linkage.match.stored import read_records, stored_candidates, stored_keys
    from tests.conftest import write
    from tests.helpers import iom_csv, iom_row

    settings: Settings = request.getfixturevalue(store)
    phone = {"phone": "011 111 111"}
    stored = [iom_row("KH-IOM-2024-0001", name="SOK", dob="01/01/1990", **phone)]
    Ingestor(settings).ingest_path(write(tmp_path / "iom" / "a.csv", iom_csv(stored)), "iom")
    link(settings)
    new = [
        iom_row("KH-IOM-2025-0001", name="SOK", dob="01/01/1990", ret="05/06/2025", **phone),
        iom_row("KH-IOM-2025-0002", name="SOK DARA", dob="05/05/1990", ret="05/06/2025", phone="099 999 999"),
    ]
    Ingestor(settings).ingest_path(write(tmp_path / "iom" / "b.csv", iom_csv(new)), "iom")
    spec = spec_for(settings)
    one = spec.passes["single_name_year"]
    with session_scope(settings) as s:
        new_frame = build_frame(read_records(s, None))
        new_keys = block_keys(new_frame, spec)

        def side(columns: dict) -> set[int]:
            given = [new_keys[c].dropna().to_numpy(dtype=np.int64) for c in columns]
            return set(salted(np.concatenate(given), one.name).tolist())

        probe_keys, build_keys = side(one.probe), side(one.keys)
        assert probe_keys & build_keys  # the key on both sides
        met = stored_candidates(s, new_keys, spec)
        assert len(met.persons) == 1
        old_frame = build_frame(read_records(s, sorted(met.persons)))
        is_new = np.r_[np.ones(len(new_frame), bool), np.zeros(len(old_frame), bool)]
        found = []
        for old_keys in (block_keys(old_frame, spec), stored_keys(met, old_frame, spec)):
            keys = pd.concat([new_keys, old_keys], ignore_index=True)
            left, right, stats = candidate_pairs(keys, is_new, spec.limits.max_block_size, spec=spec)
            found.append((left.tolist(), right.tolist(), stats.pairs_by_pass[one.name]))
    assert found[0] == found[1] and found[0][2] > 0
