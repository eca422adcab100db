"""The pipeline past one machine: Airflow's CeleryExecutor, two workers, PostgreSQL and Redis.

Real processes, as in production: api-server, scheduler, dag-processor, triggerer and two
Celery workers, with PostgreSQL holding both Airflow's metadata and our store, and Redis as
the broker. The lists are dropped while nothing runs (as after a restart), one of them is
broken, and one is dropped a second time once the rest are done. Persons and flags must
equal those of `survivor-link run` on the same lists in SQLite.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from linkage.pipeline import ingest_pending, link_and_flag
from linkage.settings import Settings, load_settings
from linkage.store.db import dispose_engines, migrate, session_scope
from linkage.store.models import AuditLog, Delivery, Flag, PersonRecord, Record, Report
from tests.conftest import PG_ADMIN_URL, write

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG = PG_ADMIN_URL.rsplit("/", 1)[0]  # postgresql+psycopg://postgres@127.0.0.1:5432
BROKEN = "Intake list\nnothing,here\n1,2\n"  # no header row this source knows


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    """Two new PostgreSQL databases: Airflow's metadata and our store."""
    names = (f"sl_airflow_{uuid.uuid4().hex[:8]}", f"sl_store_{uuid.uuid4().hex[:8]}")
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        for name in names:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    yield names
    dispose_engines()
    with admin.connect() as c:
        for name in names:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _drop_lists(synth_dir: Path, home: Path) -> int:
    files = 0
    for folder in sorted((synth_dir / "landing").iterdir()):
        for f in sorted(folder.iterdir()):
            write(home / "landing" / folder.name / f.name, f.read_bytes())
            files += 1
    write(home / "landing" / "ngo-hagar" / "hagar_broken.csv", BROKEN)
    return files + 1


def _partition(settings: Settings) -> tuple[set[frozenset], set[frozenset]]:
    """Persons and open flags as sets of records, each record named by (source, file hash, line)."""
    with session_scope(settings) as s:
        rows = s.execute(
            select(
                Record.source,
                Record.delivery_sha256,
                Record.line,
                PersonRecord.person_id,
                PersonRecord.event_id,
            ).join(PersonRecord, PersonRecord.record_id == Record.id)
        ).all()
        open_events = set(s.scalars(select(Flag.event_id).where(Flag.status == "open")))
    persons: dict[str, set] = {}
    events: dict[str, set] = {}
    for source, sha, line, person, event in rows:
        persons.setdefault(person, set()).add((source, sha, line))
        events.setdefault(event, set()).add((source, sha, line))
    return {frozenset(v) for v in persons.values()}, {frozenset(events[e]) for e in open_events}


def _state(settings: Settings) -> dict[str, int]:
    with session_scope(settings) as s:

        def count(model, *where) -> int:
            return int(s.scalar(select(func.count()).select_from(model).where(*where)))

        return {
            "done": count(Delivery, Delivery.status.in_(["ingested", "rejected"])),
            "records": count(Record),
            "linked": count(PersonRecord),
            "flag_runs": count(AuditLog, AuditLog.action == "flag"),
        }


def _reports(settings: Settings) -> int:
    with session_scope(settings) as s:
        return int(s.scalar(select(func.count()).select_from(Report).where(Report.status == "built")))


def _airflow_busy(meta_url: str) -> int:
    """Ingest and link runs not finished (the weekly report's run waits for a person, so not it)."""
    engine = create_engine(meta_url)
    try:
        with engine.connect() as c:
            return int(
                c.execute(
                    text(
                        "select count(*) from dag_run where state in ('queued', 'running') "
                        "and dag_id <> 'weekly_report'"
                    )
                ).scalar()
            )
    finally:
        engine.dispose()


def _wait(what: str, check, timeout: float, procs: dict, logs: Path) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        dead = {n: p.returncode for n, p in procs.items() if p.poll() is not None}
        assert not dead, f"Airflow components exited: {dead}; logs in {logs}"
        if check():
            print(f"{what}: {time.monotonic() - start:.0f} s", flush=True)
            return
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}; logs in {logs}")


