"""The real Airflow DAGs and the landing-folder trigger, on a real Airflow metadata database.

Airflow is configured through environment variables before its first import (here, not
at collection), with its own SQLite metadata database under a temporary folder.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import Delivery, Person, Record
from tests.conftest import write
from tests.helpers import iom_csv, iom_row

ROOT = Path(__file__).resolve().parents[1]
CANARIES = ["ZQXAIRCANARY", "97712388", "918273611", "17/07/1977", "1977-07-17"]


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("airflow")
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    from airflow.utils.db import initdb

    initdb()
    yield home
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def canaries_in_metadata(airflow_home: Path) -> list[tuple[str, str]]:
    """(table, canary) for every canary value found anywhere in Airflow's metadata database."""
    con = sqlite3.connect(airflow_home / "airflow.db")
    found = []
    for (table,) in con.execute("select name from sqlite_master where type='table'"):
        for row in con.execute(f'select * from "{table}"'):
            text = " ".join(str(v) for v in row if v is not None)
            found += [(table, c) for c in CANARIES if c in text]
    con.close()
    return found


def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_one_ingest_dag_per_source_and_no_import_errors(airflow_home: Path) -> None:
    bag = dagbag()
    assert bag.import_errors == {}
    assert {
        "ingest_iom",
        "ingest_mosvy",
        "ingest_ngo_hagar",
        "ingest_ngo_lscw",
        "landing_iom",
        "landing_ngo_hagar",
        "link",
        "replay",
        "weekly_report",
    } <= set(bag.dag_ids)
    from landing_trigger import LandingFolderTrigger

    # the watcher wakes landing_iom, which starts ingest_iom under a run id naming the files
    landing = bag.dags["landing_iom"]
    condition = landing.timetable.asset_condition
    assets = list(getattr(condition, "objects", [condition]))
    assert len(assets) == 1 and assets[0].name == "survivor-link://landing/iom"
    assert isinstance(assets[0].watchers[0].trigger, LandingFolderTrigger)
    assert landing.get_task("start_ingest").trigger_dag_id == "ingest_iom"
    assert type(bag.dags["ingest_iom"].timetable).__name__ == "NullTimetable"
    report = bag.dags["weekly_report"]
    assert {t.task_id for t in report.tasks} == {"build", "approve", "deliver", "record_rejection"}
    assert report.get_task("record_rejection").trigger_rule == "all_done"
    assert report.timetable.expression == "0 7 * * 1" and str(report.timetable.timezone) == "Asia/Phnom_Penh"


@pytest.mark.parametrize(
    "now, first",
    [
        # A deployment started on a Monday after 07:00 Phnom Penh (00:00 UTC) waits a week:
        # Airflow's run_immediately=False would have built a report at once until 23:48.
        ("2026-12-07T00:30:00+00:00", "2026-12-14T00:00:00+00:00"),
        ("2026-12-07T15:00:00+00:00", "2026-12-14T00:00:00+00:00"),
        ("2026-12-06T23:59:00+00:00", "2026-12-07T00:00:00+00:00"),  # Sunday night: tomorrow
        ("2026-12-10T09:00:00+00:00", "2026-12-14T00:00:00+00:00"),  # mid-week
    ],
)
def test_a_new_deployment_builds_its_first_report_on_the_next_monday(
    airflow_home: Path, monkeypatch, now: str, first: str
) -> None:
    import datetime as dt

    import airflow.timetables.trigger as trigger
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    report = dagbag().dags["weekly_report"]
    timetable = coerce_to_core_timetable(report.timetable)  # as the scheduler reads it, serialized
    # the timetable reads the clock through this name; the moment is the test's subject
    monkeypatch.setattr(trigger, "utcnow", lambda: dt.datetime.fromisoformat(now))
    info = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=None, latest=None, catchup=report.catchup),
    )
    assert info is not None and info.run_after == dt.datetime.fromisoformat(first)


