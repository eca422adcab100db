"""The master key: 32 random bytes from an environment variable or a file kept 0600.

Why outside the store: the store holds only data keys wrapped by this key, so a copy of the
database file, a pg_dump or a backup of the archive reads as noise without it. The demo and
the tests create it on first use under <home>/keys/; production points
SURVIVOR_LINK_MASTER_KEY_FILE at a file on another disk, or sets SURVIVOR_LINK_MASTER_KEY.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from linkage.seal.errors import MasterKeyMissing
from linkage.seal.files import private_dir, write_private
from linkage.settings import Settings

ENV_KEY = "SURVIVOR_LINK_MASTER_KEY"  # base64 of 32 bytes; wins over the file


@dataclass(frozen=True)
class MasterKey:
    """A master key and its id (a fingerprint, safe to print and store)."""

    key: bytes
    source: str  # where it came from: the file's path or the variable's name

    @property
    def key_id(self) -> str:
        return "m" + hashlib.sha256(b"survivor-link master " + self.key).hexdigest()[:12]


def key_path(settings: Settings) -> Path:
    configured = settings.master_key_file
    return configured if str(configured) not in ("", ".") else settings.home / "keys" / "master.key"


def _decode(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyMissing(f"the master key in {where} is not base64 text") from None
    if len(key) != 32:
        raise MasterKeyMissing(f"the master key in {where} is {len(key)} bytes, not 32")
    return key


def read_master_key(settings: Settings) -> MasterKey | None:
    """The configured master key, or None when there is none yet."""
    env = os.environ.get(ENV_KEY, "")
    if env:
        return MasterKey(_decode(env, ENV_KEY), ENV_KEY)
    return read_key_file(key_path(settings))


def read_key_file(path: Path) -> MasterKey | None:
    if not path.exists():
        return None
    return MasterKey(_decode(path.read_text(encoding="ascii", errors="replace"), str(path)), str(path))


def new_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def create_master_key(settings: Settings, path: Path | None = None) -> MasterKey:
    """A new master key in a file of its own (0600 in a 0700 folder), said on stderr."""
    path = path or key_path(settings)
    private_dir(path.parent)
    write_private(path, (new_key_text() + "\n").encode("ascii"), exclusive=True)
    key = MasterKey(_decode(path.read_text(encoding="ascii"), str(path)), str(path))
    print(
        f"survivor-link: created master key {path} (id {key.key_id}); keep a copy apart from "
        "the store: without it nothing sealed can be read",
        file=sys.stderr,
    )
    return key
