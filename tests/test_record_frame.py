"""Each linked record's kept comparison row (record_frame, match/frame_cache.py): read back
as build_frame makes it, a delivery links the same with and without the rows, a row of
another frame version or of a re-sent record is made again, a key rotation re-seals the
rows, and no survivor value is in them in clear. On SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, func, select, text, update

from linkage.ingest.load import Ingestor
from linkage.match import frame_cache
from linkage.match.frame import build_frame
from linkage.match.linker import link
from linkage.match.stored import read_records
from linkage.seal import cipher, keyring
from linkage.settings import Settings, load_settings
from linkage.store.db import dispose_engines, get_engine, session_scope
from linkage.store.models import CandidatePair, Person, PersonRecord, Record, RecordFrame, ReturnEvent
from tests.conftest import PG_ADMIN_URL, write
from tests.helpers import iom_csv, iom_row
from tests.test_linkage import ingest, lists
from tests.test_privacy import CANARIES, CANARY_DOB, CANARY_ID, CANARY_NAME, CANARY_PHONE_DIGITS

STORES = ["settings", "pg_settings"]


def _linked_ids(settings: Settings) -> list[int]:
    with session_scope(settings) as s:
        return sorted(int(r) for r in s.scalars(select(PersonRecord.record_id)))


def _kept(settings: Settings) -> dict[int, str]:
    """record id -> frame version of every kept row."""
    with session_scope(settings) as s:
        return {int(r): v for r, v in s.execute(select(RecordFrame.record_id, RecordFrame.frame_version))}


def _outcome(settings: Settings) -> dict[str, list[tuple]]:
    """What linking wrote, row for row, timestamps aside (store_digest.py's tables)."""
    tables = {
        "person": (Person.person_id, Person.status, Person.merged_into, Person.record_count),
        "person_record": (PersonRecord.record_id, PersonRecord.person_id, PersonRecord.event_id),
        "return_event": (ReturnEvent.event_id, ReturnEvent.person_id, ReturnEvent.return_date,
                         ReturnEvent.record_count, ReturnEvent.status),
        "candidate_pair": (CandidatePair.record_a, CandidatePair.record_b, CandidatePair.probability,
                           CandidatePair.band, CandidatePair.status, CandidatePair.explanation),
    }  # fmt: skip
    with session_scope(settings) as s:
        return {
            name: sorted((tuple(repr(v) for v in r) for r in s.execute(select(*cols))), key=repr)
            for name, cols in tables.items()
        }


def _copy(settings: Settings, tmp_path: Path, name: str) -> Settings:
    """A copy of the store (SQLite: its home; PostgreSQL: the database, as a template)."""
    dispose_engines()
    home = tmp_path / name
    shutil.copytree(settings.home, home)
    if not settings.database_url.startswith("postgresql"):
        return load_settings(home=home, db_url="", data_docs=False)
    source = settings.database_url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    copy = f"{source}_{name}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{copy}" TEMPLATE "{source}"'))
    admin.dispose()
    url = settings.database_url.rsplit("/", 1)[0] + f"/{copy}"
    return load_settings(home=home, db_url=url, data_docs=False)


def _drop(settings: Settings) -> None:
    if settings.database_url.startswith("postgresql"):
        dispose_engines()
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        name = settings.database_url.rsplit("/", 1)[1]
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _first_and_later(synth_dir: Path) -> tuple[list[Path], list[Path]]:
    later = [f for f in lists(synth_dir) if f.name.startswith(("iom_returns_202601", "mosvy_list_2"))]
    assert later
    return [f for f in lists(synth_dir) if f not in later], later


@pytest.mark.parametrize("store", STORES)
def test_kept_rows_read_back_as_build_frame_makes_them(
    store: str, request: pytest.FixtureRequest, synth_dir: Path
) -> None:
    """Every linked record has a row of this frame version after a first link; the frame
    read from them (and from records where some rows are gone) equals build_frame's of the
    records, column for column, type for type, in the same order."""
    settings: Settings = request.getfixturevalue(store)
    ingest(settings, lists(synth_dir))
    link(settings)
    ids = _linked_ids(settings)
    kept = _kept(settings)
    assert sorted(kept) == ids and set(kept.values()) == {frame_cache.frame_version()}
    with session_scope(settings) as s:
        expected = build_frame(read_records(s, ids))
        got = frame_cache.stored_frame(s, ids, read_records)
        pd.testing.assert_frame_equal(got.frame, expected)
        assert len(got.built) == 0
        frame_cache.forget(s, ids[::3])  # a third without rows: built from their records
        got = frame_cache.stored_frame(s, ids, read_records)
        pd.testing.assert_frame_equal(got.frame, expected)
        assert sorted(got.frame["record_id"].to_numpy()[got.built].tolist()) == ids[::3]


@pytest.mark.parametrize("store", STORES)
def test_a_delivery_links_the_same_with_and_without_kept_rows(
    store: str, request: pytest.FixtureRequest, synth_dir: Path, tmp_path: Path
) -> None:
    """Persons, person-record rows, events and review pairs after a delivery are the same
    whether its stored records' rows are read or every one is built from its record; the
    second store gets the rows it built."""
    settings: Settings = request.getfixturevalue(store)
    first, later = _first_and_later(synth_dir)
    ingest(settings, first)
    link(settings)
    stored = set(_linked_ids(settings))
    without = _copy(settings, tmp_path, "without")
    try:
        with session_scope(without) as s:
            frame_cache.forget(s, None)
        for each in (settings, without):
            ingest(each, later)
            assert link(each).records_linked > 0
        assert _outcome(settings) == _outcome(without)
        assert sorted(_kept(settings)) == _linked_ids(settings)
        # the second: the new records' rows and those of the stored records they met
        new = set(_linked_ids(without)) - stored
        assert new < set(_kept(without)) < set(_linked_ids(without))
    finally:
        _drop(without)


@pytest.mark.parametrize("store", STORES)
def test_a_row_of_another_version_or_record_is_made_again(
    store: str, request: pytest.FixtureRequest, synth_dir: Path
) -> None:
    """A row made by other frame code, or a row under another record's id, is not read:
    the record's frame is built from it, and the row written again."""
    settings: Settings = request.getfixturevalue(store)
    first, later = _first_and_later(synth_dir)
    ingest(settings, first)
    link(settings)
    ids = _linked_ids(settings)
    stale, swapped = ids[:40], ids[40:42]
    with session_scope(settings) as s:
        s.execute(update(RecordFrame).where(RecordFrame.record_id.in_(stale)).values(frame_version="0" * 16))
        a, b = (s.get(RecordFrame, i) for i in swapped)
        a.row, b.row = b.row, a.row  # each opens, but names the other record
        s.flush()
        expected = build_frame(read_records(s, ids))
        got = frame_cache.stored_frame(s, ids, read_records)
        pd.testing.assert_frame_equal(got.frame, expected)
        built = got.frame["record_id"].to_numpy()[got.built].tolist()
        assert sorted(built) == sorted(stale + swapped)
    ingest(settings, later)
    link(settings)
    kept = _kept(settings)
    met = [i for i in stale if kept.get(i) == frame_cache.frame_version()]
    assert met, "the delivery met none of the stale rows' records"
    with session_scope(settings) as s:
        got = frame_cache.stored_frame(s, met, read_records)
        assert len(got.built) == 0  # written again by the link
        pd.testing.assert_frame_equal(got.frame, build_frame(read_records(s, met)))


def _one_linked(settings: Settings, tmp_path: Path, dob: str) -> int:
    rows = [iom_row("KH-IOM-2024-0001", dob=dob), iom_row("KH-IOM-2024-0002", name="CHEA VUTHY")]
    f = write(tmp_path / "landing" / "iom" / f"list-{dob.replace('/', '')}.csv", iom_csv(rows))
    assert Ingestor(settings).ingest_path(f, "iom").status == "ingested"
    with session_scope(settings) as s:
        return int(s.scalar(select(Record.id).where(Record.source_record_id == "KH-IOM-2024-0001")))


@pytest.mark.parametrize("store", STORES)
def test_a_re_sent_record_drops_its_row_and_a_link_never_keeps_old_values(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """An ingest that re-sends a linked record with new values drops its row (the next
    link that meets him builds it from what he says now); and a link that read a record
    before such an ingest drops the row it made of the old values before it commits."""
    settings: Settings = request.getfixturevalue(store)
    rid = _one_linked(settings, tmp_path, "12/03/1990")
    link(settings)
    assert rid in _kept(settings)
    _one_linked(settings, tmp_path, "12/03/1991")  # corrected: the row is gone
    assert rid not in _kept(settings)
    with session_scope(settings) as s:
        got = frame_cache.stored_frame(s, [rid], read_records)
        assert got.frame["birth_date"].dt.year.tolist() == [1991]

        # the race: this link reads him, an ingest corrects him and commits, the link writes
        records = read_records(s, [rid])
        frame = build_frame(records)
        _one_linked(settings, tmp_path, "12/03/1992")
        written = frame_cache.Written()
        frame_cache.write(s, frame, [0], records["line"].tolist(), records["loaded_at"].tolist(), written)
        assert frame_cache.settle(s, written) == 1
    assert rid not in _kept(settings)


@pytest.mark.parametrize("store", STORES)
def test_a_key_rotation_reseals_the_rows_and_no_value_is_in_them_in_clear(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from linkage.match.frame import _latin_text, _name_key
    from linkage.seal.master import create_master_key
    from linkage.seal.rotate import install_new_key, rotate

    settings: Settings = request.getfixturevalue(store)
    rows = [
        iom_row("S1", name=f"{CANARY_NAME} SOK", dob=CANARY_DOB, phone=f"0{CANARY_PHONE_DIGITS}",
                travel_doc_no=CANARY_ID),
        iom_row("S3", name=f"SOK {CANARY_NAME}", dob=CANARY_DOB),
    ]  # fmt: skip
    f = write(tmp_path / "landing" / "iom" / "canary.csv", iom_csv(rows))
    assert Ingestor(settings).ingest_path(f, "iom").status == "ingested"
    link(settings)
    # what the frame makes of the canaries, besides the canaries themselves
    derived = [_name_key(CANARY_NAME), _latin_text(CANARY_NAME), f"855{CANARY_PHONE_DIGITS}"]
    with get_engine(settings).connect() as conn:
        stored = [bytes(r) for (r,) in conn.execute(text("SELECT row FROM record_frame"))]
    assert len(stored) == 2
    assert [c for c in [*CANARIES, *derived] if any(c.encode() in v for v in stored)] == []
    before = {cipher.key_id_of(v) for v in stored}
    with session_scope(settings) as s:
        ids = sorted(int(r) for r in s.scalars(select(RecordFrame.record_id)))
        expected = frame_cache.stored_frame(s, ids, read_records).frame

    new_key = create_master_key(settings, tmp_path / "new.key")
    rotate(settings, new_key, say=lambda _m: None)
    with get_engine(settings).connect() as conn:
        after = {cipher.key_id_of(bytes(r)) for (r,) in conn.execute(text("SELECT row FROM record_frame"))}
    assert len(after) == 1 and after.isdisjoint(before)
    install_new_key(settings, tmp_path / "new.key")
    keyring.forget()
    with session_scope(settings) as s:
        got = frame_cache.stored_frame(s, ids, read_records)
        assert len(got.built) == 0
        pd.testing.assert_frame_equal(got.frame, expected)
        assert int(s.scalar(select(func.count()).select_from(RecordFrame))) == 2


@pytest.mark.parametrize("store", STORES)
def test_filling_makes_every_missing_or_stale_row_a_chunk_at_a_time(
    store: str, request: pytest.FixtureRequest, synth_dir: Path
) -> None:
    """`survivor-link link --fill-cache` (after the upgrade, or a change of the frame code)."""
    from linkage.match.linker import fill_frame_rows

    settings: Settings = request.getfixturevalue(store)
    ingest(settings, lists(synth_dir))
    link(settings)
    ids = _linked_ids(settings)
    with session_scope(settings) as s:
        frame_cache.forget(s, ids[::2])
        s.execute(update(RecordFrame).where(RecordFrame.record_id.in_(ids[1:40:2])).values(frame_version="x"))
    assert fill_frame_rows(settings, chunk=97) == len(ids[::2]) + len(ids[1:40:2])
    assert _kept(settings) == {i: frame_cache.frame_version() for i in ids}
    assert fill_frame_rows(settings) == 0
    with session_scope(settings) as s:
        got = frame_cache.stored_frame(s, ids, read_records)
        assert len(got.built) == 0
        pd.testing.assert_frame_equal(got.frame, build_frame(read_records(s, ids)))


def test_a_row_round_trips_odd_texts_and_a_separator_is_not_kept() -> None:
    """Rows are separated text (frame_cache.SEP): an empty text, spaces, Khmer and a missing
    value read back as written; a text holding a separator or a line end is not kept (its
    record is built from the record instead), never split into the wrong columns."""
    frame = build_frame(frame_cache._probe_records())
    frame = pd.concat([frame] * 2, ignore_index=True)
    frame["record_id"] = range(1, len(frame) + 1)
    odd = ["", " a b ", "មុំ", None, "x" + frame_cache.SEP + "y", "x\ny"]
    frame["giv_alt"] = pd.array(odd, dtype="string")
    payloads = frame_cache._encode(frame, frame.index.to_numpy(), list(range(len(frame))), "v")
    assert [p is None for p in payloads] == [False] * 4 + [True, True]
    rows = frame_cache._parse([p for p in payloads if p is not None])
    assert rows["_id"].tolist() == [1, 2, 3, 4]
    for name, kind in frame_cache.layout()[1]:
        got = pd.Series(frame_cache._column(rows[name], kind))
        pd.testing.assert_series_equal(got, frame[name].iloc[:4].reset_index(drop=True), check_names=False)
