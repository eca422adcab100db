"""Engine, sessions and migrations for the store (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from linkage.seal import keyring
from linkage.seal.files import private_dir, private_file
from linkage.settings import Settings
from linkage.store.models import AuditLog

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"

_engines: dict[str, Engine] = {}


def _to_json(value: Any) -> str:
    """JSON as compact UTF-8 text, by orjson: every row of a delivery is stored as received,
    and the standard encoder took a tenth of an ingest. (Escaping Khmer to \\uXXXX would
    double the bytes; nothing reads the stored JSON but JSON parsers.) What orjson refuses
    (a lone surrogate, an integer past 64 bits) goes through the standard encoder, escaped.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, separators=(",", ":"))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 64 MiB of page cache (the default is 2 MiB): a link writes millions of index entries
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def get_engine(settings: Settings) -> Engine:
    """One engine per URL per process; SQLite gets WAL so Airflow tasks can read while one writes.

    Parameters are hidden from every error SQLAlchemy raises: they are survivors' names,
    phones and birth dates, and an error's text reaches stderr and Airflow's task logs.
    """
    url = settings.database_url
    if url not in _engines:
        private_dir(settings.home)  # the home holds the archive, reports and Data Docs: 0700
        if url.startswith("sqlite"):
            if not settings.db_url:  # our own file: 0600 before SQLite makes it (its -wal and -shm follow)
                private_file(settings.home / "survivor-link.db")
            engine = create_engine(
                url, connect_args={"timeout": 30}, json_serializer=_to_json, hide_parameters=True
            )
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True, json_serializer=_to_json, hide_parameters=True)
        _engines[url] = engine
    return _engines[url]


def forget_engines_after_fork() -> None:
    """In a forked child: the pooled connections are the parent's, so each engine starts a
    pool of its own without closing them (SQLAlchemy's way for fork)."""
    for engine in _engines.values():
        engine.dispose(close=False)


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def alembic_config(settings: Settings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    cfg.attributes["settings"] = settings  # 0014 seals with its master key, 0015 rekeys record keys
    return cfg


def migrate(settings: Settings, revision: str = "head") -> None:
    """Bring the store's schema to the newest migration (idempotent), or down to `revision`
    when it is older than the store's."""
    engine = get_engine(settings)
    cfg = alembic_config(settings)

    def run(connection: Any) -> None:
        cfg.attributes["connection"] = connection
        current = MigrationContext.configure(connection).get_current_revision()
        if revision != "head" and current is not None and current > revision:
            command.downgrade(cfg, revision)
        else:
            command.upgrade(cfg, revision)

    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            run(connection)
        return
    # SQLite changes a column's type by rebuilding its table, which foreign keys pointing at
    # it forbid while they are enforced; they are off for the migration (a pragma that only
    # takes effect outside a transaction) and checked whole before it commits.
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()  # (SQLAlchemy began a transaction; pysqlite did not)
        try:
            with connection.begin():
                run(connection)
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                if broken is not None:
                    raise StoreError(f"a migration left a broken reference in table {broken[0]}", "migration")
        finally:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


class StoreError(RuntimeError):
    """The store refused or failed a statement. Says what kind of failure and where (table,
    constraint), never the statement's values: the driver's own message may quote them."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def store_error(exc: BaseException, what: str = "refused a write") -> StoreError:
    """Our own message for a driver error: its class, SQLSTATE and constraint, no values."""
    orig = getattr(exc, "orig", None) or exc.__cause__ or exc
    kind = type(orig).__name__
    parts = [kind]
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        parts.append(f"SQLSTATE {sqlstate}")
    diag = getattr(orig, "diag", None)
    for attribute in ("table_name", "constraint_name"):
        name = getattr(diag, attribute, None) if diag is not None else None
        if name:
            parts.append(f"{attribute.split('_')[0]} {name}")
    if isinstance(orig, ValueError) and "NUL" in str(orig):  # psycopg refuses it before sending
        parts.append("a NUL character in a text value")
    return StoreError(f"the store {what} ({', '.join(parts)})", kind)


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """A transaction: committed when the block ends, rolled back on any error.

    A driver error leaves as a StoreError with our own message and no chained cause, so
    no traceback prints the driver's text (which can quote a row's values)."""
    engine = get_engine(settings)
    keyring.activate(engine, settings)  # sealed columns seal and open with this store's keys
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except StatementError as exc:
        session.rollback()
        raise store_error(exc) from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_ACTOR: ContextVar[str | None] = ContextVar("survivor_link_actor", default=None)


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Who acts inside this block (a web request's user); one request cannot leak into another."""
    token = _ACTOR.set(actor)
    try:
        yield
    finally:
        _ACTOR.reset(token)


def current_actor() -> str:
    """Who is acting: a web user (acting_as), the Airflow task or the person at the command line."""
    return _ACTOR.get() or os.environ.get("SURVIVOR_LINK_ACTOR") or f"cli:{getpass.getuser()}"


def audit(session: Session, action: str, subject: str | None = None, **details: Any) -> None:
    session.add(AuditLog(actor=current_actor(), action=action, subject=subject, details=details))
