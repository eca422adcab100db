"""A first link (and a rebuild) groups returns from the batch in memory and writes each
person_record row once, with its event: the rows are those the store's read-back path
gives. Real SQLite and PostgreSQL stores, the synthetic lists."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from linkage.match import linker
from linkage.match.first_link import Returns, event_rows
from linkage.match.stored import read_records
from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import PersonRecord, ReturnEvent
from tests.test_linkage import ingest, lists


def _by_person(batches) -> dict[str, list]:
    out: dict[str, list] = {}
    for batch in batches:
        for pid, rows in batch.items():
            assert pid not in out  # a person's rows come in one batch
            out[pid] = sorted(rows, key=lambda r: r.record_id)
    return out


def _events(settings: Settings) -> tuple[list[tuple], list[tuple]]:
    """Every event and person_record row, timestamps aside."""
    with session_scope(settings) as s:
        events = s.execute(
            select(
                ReturnEvent.event_id, ReturnEvent.person_id, ReturnEvent.return_date, ReturnEvent.country,
                ReturnEvent.point_of_entry, ReturnEvent.record_count, ReturnEvent.status,
            ).order_by(ReturnEvent.event_id)
        ).all()  # fmt: skip
        links = s.execute(
            select(PersonRecord.record_id, PersonRecord.person_id, PersonRecord.event_id).order_by(
                PersonRecord.record_id
            )
        ).all()
    return [tuple(e) for e in events], [tuple(r) for r in links]


def test_rows_grouped_in_memory_are_those_read_back(settings: Settings, synth_dir: Path) -> None:
    ingest(settings, lists(synth_dir))
    linker.link(settings)
    with session_scope(settings) as s:
        linked = dict(s.execute(select(PersonRecord.record_id, PersonRecord.person_id)).all())
        events = dict(s.execute(select(PersonRecord.record_id, PersonRecord.event_id)).all())
        records = read_records(s, sorted(linked))
        rids = records["id"].to_numpy()
        persons = [linked[int(r)] for r in rids]
        # batches of 7 persons: batches end between two persons, never inside one
        memory = _by_person(event_rows(Returns.of(records), rids, persons, events, batch=7))
        stored = _by_person(linker._event_rows(s, set(persons), {}))
    assert len(memory) == len(set(persons)) > 100
    assert memory == stored
    assert any(r.return_date is None for rows in memory.values() for r in rows)  # NGO intakes
    assert any(r.other_date is not None and r.return_date is None for rows in memory.values() for r in rows)


@pytest.mark.parametrize("store", ["settings", "pg_settings"])
def test_a_first_link_and_a_rebuild_write_the_events_the_store_path_would(
    store: str, request: pytest.FixtureRequest, synth_dir: Path
) -> None:
    """Grouping again through the store's read-back path changes nothing: no new event, no
    row moved; each record has its event, and person_record's indexes are there."""
    settings: Settings = request.getfixturevalue(store)
    ingest(settings, lists(synth_dir))
    for run in ({}, {"rebuild": True}):
        summary = linker.link(settings, **run)
        events, links = _events(settings)
        assert summary.records_linked == len(links) and all(e for _r, _p, e in links)
        with session_scope(settings) as s:
            persons = {p for _r, p, _e in links}
            assert linker._regroup_events(s, persons, settings.event_window_days, {}) == 0
            count = dict(
                s.execute(select(PersonRecord.event_id, func.count()).group_by(PersonRecord.event_id)).all()
            )
            indexes = {ix["name"] for ix in inspect(s.connection()).get_indexes("person_record")}
        assert _events(settings) == (events, links)
        assert {e[0]: e[5] for e in events if e[6] == "active"} == count
        assert {"ix_person_record_person_id", "ix_person_record_event_id"} <= indexes


def test_key_rows_are_every_key_made_once_in_key_order(settings: Settings, synth_dir: Path) -> None:
    """Each (key, record, side) once, whatever the order its pass's columns made it in
    (one record's two equal names give one row), sorted by key; as a set, every key made."""
    import numpy as np

    from linkage.match.blocking import block_keys
    from linkage.match.frame import build_frame
    from linkage.match.spec import spec_for
    from linkage.match.stored import _salted, key_rows

    ingest(settings, lists(synth_dir))
    spec = spec_for(settings)
    with session_scope(settings) as s:
        frame = build_frame(read_records(s, None))
    frame.loc[:5, "giv_key"] = frame.loc[:5, "fam_key"]  # two names alike: keys repeat
    keys = block_keys(frame, spec)
    rids = frame["record_id"].to_numpy()
    rows = key_rows(keys, rids, spec)
    no = np.iinfo(np.int64).min  # a missing place
    made = {
        (int(k), int(rids[i]), bool(probe), None if places is None or places[j] == no else int(places[j]))
        for _name, probe, at, sk, places in _salted(keys, spec)
        for j, (i, k) in enumerate(zip(at.tolist(), sk.tolist(), strict=True))
    }
    got = [
        (k, r, bool(p), None if pl == no else pl) for k, r, p, pl in rows.itertuples(index=False, name=None)
    ]
    assert sum(len(at) for *_x, at, _sk, _pl in _salted(keys, spec)) > len(got)  # some were alike
    assert len(set(got)) == len(got) and set(got) == made
    table_order = list(zip(rows["key"], rows["record_id"], rows["probe"], strict=True))
    assert table_order == sorted(table_order)  # the primary key's order: a first load appends
