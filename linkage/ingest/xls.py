"""Excel 97-2003 workbooks (.xls, BIFF8) read into the same sheets an .xlsx gives.

Why read them: provincial offices still run old Excel, or save "Excel 97-2003 Workbook" to
be safe, and the list was refused with "save it as .xlsx" for a file Excel opens. xlrd reads
the cells with the values Excel saved for formulas, the dates by the workbook's epoch, error
values by their text (#N/A), and the merged ranges, so the list is read by the rules of a
workbook: one sheet that holds it, hidden or not; merged cells filled down.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from linkage.ingest.errors import DeliveryRejected

_UNREADABLE = (
    "this is an Excel 97-2003 (.xls) workbook, but it cannot be read: {why}; open it in "
    "Excel, save it as .xlsx and send again"
)


@dataclass
class XlsSheet:
    title: str
    hidden: bool
    rows: list[list[Any]]
    merges: list[tuple[int, int, int, int]]  # first row, last row, first column, last column (0-based)


def read_xls(data: bytes) -> tuple[list[XlsSheet], bool]:
    """(the workbook's sheets, whether its dates count from 1904). Refuses an .xls saved
    with a password, or one xlrd cannot read, in words (never xlrd's message)."""
    import xlrd  # only for .xls deliveries

    try:
        book = xlrd.open_workbook(
            file_contents=data, formatting_info=True, logfile=io.StringIO(), verbosity=0
        )
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            raise DeliveryRejected(
                "password_protected",
                "the workbook is protected by a password, so it cannot be read; open it, remove "
                "the password, save it as .xlsx and send again, and give the password to no one "
                "by the same channel",
            ) from exc
        raise DeliveryRejected("old_excel", _UNREADABLE.format(why="it is damaged")) from exc
    except Exception as exc:  # noqa: BLE001 - xlrd raises many types for damaged files
        why = f"it is damaged ({type(exc).__name__})"
        raise DeliveryRejected("old_excel", _UNREADABLE.format(why=why)) from exc
    try:
        sheets = [_sheet(book, sh, xlrd) for sh in book.sheets()]
    except Exception as exc:  # noqa: BLE001 - a damaged record inside a sheet
        why = f"a sheet is damaged ({type(exc).__name__})"
        raise DeliveryRejected("old_excel", _UNREADABLE.format(why=why)) from exc
    finally:
        book.release_resources()
    return sheets, book.datemode == 1


def _sheet(book: Any, sh: Any, xlrd: Any) -> XlsSheet:
    rows = []
    for r in range(sh.nrows):
        types, values = sh.row_types(r), sh.row_values(r)
        rows.append([_cell(t, v, book.datemode, xlrd) for t, v in zip(types, values, strict=True)])
    width = max((len(r) for r in rows), default=0)
    for r in rows:
        r.extend([None] * (width - len(r)))
    merges = [(rlo, rhi - 1, clo, chi - 1) for rlo, rhi, clo, chi in sh.merged_cells]
    return XlsSheet(str(sh.name), sh.visibility != 0, rows, merges)


def _cell(kind: int, value: Any, datemode: int, xlrd: Any) -> Any:
    """A cell as openpyxl gives one of an .xlsx: text, int or float, datetime, bool, None;
    an error value as its text (#N/A), which the row's checks name."""
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_TEXT:
        return value if value != "" else None
    if kind == xlrd.XL_CELL_NUMBER:
        return int(value) if float(value).is_integer() and abs(value) < 2**53 else value
    if kind == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(value, datemode)
        except (xlrd.xldate.XLDateError, OverflowError, ValueError):
            return "#VALUE!"  # a number no date can show: named by the row's checks
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#VALUE!")
    return value
