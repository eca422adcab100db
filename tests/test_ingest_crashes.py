"""Files that used to crash ingest: each is now loaded, quarantined or rejected with a reason,
and one bad file never stops the files after it, nor linking and flagging."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

import linkage.ingest.load as load_module
from linkage.cli import main
from linkage.ingest.load import Ingestor
from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import Delivery, Person, Quarantine, Record
from tests.conftest import write
from tests.helpers import IOM_HEADER, iom_csv, iom_row, mosvy_row
from tests.test_ingest_lifecycle import _env


def _csv_with_header(extra_header: bytes, rows: list[dict[str, str]]) -> bytes:
    """An IOM list with one more column, whose header is these bytes (each row has a value)."""
    rows = [{**r, "EXTRA-COLUMN": "x"} for r in rows]
    data = iom_csv(rows, header=[*IOM_HEADER, "EXTRA-COLUMN"]).encode()
    return data.replace(b"EXTRA-COLUMN", extra_header, 1)


def _quarantine(settings: Settings) -> dict[int, tuple[str, str | None, str]]:
    with session_scope(settings) as s:
        return {q.line: (q.rule, q.column, q.reason) for q in s.scalars(select(Quarantine))}


def test_a_cell_past_the_csv_field_limit_quarantines_its_row_only(settings: Settings) -> None:
    rows = [iom_row("A1"), iom_row("A2", remarks="x" * 140_000), iom_row("A3")]
    rows[1]["full_name"] = "SOK " + "Y" * 140_000
    r = Ingestor(settings).ingest_bytes(iom_csv(rows).encode(), "long.csv", "iom")
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("ingested", 3, 2, 1)
    rule, column, reason = _quarantine(settings)[3]
    assert (rule, column) == ("cell_too_long", "full_name")
    assert reason == "full_name: 140,004 characters, a spreadsheet cell's limit (32,767) or more: damaged"


def _mosvy_with_date_cells(path: Path, values: list[object], date_format: bool) -> Path:
    """A MoSVY sheet whose return-date cells hold numbers, formatted as dates or not."""
    from linkage.synth.writers import MOSVY_HEADER

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(MOSVY_HEADER)
    col = MOSVY_HEADER.index("ថ្ងៃខែឆ្នាំត្រឡប់មកវិញ") + 1
    for i, v in enumerate(values, 1):
        ws.append(mosvy_row(str(i), ret=None))
        cell = ws.cell(row=i + 1, column=col, value=v)
        if date_format:
            cell.number_format = "dd/mm/yyyy"
    wb.save(path)
    return path


def test_numbers_in_excel_date_columns_never_overflow(settings: Settings, tmp_path: Path) -> None:
    path = _mosvy_with_date_cells(tmp_path / "m.xlsx", [20250312, 45000, 99999999, 1e20, 20251340], False)
    r = Ingestor(settings).ingest_path(path, "mosvy")
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("ingested", 5, 2, 3)
    with session_scope(settings) as s:
        dates = sorted(rec.return_date for rec in s.scalars(select(Record)))
    assert dates == [dt.date(2023, 3, 15), dt.date(2025, 3, 12)]  # YYYYMMDD typed in, and a day number
    q = _quarantine(settings)
    assert {line: rule for line, (rule, _, _) in q.items()} == {
        4: "date_format",
        5: "date_format",
        6: "date_format",
    }
    # a number cell of 8 digits is read by its digits (06062024 typed into a number cell),
    # and 99999999 is no DDMMYYYY nor YYYYMMDD
    assert q[4][2] == (
        "return_date: 8 digits with no separators that are not a date (DDMMYYYY or YYYYMMDD with a "
        "year 1900-2099); write the date DD/MM/YYYY"
    )
    assert q[6][2] == "return_date: day 40, month 13 is not a calendar date"


def test_numbers_too_big_for_a_date_formatted_cell_are_quarantined_unlogged(
    settings: Settings, tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    path = _mosvy_with_date_cells(tmp_path / "m.xlsx", [19900312, 45000], True)
    r = Ingestor(settings).ingest_path(path, "mosvy")
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("ingested", 2, 1, 1)
    assert _quarantine(settings)[2] == (
        "date_format",
        "return_date",
        "return_date: an Excel error value, not a date (a number in a date cell that Excel cannot "
        "show as a date?)",
    )
    assert not [w for w in recwarn if "19900312" in str(w.message)]  # openpyxl's warning quotes it


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_bytes_not_utf8_in_the_header_are_stored_as_a_mark(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    settings = request.getfixturevalue("settings" if store == "sqlite" else "pg_settings")
    # UTF-8 (Khmer names) with one byte of another encoding in a header: lone surrogates
    data = _csv_with_header(b"note\xff", [iom_row("B1", name="សុខ ដារា"), iom_row("B2", name="កែវ វណ្ណា")])
    r = Ingestor(settings).ingest_bytes(data, "header.csv", "iom")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 2, 0)
    assert r.unknown_columns == ["note\ufffd"]
    with session_scope(settings) as s:
        d = s.scalars(select(Delivery)).one()
        assert (d.encoding, d.unknown_columns) == ("utf-8", ["note\ufffd"])
        assert all("note\ufffd" in rec.raw for rec in s.scalars(select(Record)))
    dup = _csv_with_header(b"d\xffob", [iom_row("B3", name="សុខ ដារា")]).replace(b",dob,", b",D\xffOB,", 1)
    r = Ingestor(settings).ingest_bytes(dup, "dup.csv", "iom")
    assert (r.status, r.reason) == (
        "rejected",
        "columns 4 and 20 of the header on line 1 have the same name; rename or remove one and send "
        "the file again",
    )


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_file_name_that_is_not_utf8_is_kept_with_a_mark(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    settings = request.getfixturevalue("settings" if store == "sqlite" else "pg_settings")
    folder = tmp_path / "landing" / "iom"
    folder.mkdir(parents=True)
    name = os.fsdecode(b"list-\xe9t\xe9.csv")  # Latin-1 bytes from another system
    (folder / name).write_text(iom_csv([iom_row("N1")]))
    r = Ingestor(settings).ingest_path(folder / name)
    assert (r.status, r.file_name, r.rows_loaded) == ("ingested", "list-\ufffdt\ufffd.csv", 1)
    with session_scope(settings) as s:
        assert s.scalars(select(Delivery.file_name)).one() == "list-\ufffdt\ufffd.csv"


def test_console_markup_in_a_header_or_file_name_is_printed_as_text(
    settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "landing" / "iom"
    # names of safe words only, so the output shows them (linkage.privacy.file_label)
    write(folder / "[v]list[file=v].csv", _csv_with_header(b"[/]", [iom_row("M1")]))
    folder.joinpath(os.fsdecode(b"list\xe9[v].csv")).write_text(iom_csv([iom_row("M2")]))
    proc = subprocess.run(
        [sys.executable, "-m", "linkage.cli", "run", str(tmp_path)],
        env=_env(settings, COLUMNS="300"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "[v]list[file=v].csv" in proc.stdout and "list\ufffd[v].csv" in proc.stdout
    assert "unknown columns kept: [/]" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_one_file_that_fails_never_stops_the_run(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """A file that raises inside our reader (whatever the cause) is rejected with where it
    failed; the files after it load, linking and flags run, and replay loads it once fixed."""
    landing = tmp_path / "landing" / "iom"
    write(landing / "a.csv", iom_csv([iom_row("F1", name="DARA SOK")]))
    write(landing / "b.csv", iom_csv([iom_row("F2", name="BOOM SOK")]))
    write(landing / "c.csv", iom_csv([iom_row("F3", name="VANNAK KEO")]))
    real = load_module.read_table

    def failing(data: bytes, *args: object):
        if b"BOOM" in data:  # a reader bug that only this file meets
            raise OverflowError("BOOM SOK")
        return real(data, *args)

    monkeypatch.setattr(load_module, "read_table", failing)
    monkeypatch.setenv("SURVIVOR_LINK_HOME", str(settings.home))
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["run", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Linkage" in out and "Referral flags" in out  # the job finished after the bad file
    assert "BOOM" not in out  # the exception's message (a cell) is not shown
    with session_scope(settings) as s:
        status = {d.file_name: (d.status, d.reason) for d in s.scalars(select(Delivery))}
        assert len(list(s.scalars(select(Person)))) == 2
    assert status["a.csv"] == status["c.csv"] == ("ingested", None)
    assert status["b.csv"][0] == "rejected"
    assert status["b.csv"][1].startswith("could not be read: an internal error (OverflowError at ")
    assert "BOOM" not in status["b.csv"][1]
    monkeypatch.setattr(load_module, "read_table", real)  # the bug fixed
    assert main(["replay"]) == 0
    with session_scope(settings) as s:
        (d,) = [d for d in s.scalars(select(Delivery)) if d.file_name == "b.csv"]  # sealed: not in SQL
        assert (d.status, d.rows_loaded) == ("ingested", 1)


def test_the_ingest_task_goes_on_after_a_failing_file(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from linkage.pipeline import ingest_pending

    landing = settings.landing_dir / "iom"
    write(landing / "a.csv", iom_csv([iom_row("G1", name="BOOM SOK")]))
    write(landing / "b.csv", iom_csv([iom_row("G2")]))
    real = load_module.read_table
    inbox = settings.home / "inbox" / "iom"

    def claimed_under_hashes(data: bytes, *a: object):  # while a file waits: no name in the inbox
        assert all(re.fullmatch(r"[0-9a-f]{16}\.[0-9a-f]{8}", p.name) for p in inbox.iterdir())
        return real(data, *a)

    monkeypatch.setattr(
        load_module,
        "read_table",
        lambda data, *a: (
            (_ for _ in ()).throw(ValueError("x")) if b"BOOM" in data else claimed_under_hashes(data, *a)
        ),
    )
    counts = ingest_pending(settings, "iom")
    assert (counts["deliveries"], counts["ingested"], counts["rejected"], counts["rows_loaded"]) == (
        2,
        1,
        1,
        1,
    )
    with session_scope(settings) as s:
        assert sorted(d.status for d in s.scalars(select(Delivery))) == ["ingested", "rejected"]
        assert sorted(d.file_name for d in s.scalars(select(Delivery))) == ["a.csv", "b.csv"]  # as sent
    assert not any(inbox.iterdir())  # nothing left to block the next run


@pytest.mark.parametrize("encoding", ["utf-32", "utf-32-le", "utf-32-be"])
def test_utf32_lists_are_read(settings: Settings, encoding: str) -> None:
    data = iom_csv([iom_row("U1", name="សុខ ដារា"), iom_row("U2")]).encode(encoding)
    r = Ingestor(settings).ingest_bytes(data, "u32.csv", "iom")
    assert (r.status, r.rows_read, r.rows_loaded) == ("ingested", 2, 2)
    with session_scope(settings) as s:
        assert s.scalars(select(Delivery.encoding)).one() == encoding


def test_a_file_of_zero_bytes_says_so(settings: Settings) -> None:
    data = iom_csv([iom_row("Z1")]).encode() + b"\x00" * 5000
    r = Ingestor(settings).ingest_bytes(b"\x00" * 3000 + b"abc,def\n" * 137, "zeros.csv", "iom")
    assert (r.status, r.reason) == (
        "rejected",
        "73% of the file's first bytes are zero bytes (NUL), in no text encoding's pattern: the file "
        "is damaged or is not a CSV or Excel list; export it again",
    )
    r = Ingestor(settings).ingest_bytes(data, "padded.csv", "iom")
    assert r.status == "rejected" and r.reason.startswith("91% of the file")  # a list followed by NUL padding


@pytest.mark.parametrize(
    "stamp", ["2025-03-12T10:00:00Z", "2025-03-12T10:00:00.250+07:00", "2025-03-12 10:00:00 UTC"]
)
def test_iso_timestamps_are_dates(settings: Settings, stamp: str) -> None:
    r = Ingestor(settings).ingest_bytes(iom_csv([iom_row("T1", ret=stamp)]).encode(), "t.csv", "iom")
    assert (r.status, r.rows_loaded) == ("ingested", 1)
    with session_scope(settings) as s:
        assert s.scalars(select(Record.return_date)).one() == dt.date(2025, 3, 12)


# --- every row accounted for -------------------------------------------------------------


def _ten_iom_rows() -> list[str]:
    return iom_csv([iom_row(f"R{i:02d}", name=f"DARA SOK{chr(65 + i)}") for i in range(10)]).split("\n")


def test_an_unclosed_quote_quarantines_its_line_and_the_rows_after_it_load(settings: Settings) -> None:
    lines = _ten_iom_rows()
    lines[3] = lines[3].replace("DARA SOKC", '"DARA SOKC')  # opens in full_name, never closed
    r = Ingestor(settings).ingest_bytes("\n".join(lines).encode(), "q.csv", "iom")
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("ingested", 10, 9, 1)
    assert _quarantine(settings) == {
        4: (
            "unclosed_quote",
            "full_name",
            "full_name: a quote opens here and is not closed on this line; the lines after it were "
            "read as rows of their own",
        )
    }


def test_a_quote_closed_rows_later_still_leaves_those_rows_standing(settings: Settings) -> None:
    lines = _ten_iom_rows()
    lines[2] = lines[2].replace("DARA SOKB", '"DARA SOKB')
    lines[6] = lines[6].replace("DARA SOKF", 'DARA SOKF"')  # a stray quote that closes it
    r = Ingestor(settings).ingest_bytes("\n".join(lines).encode(), "q2.csv", "iom")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (10, 9, 1)
    # the stray quote inside an unquoted cell of line 7 is a character of that cell
    assert {line: rule for line, (rule, _, _) in _quarantine(settings).items()} == {3: "unclosed_quote"}


def test_a_quoted_cell_over_several_lines_is_one_row(settings: Settings) -> None:
    rows = [iom_row("L1", remarks=""), iom_row("L2", referred_to="Hagar,\nthen LSCW"), iom_row("L3")]
    r = Ingestor(settings).ingest_bytes(iom_csv(rows).encode(), "multi.csv", "iom")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (3, 3, 0)
    with session_scope(settings) as s:
        assert s.scalars(select(Record.line).order_by(Record.line)).all() == [2, 3, 5]


def _workbook(path: Path, sheets: list[tuple[str, str, list[list[object]]]]) -> Path:
    """A workbook of (title, state, rows) sheets; MoSVY's header heads each sheet with rows."""
    from linkage.synth.writers import MOSVY_HEADER

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, state, rows in sheets:
        ws = wb.create_sheet(title)
        ws.sheet_state = state
        if rows and isinstance(rows[0], list) and rows[0] and rows[0][0] != "lookup":
            ws.append(MOSVY_HEADER)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def _mosvy_rows(first: int, n: int) -> list[list[object]]:
    return [mosvy_row(str(i), given=f"ដារា{i}") for i in range(first, first + n)]


