"""Shared fixtures: a fresh SQLite store per test, a fresh PostgreSQL database, synthetic lists."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# pytest-xdist's workers (execnet) set COLUMNS=80 and LINES=24 for a terminal they do not
# have: the command line's output must wrap in the suite as it does outside it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)

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
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite home, copied for each test that needs a store of its own (migrating
    each time would cost more). Never ingest into it: copy it (`shutil.copytree`)."""
    home = tmp_path_factory.mktemp("template") / "home"
    migrate(load_settings(home=home, db_url=""))
    dispose_engines()
    return home


@pytest.fixture
def store(template: Path, tmp_path: Path) -> Iterator[Settings]:
    """A scratch SQLite home of its own, copied from the template (no data docs)."""
    home = tmp_path / "home"
    shutil.copytree(template, home)
    yield load_settings(home=home, db_url="", data_docs=False)
    dispose_engines()


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


# The longest modules first (each starts Airflow or a cluster): with `-n 2 --dist loadfile
# --no-loadscope-reorder` (xdist would otherwise put files with more tests first) a worker
# takes whole files in this order, so the long ones run beside the many short ones
# instead of last and alone.
_LONG_FIRST = (
    # first of all, in a fresh worker: it configures Airflow in-process before Airflow's
    # first import there (a test run before it that imports Airflow leaves DAGs unserialised)
    "tests/test_airflow.py",
    "tests/test_celery_cluster.py",
    "tests/browser/test_officer_ui.py",
    "tests/test_privacy.py",
    "tests/test_weekly_report.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return _LONG_FIRST.index(path) if path in _LONG_FIRST else len(_LONG_FIRST)

    items.sort(key=rank)  # stable: the order inside each file stays as written
