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
    assert viewer["see_approvals"] and viewer["read_logs"]
    assert not viewer["approve_report"] and not viewer["trigger_run"]
    # The survivor-link view (plugins/survivor_link_ui/access.py): officers use it and may ask for
    # values; a viewer is refused it altogether.
    assert officer["use_survivor_link_view"] and officer["see_survivor_link_values"]
    assert not viewer["use_survivor_link_view"] and not viewer["see_survivor_link_values"]
