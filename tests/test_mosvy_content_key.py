"""A MoSVY record is known by what its row says: the same list re-saved adds nothing, and a
row corrected outside its key replaces its record, the old values kept as a version."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from linkage.ingest.insert import _key_text
from linkage.ingest.load import Ingestor
from linkage.pipeline import link_and_flag
from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import Person, Record, RecordVersion
from tests.helpers import mosvy_row, mosvy_xlsx

GIVEN = ["ដារា", "វណ្ណា", "សម្បត្តិ", "សុភា", "ចាន់ណា"]


def _rows(phone_of_third: str = "") -> list[list[object]]:
    return [
        mosvy_row(str(i + 1), given=g, age=str(30 + i), phone=phone_of_third if i == 2 else "")
        for i, g in enumerate(GIVEN)
    ]


def _count(settings: Settings, model: type) -> int:
    with session_scope(settings) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_the_same_list_resaved_adds_nothing(settings: Settings, tmp_path: Path) -> None:
    ingestor = Ingestor(settings)
    first = mosvy_xlsx(tmp_path / "a.xlsx", _rows())
    # re-saved: Excel's shared strings, one title row fewer, rows in another order and renumbered
    reordered = [[str(i + 1), *r[1:]] for i, r in enumerate(reversed(_rows()))]
    second = mosvy_xlsx(tmp_path / "b.xlsx", reordered, titles=1, shared_strings=True)
    assert first.read_bytes() != second.read_bytes()
    r1 = ingestor.ingest_path(first, "mosvy")
    link_and_flag(settings)
    persons = _count(settings, Person)
    r2 = ingestor.ingest_path(second, "mosvy")
    assert (r1.rows_loaded, r2.status, r2.rows_loaded) == (5, "ingested", 5)
    assert (_count(settings, Record), _count(settings, RecordVersion)) == (5, 0)
    counts = link_and_flag(settings)
    assert (_count(settings, Person), counts["persons_created"], counts["persons_merged"]) == (persons, 0, 0)


def _one_named(s, given_name_kh: str) -> Record:
    """The one record with this Khmer given name (a sealed column cannot be searched in SQL)."""
    (found,) = [r for r in s.scalars(select(Record)) if r.given_name_kh == given_name_kh]
    return found


def test_a_corrected_row_replaces_its_record_and_keeps_the_old_values(
    settings: Settings, tmp_path: Path
) -> None:
    ingestor = Ingestor(settings)
    ingestor.ingest_path(mosvy_xlsx(tmp_path / "a.xlsx", _rows(phone_of_third="012 345 678")), "mosvy")
    with session_scope(settings) as s:
        before = _one_named(s, "សម្បត្តិ")  # sealed: found in Python, not by SQL
    r = ingestor.ingest_path(mosvy_xlsx(tmp_path / "b.xlsx", _rows(phone_of_third="097 123 4567")), "mosvy")
    assert (r.status, r.rows_loaded) == ("ingested", 5)
    with session_scope(settings) as s:
        after = _one_named(s, "សម្បត្តិ")  # sealed: found in Python, not by SQL
        version = s.scalars(select(RecordVersion)).one()
        assert _count(settings, Record) == 5
        assert (after.id, after.phone, after.delivery_sha256) == (before.id, "+855971234567", r.sha256)
        assert (version.record_id, version.changed, version.values) == (
            before.id,
            ["phone"],
            {"phone": "+85512345678"},
        )
        assert (version.delivery_sha256, version.line, version.replaced_by_sha256) == (
            before.delivery_sha256,
            before.line,
            r.sha256,
        )


def test_two_rows_saying_the_same_in_one_list_stay_two_records(settings: Settings, tmp_path: Path) -> None:
    rows = [mosvy_row("1"), mosvy_row("2"), mosvy_row("3", given="វណ្ណា")]  # 1 and 2 alike but for ល.រ
    r = Ingestor(settings).ingest_path(mosvy_xlsx(tmp_path / "a.xlsx", rows), "mosvy")
    assert (r.rows_loaded, r.rows_quarantined) == (3, 0)
    with session_scope(settings) as s:
        keys = sorted(s.scalars(select(Record.record_key)))
    assert len(set(keys)) == 3 and sum(k.endswith("#2") for k in keys) == 1
    # the same list again changes nothing, namesakes included
    r = Ingestor(settings).ingest_path(mosvy_xlsx(tmp_path / "b.xlsx", rows, titles=0), "mosvy")
    assert (r.rows_loaded, _count(settings, Record)) == (3, 3)


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_records_stored_under_row_numbers_get_their_content_keys_on_upgrade(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A store from before content keys: after `migrate` the same list re-saved adds nothing,
    and record ids are as they were."""
    settings = request.getfixturevalue("settings" if store == "sqlite" else "pg_settings")
    from alembic import command
    from sqlalchemy import update

    from linkage.store.db import alembic_config, get_engine, migrate

    first = Ingestor(settings).ingest_path(mosvy_xlsx(tmp_path / "a.xlsx", _rows()), "mosvy")
    with session_scope(settings) as s:  # the keys as the code before wrote them
        for rec in s.scalars(select(Record)):
            s.execute(
                update(Record)
                .where(Record.id == rec.id)
                .values(record_key=f"{first.sha256[:16]}:{rec.source_record_id}")
            )
        ids = sorted(s.scalars(select(Record.id)))
    cfg = alembic_config(settings)
    with get_engine(settings).begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0011")
    migrate(settings)
    with session_scope(settings) as s:
        assert all(k.startswith("k:") for k in s.scalars(select(Record.record_key)))
        assert sorted(s.scalars(select(Record.id))) == ids
    again = Ingestor(settings).ingest_path(mosvy_xlsx(tmp_path / "b.xlsx", _rows(), titles=0), "mosvy")
    assert (again.rows_loaded, _count(settings, Record), _count(settings, RecordVersion)) == (5, 5, 0)


