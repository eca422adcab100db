"""`make demo`: survivor-link under Airflow standalone, on one machine.

Starts `airflow standalone` (SQLite, LocalExecutor, parallelism 4, no examples) with our
DAGs and plugins, drops synthetic lists into the landing folders, waits until the
watchers have claimed them and every ingest and link run has finished, prints a summary,
triggers the weekly report (which then waits for approval in the UI), and leaves the UI
running at http://localhost:8080 until Ctrl-C. `--exit` (or DEMO_EXIT=1) stops Airflow
after the summary instead, for a run that must end on its own.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"
AIRFLOW_HOME = VAR / "airflow"
HOME = VAR / "airflow-demo"
URL = "http://localhost:8080"


def environment() -> dict[str, str]:
    AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
    secret_file = AIRFLOW_HOME / "jwt_secret"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(64))
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(AIRFLOW_HOME),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Phnom_Penh",
            "AIRFLOW__API_AUTH__JWT_SECRET": secret_file.read_text().strip(),
            "SURVIVOR_LINK_HOME": str(HOME),
            # standalone starts its components as `airflow ...`: the venv's, first on PATH
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    return env


def wait_for(what: str, check, timeout: float, every: float = 3.0) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            print(f"  {what}: done in {time.monotonic() - start:.0f} s", flush=True)
            return
        time.sleep(every)
    raise SystemExit(f"timed out waiting for {what}; see {AIRFLOW_HOME / 'standalone.log'}")


def healthy() -> bool:
    try:
        with urllib.request.urlopen(f"{URL}/api/v2/monitor/health", timeout=3) as r:
            return r.status == 200
    except OSError:
        return False


def store_state() -> dict[str, int]:
    os.environ["SURVIVOR_LINK_HOME"] = str(HOME)
    from sqlalchemy import func, select

    from linkage.settings import load_settings
    from linkage.store.db import migrate, session_scope
    from linkage.store.models import AuditLog, Delivery, Flag, Person, PersonRecord, Quarantine, Record

    settings = load_settings()
    migrate(settings)
    with session_scope(settings) as s:
        count = lambda m, *w: s.scalar(select(func.count()).select_from(m).where(*w))  # noqa: E731
        return {
            "deliveries_done": count(Delivery, Delivery.status.in_(["ingested", "rejected"])),
            "records": count(Record),
            "rejected": count(Delivery, Delivery.status == "rejected"),
            "quarantined": count(Quarantine, Quarantine.status == "open"),
            "linked": count(PersonRecord),
            "persons": count(Person, Person.status == "active"),
            "open_flags": count(Flag, Flag.status == "open"),
            "flag_runs": count(AuditLog, AuditLog.action == "flag"),
        }


def main() -> None:
    env = environment()
    shutil.rmtree(HOME, ignore_errors=True)
    log = (AIRFLOW_HOME / "standalone.log").open("w")
    print(f"starting Airflow standalone (log: {AIRFLOW_HOME / 'standalone.log'})", flush=True)
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "airflow"), "standalone"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def stop(*_args: object) -> None:
        print("\nstopping Airflow", flush=True)
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        raise SystemExit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    wait_for("Airflow api-server", healthy, timeout=240)

    print("dropping synthetic lists into the landing folders", flush=True)
    from linkage.synth.writers import generate

    generate(HOME / "synth", persons=1000, seed=1)
    files = 0
    for src in sorted((HOME / "synth" / "landing").iterdir()):
        target = HOME / "landing" / src.name
        target.mkdir(parents=True, exist_ok=True)
        for f in sorted(src.iterdir()):
            shutil.copy2(f, target / (f.name + ".part"))  # written under a temporary name,
            os.replace(target / (f.name + ".part"), target / f.name)  # then renamed: complete
            files += 1
    wait_for(f"{files} deliveries ingested", lambda: store_state()["deliveries_done"] >= files, timeout=900)
    wait_for(
        "linkage and flags",
        lambda: (st := store_state())["linked"] == st["records"] and st["flag_runs"] > 0,
        timeout=900,
    )
    subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "dags", "trigger", "weekly_report"],
        env=env,
        capture_output=True,
    )
    st = store_state()
    passwords = AIRFLOW_HOME / "simple_auth_manager_passwords.json.generated"
    login = json.loads(passwords.read_text()) if passwords.exists() else {}
    print()
    print(f"deliveries ingested or rejected: {st['deliveries_done']}")
    print(f"rejected files: {st['rejected']}, quarantined rows: {st['quarantined']}", end="")
    print(" (why: survivor-link quarantine)")
    print(f"records: {st['records']}, persons: {st['persons']}, open flags: {st['open_flags']}")
    print(f"validation pages (Great Expectations Data Docs): {HOME / 'data_docs' / 'index.html'}")
    print(f"master key of the sealed store (keep a copy apart from it): {HOME / 'keys' / 'master.key'}")
    print(f"weekly report: triggered; approve it in the UI (Browse > Required actions); reports in {HOME}")
    print(f"Airflow UI: {URL}  login: {', '.join(f'{u} / {p}' for u, p in login.items()) or 'see the log'}")
    if "--exit" in sys.argv[1:] or os.environ.get("DEMO_EXIT") == "1":
        stop()
    print("Ctrl-C stops Airflow.", flush=True)
    proc.wait()


if __name__ == "__main__":
    main()