@pytest.mark.skipif(not _redis_up(), reason="Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
def test_celery_workers_on_postgres_give_the_same_persons_and_flags_as_sqlite(
    tmp_path: Path, synth_dir: Path, databases: tuple[str, str]
) -> None:
    today = dt.date.today()
    # The reference: the whole job from the command line's functions, on SQLite.
    reference = load_settings(home=tmp_path / "reference", db_url="")
    migrate(reference)
    _drop_lists(synth_dir, reference.home)
    for source in sorted(p.name for p in (reference.home / "landing").iterdir()):
        ingest_pending(reference, source)
    link_and_flag(reference, today)
    expected_persons, expected_flags = _partition(reference)

    meta_db, store_db = databases
    home, airflow_home = tmp_path / "cluster", tmp_path / "airflow"
    store = load_settings(home=home, db_url=f"{PG}/{store_db}")
    migrate(store)
    files = _drop_lists(synth_dir, home)  # dropped while nothing of Airflow runs
    meta_url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{meta_db}"
    api_port = _free_port()
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta_url,
        "AIRFLOW__CELERY__BROKER_URL": "redis://127.0.0.1:6379/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://postgres@127.0.0.1:5432/{meta_db}",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": f"survivor_link_{uuid.uuid4().hex[:8]}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        "SURVIVOR_LINK_HOME": str(home),
        "SURVIVOR_LINK_DB_URL": f"{PG}/{store_db}",
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
    queue = env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"]
    commands = {
        "api-server": ["api-server", "--port", str(api_port), "--workers", "1"],
        "scheduler": ["scheduler"],
        "dag-processor": ["dag-processor"],
        "triggerer": ["triggerer"],
        "worker-1": ["celery", "worker", "-q", queue, "-c", "1", "-H", "w1@%h", "--skip-serve-logs"],
        "worker-2": ["celery", "worker", "-q", queue, "-c", "1", "-H", "w2@%h", "--skip-serve-logs"],
    }
    procs: dict[str, subprocess.Popen] = {}
    try:
        for name, args in commands.items():
            procs[name] = subprocess.Popen(
                [str(BIN / "airflow"), *args],
                env=env,
                stdout=(logs / f"{name}.log").open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait(
            f"{files} deliveries ingested or rejected, every record linked, flags updated",
            lambda: (
                (st := _state(store))["done"] == files
                and st["linked"] == st["records"] > 0
                and st["flag_runs"] > 0
                and _airflow_busy(meta_url) == 0
            ),
            timeout=600,
            procs=procs,
            logs=logs,
        )
        first = _state(store)
        # The weekly report builds on the cluster too, then waits for a person's approval.
        subprocess.run(
            [str(BIN / "airflow"), "dags", "trigger", "weekly_report"],
            env=env,
            check=True,
            capture_output=True,
        )
        _wait("the weekly report built", lambda: _reports(store) > 0, timeout=300, procs=procs, logs=logs)
        # The same bytes dropped again: claimed, recognised, nothing changes.
        again = next((synth_dir / "landing" / "iom").iterdir())
        write(home / "landing" / "iom" / ("again_" + again.name), again.read_bytes())
        _wait(
            "the second drop handled",
            lambda: (
                not any((home / "landing" / "iom").iterdir())
                and not any((home / "inbox" / "iom").iterdir())
                and _airflow_busy(meta_url) == 0
            ),
            timeout=300,
            procs=procs,
            logs=logs,
        )
    finally:
        for p in procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)

    after = _state(store)  # the drop woke ingest and link again, which found nothing new
    assert (after["done"], after["records"], after["linked"]) == (
        first["done"],
        first["records"],
        first["linked"],
    )
    with session_scope(store) as s:
        rejected = s.scalars(select(Delivery).where(Delivery.status == "rejected")).all()
        assert [d.file_name for d in rejected] == ["hagar_broken.csv"]
        assert "no header row" in (rejected[0].reason or "")
    persons, flags = _partition(store)
    assert len(persons) > 200 and len(flags) > 20
    assert persons == expected_persons
    assert flags == expected_flags
    # Both workers ran tasks.
    engine = create_engine(meta_url)
    with engine.connect() as c:
        ran = c.execute(
            text("select count(*), count(distinct dag_id) from task_instance where state='success'")
        ).one()
        runs = c.execute(text("select dag_id, run_id from dag_run")).all()
    engine.dispose()
    ingest_runs = [r for d, r in runs if d.startswith("ingest_")]
    assert ran[1] >= 5  # four ingest DAGs and the link DAG
    # every ingest run was started by its landing DAG under an id naming its files by label
    assert ingest_runs and all(r.startswith("ingest__") for r in ingest_runs), ingest_runs
    print("ingest runs:", *sorted(ingest_runs), sep="\n  ")  # pytest -s shows them
    shutil.rmtree(airflow_home / "logs", ignore_errors=True)
