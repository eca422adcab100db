"""Whole files sealed at rest: the raw archive keeps each delivery as received, encrypted.

Why: the archive is what replay reads, so it must keep the exact bytes; but it holds every
name of every list, so it is sealed with the store's data key (AES-256-GCM, the file's hash
authenticated with it) in a 0400 file inside 0700 folders. A file archived before sealing
(plain bytes) is still read, and `survivor-link keys rotate` seals it.
"""

from __future__ import annotations

from pathlib import Path

from linkage.seal import cipher
from linkage.seal.files import private_dir, write_private
from linkage.seal.keyring import Keyring, activate
from linkage.settings import Settings

MAGIC = b"SLSEAL1 "


def _ring(settings: Settings) -> Keyring:
    from linkage.store.db import get_engine

    return activate(get_engine(settings), settings)


def _context(name: str) -> bytes:
    return b"archive " + name.encode()


def seal_blob(ring: Keyring, name: str, data: bytes) -> bytes:
    """MAGIC, the data key's id, a newline, then the sealed bytes (nonce, ciphertext, tag)."""
    sealed = ring.seal(data, _context(name))  # text: s1:<kid>:<base64>
    return MAGIC + sealed.encode("ascii")


def key_id(blob: bytes) -> str | None:
    """The data key a sealed file names; None for a file archived in clear."""
    if not blob.startswith(MAGIC):
        return None
    return cipher.key_id_of(blob[len(MAGIC) : len(MAGIC) + 40].decode("ascii", "replace"))


def open_blob(ring: Keyring, name: str, blob: bytes) -> bytes:
    if not blob.startswith(MAGIC):
        return blob  # archived before sealing
    return ring.open(blob[len(MAGIC) :].decode("ascii"), _context(name), f"archived file {name[:12]}")


def write_sealed(settings: Settings, path: Path, data: bytes, ring: Keyring | None = None) -> Path:
    ring = ring or _ring(settings)
    private_dir(path.parent)
    write_private(path, seal_blob(ring, path.name, data))
    path.chmod(0o400)
    return path


def read_sealed(settings: Settings, path: Path) -> bytes:
    return open_blob(_ring(settings), path.name, path.read_bytes())


def archived_files(settings: Settings) -> list[Path]:
    root = settings.archive_dir
    return (
        sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
        if root.exists()
        else []
    )


def rewrite_archive(settings: Settings, ring: Keyring, clear: bool = False) -> int:
    """Seal every archived file under the ring's current data key (or, with `clear`, write
    each back in clear, for a downgrade). Each file is replaced atomically; the count done."""
    done = 0
    for path in archived_files(settings):
        blob = path.read_bytes()
        kid = key_id(blob)
        if (clear and kid is None) or (not clear and kid == ring.current):
            continue
        data = open_blob(ring, path.name, blob)
        path.chmod(0o600)
        if clear:
            write_private(path, data)
            path.chmod(0o444)
        else:
            write_sealed(settings, path, data, ring)
        done += 1
    return done
