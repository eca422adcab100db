"""Errors of the key machinery: each says what is wrong and where, never a key or a value."""

from __future__ import annotations

from linkage.privacy import SafeError


class KeyError_(SafeError):
    """A key is missing, wrong, or cannot be used. Nothing is written when this is raised."""


class MasterKeyMissing(KeyError_):
    """No master key where the settings say it is, and the store already holds sealed data."""


class WrongMasterKey(KeyError_):
    """The master key given is not the one the store's data keys are wrapped with."""


class SealBroken(KeyError_):
    """A sealed value failed authentication: altered, moved between columns, or a foreign key."""
