"""The weekly report's sheet on men who came home and are on no list (multiple systems estimation).

Why a sheet of its own, in its own module: the figure answers a different question from the
flags (how many returns no list holds, not who is unreferred), it carries its own caveats,
and the weekly report only calls `add_estimate_sheet`. It names nobody: counts per year,
with counts below the report's threshold suppressed as elsewhere in the Summary.
"""

from __future__ import annotations

import datetime as dt

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill

from linkage.estimate.estimate import ASSUMPTIONS, ASSUMPTIONS_KH, Estimate
from linkage.estimate.store import estimate_store
from linkage.report.cells import put
from linkage.report.summary import header_height
from linkage.settings import Settings

SHEET = "Estimate"
# enough for a stable BCa interval on tables of a few lists, and a report built in seconds
REPORT_RESAMPLES = 100
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
COLUMNS = [
    ("ឆ្នាំត្រឡប់", "Return year"),
    ("ការត្រឡប់ក្នុងបញ្ជី", "Returns listed"),
    ("ប៉ាន់ស្មានសរុប", "Estimated in all"),
    ("ទាបបំផុត ៩៥%", "Lower (95%, with linkage error)"),
    ("ខ្ពស់បំផុត ៩៥%", "Upper (95%, with linkage error)"),
    ("ប៉ាន់ស្មានមិនមានក្នុងបញ្ជី", "Estimated on no list"),
    ("បើគូរង់ចាំពិនិត្យ ជា/មិនជា តំណ", "If review pairs are links / not links"),
    ("បញ្ជី", "Lists used"),
    ("គំរូ", "Model"),
    ("កំណត់សម្គាល់", "Note"),
]
CAVEATS = [
    (
        "លេខទាំងនេះជាការប៉ាន់ស្មាន មិនមែនជាការរាប់ទេ។ ចន្លោះ ៩៥% បង្ហាញពីភាពមិនច្បាស់លាស់។",
        "These are estimates, not counts. The 95% interval shows how uncertain each one is: it allows "
        "for chance (the returns, those on no list included, are drawn again and the model chosen "
        "again each time) and for linkage errors (see the next line).",
    ),
    (
        "កំហុសក្នុងការភ្ជាប់កំណត់ត្រាផ្លាស់ប្តូរការប៉ាន់ស្មាន។",
        "Linkage errors move the estimate: a missed link counts one man twice and pushes it up, a false "
        "link pushes it down. The estimate is corrected for the missed links the review pairs may be: "
        "each pair still waiting for review is taken as the same man as often as its chance says, and "
        "the estimates averaged. The column 'If review pairs are links / not links' gives the estimate "
        "with every such pair taken as the same man, and as two men; the interval also reaches that "
        "far. Deciding the review pairs narrows it.",
    ),
    (ASSUMPTIONS_KH, ASSUMPTIONS),
    (
        "ឆ្នាំចុងក្រោយមិនទាន់ពេញលេញ៖ បញ្ជីខ្លះមកដល់យឺត។",
        "The latest year is not complete: lists arrive late, and a man whose NGO intake has not "
        "reached us yet counts as on fewer lists than he will be, which pushes that year's estimate up.",
    ),
    (
        "ឆ្នាំដែលគ្មានលេខ៖ ហេតុផលនៅក្នុងកំណត់សម្គាល់។",
        "A year with no number says why in its note: too few returns, fewer than three lists, lists "
        "that share no one, or a model whose estimate does not exist.",
    ),
]


# the columns' widths: a fixed 36-point header row cut their two-language titles on paper
WIDTHS = (12, 14, 14, 12, 12, 14, 18, 30, 40, 60)


def _whole(x: float | None, threshold: int) -> int | str | None:
    if x is None:
        return None
    n = int(round(x))
    return f"<{threshold}" if 0 < n < threshold else n


def write_sheet(ws, results: list[Estimate], as_of: dt.date, threshold: int) -> None:
    """The table per year, a chart of listed against estimated, and the caveats."""
    put(ws.cell(1, 1), "ការប៉ាន់ស្មានបុរសដែលត្រឡប់មកវិញ ប៉ុន្តែមិនមានក្នុងបញ្ជីណាមួយ").font = Font(bold=True, size=13)
    put(
        ws.cell(2, 1),
        f"Men who came home and are on no list: multiple systems estimation, as of {as_of:%d/%m/%Y}",
    ).font = Font(bold=True)
    for j, (kh, en) in enumerate(COLUMNS, start=1):
        c = put(ws.cell(4, j), f"{kh}\n{en}")
        c.font, c.fill = Font(bold=True), HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[4].height = header_height([f"{kh}\n{en}" for kh, en in COLUMNS], WIDTHS)
    row = 5
    for r in results:
        band = None
        if r.linkage_range:
            lo, hi = (_whole(v, threshold) for v in r.linkage_range)
            band = f"{lo} - {hi}"
        values = [
            r.period,
            _whole(r.listed, threshold),
            _whole(r.estimate, threshold),
            _whole(r.lower, threshold),
            _whole(r.upper, threshold),
            _whole(r.on_no_list, threshold),
            band,
            ", ".join(r.lists),
            r.model,
            r.reason or "",
        ]
        for j, v in enumerate(values, start=1):
            put(ws.cell(row, j), v)
        row += 1
    last = row - 1
    if any(r.estimate is not None for r in results):
        chart = BarChart()
        chart.title = "Returns listed and estimated in all, by year"
        chart.y_axis.title = "returns"
        chart.x_axis.title = "return year"
        chart.add_data(Reference(ws, min_col=2, max_col=3, min_row=4, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=5, max_row=last))
        chart.height, chart.width = 8, 18
        ws.add_chart(chart, f"A{last + 3}")
    row = last + 21
    put(ws.cell(row, 1), "ការប្រុងប្រយ័ត្ន / Caveats").font = Font(bold=True)
    for kh, en in CAVEATS:
        for text in (kh, en):
            row += 1
            c = put(ws.cell(row, 1), text)
            c.alignment = Alignment(wrap_text=True, vertical="top")
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(COLUMNS))
            ws.row_dimensions[row].height = 15 * (1 + len(text) // 150)
    for j, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[ws.cell(4, j).column_letter].width = width
    ws.freeze_panes = "A5"


def add_estimate_sheet(wb: Workbook, settings: Settings, as_of: dt.date) -> list[Estimate]:
    """Estimate per return year from the store and add the sheet; the estimates, for counts."""
    results = estimate_store(settings, as_of, "year", resamples=REPORT_RESAMPLES)
    write_sheet(wb.create_sheet(SHEET), results, as_of, settings.small_count_threshold)
    return results
