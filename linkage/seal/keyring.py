"""Data keys of a store, wrapped by the master key: envelope encryption.

Why envelopes: every sealed value names its data key; the data keys live in the store's
table store_key, each wrapped (AES-GCM) by a master key that never enters the store. A new
master key re-wraps the keys; `survivor-link keys rotate` also makes a new data key and
re-seals every value under it, so nothing stays readable with the old master key.

One key of purpose "blind" keys the blind indexes (blocking keys, record lookups): it is
kept across rotations, since changing it would re-key every stored index.
"""

from __future__ import annotations

import base64
import os
import secrets
import threading
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from linkage.seal import cipher, current
from linkage.seal.errors import MasterKeyMissing, SealBroken, WrongMasterKey
from linkage.seal.master import MasterKey, create_master_key, key_path, read_master_key
from linkage.settings import Settings
from linkage.store.models import StoreKey, utcnow

BLIND = "blind"
DATA = "data"


@dataclass
class Keyring:
    """The unwrapped keys of one store, for one process."""

    master_id: str
    current: str  # the data key new values are sealed with
    data_keys: dict[str, AESGCM] = field(default_factory=dict)
    raw_keys: dict[str, bytes] = field(default_factory=dict)  # to wrap them again on rotation
    blind_key: bytes = b""

    def seal(self, data: bytes, context: bytes) -> str:
        """Text format (the archive; migrations 0014 and 0016, frozen before 0018)."""
        return cipher.seal_bytes(self.data_keys[self.current], self.current, data, context)

    def seal_many(self, data: list[bytes], context: bytes) -> list[str]:
        """Each of `data` sealed on its own (a nonce each) under the current data key, text."""
        return cipher.seal_many(self.data_keys[self.current], self.current, data, context)

    def seal_binary(self, data: bytes, context: bytes) -> bytes:
        """Binary format: what a store's sealed columns take since migration 0018."""
        return cipher.seal_binary(self.data_keys[self.current], self.current, data, context)

    def seal_many_binary(self, data: list[bytes], context: bytes) -> list[bytes]:
        """Each of `data` sealed on its own (a nonce each), binary, a column in one pass."""
        return cipher.seal_many_binary(self.data_keys[self.current], self.current, data, context)

    def open_many(self, sealed: list[cipher.Stored], context: bytes, where: str) -> list[bytes]:
        """Each of `sealed` opened: a column all binary (or all text) under the current data
        key, the usual case, in one pass; if not (a store sealed before 0018 that has had
        deliveries since: text and binary rows), each format in a pass of its own; a value
        under another key (a rotation under way) each by the key it names, which also says
        which key or value is at fault."""
        aead, kid = self.data_keys[self.current], self.current
        try:
            return cipher.open_many_binary(aead, kid, sealed, context, where)  # type: ignore[arg-type]
        except SealBroken:
            pass
        try:
            return cipher.open_many(aead, kid, sealed, context, where)  # type: ignore[arg-type]
        except SealBroken:
            pass
        binary = [i for i, v in enumerate(sealed) if v.__class__ is bytes and v[:1] == b"\x01"]
        if 0 < len(binary) < len(sealed):
            text = sorted(set(range(len(sealed))) - set(binary))
            out: list[bytes] = [b""] * len(sealed)
            for part in (binary, text):
                for i, v in zip(part, self.open_many([sealed[i] for i in part], context, where), strict=True):
                    out[i] = v
            return out
        return [self.open(v, context, where) for v in sealed]

    def open(self, sealed: cipher.Stored, context: bytes, where: str) -> bytes:
        key_id = cipher.key_id_of(sealed)
        aead = self.data_keys.get(key_id or "")
        if aead is None:
            raise WrongMasterKey(
                f"a value in {where} is sealed with data key {key_id}, which this store's keys "
                f"(master key {self.master_id}) do not hold"
            )
        return cipher.open_bytes(aead, sealed, context, where)


def _wrap(master: MasterKey, key_id: str, key: bytes) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(master.key).encrypt(nonce, key, b"survivor-link key " + key_id.encode())
    return base64.b64encode(nonce + sealed).decode("ascii")


