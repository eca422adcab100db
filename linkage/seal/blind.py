"""Blind indexes: keyed hashes of normalised keys, so blocking, incremental lookups and
duplicate checks compare stored keys without opening a sealed value.

Why keyed: an unkeyed hash of a phone number or of "SOK" + a birth year can be recomputed
by anyone for every candidate value; keyed by the store's blind key (SipHash-2-4, the keyed
hash pandas uses), the stored 64-bit keys are useless without the key. Records in memory
only (benchmarks, FEBRL, unit tests: no store open) are hashed with a public key.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from linkage.seal import current

PUBLIC_KEY = "survivorlinkkeys"  # for lists in memory only; never what a store's keys use


def _hash_key() -> str:
    ring = current.ring_or_none()
    return PUBLIC_KEY if ring is None else ring.blind_key.decode("ascii")


def blind_hash(values: np.ndarray) -> np.ndarray:
    """The 64-bit keyed hash of each text value (uint64), each distinct value hashed once."""
    return pd.util.hash_array(values, hash_key=_hash_key(), categorize=True)
