"""The weekly report to MoSVY: who came home and was never referred, and what to do first.

Why an Excel workbook built like this: case leads open it in Excel or LibreOffice, filter
it, print one sheet per DoSVY office and phone or visit the men on it. So: every word in
Khmer and English from the glossary, dates as real dates, nothing that can run as a
formula, print-ready pages (see printing), and the same bytes for the same week (it is a
record of what was sent). Summaries may leave MoSVY, so their small counts are hidden
(see suppression); the named lists may not, and every page says so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from linkage.referral.flags import band_order, event_status, flagged, load_event_records
from linkage.report.cells import put
from linkage.report.completeness import Completeness, completeness, write_completeness
from linkage.report.contact_sheet import FONT_NAME, write_closed_sheet, write_contact_sheet
from linkage.report.contacts import ContactRow, close_term, contact_rows, possible_duplicates
from linkage.report.csv_files import write_closed_csv, write_contacts_csv, write_summary_csv
from linkage.report.details import load_person_records, person_details, person_provinces
from linkage.report.estimate_sheet import SHEET as ESTIMATE_SHEET
from linkage.report.estimate_sheet import add_estimate_sheet
from linkage.report.glossary import Term, term
from linkage.report.printing import print_ready, use_font
from linkage.report.protect import CSV_MODES, encrypt_workbook, private_output, report_password, zip_encrypted
from linkage.report.summary import SummaryFigures, figures, write_summary, write_trend
from linkage.seal.files import private_dir, write_private
from linkage.settings import Settings
from linkage.store.db import audit, current_actor, session_scope
from linkage.store.models import Report

TREND_WEEKS = 12
SHEET_NAME_CHARS = 31  # Excel's limit
UNKNOWN_PROVINCE_SHEET = "Province unknown"


@dataclass
class WeeklyReport:
    """What was written, and the counts recorded with it."""

    week: str
    as_of: dt.date
    workbook: Path
    csv_files: list[Path]
    sha256: str
    counts: dict[str, Any] = field(default_factory=dict)
    report_id: int | None = None


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# -- data ---------------------------------------------------------------------------------


@dataclass
class WeekData:
    as_of: dt.date
    status: pd.DataFrame
    rows: list[ContactRow]  # open flags, most urgent first
    new: list[ContactRow]
    closed: list[tuple[ContactRow, Term]]
    figures: SummaryFigures
    completeness: Completeness


def gather(settings: Settings, as_of: dt.date) -> WeekData:
    """Everything the report shows, computed as of a date (the weeks before too)."""
    with session_scope(settings) as s:
        records = load_event_records(s)
        now = event_status(s, settings, as_of, records=records)
        before = event_status(s, settings, as_of - dt.timedelta(days=7), records=records)
        trend = []
        for k in range(TREND_WEEKS - 1, -1, -1):
            day = as_of - dt.timedelta(days=7 * k)
            st = now if k == 0 else before if k == 1 else event_status(s, settings, day, records=records)
            trend.append((day, int(st["flagged"].sum())))
        open_now, open_before = flagged(now), flagged(before)
        persons = set(open_now["person_id"]) | set(open_before["person_id"])
        recs = load_person_records(s, persons)
        details = person_details(recs, settings.report_contacts_without_consent)
        flagged_now = recs[recs["person_id"].isin(set(open_now["person_id"]))]
        person_of = dict(
            zip(flagged_now["record_id"].tolist(), flagged_now["person_id"].tolist(), strict=True)
        )
        dups = possible_duplicates(s, person_of)
        provinces = person_provinces(s)
        panel = completeness(s, set(person_of))
    rows = contact_rows(open_now, details, dups, as_of)
    new_ids = set(open_now["event_id"]) - set(open_before["event_id"])
    closed_ids = set(open_before["event_id"]) - set(open_now["event_id"])
    by_event_now = now.set_index("event_id")
    gone = open_before[open_before["event_id"].isin(closed_ids)]
    closed = [
        (r, close_term(by_event_now.loc[r.event_id] if r.event_id in by_event_now.index else None))
        for r in sorted(contact_rows(gone, details, {}, as_of), key=lambda r: r.event_id)
    ]
    figs = figures(
        now,
        provinces,
        rows,
        opened=len(new_ids),
        closed=len(closed_ids),
        open_before=len(open_before),
        trend=trend,
        bands=band_order(settings.grace_days),
        grace_days=settings.grace_days,
    )
    return WeekData(as_of, now, rows, [r for r in rows if r.event_id in new_ids], closed, figs, panel)


# -- workbook -----------------------------------------------------------------------------


def _readme(ws: Worksheet, data: WeekData, settings: Settings, week: str) -> None:
    """Who may read this, what each sheet is, and every rule, in both languages."""
    t = settings.small_count_threshold
    days = settings.grace_days
    blocks: list[tuple[Term, bool]] = [
        (term("confidential"), True),
        (term("names_warning"), True),
        (term("report_title"), True),
        (term("week_as_of", week=week, date=data.as_of), False),
        (term("def.sheets"), False),
        (term("def.flag", days=days), False),
        (term("def.priority"), False),
        (term("def.duplicate"), False),
        (term("def.consent"), False),
    ]
    if settings.report_contacts_without_consent:
        blocks.append((term("def.consent_shown"), True))
    blocks += [
        (term("def.phones"), False),
        (term("def.actions"), False),
        (term("def.suppression", t1=t - 1), False),
        (term("def.safe_cells"), False),
    ]
    r = 1
    for text, bold in blocks:
        for line in (text.km, text.en):
            c = put(ws.cell(r, 1), line)
            c.alignment = Alignment(wrap_text=True, vertical="top")
            if bold:
                c.font = Font(bold=True, color="C00000" if r <= 4 else "000000")
            ws.row_dimensions[r].height = 14 * max(1, -(-len(line) // 95))
            r += 1
        r += 1
    ws.column_dimensions["A"].width = 100


def _province_sheets(wb: Workbook, rows: list[ContactRow]) -> list[Worksheet]:
    """One contact sheet per province, for its DoSVY office; ordered by province name."""
    groups: dict[str, list[ContactRow]] = {}
    names: dict[str, tuple[str, str]] = {}
    for r in rows:
        place = r.details.province
        key = place[1] if place else UNKNOWN_PROVINCE_SHEET
        groups.setdefault(key, []).append(r)
        names[key] = place or (term("cell.unknown").km, term("cell.unknown").en)
    sheets = []
    for key in sorted(groups, key=lambda k: (k == UNKNOWN_PROVINCE_SHEET, k)):
        ws = wb.create_sheet(re.sub(r"[\[\]:*?/\\]", " ", key)[:SHEET_NAME_CHARS])
        km, en = names[key]
        if key != UNKNOWN_PROVINCE_SHEET and not km.startswith(("ខេត្ត", "រាជធានី")):
            km = "ខេត្ត" + km
        n = len(groups[key])
        title = Term(term("dosvy_title", province=km, n=n).km, term("dosvy_title", province=en, n=n).en)
        write_contact_sheet(ws, title, groups[key])
        sheets.append(ws)
    return sheets


def _deterministic_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """Rewrite the xlsx with fixed entry times, so the same week gives the same bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>",
                    content,
                )
            dst.writestr(fixed, content)
    return out.getvalue()


