"""Cells that cannot become formulas, in Excel or in a CSV opened by Excel.

Why: list values travel from NGOs and ministries into a workbook that case workers open.
A cell starting with =, +, -, @, a tab or a carriage return can run as a formula. In the
workbook such a value is stored as text with Excel's quote prefix, so it shows and
copies unchanged (a '+855 12 345 678' phone stays exactly that). A CSV has no types, so
there a leading apostrophe is added, as OWASP advises; the read-me sheet says so.
"""

from __future__ import annotations

from typing import Any

from openpyxl.cell.cell import Cell

RISKY_START = ("=", "+", "-", "@", "\t", "\r")


def is_risky(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(RISKY_START)


def put(cell: Cell, value: Any) -> Cell:
    """Write a value; risky text stays text (data type 's', quote prefix), never a formula."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if is_risky(value):
            cell.quotePrefix = True
    return cell


def csv_safe(value: Any) -> Any:
    if is_risky(value):
        return "'" + value
    return value
