"""Blind indexes: keyed hashes of normalised keys, so blocking, incremental lookups and
duplicate checks compare stored keys without opening a sealed value.

Why keyed: an unkeyed hash of a phone number or of "SOK" + a birth year can be recomputed
by anyone for every candidate value; keyed by the store's blind key (SipHash-2-4, the keyed
hash pandas uses), the stored 64-bit keys are useless without the key. Records in memory
only (benchmarks, FEBRL, unit tests: no store open) are hashed with a public key.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

from linkage.seal import current

PUBLIC_KEY = "survivorlinkkeys"  # for lists in memory only; never what a store's keys use
# what a record key's HMAC is over, before the content digest: no other keyed hash means it
_RECORD_KEY_LABEL = b"survivor-link record key\x1f"
_FILE_NAME_LABEL = b"survivor-link file name\x1f"


def _hash_key() -> str:
    ring = current.ring_or_none()
    return PUBLIC_KEY if ring is None else ring.blind_key.decode("ascii")


def blind_hash(values: np.ndarray) -> np.ndarray:
    """The 64-bit keyed hash of each text value (uint64), each distinct value hashed once."""
    return pd.util.hash_array(values, hash_key=_hash_key(), categorize=True)


def content_digest(text: str) -> str:
    """The unkeyed digest of a row's content text: an intermediate, never stored."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def keyed_record_key(blind_key: bytes, digest: str) -> str:
    """A record key from a content digest: ``k:`` and HMAC-SHA256 under the store's blind key.

    Why keyed: an unkeyed hash of what a row says (names, birth date, village) lets anyone
    with the store confirm a guessed name. Why over the digest, not the text: migration 0015
    rekeys the stored unkeyed keys without opening a sealed value.
    """
    mac = hmac.digest(blind_key, _RECORD_KEY_LABEL + digest.encode("ascii"), "sha256")
    return "k:" + mac.hex()[:32]


def keyed_name_digest(blind_key: bytes, name: str) -> str:
    """12 hex digits of HMAC-SHA256 of a file name under the store's blind key.

    Why: a file refused unread (a link) has no bytes to hash, yet the officer must tell it
    apart where its name may not show (`<home>/refused/`, the audit log); an unkeyed hash of
    the name would let anyone confirm a guessed name, and the same name keeps its digest.
    """
    mac = hmac.digest(blind_key, _FILE_NAME_LABEL + name.encode("utf-8", "surrogatepass"), "sha256")
    return mac.hex()[:12]
