"""Sealing one value: AES-256-GCM under a data key, the key's id written with the value.

Two formats of one cipher. Text, ``s1:<data key id>:<base64 of nonce, ciphertext and
tag>``: what stores sealed before migration 0018 hold, and what the archive and the frozen
migrations 0014 and 0016 still write. Binary, what a store's columns take since 0018: the
byte 0x01, one byte the key id's length, the key id (ASCII), the 12-byte nonce, then the
ciphertext and its tag; no base64 and no text to build (a third of the bytes less, and
about a fifth of the sealing pass). Both open everywhere. The column's name is
authenticated with a value (AES-GCM's associated data), so a value copied into another
column, or altered by one bit, fails to open instead of reading as something else.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from linkage.seal.errors import SealBroken

PREFIX = "s1:"
BINARY = 1  # the first byte of a binary sealed value (a text one begins with "s", 0x73)
NONCE_BYTES = 12
# what a stored value may be: text of the s1 format, or bytes of either format
Stored = str | bytes


def binary_header(key_id: str) -> bytes:
    kid = key_id.encode("ascii")
    return bytes((BINARY, len(kid))) + kid


def seal_bytes(aead: AESGCM, key_id: str, data: bytes, context: bytes) -> str:
    nonce = os.urandom(NONCE_BYTES)
    body = base64.b64encode(nonce + aead.encrypt(nonce, data, context)).decode("ascii")
    return f"{PREFIX}{key_id}:{body}"


def seal_many(aead: AESGCM, key_id: str, data: list[bytes], context: bytes) -> list[str]:
    """Seal each of `data` on its own, in the format of seal_bytes: a column in one pass.

    Why: a store write seals ten or so values a row, and per value the calls around the
    cipher (a random draw, base64, the prefix, SQLAlchemy's bind processor) cost more than
    the cipher. The nonces come from one draw of the system's CSPRNG cut in 12-byte pieces:
    each value still has a random nonce of its own, as it would from a draw each.
    """
    pool = os.urandom(NONCE_BYTES * len(data))
    encrypt, b64, prefix = aead.encrypt, binascii.b2a_base64, f"{PREFIX}{key_id}:"
    nonces = [pool[i : i + NONCE_BYTES] for i in range(0, len(pool), NONCE_BYTES)]
    return [
        prefix + b64(nonce + encrypt(nonce, value, context), newline=False).decode("ascii")
        for nonce, value in zip(nonces, data, strict=True)
    ]


def seal_binary(aead: AESGCM, key_id: str, data: bytes, context: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return binary_header(key_id) + nonce + aead.encrypt(nonce, data, context)


def seal_many_binary(aead: AESGCM, key_id: str, data: list[bytes], context: bytes) -> list[bytes]:
    """Each of `data` sealed on its own in the binary format, a column in one pass (the
    nonces cut from one random draw, as in seal_many)."""
    pool = os.urandom(NONCE_BYTES * len(data))
    encrypt, head = aead.encrypt, binary_header(key_id)
    nonces = [pool[i : i + NONCE_BYTES] for i in range(0, len(pool), NONCE_BYTES)]
    return [head + nonce + encrypt(nonce, value, context) for nonce, value in zip(nonces, data, strict=True)]


def as_text(sealed: Stored) -> str:
    """A sealed value in the text format (a downgrade below 0018): a binary one re-encoded,
    with no key needed; a text one (or PostgreSQL's bytes of one) as it is."""
    if isinstance(sealed, str):
        return sealed
    if sealed[:1] != bytes((BINARY,)):
        return sealed.decode("ascii")
    end = 2 + sealed[1]
    body = binascii.b2a_base64(sealed[end:], newline=False).decode("ascii")
    return f"{PREFIX}{sealed[2:end].decode('ascii')}:{body}"


def key_id_of(sealed: Stored) -> str | None:
    """The data key id a sealed value names, or None when the value is not sealed."""
    if isinstance(sealed, bytes | bytearray | memoryview):
        sealed = bytes(sealed)
        if sealed[:1] == bytes((BINARY,)) and len(sealed) > 2:
            return sealed[2 : 2 + sealed[1]].decode("ascii", "replace")
        sealed = sealed[:64].decode("ascii", "replace")
    if not sealed.startswith(PREFIX):
        return None
    end = sealed.find(":", len(PREFIX))
    return sealed[len(PREFIX) : end] if end > 0 else None


def open_many_binary(
    aead: AESGCM, key_id: str, sealed: list[bytes], context: bytes, where: str
) -> list[bytes]:
    """Each of `sealed`, all binary under data key `key_id`, opened in one pass. A value
    under another key, or of the text format, fails its tag (or is no bytes): SealBroken."""
    skip = len(binary_header(key_id))
    n, decrypt = skip + NONCE_BYTES, aead.decrypt
    try:
        return [decrypt(v[skip:n], v[n:], context) for v in sealed]
    except (InvalidTag, TypeError, ValueError):
        raise SealBroken(f"a sealed value in {where} failed to open (altered, moved or foreign)") from None


def open_many(aead: AESGCM, key_id: str, sealed: list[str], context: bytes, where: str) -> list[bytes]:
    """Open each of `sealed`, all sealed under data key `key_id`: a column in one pass. A
    value under another key fails as altered (its id is read as base64, or the tag fails)."""
    skip, decode, decrypt, n = len(PREFIX) + len(key_id) + 1, binascii.a2b_base64, aead.decrypt, NONCE_BYTES
    try:
        return [decrypt((raw := decode(v[skip:], strict_mode=True))[:n], raw[n:], context) for v in sealed]
    except (InvalidTag, binascii.Error, TypeError, ValueError):
        raise SealBroken(f"a sealed value in {where} failed to open (altered, moved or foreign)") from None


def open_bytes(aead: AESGCM, sealed: Stored, context: bytes, where: str) -> bytes:
    try:
        if isinstance(sealed, str):
            raw = base64.b64decode(sealed[sealed.find(":", len(PREFIX)) + 1 :], validate=True)
        elif sealed[:1] == bytes((BINARY,)):
            raw = sealed[2 + sealed[1] :]
        else:  # the text format as PostgreSQL's bytea keeps it since 0018
            raw = base64.b64decode(sealed[sealed.find(b":", len(PREFIX)) + 1 :], validate=True)
        return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context)
    except (InvalidTag, binascii.Error, IndexError, ValueError):
        raise SealBroken(f"a sealed value in {where} failed to open (altered, moved or foreign)") from None