def test_a_broken_mapping_disables_only_its_own_dag(airflow_home: Path, tmp_path: Path, monkeypatch) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(ROOT / "sources", sources)
    text = (sources / "ngo-lscw.yaml").read_text().splitlines()
    text.insert(3, "  : [unclosed")  # a typo on line 4
    (sources / "ngo-lscw.yaml").write_text("\n".join(text))
    monkeypatch.setenv("SURVIVOR_LINK_SOURCES_DIR", str(sources))
    bag = dagbag()
    assert bag.import_errors == {}
    assert {"ingest_iom", "ingest_mosvy", "ingest_ngo_hagar", "link", "weekly_report"} <= set(bag.dag_ids)
    broken = bag.dags["ingest_ngo_lscw"]
    assert "broken mapping" in broken.tags and type(broken.timetable).__name__ == "NullTimetable"
    assert "ngo-lscw.yaml line 4" in broken.doc_md and broken.description.startswith("DISABLED")
    assert [t.task_id for t in broken.tasks] == ["mapping_is_broken"]


def test_trigger_claims_only_finished_files(airflow_home: Path, settings: Settings, monkeypatch) -> None:
    monkeypatch.setenv("SURVIVOR_LINK_HOME", str(settings.home))
    from landing_trigger import LandingFolderTrigger

    landing = settings.landing_dir / "iom"
    write(landing / "list.csv", iom_csv([iom_row("T1")]))
    write(landing / "upload.csv.part", "still being written")
    trigger = LandingFolderTrigger(source="iom", poll_seconds=0.05, settle_seconds=0.2)
    assert trigger.serialize()[0] == "landing_trigger.LandingFolderTrigger"

    async def first_event():
        gen = trigger.run()
        try:
            return await asyncio.wait_for(gen.__anext__(), timeout=10)
        finally:
            await gen.aclose()

    event = asyncio.run(first_event())
    assert set(event.payload) == {"source", "sha256", "file"}
    assert event.payload["file"] == "list.csv"  # a name of safe words only (linkage.privacy.file_label)
    assert not (landing / "list.csv").exists() and (landing / "upload.csv.part").exists()
    with session_scope(settings) as s:
        assert s.get(Delivery, event.payload["sha256"]).status == "landed"


def test_dags_ingest_link_and_keep_personal_data_out(
    airflow_home: Path, settings: Settings, synth_dir: Path, monkeypatch, caplog
) -> None:
    monkeypatch.setenv("SURVIVOR_LINK_HOME", str(settings.home))
    for folder in (synth_dir / "landing").iterdir():
        shutil.copytree(folder, settings.landing_dir / folder.name, dirs_exist_ok=True)
    write(
        settings.landing_dir / "iom" / "canary.csv",
        iom_csv(
            [
                iom_row(
                    "CAN-1",
                    name=f"{CANARIES[0]} SOK",
                    dob=CANARIES[3],
                    phone="0" + CANARIES[1],
                    travel_doc_no=CANARIES[2],
                ),
                iom_row("CAN-2", name=f"{CANARIES[0]} CHEA", dob="31/02/1990"),  # quarantined
            ]
        ),
    )
    bag = dagbag()
    results = {}
    for dag_id in ("ingest_iom", "ingest_mosvy", "ingest_ngo_hagar", "ingest_ngo_lscw", "link"):
        run = bag.dags[dag_id].test()
        assert run.state == "success", dag_id
        results[dag_id] = run
    with session_scope(settings) as s:
        assert s.scalar(select(func.count()).select_from(Record)) > 500
        assert s.scalar(select(func.count()).select_from(Person)) > 200
        assert s.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "landed")) == 0
    # Nothing personal in what Airflow keeps: XCom, rendered fields, logs, the whole metadata DB.
    found = canaries_in_metadata(airflow_home)
    log_text = caplog.text + "".join(p.read_text(errors="ignore") for p in airflow_home.rglob("*.log"))
    found += [("logs", c) for c in CANARIES if c in log_text]
    assert found == []
    with sqlite3.connect(airflow_home / "airflow.db") as con:
        xcom = con.execute("select count(*) from xcom where dag_id='link'").fetchone()[0]
    assert xcom >= 1  # the link task's counts really went to XCom (and were searched)


class _Mailbox:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        import email

        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"


