"""Sealing one value: AES-256-GCM under a data key, the key's id written with the value.

Format of a sealed value: ``s1:<data key id>:<base64 of nonce, ciphertext and tag>``. The
column's name is authenticated with it (AES-GCM's associated data), so a value copied into
another column, or altered by one bit, fails to open instead of reading as something else.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from linkage.seal.errors import SealBroken

PREFIX = "s1:"
NONCE_BYTES = 12


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


def key_id_of(sealed: str) -> str | None:
    """The data key id a sealed value names, or None when the text is not sealed."""
    if not sealed.startswith(PREFIX):
        return None
    end = sealed.find(":", len(PREFIX))
    return sealed[len(PREFIX) : end] if end > 0 else None


def open_many(aead: AESGCM, key_id: str, sealed: list[str], context: bytes, where: str) -> list[bytes]:
    """Open each of `sealed`, all sealed under data key `key_id`: a column in one pass. A
    value under another key fails as altered (its id is read as base64, or the tag fails)."""
    skip, decode, decrypt, n = len(PREFIX) + len(key_id) + 1, binascii.a2b_base64, aead.decrypt, NONCE_BYTES
    try:
        return [decrypt((raw := decode(v[skip:], strict_mode=True))[:n], raw[n:], context) for v in sealed]
    except (InvalidTag, binascii.Error, ValueError):
        raise SealBroken(f"a sealed value in {where} failed to open (altered, moved or foreign)") from None


def open_bytes(aead: AESGCM, sealed: str, context: bytes, where: str) -> bytes:
    body = sealed[sealed.find(":", len(PREFIX)) + 1 :]
    try:
        raw = base64.b64decode(body, validate=True)
        return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context)
    except (InvalidTag, binascii.Error, ValueError):
        raise SealBroken(f"a sealed value in {where} failed to open (altered, moved or foreign)") from None