def test_a_hidden_sheet_with_rows_of_the_list_refuses_the_workbook_naming_both(
    settings: Settings, tmp_path: Path
) -> None:
    path = _workbook(
        tmp_path / "h.xlsx", [("Old", "hidden", _mosvy_rows(1, 3)), ("List", "visible", _mosvy_rows(4, 7))]
    )
    r = Ingestor(settings).ingest_path(path, "mosvy")
    assert (r.status, r.reason) == (
        "rejected",
        "rows of this list are on 2 sheets (sheet 1 ('Old', hidden): 3 rows; sheet 2 ('List'): 7 rows); "
        "put them on one sheet (or delete an old copy) and send the file again, or send one file per sheet",
    )
    with session_scope(settings) as s:
        assert s.scalars(select(Delivery.status)).one() == "rejected"
        assert list(s.scalars(select(Record))) == []


def test_the_list_on_a_hidden_sheet_is_read_and_other_sheets_named(
    settings: Settings, tmp_path: Path
) -> None:
    path = _workbook(
        tmp_path / "h2.xlsx",
        [
            ("Notes", "visible", [["lookup", "of places"], ["Kampong Thom"]]),
            ("Data", "hidden", _mosvy_rows(1, 10)),
            ("Empty", "visible", []),
        ],
    )
    r = Ingestor(settings).ingest_path(path, "mosvy")
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("ingested", 10, 10, 0)
    assert r.notes == [
        "read sheet 2 ('Data', hidden)",
        "sheet 1 ('Notes') not read: 2 rows, no header of this list",
    ]
