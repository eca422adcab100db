"""Ingestion of real files: every bad input gets a clear reason and loses nothing."""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from linkage.ingest.load import Ingestor
from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import Delivery, Quarantine, Record
from tests.conftest import write
from tests.helpers import IOM_HEADER, iom_csv, iom_row, mosvy_row, mosvy_xlsx


def counts(settings: Settings) -> tuple[int, int]:
    with session_scope(settings) as s:
        return (
            s.scalar(select(func.count()).select_from(Record)),
            s.scalar(select(func.count()).select_from(Quarantine)),
        )


def quarantine_rules(settings: Settings) -> dict[int, str]:
    with session_scope(settings) as s:
        return {q.line: q.rule for q in s.scalars(select(Quarantine))}


def ingest(settings: Settings, path: Path, source: str | None = "iom"):
    return Ingestor(settings).ingest_path(path, source)


def test_good_iom_list_loads_every_row(settings: Settings, tmp_path: Path) -> None:
    rows = [iom_row(f"KH-IOM-2024-{i:04d}") for i in range(1, 6)]
    r = ingest(settings, write(tmp_path / "iom.csv", iom_csv(rows)))
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("ingested", 5, 5, 0)
    with session_scope(settings) as s:
        rec = s.scalars(select(Record)).first()
        assert (rec.family_name, rec.given_name, rec.name_order) == ("SOK", "DARA", "given_family")
        assert rec.phone == "+85512345678"
        assert (rec.province_code, rec.district_code) == ("06", "0606")
        assert rec.country == "ID" and rec.point_of_entry == "PNH_AIRPORT"
        assert rec.return_date == dt.date(2024, 6, 5)


def test_empty_file_rejected(settings: Settings, tmp_path: Path) -> None:
    r = ingest(settings, write(tmp_path / "e.csv", ""))
    assert r.status == "rejected" and "empty" in r.reason


def test_header_only_loads_nothing(settings: Settings, tmp_path: Path) -> None:
    r = ingest(settings, write(tmp_path / "h.csv", iom_csv([])))
    assert (r.status, r.rows_read, r.rows_loaded) == ("ingested", 0, 0)


def test_semicolon_delimiter_is_detected(settings: Settings, tmp_path: Path) -> None:
    r = ingest(settings, write(tmp_path / "semi.csv", iom_csv([iom_row()], delimiter=";")))
    assert (r.status, r.rows_loaded) == ("ingested", 1)


def test_unknown_delimiter_is_rejected_with_a_reason(settings: Settings, tmp_path: Path) -> None:
    r = ingest(settings, write(tmp_path / "colon.csv", iom_csv([iom_row()], delimiter=":")))
    assert r.status == "rejected" and "header" in r.reason


def test_ragged_rows_quarantined(settings: Settings, tmp_path: Path) -> None:
    text = iom_csv([iom_row("A1"), iom_row("A2")])
    lines = text.splitlines()
    lines[1] += ",extra,cells"
    lines[2] = ",".join(lines[2].split(",")[:5])
    r = ingest(settings, write(tmp_path / "ragged.csv", "\n".join(lines) + "\n"))
    assert (r.rows_loaded, r.rows_quarantined) == (0, 2)
    assert quarantine_rules(settings) == {2: "ragged_row", 3: "ragged_row"}


def test_duplicate_header_rejected(settings: Settings, tmp_path: Path) -> None:
    header = [*IOM_HEADER, "full_name"]
    r = ingest(settings, write(tmp_path / "dup.csv", iom_csv([iom_row()], header=header)))
    assert r.status == "rejected" and r.reason.startswith(
        "columns 2 and 20 of the header on line 1 have the same name"
    )


def test_missing_required_header_rejected(settings: Settings, tmp_path: Path) -> None:
    header = [h for h in IOM_HEADER if h != "date_of_return"]
    r = ingest(settings, write(tmp_path / "missing.csv", iom_csv([iom_row()], header=header)))
    assert r.status == "rejected" and "return_date" in r.reason


def test_unknown_columns_kept_and_reported(settings: Settings, tmp_path: Path) -> None:
    rows = [iom_row(shelter="Poipet transit centre")]
    r = ingest(settings, write(tmp_path / "extra.csv", iom_csv(rows, header=[*IOM_HEADER, "shelter"])))
    assert r.unknown_columns == ["shelter"] and r.rows_loaded == 1
    with session_scope(settings) as s:
        assert s.scalars(select(Record)).one().extra == {"shelter": "Poipet transit centre"}


