"""Crash safety, replay after a fix, onboarding a new NGO, PostgreSQL, the command line."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from linkage.cli import main
from linkage.ingest.load import Ingestor
from linkage.settings import Settings, load_settings
from linkage.store.db import session_scope
from linkage.store.models import AuditLog, Delivery, Quarantine, Record
from linkage.synth.writers import IOM_HEADER
from tests.conftest import write
from tests.helpers import iom_csv, iom_row

ROOT = Path(__file__).resolve().parents[1]


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SURVIVOR_LINK_HOME=str(settings.home),
        SURVIVOR_LINK_DB_URL=settings.db_url,
        SURVIVOR_LINK_SOURCES_DIR=str(settings.sources_dir),
        **extra,
    )
    return env


def test_crash_mid_load_leaves_nothing_and_rerun_converges(settings: Settings, tmp_path: Path) -> None:
    rows = [iom_row(f"KH-IOM-2024-{i:04d}") for i in range(1, 301)] + [iom_row("BAD", ret="99/99/2024")]
    path = write(tmp_path / "landing" / "iom" / "big.csv", iom_csv(rows))
    cmd = [sys.executable, "-m", "linkage.cli", "ingest", str(path)]
    crashed = subprocess.run(
        cmd,
        env=_env(settings, SURVIVOR_LINK_TEST_CRASH_POINT="before_commit"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert crashed.returncode == 70
    with session_scope(settings) as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 0
        assert s.scalar(select(func.count()).select_from(Quarantine)) == 0
        assert s.scalars(select(Delivery)).one().status == "claimed"
    done = subprocess.run(cmd, env=_env(settings), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with session_scope(settings) as s:
        d = s.scalars(select(Delivery)).one()
        assert (d.status, d.rows_loaded, d.rows_quarantined) == ("ingested", 300, 1)
        assert s.scalar(select(func.count()).select_from(Record)) == 300


def test_replay_after_mapping_fix(settings: Settings, tmp_path: Path) -> None:
    """A sex value the mapping did not know, and a date written with dots that failed before."""
    sources = tmp_path / "sources"
    sources.mkdir()
    iom = (settings.sources_dir / "iom.yaml").read_text(encoding="utf-8")
    (sources / "iom.yaml").write_text(
        iom.replace(
            "return_date: [date_of_return, return_date, date of return]", "return_date: [return_date]"
        ),
        encoding="utf-8",
    )
    broken = load_settings(home=settings.home, db_url=settings.db_url, sources_dir=sources)
    path = write(tmp_path / "iom.csv", iom_csv([iom_row("R1"), iom_row("R2")]))
    first = Ingestor(broken).ingest_path(path, "iom")
    assert first.status == "rejected" and "return_date" in first.reason
    (sources / "iom.yaml").write_text(iom, encoding="utf-8")  # the officer fixes the mapping
    replayed = Ingestor(broken).replay()
    assert [r.status for r in replayed] == ["ingested"]
    with session_scope(settings) as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 2
        assert s.scalars(select(Delivery)).one().status == "ingested"


def test_replay_quarantined_rows_after_data_rule_fix(settings: Settings, tmp_path: Path) -> None:
    path = write(tmp_path / "iom.csv", iom_csv([iom_row("Q1"), iom_row("Q2", ret="2024.06.05 x")]))
    r = Ingestor(settings).ingest_path(path, "iom")
    assert (r.rows_loaded, r.rows_quarantined) == (1, 1)
    # nothing changed: replay keeps the row quarantined, with its reason
    again = Ingestor(settings).replay()
    assert again[0].rows_quarantined == 1
    with session_scope(settings) as s:
        q = s.scalars(select(Quarantine)).one()
        assert (q.status, q.rule, q.line) == ("open", "date_format", 3)


def test_new_ngo_onboarded_with_one_yaml(settings: Settings, tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    for f in settings.sources_dir.glob("*.yaml"):
        (sources / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (sources / "ngo-sunrise.yaml").write_text(
        """
source: ngo-sunrise
title: Sunrise Shelter register
name_order: given_family
fields:
  source_record_id: [Ref]
  full_name: [Client Name]
  birth_date: [Born]
  province: [Home Province]
  intake_date: [Admitted]
  case_status: [Status]
