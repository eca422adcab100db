"""The weekly report as a case lead uses it: crafted men checked for priority, consent and
record numbers, the summary's suppression on crafted counts, and the printed PDF itself."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from linkage.match.linker import link
from linkage.report.glossary import Term
from linkage.report.summary import SummaryFigures, write_summary, write_trend
from linkage.report.weekly import build_weekly_report
from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import CandidatePair, Delivery, Record
from tests.conftest import write
from tests.helpers import iom_csv, iom_row, ngo_csv, ngo_row
from tests.test_flags_report import SYNTH_AS_OF, ingest_dir

NATIONAL_PHONE = re.compile(r"^0\d{2} \d{3} \d{3,4}$")


def _ago(days: int) -> dt.date:
    return SYNTH_AS_OF - dt.timedelta(days=days)


def _dmy(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


@pytest.fixture
def linked_synth(settings: Settings, synth_dir: Path) -> Settings:
    ingest_dir(settings, synth_dir / "landing")
    link(settings)
    return dataclasses.replace(settings, report_csv="plain")  # the CSVs in clear, asked for: read here


@pytest.fixture
def crafted(linked_synth: Settings, tmp_path: Path) -> Settings:
    """Six men beside the synthetic lists, each testing one rule."""
    s = linked_synth
    land = tmp_path / "landing"
    child_dob = _ago(300) - dt.timedelta(days=16 * 365 + 100)  # 16 at return, 17 now
    rows = [
        iom_row("T-CHILD", name="VIBOL KHIEU", dob=_dmy(child_dob), ret=_dmy(_ago(300)), phone="092 100 201"),
        iom_row("T-RECENT", name="SAMNANG OUK", dob="04/04/1991", ret=_dmy(_ago(45)), phone="097 111 2233"),
        iom_row("T-NOPHONE", name="RITHY PHAN", dob="05/05/1992", ret=_dmy(_ago(50)), phone=""),
        iom_row(
            "T-NOCONSENT",
            name="KOSAL MEAS",
            dob="06/06/1993",
            ret=_dmy(_ago(60)),
            phone="088 765 4321",
            consent_to_share="N",
        ),
        iom_row("T-OLD", name="VANNAK CHHIM", dob="07/07/1985", ret=_dmy(_ago(400)), phone="092 300 403"),
        iom_row("T-NGO", name="DARAVUTH YOEUNG", dob="12/03/1990", ret=_dmy(_ago(300)), phone="097 555 6677"),
    ]
    write(land / "iom" / "crafted.csv", iom_csv(rows))
    write(
        land / "ngo-hagar" / "crafted.csv",
        ngo_csv(
            [
                ngo_row(
                    "H-77",
                    "YOEUNG DARAVUTH",
                    "1990-03-12",
                    _ago(280).isoformat(),
                    "Closed",
                    phone="097 555 6677",
                    case_manager="Srey Mom",
                )
            ]
        ),
    )
    ingest_dir(s, land)
    link(s)
    return s


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_crafted_men_are_ordered_by_priority_and_cited_by_their_record_numbers(
    crafted: Settings, tmp_path: Path
) -> None:
    report = build_weekly_report(crafted, SYNTH_AS_OF, tmp_path / "out")
    rows = _csv_rows(report.csv_files[0])
    at = {r["iom_case_no"]: i for i, r in enumerate(rows) if r["iom_case_no"].startswith("T-")}
    assert set(at) == {"T-CHILD", "T-RECENT", "T-NOPHONE", "T-NOCONSENT", "T-OLD", "T-NGO"}
    level = {k: rows[i]["priority"] for k, i in at.items()}
    assert level == {
        "T-CHILD": "1",
        "T-RECENT": "1",
        "T-NOPHONE": "1",
        "T-NOCONSENT": "1",
        "T-NGO": "2",
        "T-OLD": "3",
    }
    # reachable first (freshest first), then the ones without a phone or village, then level 2, 3
    assert at["T-RECENT"] < at["T-CHILD"] < at["T-NOPHONE"] < at["T-NOCONSENT"] < at["T-NGO"] < at["T-OLD"]
    assert [int(r["priority"]) for r in rows] == sorted(int(r["priority"]) for r in rows)
    child = rows[at["T-CHILD"]]
    assert child["age_at_return"] == "16" and "under 18" in child["why_en"]
    ngo = rows[at["T-NGO"]]
    assert "hagar H-77" in ngo["ngo_client_id"] and ngo["case_manager"] == "Srey Mom"
    assert "NGO case closed without referral" in ngo["why_en"]
    assert "097 555 6677" in ngo["phones"].split("; ")
    assert rows[at["T-RECENT"]]["phones"] == "097 111 2233"
    assert all(NATIONAL_PHONE.match(p) for r in rows for p in r["phones"].split("; ") if p)
    text = report.csv_files[0].read_text(encoding="utf-8-sig")
    assert "'0" not in text and "+855" not in text  # no escape needed, none added

    wb = openpyxl.load_workbook(report.workbook)
    ws = wb["Unreferred"]
    header = [c.value.split("\n")[1] for c in ws[2]]
    col = {h: i for i, h in enumerate(header)}
    records = [r[col["Each list's record no. and case manager"]].value or "" for r in ws.iter_rows(min_row=3)]
    assert any("IOM T-NGO" in x and "NGO hagar H-77 · Srey Mom" in x for x in records)
    assert [r[col["Priority"]].value for r in ws.iter_rows(min_row=3)] == [int(r["priority"]) for r in rows]


def test_rows_without_consent_are_marked_and_their_contacts_withheld(
    crafted: Settings, tmp_path: Path
) -> None:
    report = build_weekly_report(crafted, SYNTH_AS_OF, tmp_path / "out")
    listed = _csv_rows(report.csv_files[0])
    rows = {r["iom_case_no"]: r for r in listed}
    kosal = rows["T-NOCONSENT"]
    assert kosal["consent_to_share"] == "no" and kosal["contact_details_withheld"] == "yes"
    assert kosal["phones"] == "" and "contact details withheld" in kosal["why_en"]
    assert rows["T-RECENT"]["contact_details_withheld"] == "no"
    withheld = sum(r["contact_details_withheld"] == "yes" for r in listed)
    assert report.counts["contacts_withheld"] == withheld >= 1

    def everywhere(folder: Path) -> str:
        parts = [p.read_text(encoding="utf-8-sig") for p in folder.glob("*.csv")]
        with zipfile.ZipFile(next(folder.glob("*.xlsx"))) as z:
            parts += [z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")]
        return "\n".join(parts)

    assert "088 765 4321" not in everywhere(tmp_path / "out")
    assert "097 111 2233" in everywhere(tmp_path / "out")

    shown = dataclasses.replace(crafted, report_contacts_without_consent=True)
    again = build_weekly_report(shown, SYNTH_AS_OF, tmp_path / "shown")
    kosal = {r["iom_case_no"]: r for r in _csv_rows(again.csv_files[0])}["T-NOCONSENT"]
    assert kosal["phones"] == "088 765 4321" and kosal["contact_details_withheld"] == "no"
    assert "no consent (shown by setting)" in kosal["why_en"]
    assert again.sha256 != report.sha256


def _cells(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, object]:
    """English label (column B) -> the value beside it (column C)."""
    return {r[1].value: r[2].value for r in ws.iter_rows(min_row=2) if isinstance(r[1].value, str)}


def test_summary_hides_small_counts_so_that_subtraction_cannot_recover_them() -> None:
    p = [Term("ក", "Alpha"), Term("ខ", "Beta"), Term("គ", "Gamma")]
    f = SummaryFigures(
        men=60,
        returns=64 + 40 + 3 + 0,
        referred=40,
        flagged=64,
        grace=3,
        undated=0,
        men_flagged=63,
        opened=17,
        closed=1,
        open_before=48,
        by_province=[(p[0], 20, 21, 10, 2), (p[1], 40, 41, 25, 14), (p[2], 40, 45, 5, 48)],
        by_band=[(Term("១", "31-90 days"), 17), (Term("២", "91-180 days"), 47)],
        by_priority=[
            (Term("១", "Priority 1"), 60),
            (Term("២", "Priority 2"), 4),
            (Term("៣", "Priority 3"), 0),
        ],
        by_list=[(Term("ក", "IOM"), 60), (Term("ខ", "NGO x"), 2)],
        trend=[(dt.date(2026, 11, 16), 48), (dt.date(2026, 11, 23), 64)],
    )
    wb = openpyxl.Workbook()
    shown = write_summary(wb.active, f, dt.date(2026, 11, 23), 30, 5)
    trend = write_trend(wb.create_sheet("Trend"), f, 5)
    got = {(table, label): v for table, label, v in shown}
    # the leak: closed "<5" with opened 17 and 48 -> 64 gave closed = 1
    assert got[("Summary", "Open flags closed this week")] == "x"
    assert got[("Summary", "Open flags opened this week")] == "x"
    assert [v for _t, _d, v in trend] == ["x", 64]
    # grace 3 is hidden, and so is a second part, so returns - the rest does not give it
    parts = ["referred to case management", "open flags: not referred after 30 days"]
    parts += ["still inside the 30-day grace period", "return date unknown"]
    values = [got[("Summary", k)] for k in parts]
    assert got[("Summary", "Returns on record")] == 107
    assert values[2] == "x" and values.count("x") >= 2
    shown_sum = sum(v for v in values if v != "x")
    assert 107 - shown_sum != 3 or values.count("x") >= 2
    # by province: Alpha's 2 open flags hidden, and a second province's with it
    flags = [got[("Referral rate by province", f"{n}: open flags")] for n in ("Alpha", "Beta", "Gamma")]
    assert flags[0] == "x" and flags.count("x") == 2
    assert got[("Referral rate by province", "Total: open flags")] == 64
    assert (
        got[("Open flags by priority", "Priority 2")] == "x"
        and got[("Open flags by priority", "Priority 3")] == 0
    )
    assert got[("Open flags by priority", "Priority 1")] == "x"  # 64 - 60 would give Priority 2
    assert got[("Open flags by list (a man may be on several lists)", "NGO x")] == "x"


def test_summary_of_the_synthetic_week_adds_up(linked_synth: Settings, tmp_path: Path) -> None:
    report = build_weekly_report(linked_synth, SYNTH_AS_OF, tmp_path / "out")
    cells = _cells(openpyxl.load_workbook(report.workbook)["Summary"])
    parts = [
        cells["referred to case management"],
        cells[f"open flags: not referred after {linked_synth.grace_days} days"],
        cells[f"still inside the {linked_synth.grace_days}-day grace period"],
        cells["return date unknown"],
    ]
    c = report.counts
    assert parts == [
        c["returns_referred"],
        c["open_flags"],
        c["returns_within_grace"],
        c["returns_without_date"],
    ]
    assert cells["Returns on record"] == sum(parts) == c["returns"]
    assert cells["Men who came home (on any list)"] == c["men"] <= c["returns"]


# -- the printed report --------------------------------------------------------------------


def to_pdf(workbook: Path, tmp_path: Path) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is missing: scripts/test_services.sh installs libreoffice-calc-nogui"
    out = tmp_path / "pdf"
    proc = subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(workbook),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return out / (workbook.stem + ".pdf")


def pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    return text.stdout.split("\f")[:-1]


def page_sizes(pdf: Path, pages: int) -> list[tuple[float, float]]:
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", str(pages), str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]


def test_the_printed_report(linked_synth: Settings, tmp_path: Path) -> None:
    report = build_weekly_report(linked_synth, SYNTH_AS_OF, tmp_path / "out")
    wb = openpyxl.load_workbook(report.workbook)
    pdf = to_pdf(report.workbook, tmp_path)
    pages = pdf_pages(pdf)
    n = len(pages)
    assert n == len(page_sizes(pdf, n))
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Khmer" in fonts  # Khmer text was set in a Khmer font, not boxes

    def sheet_of(page: str) -> str:
        m = re.search(r"(\S[^\n]*?) · Page (\d+) of (\d+)", page)
        assert m, "footer with page numbers missing"
        return m.group(1).split("  ")[-1].strip()

    for i, page in enumerate(pages, start=1):
        assert "Confidential: MoSVY case management only" in page
        # the Khmer marking too (pdftotext drops some stacked consonants and splits words,
        # so two plain words, spaces ignored)
        khmer = re.sub(r"\s", "", page)
        assert "សម្រាប់តែការ" in khmer and "សង្គមកិច្ច" in khmer
        assert f"Page {i} of {n}" in page and "ទំព័រ" in khmer
    by_sheet: dict[str, list[int]] = {}
    for i, page in enumerate(pages):
        by_sheet.setdefault(sheet_of(page), []).append(i)
    assert set(by_sheet) == set(wb.sheetnames)

    # the Unreferred sheet: one page wide (every page has the first and the last column),
    # its header row on every page, every man printed, landscape A4
    unreferred = by_sheet["Unreferred"]
    assert len(unreferred) >= 2
    sizes = page_sizes(pdf, n)
    for i in unreferred:
        page = pages[i]
        for head in ("No.", "Priority", "Phones", "Why flagged", "Assigned to", "Outcome", "Referred to"):
            assert head in page, (i, head)
        assert "អាទិភាព" in re.sub(r"\s", "", page) and re.search("[\u1780-\u17ff]{20}", page)
        w, h = sizes[i]
        assert w > h and round(w) == 842
    person_ids = {c.value.split("\n")[-1] for c in wb["Unreferred"]["C"][2:]}
    printed = set(re.findall(r"SL\d{7}", "\n".join(pages[i] for i in unreferred)))
    assert person_ids and person_ids <= printed
    # the rows fill the pages: far fewer pages than rows (the old report took 11 strips a row)
    assert len(unreferred) <= len(person_ids) // 3

    # each province sheet prints on its own pages, and its rows are the province's
    for name in wb.sheetnames[wb.sheetnames.index("Closed this week") + 1 :]:
        assert by_sheet[name] and all("Referred to" in pages[i] for i in by_sheet[name])
    # the chart and its table on one page; the summary's numbers beside their labels
    assert len(by_sheet["Trend"]) == 1
    assert "Open flags, last 12 weeks" in pages[by_sheet["Trend"][0]]
    first = pages[by_sheet["Summary"][0]]
    line = next(x for x in first.splitlines() if "Returns on record" in x)
    assert re.search(rf"\b{report.counts['returns']}\b", line)
    # the province table's bilingual headers print whole (a fixed 40-point row cut them):
    # each is said once as a headline label and once as a column header
    for words in ("Men who came", "referred to case"):
        assert first.count(words) == 2, words
    # a list with nobody on it says so, on screen and on paper, instead of a bare header
    for name in ("Unreferred", "New this week", "Closed this week"):
        ws = wb[name]
        if ws["A3"].value and str(ws["A3"].value).endswith("No case on this list"):
            assert ws.max_row == 3
            assert all("No case on this list" in pages[i] for i in by_sheet[name])
        else:
            assert all("No case on this list" not in pages[i] for i in by_sheet[name])
    flows = ("New this week", "Closed this week")
    assert any(str(wb[n]["A3"].value).endswith("No case on this list") for n in flows)


def test_two_flagged_rows_waiting_in_review_say_they_may_be_one_man(
    crafted: Settings, tmp_path: Path
) -> None:
    """A reviewer has not yet decided whether two flagged men are one: both rows say so, with
    the pair, and the completeness sheet counts the pair as touching an open flag."""
    with session_scope(crafted) as s:
        ids = dict(
            s.execute(
                select(Record.source_record_id, Record.id).where(
                    Record.source == "iom", Record.source_record_id.in_(["T-RECENT", "T-OLD"])
                )
            ).all()
        )
        before = build_weekly_report(crafted, SYNTH_AS_OF, tmp_path / "before").counts["possible_duplicates"]
        pair = CandidatePair(
            record_a=ids["T-RECENT"], record_b=ids["T-OLD"], probability=0.995, weight=7.5, band="review"
        )
        s.add(pair)
        s.flush()
        pair_id = pair.id
    report = build_weekly_report(crafted, SYNTH_AS_OF, tmp_path / "out")
    rows = {r["iom_case_no"]: r for r in _csv_rows(report.csv_files[0])}
    recent, old = rows["T-RECENT"], rows["T-OLD"]
    assert (
        recent["possible_duplicate_of"] == old["person_id"]
        and old["possible_duplicate_of"] == recent["person_id"]
    )
    assert (
        f"may be the same man as {old['person_id']} in this report (review pair {pair_id})"
        in recent["why_en"]
    )
    assert "ប្រហែលជាមនុស្សតែមួយ" in recent["why_km"]
    assert report.counts["possible_duplicates"] == before + 2
    ws = openpyxl.load_workbook(report.workbook)["Data completeness"]
    values = {str(r[0].value).split(" / ")[-1]: r[4].value for r in ws.iter_rows(min_row=4) if r[0].value}
    assert values["of which touch an open flag"] >= 1


def test_completeness_panel_lists_every_delivery_and_the_review_queue(
    linked_synth: Settings, tmp_path: Path
) -> None:
    report = build_weekly_report(linked_synth, SYNTH_AS_OF, tmp_path / "out")
    ws = openpyxl.load_workbook(report.workbook)["Data completeness"]
    cells = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    with session_scope(linked_synth) as s:
        files = s.execute(select(Delivery.file_name, Delivery.rows_loaded)).all()
        waiting = s.scalar(
            select(func.count()).where(CandidatePair.band == "review", CandidatePair.status == "open")
        )
    assert files and all(name in cells for name, _n in files)
    per_source = {
        r[0].value: r[3].value for r in ws.iter_rows(min_row=4, max_row=4 + 6) if isinstance(r[3].value, int)
    }
    assert sum(per_source.values()) == sum(n for _f, n in files)
    review = next(
        r for r in ws.iter_rows() if str(r[0].value).endswith("waiting for a data officer's decision")
    )
    assert review[4].value == waiting


def test_with_a_password_the_workbook_is_encrypted_and_the_csvs_only_zipped(
    linked_synth: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Office's own encryption on the workbook, the four CSVs inside one AES zip, all 0600;
    without a password the CSVs are not written at all (unless asked in clear)."""
    import io

    import msoffcrypto
    import pyzipper

    from linkage.report.weekly import _write_csvs

    password = "kep-the-list-7"
    monkeypatch.setenv("SURVIVOR_LINK_REPORT_PASSWORD", password)
    settings = dataclasses.replace(linked_synth, report_csv="zip")
    report = build_weekly_report(settings, SYNTH_AS_OF, tmp_path / "out")
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == [report.workbook.name, f"{report.workbook.stem}_csv.zip"]  # no loose CSV
    assert all(p.stat().st_mode & 0o077 == 0 for p in (tmp_path / "out").iterdir())
    with pytest.raises(zipfile.BadZipFile):  # not a workbook without the password
        openpyxl.load_workbook(report.workbook)
    office = msoffcrypto.OfficeFile(report.workbook.open("rb"))
    assert office.is_encrypted()
    office.load_key(password=password)
    opened = io.BytesIO()
    office.decrypt(opened)
    assert "Summary" in " ".join(openpyxl.load_workbook(opened).sheetnames)
    (archive,) = report.csv_files
    with zipfile.ZipFile(archive) as plain, pytest.raises(RuntimeError):  # encrypted members
        plain.read(plain.namelist()[0])
    with pyzipper.AESZipFile(archive) as zf:
        zf.setpassword(password.encode())
        assert len(zf.namelist()) == 4
        contacts = zf.read(f"{report.workbook.stem}_unreferred.csv").decode("utf-8-sig")
    assert contacts.startswith("priority") or "iom_case_no" in contacts.splitlines()[0]
    monkeypatch.delenv("SURVIVOR_LINK_REPORT_PASSWORD")
    assert _write_csvs(settings, None, None, tmp_path / "none", "x", None) == []
