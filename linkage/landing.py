"""The landing folders: where officers drop lists, and how a dropped file is claimed.

Why a claim step before ingesting: a watcher (the Airflow trigger, or the CLI) must take a
file only once it is fully written, take it exactly once, and leave a trace in the store
that survives any restart. A file whose size and modification time have not changed for
`settle_seconds` is claimed: hashed, recorded as a `landed` delivery, and moved (one
atomic rename on the same disk) into the inbox, from where ingest takes everything
pending. A crash after the rename leaves the file in the inbox; the next run ingests it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from linkage.ingest.files import LINK
from linkage.privacy import file_label
from linkage.settings import Settings
from linkage.store.db import audit, session_scope
from linkage.store.locks import ingest_lock_name, store_lock
from linkage.store.models import Delivery

# Files that are still being written or belong to an editor, never lists.
SKIP_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".filepart")
SKIP_PREFIXES = (".", "~$", "~")


@dataclass(frozen=True)
class Claimed:
    """A file taken from a landing folder: ids only, no content."""

    source: str
    sha256: str
    file_name: str
    inbox_path: str
    new: bool

    @property
    def label(self) -> str:
        return file_label(self.file_name, self.source, self.sha256)


def landing_folder(settings: Settings, source: str) -> Path:
    return settings.landing_dir / source


def inbox_folder(settings: Settings, source: str) -> Path:
    return settings.home / "inbox" / source


def is_candidate(path: Path) -> bool:
    """A regular file that is not being written; a link is never a candidate (never followed)."""
    name = path.name
    if path.is_symlink() or name.startswith(SKIP_PREFIXES) or name.lower().endswith(SKIP_SUFFIXES):
        return False
    return path.is_file()


def refuse_links(settings: Settings, source: str) -> list[str]:
    """Move every link (and anything else that is not a regular file or a folder) out of the
    source's landing folder into <home>/refused/<source>/, unread, with an audit entry; the
    labels of what was moved (refused_label). The link itself is moved, never what it points at."""
    folder = landing_folder(settings, source)
    if not folder.is_dir():
        return []
    rename_old_refused(settings, source)
    moved = []
    for path in sorted(folder.iterdir()):
        if not (path.is_symlink() or not (path.is_file() or path.is_dir())):
            continue
        why = LINK if path.is_symlink() else "not a regular file: refused"
        with session_scope(settings) as s:  # the store's keys open: the label's digest is keyed
            label = refused_label(path.name, source)
            os.replace(path, _aside(settings, source, label))
            audit(s, "landing.refused", None, source=source, file=label, reason=why)
        moved.append(label)
    return moved


def refused_label(name: str, source: str) -> str:
    """What a file refused unread is called in <home>/refused/, the audit log and the run's
    table: its name when no word of it can be a name (linkage.privacy.file_label), else its
    source and a digest of its name keyed by the store (it has no bytes to hash)."""
    from linkage.ingest.load import safe_file_name
    from linkage.seal import current
    from linkage.seal.blind import keyed_name_digest

    name = safe_file_name(name)
    return file_label(name, source, keyed_name_digest(current.ring().blind_key, name))


def rename_old_refused(settings: Settings, source: str) -> int:
    """What an older version moved to <home>/refused/<source>/ as <time>__<the name sent>
    (which may name a man) renamed <time>__<label> as refuse_links names it now, once, the
    folder made 0700; how many were renamed (an audit entry says how many, no name).

    Why here: the folder is only written by refuse_links, so its first call after an
    upgrade is the first time the store's keys (the label's digest) and the folder meet.
    """
    from linkage.seal.files import private_dir

    aside = settings.home / "refused" / source
    if not aside.is_dir():
        return 0
    private_dir(aside)  # an older version made it 0755
    hashed = re.compile(rf"{re.escape(source)}_delivery_[0-9a-f]{{12}}(\.\d+)?")
    renamed = 0
    with session_scope(settings) as s:  # the store's keys open: the label's digest is keyed
        for path in sorted(aside.iterdir()):
            when, sep, sent = path.name.partition("__")
            if not (sep and re.fullmatch(r"\d{8}T\d{6}", when)):
                when, sent = time.strftime("%Y%m%dT%H%M%S", time.localtime(path.lstat().st_mtime)), path.name
            label = refused_label(sent, source).replace(" ", "_")
            if hashed.fullmatch(sent) or label == sent:
                continue  # named by its label already (a hash, or safe words only)
            os.replace(path, _aside(settings, source, label, when))
            renamed += 1
        if renamed:
            audit(s, "landing.refused_renamed", None, source=source, files=renamed)
    return renamed


def _aside(settings: Settings, source: str, label: str, when: str | None = None) -> Path:
    """A free path in <home>/refused/<source>/ (0700) named by the time and the label."""
    from linkage.seal.files import private_dir

    aside = private_dir(settings.home / "refused" / source)
    stem = f"{when or time.strftime('%Y%m%dT%H%M%S')}__{label.replace(' ', '_')}"
    target, n = aside / stem, 1
    while target.exists() or target.is_symlink():  # the same name refused again this second
        n += 1
        target = aside / f"{stem}.{n}"
    return target


def settled_files(
    folder: Path, settle_seconds: float, seen: dict[Path, tuple[int, int, float]]
) -> list[Path]:
    """Files whose size and mtime have not changed for settle_seconds (seen carries state)."""
    if not folder.is_dir():
        return []
    now = time.monotonic()
    ready = []
    present = set()
    for path in sorted(folder.iterdir()):
        if not is_candidate(path):
            continue
        present.add(path)
        st = path.stat()
        sig = (st.st_size, st.st_mtime_ns)
        before = seen.get(path)
        if before is None or before[:2] != sig:
            seen[path] = (*sig, now)
            continue
        if now - before[2] >= settle_seconds and st.st_size > 0:
            ready.append(path)
    for gone in set(seen) - present:
        seen.pop(gone, None)
    return ready


def claim(settings: Settings, path: Path, source: str) -> Claimed:
    """Hash the file, record it as landed, move it into the inbox (atomic rename)."""
    from linkage.ingest.load import safe_file_name

    digest = hashlib.sha256()
    # never through a link, even one swapped in since the folder was listed: that file is
    # gone as far as this claim goes (refuse_links moves the link aside on the next run)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FileNotFoundError(errno.ENOENT, "a link, not claimed", str(path)) from None
        raise
    with os.fdopen(fd, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    sha = digest.hexdigest()
    name = safe_file_name(path.name)
    inbox = inbox_folder(settings, source)
    inbox.mkdir(parents=True, exist_ok=True)
    # by hash and a claim number only: the name, which may name a man, is sealed in the store
    # (the same bytes claimed under two names are two files here, as before)
    target = inbox / f"{sha[:16]}.{secrets.token_hex(4)}"
    # the same bytes claimed from two folders, or ingested meanwhile: one at a time
    with store_lock(settings, ingest_lock_name(settings, sha), "claiming or ingesting the same file"):
        with session_scope(settings) as s:
            new = s.get(Delivery, sha) is None
            if new:
                s.add(
                    Delivery(
                        sha256=sha,
                        source=source,
                        file_name=name,
                        size_bytes=path.stat().st_size,
                        status="landed",
                    )
                )
                audit(s, "delivery.landed", sha, source=source)
        os.replace(path, target)
    return Claimed(source=source, sha256=sha, file_name=name, inbox_path=str(target), new=new)


def claim_settled(settings: Settings, source: str, settle_seconds: float = 0.0) -> list[Claimed]:
    """Claim the files of a source's landing folder (after settle_seconds without change)."""
    refuse_links(settings, source)
    folder = landing_folder(settings, source)
    if not folder.is_dir():
        return []
    if settle_seconds <= 0:
        ready = [p for p in sorted(folder.iterdir()) if is_candidate(p)]
    else:
        seen: dict[Path, tuple[int, int, float]] = {}
        settled_files(folder, settle_seconds, seen)
        time.sleep(settle_seconds)
        ready = settled_files(folder, settle_seconds, seen)
    return [claim(settings, p, source) for p in ready]


def pending(settings: Settings, source: str) -> list[Path]:
    folder = inbox_folder(settings, source)
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def original_name(settings: Settings, inbox_path: Path) -> str:
    """The name a claimed file was sent under: sealed in its delivery row, which the claim
    wrote before moving the file (a file claimed by an older version has it after "__")."""
    if "__" in inbox_path.name:
        return inbox_path.name.split("__", 1)[1]
    from sqlalchemy import select

    with session_scope(settings) as s:
        query = select(Delivery).where(Delivery.sha256.startswith(inbox_path.name[:16])).limit(1)
        found = s.scalars(query).first()
    return found.file_name if found is not None else inbox_path.name
