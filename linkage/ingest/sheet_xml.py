"""A worksheet's cell values read from its XML by one regular expression, when the sheet is
written in the plain shape spreadsheet programs write; any other sheet is left to openpyxl.

Why: openpyxl's read-only reader turns every element of the sheet into an ElementTree event
and every cell into a dictionary, then a row of cells; at a million records that was a fifth
of an ingest (the MoSVY workbooks: 5.7 million cells, 26 of 122 CPU s). Here a sheet whose
`<sheetData>` is nothing but rows of `<c>` cells with at most a `<v>` value or an inline
`<t>` text, attributes `r`, `s` and `t` in that order, is read by one pass of a compiled
pattern, and each cell's value is made by openpyxl's own rules (numbers, dates by their
style, shared strings, booleans, ISO dates, inline strings), row by row as
`iter_rows(values_only=True)` gives them once the sheet's dimension is not trusted (rows
missing from the XML as empty rows, a row as wide as its last cell, a row number that
goes back skipped). Anything else (a formula, rich text, a namespace prefix, a comment,
CDATA, an entity of a DTD, an encoding other than UTF-8, XML that is not well formed, a
value openpyxl would refuse) gives None, and openpyxl reads the sheet as before: what it
accepts, refuses or warns about is unchanged. The rest of the sheet (its margins,
validations, merged cells...) still goes through openpyxl's parser, with the rows taken
out, so an element it refuses still refuses the workbook.
"""

from __future__ import annotations

import io
import re
import xml.parsers.expat
from collections.abc import Iterable, Iterator
from typing import Any

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_XML_DECL = re.compile(r"""^<\?xml\s[^>]*?\?>""")
_DECL_ENCODING = re.compile(r"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_DEFAULT_NS = re.compile(r"""\sxmlns\s*=\s*["']([^"']*)["']""")
_ROW_ATTRS = r"""(?:(?:\s+[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?\s*=\s*"[^"<&]*")*)"""
# one token of sheetData: a row's start tag (1, 2: "/" when it is empty), its end tag (3), a
# cell (4-10: "c", column letters, style, type, <v> text, <is> element, its <t> text), or
# any other character (11), which makes the sheet not plain
_TOKEN = re.compile(
    rf"\s*(?:(<row{_ROW_ATTRS}\s*(/?)>)"
    r"|(</row\s*>)"
    r'|<(c)(?:\s+r="([A-Z]{1,3})[1-9][0-9]*")?(?:\s+s="([0-9]+)")?(?:\s+t="([A-Za-z]+)")?\s*'
    r"(?:/>|>\s*(?:<v>([^<]*)</v>|(<is>\s*(?:<t(?:\s+xml:space=\"preserve\")?>([^<]*)</t>"
    r"|<t(?:\s+xml:space=\"preserve\")?/>)?\s*</is>|<is/>))?\s*</c>)"
    r"|(.))",
    re.S,
)
_ROW_NUMBER = re.compile(r"""(?:^|\s)r\s*=\s*"([^"]*)\"""")
_REFERENCE = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9A-Fa-f]+));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _text(raw: str) -> str:
    """Character data as an XML parser gives it: line ends made \\n, references replaced."""
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if "&" not in raw:
        return raw
    return _REFERENCE.sub(lambda m: _NAMED[m[1]] if m[1] else chr(int(m[2] or m[3], 10 if m[2] else 16)), raw)


def _plain_document(data: bytes) -> str | None:
    """The sheet's XML as text when it is well formed (namespaces too), UTF-8, without a DTD,
    in the main namespace unprefixed (declared once); else None."""
    try:
        # with namespaces, as openpyxl's ElementTree parses: a prefix no element declares, or
        # one attribute twice under two prefixes of one namespace, is not well formed there
        xml.parsers.expat.ParserCreate(None, "}").Parse(data, True)
        text = data.decode("utf-8-sig")
    except (xml.parsers.expat.ExpatError, UnicodeDecodeError, ValueError):
        return None
    decl = _XML_DECL.match(text)
    encoding = _DECL_ENCODING.search(decl[0]) if decl else None
    if encoding and encoding[1].lower().replace("_", "-") not in ("utf-8", "utf8"):
        return None
    if "<!" in text or text.count("<sheetData") != 1 or _DEFAULT_NS.findall(text) != [MAIN_NS]:
        return None
    return text


def _sheet_data(text: str) -> tuple[int, int, int, int] | None:
    """Where sheetData starts, its body starts and ends, and it ends; None if not plainly."""
    start = text.find("<sheetData")
    if text.startswith("<sheetData/>", start):
        return start, start, start, start + len("<sheetData/>")
    if not text.startswith("<sheetData>", start):
        return None
    body_end = text.find("</sheetData>", start)
    if body_end < 0 or text.count("</sheetData") != 1:
        return None
    return start, start + len("<sheetData>"), body_end, body_end + len("</sheetData>")


