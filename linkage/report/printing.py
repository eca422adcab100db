"""Page setup that lets a DoSVY office print a sheet and carry it.

Why: without it a long list prints in vertical strips (one man's row on several sheets of
paper) with headers only on the first page. Every sheet here prints landscape A4, one page
wide, with its header rows on every page and a bilingual confidentiality footer with page
numbers; short sheets (the chart) print on exactly one page.
"""

from __future__ import annotations

from openpyxl.styles import Font
from openpyxl.workbook import Workbook
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

from linkage.report.glossary import term


def footer_text() -> tuple[str, str]:
    """Left and right footer: the marking in both languages; sheet and page numbers."""
    conf, page = term("confidential"), term("page_of")
    return f"{conf.en} / {conf.km}", f"&A · {page.en} / {page.km}"


def print_ready(
    ws: Worksheet, title_rows: str | None = None, one_page: bool = False, landscape: bool = True
) -> None:
    """Landscape A4, fit to one page wide (and tall when one_page), titles repeated, footer."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if one_page else 0
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.75, header=0.2, footer=0.25)
    ws.print_options.horizontalCentered = True
    if title_rows:
        ws.print_title_rows = title_rows
    left, right = footer_text()
    for footer in (ws.oddFooter, ws.evenFooter, ws.firstFooter):
        footer.left.text, footer.left.size = left, 8
        footer.right.text, footer.right.size = right, 8


def use_font(wb: Workbook, name: str) -> None:
    """Give every cell still in the default font a font found on office machines.

    Why: Calibri is missing where LibreOffice runs, and its stand-in is a serif; Arial maps to
    a sans everywhere, and Khmer text falls back to the installed Khmer font either way.
    """
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                f = c.font
                if f.name in (None, "Calibri"):
                    c.font = Font(name=name, size=f.sz, bold=f.b, italic=f.i, color=f.color)
