"""Sealed at rest: the store file, a pg_dump and the archive hold no personal value; the
keys are envelope keys that rotate; a missing or wrong key stops with a clear error and
loses nothing; blocking keys are keyed per store."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from linkage.ingest.load import Ingestor, read_archived
from linkage.seal import cipher, keyring
from linkage.seal.errors import MasterKeyMissing, SealBroken, WrongMasterKey
from linkage.seal.master import create_master_key, key_path, read_key_file
from linkage.settings import Settings
from linkage.store.db import dispose_engines, get_engine, session_scope
from linkage.store.models import Delivery, PersonRecord, Quarantine, Record
from tests.conftest import write
from tests.helpers import iom_csv, iom_row
from tests.test_privacy import CANARIES, CANARY_DOB, CANARY_ID, CANARY_NAME, CANARY_PHONE_DIGITS


def _canary_list(tmp_path: Path) -> Path:
    rows = [
        iom_row(
            "S1",
            name=f"{CANARY_NAME} SOK",
            dob=CANARY_DOB,
            phone=f"0{CANARY_PHONE_DIGITS}",
            travel_doc_no=CANARY_ID,
        ),
        iom_row("S2", name=f"{CANARY_NAME} CHEA", dob="17/07/2077"),  # future birth: quarantined
        iom_row("S3", name=f"SOK {CANARY_NAME}", dob=CANARY_DOB),
    ]
    return write(tmp_path / "landing" / "iom" / "canary.csv", iom_csv(rows))


def _leaks(blob: bytes) -> list[str]:
    return [c for c in CANARIES if c.encode() in blob]


def _store_files(settings: Settings) -> bytes:
    """Every byte the store's home holds but the key file: database, -wal, archive, docs."""
    return b"".join(
        p.read_bytes() for p in settings.home.rglob("*") if p.is_file() and p != key_path(settings)
    )


def test_no_canary_at_rest_and_files_are_private(settings: Settings, tmp_path: Path) -> None:
    from linkage.match.linker import link

    r = Ingestor(settings).ingest_path(_canary_list(tmp_path), "iom")
    assert (r.rows_loaded, r.rows_quarantined) == (2, 1)
    link(settings)
    with session_scope(settings) as s:  # through the store the values read back
        names = sorted(s.scalars(select(Record.full_name)))
        assert names == [f"SOK {CANARY_NAME}", f"{CANARY_NAME} SOK"]
        assert CANARY_NAME in str(s.scalars(select(Quarantine.raw)).one())
        assert s.scalar(select(func.count()).select_from(PersonRecord)) == 2
    assert CANARY_NAME.encode() in read_archived(settings, r.sha256)  # replay still reads it
    dispose_engines()  # the WAL checkpointed into the file
    assert _leaks(_store_files(settings)) == []
    for p in [settings.home, *(p for p in settings.home.rglob("*") if p.is_dir() and "archive" in p.parts)]:
        assert p.stat().st_mode & 0o077 == 0, p  # 0700 folders
    for p in [settings.home / "survivor-link.db", key_path(settings), *settings.archive_dir.rglob("*")]:
        if p.is_file():
            assert p.stat().st_mode & 0o077 == 0, p  # 0600 (archive 0400)