def test_undecodable_bytes_quarantine_only_their_rows(settings: Settings, tmp_path: Path) -> None:
    good = iom_csv([iom_row("A1", name="សុខ ដារា"), iom_row("A2"), iom_row("A3")]).encode()
    broken = good.replace(b"KH-IOM-2024-0001", b"x").replace(b"A2,DARA", b"A2,DA\xff\xfeRA")
    r = ingest(settings, write(tmp_path / "bad-bytes.csv", broken))
    assert (r.rows_loaded, r.rows_quarantined) == (2, 1)
    assert quarantine_rules(settings) == {3: "encoding"}


def test_utf16_and_cp1252(settings: Settings, tmp_path: Path) -> None:
    text = iom_csv([iom_row("U1", name="DARA SOK")])
    r1 = ingest(settings, write(tmp_path / "u16.csv", text.encode("utf-16")))
    text2 = iom_csv([iom_row("W1", name="DARA SÓK", sector="fishing – deep sea")])
    r2 = ingest(settings, write(tmp_path / "w.csv", text2.encode("cp1252")))
    assert (r1.status, r1.rows_loaded) == ("ingested", 1)
    assert (r2.status, r2.rows_loaded) == ("ingested", 1)
    with session_scope(settings) as s:
        enc = dict(s.execute(select(Delivery.file_name, Delivery.encoding)).all())
    assert enc == {"u16.csv": "utf-16", "w.csv": "cp1252"}


def test_bom_csv(settings: Settings, tmp_path: Path) -> None:
    r = ingest(settings, write(tmp_path / "bom.csv", iom_csv([iom_row()]), encoding="utf-8-sig"))
    assert r.rows_loaded == 1


def test_formula_cell_quarantined(settings: Settings, tmp_path: Path) -> None:
    rows = [iom_row("F1", name='=HYPERLINK("http://x","DARA")'), iom_row("F2", phone="+855 12 345 678")]
    r = ingest(settings, write(tmp_path / "f.csv", iom_csv(rows)))
    assert (r.rows_loaded, r.rows_quarantined) == (1, 1)
    assert quarantine_rules(settings) == {2: "formula"}


def test_formulas_behind_spaces_and_signs_quarantined_phones_kept(settings: Settings, tmp_path: Path) -> None:
    """A formula may hide behind white space (a non-breaking space too); a phone starting
    with + and a digit is a value, not a formula, and so is '--' written for "no referral"."""
    rows = [
        iom_row("G1", name="  =1+1"),
        iom_row("G2", name="\u00a0@SUM(A1)"),
        iom_row("G3", name="-A1"),
        iom_row("G4", phone="+855 12 345 678"),
        iom_row("G5", name="DARA SOK"),
        iom_row("G6", referred_to="--"),
    ]
    r = ingest(settings, write(tmp_path / "g.csv", iom_csv(rows)))
    assert (r.rows_loaded, r.rows_quarantined) == (3, 3)
    assert quarantine_rules(settings) == {2: "formula", 3: "formula", 4: "formula"}


def test_rows_stored_as_compact_utf8_json(settings: Settings, tmp_path: Path) -> None:
    """Each row as received is sealed as JSON that keeps Khmer as it is (escaped, it
    takes twice the bytes) and reads back to the same cells."""
    from linkage.seal import current

    row = iom_row("J1", name="សុខ ដារា", unknown_col="ក, ខ")
    ingest(settings, write(tmp_path / "j.csv", iom_csv([row], [*IOM_HEADER, "unknown_col"])))
    with session_scope(settings) as s:
        sealed = s.connection().exec_driver_sql("SELECT raw, extra FROM record").one()
        stored = s.scalars(select(Record.raw)).one()
    assert "ដារា".encode() not in sealed[0] and "ក, ខ".encode() not in sealed[1]  # at rest: ciphertext
    text = [
        current.ring().open(v, f"record.{c}".encode(), c).decode()
        for v, c in zip(sealed, ("raw", "extra"), strict=True)
    ]
    assert "សុខ ដារា" in text[0] and "\\u" not in text[0] and '", "' not in text[0]
    assert text[1] == '{"unknown_col":"ក, ខ"}'
    with session_scope(settings) as s:  # a column no row of the delivery fills: left out, NULL
        nulls = "SELECT COUNT(*) FROM record WHERE father_name IS NULL AND case_manager IS NULL"
        assert s.connection().exec_driver_sql(nulls).scalar() == 1
    assert stored["full_name"] == "សុខ ដារា" and stored["iom_case_no"] == "J1"


