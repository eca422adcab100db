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


def key_id_of(sealed: str) -> str | None:
    """The data key id a sealed value names, or None when the text is not sealed."""
    if not sealed.startswith(PREFIX):
        return None
    end = sealed.find(":", len(PREFIX))
    return sealed[len(PREFIX) : end] if end > 0 else None


def open_bytes(aead: AESGCM, sealed: str, context: bytes, where: str) -> bytes:
    body = sealed[sealed.find(":", len(PREFIX)) + 1 :]
    try:
        raw = base64.b64decode(body, validate=True)
        return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context)
    except (InvalidTag, binascii.Error, ValueError):
        raise SealBroken(f"a sealed value in {where} failed to open (altered, moved or foreign)") from None
