"""Two processes at once: the same bytes ingested twice load once and the second says
duplicate; a second link waits for the first and says so. On SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from linkage.ingest.load import Ingestor
from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.locks import ingest_lock_name, store_lock
from linkage.store.models import Delivery, Person, Record
from tests.conftest import write
from tests.helpers import iom_csv, iom_row
from tests.test_ingest_lifecycle import _env

STORES = ["sqlite", "postgresql"]


def _store(store: str, request: pytest.FixtureRequest) -> Settings:
    return request.getfixturevalue("settings" if store == "sqlite" else "pg_settings")


def _cli(settings: Settings, out: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "linkage.cli", *args],
        env=_env(settings, COLUMNS="300"),
        stdout=out.open("w"),
        stderr=subprocess.STDOUT,
    )


def _wait_for(path: Path, text: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while text not in path.read_text():
        assert time.monotonic() < deadline, path.read_text()[-2000:]
        time.sleep(0.2)


@pytest.mark.parametrize("store", STORES)
def test_the_same_file_ingested_by_two_processes_at_once_loads_once(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    settings = _store(store, request)
    data = iom_csv([iom_row(f"C{i}") for i in range(50)]).encode()
    a = write(tmp_path / "a" / "list.csv", data)
    b = write(tmp_path / "b" / "same-list.csv", data)
    sha = __import__("hashlib").sha256(data).hexdigest()
    outs = [tmp_path / "1.out", tmp_path / "2.out"]
    # Both start while the lock is held, so both really are at the door at once.
    with store_lock(settings, ingest_lock_name(settings, sha), "holding the door"):
        procs = [
            _cli(settings, outs[0], "ingest", str(a), "--source", "iom"),
            _cli(settings, outs[1], "ingest", str(b), "--source", "iom"),
        ]
        time.sleep(8 if store == "sqlite" else 10)  # both are waiting on the lock by now
        with session_scope(settings) as s:
            assert s.scalar(select(func.count()).select_from(Record)) == 0
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    texts = [o.read_text() for o in outs]
    assert "Traceback" not in "".join(texts)
    statuses = sorted(
        "duplicate" if "duplicate" in t else "ingested" if "ingested" in t else "?" for t in texts
    )
    assert statuses == ["duplicate", "ingested"]
    with session_scope(settings) as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 50
        assert s.scalars(select(Delivery.status)).all() == ["ingested"]


@pytest.mark.parametrize("store", STORES)
def test_a_second_link_waits_for_the_first_and_says_so(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    settings = _store(store, request)
    Ingestor(settings).ingest_bytes(
        iom_csv([iom_row("K1"), iom_row("K2", name="VANNAK KEO")]).encode(), "k.csv", "iom"
    )
    out = tmp_path / "link.out"
    with store_lock(settings, "link", "linking (the test)"):
        proc = _cli(settings, out, "link")
        _wait_for(out, "another process is linking; waiting for it to finish")
        time.sleep(1)
        with session_scope(settings) as s:
            assert s.scalar(select(func.count()).select_from(Person)) == 0  # it really waits
    assert proc.wait(timeout=300) == 0, out.read_text()[-2000:]
    assert "persons created" in out.read_text()
    with session_scope(settings) as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 2