def test_json_the_fast_encoder_refuses_is_stored_escaped() -> None:
    """A lone surrogate or an integer past 64 bits goes through the standard encoder."""
    import json

    from linkage.store.db import _to_json

    assert _to_json({"a": "ក", 1: None}) == '{"a":"ក","1":null}'
    assert json.loads(_to_json({"a": "x\udcff"})) == {"a": "x\udcff"}
    assert json.loads(_to_json({"n": 2**70})) == {"n": 2**70}


def test_future_birth_and_return_before_birth(settings: Settings, tmp_path: Path) -> None:
    rows = [iom_row("D1", dob="01/02/2090"), iom_row("D2", dob="10/10/2000", ret="01/01/1999"), iom_row("D3")]
    r = ingest(settings, write(tmp_path / "d.csv", iom_csv(rows)))
    assert (r.rows_loaded, r.rows_quarantined) == (1, 2)
    assert quarantine_rules(settings) == {2: "future_date", 3: "return_before_birth"}


def test_bad_date_quarantined(settings: Settings, tmp_path: Path) -> None:
    r = ingest(settings, write(tmp_path / "bd.csv", iom_csv([iom_row("X1", ret="31/02/2024")])))
    assert r.rows_quarantined == 1 and quarantine_rules(settings) == {2: "date_format"}


def test_same_file_twice_and_renamed_copy_change_nothing(settings: Settings, tmp_path: Path) -> None:
    text = iom_csv([iom_row()])
    first = ingest(settings, write(tmp_path / "a.csv", text))
    again = ingest(settings, write(tmp_path / "a.csv", text))
    renamed = ingest(settings, write(tmp_path / "other-name.csv", text))
    assert first.status == "ingested"
    assert again.status == renamed.status == "duplicate"
    assert counts(settings) == (1, 0)


def test_path_traversal_name_stored_safely(settings: Settings, tmp_path: Path) -> None:
    r = Ingestor(settings).ingest_bytes(iom_csv([iom_row()]).encode(), "../../etc/x.csv", "iom")
    assert r.status == "ingested" and r.file_name == "x.csv"
    archived = list((settings.archive_dir).rglob("*"))
    assert all(settings.archive_dir in p.parents for p in archived)
    assert any(p.name == r.sha256 for p in archived)


def test_within_file_duplicate_ids(settings: Settings, tmp_path: Path) -> None:
    rows = [iom_row("S1"), iom_row("S1"), iom_row("S1", name="VISAL CHEA")]
    r = ingest(settings, write(tmp_path / "dups.csv", iom_csv(rows)))
    assert (r.rows_loaded, r.rows_quarantined) == (1, 2)


