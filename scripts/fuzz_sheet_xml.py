"""Differential fuzz of the fast sheet reader (linkage/ingest/sheet_xml.py) against openpyxl.

Why: the fast path reads a worksheet's XML by a pattern and must give exactly the rows
openpyxl's read-only reader gives (values and their types), or None so that openpyxl reads
the sheet; a sheet openpyxl refuses must never be read by it. Workbooks come from the
programs that write them (openpyxl, xlsxwriter in both its modes, LibreOffice when `soffice`
is on the machine), and their sheet XML is then changed in the ways other writers, hand
edits and damage change it: attributes in other orders, prefixed namespaces, inline strings,
cells typed str/e/b/d, whitespace, CDATA, character references, very long rows, missing
`r` attributes, rows out of order, cells with no value, xml:space, a BOM, UTF-16, an empty
sheetData, undeclared prefixes, a date style as style 0, line ends.

    .venv/bin/python scripts/fuzz_sheet_xml.py --seconds 120 --seed 1

Prints the workbooks tried, how many the fast path read and how many it left to openpyxl,
and each finding (the fast path's rows differ from openpyxl's, or it read a sheet openpyxl
refuses) with the base, seed, iteration and mutations that reproduce it. Exits 1 on a finding.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from linkage.ingest.sheet_xml import MAIN_NS, sheet_values  # noqa: E402
from linkage.ingest.xlsx_text import install  # noqa: E402

SHEET = "xl/worksheets/sheet1.xml"

ROWS: list[list[Any]] = [
    ["ល.រ", "នាមត្រកូល", "ថ្ងៃខែឆ្នាំកំណើត", "amount", "flag", "note"],
    [1, "សុខ & <ដារា>", dt.datetime(1990, 3, 12), 12.5, True, "  spaced  "],
    [2, None, dt.date(2020, 1, 1), -3, False, "quote \" and ' apostrophe"],
    [3, "x\ny", dt.datetime(1985, 12, 31, 13, 5), 1e20, None, "tab\there"],
    [4, "០១២៣", None, 0, True, "#N/A"],
    [5, "", dt.time(10, 30), 123456789012, False, "ends with space "],
]
# LibreOffice writes TRUE, FALSE and #N/A as formulas (`<f>TRUE()</f>`), which openpyxl
# reads as "=TRUE()" and the fast path leaves to it: its base has none, so that it is read fast
OFFICE_ROWS = [[v for v in r if not isinstance(v, bool) and v != "#N/A"] for r in ROWS]


# --- base workbooks, as the programs write them ----------------------------------------------


def openpyxl_book(rows: list[list[Any]]) -> bytes:
    """openpyxl's workbook: shared strings, number styles for dates, a gap of rows."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    ws.cell(row=len(rows) + 4, column=3, value="after a gap")
    ws.cell(row=2, column=40, value="far right")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xlsxwriter_book(rows: list[list[Any]], constant_memory: bool = False) -> bytes:
    """xlsxwriter's workbook (constant_memory writes strings inline, row by row)."""
    import xlsxwriter

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": constant_memory})
    ws = wb.add_worksheet()
    date = wb.add_format({"num_format": "dd/mm/yyyy"})
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if isinstance(v, (dt.date, dt.time)):
                ws.write_datetime(i, j, v, date)
            elif v is not None:
                ws.write(i, j, v)
    ws.write(len(rows) + 3, 2, "after a gap")
    wb.close()
    return out.getvalue()


