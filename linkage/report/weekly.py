"""The weekly report to MoSVY: who came home and was never referred, and the trend.

Why an Excel workbook built like this: case leads open it in Excel or LibreOffice, filter
it, and phone or visit the men on it. So: headers in Khmer and English, dates as real
dates, a frozen header row with filters, readable widths, nothing that can run as a
formula, and the same bytes for the same week (it is a record of what was sent).
Summaries may leave MoSVY, so small counts in them are suppressed; the named list may not,
and its first sheet says so.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select

from linkage.normalise.places import country_name, place_name, point_of_entry_name
from linkage.referral.flags import (
    band_order,
    close_reason,
    event_status,
    flagged,
    load_event_records,
    source_label,
)
from linkage.report.cells import csv_safe, put
from linkage.report.estimate_sheet import add_estimate_sheet
from linkage.settings import Settings
from linkage.store.db import audit, current_actor, session_scope
from linkage.store.models import PersonRecord, Record, Report

TREND_WEEKS = 12
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)
DATE_FORMAT = "DD/MM/YYYY"

# (key, Khmer, English) for the named lists
PERSON_COLUMNS: list[tuple[str, str, str]] = [
    ("person_id", "លេខសម្គាល់បុគ្គល", "Person ID"),
    ("event_id", "លេខសម្គាល់ការត្រឡប់", "Return ID"),
    ("family_name", "នាមត្រកូល", "Family name"),
    ("given_name", "នាមខ្លួន", "Given name"),
    ("name_kh", "ឈ្មោះ (ខ្មែរ)", "Name in Khmer"),
    ("age", "អាយុ", "Age"),
    ("village", "ភូមិ", "Village"),
    ("commune", "ឃុំ/សង្កាត់", "Commune"),
    ("district", "ស្រុក/ខណ្ឌ", "District"),
    ("province", "ខេត្ត/រាជធានី", "Province"),
    ("phone", "លេខទូរស័ព្ទ", "Phone"),
    ("return_date", "ថ្ងៃត្រឡប់មកវិញ", "Return date"),
    ("days_since_return", "ចំនួនថ្ងៃចាប់តាំងពីត្រឡប់", "Days since return"),
    ("band", "ក្រុមថ្ងៃ", "Days band"),
    ("country", "ប្រទេស", "Country"),
    ("sector", "វិស័យការងារ", "Sector"),
    ("point_of_entry", "ច្រកចូល", "Point of entry"),
    ("lists", "បញ្ជី", "Lists"),
    ("reason", "មូលហេតុ", "Why flagged"),
]
CLOSED_EXTRA = [("closed_reason", "មូលហេតុបិទ", "Why closed")]


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


def suppress(n: int, threshold: int) -> int | str:
    """Counts from 1 to threshold-1 become '<threshold' (zero reveals no one)."""
    return f"<{threshold}" if 0 < n < threshold else n


# -- data ---------------------------------------------------------------------------------


DETAIL_COLUMNS = [
    "person_id",
    "family_name",
    "given_name",
    "name_kh",
    "age",
    "village",
    "commune",
    "district",
    "province",
    "province_code",
    "phone",
    "sector",
]


def _person_details(session, person_ids: set[str], as_of: dt.date) -> pd.DataFrame:
    """What a case worker needs to find each man, picked from his records."""
    if not person_ids:
        return pd.DataFrame(columns=DETAIL_COLUMNS)
    cols = [
        PersonRecord.person_id,
        PersonRecord.event_id,
        Record.source,
        Record.family_name,
        Record.given_name,
        Record.family_name_kh,
        Record.given_name_kh,
        Record.name_kh,
        Record.birth_year,
        Record.age,
        Record.return_date,
        Record.village_code,
        Record.commune_code,
        Record.district_code,
        Record.province_code,
        Record.village_text,
        Record.commune_text,
        Record.phone,
        Record.sector,
        Record.loaded_at,
    ]
    frames = []
    ids = sorted(person_ids)
    for i in range(0, len(ids), 900):
        stmt = (
            select(*cols)
            .join(PersonRecord, PersonRecord.record_id == Record.id)
            .where(PersonRecord.person_id.in_(ids[i : i + 900]))
        )
        frames.append(pd.read_sql(stmt, session.connection()))
    recs = pd.concat(frames, ignore_index=True)
    # Latin names as a list wrote them beat ones we romanised; Khmer from MoSVY or an NGO.
    latin_rank = {"iom": 0, "mosvy": 2}
    recs["latin_rank"] = recs["source"].map(lambda s: latin_rank.get(s, 1))
    recs["kh_rank"] = recs["source"].map(lambda s: 0 if s == "mosvy" else 1)
    recs["loaded_at"] = pd.to_datetime(recs["loaded_at"])
    recs = recs.sort_values(["person_id", "loaded_at"], ascending=[True, False])
    ret_year = pd.to_datetime(recs["return_date"], errors="coerce").dt.year
    recs["year_est"] = recs["birth_year"].fillna(ret_year - recs["age"])

    def first(df: pd.DataFrame, col: str) -> Any:
        vals = df[col].dropna()
        vals = vals[vals.astype(str).str.strip() != ""]
        return vals.iloc[0] if len(vals) else None

    rows = []
    for pid, g in recs.groupby("person_id", sort=False):
        latin = g.sort_values("latin_rank", kind="stable")
        kh = g.sort_values("kh_rank", kind="stable")
        name_kh = first(kh, "name_kh")
        if not name_kh:
            fam, giv = first(kh, "family_name_kh"), first(kh, "given_name_kh")
            name_kh = " ".join(x for x in (fam, giv) if x) or None
        year = first(g, "year_est")
        village, commune = first(g, "village_code"), first(g, "commune_code")
        district, province = first(g, "district_code"), first(g, "province_code")
        rows.append(
            {
                "person_id": pid,
                "family_name": first(latin, "family_name"),
                "given_name": first(latin, "given_name"),
                "name_kh": name_kh,
                "age": int(as_of.year - year) if year else None,
                "village": _place(village) or first(g, "village_text"),
                "commune": _place(commune) or first(g, "commune_text"),
                "district": _place(district),
                "province": _place(province),
                "province_code": province,
                "phone": first(g, "phone"),
                "sector": first(g, "sector"),
            }
        )
    return pd.DataFrame(rows)


def _place(code: Any) -> str | None:
    if not code:
        return None
    en, kh = place_name(str(code))
    if not en and not kh:
        return None
    return f"{kh} / {en}" if kh and en else en or kh


@dataclass
class WeekData:
    as_of: dt.date
    status: pd.DataFrame
    unreferred: pd.DataFrame
    new: pd.DataFrame
    closed: pd.DataFrame
    trend: list[tuple[dt.date, int]]


def gather(settings: Settings, as_of: dt.date) -> WeekData:
    """Everything the report shows, computed as of a date (the week before too)."""
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
        details = _person_details(s, persons, as_of)
    new_ids = set(open_now["event_id"]) - set(open_before["event_id"])
    closed_ids = set(open_before["event_id"]) - set(open_now["event_id"])
    by_event_now = now.set_index("event_id")

    def named(df: pd.DataFrame) -> pd.DataFrame:
        out = df.merge(details, on="person_id", how="left")
        return out.sort_values(["days_since_return", "event_id"], ascending=[False, True], ignore_index=True)

    unreferred = named(open_now)
    new = unreferred[unreferred["event_id"].isin(new_ids)].reset_index(drop=True)
    closed = named(open_before[open_before["event_id"].isin(closed_ids)])
    closed["closed_reason"] = [
        close_reason(by_event_now.loc[e] if e in by_event_now.index else None) for e in closed["event_id"]
    ]
    return WeekData(as_of, now, unreferred, new, closed, trend)


# -- workbook -----------------------------------------------------------------------------


def _header(ws: Worksheet, row: int, columns: list[tuple[str, str, str]]) -> None:
    for j, (_key, kh, en) in enumerate(columns, start=1):
        c = put(ws.cell(row, j), f"{kh}\n{en}")
        c.font = BOLD
        c.fill = HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[row].height = 36


def _value(key: str, value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if key == "return_date":
        return pd.Timestamp(value).date()
    if key in {"age", "days_since_return"}:
        return int(value)
    if key == "country":
        return country_name(str(value))
    if key == "point_of_entry":
        return point_of_entry_name(str(value))
    return value


def _table_sheet(ws: Worksheet, columns: list[tuple[str, str, str]], df: pd.DataFrame) -> None:
    _header(ws, 1, columns)
    widths = [max(len(en), len(kh) * 1.3) for _k, kh, en in columns]
    for i, row in enumerate(df.itertuples(index=False), start=2):
        values = row._asdict()
        for j, (key, _kh, _en) in enumerate(columns, start=1):
            v = _value(key, values.get(key))
            c = put(ws.cell(i, j), v)
            if isinstance(v, dt.date):
                c.number_format = DATE_FORMAT
            if v is not None:
                widths[j - 1] = max(widths[j - 1], min(len(str(v)) * (1.3 if _khmer(v) else 1.0), 60))
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(max(w + 2, 10), 62)
    ws.freeze_panes = "A2"
    last = get_column_letter(len(columns))
    ws.auto_filter.ref = f"A1:{last}{max(len(df) + 1, 1)}"


def _khmer(v: Any) -> bool:
    return isinstance(v, str) and any("\u1780" <= ch <= "\u17ff" for ch in v)


def _count_table(
    ws: Worksheet, top: int, title: tuple[str, str], rows: list[tuple[str, int]], threshold: int
) -> int:
    put(ws.cell(top, 1), f"{title[0]} / {title[1]}").font = BOLD
    for j, text in enumerate(("ក្រុម / Group", "ទង់ជាតិបើក / Open flags"), start=1):
        c = put(ws.cell(top + 1, j), text)
        c.font = BOLD
        c.fill = HEADER_FILL
    r = top + 2
    for label, n in rows:
        put(ws.cell(r, 1), label)
        put(ws.cell(r, 2), suppress(n, threshold))
        r += 1
    return r + 1


def summary_tables(data: WeekData, settings: Settings) -> dict[str, list[tuple[str, int]]]:
    """Counts of open flags by province, list and days band (before suppression)."""
    f = data.unreferred
    by_province = (
        f.assign(province=f["province"].fillna("unknown / មិនស្គាល់"))
        .groupby("province")
        .size()
        .sort_values(ascending=False)
    )
    by_list: dict[str, int] = {}
    for sources in flagged(data.status)["sources"]:
        for src in sources:
            by_list[source_label(src)] = by_list.get(source_label(src), 0) + 1
    bands = flagged(data.status)["band"].value_counts()
    return {
        "province": [(str(k), int(v)) for k, v in by_province.items()],
        "list": sorted(by_list.items(), key=lambda kv: (-kv[1], kv[0])),
        "band": [(b, int(bands.get(b, 0))) for b in band_order(settings.grace_days)],
    }


def _readme(ws: Worksheet, data: WeekData, settings: Settings, week: str) -> None:
    lines = [
        ("សម្រាប់តែក្រសួងសង្គមកិច្ចប៉ុណ្ណោះ។ ឯកសារនេះមានឈ្មោះជនរងគ្រោះ។ សូមកុំចែករំលែកបន្ត។", True),
        ("FOR MoSVY ONLY. This workbook names survivors. Do not forward it outside MoSVY.", True),
        ("", False),
        (f"Weekly report of unreferred survivors, week {week}, as of {data.as_of:%d/%m/%Y}", True),
        (
            f"A return is flagged when no list shows a referral to long-term case management "
            f"{settings.grace_days} days after it (IOM 'referred to', or an NGO case that is "
            "Active, Follow-up or Closed-Referred). An NGO case closed without referral does not "
            "count, and the reason says so.",
            False,
        ),
        (
            "Sheets: Summary (counts, suppressed below the threshold, safe to share); "
            "Unreferred (the named list);",
            False,
        ),
        ("New this week; Closed this week (with why).", False),
        (
            f"Counts from 1 to {settings.small_count_threshold - 1} in the Summary are shown as "
            f"<{settings.small_count_threshold}.",
            False,
        ),
        (
            "Cells that begin with = + - or @ are text, never formulas. In the CSV files such "
            "cells start with an apostrophe (').",
            False,
        ),
    ]
    for i, (text, bold) in enumerate(lines, start=1):
        c = put(ws.cell(i, 1), text)
        if bold:
            c.font = Font(bold=True, color="C00000" if i <= 2 else "000000")
        c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 120


def _summary(ws: Worksheet, data: WeekData, settings: Settings, tables: dict, counts: dict) -> None:
    t = settings.small_count_threshold
    put(ws.cell(1, 1), f"សង្ខេប / Summary as of {data.as_of:%d/%m/%Y}").font = Font(bold=True, size=13)
    kpis = [
        ("ការត្រឡប់សរុប / Returns on record", counts["returns"]),
        ("បានបញ្ជូន / Referred to case management", counts["returns_referred"]),
        ("ទង់ជាតិបើក / Open flags (unreferred past the grace period)", counts["open_flags"]),
        ("បើកសប្តាហ៍នេះ / Opened this week", counts["new_this_week"]),
        ("បិទសប្តាហ៍នេះ / Closed this week", counts["closed_this_week"]),
    ]
    for i, (label, n) in enumerate(kpis, start=3):
        put(ws.cell(i, 1), label)
        put(ws.cell(i, 2), suppress(n, t))
    row = 3 + len(kpis) + 1
    row = _count_table(ws, row, ("តាមខេត្ត", "By province"), tables["province"], t)
    row = _count_table(ws, row, ("តាមបញ្ជី", "By list"), tables["list"], t)
    row = _count_table(ws, row, ("តាមចំនួនថ្ងៃ", "By days since return"), tables["band"], t)
    # trend, with a chart
    put(ws.cell(row, 1), "និន្នាការ ១២ សប្តាហ៍ / 12-week trend of open flags").font = BOLD
    put(ws.cell(row + 1, 1), "សប្តាហ៍ / Week ending").font = BOLD
    put(ws.cell(row + 1, 2), "ទង់ជាតិបើក / Open flags").font = BOLD
    first = row + 2
    for i, (day, n) in enumerate(data.trend):
        c = ws.cell(first + i, 1, day)
        c.number_format = DATE_FORMAT
        shown = suppress(n, t)
        put(ws.cell(first + i, 2), shown if isinstance(shown, str) else n)
    last = first + len(data.trend) - 1
    chart = LineChart()
    chart.title = "Open flags, last 12 weeks"
    chart.y_axis.title = "open flags"
    chart.x_axis.title = "week ending"
    chart.x_axis.number_format = "dd/mm"
    chart.add_data(Reference(ws, min_col=2, min_row=first - 1, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    chart.height, chart.width = 8, 18
    ws.add_chart(chart, "D3")
    ws.column_dimensions["A"].width = 58
    ws.column_dimensions["B"].width = 16


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


def _write_csv(path: Path, columns: list[tuple[str, str, str]], df: pd.DataFrame) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([f"{kh} / {en}" for _k, kh, en in columns])
        for row in df.itertuples(index=False):
            values = row._asdict()
            out = []
            for key, _kh, _en in columns:
                v = _value(key, values.get(key))
                out.append("" if v is None else csv_safe(v.isoformat() if isinstance(v, dt.date) else v))
            w.writerow(out)


def build_weekly_report(settings: Settings, as_of: dt.date, out_dir: Path) -> WeeklyReport:
    """Write the workbook and CSVs for the week of as_of, and record the report."""
    data = gather(settings, as_of)
    week = iso_week(as_of)
    tables = summary_tables(data, settings)
    counts = {
        "returns": int(len(data.status)),
        "returns_referred": int(data.status["referred"].sum()),
        "open_flags": int(len(data.unreferred)),
        "new_this_week": int(len(data.new)),
        "closed_this_week": int(len(data.closed)),
        "persons_flagged": int(data.unreferred["person_id"].nunique()) if len(data.unreferred) else 0,
    }
    wb = Workbook()
    readme = wb.active
    readme.title = "Read me"
    _readme(readme, data, settings, week)
    _summary(wb.create_sheet("Summary"), data, settings, tables, counts)
    _table_sheet(wb.create_sheet("Unreferred"), PERSON_COLUMNS, data.unreferred)
    _table_sheet(wb.create_sheet("New this week"), PERSON_COLUMNS, data.new)
    _table_sheet(wb.create_sheet("Closed this week"), PERSON_COLUMNS + CLOSED_EXTRA, data.closed)
    add_estimate_sheet(wb, settings, as_of)
    stamp = dt.datetime.combine(as_of, dt.time(7, 0))
    wb.properties.creator = "survivor-link"
    wb.properties.lastModifiedBy = "survivor-link"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.title = f"survivor-link weekly report {week}"
    buf = io.BytesIO()
    wb.save(buf)
    content = _deterministic_zip(buf.getvalue(), stamp)

    out_dir.mkdir(parents=True, exist_ok=True)
    base = f"survivor-link_weekly_{week}"
    workbook = out_dir / f"{base}.xlsx"
    workbook.write_bytes(content)
    csvs = [
        out_dir / f"{base}_unreferred.csv",
        out_dir / f"{base}_new.csv",
        out_dir / f"{base}_closed.csv",
        out_dir / f"{base}_summary.csv",
    ]
    _write_csv(csvs[0], PERSON_COLUMNS, data.unreferred)
    _write_csv(csvs[1], PERSON_COLUMNS, data.new)
    _write_csv(csvs[2], PERSON_COLUMNS + CLOSED_EXTRA, data.closed)
    with csvs[3].open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["table", "group", "open flags"])
        t = settings.small_count_threshold
        for name, rows in tables.items():
            for label, n in rows:
                w.writerow([name, csv_safe(label), suppress(n, t)])
        for day, n in data.trend:
            w.writerow(["trend", day.isoformat(), suppress(n, t)])
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
