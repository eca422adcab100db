"""The production files: the compose file against the Compose specification, and what it promises."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    checker = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    assert checker, "check-jsonschema is a dev dependency"
    done = subprocess.run(
        [checker, "--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.yml")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_runs_celery_on_postgres_and_redis_with_shared_folders_and_fab_logins() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {
        "postgres",
        "redis",
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
    } <= set(services)
    worker, triggerer = services["airflow-worker"], services["airflow-triggerer"]
    assert worker["command"] == "celery worker" and worker["deploy"]["replicas"] >= 2
    env = worker["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("FabAuthManager")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis")
    assert env["SURVIVOR_LINK_DB_URL"].startswith("postgresql+psycopg://")
    # The triggerer claims landed files and the workers ingest them: both see the same folders.
    for folder in ("/data", "/data/landing", "/data/outbox"):
        assert any(v.endswith(":" + folder) for v in worker["volumes"])
        assert any(v.endswith(":" + folder) for v in triggerer["volumes"])
    init = " ".join(services["airflow-init"]["command"])
    for step in ("airflow db migrate", "airflow fab-db migrate", "survivor-link migrate", "roles import"):
        assert step in init
    assert (ROOT / "deploy" / "airflow-roles.json").exists()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "uv sync --frozen" in dockerfile and "uv.lock" in dockerfile


def test_fab_roles_let_officers_approve_and_trigger_but_not_administer(tmp_path: Path) -> None:
    """The roles file imported into a real FAB auth manager (SQLite), then asked who may do what."""
    import json
    import os

    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/airflow.db",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "scripts" / "fab_roles_check.py"),
            str(ROOT / "deploy/airflow-roles.json"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    allowed = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(allowed["admin"].values())
    officer, viewer = allowed["officer"], allowed["viewer"]
    assert officer["approve_report"] and officer["trigger_run"] and officer["read_logs"]
    assert not officer["edit_connections"] and not officer["edit_variables"]
    for secret in ("read_connections", "read_variables", "read_config"):  # only an admin's
        assert allowed["admin"][secret] and not officer[secret] and not viewer[secret]
    assert viewer["see_approvals"] and viewer["read_logs"]
    assert not viewer["approve_report"] and not viewer["trigger_run"]
    # The survivor-link view (plugins/survivor_link_ui/access.py): officers use it and may ask for
    # values; a viewer is refused it altogether.
    assert officer["use_survivor_link_view"] and officer["see_survivor_link_values"]
    assert not viewer["use_survivor_link_view"] and not viewer["see_survivor_link_values"]


def test_compose_has_no_default_password_binds_loopback_and_gives_the_keys_as_secrets() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert ":-airflow}" not in text  # no password falls back to a default
    compose = yaml.safe_load(text)
    services = compose["services"]
    env = services["airflow-worker"]["environment"]
    assert env["SURVIVOR_LINK_DB_URL"].startswith(
        "postgresql+psycopg://survivor_link:${SURVIVOR_LINK_DB_PASSWORD:?"
    )
    assert services["airflow-apiserver"]["ports"] == ["${API_BIND:-127.0.0.1}:8080:8080"]
    assert env["SURVIVOR_LINK_MASTER_KEY_FILE"] == "/run/secrets/survivor_link_master_key"
    assert set(compose["secrets"]) == {"survivor_link_master_key", "survivor_link_report_password"}
    for name in ("airflow-worker", "airflow-triggerer", "airflow-init"):
        assert "survivor_link_master_key" in services[name]["secrets"]
    assert "survivor_link_owner" in " ".join(services["airflow-init"]["command"])  # migrations as owner


def test_the_store_role_reads_and_writes_rows_and_may_not_change_tables(tmp_path: Path) -> None:
    """deploy/postgres-init.sh run against the test server (other names): migrations as the
    owner, then ingest and link as the store's role, which may not create or drop tables."""
    import os
    import uuid

    import pytest
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.exc import ProgrammingError

    from linkage.ingest.load import Ingestor
    from linkage.match.linker import link
    from linkage.settings import load_settings
    from linkage.store.db import dispose_engines, migrate
    from tests.conftest import PG_ADMIN_URL, write
    from tests.helpers import iom_csv, iom_row

    tag = uuid.uuid4().hex[:8]
    db, owner, app = f"sl_role_{tag}", f"sl_owner_{tag}", f"sl_app_{tag}"
    admin_url = make_url(PG_ADMIN_URL)
    env = {
        **os.environ,
        "POSTGRES_USER": admin_url.username or "postgres",
        "PGHOST": admin_url.host or "127.0.0.1",
        "PGPORT": str(admin_url.port or 5432),
        "SURVIVOR_LINK_DB_NAME": db,
        "SURVIVOR_LINK_OWNER_ROLE": owner,
        "SURVIVOR_LINK_APP_ROLE": app,
        "SURVIVOR_LINK_OWNER_PASSWORD": f"o-{tag}",
        "SURVIVOR_LINK_DB_PASSWORD": f"a-{tag}",
    }
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        done = subprocess.run(
            ["bash", str(ROOT / "deploy" / "postgres-init.sh")], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-2000:]
        url = admin_url.set(database=db)
        owner_url = url.set(username=owner, password=f"o-{tag}").render_as_string(hide_password=False)
        app_url = url.set(username=app, password=f"a-{tag}").render_as_string(hide_password=False)
        migrate(load_settings(home=tmp_path / "home", db_url=owner_url))
        settings = load_settings(home=tmp_path / "home", db_url=app_url)
        rows = [iom_row("R1", name="SOK DARA"), iom_row("R2", name="CHEA VIBOL")]
        result = Ingestor(settings).ingest_path(write(tmp_path / "l" / "iom" / "a.csv", iom_csv(rows)), "iom")
        assert result.rows_loaded == 2
        assert link(settings).records_linked == 2
        with create_engine(app_url).connect() as conn:
            for ddl in (
                "CREATE TABLE intruder (i int)",
                "DROP TABLE record",
                "ALTER TABLE record ADD COLUMN x int",
            ):
                with pytest.raises(ProgrammingError):
                    conn.execute(text(ddl))
                conn.rollback()
    finally:
        dispose_engines()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            for role in (app, owner):
                c.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()