def soffice_book(rows: list[list[Any]]) -> bytes | None:
    """LibreOffice's own writing of the openpyxl workbook (it rewrites every part), or None
    when soffice is not on this machine."""
    soffice = shutil.which("soffice")
    if soffice is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.ods"
        Path(tmp, "in.xlsx").write_bytes(openpyxl_book(rows))
        for target, name in (("ods", "in.xlsx"), ("xlsx", "in.ods")):
            subprocess.run(
                [
                    soffice,
                    f"-env:UserInstallation=file://{tmp}/profile",
                    "--headless",
                    "--convert-to",
                    target,
                    "--outdir",
                    str(Path(tmp) / target),
                    str(Path(tmp) / name),
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
            if target == "ods":
                shutil.copy(Path(tmp) / "ods" / "in.ods", src)
        return (Path(tmp) / "xlsx" / "in.xlsx").read_bytes()


WRITERS: dict[str, Callable[[], bytes | None]] = {
    "openpyxl": lambda: openpyxl_book(ROWS),
    "xlsxwriter": lambda: xlsxwriter_book(ROWS),
    "xlsxwriter-constant-memory": lambda: xlsxwriter_book(ROWS, constant_memory=True),
    "libreoffice": lambda: soffice_book(OFFICE_ROWS),
}


def bases_of(names: list[str]) -> dict[str, bytes]:
    """The named writers' workbooks of ROWS, those this machine can make (soffice may lack)."""
    made = {name: WRITERS[name]() for name in names}
    return {name: data for name, data in made.items() if data is not None}


# --- the comparison ----------------------------------------------------------------------------


def typed(rows: list[list[Any]]) -> list[list[tuple[str, str]]]:
    """Rows with each value's type (1, 1.0 and True are equal in Python, not in a cell)."""
    return [[(type(v).__name__, repr(v)) for v in r] for r in rows]


def compare(data: bytes) -> tuple[str, str]:
    """("fast", "") when the fast path read the sheet as openpyxl does, ("openpyxl", "") when
    it left it to openpyxl, ("finding", what) when it read it otherwise, ("refused", "")
    when openpyxl cannot open the workbook at all."""
    import openpyxl

    install()
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 - a workbook openpyxl refuses: the reader refuses it too
        return "refused", ""
    try:
        ws = wb.worksheets[0]
        ws.reset_dimensions()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fast = sheet_values(ws)
            try:
                slow: list[list[Any]] | str = [list(r) for r in ws.iter_rows(values_only=True)]
            except Exception as exc:  # noqa: BLE001 - what openpyxl raises is the reference
                slow = f"openpyxl raises {type(exc).__name__}"
    finally:
        wb.close()
    if fast is None:
        return "openpyxl", ""
    if isinstance(slow, str):
        return "finding", f"the fast path read a sheet that {slow}"
    if typed(fast) != typed(slow):
        diff = next(
            (i for i, (a, b) in enumerate(zip(typed(fast), typed(slow), strict=False)) if a != b),
            min(len(fast), len(slow)),
        )
        a = typed(fast)[diff] if diff < len(fast) else "none"
        b = typed(slow)[diff] if diff < len(slow) else "none"
        return "finding", f"rows differ at row {diff + 1}: fast {a} openpyxl {b}"
    return "fast", ""


def with_parts(data: bytes, edits: dict[str, Callable[[bytes], bytes]]) -> bytes:
    """The workbook with some of its parts changed."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename in edits:
                body = edits[info.filename](body)
            z.writestr(info.filename, body)
    return out.getvalue()


def shared_strings(data: bytes) -> list[str]:
    """The workbook's shared strings as plain text (the `<t>` texts of each `<si>`)."""
    import xml.etree.ElementTree as ET

    z = zipfile.ZipFile(io.BytesIO(data))
    if "xl/sharedStrings.xml" not in z.namelist():
        return []
    root = ET.fromstring(z.read("xl/sharedStrings.xml"))
    ns = {"m": MAIN_NS}
    return ["".join(t.text or "" for t in si.iter(f"{{{MAIN_NS}}}t")) for si in root.findall("m:si", ns)]


# --- mutations of the sheet's XML (text in, text out) -----------------------------------------

CELL = re.compile(r"<c\b([^>]*?)(/?)>")
ROW = re.compile(r"<row\b([^>]*?)(/?)>")
ATTR = re.compile(r'\s+([\w:.-]+)\s*=\s*("[^"]*"|\'[^\']*\')')


# a whole cell with its reference: <c r="B7" .../> or <c r="B7" ...>...</c>
_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"[^>]*?(?:/>|>.*?</c>)')


def _cells_replaced(x: str, rng: random.Random, forms: list[str], keep: float) -> str:
    """Each cell kept with chance `keep`, else written as one of `forms` ({r}: its
    reference, {l}: the reference in lower case)."""
    return _CELL.sub(
        lambda m: m[0] if rng.random() < keep else rng.choice(forms).format(r=m[1], l=m[1].lower()), x
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def m_attr_order(x: str, rng: random.Random, ctx: dict) -> str:
    """Attributes of cells (and rows) in another order, as other writers put them."""

    def shuffle(tag: str) -> Callable[[re.Match[str]], str]:
        def one(m: re.Match[str]) -> str:
            if rng.random() < 0.5:
                return m[0]
            attrs = ATTR.findall(m[1])
            rng.shuffle(attrs)
            return f"<{tag}" + "".join(f" {k}={v}" for k, v in attrs) + f"{m[2]}>"

        return one

    x = CELL.sub(shuffle("c"), x)
    return ROW.sub(shuffle("row"), x) if rng.random() < 0.3 else x


def m_prefix(x: str, rng: random.Random, ctx: dict) -> str:
    """The main namespace bound to a prefix (x:row, x:c), as some exporters write it."""
    p = rng.choice(["x", "main", "s"])
    x = x.replace(f'xmlns="{MAIN_NS}"', f'xmlns:{p}="{MAIN_NS}"', 1)
    return re.sub(
        r"<(/?)(?![?!])([A-Za-z][\w.-]*)([\s/>])",
        lambda m: f"<{m[1]}{p}:{m[2]}{m[3]}" if ":" not in m[2] else m[0],
        x,
    )


def m_prefix_and_default(x: str, rng: random.Random, ctx: dict) -> str:
    """The main namespace both default and bound to a prefix that some elements use."""
    x = x.replace(f'xmlns="{MAIN_NS}"', f'xmlns="{MAIN_NS}" xmlns:x="{MAIN_NS}"', 1)
    return re.sub(
        r"<(/?)(v|c|row)([\s/>])", lambda m: f"<{m[1]}x:{m[2]}{m[3]}" if rng.random() < 0.2 else m[0], x
    )


def m_inline(x: str, rng: random.Random, ctx: dict) -> str:
    """Shared strings written inline (<is><t>), with or without xml:space and whitespace."""
    strings = ctx["strings"]

    def inline(m: re.Match[str]) -> str:
        if rng.random() < 0.3:
            return m[0]
        text = strings[int(m[2])] if int(m[2]) < len(strings) else "?"
        space = rng.choice(["", ' xml:space="preserve"'])
        pad = rng.choice(["", " ", "\n"])
        t = (
            rng.choice([f"<t{space}>{_escape(text)}</t>", f"<t{space}>{_escape(text)}</t>", "<t/>"])
            if text
            else "<t/>"
        )
        return f'<c{m[1]} t="inlineStr"><is>{pad}{t}{pad}</is></c>'

    return re.sub(r'<c((?:\s+[rs]="[^"]*")*)\s+t="s"\s*><v>([0-9]+)</v></c>', inline, x)


def m_types(x: str, rng: random.Random, ctx: dict) -> str:
    """Cells typed str, e, b, d (and n spelled out), with values of each kind."""
    values = {
        "str": ["text", "1", " 12 ", "", "០៥"],
        "e": ["#N/A", "#DIV/0!", "#VALUE!"],
        "b": ["0", "1", " 1 "],
        "d": ["2024-06-30", "2024-06-30T10:15:00", "1990-03-12T00:00:00Z", "10:30:00"],
        "n": ["1", "1.5", "-0", "1E3", " 7 ", "1e400"],
    }

    def retype(m: re.Match[str]) -> str:
        if rng.random() < 0.6:
            return m[0]
        kind = rng.choice(list(values))
        return f'<c r="{m[1]}" t="{kind}"><v>{rng.choice(values[kind])}</v></c>'

    return _CELL.sub(retype, x)


def m_whitespace(x: str, rng: random.Random, ctx: dict) -> str:
    """Whitespace between elements and before a tag's end, as pretty printers leave it."""
    ws = ["\n", "  ", "\r\n", "\t", "\n    "]
    x = re.sub(
        r"></?(?=row|c\b|v|is|t\b|/row|/c|/v)",
        lambda m: m[0] if rng.random() < 0.5 else ">" + rng.choice(ws) + m[0][1:],
        x,
    )
    return re.sub(
        r'"(/?)>', lambda m: m[0] if rng.random() < 0.7 else f'"{rng.choice([" ", "  ", chr(10)])}{m[1]}>', x
    )


def m_cdata(x: str, rng: random.Random, ctx: dict) -> str:
    """A value or text in CDATA."""
    return re.sub(
        r"<(v|t)([^>]*)>([^<]+)</\1>",
        lambda m: m[0] if rng.random() < 0.7 else f"<{m[1]}{m[2]}><![CDATA[{m[3]}]]></{m[1]}>",
        x,
    )


def m_references(x: str, rng: random.Random, ctx: dict) -> str:
    """Characters of values and texts written as character references."""

    def refs(m: re.Match[str]) -> str:
        out = []
        for ch in m[3]:
            roll = rng.random()
            if ch == "&" or roll > 0.3:
                out.append(ch)
            elif roll < 0.15:
                out.append(f"&#{ord(ch)};")
            else:
                out.append(f"&#x{ord(ch):X};")
        return f"<{m[1]}{m[2]}>{''.join(out)}</{m[1]}>"

    x = re.sub(r"<(v|t)([^>]*)>([^<]+)</\1>", refs, x)
    return x.replace("&amp;", rng.choice(["&amp;", "&#38;", "&#x26;"]))


def m_line_ends(x: str, rng: random.Random, ctx: dict) -> str:
    """Line ends in texts: CR LF, a lone CR, and CR as a reference."""
    return re.sub(
        r"(<t[^>]*>[^<]*)\n", lambda m: m[1] + rng.choice(["\r\n", "\r", "&#13;&#10;", "&#13;", "\n"]), x
    )


def m_long_row(x: str, rng: random.Random, ctx: dict) -> str:
    """A row of thousands of cells, the last at column XFD."""
    n = rng.choice([300, 3000, 16384])
    cells = "".join(f'<c t="inlineStr"><is><t>v{i}</t></is></c>' for i in range(n - 1))
    cells += '<c r="XFD9"><v>1</v></c>' if n == 16384 else "<c><v>2</v></c>"
    return x.replace("</sheetData>", f'<row r="9999">{cells}</row></sheetData>')


def m_no_r(x: str, rng: random.Random, ctx: dict) -> str:
    """r attributes left out of some cells and rows."""
    x = re.sub(r'<c r="[A-Z]+[0-9]+"', lambda m: "<c" if rng.random() < 0.4 else m[0], x)
    return re.sub(r'<row r="[0-9]+"', lambda m: "<row" if rng.random() < 0.3 else m[0], x)


def m_row_order(x: str, rng: random.Random, ctx: dict) -> str:
    """Rows out of order (a row number going back, repeated, or rows swapped)."""
    rows = re.findall(r"<row\b.*?(?:</row>|/>)", x, re.S)
    if len(rows) < 2:
        return x
    swapped = rows[:]
    i, j = rng.sample(range(len(rows)), 2)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    if rng.random() < 0.3:
        swapped.insert(rng.randrange(len(swapped)), rows[rng.randrange(len(rows))])
    start, end = x.index(rows[0]), x.index(rows[-1]) + len(rows[-1])
    return x[:start] + "".join(swapped) + x[end:]


def m_no_value(x: str, rng: random.Random, ctx: dict) -> str:
    """Cells with no value: <c/>, <c></c>, <v></v>, <v/>, a type and no value."""
    forms = [
        '<c r="{r}"/>',
        '<c r="{r}"></c>',
        '<c r="{r}"><v></v></c>',
        '<c r="{r}"><v/></c>',
        '<c r="{r}" t="s"/>',
        '<c r="{r}" t="inlineStr"/>',
        '<c r="{r}" t="inlineStr"><v>3</v></c>',
        '<c r="{r}" s="1"/>',
        '<c r="{r}" t="str"><v></v></c>',
    ]
    return _cells_replaced(x, rng, forms, keep=0.7)


def m_xml_space(x: str, rng: random.Random, ctx: dict) -> str:
    """xml:space on <t>, <v>, <c>, <is> (preserve and default, both quotes)."""
    where = rng.choice(["t", "v", "c", "is"])
    value = rng.choice(['xml:space="preserve"', "xml:space='preserve'", 'xml:space="default"'])
    return re.sub(rf"<{where}(?=[\s>])", lambda m: m[0] if rng.random() < 0.5 else f"<{where} {value}", x)


def m_declaration(x: str, rng: random.Random, ctx: dict) -> str:
    """The XML declaration changed: gone, single quotes, utf8, ascii, standalone."""
    decl = rng.choice(
        [
            "",
            "<?xml version='1.0' encoding='UTF-8'?>",
            '<?xml version="1.0" encoding="utf8"?>',
            '<?xml version="1.0"?>',
            '<?xml version="1.0" encoding="US-ASCII"?>',
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
            '<?xml  version="1.0"  encoding = "utf-8" ?>',
        ]
    )
    return re.sub(r"^<\?xml[^>]*\?>\s*", decl, x)


def m_empty_sheet_data(x: str, rng: random.Random, ctx: dict) -> str:
    """A sheet with no rows: <sheetData/>, <sheetData></sheetData>, whitespace inside."""
    body = rng.choice(
        ["<sheetData/>", "<sheetData></sheetData>", "<sheetData>\n  </sheetData>", "<sheetData />"]
    )
    return re.sub(r"<sheetData\s*/>|<sheetData>.*</sheetData>", body, x, flags=re.S)


def m_unbound_prefix(x: str, rng: random.Random, ctx: dict) -> str:
    """A row or cell attribute with a prefix no element declares (openpyxl refuses it)."""
    attr = rng.choice(['x14ac:dyDescent="0.25"', 'foo:bar="1"'])
    declared = 'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"'
    if rng.random() < 0.5 and attr.startswith("x14ac") and declared not in x:
        x = x.replace(f'xmlns="{MAIN_NS}"', f'xmlns="{MAIN_NS}" {declared}', 1)
    return re.sub(r"<row\b", lambda m: m[0] if rng.random() < 0.5 else f"<row {attr}", x, count=3)


def m_row_attrs(x: str, rng: random.Random, ctx: dict) -> str:
    """Rows with more attributes: hidden, spans, heights, an outline, r as a float."""

    def more(m: re.Match[str]) -> str:
        if rng.random() < 0.5:
            return m[0]
        attrs = rng.choice(
            [' hidden="1"', ' spans="1:6"', ' ht="12.8" customHeight="true"', ' outlineLevel="1"']
        )
        number = re.search(r'r="([0-9]+)"', m[1])
        r = m[1]
        if number and rng.random() < 0.3:
            r = m[1].replace(
                number[0], rng.choice([f'r="{number[1]}.0"', f'r=" {number[1]} "', f'r="{number[1]}.5"'])
            )
        return f"<row{r}{attrs}{m[2]}>"

    return ROW.sub(more, x)


def m_odd_values(x: str, rng: random.Random, ctx: dict) -> str:
    """Values at the edge: a shared-string index negative or out of range, a number that is
    not one, a style index that does not exist, a cell reference in lower case or with $."""
    forms = [
        '<c r="{r}" t="s"><v>-1</v></c>',
        '<c r="{r}" t="s"><v>999</v></c>',
        '<c r="{r}"><v>abc</v></c>',
        '<c r="{r}" s="999"><v>1</v></c>',
        '<c r="{l}"><v>1</v></c>',
        '<c r="${r}"><v>1</v></c>',
        '<c r="{r}"><v>1_000</v></c>',
        '<c r="{r}" s="01"><v>2</v></c>',
        '<c r="{r}" t="b"><v>true</v></c>',
        '<c r="{r}" t="d"><v>30/06/2024</v></c>',
        '<c r="{r}" t=""><v>1</v></c>',
        '<c r="{r}" t="x"><v>1</v></c>',
        '<c r="{r}"><v>١٢</v></c>',
        '<c r="{r}"><v>0x10</v></c>',
        '<c r="{r}"><v>nan</v></c>',
    ]
    return _cells_replaced(x, rng, forms, keep=0.85)


def m_comment_pi(x: str, rng: random.Random, ctx: dict) -> str:
    """A processing instruction or a comment among the rows."""
    extra = rng.choice(["<?mso-application progid?>", "<!-- totals -->", "<?x?>"])
    return x.replace("</row>", "</row>" + extra, 1)


def m_duplicate_attr(x: str, rng: random.Random, ctx: dict) -> str:
    """A row attribute twice under two prefixes of one namespace (not well formed with names)."""
    x = x.replace(f'xmlns="{MAIN_NS}"', f'xmlns="{MAIN_NS}" xmlns:a="urn:q" xmlns:b="urn:q"', 1)
    return x.replace("<row ", '<row a:h="1" b:h="2" ', 1)


def m_cell_children(x: str, rng: random.Random, ctx: dict) -> str:
    """Cells with more inside them: a formula and its value, rich-text and phonetic runs,
    two <t>, an <extLst>, the cm/vm/ph attributes Excel 365 writes."""
    forms = [
        '<c r="{r}"><f>1+1</f><v>2</v></c>',
        '<c r="{r}" t="str"><f>"a"</f><v>a</v></c>',
        '<c r="{r}" t="inlineStr"><is><r><t>a</t></r><r><rPr><b/></rPr><t>b</t></r></is></c>',
        '<c r="{r}" t="inlineStr"><is><t>a</t><rPh sb="0" eb="1"><t>b</t></rPh></is></c>',
        '<c r="{r}" t="inlineStr"><is><t>a</t><t>b</t></is></c>',
        '<c r="{r}"><v>1</v><extLst/></c>',
        '<c r="{r}" cm="1"><v>1</v></c>',
        '<c r="{r}" s="0" t="n" vm="1"><v>1</v></c>',
        '<c r="{r}" t="inlineStr"><is><t xml:space="preserve"> a </t></is></c>',
        '<c r="{r}" t="s"><v>0</v><v>1</v></c>',
    ]
    return _cells_replaced(x, rng, forms, keep=0.85)


MUTATIONS: list[Callable[[str, random.Random, dict], str]] = [
    m_attr_order,
    m_prefix,
    m_prefix_and_default,
    m_inline,
    m_types,
    m_whitespace,
    m_cdata,
    m_references,
    m_line_ends,
    m_long_row,
    m_no_r,
    m_row_order,
    m_no_value,
    m_xml_space,
    m_declaration,
    m_empty_sheet_data,
    m_unbound_prefix,
    m_row_attrs,
    m_odd_values,
    m_comment_pi,
    m_duplicate_attr,
    m_cell_children,
]


def encode(x: str, rng: random.Random) -> bytes:
    """The sheet's bytes: UTF-8, with a BOM, or UTF-16 (declaration made to say so)."""
    roll = rng.random()
    if roll < 0.1:
        return b"\xef\xbb\xbf" + x.encode("utf-8")
    if roll < 0.17:
        x = re.sub(r'encoding="[^"]*"', 'encoding="UTF-16"', x, count=1)
        return x.encode(rng.choice(["utf-16", "utf-16-le", "utf-16-be"]))
    return x.encode("utf-8")


def date_style_zero(data: bytes) -> bytes:
    """The workbook's first cell style made a date format: a cell with no s is a date."""

    def edit(body: bytes) -> bytes:
        text = body.decode("utf-8")
        return re.sub(
            r'(<cellXfs[^>]*>\s*<xf\b[^>]*?)numFmtId="0"', r'\1numFmtId="14"', text, count=1
        ).encode()

    return with_parts(data, {"xl/styles.xml": edit})


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, list[str]]:
    """One to four mutations of the sheet's XML (and at times of its styles)."""
    ctx = {"strings": shared_strings(data)}
    chosen = rng.sample(MUTATIONS, rng.randint(1, 4))
    names = [m.__name__[2:] for m in chosen]
    if rng.random() < 0.1:
        data = date_style_zero(data)
        names.append("date_style_zero")

    def edit(body: bytes) -> bytes:
        x = body.decode("utf-8")
        for m in chosen:
            x = m(x, rng, ctx)
        return encode(x, rng)

    return with_parts(data, {SHEET: edit}), names


@dataclass
class Tally:
    """What a run tried and found: outcomes in all and by mutation, and the findings."""

    tried: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    by_mutation: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    findings: list[str] = field(default_factory=list)


def run(made: dict[str, bytes], seed: int, iterations: int = 0, seconds: float = 0.0) -> Tally:
    """Each base as written, then mutated workbooks until `iterations` (or `seconds`) are done."""
    tally = Tally()
    for name, data in made.items():
        kind, what = compare(data)
        tally.outcomes[kind] += 1
        if kind == "finding":
            tally.findings.append(f"base {name}, unmutated: {what}")
    rng = random.Random(seed)
    start = time.monotonic()
    while tally.tried < iterations if iterations else time.monotonic() - start < seconds:
        tally.tried += 1
        name = rng.choice(list(made))
        data, names = mutate(made[name], rng)
        kind, what = compare(data)
        tally.outcomes[kind] += 1
        for n in names:
            tally.by_mutation[n][kind] += 1
        if kind == "finding" and len(tally.findings) < 50:
            tally.findings.append(
                f"base {name}, seed {seed}, iteration {tally.tried}, {'+'.join(names)}: {what}"
            )
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=0, help="stop after this many (0: by time)")
    args = parser.parse_args()
    made = bases_of(list(WRITERS))
    print(f"bases: {', '.join(made)}")
    start = time.monotonic()
    tally = run(made, args.seed, args.iterations, args.seconds)
    print(f"{tally.tried} mutated workbooks in {time.monotonic() - start:.0f} s: {dict(tally.outcomes)}")
    for n, counts in sorted(tally.by_mutation.items()):
        print(f"  {n:<20} {dict(counts)}")
    for f in tally.findings:
        print("FINDING", f)
    return 1 if tally.findings else 0


if __name__ == "__main__":
    sys.exit(main())