def _smtp_server(monkeypatch) -> tuple:
    """A real SMTP server on a free loopback port, set as Airflow's smtp_default; (server, mailbox)."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = _Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=port)
    smtp.start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT",
        f"smtp://127.0.0.1:{port}?disable_tls=true&disable_ssl=true&retry_limit=0",
    )
    return smtp, mailbox


def _answer_when_asked(answer: str, note: str, outcome: dict) -> None:
    """What a data officer does in the UI: find the waiting approval, answer it (the real API)."""
    import time

    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    client = TestClient(create_app("core"))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        listing = client.get("/api/v2/dags/weekly_report/dagRuns/~/hitlDetails").json()
        waiting = [d for d in listing.get("hitl_details", []) if not d.get("response_received")]
        if waiting:
            run_id = waiting[0]["task_instance"]["dag_run_id"]
            reply = client.patch(
                f"/api/v2/dags/weekly_report/dagRuns/{run_id}/taskInstances/approve/-1/hitlDetails",
                json={"chosen_options": [answer], "params_input": {"note": note}},
            )
            outcome.update(status=reply.status_code, subject=waiting[0]["subject"])
            return
        time.sleep(0.3)
    outcome["status"] = "no approval was ever asked for"


def test_weekly_report_waits_for_approval_then_delivers_and_mails_or_records_rejection(
    airflow_home: Path, settings: Settings, synth_dir: Path, monkeypatch
) -> None:
    import datetime as dt
    import threading

    from linkage.pipeline import ingest_pending, link_and_flag
    from linkage.store.models import Report

    monkeypatch.setenv("SURVIVOR_LINK_HOME", str(settings.home))
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")
    canary = iom_row(
        "CAN-9", name=f"{CANARIES[0]} KEO", dob=CANARIES[3], phone="0" + CANARIES[1], ret="02/01/2026"
    )
    write(settings.landing_dir / "iom" / "canary_report.csv", iom_csv([canary]))
    for folder in (synth_dir / "landing").iterdir():
        shutil.copytree(folder, settings.landing_dir / folder.name, dirs_exist_ok=True)
        ingest_pending(settings, folder.name)
    link_and_flag(settings, dt.date(2026, 11, 23))

    smtp, mailbox = _smtp_server(monkeypatch)
    monkeypatch.setenv("SURVIVOR_LINK_REPORT_EMAIL", "case-lead@mosvy.example")
    dag = dagbag().dags["weekly_report"]
    try:
        outcomes = {}
        for answer, monday in (("Approve", dt.datetime(2026, 11, 23)), ("Reject", dt.datetime(2026, 11, 30))):
            outcome: dict = {}
            officer = threading.Thread(
                target=_answer_when_asked, args=(answer, "" if answer == "Approve" else "wrong week", outcome)
            )
            officer.start()
            run = dag.test(logical_date=monday.replace(tzinfo=dt.UTC))
            officer.join()
            assert outcome["status"] == 200, outcome
            states = {ti.task_id: ti.state for ti in run.get_task_instances()}
            outcomes[answer] = states
        # The failure callback every task has, given a real task instance: an alert by e-mail.
        from survivor_link import notify_failure

        monkeypatch.setenv("SURVIVOR_LINK_ALERT_EMAIL", "ops@survivor-link.example")
        notify_failure({"ti": run.get_task_instances()[0]})
    finally:
        smtp.stop()

    assert outcomes["Approve"] == {
        "build": "success",
        "approve": "success",
        "deliver": "success",
        "record_rejection": "success",
    }
    assert outcomes["Reject"]["deliver"] == "skipped" and outcomes["Reject"]["record_rejection"] == "success"
    with session_scope(settings) as s:
        reports = {r.week: r for r in s.scalars(select(Report))}
    assert reports["2026-W48"].status == "delivered"
    assert reports["2026-W49"].status == "rejected" and reports["2026-W49"].decision_note == "wrong week"
    outbox = sorted(p.name for p in (settings.home / "outbox").iterdir())
    assert any(name.endswith(".xlsx") and "2026-W48" in name for name in outbox)
    assert not any("2026-W49" in name for name in outbox)
    # One report e-mail, for the approved week only, with the workbook attached and no name in its body.
    assert len(mailbox.messages) == 2
    alert_to, alert = mailbox.messages[1]
    assert alert_to == ["ops@survivor-link.example"]
    assert alert["Subject"].startswith("survivor-link: weekly_report.")
    recipients, message = mailbox.messages[0]
    assert recipients == ["case-lead@mosvy.example"] and "2026-W48" in message["Subject"]
    parts = {p.get_filename(): p for p in message.walk() if p.get_filename()}
    assert [n for n in parts if n.endswith(".xlsx")]
    body = next(p for p in message.walk() if p.get_content_type() == "text/html").get_payload(decode=True)
    with session_scope(settings) as s:
        family_names = {r.family_name for r in s.scalars(select(Record)) if r.family_name}
    assert not [n for n in family_names if n in body.decode()]
    # The canary man is on the report (he was never referred), but not in what Airflow keeps.
    with session_scope(settings) as s:
        assert s.scalar(select(func.count()).select_from(Record).where(Record.source_record_id == "CAN-9"))
    assert canaries_in_metadata(airflow_home) == []


def test_a_rejected_file_fails_its_run_once_saying_why_while_the_rest_loads_and_links(
    airflow_home: Path, settings: Settings, monkeypatch, caplog
) -> None:
    """One landing folder: a file our reader fails on (its exception quotes a cell), a file with
    a NUL in a name and markup in its header, and a good one. The ingest task loads the good
    rows and its asset event carries the counts; `no_file_rejected` fails once (no retries)
    naming the rejected file and why; the run's note says what became of each file; the link
    task runs, and a second link with nothing new stops before linking. No canary reaches
    Airflow's logs or metadata, nor the file name that names the canary man."""
    import json

    import linkage.ingest.load as load_module

    monkeypatch.setenv("SURVIVOR_LINK_HOME", str(settings.home))
    landing = settings.landing_dir / "iom"
    # names of safe words are shown as they are; one naming a man by his delivery's hash
    named = f"2_{CANARIES[0]}.csv"
    write(landing / "1_returns.csv", iom_csv([iom_row("BAD-1", name=f"{CANARIES[0]} BOOM")]))
    nul = iom_csv([iom_row("NUL-1", name=f"{CANARIES[0]}\x00 SOK", dob=CANARIES[3]), iom_row("NUL-2")])
    write(landing / named, nul.replace("batch_id", "[/]", 1))
    write(landing / "3_returns.csv", iom_csv([iom_row("OK-1", phone="0" + CANARIES[1])]))
    real = load_module.read_table

    def failing(data: bytes, *args: object):
        if b"BOOM" in data:
            raise ValueError(f"cannot parse {CANARIES[0]} BOOM")  # a bug whose message quotes a cell
        return real(data, *args)

    monkeypatch.setattr(load_module, "read_table", failing)
    smtp, mailbox = _smtp_server(monkeypatch)
    monkeypatch.setenv("SURVIVOR_LINK_ALERT_EMAIL", "officers@mosvy.example")
    bag = dagbag()
    try:
        ingest = bag.dags["ingest_iom"].test()
    finally:
        smtp.stop()
    assert ingest.state == "failed"
    # The failure callback e-mailed the officers: the file and why, what to do, no value.
    assert len(mailbox.messages) == 1
    to, alert = mailbox.messages[0]
    assert to == ["officers@mosvy.example"]
    assert alert["Subject"] == "survivor-link: 1 file(s) rejected from iom: 1_returns.csv"
    html = next(p for p in alert.walk() if p.get_content_type() == "text/html")
    body = html.get_payload(decode=True).decode()
    assert "1_returns.csv (iom) was rejected: could not be read: an internal error" in body
    assert "ValueError at load.py" in body
    assert "drop it again into landing/iom/" in body and "iom delivery" not in body
    # the body travels base64-encoded: search it decoded, with every header
    parts = [p.get_payload(decode=True) or b"" for p in alert.walk() if not p.is_multipart()]
    said = str(alert["Subject"]) + " ".join(h for _k, h in alert.items()) + b" ".join(parts).decode()
    assert [c for c in CANARIES if c in said] == []
    tis = {ti.task_id: ti for ti in ingest.get_task_instances()}
    assert tis["ingest_pending"].state == "success"
    assert tis["no_file_rejected"].state == "failed" and tis["no_file_rejected"].try_number == 1
    linked = bag.dags["link"].test()
    assert linked.state == "success"
    assert {ti.task_id: ti.state for ti in linked.get_task_instances()}["link_and_flag"] == "success"
    again = bag.dags["link"].test()  # nothing loaded since: stops before linking
    assert {ti.task_id: ti.state for ti in again.get_task_instances()}["link_and_flag"] == "skipped"
    with session_scope(settings) as s:
        status = {
            d.file_name: (d.status, d.rows_loaded, d.rows_quarantined) for d in s.scalars(select(Delivery))
        }
        named_sha = next(d.sha256 for d in s.scalars(select(Delivery)) if d.file_name == named)
    assert status == {
        "1_returns.csv": ("rejected", 0, 0),
        named: ("ingested", 1, 1),
        "3_returns.csv": ("ingested", 1, 0),
    }
    with sqlite3.connect(airflow_home / "airflow.db") as con:
        notes = dict(
            con.execute(
                "select r.run_id, n.content from dag_run r join dag_run_note n on n.dag_run_id = r.id"
            ).fetchall()
        )
        extras = [
            json.loads(e)
            for (e,) in con.execute(
                "select e.extra from asset_event e join asset a on a.id = e.asset_id where a.uri = ?",
                ("survivor-link://store/records",),
            )
        ]
    note = notes[ingest.run_id]
    assert "1_returns.csv: rejected (could not be read: an internal error (ValueError at load.py" in note
    assert f"iom delivery {named_sha[:12]}: 2 read, 1 loaded, 1 quarantined (1 nul_character)" in note
    assert "3_returns.csv: 1 read, 1 loaded" in note and note.endswith("the DAG's docs say what to do.")
    assert "records linked" in notes[linked.run_id] and notes[again.run_id] == "nothing new to link"
    ledger = extras[-1]
    assert (ledger["rows_loaded"], ledger["rows_quarantined"], ledger["rejected"]) == (2, 1, 1)
    found = canaries_in_metadata(airflow_home)
    log_text = caplog.text + "".join(p.read_text(errors="ignore") for p in airflow_home.rglob("*.log"))
    found += [("logs", c) for c in CANARIES if c in log_text]
    assert found == []
    assert "could not be read: ValueError at" in log_text  # the failure is in the log, by kind
    assert "1_returns.csv was rejected" in log_text and "drop it again into landing/iom/" in log_text


