"""Shared fixtures: a fresh SQLite store per test, a fresh PostgreSQL database, synthetic lists."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkage.settings import Settings, load_settings
from linkage.store.db import dispose_engines, migrate

PG_ADMIN_URL = os.environ.get(
    "SURVIVOR_LINK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    s = load_settings(home=tmp_path / "home", db_url="")
    migrate(s)
    yield s
    dispose_engines()


@pytest.fixture
def pg_settings(tmp_path: Path) -> Iterator[Settings]:
    """A new PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"sl_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    s = load_settings(home=tmp_path / "home", db_url=url)
    migrate(s)
    yield s
    dispose_engines()
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from linkage.synth.writers import generate

    out = tmp_path_factory.mktemp("synth")
    generate(out, persons=300, seed=11)
    return out


def write(path: Path, content: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding=encoding)
    return path


@pytest.fixture
def linked_store(settings: Settings, synth_dir: Path) -> Settings:
    """The synthetic lists ingested and linked into a fresh SQLite store."""
    from linkage.ingest.load import Ingestor
    from linkage.match.linker import link

    ingestor = Ingestor(settings)
    for f in sorted((synth_dir / "landing").rglob("*.*")):
        ingestor.ingest_path(f)
    link(settings)
    return settings