def test_no_canary_in_a_pg_dump(pg_settings: Settings, tmp_path: Path) -> None:
    Ingestor(pg_settings).ingest_path(_canary_list(tmp_path), "iom")
    dump = subprocess.run(
        ["pg_dump", "--data-only", pg_settings.database_url.replace("+psycopg", "")],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    # the records are there, sealed: bytea of the binary format (1, the key id's length, d...)
    assert b"COPY public.record" in dump and b"\\x010964" in dump
    assert _leaks(dump) == []
    with session_scope(pg_settings) as s:
        assert f"{CANARY_NAME} SOK" in set(s.scalars(select(Record.full_name)))


def _cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "SURVIVOR_LINK_HOME": str(settings.home), **env}
    return subprocess.run(
        [sys.executable, "-m", "linkage.cli", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_missing_or_wrong_key_is_a_clear_error_that_loses_nothing(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from linkage.match.linker import link

    Ingestor(settings).ingest_path(_canary_list(tmp_path), "iom")
    key = key_path(settings)
    saved = tmp_path / "saved.key"
    shutil.move(key, saved)
    keyring.forget()
    dispose_engines()
    before = (settings.home / "survivor-link.db").read_bytes()
    gone = _cli(settings, "export", "records", "-o", str(tmp_path / "out.csv"))
    assert gone.returncode == 4, gone.stderr[-2000:]
    assert "no master key is configured" in gone.stdout and str(key) in gone.stdout.replace("\n", "")
    assert "Traceback" not in gone.stderr and not (tmp_path / "out.csv").exists()
    assert _leaks((gone.stdout + gone.stderr).encode()) == []
    with pytest.raises(MasterKeyMissing), session_scope(settings):
        pass
    other = create_master_key(settings, tmp_path / "other.key")
    monkeypatch.setenv("SURVIVOR_LINK_MASTER_KEY", base64.b64encode(other.key).decode())
    with pytest.raises(WrongMasterKey, match="is not this store's"), session_scope(settings):
        pass
    assert not key.exists()  # nothing made a new key in the old one's place
    assert (settings.home / "survivor-link.db").read_bytes() == before  # nothing written
    monkeypatch.delenv("SURVIVOR_LINK_MASTER_KEY")
    shutil.move(saved, key)
    keyring.forget()
    again = Ingestor(settings).ingest_path(_canary_list(tmp_path), "iom")  # the same list: a duplicate
    assert again.status == "duplicate"
    link(settings)
    with session_scope(settings) as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 2
        assert s.scalar(select(func.count()).select_from(PersonRecord)) == 2


def test_rotation_reseals_everything_and_resumes(settings: Settings, tmp_path: Path) -> None:
    from linkage.seal import rotate as rotation

    r = Ingestor(settings).ingest_path(_canary_list(tmp_path), "iom")
    old = read_key_file(key_path(settings))
    new = create_master_key(settings, tmp_path / "new.key")
    assert old is not None
    fresh, resumed = rotation._start(settings, old, new)  # step 1 only: as if killed after it
    assert not resumed
    done = rotation.rotate(settings, new, say=lambda _m: None)  # run again: it goes on
    assert done.resumed and done.data_key == fresh and done.values > 0 and done.files == 1
    with get_engine(settings).connect() as conn:
        sealed = conn.execute(text("SELECT full_name, raw FROM record")).all()
        sealed += conn.execute(text("SELECT file_name FROM delivery")).all()  # keyed by sha256
        assert all(isinstance(v, bytes) and cipher.key_id_of(v) == fresh for row in sealed for v in row)
        with pytest.raises(WrongMasterKey):  # the old master key opens nothing any more
            keyring.load_keyring(conn, settings, create=False)
    assert rotation.install_new_key(settings, tmp_path / "new.key").startswith("the new master key is now")
    keyring.forget()
    with session_scope(settings) as s:
        assert f"{CANARY_NAME} SOK" in set(s.scalars(select(Record.full_name)))
    assert CANARY_NAME.encode() in read_archived(settings, r.sha256)
    assert read_key_file(key_path(settings)).key_id == new.key_id  # type: ignore[union-attr]


def test_a_value_moved_to_another_column_does_not_open(settings: Settings, tmp_path: Path) -> None:
    Ingestor(settings).ingest_path(_canary_list(tmp_path), "iom")
    with session_scope(settings) as s:
        s.execute(text("UPDATE record SET father_name = full_name"))
    with pytest.raises(SealBroken, match="record.father_name"), session_scope(settings) as s:
        list(s.scalars(select(Record.father_name)))


def test_blocking_keys_are_keyed_by_each_store(settings: Settings, tmp_path: Path) -> None:
    """The same records in two stores get other blocking keys: an index is no dictionary."""
    import dataclasses

    from linkage.match.linker import link
    from linkage.store.models import BlockingKey

    other = dataclasses.replace(settings, home=tmp_path / "other")
    keys = []
    for store in (settings, other):
        from linkage.store.db import migrate

        migrate(store)
        Ingestor(store).ingest_path(_canary_list(tmp_path), "iom")
        link(store)
        with session_scope(store) as s:
            keys.append(sorted(s.scalars(select(BlockingKey.key))))
    assert len(keys[0]) >= 10 and len(keys[0]) == len(keys[1]) and not set(keys[0]) & set(keys[1])


def test_a_linked_store_from_before_sealing_is_sealed_on_upgrade(settings: Settings, tmp_path: Path) -> None:
    """Migrated down to 0012 (values in clear, as the code before stored them) and up again:
    every value sealed, the archive too, persons and birth dates as they were."""
    from linkage.match.linker import link
    from linkage.store.db import migrate

    r = Ingestor(settings).ingest_path(_canary_list(tmp_path), "iom")
    link(settings)
    with session_scope(settings) as s:
        before = sorted((x.full_name, x.birth_date) for x in s.scalars(select(Record)))
        linked = s.scalar(select(func.count()).select_from(PersonRecord))
    migrate(settings, "0012")
    keyring.forget()
    with get_engine(settings).connect() as conn:
        clear = sorted(tuple(row) for row in conn.execute(text("SELECT full_name, birth_date FROM record")))
    assert clear == sorted((n, d.isoformat()) for n, d in before)
    assert CANARY_NAME.encode() in (settings.archive_dir / r.sha256[:2] / r.sha256).read_bytes()
    migrate(settings)
    dispose_engines()
    assert _leaks(_store_files(settings)) == []
    with session_scope(settings) as s:
        assert sorted((x.full_name, x.birth_date) for x in s.scalars(select(Record))) == before
        assert s.scalar(select(func.count()).select_from(PersonRecord)) == linked == 2


def test_every_personal_field_is_sealed_and_resealed() -> None:
    """The reseal list is privacy.py's, and the models seal exactly those columns."""
    from linkage.privacy import PERSONAL_COLUMNS, PERSONAL_FIELDS
    from linkage.seal.reseal import SEALED_COLUMNS
    from linkage.seal.types import Sealed
    from linkage.store.models import Base

    assert set(PERSONAL_FIELDS) <= set(SEALED_COLUMNS["record"])
    assert SEALED_COLUMNS == PERSONAL_COLUMNS
    declared = {
        (table.name, column.name)
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, Sealed)
    }
    assert declared == {(t, c) for t, columns in SEALED_COLUMNS.items() for c in columns}


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("iom_returns_2025_06.csv", "iom_returns_2025_06.csv"),  # every word known: shown
        ("MoSVY list 2026-11 (v2).xlsx", "MoSVY list 2026-11 (v2).xlsx"),
        ("lscw_clients_2024.csv", "lscw_clients_2024.csv"),  # an NGO's client export
        ("sok_dara_intake.xlsx", "mosvy delivery 3fa2c1d9e0b1"),  # two names: withheld
        ("returns_dara.csv", "mosvy delivery 3fa2c1d9e0b1"),  # one unknown word is enough
        ("បញ្ជី.xlsx", "mosvy delivery 3fa2c1d9e0b1"),  # Khmer: no word of it is known
        ("", "mosvy delivery 3fa2c1d9e0b1"),
    ],
)
def test_a_file_is_named_by_its_name_only_when_no_word_of_it_can_be_a_name(name: str, label: str) -> None:
    from linkage.privacy import file_label

    assert file_label(name, "mosvy", "3fa2c1d9e0b1" + "0" * 52) == label
    assert file_label("sok.csv", "iom", "") == "iom file (name withheld)"  # refused unread: no hash


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_file_name_is_sealed_and_sealed_on_upgrade(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A file name that names a man: ciphertext in the store, opened through it, and a store
    from before (down to 0015: names in clear) sealed by `migrate`."""
    from linkage.store.db import migrate

    settings = request.getfixturevalue("settings" if store == "sqlite" else "pg_settings")
    path = _canary_list(tmp_path).rename(tmp_path / "landing" / "iom" / f"{CANARY_NAME}_intake.csv")
    r = Ingestor(settings).ingest_path(path, "iom")

    def stored() -> str | bytes:
        with get_engine(settings).connect() as conn:
            return conn.execute(text("SELECT file_name FROM delivery")).scalar_one()

    def sealed(value: str | bytes) -> bool:
        as_bytes = value.encode() if isinstance(value, str) else value
        return cipher.key_id_of(value) is not None and CANARY_NAME.encode() not in as_bytes

    assert isinstance(stored(), bytes) and sealed(stored())
    migrate(settings, "0015")
    keyring.forget()
    assert stored() == path.name  # the downgrade opened it
    migrate(settings)
    assert sealed(stored())  # sealed by 0016 as s1: text, which 0018 keeps
    with session_scope(settings) as s:
        assert s.get(Delivery, r.sha256).file_name == path.name  # type: ignore[union-attr]


def test_a_column_sealed_at_once_opens_value_by_value_each_with_its_own_nonce() -> None:
    """The ingest seals a column in one pass (Sealed.seal_column): each value must still have
    a nonce of its own and read back through the per-value path every store reads by."""
    import datetime as dt

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from linkage.seal import current
    from linkage.seal.types import SealedDate, SealedText

    ring = keyring.Keyring(master_id="m0", current="d0", data_keys={"d0": AESGCM(AESGCM.generate_key(256))})
    before = current.ring_or_none()
    current.use(ring)
    try:
        texts = SealedText("record.full_name")
        values = [CANARY_NAME, None, CANARY_NAME, "", 42, "SOK"]
        sealed = texts.seal_column(values, dialect=None)
        assert sealed[1] is None and len(sealed) == len(values)
        head = len(cipher.binary_header("d0"))
        assert all(v[:head] == cipher.binary_header("d0") for v in sealed if v is not None)
        nonces = {v[head : head + 12] for v in sealed if v is not None}
        assert len(nonces) == len(values) - 1  # a nonce each
        assert sealed[0] != sealed[2] and not any(CANARY_NAME.encode() in (v or b"") for v in sealed)
        opened = [None if v is None else texts.process_result_value(v, None) for v in sealed]
        assert opened == [CANARY_NAME, None, CANARY_NAME, "", "42", "SOK"]
        assert len(sealed[0]) == len(texts.process_bind_param(CANARY_NAME, None))  # the same format
        dates = SealedDate("record.birth_date")
        born = [dt.date(1990, 1, 2), None]
        sealed_dates = dates.seal_column(born, None)
        assert [dates.process_result_value(v, None) if v else v for v in sealed_dates] == born
        with pytest.raises(SealBroken):  # the column is authenticated with each value
            SealedText("record.father_name").process_result_value(sealed[0], None)
    finally:
        current.use(before)


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_records_read_a_column_at_once_are_the_values_read_one_by_one(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The linker reads sealed columns as text and opens each in one pass
    (linkage/store/sealed.py): the frame must be the one SQLAlchemy's per-value processor gives."""
    import pandas as pd

    from linkage.match.frame import RECORD_COLUMNS
    from linkage.store.sealed import read_records_frame

    settings = request.getfixturevalue("settings" if store == "sqlite" else "pg_settings")

    Ingestor(settings).ingest_path(_canary_list(tmp_path), "iom")
    stmt = select(*(getattr(Record, c) for c in RECORD_COLUMNS)).order_by(Record.id)
    with session_scope(settings) as s:
        one_by_one = pd.read_sql(stmt, s.connection())
        at_once = read_records_frame(s.connection(), stmt)
    assert at_once.equals(one_by_one) and list(at_once.dtypes) == list(one_by_one.dtypes)
    assert CANARY_NAME in " ".join(at_once["given_name"] + at_once["family_name"])
    assert at_once["father_name"].isna().all() and at_once["birth_date"].notna().all()


def test_a_column_under_two_data_keys_opens_and_a_bad_value_says_where() -> None:
    """Midway through a rotation a column holds values under the old and the new data key."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from linkage.seal import cipher

    keys = {kid: AESGCM(AESGCM.generate_key(256)) for kid in ("d0", "d1")}
    ring = keyring.Keyring(master_id="m0", current="d1", data_keys=keys)
    old = cipher.seal_many(keys["d0"], "d0", [b"SOK", b"DARA"], b"record.full_name")
    new = ring.seal_many([CANARY_NAME.encode()], b"record.full_name")
    assert ring.open_many(new, b"record.full_name", "record.full_name") == [CANARY_NAME.encode()]
    mixed = ring.open_many([old[0], *new, old[1]], b"record.full_name", "record.full_name")
    assert mixed == [b"SOK", CANARY_NAME.encode(), b"DARA"]
    body = new[0].rsplit(":", 1)
    altered = f"{body[0]}:{'A' if body[1][0] != 'A' else 'B'}{body[1][1:]}"
    with pytest.raises(SealBroken, match="record.full_name"):
        ring.open_many([old[0], altered], b"record.full_name", "record.full_name")
    with pytest.raises(SealBroken):  # authenticated with its column
        ring.open_many(new, b"record.father_name", "record.father_name")


def test_a_column_of_text_and_binary_values_opens_in_one_call() -> None:
    """A store sealed before migration 0018 holds s1: text (on PostgreSQL, its bytes) beside
    the binary values of later deliveries, under one data key or two: each opens."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    keys = {kid: AESGCM(AESGCM.generate_key(256)) for kid in ("d0", "d1")}
    ring = keyring.Keyring(master_id="m0", current="d1", data_keys=keys)
    aad = b"record.full_name"
    text_old = cipher.seal_many(keys["d0"], "d0", [b"SOK"], aad)[0]
    text_now = ring.seal_many([b"DARA"], aad)[0]
    binary = ring.seal_many_binary([CANARY_NAME.encode(), b"CHEA"], aad)
    binary_old = cipher.seal_many_binary(keys["d0"], "d0", [b"KEO"], aad)[0]
    column = [text_old, binary[0], text_now.encode(), text_now, binary_old, binary[1]]
    assert ring.open_many(column, aad, "record.full_name") == [
        b"SOK",
        CANARY_NAME.encode(),
        b"DARA",
        b"DARA",
        b"KEO",
        b"CHEA",
    ]
    assert ring.open_many(binary, aad, "x") == [CANARY_NAME.encode(), b"CHEA"]  # the one pass
    assert [cipher.key_id_of(v) for v in column] == ["d0", "d1", "d1", "d1", "d0", "d1"]
    assert cipher.as_text(binary[0]).startswith("s1:d1:")
    assert ring.open(cipher.as_text(binary[0]), aad, "x") == CANARY_NAME.encode()  # no key to re-encode
    altered = binary[0][:-1] + bytes([binary[0][-1] ^ 1])
    with pytest.raises(SealBroken, match="record.full_name"):
        ring.open_many([text_old, altered], aad, "record.full_name")
    with pytest.raises(SealBroken):  # authenticated with its column
        ring.open_many(binary, b"record.father_name", "record.father_name")


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_store_sealed_as_text_reads_after_0018_and_rotates_to_binary(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Down to 0017 (every value s1: text, as stores sealed before hold them) and up again:
    the old values read beside a later delivery's binary ones, the frame the linker reads is
    the per-value one, and a rotation leaves every value binary under the new data key."""
    import pandas as pd

    from linkage.match.frame import RECORD_COLUMNS
    from linkage.seal import rotate as rotation
    from linkage.store.db import migrate
    from linkage.store.sealed import read_records_frame

    settings = request.getfixturevalue("settings" if store == "sqlite" else "pg_settings")

    def values() -> list:
        with get_engine(settings).connect() as conn:
            rows = conn.execute(text("SELECT full_name, raw, birth_date FROM record ORDER BY id")).all()
            return [v for row in rows for v in row] + list(
                conn.scalars(text("SELECT file_name FROM delivery"))
            )

    Ingestor(settings).ingest_path(_canary_list(tmp_path), "iom")
    assert all(isinstance(v, bytes) for v in values())
    migrate(settings, "0017")
    assert all(isinstance(v, str) and v.startswith("s1:") for v in values())
    migrate(settings)
    later = write(tmp_path / "landing" / "iom" / "later.csv", iom_csv([iom_row("S9", name="KEO SOK")]))
    assert Ingestor(settings).ingest_path(later, "iom").rows_loaded == 1
    assert {type(v) for v in values()} == ({str, bytes} if store == "sqlite" else {bytes})
    stmt = select(*(getattr(Record, c) for c in RECORD_COLUMNS)).order_by(Record.id)
    with session_scope(settings) as s:
        one_by_one = pd.read_sql(stmt, s.connection())
        at_once = read_records_frame(s.connection(), stmt)
    assert at_once.equals(one_by_one) and len(at_once) == 3
    assert {CANARY_NAME, "KEO"} <= set(at_once["given_name"]) | set(at_once["family_name"])
    new = create_master_key(settings, tmp_path / "new.key")
    done = rotation.rotate(settings, new, say=lambda _m: None)
    assert all(isinstance(v, bytes) and cipher.key_id_of(v) == done.data_key for v in values())
    rotation.install_new_key(settings, tmp_path / "new.key")
    keyring.forget()
    with session_scope(settings) as s:
        assert read_records_frame(s.connection(), stmt).equals(one_by_one)