def sheet_values(ws: Any) -> list[list[Any]] | None:
    """Every row of a read-only sheet as lists of values, as
    `[list(r) for r in ws.iter_rows(values_only=True)]` gives them after
    `ws.reset_dimensions()`; None when the sheet is not of the plain shape (see the module)."""
    try:
        data = ws.parent._archive.read(ws._worksheet_path)
    except Exception:  # noqa: BLE001 - a damaged part: openpyxl reads it and says how
        return None
    text = _plain_document(data)
    del data  # the bytes are not needed once decoded (a MoSVY sheet: 31 MB)
    span = _sheet_data(text) if text is not None else None
    if span is None:
        return None
    start, body_start, body_end, end = span
    try:
        rows = _rows(_tokens(text, body_start, body_end), _Values(ws), "&" not in text and "\r" not in text)
    except (ValueError, TypeError, IndexError, KeyError, OverflowError):
        return None  # openpyxl reads it, and raises or warns as it always did
    if rows is None or not _rest_has_no_rows(ws, text[:start] + "<sheetData/>" + text[end:]):
        return None
    return rows


class _Values:
    """A cell's value from its type, style and text, by openpyxl's rules (parse_cell)."""

    def __init__(self, ws: Any) -> None:
        from openpyxl.worksheet import _reader

        wb = ws.parent
        self.shared = ws._shared_strings
        self.epoch = wb.epoch
        self.dates, self.durations = wb._date_formats, wb._timedelta_formats
        self.reader = _reader

    def __call__(self, kind: str, style: str, raw: str, inline: str, t: str) -> Any:
        """kind "" is "n"; style "" is 0; raw, inline, t "" when absent (or empty: the same)."""
        if kind == "inlineStr":
            return (_text(t) if t else "") if inline else None
        if inline:
            raise ValueError("an inline string in a cell of another type")  # openpyxl's call
        if not raw:
            return None
        value = _text(raw)
        if kind in ("n", ""):
            number = self.reader._cast_number(value)
            xf = int(style) if style else 0  # no s is style 0, which a workbook may make a date
            if xf in self.dates:
                try:
                    return self.reader.from_excel(number, self.epoch, timedelta=xf in self.durations)
                except (OverflowError, ValueError):
                    return "#VALUE!"  # openpyxl's warning (with the value) is not repeated
            return number
        if kind == "s":
            return self.shared[int(value)]
        if kind == "b":
            return bool(int(value))
        if kind == "d":
            return self.reader.from_ISO8601(value)
        return value  # "str", "e" and any other type: the text


def _tokens(text: str, start: int, end: int, step: int = 1 << 20) -> Iterator[tuple[str, ...]]:
    """findall's tuples of text[start:end], a megabyte of rows at a time: the tuples of a
    whole sheet at once held 200 MB more than openpyxl's reader at a million records."""
    pos = start
    while pos < end:
        cut = text.find("</row>", min(pos + step, end), end)
        cut = end if cut < 0 else cut + len("</row>")
        yield from _TOKEN.findall(text, pos, cut)
        pos = cut


def _rows(tokens: Iterable[tuple[str, ...]], value: _Values, plain: bool) -> list[list[Any]] | None:
    """The rows of sheetData's body, as openpyxl's read-only iteration yields them; None when
    a part of it is not of the plain shape. Why one loop over findall's tuples, the common
    cell (an inline string of plain text) made in it: a call per cell costs as much again."""
    from openpyxl.utils.cell import column_index_from_string as column_of  # cached: A .. ZZZ

    # plain: no text to unescape or whose line ends to fold
    rows: list[list[Any]] = []
    cells: list[tuple[int, Any]] = []
    row_number, counter, in_row, column = 0, 1, False, 0
    for row_tag, empty, end, cell, letters, style, kind, raw, inline, t, _ in tokens:
        if cell:
            if not in_row:
                return None
            column = column_of(letters) if letters else column + 1
            if kind == "inlineStr" and plain:
                cells.append((column, t if inline else None))
            else:
                cells.append((column, value(kind, style, raw, inline, t)))
        elif row_tag:
            if in_row:
                return None
            row_number, column = _row_number(row_tag, row_number), 0
            if empty:
                counter = _end_row(rows, [], row_number, counter)
            else:
                cells, in_row = [], True
        elif end and in_row:
            counter, in_row = _end_row(rows, cells, row_number, counter), False
        else:  # any other character, or an end tag out of place
            return None
    return None if in_row else rows


def _row_number(attrs: str, last: int) -> int:
    """A row's number: its r attribute (a whole number, or a float that is one), else the next."""
    found = _ROW_NUMBER.search(attrs[4:])
    if found is None:
        return last + 1
    try:
        return int(found[1])
    except ValueError:
        number = float(found[1])
        if not number.is_integer():
            raise ValueError("not a whole row number") from None
        return int(number)


def _end_row(rows: list[list[Any]], cells: list[tuple[int, Any]], number: int, counter: int) -> int:
    """Append a row as openpyxl yields it (empty rows before it for the numbers it skips; a
    row whose number is not past the last one is dropped); the next number expected."""
    while counter < number:
        rows.append([])
        counter += 1
    if counter > number:
        return counter
    if not cells:
        rows.append([])
    else:
        width = cells[-1][0]
        row: list[Any] = [None] * width
        for col, v in cells:
            if 1 <= col <= width:
                row[col - 1] = v
        rows.append(row)
    return counter + 1


def _rest_has_no_rows(ws: Any, rest: str) -> bool:
    """openpyxl's parser run over the sheet without its rows, so that every other element is
    read (and refused) as before; False when it still finds a row (outside sheetData)."""
    from openpyxl.worksheet._reader import WorkSheetParser

    parser = WorkSheetParser(io.BytesIO(rest.encode("utf-8")), ws._shared_strings)
    try:
        return next(iter(parser.parse()), None) is None
    except Exception:  # noqa: BLE001 - openpyxl refuses it: let it read the sheet and say so
        return False