required_columns: [source_record_id, full_name, intake_date]
required_values: [source_record_id, intake_date]
""",
        encoding="utf-8",
    )
    s2 = load_settings(home=settings.home, db_url=settings.db_url, sources_dir=sources)
    text = (
        "Ref,Client Name,Born,Home Province,Admitted,Status\n"
        "SR-1,Vannak Keo,1991,Kg. Cham,2024-07-01,Active\n"
    )
    path = write(tmp_path / "landing" / "ngo-sunrise" / "register.csv", text)
    r = Ingestor(s2).ingest_path(path)
    assert (r.source, r.status, r.rows_loaded) == ("ngo-sunrise", "ingested", 1)
    with session_scope(s2) as s:
        rec = s.scalars(select(Record)).one()
        assert (rec.family_name, rec.given_name, rec.province_code, rec.case_status) == (
            "KEO",
            "VANNAK",
            "03",
            "active",
        )
        assert rec.birth_precision == "year"


def test_postgresql_store_runs_the_same_migrations_and_ingest(pg_settings: Settings, synth_dir: Path) -> None:
    ingestor = Ingestor(pg_settings)
    results = [ingestor.ingest_path(f) for f in sorted((synth_dir / "landing").rglob("*.*"))]
    assert all(r.status == "ingested" for r in results)
    with session_scope(pg_settings) as s:
        n = s.scalar(select(func.count()).select_from(Record))
        assert n == sum(r.rows_loaded for r in results) > 0
    again = [ingestor.ingest_path(f) for f in sorted((synth_dir / "landing").rglob("*.*"))]
    assert {r.status for r in again} == {"duplicate"}


def test_cli_run_quarantine_and_export(
    settings: Settings, synth_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("SURVIVOR_LINK_HOME", str(settings.home))
    assert main(["run", str(synth_dir)]) == 0
    out = capsys.readouterr().out
    assert "Deliveries" in out and "ingested" in out and "Linkage" in out
    assert main(["quarantine"]) == 0
    export = tmp_path / "records.csv"
    assert main(["export", "records", "-o", str(export)]) == 0
    header = export.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header[:5] == ["person_id", "event_id", "source", "file", "source_record_id"]
    rows = export.read_text(encoding="utf-8-sig").splitlines()[1:]
    assert rows and all(r.split(",")[0].startswith("SL") for r in rows)  # every record has its person
    with session_scope(settings) as s:
        assert (
            s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "export.records"))
            == 1
        )


def _resend_and_read(settings: Settings, tmp_path: Path) -> list[tuple]:
    """Two IOM lists; the second sends case 0001 again, corrected, beside a new case."""
    ingestor = Ingestor(settings)
    first = [iom_row("KH-IOM-2024-0001", dob="12/03/1990"), iom_row("KH-IOM-2024-0002", name="VANNAK KEO")]
    header = [*IOM_HEADER, "officer_note"]  # an unknown column: kept in extra
    second = [
        iom_row("KH-IOM-2024-0001", dob="13/03/1990", officer_note="dob corrected"),
        iom_row("KH-IOM-2024-0003", name="SAMBATH CHEA", dob="", age_at_return="31"),
    ]
    for name, rows, cols in (("a.csv", first, None), ("b.csv", second, header)):
        r = ingestor.ingest_path(write(tmp_path / "landing" / "iom" / name, iom_csv(rows, cols)))
        assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", len(rows), 0)
    with session_scope(settings) as s:
        return [
            tuple(row)
            for row in s.execute(
                select(
                    Record.record_key,
                    Record.name_latin,
                    Record.birth_date,
                    Record.birth_year,
                    Record.birth_precision,
                    Record.return_date,
                    Record.phone,
                    Record.extra,
                    Record.raw,
                    Record.line,
                ).order_by(Record.record_key)
            )
        ]


def test_resent_record_ids_update_their_records_alike_on_sqlite_and_postgresql(
    settings: Settings, pg_settings: Settings, tmp_path: Path
) -> None:
    on_sqlite = _resend_and_read(settings, tmp_path / "sqlite")
    on_postgres = _resend_and_read(pg_settings, tmp_path / "pg")
    assert on_sqlite == on_postgres
    assert [r[:7] for r in on_sqlite] == [
        (
            "KH-IOM-2024-0001",
            "SOK DARA",
            dt.date(1990, 3, 13),
            1990,
            "day",
            dt.date(2024, 6, 5),
            "+85512345678",
        ),
        (
            "KH-IOM-2024-0002",
            "KEO VANNAK",
            dt.date(1990, 3, 12),
            1990,
            "day",
            dt.date(2024, 6, 5),
            "+85512345678",
        ),
        ("KH-IOM-2024-0003", "CHEA SAMBATH", None, 1993, "age", dt.date(2024, 6, 5), "+85512345678"),
    ]
    assert [r[7] for r in on_sqlite] == [{"officer_note": "dob corrected"}, None, None]
    assert on_sqlite[0][8]["dob"] == "13/03/1990" and on_sqlite[0][8]["officer_note"] == "dob corrected"
    assert [r[9] for r in on_sqlite] == [2, 3, 3]  # the line in the delivery that sent it last


def _schema_drift(settings: Settings) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from linkage.store.db import get_engine, migrate
    from linkage.store.models import Base

    migrate(settings)
    with get_engine(settings).connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)


def test_the_migrations_build_the_tables_the_models_declare(
    settings: Settings, pg_settings: Settings
) -> None:
    assert _schema_drift(settings) == []
    assert _schema_drift(pg_settings) == []


def test_data_docs_of_a_batch_render_once_when_it_ends(settings: Settings, tmp_path: Path) -> None:
    """In a `with` block the validation pages wait for the block's end, then all appear."""
    files = [
        write(
            tmp_path / "landing" / "iom" / f"l{n}.csv",
            iom_csv([iom_row(f"KH-IOM-2024-{n}{i:03d}") for i in range(5)]),
        )
        for n in (1, 2)
    ]
    docs = settings.home / "data_docs" / "deliveries"
    with Ingestor(settings) as ingestor:
        for f in files:
            assert ingestor.ingest_path(f).status == "ingested"
        assert not docs.exists()  # held back while the batch runs
    pages = {p.name for p in docs.glob("*.html")}  # one page per delivery
    assert len(pages) == 2, pages
    bare = write(tmp_path / "landing" / "iom" / "l3.csv", iom_csv([iom_row("KH-IOM-2024-3000")]))
    Ingestor(settings).ingest_path(bare)  # used bare: its pages come at once
    assert len(list(docs.glob("*.html"))) == 3