def _runs(airflow_home: Path, dag_id: str) -> list[tuple[str, str, dict]]:
    """(run id, state, conf) of a DAG's runs, oldest first, as Airflow's database holds them."""
    import json

    with sqlite3.connect(airflow_home / "airflow.db") as con:
        rows = con.execute("select run_id, state, conf from dag_run where dag_id = ? order by id", (dag_id,))
        return [(r, st, json.loads(c) if isinstance(c, str) and c else (c or {})) for r, st, c in rows]


def _notes_of(airflow_home: Path, dag_id: str) -> list[str]:
    with sqlite3.connect(airflow_home / "airflow.db") as con:
        rows = con.execute(
            "select n.content from dag_run r join dag_run_note n on n.dag_run_id = r.id "
            "where r.dag_id = ? order by r.id",
            (dag_id,),
        )
        return [n for (n,) in rows]


def test_a_drop_starts_an_ingest_run_named_by_its_files_labels_never_a_name(
    airflow_home: Path, settings: Settings, monkeypatch
) -> None:
    """Two files claimed as the watcher claims them, one named after a man (the canary). The
    landing DAG starts ingest_iom under an id naming both by label (the safe one by its name,
    the other by source and hash), and none while that run is queued; once the files are
    taken in, a late wake-up starts nothing. The canary is nowhere in Airflow."""
    from linkage.landing import claim_settled

    monkeypatch.setenv("SURVIVOR_LINK_HOME", str(settings.home))
    landing = settings.landing_dir / "iom"
    write(landing / "iom_returns_2025_06.csv", iom_csv([iom_row("RUN-1")]))
    write(landing / f"{CANARIES[0]}_sok.csv", iom_csv([iom_row("RUN-2")]))
    named = {c.file_name: c.sha256 for c in claim_settled(settings, "iom")}
    canary_sha = named[f"{CANARIES[0]}_sok.csv"]
    bag = dagbag()
    before = {r for r, _st, _c in _runs(airflow_home, "ingest_iom")}
    assert bag.dags["landing_iom"].test().state == "success"
    started = [r for r in _runs(airflow_home, "ingest_iom") if r[0] not in before]
    assert len(started) == 1
    run_id, state, conf = started[0]
    assert state == "queued"
    assert run_id.startswith("ingest__") and re.search(r"__\d{8}T\d{6}$", run_id)
    assert "iom_returns_2025_06" in run_id and f"iom_delivery_{canary_sha[:12]}" in run_id
    assert sorted(conf["files"]) == sorted(["iom_returns_2025_06.csv", f"iom delivery {canary_sha[:12]}"])
    assert _notes_of(airflow_home, "landing_iom")[-1] == f"started {run_id}"
    # woken again while that run waits in the queue: it takes these in, so nothing more starts
    assert bag.dags["landing_iom"].test().state == "success"
    assert len(_runs(airflow_home, "ingest_iom")) == len(before) + 1
    assert _notes_of(airflow_home, "landing_iom")[-1].startswith("a queued ingest_iom run takes these in too")
    _clear_queued(airflow_home, "ingest_iom")  # no scheduler here to run it: the test takes the files in
    assert bag.dags["ingest_iom"].test().state == "success"
    assert bag.dags["landing_iom"].test().state == "success"  # a late wake-up: nothing waits
    assert len(_runs(airflow_home, "ingest_iom")) == len(before) + 2
    assert _notes_of(airflow_home, "landing_iom")[-1].startswith("nothing waiting")
    assert canaries_in_metadata(airflow_home) == []