def _titled(key: str, week: str, as_of: dt.date) -> Term:
    name, when = term(key), term("week_as_of", week=week, date=as_of)
    return Term(f"{name.km} — {when.km}", f"{name.en} — {when.en}")


def build_workbook(
    data: WeekData, settings: Settings, week: str
) -> tuple[Workbook, list[tuple[str, str, Any]]]:
    """Every sheet, in the order a case lead reads them; returns the summary as shown."""
    t = settings.small_count_threshold
    wb = Workbook()
    readme = wb.active
    readme.title = "Read me"
    _readme(readme, data, settings, week)
    print_ready(readme)

    summary = wb.create_sheet("Summary")
    shown = write_summary(summary, data.figures, data.as_of, settings.grace_days, t)
    print_ready(summary, title_rows="1:1")
    trend = wb.create_sheet("Trend")
    shown += write_trend(trend, data.figures, t)
    print_ready(trend, one_page=True)
    complete = wb.create_sheet("Data completeness")
    write_completeness(complete, data.completeness)
    print_ready(complete)
    # Further summary sheets go here, before the named lists: create the sheet, write it,
    # then print_ready(ws) like the ones above (the population estimate of issue 17).
    add_estimate_sheet(wb, settings, data.as_of)
    print_ready(wb[ESTIMATE_SHEET])

    named = [
        ("Unreferred", _titled("sheet.unreferred", week, data.as_of), data.rows),
        ("New this week", _titled("sheet.new", week, data.as_of), data.new),
    ]
    for name, title, rows in named:
        ws = wb.create_sheet(name)
        write_contact_sheet(ws, title, rows)
        print_ready(ws, title_rows="1:2")
    closed = wb.create_sheet("Closed this week")
    write_closed_sheet(closed, _titled("sheet.closed", week, data.as_of), data.closed)
    print_ready(closed, title_rows="1:2")
    for ws in _province_sheets(wb, data.rows):
        print_ready(ws, title_rows="1:2")
    use_font(wb, FONT_NAME)
    return wb, shown


