"""The named lists as sheets a DoSVY office can print: the contact-sheet layout.

Why this layout: a field officer goes down the printed list with a pen. Each row is one
return, in priority order, with everything needed to find the man in a few wrapped cells,
and four empty columns to write in (assigned to, contacted on, outcome, referred to).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from linkage.normalise.places import country_name
from linkage.report.cells import put
from linkage.report.contacts import ContactRow, list_term
from linkage.report.details import PersonDetails
from linkage.report.glossary import Term, both, has, term

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
URGENT_FILL = PatternFill("solid", fgColor="FCE4D6")
WITHHELD_FILL = PatternFill("solid", fgColor="EDEDED")
THIN = Side(style="thin", color="808080")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FONT_NAME = "Arial"  # Khmer text falls back to the Khmer OS or Khmer UI fonts
CELL_FONT = Font(name=FONT_NAME, size=9)
HEADER_FONT = Font(name=FONT_NAME, size=9, bold=True)
TITLE_FONT = Font(name=FONT_NAME, size=12, bold=True)
DATE_FORMAT = "DD/MM/YYYY"
# Measured in LibreOffice's PDF at 9 points: a line takes 10.5 points; a column of width w
# holds about 1.4 w Latin characters or 1.55 w Khmer code points (vowels and subscripts
# stack). Kept a little on the tall side: text that does not fit is cut off on paper.
LINE_POINTS = 11
LATIN_PER_WIDTH = 1.3
KHMER_PER_WIDTH = 1.4
MIN_ROW_LINES = 3  # room to write by hand

# (key, glossary key, width in characters)
CONTACT_COLUMNS: list[tuple[str, str, float]] = [
    ("no", "col.no", 3.5),
    ("priority", "col.priority", 6),
    ("person", "col.person", 17),
    ("identity", "col.identity", 15),
    ("phones", "col.phones", 11),
    ("address", "col.address", 17),
    ("returned_from", "col.returned_from", 9.5),
    ("return_date", "col.return_date", 9.5),
    ("days", "col.days", 5.5),
    ("records", "col.records", 16),
    ("why", "col.why", 24),
    ("assigned_to", "col.assigned_to", 9),
    ("contacted_on", "col.contacted_on", 8.5),
    ("outcome", "col.outcome", 10),
    ("referred_to", "col.referred_to", 9),
]
CLOSED_COLUMNS: list[tuple[str, str, float]] = [
    ("no", "col.no", 4),
    ("person", "col.person", 24),
    ("return_date", "col.return_date", 11),
    ("days", "col.days", 7),
    ("records", "col.records", 26),
    ("closed_reason", "col.closed_reason", 60),
]


def _lines(*parts: str | None) -> str:
    return "\n".join(p for p in parts if p)


def person_cell(d: PersonDetails) -> str:
    latin = " ".join(x for x in (d.family_name, d.given_name) if x)
    return _lines(latin, d.name_kh, d.person_id)


def identity_cell(r: ContactRow) -> str:
    d = r.details
    born = f"{d.birth_date:%d/%m/%Y}" if d.birth_date else str(d.birth_year) if d.birth_year else None
    age = None
    if r.age_now is not None:
        age = term("cell.age", age=r.age_now).both(" / ")
        if r.age_at_return is not None and r.age_at_return < 18 <= r.age_now:
            age += "; " + term("cell.age_at_return", age=r.age_at_return).both(" / ")
    father = f"{term('cell.father').both(' / ')}: {d.father}" if d.father else None
    ids = [f"{term('cell.id_card').both('/')} {x}" for x in d.national_ids]
    docs = [f"{term('cell.travel_doc').both('/')} {x}" for x in d.travel_docs]
    return _lines(born, age, father, *ids, *docs)


def phones_cell(r: ContactRow) -> str:
    d = r.details
    if d.withheld:
        ask = term("cell.ask_list", lists=", ".join(list_term(s).en for s in d.holders))
        return _lines(term("cell.withheld").both(" / "), ask.km, ask.en)
    return _lines(*d.phones)


def _place_line(d: PersonDetails, khmer: bool) -> str:
    i = 0 if khmer else 1
    capital = (d.province_code or "") == "12"
    prefixes = ("សង្កាត់", "ខណ្ឌ", "") if capital else ("ឃុំ", "ស្រុក", "ខេត្ត")
    parts = []
    for place, prefix in (
        (d.village, "ភូមិ"),
        (d.commune, prefixes[0]),
        (d.district, prefixes[1]),
        (d.province, prefixes[2]),
    ):
        if not place:
            continue
        name = place[i]
        if khmer and prefix and not name.startswith(("ខេត្ត", "រាជធានី", prefix)):
            name = prefix + name
        parts.append(name)
    return (" " if khmer else ", ").join(parts)


def address_cell(r: ContactRow) -> str:
    d = r.details
    note = term("cell.withheld").both(" / ") if d.withheld else None
    return _lines(_place_line(d, True), _place_line(d, False), note)


def returned_from_cell(r: ContactRow) -> str:
    """Country and sector of work (the point of entry is in the CSV)."""
    lines = []
    if r.country:
        lines.append(country_name(r.country).replace(" / ", "\n"))
    sector = (r.details.sector or "").strip().lower()
    if sector:
        key = f"sector.{sector}"
        lines.append(both(key) if has(key) else sector)
    return _lines(*lines)


def records_cell(r: ContactRow) -> str:
    lines = []
    for rec in r.records:
        label = list_term(rec.source).en
        if rec.source == "mosvy":
            row = term("cell.mosvy_row", row=rec.source_record_id).both(" / ")
            lines.append(f"{label} {row} ({rec.file})")
        else:
            manager = f" · {rec.case_manager}" if rec.case_manager else ""
            lines.append(f"{label} {rec.source_record_id}{manager}")
    return _lines(*lines)


def why_terms(r: ContactRow, with_lists: bool = True) -> list[Term]:
    """Priority and why, as sentences. On paper the lists are left out: the record
    numbers beside it already name every list he is on."""
    level = term(f"priority.{r.priority.level}")
    because = [term(k) for k in r.priority.because]
    head = Term(
        level.km + ("៖ " + ", ".join(t.km for t in because) if because else ""),
        level.en + (": " + ", ".join(t.en for t in because) if because else ""),
    )
    out = [head, *(r.reasons if with_lists else r.reasons[1:])]
    if r.details.withheld:
        out.append(term("cell.consent_withheld"))
    elif not r.details.consent:
        out.append(term("cell.consent_shown"))
    return out


def why_cell(r: ContactRow) -> str:
    terms = why_terms(r, with_lists=False)
    return "; ".join(t.km for t in terms) + "\n" + "; ".join(t.en for t in terms)


CELL_BUILDERS: dict[str, Callable[[ContactRow], Any]] = {
    "priority": lambda r: r.priority.level,
    "person": lambda r: person_cell(r.details),
    "identity": identity_cell,
    "phones": phones_cell,
    "address": address_cell,
    "returned_from": returned_from_cell,
    "return_date": lambda r: r.return_date,
    "days": lambda r: r.days_since_return,
    "records": records_cell,
    "why": why_cell,
}


def line_count(text: Any, width: float) -> int:
    """Wrapped lines a cell needs at 9 points, erring on the tall side (clipped text is lost)."""
    if not isinstance(text, str) or not text:
        return 1
    n = 0
    usable = max(width - 0.7, 1)  # less the cell's padding
    for line in text.split("\n"):
        khmer = sum(1 for c in line if "\u1780" <= c <= "\u17ff")
        size = (len(line) - khmer) / LATIN_PER_WIDTH + khmer / KHMER_PER_WIDTH
        n += max(1, math.ceil(size / usable))
    return n


def _header(ws: Worksheet, row: int, columns: list[tuple[str, str, float]]) -> None:
    for j, (_key, gkey, width) in enumerate(columns, start=1):
        c = put(ws.cell(row, j), both(gkey))
        c.font, c.fill, c.border = HEADER_FONT, HEADER_FILL, GRID
        c.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(j)].width = width
    lines = max(line_count(both(g), w) for _k, g, w in columns)
    ws.row_dimensions[row].height = lines * LINE_POINTS + 3


def _title(ws: Worksheet, text: Term, columns: int) -> None:
    c = put(ws.cell(1, 1), f"{text.km}  /  {text.en}")
    c.font = TITLE_FONT
    c.alignment = Alignment(vertical="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    ws.row_dimensions[1].height = 22


def _none_line(ws: Worksheet, columns: int) -> None:
    """Say so under the header when a list is empty: a bare header reads as a broken report."""
    c = put(ws.cell(3, 1), both("cell.no_case", " / "))
    c.font = Font(name=FONT_NAME, size=9, italic=True)
    ws.merge_cells(start_row=3, start_column=1, end_row=3, end_column=columns)
    ws.row_dimensions[3].height = LINE_POINTS * 2


def write_rows(
    ws: Worksheet,
    title: Term,
    rows: list[Any],
    columns: list[tuple[str, str, float]],
    builders: dict[str, Callable[[Any], Any]],
    shade: Callable[[Any], PatternFill | None] = lambda r: None,
) -> None:
    """Title in row 1, bilingual header in row 2 (both repeat on every printed page), then rows."""
    _title(ws, title, len(columns))
    _header(ws, 2, columns)
    for i, r in enumerate(rows, start=3):
        lines = 1
        fill = shade(r)
        for j, (key, _g, width) in enumerate(columns, start=1):
            v = i - 2 if key == "no" else builders[key](r) if key in builders else None
            c = put(ws.cell(i, j), v)
            c.font, c.border = CELL_FONT, GRID
            c.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(v, dt.date):
                c.number_format = DATE_FORMAT
            if fill is not None:
                c.fill = fill
            lines = max(lines, line_count(v, width))
        ws.row_dimensions[i].height = max(lines, MIN_ROW_LINES) * LINE_POINTS + 3
    if not rows:
        _none_line(ws, len(columns))
    ws.freeze_panes = "A3"
    ws.auto_filter.ref = f"A2:{get_column_letter(len(columns))}{max(len(rows) + 2, 2)}"


def _shade(r: ContactRow) -> PatternFill | None:
    if r.details.withheld:
        return WITHHELD_FILL
    return URGENT_FILL if r.priority.level == 1 else None


def write_contact_sheet(ws: Worksheet, title: Term, rows: list[ContactRow]) -> None:
    write_rows(ws, title, rows, CONTACT_COLUMNS, CELL_BUILDERS, _shade)


def write_closed_sheet(ws: Worksheet, title: Term, rows: list[tuple[ContactRow, Term]]) -> None:
    builders: dict[str, Callable[[Any], Any]] = {
        "person": lambda x: person_cell(x[0].details),
        "return_date": lambda x: x[0].return_date,
        "days": lambda x: x[0].days_since_return,
        "records": lambda x: records_cell(x[0]),
        "closed_reason": lambda x: x[1].both(),
    }
    write_rows(ws, title, rows, CLOSED_COLUMNS, builders)
