"""`survivor-link keys rotate`: a new master key, a new data key, every value re-sealed.

Why re-seal and not only re-wrap: a copy of the old master key and an old backup of the
store_key table would otherwise still open today's values. Steps, each safe to repeat:

1. every key of the store is wrapped by the new master key too (either master opens all),
   and a new data key becomes current: new values are sealed under it from now on;
2. every sealed value and archived file not under the new data key is re-sealed, a batch
   per transaction (an interrupted rotation goes on from the values still to do);
3. the old data keys and every wrapping by another master key are dropped. The old master
   key opens nothing of this store afterwards.

Run it while no ingest or link is running (pause the DAGs): a process that opened the keys
before step 1 would seal under the old data key until its next session.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, update

from linkage.seal import archive, cipher, keyring
from linkage.seal.errors import MasterKeyMissing, WrongMasterKey
from linkage.seal.master import MasterKey, read_master_key
from linkage.seal.reseal import rewrite
from linkage.settings import Settings
from linkage.store.models import StoreKey


@dataclass
class Rotation:
    old_master: str
    new_master: str
    data_key: str
    values: int = 0
    files: int = 0
    resumed: bool = False


def _start(settings: Settings, old: MasterKey, new: MasterKey) -> tuple[str, bool]:
    """Step 1 (or find it done): the id of the new current data key, and whether resumed."""
    from linkage.store.db import get_engine

    with get_engine(settings).begin() as conn:
        rows = list(conn.execute(select(StoreKey)))
        if not rows:
            raise MasterKeyMissing("the store has no keys yet: nothing to rotate")
        under_new = [r for r in rows if r.master_id == new.key_id]
        if under_new:
            current = [r.key_id for r in under_new if r.purpose == keyring.DATA and r.status == "current"]
            return current[0], True
        ring = keyring.load_keyring(conn, settings, create=False)  # opened by the old master
        if ring.master_id != old.key_id:
            raise WrongMasterKey("the configured master key is not this store's")
        conn.execute(update(StoreKey).where(StoreKey.purpose == keyring.DATA).values(status="retiring"))
        keyring.add_wrapping(conn, new, keyring.BLIND, keyring.BLIND, "current", ring.blind_key)
        for key_id, raw in ring.raw_keys.items():
            keyring.add_wrapping(conn, new, key_id, keyring.DATA, "retiring", raw)
        fresh_id, fresh = "d" + secrets.token_hex(4), AESGCM.generate_key(256)
        for master in (old, new):  # the old master opens it too until the end: others keep working
            keyring.add_wrapping(conn, master, fresh_id, keyring.DATA, "current", fresh)
        return fresh_id, False


def rotate(settings: Settings, new: MasterKey, say: Callable[[str], None] = print) -> Rotation:
    """Re-seal the whole store and its archive under `new`; see the module's steps."""
    from linkage.store.db import get_engine

    old = read_master_key(settings)
    if old is None:
        raise MasterKeyMissing("no master key is configured: nothing to rotate from")
    if old.key_id == new.key_id:
        raise WrongMasterKey("the new master key is the one in use")
    data_key, resumed = _start(settings, old, new)
    keyring.forget()
    engine = get_engine(settings)
    with engine.begin() as conn:
        ring = keyring.load_keyring(conn, settings, create=False)
    result = Rotation(old.key_id, new.key_id, data_key, resumed=resumed)
    say(f"{'resuming' if resumed else 'started'}: new data key {data_key} under master key {new.key_id}")

    def reseal(table: str, column: str, value: cipher.Stored) -> bytes | None:
        key_id = cipher.key_id_of(value)
        if key_id == data_key:
            return None
        where = f"{table}.{column}"
        clear = ring.open(value, where.encode(), where) if key_id else value.encode()
        return ring.seal_binary(clear, where.encode())  # the format of the columns since 0018

    with engine.connect() as conn:
        counts = rewrite(conn, reseal, commit=conn.commit)
        conn.commit()
    result.values = counts.values
    say(f"values re-sealed: {counts.values} in {counts.rows} rows")
    result.files = archive.rewrite_archive(settings, ring)
    say(f"archived files re-sealed: {result.files}")
    with engine.begin() as conn:
        conn.execute(StoreKey.__table__.delete().where(StoreKey.status == "retiring"))
        conn.execute(StoreKey.__table__.delete().where(StoreKey.master_id != new.key_id))
    keyring.forget()
    return result


def install_new_key(settings: Settings, new_path: Path) -> str:
    """After a rotation: the new key replaces the configured key file (the old one is gone),
    or, with the key in an environment variable, what the operator must change."""
    from linkage.seal.master import ENV_KEY, key_path

    old = read_master_key(settings)
    if old is not None and old.source == ENV_KEY:
        return f"set {ENV_KEY} to the contents of {new_path}, then delete that file"
    target = key_path(settings)
    if new_path.resolve() != target.resolve():
        new_path.replace(target)
    return f"the new master key is now {target}; the old key was overwritten"
