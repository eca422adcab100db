"""Locks held in the store, so that two processes never do one job at once.

Why these two kinds: a lock must vanish when its holder dies (kill -9, a lost Celery
worker), or a crash would block the job for ever. PostgreSQL's advisory locks belong to
a connection and end with it; for SQLite, on one machine, an flock on a file beside the
database ends with the process. Neither needs a table, so no row is ever left behind.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import make_url

from linkage.settings import Settings
from linkage.store.db import get_engine

Say = Callable[[str], None]
F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)


def _pg_key(name: str) -> int:
    """A signed 64-bit advisory lock key for a lock's name."""
    return int.from_bytes(hashlib.sha256(f"survivor-link:{name}".encode()).digest()[:8], "big", signed=True)


def _lock_file(settings: Settings, name: str) -> Path:
    database = make_url(settings.database_url).database or str(settings.home / "survivor-link.db")
    db = Path(database).resolve()
    folder = db.parent / ".locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{db.name}.{re.sub(r'[^0-9A-Za-z_.-]', '_', name)}.lock"


@contextmanager
def store_lock(settings: Settings, name: str, what: str, say: Say | None = None) -> Iterator[None]:
    """Hold the lock `name` for the block; when another process holds it, say so (naming
    `what` it is doing) and wait until it is released."""
    if settings.database_url.startswith("postgresql"):
        with _pg_lock(settings, name, what, say):
            yield
    else:
        with _file_lock(settings, name, what, say):
            yield


WAITING = "another process is "  # how a message that a lock is busy begins


def _waiting(what: str, say: Say | None) -> None:
    message = f"{WAITING}{what}; waiting for it to finish"
    log.info(message)  # into the Airflow task's log, or the command line's when it logs
    if say is not None and say is not log.info:
        say(message)


@contextmanager
def _pg_lock(settings: Settings, name: str, what: str, say: Say | None) -> Iterator[None]:
    key = _pg_key(name)
    with get_engine(settings).connect() as conn:
        if not conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}):
            _waiting(what, say)
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        conn.commit()  # end the statement's transaction; the lock belongs to the connection
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


@contextmanager
def _file_lock(settings: Settings, name: str, what: str, say: Say | None) -> Iterator[None]:
    import fcntl  # POSIX: the embedded SQLite store runs on one Linux or macOS machine

    fd = os.open(_lock_file(settings, name), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _waiting(what, say)
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def lock_held(settings: Settings, name: str) -> bool:
    """Whether another process (or another holder here) holds the lock `name` now: taken
    without waiting and let go at once, for a page to say that a job is under way."""
    if settings.database_url.startswith("postgresql"):
        key = _pg_key(name)
        with get_engine(settings).connect() as conn:
            free = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
            if free:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()
        return not free
    import fcntl

    fd = os.open(_lock_file(settings, name), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def ingest_lock_name(settings: Settings, sha256: str) -> str:
    """One lock per delivery on PostgreSQL; on SQLite one of 256 files, by the hash's first
    byte (two different files that share it only wait for each other, briefly)."""
    return f"ingest-{sha256}" if settings.database_url.startswith("postgresql") else f"ingest-{sha256[:2]}"


def one_at_a_time(name: str, what: str) -> Callable[[F], F]:
    """Run the decorated step (its first argument the settings, its `progress` keyword a
    callback) under the store lock `name`: a second run waits for the first and says so."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def locked(settings: Settings, *args: Any, **kwargs: Any) -> Any:
            with store_lock(settings, name, what, kwargs.get("progress")):
                return fn(settings, *args, **kwargs)

        return locked  # type: ignore[return-value]

    return wrap