def _unwrap(master: MasterKey, key_id: str, wrapped: str) -> bytes:
    raw = base64.b64decode(wrapped)
    try:
        return AESGCM(master.key).decrypt(raw[:12], raw[12:], b"survivor-link key " + key_id.encode())
    except InvalidTag:
        raise WrongMasterKey(
            f"master key {master.key_id} ({master.source}) does not open data key {key_id}: "
            "the file or variable holds another key than the one it was wrapped with"
        ) from None


def new_blind_key() -> bytes:
    """16 bytes of 7 bits each (112 bits): pandas' SipHash key must be 16 UTF-8 bytes."""
    return bytes(b & 0x7F for b in secrets.token_bytes(16))


def add_wrapping(
    conn: Connection, master: MasterKey, key_id: str, purpose: str, status: str, key: bytes
) -> None:
    conn.execute(
        insert(StoreKey).values(
            key_id=key_id,
            master_id=master.key_id,
            purpose=purpose,
            status=status,
            wrapped=_wrap(master, key_id, key),
            created_at=utcnow(),
        )
    )


def _create_first_keys(conn: Connection, master: MasterKey) -> None:
    add_wrapping(conn, master, BLIND, BLIND, "current", new_blind_key())
    add_wrapping(conn, master, "d" + secrets.token_hex(4), DATA, "current", AESGCM.generate_key(256))


def load_keyring(conn: Connection, settings: Settings, create: bool = True) -> Keyring:
    """The store's keys opened with the configured master key; the first keys (and, for a
    new home, the master key file) are created on first use."""
    rows = list(conn.execute(select(StoreKey)))
    master = read_master_key(settings)
    if not rows:
        if not create:
            raise MasterKeyMissing("the store has no keys yet")
        if master is None:
            try:
                master = create_master_key(settings)
            except FileExistsError:  # another process made it a moment ago
                master = read_master_key(settings)
        assert master is not None
        _create_first_keys(conn, master)  # a race with another process: IntegrityError
        rows = list(conn.execute(select(StoreKey)))
    wrapped_by = sorted({r.master_id for r in rows})
    if master is None:
        raise MasterKeyMissing(
            f"this store's data are sealed with master key {', '.join(wrapped_by)} and no master key "
            f"is configured: set SURVIVOR_LINK_MASTER_KEY or put the key file at {key_path(settings)} "
            "(nothing was read or written)"
        )
    mine = [r for r in rows if r.master_id == master.key_id]
    if not mine:
        raise WrongMasterKey(
            f"the master key configured ({master.key_id}, from {master.source}) is not this store's "
            f"({', '.join(wrapped_by)}); nothing was read or written"
        )
    ring = Keyring(master_id=master.key_id, current="")
    for r in mine:
        key = _unwrap(master, r.key_id, r.wrapped)
        if r.purpose == BLIND:
            ring.blind_key = key
        else:
            ring.data_keys[r.key_id] = AESGCM(key)
            ring.raw_keys[r.key_id] = key
            if r.status == "current":
                ring.current = r.key_id
    if not ring.current or not ring.blind_key:
        raise WrongMasterKey(f"master key {master.key_id} opens only some of this store's keys")
    return ring


# -- the keyring in use ---------------------------------------------------------------------
_lock = threading.Lock()
_rings: dict[tuple[str, str], Keyring] = {}


def activate(engine: Engine, settings: Settings) -> Keyring:
    """Open (once per process) and make current the keys of the store `settings` names; the
    first keys are made in a transaction of their own (a second process racing to make
    them finds the first one's)."""
    master = read_master_key(settings)
    cache_key = (settings.database_url, master.key_id if master else "")
    with _lock:
        ring = _rings.get(cache_key)
        if ring is not None and not _still_current(engine, ring):
            ring = None  # a rotation made another data key current
        if ring is None:
            try:
                with engine.begin() as conn:
                    ring = load_keyring(conn, settings)
            except IntegrityError:
                with engine.begin() as conn:
                    ring = load_keyring(conn, settings)
            _rings[(settings.database_url, ring.master_id)] = ring
        current.use(ring)
    return ring


def _still_current(engine: Engine, ring: Keyring) -> bool:
    query = select(StoreKey.key_id).where(
        StoreKey.purpose == DATA, StoreKey.status == "current", StoreKey.master_id == ring.master_id
    )
    with engine.connect() as conn:
        return ring.current in set(conn.scalars(query))


def forget() -> None:
    """Drop every opened keyring (after a rotation, or when a test removes a key)."""
    with _lock:
        _rings.clear()
        current.use(None)
