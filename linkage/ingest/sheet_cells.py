"""What a sheet's cells say beyond their own values: formulas' saved results, merged cells.

Why: Excel keeps the value a formula last showed (a row number =ROW()-3, an age
=2024-YEAR(F4)), and a clerk merges a batch's province or return date down over its rows.
Read as bare cells, the first is a formula and the second is blank below its first row, so
every such row was quarantined although the sheet shows its value. A formula with no saved
value (a workbook written by a program, never opened in Excel) stays a formula. An ID card
or phone number kept as a number shows its leading zero by a number format (000000000):
the number alone has lost it, so it is read as the sheet shows it.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

_HIDDEN_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*\shidden\s*=\s*["\'](?:1|true)["\'][^>]*>')
_ROW_R = re.compile(rb'\sr\s*=\s*["\']([0-9]+)["\']')
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')


def trust_no_dimension(ws: Any) -> None:
    """Read a read-only sheet to its last row and cell, not to the size its <dimension> says.
    Why: a program that writes the dimension first and adds rows after leaves it too small
    (A1:C3 over 17 columns and 8 rows), and openpyxl's read-only mode stops there: the
    header lost its columns, or the rows under the third were dropped without a word."""
    reset = getattr(ws, "reset_dimensions", None)
    if reset is not None:
        reset()


def formula_cells(rows: list[list[Any]], start: int) -> list[tuple[int, int]]:
    """(row, column) of every cell from row `start` on that holds a formula's text."""
    return [
        (i, j)
        for i in range(start, len(rows))
        for j, v in enumerate(rows[i])
        if type(v) is str and v.startswith("=")
    ]


# a formula cell whose saved value is empty text (=IF(A5="","",...)), as Excel writes it: a
# string result (t="str") with <v></v> or <v/>; openpyxl writes <v></v> for a formula it never
# computed, without t="str"
_EMPTY_RESULT = re.compile(
    rb'<c r="([A-Z]{1,3})(\d+)"[^>]*\bt="str"[^>]*>(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)'
)


def empty_results(data: bytes, part: str | None) -> set[tuple[int, int]]:
    """(row, column), 0-based, of the formula cells whose saved value is empty text. Why:
    openpyxl reads them as no value, so they stayed formulas and their rows were quarantined
    as never calculated, though Excel did and shows the cell blank."""
    if not part:
        return set()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            xml = z.read(part.lstrip("/"))
    except (KeyError, zipfile.BadZipFile, OSError):
        return set()
    return {(int(r) - 1, _column(c)) for c, r in _EMPTY_RESULT.findall(xml)}


def use_saved_values(
    openpyxl: Any, data: bytes, sheet_index: int, rows: list[list[Any]], cells: list, part: str | None = None
) -> int:
    """Formula cells replaced by the value Excel saved with them (empty text as a blank);
    returns how many were. The workbook is read again for the saved values (only when the
    sheet has formulas)."""
    if not cells:
        return 0
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            trust_no_dimension(ws := wb.worksheets[sheet_index])
            saved = [list(r) for r in ws.iter_rows(values_only=True)]
        finally:
            wb.close()
    except Exception:  # noqa: BLE001 - read once already; without saved values formulas stay formulas
        return 0
    done = 0
    empty = (
        empty_results(data, part)
        if any(saved[i][j] is None for i, j in cells if i < len(saved) and j < len(saved[i]))
        else set()
    )
    for i, j in cells:
        value = saved[i][j] if i < len(saved) and j < len(saved[i]) else None
        if value is None and (i, j) in empty:
            value = ""
        if value is not None and value != rows[i][j]:
            rows[i][j] = value
            done += 1
    return done


def _column(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


def sheet_part(data: bytes, part: str | None) -> bytes:
    """A sheet's XML from the workbook's zip (empty when it cannot be had: openpyxl has read
    it already, and said so)."""
    if not part:
        return b""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return z.read(part.lstrip("/"))
    except (KeyError, zipfile.BadZipFile, OSError):
        return b""


def merged_ranges(xml: bytes) -> list[tuple[int, int, int, int]]:
    """(first row, last row, first column, last column), 0-based, of each merged range."""
    if b"mergeCell" not in xml:
        return []
    return [(int(r1) - 1, int(r2) - 1, _column(c1), _column(c2)) for c1, r1, c2, r2 in _MERGE.findall(xml)]


def hidden_rows(xml: bytes) -> list[int]:
    """The numbers (1-based) of the rows the sheet hides: by a filter, by hand, or in a group
    collapsed. Why: they are read like the others (the file holds them, and a filter is a
    way of looking, not of deleting), but an officer who filtered the list before sending
    it may think only the rows shown were sent; the notes say which were hidden."""
    if b'hidden="1"' not in xml and b'hidden="true"' not in xml and b"hidden='" not in xml:
        return []  # LibreOffice writes hidden="false" on every row: no pass over them then
    numbers = []
    for row in _HIDDEN_ROW.finditer(xml):
        number = _ROW_R.search(row[0])
        if number:
            numbers.append(int(number[1]))
    return numbers


def fill_merged_down(rows: list[list[Any]], ranges: list[tuple[int, int, int, int]], header: int) -> int:
    """Cells under the top of a range merged over rows below the header get its value (the
    sheet shows it on each of them); returns how many cells were filled. Ranges merged
    across columns only (a note over two cells) are left as they are."""
    filled = 0
    for r1, r2, c1, _c2 in ranges:
        if r1 <= header or r2 == r1 or r1 >= len(rows) or c1 >= len(rows[r1]):
            continue
        top = rows[r1][c1]
        if top is None:
            continue
        for i in range(r1 + 1, min(r2, len(rows) - 1) + 1):
            row = rows[i]
            if c1 < len(row) and row[c1] is None:
                row[c1] = top
                filled += 1
    return filled


_ZEROS_FORMAT = re.compile(r'^(?:0|"[^"0-9]*"|[\s\-])+$')  # 000000000, 000" "000" "000, 000-000-000
_LONG = 1_000_000  # a number of seven digits or more: an id or a phone, not a count or an age


def pad_by_format(openpyxl: Any, data: bytes, sheet_index: int, rows: list[list[Any]], start: int) -> int:
    """Whole numbers of seven digits or more (from row `start` on) whose number format shows
    more digits with leading zeros (000000000 shows 10234567 as 010234567) replaced by the
    digits shown; returns how many were. The sheet is read again for its cells' formats
    only when it holds such numbers."""
    cells = [
        (i, j)
        for i in range(start, len(rows))
        for j, v in enumerate(rows[i])
        if type(v) is int and v >= _LONG
    ]
    if not cells:
        return 0
    wanted: dict[int, set[int]] = {}
    for i, j in cells:
        wanted.setdefault(i, set()).add(j)
    done = 0
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        try:
            ws = wb.worksheets[sheet_index]
            trust_no_dimension(ws)
            for i, row in enumerate(ws.iter_rows(min_row=start + 1), start):
                for j in wanted.get(i, ()):
                    fmt = str(getattr(row[j], "number_format", "") or "") if j < len(row) else ""
                    if not _ZEROS_FORMAT.match(fmt):
                        continue
                    digits = fmt.count("0")
                    text = str(rows[i][j])
                    if digits > len(text):
                        rows[i][j] = text.zfill(digits)
                        done += 1
        finally:
            wb.close()
    except Exception:  # noqa: BLE001 - read once already; without formats the numbers stay as they are
        return 0
    return done
