"""The Summary and Trend sheets: counts that add up, with small counts hidden safely.

Why these figures: a case lead first checks that nothing fell through (returns = referred +
open flags + still inside the grace period + return date unknown), then where referral
lags (referral rate by province), then what to do first (open flags by days and priority).
Summaries may leave MoSVY, so counts pass through `suppression` (complementary, exact).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from linkage.report.cells import put
from linkage.report.contact_sheet import LINE_POINTS, line_count
from linkage.report.contacts import ContactRow, list_term
from linkage.report.glossary import Term, both, term
from linkage.report.suppression import HIDDEN, is_small, protect, shown, shown_flows, total_shown

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)
DATE_FORMAT = "DD/MM/YYYY"
# Summary columns A-G: Khmer label, English label, then the counts.
WIDTHS = (44, 40, 15, 15, 15, 12, 15)
FONT_POINTS = 11  # the sheet's cells keep the default size
BOLD_WIDER = 1.1  # bold letters are about a tenth wider


@dataclass
class SummaryFigures:
    """Exact counts before suppression (also what the report table records)."""

    men: int
    returns: int
    referred: int
    flagged: int
    grace: int
    undated: int
    men_flagged: int
    opened: int
    closed: int
    open_before: int
    by_province: list[tuple[Term, int, int, int, int]] = field(
        default_factory=list
    )  # men, returns, referred, flags
    by_list: list[tuple[Term, int]] = field(default_factory=list)
    by_band: list[tuple[Term, int]] = field(default_factory=list)
    by_priority: list[tuple[Term, int]] = field(default_factory=list)
    trend: list[tuple[dt.date, int]] = field(default_factory=list)


def band_term(band: str, grace_days: int) -> Term:
    if band.endswith("-90"):
        return term("band.recent", first=grace_days + 1)
    return term(f"band.{band}")


def figures(
    status: pd.DataFrame,
    person_province: dict[str, tuple[str, str] | None],
    rows: list[ContactRow],
    opened: int,
    closed: int,
    open_before: int,
    trend: list[tuple[dt.date, int]],
    bands: list[str],
    grace_days: int,
) -> SummaryFigures:
    """Every count of the summary, from the return statuses of this week."""
    known = status["return_date"].notna()
    referred = status["referred"].astype(bool)
    flagged = status["flagged"].astype(bool)
    grace = ~referred & ~flagged & known
    undated = ~referred & ~flagged & ~known
    prov = status["person_id"].map(lambda p: person_province.get(p))
    unknown = term("cell.unknown")
    by_province = []
    keyed = status.assign(province=prov.map(lambda p: p if p else (unknown.km, unknown.en)))
    for place, g in sorted(
        keyed.groupby("province"), key=lambda kv: (kv[0] == (unknown.km, unknown.en), kv[0][1])
    ):
        by_province.append(
            (
                Term(place[0], place[1]),
                int(g["person_id"].nunique()),
                int(len(g)),
                int(g["referred"].sum()),
                int(g["flagged"].sum()),
            )
        )
    lists: dict[str, int] = {}
    for sources in status.loc[flagged, "sources"]:
        for src in sources:
            lists[src] = lists.get(src, 0) + 1
    band_counts = status.loc[flagged, "band"].value_counts()
    levels = pd.Series([r.priority.level for r in rows]).value_counts() if rows else pd.Series(dtype=int)
    return SummaryFigures(
        men=int(status["person_id"].nunique()),
        returns=int(len(status)),
        referred=int(referred.sum()),
        flagged=int(flagged.sum()),
        grace=int(grace.sum()),
        undated=int(undated.sum()),
        men_flagged=int(status.loc[flagged, "person_id"].nunique()),
        opened=opened,
        closed=closed,
        open_before=open_before,
        by_province=by_province,
        by_list=[(list_term(s), n) for s, n in sorted(lists.items(), key=lambda kv: (-kv[1], kv[0]))],
        by_band=[(band_term(b, grace_days), int(band_counts.get(b, 0))) for b in bands],
        by_priority=[(term(f"priority.{k}"), int(levels.get(k, 0))) for k in (1, 2, 3)],
        trend=trend,
    )


def rate(referred: int | str, returns: int | str) -> float | str:
    if referred == HIDDEN or returns == HIDDEN or not returns:
        return HIDDEN if returns else ""
    return float(referred) / float(returns)


def _label(ws: Worksheet, row: int, t: Term, bold: bool = False, indent: int = 0) -> None:
    for col, text in ((1, t.km), (2, t.en)):
        c = put(ws.cell(row, col), text)
        c.alignment = Alignment(wrap_text=True, vertical="top", indent=indent)
        if bold:
            c.font = BOLD


def header_height(texts: list[str], widths: tuple[float, ...], points: float = FONT_POINTS) -> float:
    """Row height that shows every wrapped line of bold header text of this size.

    Why: a fixed height cut the bilingual headers on paper ("Men who came home" vanished).
    contact_sheet.line_count is measured at 9 points; larger text fits fewer characters.
    """
    scale = points / 9
    pairs = zip(texts, widths, strict=False)  # a short table uses the first columns only
    lines = max(line_count(text, width / scale / BOLD_WIDER) for text, width in pairs)
    return lines * LINE_POINTS * scale + 4


def _head(ws: Worksheet, row: int, cells: list[Term]) -> None:
    texts = [t.both() if j > 2 else (t.km if j == 1 else t.en) for j, t in enumerate(cells, start=1)]
    for j, text in enumerate(texts, start=1):
        c = put(ws.cell(row, j), text)
        c.font, c.fill = BOLD, HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[row].height = header_height(texts, WIDTHS)


def _put_count(ws: Worksheet, row: int, col: int, value: int | str | float, percent: bool = False) -> None:
    c = put(ws.cell(row, col), value)
    c.alignment = Alignment(horizontal="right")
    if percent and isinstance(value, float):
        c.number_format = "0%"


def _one_way(
    ws: Worksheet, row: int, title: Term, items: list[tuple[Term, int]], t: int, total: bool, out: list
) -> int:
    _label(ws, row, title, bold=True)
    ws.row_dimensions[row].height = 30
    _head(ws, row + 1, [term("summary.group"), term("summary.group"), term("summary.open_flags")])
    values = shown([n for _l, n in items], t, with_total=total)
    r = row + 2
    for (label, _n), v in zip(items, values, strict=True):
        _label(ws, r, label, indent=1)
        _put_count(ws, r, 3, v)
        out.append((title.en, label.en, v))
        r += 1
    if total:
        _label(ws, r, term("cell.total"), bold=True)
        _put_count(ws, r, 3, total_shown([n for _l, n in items], t))
        out.append((title.en, "Total", total_shown([n for _l, n in items], t)))
        r += 1
    return r + 1


def write_summary(
    ws: Worksheet, f: SummaryFigures, as_of: dt.date, grace_days: int, t: int
) -> list[tuple[str, str, int | str | float]]:
    """The Summary sheet: headline counts that add up, then the breakdowns; returns what it shows."""
    out: list[tuple[str, str, int | str | float]] = []
    r = _headline(ws, f, as_of, grace_days, t, out)
    r = _by_province(ws, r, f, t, out)
    r = _one_way(ws, r, term("summary.by_band"), f.by_band, t, total=True, out=out)
    r = _one_way(ws, r, term("summary.by_priority"), f.by_priority, t, total=True, out=out)
    r = _one_way(ws, r, term("summary.by_list"), f.by_list, t, total=False, out=out)
    _label(ws, r, term("summary.hidden", t=t))
    for col in (1, 2):
        ws.cell(r, col).font = Font(italic=True, size=9)
    for col, width in zip("ABCDEFG", WIDTHS, strict=True):
        ws.column_dimensions[col].width = width
    return out


def _headline(ws: Worksheet, f: SummaryFigures, as_of: dt.date, grace_days: int, t: int, out: list) -> int:
    """The title and the counts that add up (returns = referred + flagged + grace + undated);
    the next free row."""
    c = put(ws.cell(1, 1), both("summary.title", "  /  ", date=as_of))
    c.font = Font(bold=True, size=13)
    ws.merge_cells("A1:G1")
    parts = shown([f.referred, f.flagged, f.grace, f.undated], t)
    opened, closed, _before = shown_flows(f.opened, f.closed, f.open_before, t)
    lines: list[tuple[Term, int | str, bool, int]] = [
        (term("summary.men"), HIDDEN if is_small(f.men, t) else f.men, True, 0),
        (term("summary.returns"), total_shown([f.referred, f.flagged, f.grace, f.undated], t), True, 0),
        (term("summary.referred"), parts[0], False, 2),
        (term("summary.flagged", days=grace_days), parts[1], False, 2),
        (term("summary.grace", days=grace_days), parts[2], False, 2),
        (term("summary.undated"), parts[3], False, 2),
        (term("summary.men_flagged"), HIDDEN if is_small(f.men_flagged, t) else f.men_flagged, True, 0),
        (term("summary.opened"), opened, False, 0),
        (term("summary.closed"), closed, False, 0),
    ]
    r = 3
    for label, value, bold, indent in lines:
        _label(ws, r, label, bold=bold, indent=indent)
        _put_count(ws, r, 3, value)
        out.append(("Summary", label.en, value))
        r += 1
    _label(ws, r, term("summary.adds_up", days=grace_days))
    for col in (1, 2):
        ws.cell(r, col).font = Font(italic=True, size=9)
    return r + 2


def _by_province(ws: Worksheet, r: int, f: SummaryFigures, t: int, out: list) -> int:
    """Referral rate by province: each column's hidden counts are protected against its total;
    the next free row."""
    _label(ws, r, term("summary.by_province"), bold=True)
    heads = [
        term("summary.province"),
        term("summary.province"),
        term("summary.men"),
        term("summary.returns"),
        term("summary.referred"),
        term("summary.rate"),
        term("summary.open_flags"),
    ]
    _head(ws, r + 1, heads)
    cols = (
        list(zip(*[(m, n, k, o) for _p, m, n, k, o in f.by_province], strict=True)) if f.by_province else []
    )
    masks = [protect(list(col), t) for col in cols]
    r += 2
    for i, (place, *counts) in enumerate(f.by_province):
        values = [HIDDEN if masks[j][i] else counts[j] for j in range(4)]
        if is_small(counts[1], t):  # a rate over fewer than t returns tells too much
            values[2] = HIDDEN
        _label(ws, r, place, indent=1)
        for j, col in ((0, 3), (1, 4), (2, 5), (3, 7)):
            _put_count(ws, r, col, values[j])
        _put_count(ws, r, 6, rate(values[2], values[1]), percent=True)
        for name, v in zip(("men", "returns", "referred", "open flags"), values, strict=True):
            out.append(("Referral rate by province", f"{place.en}: {name}", v))
        r += 1
    if f.by_province:
        totals = [sum(col) for col in cols]
        _label(ws, r, term("cell.total"), bold=True)
        for j, col in ((0, 3), (1, 4), (2, 5), (3, 7)):
            _put_count(ws, r, col, total_shown(list(cols[j]), t))
        _put_count(ws, r, 6, rate(totals[2], totals[1]), percent=True)
        for j, name in enumerate(("men", "returns", "referred", "open flags")):
            out.append(("Referral rate by province", f"Total: {name}", total_shown(list(cols[j]), t)))
        r += 1
    return r + 1


def write_trend(ws: Worksheet, f: SummaryFigures, t: int) -> list[tuple[str, str, int | str]]:
    """The 12-week trend as a table and a chart, on one page of its own; returns what it shows."""
    out: list[tuple[str, str, int | str]] = []
    title = term("trend.title")
    put(ws.cell(1, 1), title.both("  /  ")).font = Font(bold=True, size=13)
    for j, key in ((1, "trend.week"), (2, "summary.open_flags")):
        c = put(ws.cell(2, j), both(key, " / "))
        c.font, c.fill = BOLD, HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="top")
    _o, _c, before = shown_flows(f.opened, f.closed, f.open_before, t)
    for i, (day, n) in enumerate(f.trend):
        c = ws.cell(3 + i, 1, day)
        c.number_format = DATE_FORMAT
        hidden = is_small(n, t) or (i == len(f.trend) - 2 and before == HIDDEN)
        # a hidden week is left blank, so that the chart shows a gap rather than a fall to zero
        _put_count(ws, 3 + i, 2, None if hidden else n)
        out.append(("trend", day.isoformat(), HIDDEN if hidden else n))
    last = 2 + len(f.trend)
    note = term("trend.blank")
    c = put(ws.cell(last + 2, 1), f"{note.km}\n{note.en}")
    c.alignment = Alignment(wrap_text=True, vertical="top")
    c.font = Font(italic=True, size=9)
    ws.merge_cells(start_row=last + 2, start_column=1, end_row=last + 2, end_column=2)
    ws.row_dimensions[last + 2].height = 60
    chart = LineChart()
    chart.title = title.both("\n")
    chart.y_axis.title = term("summary.open_flags").both(" / ")
    chart.x_axis.title = term("trend.week").both(" / ")
    chart.x_axis.number_format = "dd/mm"
    chart.legend = None
    chart.add_data(Reference(ws, min_col=2, min_row=2, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=3, max_row=last))
    for series in chart.series:
        series.smooth = False
    chart.height, chart.width = 11, 20
    ws.add_chart(chart, "D2")
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 22
    ws.row_dimensions[2].height = 30
    return out
