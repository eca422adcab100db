"""Canary values: no name, phone, ID or birth date in output, errors or stored reasons."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import msoffcrypto
import openpyxl
from sqlalchemy import select

from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import AuditLog, CandidatePair, Delivery, Person, Quarantine
from tests.conftest import write
from tests.helpers import iom_csv, iom_row, mosvy_row, mosvy_xlsx

CANARY_NAME = "ZQXCANARY"
CANARY_KH = "ឃ្ឍ្ឍញ"
CANARY_PHONE_DIGITS = "97712399"
CANARY_ID = "918273645"
CANARY_DOB = "17/07/1977"
CANARIES = [CANARY_NAME, CANARY_KH, CANARY_PHONE_DIGITS, CANARY_ID, CANARY_DOB, "1977-07-17"]


def test_canaries_never_leave_the_store(settings: Settings, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    rows = [
        iom_row(
            "C1",
            name=f"{CANARY_NAME} SOK",
            dob=CANARY_DOB,
            phone=f"0{CANARY_PHONE_DIGITS}",
            travel_doc_no=CANARY_ID,
        ),
        iom_row("C2", name=f"{CANARY_NAME} CHEA", dob="17/07/2077"),  # future: quarantined
        iom_row("C3", name=f"SOK {CANARY_NAME}", phone=f"{CANARY_PHONE_DIGITS}999"),  # bad phone
        iom_row("C4", name=f"={CANARY_NAME}"),  # formula
        iom_row("C5", name=f"SOK {CANARY_NAME}", ret=f"{CANARY_DOB}x"),  # bad date
    ]
    # file names that name a survivor: sealed, and shown by their labels (source and hash)
    iom_file, mosvy_file = f"{CANARY_NAME}_intake.csv", f"list_{CANARY_KH}.xlsx"
    write(landing / "iom" / iom_file, iom_csv(rows))
    mosvy_xlsx(
        landing / "mosvy" / mosvy_file,
        [
            mosvy_row("1", CANARY_KH, "ដារា", nid=CANARY_ID, phone=f"0{CANARY_PHONE_DIGITS}"),
            mosvy_row("2", "sux", CANARY_NAME.lower()),  # Limon: quarantined
            mosvy_row("3", CANARY_KH, "ដារា", nid=f"{CANARY_ID}12345"),  # bad ID: warning
        ],
    )
    env = dict(os.environ, SURVIVOR_LINK_HOME=str(settings.home))
    outputs = []

    def cli(*args: str) -> None:
        proc = subprocess.run(
            [sys.executable, "-m", "linkage.cli", *args], env=env, capture_output=True, text=True, timeout=300
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        outputs.extend([proc.stdout, proc.stderr])

    for args in (["run", str(tmp_path)], ["quarantine", "--all"], ["replay"], ["link"], ["review", "list"]):
        cli(*args)
    with session_scope(settings) as s:
        persons = list(s.scalars(select(Person.person_id)))
    assert persons  # linkage really ran
    for pid in persons:
        cli("explain", pid)
    # what leaves the store on purpose (an export) is 0600 and audited; the store
    # itself, its archive and everything else under its home hold no canary (checked below)
    out = tmp_path / "out"
    cli("export", "records", "-o", str(out / "records.csv"))
    written = [p for p in out.rglob("*") if p.is_file()]
    assert written and all(p.stat().st_mode & 0o077 == 0 for p in written)
    assert iom_file in (out / "records.csv").read_text()  # the export, audited, names the file
    # the weekly report with a password: the workbook (Office encryption) and the CSVs (an AES
    # zip) hold no value in clear either, and say nothing of one on the command line
    env["SURVIVOR_LINK_REPORT_PASSWORD"] = "kep-the-list-7"
    cli("report", "weekly", "-o", str(out / "report"))
    reported = [p for p in (out / "report").rglob("*") if p.is_file()]
    assert reported and all(p.stat().st_mode & 0o077 == 0 for p in reported)
    (workbook,) = [p for p in reported if p.suffix == ".xlsx"]
    assert zipfile.is_zipfile(workbook) is False  # not an xlsx (whose text is deflated) but sealed
    office = msoffcrypto.OfficeFile(workbook.open("rb"))
    office.load_key(password=env["SURVIVOR_LINK_REPORT_PASSWORD"])
    opened = io.BytesIO()
    office.decrypt(opened)
    sheets = openpyxl.load_workbook(opened)
    cells = [str(c) for ws in sheets for row in ws.iter_rows(values_only=True) for c in row]
    assert any(CANARY_NAME in c for c in cells)  # opened with the password, it names him
    with session_scope(settings) as s:
        stored = [d.reason or "" for d in s.scalars(select(Delivery))]
        quarantined = list(s.scalars(select(Quarantine)))
        stored += [q.reason for q in quarantined] + [
            json.dumps(q.issues, ensure_ascii=False) for q in quarantined
        ]
        stored += [
            json.dumps(a.details, ensure_ascii=False) + (a.subject or "") for a in s.scalars(select(AuditLog))
        ]
        stored += [json.dumps(p.explanation, ensure_ascii=False) for p in s.scalars(select(CandidatePair))]
    assert len(quarantined) >= 4  # the bad rows really were exercised
    # The validation pages and GX's stored results: the pages are there, the values are not.
    docs = settings.home / "data_docs"
    assert (docs / "index.html").exists()
    pages = list((docs / "deliveries").rglob("*.html"))
    assert len(pages) == 2  # one for each of the two lists
    assert any("did not pass: quarantined" in p.read_text(errors="ignore") for p in pages)  # shown
    for folder in (docs, settings.home / "gx"):
        stored += [p.read_text(errors="ignore") for p in folder.rglob("*") if p.is_file()]
    assert not [p for p in pages if "2077-07-17" in p.read_text(errors="ignore")]  # the future birth date
    assert not [o for o in outputs if "unexpected Exception" in o]  # the pages rendered cleanly
    text = "\n".join(outputs + stored)
    leaks = [c for c in CANARIES if c in text]
    assert leaks == [], f"personal values leaked: {leaks}"
    # at rest: the SQLite file (and its WAL), the sealed archive, the locks, the Data Docs
    from linkage.seal.master import key_path
    from linkage.store.db import dispose_engines

    dispose_engines()
    at_rest = b"".join(
        p.read_bytes() for p in settings.home.rglob("*") if p.is_file() and p != key_path(settings)
    )
    assert b"SQLite format 3" in at_rest and len(list(settings.archive_dir.rglob("*"))) >= 2
    leaks = [c for c in CANARIES if c.encode() in at_rest]
    assert leaks == [], f"personal values at rest in clear: {leaks}"
    with session_scope(settings) as s:
        actions = {a.action for a in s.scalars(select(AuditLog))}
        assert {d.file_name for d in s.scalars(select(Delivery))} == {iom_file, mosvy_file}  # opened
    assert "export.records" in actions  # a decryption for export is audited
    # the quarantined rows themselves keep the values, for replay, inside the store
    assert any(CANARY_NAME in json.dumps(q.raw) for q in quarantined)


def test_show_values_is_opt_in_and_audited(settings: Settings, tmp_path: Path) -> None:
    write(tmp_path / "landing" / "iom" / "x.csv", iom_csv([iom_row("Z1", name=f"={CANARY_NAME}")]))
    env = dict(os.environ, SURVIVOR_LINK_HOME=str(settings.home))
    subprocess.run(
        [sys.executable, "-m", "linkage.cli", "run", str(tmp_path)],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    env["COLUMNS"] = "400"  # one line per row, so the value is not wrapped
    shown = subprocess.run(
        [sys.executable, "-m", "linkage.cli", "quarantine", "--show-values"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert CANARY_NAME in shown.stdout
    with session_scope(settings) as s:
        actions = [a.action for a in s.scalars(select(AuditLog))]
    assert "quarantine.values_shown" in actions


def test_an_ingests_progress_names_files_by_their_labels(settings: Settings, tmp_path: Path) -> None:
    """The CLI's bars show what the observer is given: a file named after a man shows as its
    source and hash (no hash before it is read), both for files given by path and claimed."""
    from linkage.pipeline.ingest import ingest_landing, ingest_paths
    from linkage.pipeline.observer import Observer

    class Seen(Observer):
        def __init__(self) -> None:
            self.started: list[str] = []
            self.rows: set[str] = set()

        def file_started(self, label: str) -> None:
            self.started.append(label)

        def rows_mapped(self, label: str, done: int, total: int) -> None:
            self.rows.add(label)

    name = f"{CANARY_NAME.lower()}_sok_intake.csv"
    given, landed = Seen(), Seen()
    path = write(tmp_path / "drop" / "iom" / name, iom_csv([iom_row("P1")]))
    sha = ingest_paths(settings, [path], "iom", given).results[0].sha256
    assert given.started == ["iom file (name withheld)"] and given.rows == {f"iom delivery {sha[:12]}"}
    write(settings.landing_dir / "iom" / name, iom_csv([iom_row("P2")]))
    sha = ingest_landing(settings, "iom", landed).results[0].sha256
    assert landed.started == [f"iom delivery {sha[:12]}"] and landed.rows == {f"iom delivery {sha[:12]}"}
    safe = Seen()
    path = write(tmp_path / "drop" / "iom" / "iom_returns_2025_06.csv", iom_csv([iom_row("P3")]))
    ingest_paths(settings, [path], "iom", safe)
    assert safe.started == ["iom_returns_2025_06.csv"] and safe.rows == {"iom_returns_2025_06.csv"}


def test_showing_withheld_file_names_is_audited_as_a_decryption(
    settings: Settings, tmp_path: Path, capsys, monkeypatch
) -> None:
    """The Deliveries pages show a role that may see values each file's name: who saw how
    many names their label withholds is audited, and `audit --decryptions` lists it."""
    from linkage.cli import main
    from linkage.ingest.load import Ingestor
    from linkage.officer.deliveries import audit_names_shown, list_deliveries
    from linkage.store.db import acting_as

    landing = tmp_path / "landing" / "iom"
    with Ingestor(settings) as ingestor:
        ingestor.ingest_path(write(landing / f"{CANARY_NAME.lower()}_sok.csv", iom_csv([iom_row("N1")])))
        ingestor.ingest_path(write(landing / "iom_returns_2025_06.csv", iom_csv([iom_row("N2")])))
    views = list_deliveries(settings)
    with acting_as("airflow:officer"):
        assert audit_names_shown(settings, views) == 1  # the safe name is shown everywhere anyway
        assert audit_names_shown(settings, [v for v in views if v.label == v.file_name]) == 0
    with session_scope(settings) as s:
        shown = s.scalars(select(AuditLog).where(AuditLog.action == "delivery.names_shown")).one()
    assert (shown.actor, shown.subject, shown.details) == ("airflow:officer", None, {"names": 1})
    monkeypatch.setenv("SURVIVOR_LINK_HOME", str(settings.home))
    assert main(["audit", "--decryptions"]) == 0
    out = capsys.readouterr().out
    assert "delivery.names_shown" in out and CANARY_NAME.casefold() not in out.casefold()
