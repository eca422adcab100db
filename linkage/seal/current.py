"""The keyring this process works with (set when a store session opens).

Why a module of its own: the column types of the models need it, and importing the keyring
(which reads the models) from there would be a cycle.
"""

from __future__ import annotations

from typing import Any

from linkage.seal.errors import MasterKeyMissing

_active: Any = None  # a linkage.seal.keyring.Keyring


def use(ring: Any) -> None:
    global _active
    _active = ring


def ring() -> Any:
    if _active is None:
        raise MasterKeyMissing("no store's keys are open in this process (open a store session first)")
    return _active


def ring_or_none() -> Any:
    return _active