def _clear_queued(airflow_home: Path, dag_id: str) -> None:
    with sqlite3.connect(airflow_home / "airflow.db") as con:
        con.execute("update dag_run set state = 'failed' where dag_id = ? and state = 'queued'", (dag_id,))


def test_replay_from_the_deliveries_page_starts_a_replay_run_named_by_the_file(
    airflow_home: Path, settings: Settings, monkeypatch
) -> None:
    """Replay on the Deliveries page starts a `replay` run under an id naming the delivery by
    its label (its file is named after a man: source and hash), asked by the login that
    pressed it; the replay DAG reads the file again and its note says what came of it."""
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    from linkage.pipeline import ingest_pending

    monkeypatch.setenv("SURVIVOR_LINK_HOME", str(settings.home))
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")
    write(
        settings.landing_dir / "iom" / f"{CANARIES[0]}.csv",
        iom_csv([iom_row("RP-1"), iom_row("RP-2", name=f"{CANARIES[0]} SOK", dob="31/02/1990")]),
    )
    sha = ingest_pending(settings, "iom")["sha256"][0]
    bag = dagbag()
    # a replay of no delivery (which also puts the DAGs in Airflow's database, as the
    # dag-processor would) reads nothing and says so
    assert bag.dags["replay"].test(run_conf={"delivery": "00000000"}).state == "success"
    assert _notes_of(airflow_home, "replay")[-1] == "nothing to replay"
    client = TestClient(create_app("core"))
    # a delivery from before the validation pages: GX kept its checks, it has no page
    from linkage.ingest.data_docs import page_for

    page_for(settings, sha).unlink()
    listing = client.get("/survivor-link/deliveries")
    assert listing.status_code == 200 and "checked before pages were kept" in listing.text
    assert "Checks: checked before pages were kept." in client.get(f"/survivor-link/deliveries/{sha}").text
    reply = client.post(f"/survivor-link/deliveries/{sha}/replay", follow_redirects=False)
    assert reply.status_code == 303, reply.text
    assert "Replay%20started" in reply.headers["location"]
    run_id, state, conf = _runs(airflow_home, "replay")[-1]
    assert state == "queued" and conf == {"delivery": sha}
    assert run_id.startswith(f"replay__iom_delivery_{sha[:12]}__") and CANARIES[0] not in run_id
    _clear_queued(airflow_home, "replay")
    replayed = bag.dags["replay"].test(run_conf={"delivery": sha})
    assert replayed.state == "success"
    assert _notes_of(airflow_home, "replay")[-1].startswith(f"iom delivery {sha[:12]}: ")
    from linkage.store.models import AuditLog

    with session_scope(settings) as s:  # under the login that started the run (dag.test's own)
        actors = s.scalars(
            select(AuditLog.actor).where(AuditLog.action == "delivery.replayed", AuditLog.subject == sha)
        ).all()
    assert actors == ["airflow:dag_test"]
    assert canaries_in_metadata(airflow_home) == []