def _unkeyed(settings: Settings) -> set[str]:
    """The sha256 of what each record's row says, unkeyed: its key as the code before wrote it."""
    fields = Ingestor(settings).mappings["mosvy"].content_key
    with session_scope(settings) as s:
        texts = ["\x1f".join(_key_text(getattr(r, f)) for f in fields) for r in s.scalars(select(Record))]
    return {hashlib.sha256(t.encode()).hexdigest()[:32] for t in texts}


def _keys(settings: Settings) -> dict[int, str]:
    with session_scope(settings) as s:
        return {i: k for i, k in s.execute(select(Record.id, Record.record_key))}


def test_record_keys_are_keyed_by_the_store(settings: Settings, tmp_path: Path) -> None:
    """A stored key confirms no guessed name: it is no sha256 of the row, and the same list
    in another store gets other keys; delivered again, the same rows are still found."""
    from linkage.store.db import migrate

    rows = [*_rows(), mosvy_row("6", given=GIVEN[0], age="30")]  # 6 says what 1 says: a "#2"
    other = dataclasses.replace(settings, home=tmp_path / "other")
    migrate(other)
    keys = []
    for store in (settings, other):
        Ingestor(store).ingest_path(mosvy_xlsx(tmp_path / "a.xlsx", rows), "mosvy")
        keys.append(set(_keys(store).values()))
        assert len(keys[-1]) == 6 and all(k.startswith("k:") for k in keys[-1])
        assert sum(k.endswith("#2") for k in keys[-1]) == 1
        assert not [k for k in keys[-1] for d in _unkeyed(store) if d in k]  # the canary
        again = Ingestor(store).ingest_path(mosvy_xlsx(tmp_path / "b.xlsx", rows, titles=0), "mosvy")
        assert (again.status, again.rows_loaded, _count(store, Record)) == ("ingested", 6, 6)
    assert not keys[0] & keys[1]


def test_unkeyed_record_keys_are_rekeyed_on_upgrade(settings: Settings, tmp_path: Path) -> None:
    """Down to 0014 the keys are the unkeyed ones the code before wrote; up again, each record
    has its keyed key back (ids unchanged) and a re-delivered list adds nothing."""
    from linkage.store.db import migrate

    rows = [*_rows(), mosvy_row("6", given=GIVEN[0], age="30")]
    Ingestor(settings).ingest_path(mosvy_xlsx(tmp_path / "a.xlsx", rows), "mosvy")
    keyed = _keys(settings)
    migrate(settings, "0014")
    unkeyed = _keys(settings)
    assert unkeyed.keys() == keyed.keys() and all(k.startswith("c:") for k in unkeyed.values())
    assert {k[2:].partition("#")[0] for k in unkeyed.values()} == _unkeyed(settings)
    assert sum(k.endswith("#2") for k in unkeyed.values()) == 1
    migrate(settings)
    assert _keys(settings) == keyed
    again = Ingestor(settings).ingest_path(mosvy_xlsx(tmp_path / "b.xlsx", rows, titles=0), "mosvy")
    assert (again.rows_loaded, _count(settings, Record), _count(settings, RecordVersion)) == (6, 6, 0)
