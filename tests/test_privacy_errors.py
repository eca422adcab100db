"""Canary values in errors: what the store's driver refuses is said in our words, on
PostgreSQL as on SQLite, and never with a row's values."""

from __future__ import annotations

import json
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
from sqlalchemy import select

from linkage.ingest.load import Ingestor
from linkage.settings import Settings
from linkage.store.db import StoreError, session_scope
from linkage.store.models import AuditLog, Delivery, Quarantine, Record
from tests.conftest import write
from tests.helpers import iom_csv, iom_row
from tests.test_ingest_lifecycle import _env
from tests.test_privacy import CANARIES, CANARY_DOB, CANARY_ID, CANARY_NAME, CANARY_PHONE_DIGITS


def _canary_rows() -> list[dict[str, str]]:
    return [
        iom_row("P1", name=f"{CANARY_NAME} SOK", dob=CANARY_DOB, phone=f"0{CANARY_PHONE_DIGITS}"),
        iom_row("P2", name=f"{CANARY_NAME}\x00 CHEA", travel_doc_no=CANARY_ID),  # NUL: PostgreSQL refuses it
        iom_row("P3", name="VANNAK KEO"),
    ]


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_nul_character_in_a_cell_quarantines_its_row_without_a_driver_error(
    store: str, request: pytest.FixtureRequest
) -> None:
    settings = request.getfixturevalue("settings" if store == "sqlite" else "pg_settings")
    r = Ingestor(settings).ingest_bytes(iom_csv(_canary_rows()).encode(), "nul.csv", "iom")
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("ingested", 3, 2, 1)
    with session_scope(settings) as s:
        q = s.scalars(select(Quarantine)).one()
        assert (q.line, q.rule, q.column) == (3, "nul_character", "full_name")
        assert q.reason == "full_name: a NUL character (zero byte), the mark of a damaged export"
        assert q.raw["full_name"] == f"{CANARY_NAME}\ufffd CHEA"  # kept for replay, storable


def test_a_driver_error_on_postgresql_names_the_constraint_not_the_values(pg_settings: Settings) -> None:
    def insert_twice() -> None:
        with session_scope(pg_settings) as s:
            s.add(Delivery(sha256="a" * 64, source="iom", file_name="x.csv", size_bytes=1, status="ingested"))
            s.flush()
            for _ in range(2):
                s.add(
                    Record(
                        source="iom",
                        delivery_sha256="a" * 64,
                        line=2,
                        source_record_id=CANARY_ID,
                        record_key=f"{CANARY_NAME}-{CANARY_ID}",
                        full_name=CANARY_NAME,
                    )
                )
                s.flush()

    with pytest.raises(StoreError) as caught:
        insert_twice()
    printed = "".join(traceback.format_exception(caught.value))
    assert str(caught.value) == (
        "the store refused a write (UniqueViolation, SQLSTATE 23505, table record, "
        "constraint uq_record_source_key)"
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert [c for c in CANARIES if c in printed] == []


def test_canaries_stay_out_of_a_postgresql_run(pg_settings: Settings, tmp_path: Path) -> None:
    landing = tmp_path / "landing" / "iom"
    write(landing / "canary.csv", iom_csv(_canary_rows()))
    write(landing / "markup[/].csv", iom_csv([iom_row("P9", name=f"[/]{CANARY_NAME}", dob=f"{CANARY_DOB}x")]))
    outputs = []
    for args in (["run", str(tmp_path)], ["quarantine", "--all"], ["replay"]):
        proc = subprocess.run(
            [sys.executable, "-m", "linkage.cli", *args],
            env=_env(pg_settings),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        outputs += [proc.stdout, proc.stderr]
    with session_scope(pg_settings) as s:
        stored = [d.reason or "" for d in s.scalars(select(Delivery))]
        stored += [q.reason + json.dumps(q.issues) for q in s.scalars(select(Quarantine))]
        stored += [json.dumps(a.details) for a in s.scalars(select(AuditLog))]
        assert s.scalars(select(Delivery.status)).all() == ["ingested", "ingested"]
    text = "\n".join(outputs + stored)
    assert "Traceback" not in text
    assert [c for c in CANARIES if c in text] == []


def test_a_store_that_cannot_be_reached_is_said_in_our_words(settings: Settings, tmp_path: Path) -> None:
    write(tmp_path / "landing" / "iom" / "x.csv", iom_csv(_canary_rows()))
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/sl_no_such_database"
    proc = subprocess.run(
        [sys.executable, "-m", "linkage.cli", "run", str(tmp_path)],
        env={**_env(settings), "SURVIVOR_LINK_DB_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert proc.stdout.startswith("the store cannot be used (OperationalError")
    assert "nothing was half-written: run the command again" in proc.stdout