def test_non_excel_named_xlsx(settings: Settings, tmp_path: Path) -> None:
    r = ingest(settings, write(tmp_path / "fake.xlsx", b"PK\x03\x04 this is not really a zip"), "mosvy")
    assert r.status == "rejected" and "not a valid workbook" in r.reason
    r2 = ingest(
        settings, write(tmp_path / "old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 100), "mosvy"
    )
    assert r2.status == "rejected" and ".xls" in r2.reason


def test_zip_bomb_refused_quickly(settings: Settings, tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            block = b"<row/>" * (1 << 20)
            for _ in range(55):  # about 330 MiB uncompressed, a few hundred KiB on disk
                fh.write(block)
    path = write(tmp_path / "bomb.xlsx", buf.getvalue())
    started = time.perf_counter()
    r = ingest(settings, path, "mosvy")
    elapsed = time.perf_counter() - started
    assert r.status == "rejected" and "zip bomb" in r.reason
    print(f"zip bomb of {path.stat().st_size:,} bytes refused in {elapsed:.3f} s")


@pytest.mark.parametrize("shared_strings", [False, True], ids=["inline-text", "excel-shared-strings"])
def test_mosvy_excel_with_titles_khmer_digits_and_dates(
    settings: Settings, tmp_path: Path, shared_strings: bool
) -> None:
    rows = [
        mosvy_row("១", ret="០៥/០៦/២០២៤"),
        mosvy_row("២", "ជា", "សុភាព", ret=dt.datetime(2024, 6, 7), dob="០១/០១/១៩៩០"),
        mosvy_row("៣", "កែវ", "វណ្ណៈ", ret=45292),
    ]  # Excel day 45292 is 01/01/2024
    landed = tmp_path / "landing" / "mosvy" / "list.xlsx"
    path = mosvy_xlsx(landed, rows, titles=3, shared_strings=shared_strings)
    with zipfile.ZipFile(path) as z:  # the two ways a workbook holds its text
        assert ("xl/sharedStrings.xml" in z.namelist()) == shared_strings
    r = Ingestor(settings).ingest_path(path)  # source from the landing folder
    assert (r.source, r.status, r.rows_loaded) == ("mosvy", "ingested", 3)
    with session_scope(settings) as s:
        recs = {r.source_record_id: r for r in s.scalars(select(Record))}
        d = s.scalars(select(Delivery)).one()
    assert d.header_line == 4
    assert set(recs) == {"1", "2", "3"}
    assert recs["1"].return_date == dt.date(2024, 6, 5) and recs["1"].age == 34
    assert recs["1"].name_latin == "SOK DARA" and recs["1"].name_kh == "សុខ ដារា"
    assert recs["2"].birth_precision == "year" and recs["2"].return_date == dt.date(2024, 6, 7)
    assert recs["3"].return_date == dt.date(2024, 1, 1)
    assert recs["1"].province_code == "06" and recs["1"].district_code == "0606"
    assert recs["1"].country == "ID"


def test_excel_1904_date_system(settings: Settings, tmp_path: Path) -> None:
    path = mosvy_xlsx(tmp_path / "1904.xlsx", [mosvy_row("1", ret=dt.datetime(2024, 6, 5))], epoch_1904=True)
    r = ingest(settings, path, "mosvy")
    assert r.rows_loaded == 1
    with session_scope(settings) as s:
        assert s.scalars(select(Record)).one().return_date == dt.date(2024, 6, 5)


def test_limon_names_converted_when_known_else_quarantined(settings: Settings, tmp_path: Path) -> None:
    rows = [
        mosvy_row("1", "sux", "dara"),  # សុខ ដារា
        mosvy_row("2", "ehg", "KIm"),  # ហេង គីម
        mosvy_row("3", "sux", "zqZQxW"),  # reads as no known name: not trusted
        mosvy_row("4"),
    ]
    r = ingest(settings, mosvy_xlsx(tmp_path / "limon.xlsx", rows), "mosvy")
    assert (r.rows_loaded, r.rows_quarantined) == (3, 1)
    assert r.warnings_by_rule.get("limon_converted") == 5  # both names of rows 1-2, the surname of row 3
    assert set(quarantine_rules(settings).values()) == {"limon"}
    with session_scope(settings) as s:
        names = {(x.family_name_kh, x.given_name_kh, x.family_name) for x in s.scalars(select(Record))}
    assert ("សុខ", "ដារា", "SOK") in names and ("ហេង", "គីម", "HENG") in names


def test_rows_loaded_plus_quarantined_equals_data_rows(settings: Settings, synth_dir: Path) -> None:
    ingestor = Ingestor(settings)
    files = sorted((synth_dir / "landing").rglob("*.*"))
    results = [ingestor.ingest_path(f) for f in files]
    assert all(r.status == "ingested" for r in results)
    for r in results:
        assert r.rows_loaded + r.rows_quarantined == r.rows_read
    truth_rows = len((synth_dir / "truth" / "records.csv").read_text().splitlines()) - 1
    assert sum(r.rows_read for r in results) == truth_rows
    assert counts(settings)[0] == sum(r.rows_loaded for r in results)


@pytest.mark.parametrize("name", ["unknown_source.csv"])
def test_unknown_source_rejected_and_kept(settings: Settings, tmp_path: Path, name: str) -> None:
    r = Ingestor(settings).ingest_path(write(tmp_path / name, iom_csv([iom_row()])), None)
    assert r.status == "rejected" and "source unknown" in r.reason
    assert (settings.archive_dir / r.sha256[:2] / r.sha256).exists()