def report_counts(data: WeekData) -> dict[str, Any]:
    """Counts only (no names): recorded with the report and in the audit log."""
    f = data.figures
    return {
        "men": f.men,
        "returns": f.returns,
        "returns_referred": f.referred,
        "returns_within_grace": f.grace,
        "returns_without_date": f.undated,
        "open_flags": f.flagged,
        "persons_flagged": f.men_flagged,
        "new_this_week": f.opened,
        "closed_this_week": f.closed,
        "priority_1": sum(1 for r in data.rows if r.priority.level == 1),
        "contacts_withheld": sum(1 for r in data.rows if r.details.withheld),
        "possible_duplicates": sum(1 for r in data.rows if r.duplicates),
    }


def _write_csvs(
    settings: Settings, data: Any, shown: Any, out_dir: Path, base: str, password: str | None
) -> list[Path]:
    """The four CSVs: in clear only when report_csv is "plain"; else inside one AES zip when a
    report password is set, or not written at all. The files written."""
    names = [f"{base}_unreferred.csv", f"{base}_new.csv", f"{base}_closed.csv", f"{base}_summary.csv"]
    mode = settings.report_csv
    if mode not in CSV_MODES:
        raise ValueError(f"report_csv must be one of {', '.join(CSV_MODES)}")
    if mode == "none" or (mode == "zip" and not password):
        return []
    folder = out_dir if mode == "plain" else private_dir(out_dir / f".{base}.csv-{os.getpid()}")
    paths = [folder / n for n in names]
    write_contacts_csv(paths[0], data.rows)
    write_contacts_csv(paths[1], data.new)
    write_closed_csv(paths[2], data.closed)
    write_summary_csv(paths[3], shown)
    if mode == "plain":
        return paths
    assert password is not None
    archive = zip_encrypted(out_dir / f"{base}_csv.zip", {p.name: p.read_bytes() for p in paths}, password)
    shutil.rmtree(folder)
    return [archive]


def build_weekly_report(settings: Settings, as_of: dt.date, out_dir: Path) -> WeeklyReport:
    """Write the workbook and CSVs for the week of as_of, and record (and audit) the report."""
    data = gather(settings, as_of)
    week = iso_week(as_of)
    counts = report_counts(data)
    wb, shown = build_workbook(data, settings, week)
    stamp = dt.datetime.combine(as_of, dt.time(7, 0))
    wb.properties.creator = "survivor-link"
    wb.properties.lastModifiedBy = "survivor-link"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.title = f"survivor-link weekly report {week}"
    buf = io.BytesIO()
    wb.save(buf)
    content = _deterministic_zip(buf.getvalue(), stamp)

    private_output(out_dir / "x")
    base = f"survivor-link_weekly_{week}"
    workbook = out_dir / f"{base}.xlsx"
    password = report_password(settings)
    write_private(workbook, encrypt_workbook(content, password) if password else content)
    csvs = _write_csvs(settings, data, shown, out_dir, base, password)
    sha = hashlib.sha256(content).hexdigest()
    report = WeeklyReport(week, as_of, workbook, csvs, sha, counts)
    with session_scope(settings) as s:
        row = Report(
            week=week,
            as_of=as_of,
            generated_by=current_actor(),
            path=str(workbook),
            sha256=sha,
            counts=counts,
            status="built",
        )
        s.add(row)
        s.flush()
        report.report_id = row.id
        audit(s, "report.weekly", week, sha256=sha, **counts)
    return report
