"""A corpus of malformed deliveries as real senders produce them, each with what it holds.

Why a corpus of our own: the files that break an ingest are the ones officers send
(Excel's "Unicode text", a workbook with a password, a title row, a totals row, a merged
province, a phone Excel wrote as 8.55E+10), so each case is built from a good synthetic
list and damaged in one such way. Every case says how many persons its rows hold
(`persons`) and how many rows that are no person (`extra`: a totals row, a header printed
again), so a run can check that none was lost and no non-person was loaded as a man.
The personal values it holds are listed (`values`), so a run can check no message shows one.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

# the columns each source sends, as the synthetic lists write them (one place to change)
from linkage.synth.writers import IOM_HEADER, MOSVY_HEADER, NGO_HEADER

RET = MOSVY_HEADER.index("ថ្ងៃខែឆ្នាំត្រឡប់មកវិញ")
DOB = MOSVY_HEADER.index("ថ្ងៃខែឆ្នាំកំណើត")
PROV = MOSVY_HEADER.index("ខេត្ត/រាជធានី")
NID = MOSVY_HEADER.index("អត្តសញ្ញាណប័ណ្ណ")
PHONE = MOSVY_HEADER.index("លេខទូរស័ព្ទ")

GIVEN = ["VUTHEARA", "SOKUNTHEA", "PHEAKDEY", "RATHANAK", "SOVANNRITH", "CHANTHOEUN", "BUNTHOEUN"]
FAMILY = ["SOK", "CHEA", "KEO", "NGUON", "THACH", "HENG", "PHAN"]
KH_FAMILY = ["សុខ", "ជា", "កែវ", "ងួន", "ថាច់", "ហេង", "ផាន"]
KH_GIVEN = ["វុទ្ធារ៉ា", "សុគន្ធា", "ភក្ដី", "រតនៈ", "សុវណ្ណរិទ្ធ", "ចាន់ធឿន", "ប៊ុនធឿន"]


@dataclass
class Case:
    """One malformed delivery: its bytes, name and source, and what its rows hold."""

    id: str
    what: str  # the sender's mistake, in words
    data: bytes
    file_name: str
    source: str
    persons: int  # rows that are a man each
    extra: int = 0  # rows that are no man (totals, a header printed again, column numbers)
    values: list[str] = field(default_factory=list)  # personal values the file holds
    # what the product must do with it, when the case says: ingested, quarantined rows or
    # refused file, and for the first two how many rows load (the run marks a miss a finding)
    expect: str = ""
    expect_loaded: int | None = None


# --- good lists ------------------------------------------------------------------------------


def iom_rows(n: int = 5) -> list[dict[str, str]]:
    rows = []
    for i in range(n):
        rows.append(
            {
                "iom_case_no": f"KH-IOM-2024-{7301 + i:04d}",
                "full_name": f"{GIVEN[i % 7]} {FAMILY[i % 7]}",
                "sex": "M",
                "dob": f"{(i % 27) + 1:02d}/0{(i % 9) + 1}/19{80 + i % 19}",
                "age_at_return": "",
                "province_of_origin": "Kampong Thom",
                "district_of_origin": "Sandan",
                "commune_of_origin": "",
                "village_of_origin": "",
                "country_of_exploitation": "Indonesia",
                "sector": "fishing",
                "date_of_return": f"{(i % 27) + 1:02d}/06/2024",
                "point_of_entry": "Phnom Penh Airport",
                "travel_doc_no": f"N0{4418200 + i}",
                "phone": f"012 {555000 + i:06d}"[:11],
                "referred_to": "",
                "referral_date": "",
                "consent_to_share": "Y",
                "batch_id": "B7",
            }
        )
    return rows


def personal(rows: list[dict[str, str]]) -> list[str]:
    keys = ("iom_case_no", "full_name", "dob", "travel_doc_no", "phone", "client_id", "name_en", "name_kh")
    return [r[k] for r in rows for k in keys if r.get(k)]


def csv_text(
    rows: list[dict[str, str]],
    header: list[str] = IOM_HEADER,
    delimiter: str = ",",
    newline: str = "\r\n",
) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, header, delimiter=delimiter, extrasaction="ignore", lineterminator=newline)
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def mosvy_rows(n: int = 5) -> list[list[object]]:
    rows: list[list[object]] = []
    for i in range(n):
        rows.append(
            [
                str(i + 1),
                KH_FAMILY[i % 7],
                KH_GIVEN[i % 7],
                "ប្រុស",
                str(25 + i % 20),
                "",
                "",
                "",
                "សណ្ដាន់",
                "ខេត្តកំពង់ធំ",
                "ឥណ្ឌូនេស៊ី",
                f"{(i % 27) + 1:02d}/06/2024",
                "ព្រលានយន្តហោះអន្តរជាតិភ្នំពេញ",
                KH_FAMILY[(i + 3) % 7],
                f"{110200300 + i}",
                f"097 {7000000 + i}",
                "",
            ]
        )
    return rows


def mosvy_personal(rows: list[list[object]]) -> list[str]:
    return [str(r[j]) for r in rows for j in (2, NID, PHONE) if j < len(r) and r[j] not in (None, "")]


def workbook(
    sheets: list[tuple[str, str, list[list[object]]]],
    merges: list[str] = (),  # type: ignore[assignment]
    hidden_rows: list[int] = (),  # type: ignore[assignment]
) -> bytes:
    """A workbook as openpyxl writes it: (title, state, rows) per sheet; merges on the first."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, state, rows in sheets:
        ws = wb.create_sheet(title)
        ws.sheet_state = state
        for row in rows:
            ws.append(row)
    first = wb.worksheets[0]
    for rng in merges:
        first.merge_cells(rng)
    for r in hidden_rows:
        first.row_dimensions[r].hidden = True
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def mosvy_book(rows: list[list[object]], titles: bool = True, **kw: object) -> bytes:
    top: list[list[object]] = [["បញ្ជីឈ្មោះជនរងគ្រោះ ឆ្នាំ ២០២៤"], []] if titles else []
    return workbook([("Sheet1", "visible", [*top, MOSVY_HEADER, *rows])], **kw)  # type: ignore[arg-type]


def rezip(data: bytes, edit: Callable[[str, bytes], bytes | None]) -> bytes:
    """The workbook's zip with each member passed through edit (None drops it)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            new = edit(info.filename, src.read(info.filename))
            if new is not None:
                z.writestr(info.filename, new)
    return out.getvalue()


def with_cached_formulas(data: bytes, column: str, formula: str) -> bytes:
    """Cells of one column (below the header) turned into formulas with Excel's saved value,
    as Excel writes them: <c><f>ROW()-3</f><v>1</v></c>."""

    def edit(name: str, body: bytes) -> bytes:
        if not name.startswith("xl/worksheets/sheet"):
            return body
        text = body.decode()

        def cell(m: re.Match[str]) -> str:
            ref, row, inner = m[1], int(m[2]), m[3]
            value = re.search(r"<t[^>]*>(.*?)</t>", inner)
            if row <= 3 or value is None:
                return m[0]
            return f'<c r="{ref}"><f>{formula}</f><v>{value[1]}</v></c>'

        text = re.sub(rf'<c r="({column}(\d+))"[^>]*t="inlineStr"[^>]*>(.*?)</c>', cell, text)
        return text.encode()

    return rezip(data, edit)


def broken_member(data: bytes) -> bytes:
    """A workbook whose sheet's compressed bytes are damaged (the zip directory intact)."""
    buf = bytearray(data)
    z = zipfile.ZipFile(io.BytesIO(data))
    info = z.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for k in range(start + 20, start + min(info.compress_size - 4, 200), 7):
        buf[k] ^= 0x5A
    return bytes(buf)


def encrypted(data: bytes, password: str = "moSVY-2024") -> bytes:
    """The workbook as Excel saves it with 'Encrypt with password' (an OLE2 container)."""
    import msoffcrypto.format.ooxml as ooxml

    src = ooxml.OOXMLFile(io.BytesIO(data))
    out = io.BytesIO()
    src.encrypt(password, out)
    return out.getvalue()


def ods(rows: list[list[object]]) -> bytes:
    """An OpenDocument spreadsheet (LibreOffice's own format): a zip with a mimetype member."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
        z.writestr("META-INF/manifest.xml", "<manifest/>")
    return out.getvalue()


def html_table(rows: list[dict[str, str]]) -> bytes:
    """A web system's 'export to Excel': an HTML table in a file named .xls."""
    head = "".join(f"<th>{h}</th>" for h in IOM_HEADER)
    body = "".join("<tr>" + "".join(f"<td>{r[h]}</td>" for h in IOM_HEADER) + "</tr>" for r in rows)
    return f"<html><body><table><tr>{head}</tr>{body}</table></body></html>".encode()


def old_xls_bytes() -> bytes:
    """The start of an Excel 97-2003 (BIFF) workbook: an OLE2 container with a Workbook stream."""
    return (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 3000
    )


# --- the cases -------------------------------------------------------------------------------


def _iom(
    id: str,
    what: str,
    text_fn: Callable[[list[dict[str, str]]], str | bytes],
    n: int = 5,
    extra: int = 0,
    name: str = "iom_returns_2024_06.csv",
    persons: int | None = None,
    edit: Callable[[list[dict[str, str]]], None] | None = None,
) -> Case:
    rows = iom_rows(n)
    if edit:
        edit(rows)
    out = text_fn(rows)
    data = out if isinstance(out, bytes) else out.encode("utf-8")
    return Case(id, what, data, name, "iom", n if persons is None else persons, extra, personal(rows))


def _set(row: int, **values: str) -> Callable[[list[dict[str, str]]], None]:
    def edit(rows: list[dict[str, str]]) -> None:
        rows[row].update(values)

    return edit


def _each(field_name: str, values: list[str]) -> Callable[[list[dict[str, str]]], None]:
    def edit(rows: list[dict[str, str]]) -> None:
        for r, v in zip(rows, values, strict=False):
            r[field_name] = v

    return edit


def _mosvy(
    id: str,
    what: str,
    edit: Callable[[list[list[object]]], None] | None = None,
    book: Callable[[list[list[object]]], bytes] = mosvy_book,
    n: int = 5,
    extra: int = 0,
    name: str = "dosvy_kampong_thom_2024_06.xlsx",
    persons: int | None = None,
) -> Case:
    rows = mosvy_rows(n)
    if edit:
        edit(rows)
    return Case(
        id, what, book(rows), name, "mosvy", n if persons is None else persons, extra, mosvy_personal(rows)
    )


def _mset(row: int, col: int, value: object) -> Callable[[list[list[object]]], None]:
    def edit(rows: list[list[object]]) -> None:
        rows[row][col] = value

    return edit


def _mcol(col: int, values: list[object]) -> Callable[[list[list[object]]], None]:
    def edit(rows: list[list[object]]) -> None:
        for r, v in zip(rows, values, strict=False):
            r[col] = v

    return edit


def csv_cases() -> list[Case]:
    good = csv_text
    lines = lambda rows: csv_text(rows).split("\r\n")  # noqa: E731
    join = "\r\n".join
    cases = [
        _iom("csv-good", "a good list (the control)", good),
        _iom(
            "utf16-bom-tab",
            "Excel's 'Unicode text': UTF-16 with BOM, tabs",
            lambda r: good(r, delimiter="\t").encode("utf-16"),
        ),
        _iom("utf16-bom-comma", "UTF-16 LE with BOM, commas", lambda r: good(r).encode("utf-16")),
        _iom(
            "utf16-be-bom", "UTF-16 BE with BOM", lambda r: codecs.BOM_UTF16_BE + good(r).encode("utf-16-be")
        ),
        _iom("utf16-no-bom", "UTF-16 LE without BOM", lambda r: good(r).encode("utf-16-le")),
        _iom(
            "utf16-truncated",
            "UTF-16 with BOM cut one byte short (a copy interrupted)",
            lambda r: good(r).encode("utf-16")[:-1],
        ),
        _iom(
            "utf16-truncated-mid-row",
            "UTF-16 with BOM cut in the middle of the last row at an odd byte",
            lambda r: (lambda b: b[: len(b) - 41])(good(r).encode("utf-16")),
            persons=5,
        ),
        _iom(
            "cp1252",
            "Windows-1252 (accents in a name)",
            lambda r: good(r).encode("cp1252"),
            edit=_set(1, full_name="SOKUNTHÉA CHEA", village_of_origin="Prey Kdei – Ouest"),
        ),
        _iom(
            "mixed-utf8-cp1252",
            "UTF-8 with one row pasted from a Windows-1252 file",
            lambda r: good(r).encode("utf-8").replace(b"PHEAKDEY KEO", "PHEAKDÉY KEO".encode("cp1252")),
        ),
        _iom("utf8-bom", "UTF-8 with BOM", lambda r: codecs.BOM_UTF8 + good(r).encode()),
        _iom(
            "double-bom",
            "two BOMs (a BOM written over a BOM)",
            lambda r: codecs.BOM_UTF8 * 2 + good(r).encode(),
        ),
        _iom("semicolon", "semicolons (a French or German Excel)", lambda r: good(r, delimiter=";")),
        _iom("tab", "tab-separated", lambda r: good(r, delimiter="\t")),
        _iom("sep-line", "Excel's 'sep=;' first line", lambda r: "sep=;\r\n" + good(r, delimiter=";")),
        _iom(
            "quoted-newline",
            "a village written over two lines inside quotes",
            good,
            edit=_set(2, village_of_origin="Phum Thmei\nKrom 3"),
        ),
        _iom("cr-only", "old Mac line ends (CR only)", lambda r: good(r, newline="\r")),
        _iom(
            "mixed-newlines",
            "lines ending LF and CRLF",
            lambda r: "\n".join(lines(r)[:3]) + "\r\n" + "\r\n".join(lines(r)[3:]),
        ),
        _iom(
            "ragged-long",
            "a row with two cells too many (a comma typed in a name)",
            lambda r: good(r).replace("RATHANAK NGUON", "RATHANAK, NGUON,x"),
        ),
        _iom(
            "ragged-short",
            "a row with five cells",
            lambda r: join([*lines(r)[:2], ",".join(lines(r)[2].split(",")[:5]), *lines(r)[3:]]),
        ),
        _iom(
            "trailing-commas",
            "every row ends with empty cells past the header",
            lambda r: "\r\n".join(x + ",,," if x else x for x in lines(r)),
        ),
        _iom(
            "duplicate-header-cell",
            "the header names 'phone' twice",
            lambda r: good(r).replace("referred_to", "phone", 1),
        ),
        _iom(
            "blank-header-cell-with-data",
            "a column with no header holds a value",
            lambda r: good(r).replace("batch_id", "", 1),
        ),
        _iom(
            "title-rows",
            "a title, a date line and a blank line above the header",
            lambda r: "IOM Cambodia - returns June 2024\r\nPrinted 01/07/2024,,\r\n\r\n" + good(r),
        ),
        _iom(
            "header-repeated",
            "the header printed again in the middle (two pages pasted together)",
            lambda r: join([*lines(r)[:3], lines(r)[0], *lines(r)[3:]]),
            extra=1,
        ),
        _iom(
            "totals-row",
            "a totals row at the bottom",
            lambda r: good(r) + "Total,5,,,,,,,,,,,,,,,,,\r\n",
            extra=1,
        ),
        _iom(
            "totals-row-name",
            "a 'TOTAL' row with the count in the name column",
            lambda r: good(r) + ",TOTAL: 5 persons,,,,,,,,,,,,,,,,,\r\n",
            extra=1,
        ),
        _iom("truncated-mid-row", "the file cut in the middle of its last row", lambda r: good(r)[:-60]),
        _iom(
            "truncated-mid-char",
            "cut in the middle of a Khmer character",
            lambda r: good(r).encode()[:-3],
            edit=_set(4, batch_id="ក្រុមទី៧"),
        ),
        _iom("header-only", "a file with only its header", lambda r: good(r).split("\r\n")[0] + "\r\n", n=0),
        _iom("header-only-no-newline", "only a header, no line end", lambda r: good(r).split("\r\n")[0], n=0),
        Case("zero-bytes", "a zero-byte file", b"", "iom_returns_2024_06.csv", "iom", 0),
        Case("only-bom", "a file holding only a BOM", codecs.BOM_UTF8, "iom_returns_2024_06.csv", "iom", 0),
        _iom(
            "nul-padded",
            "the end of the file filled with NUL bytes (a disk error)",
            lambda r: good(r).encode() + b"\x00" * 4096,
        ),
        _iom(
            "huge-cell",
            "a remarks-like cell of 300,000 characters",
            good,
            edit=_set(1, sector="x" * 300_000),
        ),
        _iom(
            "date-formats",
            "birth dates as text in several formats",
            good,
            edit=_each("dob", ["12-03-1990", "12.03.1990", "1990/03/12", "12 Mar 1990", "March 12, 1990"]),
        ),
        _iom(
            "two-digit-years",
            "dates with two-digit years",
            good,
            edit=_each("dob", ["12/03/90", "01/01/85", "30/12/99", "05/05/01", "12-Mar-90"]),
        ),
        _iom(
            "excel-serial-text",
            "dates exported as Excel day numbers",
            good,
            edit=_each("date_of_return", ["45448", "45449", "45450", "45451", "45452"]),
        ),
        _iom(
            "khmer-digits",
            "case numbers, dates and phones in Khmer digits",
            good,
            edit=_each("dob", ["១២/០៣/១៩៩០", "០១/០២/១៩៨៥", "៣០/១២/១៩៩៩", "០៥/០៥/២០០១", "២០/១០/១៩៩៨"]),
        ),
        _iom(
            "phone-floats",
            "phones as Excel wrote them: 8.55123E+10, 85512345678.0",
            good,
            edit=_each("phone", ["8.55123E+10", "85512345678.0", "8.55E+10", "1.2345678E+7", "855123456789"]),
        ),
        _iom(
            "thousands-separators",
            "age and documents with thousands separators",
            good,
            edit=_each("travel_doc_no", ["1,234,567", "N0 4,418,201", "", "", ""]),
        ),
        _iom(
            "leading-apostrophe",
            "cells kept as text with Excel's leading apostrophe",
            good,
            edit=_each("dob", ["'12/03/1990", "'01/02/1985", "", "", ""]),
        ),
        _iom(
            "apostrophe-phone-id",
            "apostrophes before phones and case numbers",
            good,
            edit=lambda rows: [
                r.update(phone="'" + r["phone"], iom_case_no="'" + r["iom_case_no"]) for r in rows
            ],
        ),
        _iom(
            "equals-quoted",
            'values written ="012345678" to keep their zeros (a common CSV trick)',
            lambda r: good(r).replace('"=""', '="').replace('"""', '"'),
            edit=lambda rows: [r.update(phone=f'="{r["phone"]}"') for r in rows],
        ),
        _iom(
            "placeholders",
            "'-', 'N/A' and '?' typed for an unknown birth date, age or phone",
            good,
            edit=lambda rows: (
                rows[0].update(dob="-", phone="N/A"),
                rows[1].update(dob="N/A", age_at_return="?"),
                rows[2].update(dob="?", travel_doc_no="-"),
            ),
        ),
        _iom(
            "spaces-only",
            "required cells holding only spaces",
            good,
            edit=_set(2, full_name="   ", date_of_return="  "),
        ),
        _iom(
            "nbsp-zero-width",
            "NBSP and zero-width characters around values",
            good,
            edit=lambda rows: rows[1].update(
                full_name="SOKUNTHEA\u00a0CHEA",
                iom_case_no="KH-IOM-2024-7302\u200b",
                dob="01/02/1981\u200b",
                phone="\u00a0012 555001",
            ),
        ),
        _iom(
            "zero-width-duplicate-id",
            "two rows with the same case number, one with a zero-width space",
            good,
            edit=lambda rows: rows[1].update(iom_case_no=rows[0]["iom_case_no"] + "\u200b"),
        ),
        _iom(
            "control-chars",
            "control characters (bell, escape, backspace) inside cells",
            good,
            edit=_set(2, full_name="PHEAKDEY\x07 KEO\x1b[2J", sector="fish\x08ing"),
        ),
        _iom("nul-in-cell", "a NUL byte inside a cell", good, edit=_set(1, full_name="SOKUNTHEA\x00CHEA")),
        _iom(
            "reordered-columns",
            "columns in another order",
            lambda r: good(r, header=list(reversed(IOM_HEADER))),
        ),
        _iom(
            "renamed-columns",
            "columns renamed the way a clerk retypes them",
            lambda r: (
                good(r)
                .replace("iom_case_no", "Case No", 1)
                .replace("full_name", "Full Name", 1)
                .replace("date_of_return", "Date of Return", 1)
            ),
        ),
        _iom(
            "column-missing",
            "the return-date column left out",
            lambda r: good(r, header=[h for h in IOM_HEADER if h != "date_of_return"]),
        ),
        _iom(
            "extra-columns",
            "two unknown columns added",
            lambda r: good(
                [{**x, "Notes": "ok", "Officer": "SREY"} for x in r], header=[*IOM_HEADER, "Notes", "Officer"]
            ),
        ),
        _iom(
            "csv-really-xlsx", "a workbook named .csv", lambda r: _iom_book(r), name="iom_returns_2024_06.csv"
        ),
        _iom(
            "html-as-xls", "a web system's HTML table named .xls", html_table, name="iom_returns_2024_06.xls"
        ),
        _iom("html-as-csv", "an HTML table named .csv", html_table),
        _iom(
            "spreadsheetml-2003",
            "an Excel 2003 XML spreadsheet",
            lambda r: (
                b'<?xml version="1.0"?>\r\n<?mso-application progid="Excel.Sheet"?>\r\n'
                b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet><Table>'
                + "".join(f"<Row><Cell><Data>{h}</Data></Cell></Row>" for h in IOM_HEADER).encode()
                + b"</Table></Worksheet></Workbook>"
            ),
            name="iom_returns_2024_06.xml",
        ),
        _iom(
            "limon-ngo-like-latin",
            "Khmer typed in a legacy font (Limon) in the name column",
            good,
            edit=_set(3, full_name="sux dara"),
        ),
        _iom(
            "gzip",
            "the list gzipped",
            lambda r: __import__("gzip").compress(good(r).encode(), mtime=0),
            name="iom.csv.gz",
        ),
    ]
    return cases


def _iom_book(rows: list[dict[str, str]]) -> bytes:
    return workbook([("Sheet1", "visible", [IOM_HEADER, *[[r[h] for h in IOM_HEADER] for r in rows]])])


def _merged_province(rows: list[list[object]]) -> None:
    for r in rows[1:]:
        r[PROV] = None
        r[RET] = None


def xlsx_cases() -> list[Case]:
    # the header is on sheet row 3 (title, blank), rows from 4
    prov, ret = chr(ord("A") + PROV), chr(ord("A") + RET)
    cases = [
        _mosvy("xlsx-good", "a good MoSVY workbook (the control)"),
        _mosvy("xlsx-no-title", "header on the first row", book=lambda r: mosvy_book(r, titles=False)),
        _mosvy(
            "merged-title",
            "a title merged across the columns",
            book=lambda r: mosvy_book(r, merges=["A1:Q1"]),
        ),
        _mosvy(
            "merged-down",
            "province and return date merged down over a batch's rows",
            _merged_province,
            book=lambda r: mosvy_book(r, merges=[f"{prov}4:{prov}8", f"{ret}4:{ret}8"]),
        ),
        _mosvy(
            "data-on-second-sheet",
            "a cover sheet first, the list on the second",
            book=lambda r: workbook(
                [
                    ("Cover", "visible", [["Ministry of Social Affairs"], ["June 2024"]]),
                    ("List", "visible", [MOSVY_HEADER, *r]),
                ]
            ),
        ),
        _mosvy(
            "empty-first-sheet",
            "an empty first sheet",
            book=lambda r: workbook([("Sheet1", "visible", []), ("Sheet2", "visible", [MOSVY_HEADER, *r])]),
        ),
        _mosvy(
            "hidden-sheet-old-copy",
            "a hidden sheet holding last month's list",
            book=lambda r: workbook(
                [("Old", "hidden", [MOSVY_HEADER, *r[:2]]), ("June", "visible", [MOSVY_HEADER, *r])]
            ),
        ),
        _mosvy("hidden-rows", "two rows hidden", book=lambda r: mosvy_book(r, hidden_rows=[5, 6])),
        _mosvy(
            "only-empty-sheet",
            "a workbook with one empty sheet",
            book=lambda r: workbook([("Sheet1", "visible", [])]),
            persons=0,
        ),
        _mosvy("password", "a workbook saved with a password", book=lambda r: encrypted(mosvy_book(r))),
        Case("xls-as-xlsx", "an Excel 97-2003 .xls named .xlsx", old_xls_bytes(), "dosvy.xlsx", "mosvy", 0),
        _mosvy(
            "broken-member",
            "a zip whose sheet's bytes are damaged",
            book=lambda r: broken_member(mosvy_book(r)),
        ),
        _mosvy(
            "xlsx-truncated",
            "a workbook cut at half its size",
            book=lambda r: (lambda b: b[: len(b) // 2])(mosvy_book(r)),
        ),
        _mosvy(
            "xlsx-no-sheet-part",
            "a workbook whose sheet part is missing",
            book=lambda r: rezip(mosvy_book(r), lambda n, b: None if n == "xl/worksheets/sheet1.xml" else b),
        ),
        _mosvy(
            "xlsx-bad-xml",
            "a sheet whose XML is cut",
            book=lambda r: rezip(
                mosvy_book(r), lambda n, b: b[: len(b) // 2] if n == "xl/worksheets/sheet1.xml" else b
            ),
        ),
        _mosvy(
            "formula-cached-row-numbers",
            "row numbers as formulas (=ROW()-3) with their saved values",
            book=lambda r: with_cached_formulas(mosvy_book(r), "A", "ROW()-3"),
        ),
        _mosvy(
            "formula-no-cache",
            "an age computed by a formula with no saved value (written by a program)",
            _mcol(4, ["=2024-1990"] * 5),
        ),
        _mosvy(
            "error-values",
            "Excel error values (#N/A, #REF!) in name and place cells",
            lambda rows: (rows[1].__setitem__(2, "#N/A"), rows[2].__setitem__(PROV, "#REF!")),
        ),
        _mosvy(
            "date-serials",
            "dates as day numbers in cells with no date format",
            _mcol(RET, [45448, 45449, 45450.0, 45451, 45452]),
        ),
        _mosvy(
            "real-dates",
            "dates as Excel dates",
            _mcol(RET, [dt.datetime(2024, 6, d) for d in range(1, 6)]),
        ),
        _mosvy(
            "dates-as-text-mixed",
            "return dates as text in several formats",
            _mcol(RET, ["05/06/2024", "2024-06-05", "5-6-2024", "05 មិថុនា 2024", "June 5, 2024"]),
        ),
        _mosvy(
            "khmer-digits-everywhere",
            "row numbers, ages, dates, IDs and phones in Khmer digits",
            lambda rows: [
                r.__setitem__(slice(0, 1), ["១២៣៤៥"[i]]) or r.__setitem__(NID, "១១០២០០៣០" + "០១២៣៤"[i])
                for i, r in enumerate(rows)
            ],
        ),
        _mosvy(
            "ids-as-floats",
            "ID and phone numbers stored as numbers (leading zero lost)",
            lambda rows: [
                r.__setitem__(NID, float(110200300 + i)) or r.__setitem__(PHONE, 977000000 + i)
                for i, r in enumerate(rows)
            ],
        ),
        _mosvy(
            "phone-scientific",
            "phones as the text Excel shows for a big number",
            _mcol(PHONE, ["8.55977E+10", "8.55977E+10", "", "", ""]),
        ),
        _mosvy(
            "id-thousands",
            "IDs with thousands separators",
            _mcol(NID, ["110,200,300", "110.200.301", "", "", ""]),
        ),
        _mosvy(
            "spaces-nbsp-zw",
            "cells of spaces, NBSP and zero-width spaces",
            lambda rows: (
                rows[1].__setitem__(2, "\u00a0\u00a0"),
                rows[2].__setitem__(RET, " \u200b"),
                rows[3].__setitem__(1, "\u200bកែវ\u200b"),
            ),
        ),
        _mosvy(
            "header-repeated-xlsx",
            "the header again in the middle",
            lambda rows: rows.insert(2, list(MOSVY_HEADER)),
            persons=5,
            extra=1,
        ),
        _mosvy(
            "column-numbers-row",
            "a row of column numbers (1, 2, 3 ...) under the header",
            lambda rows: rows.insert(0, [str(i) for i in range(1, 18)]),
            persons=5,
            extra=1,
        ),
        _mosvy(
            "column-numbers-khmer",
            "a row of column numbers in Khmer digits under the header",
            lambda rows: rows.insert(
                0, ["(" + "".join("០១២៣៤៥៦៧៨៩"[int(c)] for c in str(i)) + ")" for i in range(1, 18)]
            ),
            persons=5,
            extra=1,
        ),
        _mosvy(
            "totals-row-xlsx",
            "a totals row (សរុប) at the bottom",
            lambda rows: rows.append(
                [
                    "សរុប",
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    "5 នាក់",
                ]
            ),
            persons=5,
            extra=1,
        ),
        _mosvy(
            "signature-block",
            "a signature and date block under the list",
            lambda rows: rows.extend(
                [
                    [],
                    [
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        "ធ្វើនៅ ថ្ងៃទី ៣០ ខែ មិថុនា ឆ្នាំ ២០២៤",
                    ],
                    [None] * 11 + ["ប្រធានមន្ទីរ"],
                ]
            ),
            persons=5,
            extra=2,
        ),
        _mosvy(
            "limon-names",
            "names typed in the Limon legacy font",
            lambda rows: (
                rows[1].__setitem__(1, "sux"),
                rows[1].__setitem__(2, "dara"),
                rows[2].__setitem__(2, "rtn³"),
            ),
        ),
        _mosvy("xlsx-header-only", "a workbook with only the header", n=0),
        _mosvy(
            "xlsx-column-missing",
            "the return-date column deleted",
            book=lambda r: workbook(
                [
                    (
                        "S",
                        "visible",
                        [
                            [h for i, h in enumerate(MOSVY_HEADER) if i != RET],
                            *[[c for i, c in enumerate(x) if i != RET] for x in r],
                        ],
                    )
                ]
            ),
        ),
        _mosvy(
            "xlsx-blank-header-with-data",
            "a column with no header holds values",
            lambda rows: [r.append("note") for r in rows],
        ),
        _mosvy(
            "xlsx-duplicate-header",
            "two columns headed ខេត្ត",
            book=lambda r: workbook([("S", "visible", [[*MOSVY_HEADER, "ខេត្ត"], *[[*x, "x"] for x in r]])]),
        ),
        _mosvy("xlsx-huge-cell", "a cell at Excel's limit", _mset(1, 16, "ក" * 32_767)),
        _mosvy("booleans", "TRUE/FALSE cells", _mcol(16, [True, False, True, False, True])),
        _mosvy("ods-as-xlsx", "a LibreOffice .ods named .xlsx", book=ods),
    ]
    return cases


def ngo_cases() -> list[Case]:
    def rows(n: int = 4) -> list[dict[str, str]]:
        out = []
        for i in range(n):
            out.append(
                {
                    "client_id": f"HG-{3100 + i}",
                    "name_kh": f"{KH_FAMILY[i]} {KH_GIVEN[i]}",
                    "name_en": f"{FAMILY[i]} {GIVEN[i]}",
                    "dob": f"19{85 + i}-0{i + 1}-1{i}",
                    "sex": "M",
                    "province": "Kampong Thom",
                    "district": "Sandan",
                    "commune": "",
                    "village": "",
                    "phone": f"+855 12 {400100 + i}",
                    "intake_date": f"2024-07-0{i + 1}",
                    "referral_source": "IOM",
                    "case_manager": "Case worker 2",
                    "case_status": "Active",
                    "services": "medical;psychosocial",
                    "last_follow_up_date": "",
                    "consent_form_signed": "Y",
                }
            )
        return out

    def ngo(
        id: str, what: str, fn: Callable[[list[dict[str, str]]], bytes], n: int = 4, **kw: object
    ) -> Case:
        r = rows(n)
        return Case(id, what, fn(r), "hagar_export.csv", "ngo-hagar", n, values=personal(r), **kw)  # type: ignore[arg-type]

    txt = lambda r, **k: csv_text(r, NGO_HEADER, **k)  # noqa: E731
    return [
        ngo("ngo-good", "a good NGO export (the control)", lambda r: txt(r).encode()),
        ngo(
            "ngo-utf16", "UTF-16 'Unicode text' with tabs", lambda r: txt(r, delimiter="\t").encode("utf-16")
        ),
        ngo(
            "ngo-services-semicolon",
            "a ;-separated file whose services hold ; too (quoted)",
            lambda r: txt(r, delimiter=";").encode(),
        ),
        ngo(
            "ngo-services-unquoted",
            "a ;-separated file whose services hold ; unquoted",
            lambda r: txt(r, delimiter=";").replace('"', "").encode(),
        ),
        ngo(
            "ngo-limon",
            "name_kh typed in Limon",
            lambda r: txt([{**r[0], "name_kh": "sux dara"}, *r[1:]]).encode(),
        ),
        ngo(
            "ngo-abc-font",
            "name_kh typed in the ABC legacy font (bytes read as Windows-1252)",
            lambda r: txt([{**x, "name_kh": "ÇÉûÿ ÁâÒÃ" if i == 0 else ""} for i, x in enumerate(r)]).encode(
                "cp1252"
            ),
        ),
        ngo(
            "ngo-khmer-cp-mangled",
            "Khmer UTF-8 read as Windows-1252 and saved again (mojibake)",
            lambda r: txt(r).encode("utf-8").decode("cp1252", errors="replace").encode("utf-8"),
        ),
    ]


def big_cases(rows: int = 100_000) -> list[Case]:
    """A 100,000-row list (CSV), and the same with a defect every thousand rows."""
    base = iom_rows(7)

    def many(defects: bool) -> bytes:
        out = []
        for i in range(rows):
            r = dict(base[i % 7])
            r["iom_case_no"] = f"KH-IOM-{i:07d}"
            if defects and i % 1000 == 7:
                r["date_of_return"] = "31/02/2024"
            out.append(r)
        return csv_text(out).encode()

    return [
        Case("big-100k", f"{rows:,} rows", many(False), "iom_big.csv", "iom", rows),
        Case(
            "big-100k-defects",
            f"{rows:,} rows, a bad date every thousand",
            many(True),
            "iom_big2.csv",
            "iom",
            rows,
        ),
    ]


# --- kinds added in session 13: each says what must become of it -----------------------------


def _expect(case: Case, kind: str, loaded: int | None = None) -> Case:
    case.expect, case.expect_loaded = kind, loaded
    return case


def _lines_quoted(text: str) -> bytes:
    """Every line one quoted cell: a list pasted into one column, then saved as CSV."""
    return "".join('"' + line.replace('"', '""') + '"\r\n' for line in text.splitlines()).encode()


def _strict(data: bytes) -> bytes:
    """The workbook as Excel's "Strict Open XML Spreadsheet" names its XML."""
    pairs = [
        (
            b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            b"http://purl.oclc.org/ooxml/spreadsheetml/main",
        ),
        (
            b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
            b"http://purl.oclc.org/ooxml/officeDocument/relationships",
        ),
    ]

    def edit(name: str, body: bytes) -> bytes:
        for a, b in pairs:
            body = body.replace(a, b)
        return body

    return rezip(data, edit)


def _at_b3(rows: list[list[object]]) -> bytes:
    """The list from cell B3 under a title in B1 (column A left empty), an age by a formula
    with no saved value in its third row."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B1"] = "បញ្ជីឈ្មោះជនរងគ្រោះ ឆ្នាំ ២០២៤"
    for i, row in enumerate([MOSVY_HEADER, *rows]):
        for j, v in enumerate(row):
            ws.cell(row=3 + i, column=2 + j, value=v)
    ws["F6"] = "=2024-1990"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _two_header_rows(rows: list[list[object]]) -> bytes:
    """ទីលំនៅ ("address") merged over the four place columns, their titles on the row below,
    every other title merged down over both rows: a MoSVY form's header."""
    top = [*MOSVY_HEADER[:6], "ទីលំនៅ", None, None, None, *MOSVY_HEADER[10:]]
    sub: list[object] = [None] * 6 + list(MOSVY_HEADER[6:10]) + [None] * 7
    merges = [f"{c}1:{c}2" for c in "ABCDEFKLMNOPQ"] + ["G1:J1"]
    return workbook([("Sheet1", "visible", [top, sub, *rows])], merges=merges)


def _protected(rows: list[list[object]]) -> bytes:
    """A sheet locked against editing (Review > Protect Sheet): no password to open it."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [MOSVY_HEADER, *rows]:
        ws.append(row)
    ws.protection.sheet = True
    ws.protection.password = "dosvy"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _renamed(text: str, names: dict[str, str]) -> str:
    head, rest = text.split("\r\n", 1)
    return ",".join(names.get(h, h) for h in head.split(",")) + "\r\n" + rest


def _ngo_rows(n: int = 4) -> list[dict[str, str]]:
    return [
        {
            "client_id": f"HG-{3100 + i}",
            "name_kh": f"{KH_FAMILY[i]} {KH_GIVEN[i]}",
            "name_en": f"{FAMILY[i]} {GIVEN[i]}",
            "dob": f"19{85 + i}-0{i + 1}-1{i}",
            "sex": "M",
            "province": "Kampong Thom",
            "district": "Sandan",
            "phone": f"+855 12 {400100 + i}",
            "intake_date": f"2024-07-0{i + 1}",
            "referral_source": "IOM",
            "case_manager": "Case worker 2",
            "case_status": "Active",
            "services": "medical",
            "consent_form_signed": "Y",
        }
        for i in range(n)
    ]


_ENGLISH = ["No.", "Family name", "Given name", "Sex", "Age", "Date of birth", "Village", "Commune"]
_ENGLISH += [
    "District",
    "Province",
    "Country",
    "Date of return",
    "Border",
    "Father",
    "ID card",
    "Phone",
    "Remarks",
]

_STAFF_NAMES = {
    "client_id": "Client ID",
    "name_kh": "Name (Khmer)",
    "name_en": "Name (English)",
    "dob": "Date of Birth",
    "intake_date": "Intake Date",
    "case_status": "Status",
    "phone": "Phone Number",
    "case_manager": "Case Worker",
}


def session13_cases() -> list[Case]:
    good = csv_text
    iom_pair = lambda r: good(r[:3]) + "\ufeff" + good(r[3:])  # noqa: E731
    ngo = _ngo_rows()
    ngo_text = csv_text(ngo, NGO_HEADER)
    return [
        _expect(
            _iom(
                "dob-written-month",
                "birth dates as dd-mmm-yy, with ordinals, weekdays and AM/PM times",
                good,
                edit=_each(
                    "dob", ["12-Mar-90", "05 Jun 85", "Mar 12, 90", "12th March 1990", "12/03/1990 12:00 AM"]
                ),
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "dob-khmer-written",
                "birth dates written out in Khmer: ថ្ងៃទី.. ខែ.. ឆ្នាំ.., ព.ស. years, month and year",
                _mcol(
                    DOB,
                    ["ថ្ងៃទី១២ ខែមីនា ឆ្នាំ១៩៩០", "ព.ស. ២៥២៨", "១២ ខែ ៣ ឆ្នាំ ១៩៩០", "ខែមីនា ១៩៩០", "១២ តុលា ២៥៣៣"],
                ),
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "dob-lunar-month",
                "a birth date in a Khmer lunar month (មិគសិរ)",
                _mset(2, DOB, "១២ មិគសិរ ២៥៣៣"),
            ),
            "quarantined rows",
            4,
        ),
        _expect(
            _mosvy(
                "dob-year-numbers", "birth years typed as numbers (1990, 1985.0)", _mcol(DOB, [1990, 1985.0])
            ),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "return-year-only", "a return date of a year alone", good, edit=_set(2, date_of_return="2024")
            ),
            "quarantined rows",
            4,
        ),
        _expect(
            _mosvy(
                "list-at-b3-formula", "the list from B3, an age by a formula never calculated", book=_at_b3
            ),
            "quarantined rows",
            4,
        ),
        _expect(
            _mosvy(
                "two-header-rows",
                "the header over two rows, ទីលំនៅ merged over the places",
                book=_two_header_rows,
            ),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "csv-group-title-row",
                "a row of group titles above the header (Case, Origin, Return)",
                lambda r: (
                    ",".join(["Case", "", "", "", "", "Origin", "", "", "", "", "", "Return"] + [""] * 7)
                    + "\r\n"
                    + good(r)
                ),
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "strict-ooxml",
                "saved as Excel's Strict Open XML Spreadsheet",
                book=lambda r: _strict(mosvy_book(r)),
            ),
            "ingested",
            5,
        ),
        _expect(
            _iom("lines-quoted-whole", "every line quoted whole", lambda r: _lines_quoted(good(r))),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "two-exports-two-boms",
                "two exports pasted into one file, a BOM before each",
                iom_pair,
                extra=1,
            ),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "csv-footer-lines",
                "'Printed by' and 'Page 1 of 1' lines under the list",
                lambda r: good(r) + "Printed by ActivityInfo on 01/07/2024\r\nPage 1 of 1\r\n",
                extra=2,
            ),
            "quarantined rows",
            5,
        ),
        _expect(
            Case(
                "ngo-renamed-columns",
                "an NGO export with its columns renamed by staff (Client ID, Status ...)",
                _renamed(ngo_text, _STAFF_NAMES).encode(),
                "hagar_export.csv",
                "ngo-hagar",
                4,
                values=personal(ngo),
            ),
            "ingested",
            4,
        ),
        _expect(
            Case(
                "ngo-required-renamed",
                "the case-status column renamed past recognition ('Stage of case')",
                _renamed(ngo_text, {"case_status": "Stage of case"}).encode(),
                "hagar_export.csv",
                "ngo-hagar",
                4,
                values=personal(ngo),
            ),
            "refused file",
        ),
        _expect(
            _mosvy(
                "month-first-excel",
                "DD/MM/YYYY typed into an Excel set to MM/DD: some became dates (swapped), some text",
                _mcol(
                    RET,
                    [
                        dt.datetime(2024, 5, 6),
                        "13/06/2024",
                        "14/06/2024",
                        dt.datetime(2024, 3, 6),
                        dt.datetime(2024, 6, 6),
                    ],
                ),
            ),
            "quarantined rows",
            3,
        ),
        _expect(
            _mosvy(
                "bilingual-titles",
                "titles in Khmer and English in one cell (នាមត្រកូល / Family name over two lines)",
                book=lambda r: workbook(
                    [
                        (
                            "Sheet1",
                            "visible",
                            [[f"{k}\n{e}" for k, e in zip(MOSVY_HEADER, _ENGLISH, strict=True)], *r],
                        )
                    ]
                ),
            ),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "form-marks-ctrl-z",
                "titles marked required (Date of return *) or with a colon, a Ctrl-Z at the end",
                lambda r: (
                    lambda t: (
                        ",".join(
                            f"{h} *" if h in ("iom_case_no", "full_name") else f"{h}:" for h in IOM_HEADER
                        )
                        + t[t.index("\r\n") :]
                        + "\x1a"
                    )
                )(good(r)),
            ),
            "ingested",
            5,
        ),
        _expect(_mosvy("xlsm", "a macro-enabled workbook (.xlsm)", name="dosvy_2024_06.xlsm"), "ingested", 5),
        _expect(_mosvy("sheet-protected", "a sheet locked against editing", book=_protected), "ingested", 5),
        _expect(
            _iom("csv-named-xlsx", "a CSV named .xlsx", good, name="iom_returns_2024_06.xlsx"), "ingested", 5
        ),
        _expect(
            _mosvy(
                "mosvy-unicode-text",
                "a MoSVY list saved as Excel's 'Unicode text' (.txt, UTF-16, tabs)",
                book=lambda r: (
                    "\t".join(MOSVY_HEADER) + "\r\n" + "".join("\t".join(map(str, x)) + "\r\n" for x in r)
                ).encode("utf-16"),
                name="dosvy_2024_06.txt",
            ),
            "ingested",
            5,
        ),
    ]


# --- kinds added in session 14 (h11-bad) ----------------------------------------------------


def _pages(rows: list[list[object]], every: int, header: list[list[object]]) -> list[list[object]]:
    """The rows with the header's rows printed again before every page of `every` rows."""
    out: list[list[object]] = []
    for i, r in enumerate(rows):
        if i and i % every == 0:
            out.extend(list(h) for h in header)
        out.append(r)
    return out


_BILINGUAL = [f"{k}\n{e}" for k, e in zip(MOSVY_HEADER, _ENGLISH, strict=True)]


def _dob_ret_parts_khmer(rows: list[list[object]]) -> bytes:
    """ថ្ងៃខែឆ្នាំកំណើត and ថ្ងៃខែឆ្នាំត្រឡប់មកវិញ each merged over three boxes, ថ្ងៃ ខែ ឆ្នាំ (day,
    month, year) on the row below, every other title merged down over both rows."""
    top: list[object] = []
    sub: list[object] = []
    body: list[list[object]] = [[] for _ in rows]
    merges: list[str] = []
    col = 0
    for j, title in enumerate(MOSVY_HEADER):
        letter = lambda c: chr(ord("A") + c)  # noqa: E731
        if j in (DOB, RET):
            top += [title, None, None]
            sub += ["ថ្ងៃ", "ខែ", "ឆ្នាំ"]
            merges.append(f"{letter(col)}1:{letter(col + 2)}1")
            for r, row in zip(body, rows, strict=True):
                d = row[j]
                r += [int(d[:2]), int(d[3:5]), int(d[6:])] if d else [None, None, None]
            col += 3
        else:
            top.append(title)
            sub.append(None)
            merges.append(f"{letter(col)}1:{letter(col)}2")
            for r, row in zip(body, rows, strict=True):
                r.append(row[j])
            col += 1
    return workbook([("Sheet1", "visible", [top, sub, *body])], merges=merges)


def _with_dobs(rows: list[list[object]]) -> None:
    for i, r in enumerate(rows):
        r[DOB] = f"{(i % 27) + 1:02d}/0{(i % 9) + 1}/19{80 + i}"


def _iom_parts(rows: list[dict[str, str]], blank_return_day: int | None = None) -> str:
    """dob and date_of_return each in three columns: Day/Month/Year of birth, return_dd ..."""
    header = []
    for h in IOM_HEADER:
        if h == "dob":
            header += ["Day of birth", "Month of birth", "Year of birth"]
        elif h == "date_of_return":
            header += ["return_dd", "return_mm", "return_yyyy"]
        else:
            header.append(h)
    out = []
    for r in rows:
        x = dict(r)
        d = r["dob"].split("/") if r["dob"] else ["", "", ""]
        x.update(zip(["Day of birth", "Month of birth", "Year of birth"], d, strict=True))
        x.update(zip(["return_dd", "return_mm", "return_yyyy"], r["date_of_return"].split("/"), strict=True))
        out.append(x)
    out[1]["Day of birth"] = ""  # a month and year alone: born that year
    out[2]["Month of birth"] = "Mar"  # a month by its name
    if blank_return_day is not None:
        out[blank_return_day]["return_dd"] = ""
    return csv_text(out, header)


def _office_zip(parts: dict[str, str]) -> bytes:
    """An Office Open XML file of another kind than a workbook (a .docx, an .xlsb): its
    content types and the parts that say what it is."""
    types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", "<Relationships/>")
        for name, body in parts.items():
            z.writestr(name, body)
    return out.getvalue()


def _ansi(text: str) -> bytes:
    """Excel's 'CSV (Comma delimited)' on an English Windows: cp1252, each Khmer letter ?."""
    return text.encode("cp1252", errors="replace")


def _pandas_export(rows: list[dict[str, str]]) -> str:
    """The list read by pandas (numbers as floats, blanks NaN) and written out again."""
    out = []
    for i, r in enumerate(rows):
        x = dict(r)
        x["travel_doc_no"] = "nan" if i % 2 else "4418201.0"
        x["age_at_return"] = "nan"
        x["referral_date"] = "NaT"
        x["dob"] = "NaT" if i == 3 else r["dob"]
        x["phone"] = "nan" if i == 2 else "12555000.0"
        out.append(x)
    return csv_text(out)


def _sections(rows: list[list[object]]) -> bytes:
    """A province's name on a row of its own over its men (merged across, in column A)."""
    body: list[list[object]] = [["ខេត្តកំពង់ធំ"], *rows[:3], ["ខេត្តសៀមរាប"], *rows[3:]]
    return workbook([("Sheet1", "visible", [MOSVY_HEADER, *body])], merges=["A2:Q2", "A6:Q6"])


def _xls(rows: list[list[object]]) -> bytes:
    """An Excel 97-2003 workbook (BIFF8, as xlwt writes it): a cover sheet, then the list
    with return dates as Excel dates, row numbers as numbers, the province merged down."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    wb.add_sheet("Cover").write(0, 0, "Ministry of Social Affairs")
    ws = wb.add_sheet("List")
    date = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for j, h in enumerate(MOSVY_HEADER):
        ws.write(0, j, h)
    for i, r in enumerate(rows, 1):
        for j, v in enumerate(r):
            if j == RET:
                ws.write(i, j, dt.datetime.strptime(str(v), "%d/%m/%Y"), date)
            elif j == 0:
                ws.write(i, j, int(str(v)))
            elif j != PROV:
                ws.write(i, j, v)
    ws.write_merge(1, len(rows), PROV, PROV, rows[0][PROV])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _zeros_format(rows: list[list[object]]) -> bytes:
    """ID cards kept as numbers (leading zero lost) shown by a 000000000 number format."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(MOSVY_HEADER)
    for i, r in enumerate(rows):
        ws.append(r)
        ws.cell(i + 2, NID + 1, 10200300 + i).number_format = "000000000"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def session14_cases() -> list[Case]:
    english = list(_ENGLISH)
    mosvy_csv = lambda rows, head: csv_text(  # noqa: E731
        [dict(zip(MOSVY_HEADER, map(str, r), strict=True)) for r in rows], MOSVY_HEADER
    ).replace(",".join(MOSVY_HEADER), head, 1)
    return [
        _expect(
            _mosvy(
                "bilingual-header-repeated",
                "titles in Khmer and English in one cell, printed again on each page of two rows",
                book=lambda r: workbook([("Sheet1", "visible", [_BILINGUAL, *_pages(r, 2, [_BILINGUAL])])]),
                extra=2,
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "khmer-english-header-rows-repeated",
                "a Khmer header with an English row under it, both printed again on each page",
                book=lambda r: workbook(
                    [
                        (
                            "Sheet1",
                            "visible",
                            [
                                ["បញ្ជីឈ្មោះជនរងគ្រោះ ឆ្នាំ ២០២៤"],
                                MOSVY_HEADER,
                                english,
                                *_pages(r, 2, [MOSVY_HEADER, english]),
                            ],
                        )
                    ]
                ),
                extra=4,
            ),
            "ingested",
            5,
        ),
        _expect(
            Case(
                "khmer-english-header-rows-csv",
                "a Ministry CSV: English titles over the Khmer ones, both printed again on each page",
                (
                    lambda rows: mosvy_csv(
                        _pages(rows, 2, [english, MOSVY_HEADER]),
                        ",".join(english) + "\r\n" + ",".join(MOSVY_HEADER),
                    ).encode()
                )(mosvy_rows(5)),
                "dosvy_2024_06.csv",
                "mosvy",
                5,
                4,
                mosvy_personal(mosvy_rows(5)),
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "dates-in-three-boxes",
                "birth and return dates each in three boxes, ថ្ងៃ ខែ ឆ្នាំ under a merged title",
                _with_dobs,
                book=_dob_ret_parts_khmer,
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "dates-in-three-columns-khmer",
                "birth date as ថ្ងៃកំណើត, ខែកំណើត, ឆ្នាំកំណើត columns (numbers), one with the year alone",
                book=lambda r: workbook(
                    [
                        (
                            "Sheet1",
                            "visible",
                            [
                                [
                                    *MOSVY_HEADER[:DOB],
                                    "ថ្ងៃកំណើត",
                                    "ខែកំណើត",
                                    "ឆ្នាំកំណើត",
                                    *MOSVY_HEADER[DOB + 1 :],
                                ],
                                *[
                                    [
                                        *x[:DOB],
                                        *([None, None, 1990] if i == 4 else [12, 3, 1980 + i]),
                                        *x[DOB + 1 :],
                                    ]
                                    for i, x in enumerate(r)
                                ],
                            ],
                        )
                    ]
                ),
            ),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "dates-in-three-columns-csv",
                "an IOM CSV with Day/Month/Year of birth and return_dd/_mm/_yyyy columns",
                _iom_parts,
            ),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "return-date-parts-day-missing",
                "return date in three columns, one row's day left blank (a month and year alone)",
                lambda r: _iom_parts(r, blank_return_day=3),
            ),
            "quarantined rows",
            4,
        ),
        # Excel's 'CSV (Comma delimited)' of a Khmer list: every Khmer letter became ?
        _expect(
            Case(
                "ansi-csv-khmer-lost",
                "a MoSVY list saved as 'CSV (Comma delimited)': Khmer titles and names became ????",
                _ansi(mosvy_csv(mosvy_rows(5), ",".join(MOSVY_HEADER))),
                "dosvy_2024_06.csv",
                "mosvy",
                5,
                values=mosvy_personal(mosvy_rows(5)),
            ),
            "refused file",
        ),
        _expect(
            Case(
                "ngo-ansi-khmer-names-lost",
                "an NGO export saved as ANSI CSV: English titles, Khmer names became ????",
                _ansi(csv_text(_ngo_rows(), NGO_HEADER)),
                "hagar_export.csv",
                "ngo-hagar",
                4,
                values=personal(_ngo_rows()),
            ),
            "ingested",  # by their Latin names, the Khmer ones left blank with a warning
            4,
        ),
        _expect(
            _mosvy(
                "docx-as-xlsx",
                "a Word document holding the list as a table, named .xlsx",
                book=lambda r: _office_zip({"word/document.xml": "<w:document/>"}),
            ),
            "refused file",
        ),
        _expect(
            _mosvy(
                "xlsb",
                "an Excel Binary Workbook (.xlsb)",
                book=lambda r: _office_zip({"xl/workbook.bin": "\x83\x01\x00"}),
                name="dosvy_2024_06.xlsb",
            ),
            "refused file",
        ),
        _expect(
            _iom(
                "pandas-export",
                "a list passed through pandas: blanks as nan and NaT, numbers as 4418201.0",
                _pandas_export,
            ),
            "ingested",
            5,
        ),
        _expect(
            Case(
                "mosvy-csv-float-ids",
                "a MoSVY CSV written by a program: row numbers 1.0, ID cards 110200300.0",
                mosvy_csv(
                    [
                        [f"{i + 1}.0", *r[1:NID], f"{float(r[NID])}", *r[NID + 1 :]]
                        for i, r in enumerate(mosvy_rows(5))
                    ],
                    ",".join(MOSVY_HEADER),
                ).encode(),
                "dosvy_2024_06.csv",
                "mosvy",
                5,
                values=mosvy_personal(mosvy_rows(5)),
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "xlsx-province-headings",
                "a province's name on a row of its own over its men (merged across)",
                book=_sections,
                extra=2,
            ),
            "quarantined rows",
            5,
        ),
        _expect(
            _mosvy(
                "xlsx-note-right-of-list",
                "a note typed in a cell right of the list, in a column with no title",
                lambda rows: rows[1].extend([None, None, "checked 02/07"]),
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy("xls-workbook", "an Excel 97-2003 workbook (.xls)", book=_xls, name="dosvy_2024_06.xls"),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "xls-cut-short",
                "an .xls cut at half its size (a copy interrupted)",
                book=lambda r: (lambda b: b[: len(b) // 2])(_xls(r)),
                name="dosvy_2024_06.xls",
            ),
            "refused file",
        ),
        _expect(
            _mosvy(
                "ids-zeros-format",
                "ID card numbers kept as numbers, shown 010200300 by a 000000000 number format",
                book=_zeros_format,
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "name-merged-across",
                "family and given name merged across into one cell, the whole name in it",
                lambda rows: (rows[1].__setitem__(1, "ជា សុគន្ធា"), rows[1].__setitem__(2, None)),
                book=lambda r: mosvy_book(r, merges=["B5:C5"]),
            ),
            "ingested",
            5,
        ),
    ]


# --- kinds added in session 15 (h15-bad) ----------------------------------------------------


def _zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in members.items():
            z.writestr(name, body)
    return out.getvalue()


def _summary_first(rows: list[list[object]]) -> bytes:
    """A summary sheet of counts by province and district first, the list on the second."""
    summary: list[list[object]] = [
        ["សង្ខេប ខែមិថុនា ២០២៤"],
        ["ខេត្ត/រាជធានី", "ស្រុក/ខណ្ឌ", "ចំនួន"],
        ["ខេត្តកំពង់ធំ", "សណ្ដាន់", len(rows)],
        ["សរុប", "", len(rows)],
    ]
    top: list[list[object]] = [["បញ្ជីឈ្មោះជនរងគ្រោះ ឆ្នាំ ២០២៤"], []]
    return workbook([("សង្ខេប", "visible", summary), ("បញ្ជី", "visible", [*top, MOSVY_HEADER, *rows])])


def _csv_shifted(rows: list[dict[str, str]]) -> str:
    """One line with a cell inserted before it and its last cell lost (the same count)."""
    lines = csv_text(rows).splitlines(keepends=True)
    cells = lines[3].rstrip("\r\n").split(",")
    lines[3] = ",".join(["", *cells[:-1]]) + "\r\n"
    return "".join(lines)


def _letter_above(rows: list[list[object]]) -> bytes:
    """A covering letter of 30 lines typed above the list on the same sheet."""
    letter: list[list[object]] = [
        [f"បន្ទាត់ទី {i + 1} នៃលិខិតបញ្ជូន (line {i + 1} of the letter)"] for i in range(30)
    ]
    return workbook([("Sheet1", "visible", [*letter, MOSVY_HEADER, *rows])])


def _csv_letter_above(rows: list[dict[str, str]]) -> str:
    return "".join(f"Line {i + 1} of the covering letter\r\n" for i in range(30)) + csv_text(rows)


def _cells_to_xfd(rows: list[list[object]]) -> bytes:
    """Each row formatted out to Excel's last column (XFD): an empty styled cell there."""

    def edit(name: str, body: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return body
        return body.replace(b"</row>", b'<c r="XFD1" s="0"/></row>')

    return rezip(mosvy_book(rows), edit)


def _mac_1904(rows: list[list[object]]) -> bytes:
    """A workbook in the 1904 date system (old Mac Excel), return dates as plain day numbers."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.epoch = dt.datetime(1904, 1, 1)
    ws = wb.active
    ws.append(MOSVY_HEADER)
    for row in rows:
        row = list(row)
        row[RET] = (dt.datetime(2024, 6, 5) - dt.datetime(1904, 1, 1)).days
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _table_with_total(rows: list[list[object]]) -> bytes:
    """Home > Format as Table with its Total Row: a SUBTOTAL formula under the ages."""
    import openpyxl
    from openpyxl.worksheet.table import Table

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(MOSVY_HEADER)
    for row in rows:
        ws.append(row)
    n = len(rows) + 1
    ws.append(["សរុប", None, None, None, f"=SUBTOTAL(109,E2:E{n})"])
    ws.add_table(Table(displayName="Table1", ref=f"A1:Q{n + 1}", totalsRowCount=1))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _outlook_message() -> bytes:
    """An OLE2 container as Outlook saves a message (.msg): an .xls's stream renamed __substg1.0_."""
    import xlwt

    wb = xlwt.Workbook()
    wb.add_sheet("Sheet1").write(0, 0, "x")
    buf = io.BytesIO()
    wb.save(buf)
    data = bytearray(buf.getvalue())
    at = data.find("Workbook".encode("utf-16-le") + b"\0\0")
    name = "__substg1.0_0037001F".encode("utf-16-le") + b"\0\0"
    data[at : at + 64] = name.ljust(64, b"\0")
    data[at + 64 : at + 66] = len(name).to_bytes(2, "little")
    return bytes(data)


_EML = (
    b"Received: from mail.example.org\r\nFrom: dosvy@example.org\r\nTo: data@example.org\r\n"
    b"Subject: June list\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\n"
)


def _not_a_list(id: str, what: str, data: bytes, name: str, source: str = "mosvy") -> Case:
    return _expect(Case(id, what, data, name, source, 0), "refused file")


def _backslashed(rows: list[dict[str, str]]) -> str:
    """A database or web export: a quote inside a cell written \\" instead of CSV's ""."""
    rows[1]["full_name"] = rows[1]["full_name"].replace(" ", ' "TOM" ', 1)
    rows[2]["village_of_origin"] = 'Phum 3, "Kandal"'
    return csv_text(rows).replace('""', '\\"')


def session15_cases() -> list[Case]:
    iom, mosvy = iom_rows(), mosvy_rows()
    named_zip = _zipped(
        {f"{iom[0]['full_name']}.csv": csv_text(iom).encode(), "June/dosvy.xlsx": mosvy_book(mosvy)}
    )
    return [
        _expect(
            _mosvy(
                "summary-sheet-first",
                "a summary sheet of counts first, the list on the second",
                book=_summary_first,
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "row-shifted-right",
                "one row shifted one column right (a cell inserted before it)",
                lambda r: r.__setitem__(2, [None, *r[2]]),
            ),
            "quarantined rows",
            4,
        ),
        _expect(
            _mosvy(
                "row-shifted-left",
                "one row shifted one column left (its first cell deleted)",
                lambda r: r.__setitem__(2, r[2][1:]),
            ),
            "quarantined rows",
            4,
        ),
        _expect(
            _iom("csv-row-shifted-right", "a CSV line shifted right, its last cell lost", _csv_shifted),
            "quarantined rows",
            4,
        ),
        _expect(
            Case(
                "iom-in-mosvy-folder",
                "an IOM list dropped into the MoSVY folder",
                csv_text(iom).encode(),
                "iom_returns_2024_06.csv",
                "mosvy",
                5,
                values=personal(iom),
            ),
            "refused file",
        ),
        _expect(
            Case(
                "mosvy-in-iom-folder",
                "a MoSVY workbook dropped into the IOM folder",
                mosvy_book(mosvy),
                "dosvy_2024_06.xlsx",
                "iom",
                5,
                values=mosvy_personal(mosvy),
            ),
            "refused file",
        ),
        _expect(
            Case(
                "zip-of-lists",
                "two lists zipped together, one named after a man",
                named_zip,
                "lists_june.zip",
                "mosvy",
                5,
                values=personal(iom) + mosvy_personal(mosvy),
            ),
            "refused file",
        ),
        _not_a_list(
            "photo-jpeg",
            "a phone photo of the printed list",
            b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 16,
            "IMG_2024.jpg",
        ),
        _not_a_list(
            "photo-heic",
            "an iPhone photo (HEIC) named .xlsx",
            b"\x00\x00\x00\x18ftypheic" + bytes(range(256)) * 16,
            "dosvy.xlsx",
        ),
        _not_a_list(
            "screenshot-png",
            "a screenshot of the sheet",
            b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16,
            "list.png",
        ),
        _not_a_list(
            "gsheet-shortcut",
            "a Google Drive shortcut (.gsheet) instead of the sheet",
            b'{"url": "https://docs.google.com/spreadsheets/d/1AbC/edit", "doc_id": "1AbC", '
            b'"email": "office@example.org"}',
            "list.gsheet",
        ),
        _not_a_list(
            "url-shortcut",
            "an internet shortcut (.url) to the shared sheet",
            b"[InternetShortcut]\r\nURL=https://docs.google.com/spreadsheets/d/1AbC/edit\r\n",
            "list.url",
            "iom",
        ),
        _not_a_list(
            "windows-lnk",
            "a Windows shortcut (.lnk) to the list",
            b"L\x00\x00\x00\x01\x14\x02\x00" + bytes(200),
            "list.lnk",
        ),
        _not_a_list(
            "outlook-msg",
            "the e-mail dragged out of Outlook (.msg), the list attached",
            _outlook_message(),
            "June list.msg",
        ),
        _not_a_list("eml", "the e-mail saved as .eml", _EML, "June list.eml", "iom"),
        _not_a_list(
            "xlsx-zero-bytes", "a zero-byte .xlsx (an upload that failed)", b"", "dosvy_2024_06.xlsx"
        ),
        _expect(
            _mosvy("header-below-letter", "a 30-line covering letter above the list", book=_letter_above),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "csv-header-below-letter", "a CSV with a 30-line letter above the header", _csv_letter_above
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy("cells-to-xfd", "every row formatted out to column XFD", book=_cells_to_xfd), "ingested", 5
        ),
        _expect(
            _mosvy(
                "mac-1904-serials", "a Mac 1904-system workbook, return dates as day numbers", book=_mac_1904
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "age-with-word",
                "ages written with the word: អាយុ ២៨, 25 ឆ្នាំ, Age: 30, 30yrs",
                _mcol(4, ["25 ឆ្នាំ", "៣០ឆ្នាំ", "Age: 30", "30yrs", "អាយុ ២៨"]),
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "table-total-row",
                "Format as Table with its Total Row (SUBTOTAL)",
                book=_table_with_total,
                extra=1,
            ),
            "quarantined rows",
            5,
        ),
        _expect(
            _iom(
                "csv-used-range",
                "200,000 lines of empty cells after the list (a formatted column)",
                lambda r: csv_text(r) + ("," * 18 + "\r\n") * 200_000,
            ),
            "ingested",
            5,
        ),
        _expect(
            _iom("backslash-quotes", 'quotes inside cells escaped \\" (a database export)', _backslashed),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "xlsx-two-digit-years",
                "return dates typed with two-digit years (05/06/24)",
                _mcol(RET, ["05/06/24", "5/6/24", "05-06-24", "05.06.24", "5/06/24"]),
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "dob-khmer-month-text",
                "birth dates typed with Khmer month names and digits",
                _mcol(DOB, ["១២ មិថុនា ១៩៩០", "០៥-មីនា-៨៥", "3 មករា 92", "១/កុម្ភៈ/១៩៨៨", "ថ្ងៃ១០ ខែតុលា ឆ្នាំ៩១"]),
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "serial-as-text-xlsx",
                "return dates as the text of Excel day numbers",
                _mcol(RET, ["45448", "45449", "45450.0", "45451", "45452"]),
            ),
            "ingested",
            5,
        ),
    ]


# --- kinds added in session 19 (hB-bad) ------------------------------------------------------


def _sheet_edit(rows: list[list[object]], fn: Callable[[str], str], titles: bool = True) -> bytes:
    """The MoSVY workbook with its first sheet's XML passed through fn."""

    def edit(name: str, body: bytes) -> bytes:
        return fn(body.decode()).encode() if name == "xl/worksheets/sheet1.xml" else body

    return rezip(mosvy_book(rows, titles=titles), edit)


def _hidden_column(rows: list[list[object]]) -> bytes:
    """A column of last year's phones kept hidden between the phone and the remarks."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([*MOSVY_HEADER[:-1], "លេខទូរស័ព្ទចាស់", MOSVY_HEADER[-1]])
    for r in rows:
        ws.append([*r[:-1], "012 000 111", r[-1]])
    ws.column_dimensions["Q"].hidden = True
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _colon_breaks(rows: list[list[object]]) -> bytes:
    """Khmer titles typed as a form: a trailing colon, a line break inside the cell."""
    head = [f"{h} :" if i % 2 else h for i, h in enumerate(MOSVY_HEADER)]
    head[DOB] = "ថ្ងៃខែឆ្នាំ\nកំណើត"
    head[RET] = "ថ្ងៃខែឆ្នាំ\r\nត្រឡប់មកវិញ៖"
    return workbook([("Sheet1", "visible", [["បញ្ជីឈ្មោះ"], head, *rows])])


def _one_column(rows: list[list[object]]) -> bytes:
    """A CSV pasted into Excel without Text to Columns: each line whole in column A."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([MOSVY_HEADER, *rows])
    return workbook([("Sheet1", "visible", [[line] for line in buf.getvalue().splitlines()])])


def _shared_rich(rows: list[list[object]]) -> bytes:
    """Titles and names as Excel keeps text with two fonts in one cell: rich-text runs."""
    import openpyxl
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    def rich(text: str) -> object:
        cut = max(1, len(text) // 2)
        return CellRichText([TextBlock(InlineFont(b=True), text[:cut]), text[cut:]])

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([rich(h) for h in MOSVY_HEADER])
    for r in rows:
        ws.append([rich(v) if j in (1, 2) and v else v for j, v in enumerate(r)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _no_refs(rows: list[list[object]]) -> bytes:
    """A sheet written by a program that leaves out the rows' and cells' r attributes."""
    return _sheet_edit(rows, lambda t: re.sub(r' r="[A-Z]*\d+"', "", t), titles=False)


def _iso_cells(rows: list[list[object]]) -> bytes:
    """Return dates as ISO date cells (t="d"), as some programs and LibreOffice write them."""

    def fn(text: str) -> str:
        col = chr(ord("A") + RET)

        def cell(m: re.Match[str]) -> str:
            row = int(m[2])
            if row == 1:
                return m[0]
            return f'<c r="{m[1]}" t="d"><v>2024-06-{row:02d}T00:00:00</v></c>'

        return re.sub(rf'<c r="({col}(\d+))"[^>]*>.*?</c>', cell, text)

    return _sheet_edit(rows, fn, titles=False)


def _absolute_targets(rows: list[list[object]]) -> bytes:
    """A workbook whose relationships name their parts by absolute paths (/xl/worksheets/...)."""

    def edit(name: str, body: bytes) -> bytes:
        if name == "xl/_rels/workbook.xml.rels":
            return re.sub(rb'Target="(?!/)', b'Target="/xl/', body)
        return body

    return rezip(mosvy_book(rows), edit)


def _big_dimension(rows: list[list[object]]) -> bytes:
    """A sheet that declares more rows than Excel holds (a program's wrong dimension)."""

    def fn(text: str) -> str:
        text = re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:Q2000000"/>', text)
        if "<dimension" not in text:
            text = text.replace("<sheetViews>", '<dimension ref="A1:Q2000000"/><sheetViews>', 1)
        return text

    return _sheet_edit(rows, fn)


def _csv_mojibake_mosvy(rows: list[list[object]]) -> bytes:
    """A MoSVY CSV opened as Windows-1252 and saved again as UTF-8: every Khmer letter mangled."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([MOSVY_HEADER, *rows])
    return buf.getvalue().encode("utf-8").decode("cp1252", errors="replace").encode("utf-8")


def _mosvy_csv(rows: list[list[object]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([MOSVY_HEADER, *rows])
    return buf.getvalue().encode("utf-8")


def _kobo(rows: list[dict[str, str]]) -> str:
    """A KoboToolbox export: each column named by its form group, group/question."""
    text = csv_text(rows, NGO_HEADER)
    head, rest = text.split("\r\n", 1)
    names = [f"{'client' if i < 5 else 'case'}_info/{h}" for i, h in enumerate(head.split(","))]
    return ",".join(names) + "\r\n" + rest


def _ngo_case(id: str, what: str, text_fn: Callable[[list[dict[str, str]]], str | bytes]) -> Case:
    rows = _ngo_rows()
    out = text_fn(rows)
    data = out if isinstance(out, bytes) else out.encode("utf-8")
    return Case(id, what, data, "hagar_export.csv", "ngo-hagar", len(rows), 0, personal(rows))


def session19_cases() -> list[Case]:
    import json

    return [
        _expect(
            _mosvy("xlsx-hidden-column", "a hidden column of last year's phones", book=_hidden_column),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "csv-row-300-cells",
                "one line of 300 cells (a row pasted over the whole width)",
                _row_300_cells,
            ),
            "quarantined rows",
            4,
        ),
        _expect(
            _mosvy(
                "xlsx-dimension-over-limit",
                "a sheet declaring 2,000,000 rows in its dimension",
                book=_big_dimension,
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "khmer-titles-colons-breaks",
                "Khmer titles with a trailing colon (: and ៖) or a line break inside the cell",
                book=_colon_breaks,
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "buddhist-era-plain",
                "return dates with Buddhist-era years and no ព.ស. (05/06/2567)",
                _mcol(RET, ["05/06/2567", "06/06/២៥៦៧", "07/06/2567", "08/06/2567", "09/06/2567"]),
            ),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "pipe-delimited",
                "a database export separated by | (pipes)",
                lambda r: csv_text(r, delimiter="|"),
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "xlsx-csv-in-one-column", "a CSV pasted into column A (no Text to Columns)", book=_one_column
            ),
            "refused file",
        ),
        _expect(
            _ngo_case("ngo-kobo-groups", "a KoboToolbox export: columns named group/question", _kobo),
            "ingested",
            4,
        ),
        _expect(
            _ngo_case(
                "ngo-json-named-csv",
                "an NGO system's JSON export named .csv",
                lambda r: json.dumps(r, ensure_ascii=False, indent=1),
            ),
            "refused file",
        ),
        _expect(
            _mosvy("xlsx-iso-date-cells", 'return dates as ISO date cells (t="d")', book=_iso_cells),
            "ingested",
            5,
        ),
        _expect(
            _mosvy("xlsx-no-cell-refs", "a sheet whose rows and cells have no r attribute", book=_no_refs),
            "ingested",
            5,
        ),
        _expect(
            _mosvy("xlsx-rich-text", "titles and names in two fonts (rich-text runs)", book=_shared_rich),
            "ingested",
            5,
        ),
        _expect(
            _ngo_case(
                "ngo-iso-datetimes",
                "an API export: dates as 1985-01-10T00:00:00.000Z and 2024-07-01 00:00:00",
                lambda r: csv_text(
                    [
                        {
                            **x,
                            "dob": x["dob"] + "T00:00:00.000Z",
                            "intake_date": x["intake_date"] + " 00:00:00",
                        }
                        for x in r
                    ],
                    NGO_HEADER,
                ),
            ),
            "ingested",
            4,
        ),
        _expect(
            _iom(
                "two-phones-one-cell",
                "two phones in one cell (012 555 000 / 097 7000001)",
                good_two_phones,
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "mosvy-csv-mojibake",
                "a MoSVY CSV opened as Windows-1252 and saved again",
                book=_csv_mojibake_mosvy,
                name="dosvy_2024_06.csv",
            ),
            "refused file",
        ),
        _expect(
            _mosvy(
                "xlsx-absolute-targets",
                "a workbook whose parts are named by absolute paths",
                book=_absolute_targets,
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "mosvy-csv-khmer-newlines",
                "a MoSVY CSV whose Khmer remarks run over lines inside quotes",
                _mcol(16, ["ត្រូវការ\nជំនួយ", "", "បញ្ជូនទៅ\r\nអង្គការ", "", "មាន\n\nបញ្ហា"]),
                book=_mosvy_csv,
                name="dosvy_2024_06.csv",
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "age-years-months",
                "ages in years and months: ២៨ ឆ្នាំ ៦ ខែ, 28.5, 30 years 2 months",
                _mcol(4, ["២៨ ឆ្នាំ ៦ ខែ", "28.5", "30 years 2 months", "៣១ឆ្នាំ", "26"]),
            ),
            "ingested",
            5,
        ),
    ]


def _row_300_cells(rows: list[dict[str, str]]) -> str:
    """The third man's line with the next men's cells pasted after it, out to 300 cells."""
    lines = csv_text(rows).split("\r\n")
    cells = next(csv.reader([lines[3]]))
    lines[3] = ",".join((cells * 16)[:300])
    return "\r\n".join(lines)


def good_two_phones(rows: list[dict[str, str]]) -> str:
    rows[1]["phone"] = "012 555 001 / 097 7000001"
    rows[2]["phone"] = "012555002, 0977000002"
    return csv_text(rows)


def _unclosed_quote(rows: list[dict[str, str]]) -> str:
    """A village typed with an opening quote and no closing one: the CSV's quoting runs on."""
    lines = csv_text(rows).split("\r\n")
    lines[2] = lines[2].replace(",Sandan,", ',"Sandan,', 1)
    return "\r\n".join(lines)


def session19_more_cases() -> list[Case]:
    return [
        _expect(
            _iom("unclosed-quote", "a cell opened with a quote never closed", _unclosed_quote),
            "quarantined rows",
            4,
        ),
        _expect(
            _iom(
                "dob-as-guess",
                "birth dates written as guesses: c. 1990, approx 1985, 1990?, about 1988, ~1992",
                good_csv,
                edit=_each("dob", ["c. 1990", "approx 1985", "1990?", "about 1988", "~1992"]),
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "dob-unknown-khmer",
                "birth dates marked unknown in Khmer: មិនដឹង, មិនស្គាល់, គ្មាន",
                _mcol(DOB, ["មិនដឹង", "មិនស្គាល់", "គ្មាន", "", "មិនច្បាស់"]),
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "sex-abbreviated",
                "sex as ប / ស, 1 / 2, ប្រុស / ស្រី with a dot",
                _mcol(3, ["ប", "ស", "ប្រុស.", "ស្រី.", "ប."]),
            ),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "return-with-time",
                "return dates with a time: 05/06/2024 14:30, 2024-06-06 08:00:00",
                good_csv,
                edit=_each(
                    "date_of_return",
                    [
                        "01/06/2024 14:30",
                        "2024-06-02 08:00:00",
                        "03/06/2024 2:15 PM",
                        "04/06/2024",
                        "05/06/2024",
                    ],
                ),
            ),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "name-family-comma-given",
                "names written FAMILY, Given (a comma inside a quoted cell)",
                good_csv,
                edit=_each(
                    "full_name",
                    [
                        "SOK, VUTHEARA",
                        "CHEA, SOKUNTHEA",
                        "KEO, PHEAKDEY",
                        "NGUON, RATHANAK",
                        "THACH, SOVANNRITH",
                    ],
                ),
            ),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "return-year-typo",
                "a return date typed 2204 for 2024 and one 2042",
                good_csv,
                edit=_each(
                    "date_of_return", ["05/06/2204", "05/06/2042", "05/06/2024", "06/06/2024", "07/06/2024"]
                ),
            ),
            "quarantined rows",
            3,
        ),
        _expect(
            _iom(
                "phone-with-words",
                "phones with words beside them: 012 555 001 (mother), ម្ដាយ 097 7000002",
                good_csv,
                edit=_each(
                    "phone",
                    [
                        "012 555 000 (mother)",
                        "ម្ដាយ 097 7000001",
                        "012555002 ext 12",
                        "012 555 003",
                        "Tel: 012 555 004",
                    ],
                ),
            ),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "bom-then-sep-line",
                "a UTF-8 BOM, then Excel's sep=, line",
                lambda r: "\ufeffsep=,\r\n" + csv_text(r),
            ),
            "ingested",
            5,
        ),
    ]


def good_csv(rows: list[dict[str, str]]) -> str:
    return csv_text(rows)


# --- session 20 (hD-bad, round 4) ------------------------------------------------------------

_BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _bidi_iom(rows: list[dict[str, str]]) -> str:
    """Cells copied from a web page or a right-to-left document: direction marks around and
    inside ids, dates, phones and names (invisible in Excel, there in the bytes)."""
    marks = [
        ("\u200e", ""),
        ("\u202a", "\u202c"),
        ("\u2066", "\u2069"),
        ("\u200f", "\u200e"),
        ("\u202d", "\u202c"),
    ]
    for r, (a, b) in zip(rows, marks, strict=False):
        r["iom_case_no"] = a + r["iom_case_no"] + b
        r["dob"] = a + r["dob"] + b
        r["date_of_return"] = r["date_of_return"][:3] + a + r["date_of_return"][3:]
        r["phone"] = a + r["phone"] + b
        first, last = r["full_name"].split()
        r["full_name"] = f"{a}{first}{b} {last}"
    return csv_text(rows)


def _bidi_header(rows: list[list[object]]) -> bytes:
    """Titles pasted from a Word document: a right-to-left mark or an embedding around each."""
    head = [
        ("\u200f" if i % 3 == 0 else "\u202b" if i % 3 == 1 else "\u2067")
        + h
        + ("" if i % 3 == 0 else "\u202c" if i % 3 == 1 else "\u2069")
        for i, h in enumerate(MOSVY_HEADER)
    ]
    return workbook([("Sheet1", "visible", [["បញ្ជីឈ្មោះជនរងគ្រោះ"], head, *rows])])


def _bom_cells(rows: list[list[object]]) -> bytes:
    """U+FEFF (a BOM) before the first title and inside cells: texts pasted from files that
    began with one, and Word's 'zero-width no-break space'."""
    head = list(MOSVY_HEADER)
    head[0] = "\ufeff" + head[0]
    head[RET] = "\ufeff" + head[RET]
    for i, r in enumerate(rows):
        r[0] = "\ufeff" + str(r[0])
        r[RET] = "\ufeff" + str(r[RET]) if i % 2 else str(r[RET])[:2] + "\ufeff" + str(r[RET])[2:]
        r[NID] = str(r[NID])[:4] + "\ufeff" + str(r[NID])[4:]
        r[2] = str(r[2])[:2] + "\ufeff" + str(r[2])[2:]
    return workbook([("Sheet1", "visible", [["\ufeffបញ្ជីឈ្មោះជនរងគ្រោះ"], head, *rows])])


def _zero_width_khmer(rows: list[list[object]]) -> None:
    """Zero-width space, joiner and non-joiner typed inside Khmer names and around numbers."""
    marks = ["\u200b", "\u200c", "\u200d", "\u2060", "\u200b"]
    for r, z in zip(rows, marks, strict=False):
        g = str(r[2])
        r[1] = z + str(r[1])
        r[2] = g[:2] + z + g[2:]
        r[13] = str(r[13]) + z
        r[PHONE] = str(r[PHONE]).replace(" ", z)
        r[4] = z + str(r[4])


def _ngo_zwsp_names(rows: list[dict[str, str]]) -> str:
    """Khmer full names with a zero-width space, not a space, between family and given name
    (the Khmer word separator)."""
    for i, r in enumerate(rows):
        r["name_kh"] = KH_FAMILY[i % 7] + "\u200b" + KH_GIVEN[i % 7]
    return csv_text(rows, NGO_HEADER)


def _titles(top: list[list[object]]) -> Callable[[list[list[object]]], bytes]:
    def book(rows: list[list[object]]) -> bytes:
        return workbook([("Sheet1", "visible", [*top, MOSVY_HEADER, *rows])])

    return book


def _template_lines(rows: list[list[object]]) -> bytes:
    """A printed template's empty lines: row numbers 6 to 30 typed down column A, nothing else."""
    empty: list[list[object]] = [[n] + [None] * (len(MOSVY_HEADER) - 1) for n in range(len(rows) + 1, 31)]
    return workbook([("Sheet1", "visible", [["បញ្ជីឈ្មោះជនរងគ្រោះ"], MOSVY_HEADER, *rows, *empty])])


def _template_lines_csv(rows: list[list[object]]) -> bytes:
    """The same as a CSV, the numbers in Khmer digits and the empty cells kept (,,,)."""
    digits = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")
    empty = [[str(n).translate(digits)] + [""] * (len(MOSVY_HEADER) - 1) for n in range(len(rows) + 1, 21)]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([MOSVY_HEADER, *rows, *empty])
    return buf.getvalue().encode("utf-8-sig")


def _template_formula_numbers(rows: list[list[object]]) -> bytes:
    """The template's row numbers a formula (=ROW()-2) filled down to row 30, Excel's saved
    values with them: rows 8 to 30 hold only a computed number."""
    empty: list[list[object]] = [
        [str(n)] + [None] * (len(MOSVY_HEADER) - 1) for n in range(len(rows) + 1, 29)
    ]
    return with_cached_formulas(
        workbook([("Sheet1", "visible", [["បញ្ជីឈ្មោះ"], MOSVY_HEADER, *rows, *empty])]), "A", "ROW()-2"
    )


def _stale_dimension(ref: str) -> Callable[[list[list[object]]], bytes]:
    """A sheet whose <dimension> says less than it holds (a program that wrote it first and
    added rows after): openpyxl's read-only mode stops at the rows and columns it declares."""

    def book(rows: list[list[object]]) -> bytes:
        stale = f'<dimension ref="{ref}"/>'
        return _sheet_edit(rows, lambda t: re.sub(r'<dimension ref="[^"]*"\s*/>', stale, t))

    return book


def _formula_cells(column: int, cached: str | None) -> Callable[[list[list[object]]], bytes]:
    """One column's cells under the header turned into formulas as Excel writes them: t="str"
    and the cached text (cached "" when the formula's result is empty text, None for no <v>)."""
    col = chr(ord("A") + column)

    def fn(text: str) -> str:
        def cell(m: re.Match[str]) -> str:
            if int(m[2]) <= 3:
                return m[0]
            value = "" if cached is None else f"<v>{cached}</v>"
            return f'<c r="{m[1]}" t="str"><f>IF(A{m[2]}="","",TRIM(Z{m[2]}))</f>{value}</c>'

        return re.sub(rf'<c r="({col}(\d+))"[^>]*>.*?</c>', cell, text)

    def book(rows: list[list[object]]) -> bytes:
        for r in rows:
            r[column] = "x"  # a cell for the formula to replace
        return _sheet_edit(rows, fn)

    return book


def _excel_shared_strings(rows: list[list[object]]) -> bytes:
    """The workbook as Excel keeps its text: in sharedStrings.xml, each title and name in
    rich-text runs (two fonts), with phonetic runs (<rPh>, Excel's reading guide for East
    Asian text) and a title's line break saved as _x000D_ and a newline."""
    from xml.sax.saxutils import escape

    book = mosvy_book(rows)
    strings: list[str] = []

    def si(text: str) -> str:
        text = escape(text)
        if len(text) < 2:
            return f"<si><t>{text}</t></si>"
        cut = len(text) // 2
        font = '<sz val="11"/><rFont val="Khmer OS"/>'
        return (
            f'<si><r><rPr><b/>{font}</rPr><t xml:space="preserve">{text[:cut]}</t></r>'
            f'<r><rPr>{font}</rPr><t xml:space="preserve">{text[cut:]}</t></r>'
            f'<rPh sb="0" eb="1"><t>ゴ</t></rPh><phoneticPr fontId="1"/></si>'
        )

    def cell(m: re.Match[str]) -> str:
        from xml.sax.saxutils import unescape

        text = unescape(m[2])
        if text == MOSVY_HEADER[DOB]:
            text = "ថ្ងៃខែឆ្នាំ_x000D_\nកំណើត"
        strings.append(text)
        return f'<c r="{m[1]}" t="s"><v>{len(strings) - 1}</v></c>'

    def edit(name: str, body: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            inline = r'<c r="([A-Z]+\d+)"[^>]*t="inlineStr"[^>]*><is><t[^>]*>(.*?)</t></is></c>'
            return re.sub(inline, cell, body.decode()).encode()
        if name == "[Content_Types].xml":
            return body.replace(
                b"</Types>",
                b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
            )
        if name == "xl/_rels/workbook.xml.rels":
            return body.replace(
                b"</Relationships>",
                b'<Relationship Id="rIdSS" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
            )
        return body

    src = zipfile.ZipFile(io.BytesIO(book))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, edit(info.filename, src.read(info.filename)))
        body = "".join(si(s) for s in strings)
        z.writestr(
            "xl/sharedStrings.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{len(strings)}" '
            f'uniqueCount="{len(strings)}">{body}</sst>',
        )
    return out.getvalue()


def _month_first_csv(rows: list[dict[str, str]]) -> str:
    """A CSV saved by an English-locale Excel: every date month-first (MM/DD/YYYY)."""
    returns = ["06/13/2024", "06/02/2024", "06/20/2024", "06/05/2024", "06/11/2024"]
    births = ["12/31/1985", "01/02/1990", "03/04/1988", "11/25/1979", "07/08/1992"]
    for r, ret, dob in zip(rows, returns, births, strict=False):
        r["date_of_return"], r["dob"] = ret, dob
    return csv_text(rows)


def _month_first_mixed(rows: list[dict[str, str]]) -> str:
    """Two clerks in one column: 13/06/2024 day-first and 06/14/2024 month-first, so
    05/06/2024 and 04/06/2024 could be either."""
    for r, ret in zip(
        rows, ["13/06/2024", "06/14/2024", "05/06/2024", "04/06/2024", "20/06/2024"], strict=False
    ):
        r["date_of_return"] = ret
    return csv_text(rows)


def _phones_as_floats(rows: list[dict[str, str]]) -> str:
    """Phones written by a program that read them as numbers: 8.5512345678e+10, 85512345678.0."""
    for r, p in zip(
        rows, ["8.5512345678e+10", "85597700001.0", "8.55977e+10", "855125550003", "12555004"], strict=False
    ):
        r["phone"] = p
    return csv_text(rows)


def _semicolon_decimal_comma(rows: list[dict[str, str]]) -> bytes:
    """A European-locale export: semicolons between cells, ages with a decimal comma."""
    for r, a in zip(rows, ["28,5", "31", "40,0", "22,25", "35"], strict=False):
        r["age_at_return"] = a
        r["dob"] = ""
    return csv_text(rows, delimiter=";").encode("cp1252")


def _hidden_lookup_first(rows: list[list[object]]) -> bytes:
    """A hidden first sheet of drop-down lists (provinces, sexes), the list on the second."""
    lookup: list[list[object]] = [["ខេត្ត", "ភេទ"], ["ខេត្តកំពង់ធំ", "ប្រុស"], ["ខេត្តសៀមរាប", "ស្រី"]]
    return workbook([("lists", "hidden", lookup), ("Sheet1", "visible", [MOSVY_HEADER, *rows])])


def _titled_no(rows: list[list[object]]) -> bytes:
    """The row-number column titled in English, No (sources/mosvy.yaml's alias no, unquoted,
    was read by YAML as false: the column was looked for as 'False')."""
    return workbook([("Sheet1", "visible", [["No", *MOSVY_HEADER[1:]], *rows])])


def session20_cases() -> list[Case]:
    return [
        _expect(
            _mosvy("mosvy-title-no", "the row-number column titled No, in English", book=_titled_no),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "bidi-marks",
                "direction marks (U+200E/200F/202A-202E/2066-2069) in ids, dates, phones, names",
                _bidi_iom,
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "bidi-marks-header",
                "a right-to-left mark or embedding around each column title",
                book=_bidi_header,
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "bom-inside-cells",
                "U+FEFF before the first title and inside dates, ids and names",
                book=_bom_cells,
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "zero-width-khmer",
                "zero-width space, joiner and non-joiner inside Khmer names, ages and phones",
                _zero_width_khmer,
            ),
            "ingested",
            5,
        ),
        _expect(
            _ngo_case(
                "ngo-khmer-zwsp-names",
                "Khmer full names split by a zero-width space, no space",
                _ngo_zwsp_names,
            ),
            "ingested",
            4,
        ),
        _expect(
            _mosvy(
                "titles-numbered",
                "title rows numbered: 1. បញ្ជីឈ្មោះ..., 2. ខេត្ត..., ៣. ខែ...",
                book=_titles(
                    [["1. បញ្ជីឈ្មោះជនរងគ្រោះដែលបានវិលត្រឡប់មកវិញ"], ["2. ខេត្តកំពង់ធំ"], ["៣. ខែមិថុនា ឆ្នាំ២០២៤"], []]
                ),
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "titles-english",
                "title rows in English: List of returnees ..., Province: ...",
                book=_titles(
                    [
                        ["List of returnees from Indonesia, June 2024"],
                        ["Province: Kampong Thom", None, None, "Date: 30/06/2024"],
                        [],
                    ]
                ),
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "template-empty-lines",
                "a printed template: rows numbered 6 to 30 and nothing else",
                book=_template_lines,
                extra=25,
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "template-empty-lines-csv",
                "a template's empty lines in a CSV: ៦ to ២០ and empty cells",
                book=_template_lines_csv,
                name="dosvy_2024_06.csv",
                extra=15,
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "template-formula-numbers",
                "a template's row numbers a formula filled down (=ROW()-2), nothing else on 23 rows",
                book=_template_formula_numbers,
                extra=23,
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "stale-dimension-small",
                '<dimension ref="A1:C3"> in a sheet of 17 columns and 8 rows',
                book=_stale_dimension("A1:C3"),
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "stale-dimension-rows",
                '<dimension ref="A1:Q4">: every column, the header and one row',
                book=_stale_dimension("A1:Q4"),
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "formula-empty-text",
                "phone cells that are formulas whose saved value is empty text",
                book=_formula_cells(PHONE, ""),
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "formula-no-value-remarks",
                "remarks cells that are formulas with no saved value",
                book=_formula_cells(16, None),
            ),
            "quarantined rows",
            0,
        ),
        _expect(
            _mosvy(
                "excel-shared-strings",
                "text as Excel keeps it: shared strings in rich-text runs, phonetic runs, _x000D_",
                book=_excel_shared_strings,
            ),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "month-first-csv",
                "an English-locale Excel's dates: 06/13/2024 beside 06/02/2024, 12/31/1985 beside 01/02/1990",
                _month_first_csv,
            ),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "month-first-mixed",
                "13/06/2024 and 06/14/2024 in one column: 05/06/2024 could be either",
                _month_first_mixed,
            ),
            "quarantined rows",
            2,
        ),
        _expect(
            _iom(
                "phones-as-floats",
                "phones a program wrote as floats: 8.5512345678e+10, 85597700001.0",
                _phones_as_floats,
            ),
            "ingested",
            5,
        ),
        _expect(
            _iom(
                "semicolon-decimal-comma",
                "semicolons, Windows-1252, ages with a decimal comma (28,5)",
                _semicolon_decimal_comma,
            ),
            "ingested",
            5,
        ),
        _expect(
            _mosvy(
                "hidden-lookup-first",
                "a hidden first sheet of drop-down lists, the list on the second",
                book=_hidden_lookup_first,
            ),
            "ingested",
            5,
        ),
    ]


# --- session 22 (hB-bad, round 5) ------------------------------------------------------------


def _gsheet_summary(rows: list[dict[str, str]]) -> str:
    """Google Sheets' 'Download as CSV': LF line ends, every line as wide as the sheet, and
    the summary the officer kept under the list (a blank line, Total, Men)."""
    width = len(IOM_HEADER)
    pad = "," * (width - 2)
    return csv_text(rows, newline="\n") + "," * (width - 1) + f"\nTotal,5{pad}\nMen,5{pad}\n"


def _sep_mixed_ends(rows: list[dict[str, str]]) -> str:
    """Excel's sep=; line, then lines ending CR LF, LF and CR by turns (two files pasted)."""
    lines = csv_text(rows, delimiter=";", newline="\n").splitlines()
    ends = ["\r\n", "\n", "\r"]
    return "sep=;\r\n" + "".join(line + ends[i % 3] for i, line in enumerate(lines))


def _mixed_digits(rows: list[list[object]]) -> None:
    """Khmer and Latin digits in one cell: typed on a Khmer keyboard, corrected on a Latin one."""
    for i, (age, nid, phone, ret) in enumerate(
        [
            ("២5", "១10200300", "០97 7000000", "0១/06/២០24"),
            ("2៦", "11020030១", "097 ៧000001", "០2/06/2024"),
            ("២7", "110200302", "0៩7 7000002", "03/០៦/2024"),
            ("28", "1១0200303", "097 7000003", "04/06/២០២4"),
            ("2៩", "110200304", "០៩៧ 7000004", "05/06/2024"),
        ]
    ):
        rows[i][4], rows[i][NID], rows[i][PHONE], rows[i][RET] = age, nid, phone, ret


def _table_filtered(rows: list[list[object]]) -> bytes:
    """The list as an Excel Table with a filter on the province that hides two rows, as an
    officer leaves it after looking at one district."""
    import openpyxl
    from openpyxl.worksheet.table import Table

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for r in [MOSVY_HEADER, *rows]:
        ws.append(r)
    last = openpyxl.utils.get_column_letter(len(MOSVY_HEADER))
    table = Table(displayName="Returnees", ref=f"A1:{last}{len(rows) + 1}")
    ws.add_table(table)
    for r in (3, 5):  # rows 2 and 4 of the list, hidden by the filter
        ws.row_dimensions[r].hidden = True
    buf = io.BytesIO()
    wb.save(buf)
    xml = f'<filterColumn colId="{PROV}"><filters><filter val="{rows[0][PROV]}"/></filters></filterColumn>'

    def edit(name: str, body: bytes) -> bytes:
        if not name.startswith("xl/tables/"):
            return body
        return re.sub(
            rb"<autoFilter ([^>]*)/>",
            lambda m: b"<autoFilter " + m[1] + b">" + xml.encode() + b"</autoFilter>",
            body,
        )

    return rezip(buf.getvalue(), edit)


def _grouped_rows(rows: list[list[object]]) -> bytes:
    """Rows grouped by district and the group collapsed (outline level 1, hidden)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in [MOSVY_HEADER, *rows]:
        ws.append(r)
    for r in (4, 5, 6):
        ws.row_dimensions[r].outlineLevel = 1
        ws.row_dimensions[r].hidden = True
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _frozen_second_header(rows: list[list[object]]) -> bytes:
    """Frozen panes under two header rows: the Khmer titles, then the same in English."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in [MOSVY_HEADER, _ENGLISH, *rows]:
        ws.append(r)
    ws.freeze_panes = "C3"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _wide(rows: list[list[object]]) -> bytes:
    """A survey tool's export: the list's columns, then 1,000 more of answers (Q1 ... Q1000)."""
    extra = [f"Q{i}" for i in range(1, 1001)]
    return workbook([("Sheet1", "visible", [MOSVY_HEADER + extra, *[r + ["yes"] * 1000 for r in rows]])])


def _chart_first(rows: list[list[object]]) -> bytes:
    """A chart sheet first (returns by province), the list on the worksheet after it."""
    import openpyxl
    from openpyxl.chart import BarChart, Reference

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "បញ្ជី"
    for r in [MOSVY_HEADER, *rows]:
        ws.append(r)
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=5, min_row=1, max_row=len(rows) + 1), titles_from_data=True)
    cs = wb.create_chartsheet("Chart", 0)
    cs.add_chart(chart)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _external_links(rows: list[list[object]]) -> bytes:
    """The province column filled by formulas into another workbook ([1]Lists!A2), with the
    values Excel saved, and the external link's parts as Excel writes them."""
    data = mosvy_book(rows, titles=False)
    link = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<externalBook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
        ' r:id="rId1"><sheetNames><sheetName val="Lists"/></sheetNames>'
        '<sheetDataSet><sheetData sheetId="0"/></sheetDataSet>'
        "</externalBook></externalLink>"
    )
    link_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'externalLinkPath" Target="file:///C:\\Users\\dosvy\\Documents\\lists.xlsx" TargetMode="External"/>'
        "</Relationships>"
    )
    province = openpyxl_column(PROV)

    def edit(name: str, body: bytes) -> bytes:
        text = body.decode("utf-8")
        if name == "xl/workbook.xml":
            text = text.replace(
                "</sheets>",
                '</sheets><externalReferences><externalReference r:id="rIdX1"/></externalReferences>',
            )
        elif name == "xl/_rels/workbook.xml.rels":
            text = text.replace(
                "</Relationships>",
                '<Relationship Id="rIdX1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                'externalLink" Target="externalLinks/externalLink1.xml"/></Relationships>',
            )
        elif name == "[Content_Types].xml":
            text = text.replace(
                "</Types>",
                '<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>',
            )
        elif name == "xl/worksheets/sheet1.xml":
            text = re.sub(
                rf'<c r="({province}(\d+))" t="inlineStr"><is><t>([^<]*)</t></is></c>',
                lambda m: (
                    m[0]
                    if m[2] == "1"
                    else f'<c r="{m[1]}" t="str"><f>[1]Lists!$A${m[2]}</f><v>{m[3]}</v></c>'
                ),
                text,
            )
        return text.encode("utf-8")

    out = rezip(data, edit)
    return _zip_add(
        out,
        {
            "xl/externalLinks/externalLink1.xml": link,
            "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels,
        },
    )


def openpyxl_column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _zip_add(data: bytes, members: dict[str, str]) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info.filename))
        for name, text in members.items():
            z.writestr(name, text)
    return out.getvalue()


def _sheet_xml_edit(edit: Callable[[str], str]) -> Callable[[list[list[object]]], bytes]:
    """A MoSVY workbook whose sheet XML another exporter wrote (edit: its text changed)."""

    def book(rows: list[list[object]]) -> bytes:
        return rezip(
            mosvy_book(rows),
            lambda name, body: (
                edit(body.decode("utf-8")).encode("utf-8") if name == "xl/worksheets/sheet1.xml" else body
            ),
        )

    return book


def _prefixed(text: str) -> str:
    """The OpenXML SDK's sheet: the main namespace bound to x: on every element."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    text = text.replace(ns, ns.replace("xmlns=", "xmlns:x="), 1)
    return re.sub(r"<(/?)(?![?!])([A-Za-z][\w.-]*)([\s/>])", lambda m: f"<{m[1]}x:{m[2]}{m[3]}", text)


def _libreoffice(rows: list[list[object]], target: str = "xlsx") -> bytes | None:
    """The list opened and saved again by LibreOffice Calc (xlsx, or its CSV export), or None
    when soffice is not on this machine (make test installs it) or fails."""
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    soffice = shutil.which("soffice")
    if soffice is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "list.xlsx").write_bytes(mosvy_book(rows))
        convert = f"{target}:Text - txt - csv (StarCalc):44,34,76" if target == "csv" else target
        try:
            subprocess.run(
                [
                    soffice,
                    f"-env:UserInstallation=file://{tmp}/profile",
                    "--headless",
                    "--convert-to",
                    convert,
                    "--outdir",
                    f"{tmp}/out",
                    f"{tmp}/list.xlsx",
                ],
                check=True,
                capture_output=True,
                timeout=180,
            )
        except (subprocess.SubprocessError, OSError):
            return None  # the cases are left out (test_bad_files_round5 runs soffice itself, and says)
        return Path(tmp, "out", f"list.{target}").read_bytes()


def _comma_space(rows: list[dict[str, str]]) -> str:
    """Every field quoted and a space after each comma, as a hand-written export writes it."""
    lines = [", ".join(f'"{h}"' for h in IOM_HEADER)]
    lines += [", ".join(f'"{r[h]}"' for h in IOM_HEADER) for r in rows]
    return "\r\n".join(lines) + "\r\n"


def _power_query(rows: list[list[object]]) -> bytes:
    """Power Query's 'Close & Load' without promoted headers: Column1 ... Column17 over the
    list's own header row."""
    generic = [f"Column{i}" for i in range(1, len(MOSVY_HEADER) + 1)]
    return workbook([("Sheet1", "visible", [generic, MOSVY_HEADER, *rows])])


def _very_hidden_list(rows: list[list[object]]) -> bytes:
    """A cover sheet with a title only, the list on a sheet made 'very hidden' (by a macro or
    the VBA editor: not even Unhide shows it)."""
    return workbook(
        [("Cover", "visible", [["បញ្ជីឈ្មោះជនរងគ្រោះ ឆ្នាំ ២០២៤"]]), ("Data", "veryHidden", [MOSVY_HEADER, *rows])]
    )


@functools.cache
def _office_books() -> tuple[bytes | None, bytes | None]:
    """LibreOffice's xlsx and CSV of the list, made once a process (soffice takes seconds)."""
    return _libreoffice(mosvy_rows()), _libreoffice(mosvy_rows(), "csv")


def session22_cases() -> list[Case]:
    cases = [
        _iom(
            "gsheet-csv-summary",
            "Google Sheets' CSV: LF, lines padded with commas, Total and Men rows under the list",
            _gsheet_summary,
            extra=2,
        ),
        _iom(
            "gsheet-checkbox-consent",
            "Google Sheets' CSV of a checkbox column: consent TRUE and FALSE (and 1, true)",
            lambda r: csv_text(r, newline="\n"),
            edit=_each("consent_to_share", ["TRUE", "FALSE", "TRUE", "1", "true"]),
        ),
        _iom(
            "sep-line-mixed-ends",
            "Excel's sep=; line, then CR LF, LF and CR line ends by turns",
            _sep_mixed_ends,
        ),
        _mosvy(
            "khmer-latin-digits-one-cell",
            "Khmer and Latin digits in one cell: ages ២5, ids ១10200300, phones, dates",
            _mixed_digits,
        ),
        _mosvy(
            "dob-khmer-words-latin-digits",
            "birth dates as ថ្ងៃទី12 ខែ03 ឆ្នាំ1990: Khmer words, Latin digits",
            _mcol(
                DOB,
                [
                    "ថ្ងៃទី12 ខែ03 ឆ្នាំ1990",
                    "ថ្ងៃទី 5 ខែ 7 ឆ្នាំ 1985",
                    "ថ្ងៃទី០៣ ខែ12 ឆ្នាំ1992",
                    "12 មីនា 1990",
                    "05-មករា-1988",
                ],
            ),
        ),
        _mosvy(
            "phones-slash-no-space",
            "two phones joined by '/' with no space, or a dangling '/'",
            _mcol(
                PHONE,
                [
                    "012555000/0977000001",
                    "012 555 001 / 097-700-0002",
                    "+85512555002/+855977000003",
                    "097 7000003 /",
                    "097 7000004",
                ],
            ),
        ),
        _mosvy(
            "ages-suffix-y",
            "ages written 25y, 26 y, 27y.o., 28 yo, ២៩ឆ្នាំ",
            _mcol(4, ["25y", "26 y", "27y.o.", "28 yo", "២៩ឆ្នាំ"]),
        ),
        _mosvy(
            "khmer-sheet-file-name",
            "a sheet named in Khmer, a file name in Khmer with spaces",
            book=lambda r: workbook([("បញ្ជីឈ្មោះ ខែ៦", "visible", [MOSVY_HEADER, *r])]),
            name="បញ្ជីឈ្មោះ ជនរងគ្រោះ ខែមិថុនា ២០២៤ (final).xlsx",
        ),
        _mosvy(
            "table-filter-hidden-rows",
            "an Excel Table with a filter that hides two of its rows",
            book=_table_filtered,
        ),
        _mosvy("grouped-rows-collapsed", "three rows grouped and the group collapsed", book=_grouped_rows),
        _mosvy(
            "frozen-second-header",
            "frozen panes over two header rows, Khmer then English",
            book=_frozen_second_header,
        ),
        _mosvy(
            "wide-sheet-1000-columns", "a survey export: the list, then 1,000 columns of answers", book=_wide
        ),
        _mosvy(
            "chart-sheet-first",
            "a chart sheet first, the list (a sheet named in Khmer) after it",
            book=_chart_first,
        ),
        _mosvy(
            "external-links",
            "provinces filled by formulas into another workbook, with saved values",
            book=_external_links,
        ),
        _mosvy(
            "phone-trunk-zero",
            "phones written +855 (0)12 ..., 855-(0)97 ...: the trunk 0 in brackets",
            _mcol(
                PHONE,
                [
                    "+855 (0)12 555 000",
                    "855 (0)97 7000001",
                    "+855(0)977000002",
                    "(+855) 097 7000003",
                    "097 7000004",
                ],
            ),
        ),
        _mosvy(
            "ages-approximate",
            "ages as guesses: 25?, ~26, 27+, about 28, ប្រហែល ២៩",
            _mcol(4, ["25?", "~26", "27+", "about 28", "ប្រហែល ២៩"]),
        ),
        _mosvy(
            "dob-zero-day-month",
            "birth dates with the unknown day and month as zeros or x: 00/00/1990",
            _mcol(DOB, ["00/00/1990", "00/07/1985", "xx/xx/1992", "0/0/1988", "12/03/1990"]),
        ),
        _iom(
            "csv-comma-space-quoted", 'every field quoted, a space after each comma: "a", "b"', _comma_space
        ),
        _mosvy(
            "power-query-column-names",
            "Power Query's Column1 ... Column17 over the list's header",
            book=_power_query,
        ),
        _mosvy(
            "very-hidden-list",
            "a cover sheet with a title, the list on a 'very hidden' sheet",
            book=_very_hidden_list,
        ),
        _iom(
            "ids-case-and-spaces",
            "one case number typed twice, once in lower case with a space after",
            csv_text,
            edit=_set(4, iom_case_no="kh-iom-2024-7301 "),
            persons=5,
        ),
        _mosvy(
            "xlsx-prefixed-namespace",
            "the OpenXML SDK's sheet: x:row, x:c on every element",
            book=_sheet_xml_edit(_prefixed),
        ),
    ]
    office, office_csv = _office_books()
    if office is not None and office_csv is not None:
        cases.append(
            _mosvy(
                "libreoffice-resaved",
                "the list opened and saved again by LibreOffice Calc",
                book=lambda r: office,
            )
        )
        cases.append(
            _mosvy(
                "libreoffice-csv",
                "LibreOffice Calc's CSV export of the list (UTF-8, its title rows)",
                book=lambda r: office_csv,
                name="dosvy_kampong_thom_2024_06.csv",
            )
        )
    # what must become of each: every man loaded, but for the summary under the totals
    # (quarantined as totals) and the case number typed again in lower case (a repeat)
    odd = {"gsheet-csv-summary": ("quarantined rows", 5), "ids-case-and-spaces": ("quarantined rows", 4)}
    return [_expect(c, *odd.get(c.id, ("ingested", 5))) for c in cases]


# --- session 23 (hB-bad6, round 6) ----------------------------------------------------------


def _second_block(header: list[str], first: int = 4) -> Callable[[list[dict[str, str]]], str]:
    """A second list pasted under the first, with its own header (its columns as given)."""
    return lambda rows: csv_text(rows[:first]) + csv_text(rows[first:], header=header)


def _swapped(header: list[str], a: str, b: str) -> list[str]:
    out = list(header)
    i, j = out.index(a), out.index(b)
    out[i], out[j] = out[j], out[i]
    return out


def _mosvy_second_block(rows: list[list[object]]) -> bytes:
    """A DoSVY sheet with a second month's rows pasted under a blank line, their header
    with the ID card and phone columns the other way round (as the second list had them)."""
    order = list(range(len(MOSVY_HEADER)))
    order[NID], order[PHONE] = order[PHONE], order[NID]
    second = [[r[k] for k in order] for r in rows[4:]]
    top: list[list[object]] = [["បញ្ជីឈ្មោះជនរងគ្រោះ ឆ្នាំ ២០២៤"], []]
    return workbook(
        [
            (
                "Sheet1",
                "visible",
                [*top, MOSVY_HEADER, *rows[:4], [], [MOSVY_HEADER[k] for k in order], *second],
            )
        ]
    )


_FORM_TITLES = {
    "iom_case_no": "IOM Case No.*",
    "full_name": "Full Name*",
    "dob": "DOB (dd/mm/yyyy)",
    "date_of_return": "Date of Return (DD/MM/YYYY)*",
    "phone": "Phone No.",
    "consent_to_share": "Consent?",
}


def _form_titles(rows: list[dict[str, str]]) -> str:
    """A template's titles: No. and a required mark (*), a format hint in brackets, a '?'."""
    text = csv_text(rows)
    head, rest = text.split("\r\n", 1)
    return ",".join(_FORM_TITLES.get(h, h) for h in IOM_HEADER) + "\r\n" + rest


def _utf16(bom: bytes, codec: str) -> Callable[[list[dict[str, str]]], bytes]:
    return lambda rows: bom + csv_text(rows).encode(codec)


def _quoted_breaks(delimiter: str) -> Callable[[list[dict[str, str]]], str]:
    def text(rows: list[dict[str, str]]) -> str:
        rows[1]["point_of_entry"] = "Phnom Penh\nAirport"
        rows[2]["sector"] = f"fishing{delimiter}\r\nconstruction"
        return csv_text(rows, delimiter=delimiter)

    return text


def _merged_two_row_header(rows: list[list[object]]) -> bytes:
    """ឈ្មោះ (name) merged over the family and given name titles on the row below; every
    other title merged down over the two rows (a printed form's header)."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook()
    ws = wb.active
    top = [MOSVY_HEADER[0], "ឈ្មោះ", "", *MOSVY_HEADER[3:]]
    sub = ["", MOSVY_HEADER[1], MOSVY_HEADER[2], *[""] * (len(MOSVY_HEADER) - 3)]
    for row in [["បញ្ជីឈ្មោះជនរងគ្រោះ ឆ្នាំ ២០២៤"], [], top, sub, *rows]:
        ws.append(row)
    ws.merge_cells("B3:C3")
    for j in range(len(MOSVY_HEADER)):
        if j not in (1, 2):
            col = get_column_letter(j + 1)
            ws.merge_cells(f"{col}3:{col}4")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sign_off(rows: list[list[object]]) -> None:
    """Under the list, a sign-off over three lines: where and when, who prepared it and the
    head's title, and the names after 'Prepared by:' and 'Checked by:'."""
    blank: list[object] = [None] * len(MOSVY_HEADER)
    rows += [
        [],
        [*blank[:11], "ធ្វើនៅ ខេត្តកំពង់ធំ ថ្ងៃទី ១០ ខែមិថុនា ឆ្នាំ២០២៤"],
        [None, "រៀបចំដោយ", *blank[:9], "ប្រធានមន្ទីរ"],
        ["Prepared by:", "Sok Dara", *blank[:9], "Checked by: Keo Sina"],
    ]


def _iom_sign_off(rows: list[dict[str, str]]) -> str:
    width = len(IOM_HEADER)
    lines = [
        "Prepared by: IOM Phnom Penh" + "," * 11 + "10/06/2024" + "," * (width - 12),
        "Date:,10/06/2024" + "," * (width - 2),
    ]
    return csv_text(rows) + "\r\n".join(lines) + "\r\n"


def _era_date_cells(rows: list[list[object]]) -> None:
    """Dates typed 05/06/2567 into a sheet of a Thai or Khmer Buddhist-era locale: date cells
    of the year 2567 (2024), a birth date of 2533 (1990)."""
    rows[0][RET] = dt.datetime(2567, 6, 1)
    rows[1][RET] = dt.date(2567, 6, 2)
    rows[2][DOB] = dt.datetime(2533, 3, 12)


def session23_cases() -> list[Case]:
    iom_swapped = _swapped(IOM_HEADER, "phone", "travel_doc_no")
    iom_other = [h for h in IOM_HEADER if h != "sector"] + ["remarks"]
    cases = [
        _iom(
            "phone-extensions",
            "office phones with an extension: 012 555 000 ext 12, ext. 3, x 45, (ext 7)",
            csv_text,
            edit=_each(
                "phone",
                [
                    "012 555 000 ext 12",
                    "012555001 ext. 3",
                    "012 555 002 x 45",
                    "012-555-003 (ext 7)",
                    "012 555 004",
                ],
            ),
        ),
        _iom(
            "second-block-reordered",
            "a second list pasted under the first, its header's columns in the reverse order",
            _second_block(list(reversed(IOM_HEADER))),
            n=7,
            extra=1,
        ),
        _iom(
            "second-block-two-swapped",
            "a second list pasted under the first, its phone and travel document columns swapped",
            _second_block(iom_swapped),
            n=7,
            extra=1,
        ),
        _iom(
            "second-block-other-columns",
            "a second list pasted under the first, with a remarks column and no sector",
            _second_block(iom_other),
            n=7,
            extra=1,
        ),
        _mosvy(
            "mosvy-second-block-swapped",
            "a second month pasted under a blank line, its ID card and phone titles swapped",
            book=_mosvy_second_block,
            n=7,
            extra=1,
        ),
        _iom(
            "form-titles",
            "a template's titles: IOM Case No.*, Phone No., DOB (dd/mm/yyyy), Consent?",
            _form_titles,
        ),
        _iom("utf16-le-no-bom", "UTF-16 little-endian with no BOM", _utf16(b"", "utf-16-le")),
        _iom(
            "semicolon-quoted-breaks",
            "semicolons, line breaks (LF, CR LF) inside quoted cells",
            _quoted_breaks(";"),
        ),
        _iom(
            "tab-utf16-quoted-breaks",
            "Excel's Unicode text (tabs, UTF-16 with BOM) with line breaks inside quoted cells",
            lambda r: b"\xff\xfe" + _quoted_breaks("\t")(r).encode("utf-16-le"),
            name="iom_returns_2024_06.txt",
        ),
        _iom(
            "return-month-words",
            "return dates 5-Jun-24, June 6, 2024, Jun 7 2024, 8th June 2024, Sun 09/06/2024",
            csv_text,
            edit=_each(
                "date_of_return",
                ["5-Jun-24", "June 6, 2024", "Jun 7 2024", "8th June 2024", "Sun 09/06/2024"],
            ),
        ),
        _iom(
            "blank-lines-above",
            "30 empty lines of commas above the header",
            lambda r: ("," * 18 + "\r\n") * 30 + csv_text(r),
        ),
        _mosvy("xlsm-macro-book", "a macro-enabled workbook (.xlsm)", name="dosvy_kampong_thom_2024_06.xlsm"),
        _mosvy(
            "merged-two-row-header",
            "a header of two rows, its titles merged across and down",
            book=_merged_two_row_header,
        ),
    ]
    cases += [
        _mosvy(
            "sign-off-block",
            "a sign-off under the list: ធ្វើនៅ ... ថ្ងៃទី, រៀបចំដោយ, Prepared by:",
            _sign_off,
            extra=3,
        ),
        _iom("csv-prepared-by", "Prepared by: and Date: lines under a CSV list", _iom_sign_off, extra=2),
        _mosvy(
            "era-year-date-cells",
            "date cells of the years 2567 and 2533 (a Buddhist-era locale)",
            _era_date_cells,
        ),
    ]
    blank = [""] * len(MOSVY_HEADER)
    cases.append(
        _mosvy(
            "lists-side-by-side",
            "two months' lists side by side on one sheet, a blank column between",
            book=lambda r: workbook(
                [
                    (
                        "Sheet1",
                        "visible",
                        [[*MOSVY_HEADER, "", *MOSVY_HEADER]]
                        + [[*r[i], "", *(r[5 + i] if i < 2 else blank)] for i in range(5)],
                    )
                ]
            ),
            n=7,
        )
    )
    odd = {
        "lists-side-by-side": ("refused file", 0),
        "second-block-other-columns": ("quarantined rows", 4),
        "sign-off-block": ("quarantined rows", 5),
        "csv-prepared-by": ("quarantined rows", 5),
    }
    return [_expect(c, *odd.get(c.id, ("ingested", 7 if c.persons == 7 else 5))) for c in cases]


def _doubled_cr(rows: list[dict[str, str]]) -> str:
    """CR LF written through a Windows text file (Python's csv without newline=''): CR CR LF."""
    return csv_text(rows).replace("\r\n", "\r\r\n")


def _day_zero(rows: list[list[object]]) -> None:
    """Return dates filled by a formula (=N2) from cells left empty: Excel saves 0 in a date
    format, shown 00/01/1900; a birth date the same way."""
    rows[1][RET] = dt.datetime(1899, 12, 30)
    rows[3][RET] = dt.datetime(1899, 12, 30)


def _name_two_lines(rows: list[list[object]]) -> None:
    """The whole name typed in the family name's cell over two lines (Alt+Enter), the given
    name's cell left blank."""
    rows[2][1], rows[2][2] = f"{KH_FAMILY[2]}\n{KH_GIVEN[2]}", ""
    rows[4][1], rows[4][2] = f"{KH_FAMILY[4]}\r\n{KH_GIVEN[4]}", None


def _no_separators(rows: list[dict[str, str]]) -> None:
    rets = ["06062024", "20240607", "០៨០៦២០២៤", "09062567", "10062024"]
    dobs = ["01011990", "19850312", "12031985", "", "02011970"]
    for r, ret, dob in zip(rows, rets, dobs, strict=True):
        r.update(date_of_return=ret, dob=dob)


def _totals_with_counts(rows: list[dict[str, str]]) -> str:
    """A Total row under the list counting men, phones and consents in their own columns."""
    total = dict.fromkeys(IOM_HEADER, "")
    total.update(iom_case_no="Total", age_at_return="5", phone="5", consent_to_share="4")
    return csv_text([*rows, total])


def session24_cases() -> list[Case]:
    cases = [
        _iom(
            "cr-cr-lf-line-ends",
            "lines ending CR CR LF (CR LF written through a Windows text file): Excel shows blank rows",
            _doubled_cr,
        ),
        _iom(
            "return-dates-no-separators",
            "dates typed with no separators: 06062024, 20240607, ០៨០៦២០២៤, 09062567 (BE), birth 01011990",
            csv_text,
            edit=_no_separators,
        ),
        _iom(
            "cr-cr-lf-unicode-text",
            "Excel's Unicode text (UTF-16, tabs) passed through a tool that doubled each CR: CR CR LF",
            lambda rows: (
                b"\xff\xfe" + csv_text(rows, delimiter="\t").replace("\r\n", "\r\r\n").encode("utf-16-le")
            ),
            name="iom_returns_2024_06.txt",
        ),
        _iom(
            "no-separators-month-first",
            "return dates typed month first with no separators: 06132024, 06142024, 06052024",
            csv_text,
            edit=_each("date_of_return", ["06132024", "06142024", "06052024", "06152024", "06162024"]),
        ),
        _mosvy(
            "xlsx-dates-typed-as-numbers",
            "return dates typed 06062024 into number cells (Excel keeps 6062024), 20240608, 9062024",
            _mcol(RET, [6062024, 10062024, 20240608, 9062024, 11062024]),
        ),
        _iom(
            "dates-no-separators-two-ways",
            "a return date typed 1062024 (1/06 or 10/6?) and one 060624 (DDMMYY or YYMMDD?)",
            csv_text,
            edit=_each("date_of_return", ["06/06/2024", "1062024", "060624", "09/06/2024", "10/06/2024"]),
        ),
        _iom(
            "return-date-ranges",
            "return dates as a range of days (01-05/06/2024) or two dates (06/06/2024 - 08/06/2024)",
            csv_text,
            edit=_each(
                "date_of_return",
                ["01-05/06/2024", "06/06/2024 - 08/06/2024", "08/06/2024", "09/06/2024", "5-7 June 2024"],
            ),
        ),
        _mosvy(
            "date-formula-day-zero",
            "return dates by a formula from empty cells: Excel's day 0, shown 00/01/1900",
            _day_zero,
        ),
        _mosvy(
            "name-two-lines-one-cell",
            "the whole name in the family name's cell over two lines (Alt+Enter), the given name blank",
            _name_two_lines,
        ),
        _iom(
            "phones-trunk-in-brackets",
            "phones written +855 (0)12 555 000, (012) 555 001, 855-12-555-002, (+855) 12 555 004",
            csv_text,
            edit=_each(
                "phone",
                [
                    "+855 (0)12 555 000",
                    "(012) 555 001",
                    "855-12-555-002",
                    "+855(0)97 7000003",
                    "(+855) 12 555 004",
                ],
            ),
        ),
        _iom(
            "totals-row-counts-in-cells",
            "a Total row with counts under the age, phone and consent columns (5, 5, 4)",
            _totals_with_counts,
            extra=1,
        ),
    ]
    odd = {
        "dates-no-separators-two-ways": ("quarantined rows", 3),
        "return-date-ranges": ("quarantined rows", 2),
        "date-formula-day-zero": ("quarantined rows", 3),
        "totals-row-counts-in-cells": ("quarantined rows", 5),
    }
    return [_expect(c, *odd.get(c.id, ("ingested", 5))) for c in cases]


def _dob_day_zero(rows: list[list[object]]) -> None:
    """Birth dates filled by a formula (=N2) from cells left empty: Excel saves day 0 in a
    date format (00/01/1900), openpyxl reads it as a time; one return date the same way."""
    for r in (0, 2):
        rows[r][DOB] = dt.datetime(1899, 12, 30)
    rows[3][DOB] = 0  # the same formula in a General cell: the number 0
    rows[4][RET] = dt.datetime(1899, 12, 30)


def _book_formats(
    formats: dict[int, str], values: Callable[[list[list[object]]], None]
) -> Callable[[list[list[object]]], bytes]:
    """A MoSVY book whose columns (by position) carry a number format, after values set them."""

    def book(rows: list[list[object]]) -> bytes:
        import openpyxl

        values(rows)
        wb = openpyxl.Workbook()
        ws = wb.active
        for row in [MOSVY_HEADER, *rows]:
            ws.append(row)
        for row in ws.iter_rows(min_row=2):
            for col, fmt in formats.items():
                row[col].number_format = fmt
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    return book


def _ages_as_fractions(rows: list[list[object]]) -> None:
    for r in rows:
        r[4] = int(str(r[4])) / 100  # 25 typed into a cell formatted 0%: 25%, the number 0.25


def _numbers_in_cells(rows: list[list[object]]) -> None:
    for i, r in enumerate(rows):
        r[PHONE], r[NID] = 977000000 + i, 110200300 + i


def _titles_of(header: list[str]) -> Callable[[list[dict[str, str]]], str]:
    """The IOM list under another header row (the same columns, titled otherwise)."""

    def text(rows: list[dict[str, str]]) -> str:
        body = csv_text(rows).split("\r\n", 1)[1]
        return ",".join(header) + "\r\n" + body

    return text


_UNIT_TITLES = [
    "IOM Case No.*",
    "Full name *",
    "Sex (M/F)",
    "Date of birth (dd/mm/yyyy)",
    "Age (years)",
    "Province",
    "District",
    "Commune",
    "Village",
    "Country",
    "Sector",
    "Date of return (dd/mm/yyyy)",
    "Point of entry",
    "Travel doc no",
    "Phone *",
    "Referred to",
    "Referral date",
    "Consent (Y/N)",
    "Batch",
]


def _pandas_unnamed(rows: list[dict[str, str]]) -> str:
    """pandas' to_csv of a sheet read with read_excel: its index as 'Unnamed: 0' before the
    list, and the sheet's empty formatted columns after it as 'Unnamed: 19' ... with no values."""
    lines = csv_text(rows).split("\r\n")[:-1]
    tail = ",Unnamed: 19,Unnamed: 20,Unnamed: 21"
    out = ["Unnamed: 0," + lines[0] + tail] + [f"{i}," + line + ",,," for i, line in enumerate(lines[1:])]
    return "\r\n".join(out) + "\r\n"


def _continued_on_sheet_two(rows: list[list[object]]) -> bytes:
    """The list split by dates over two sheets, the header on the first alone."""
    return workbook(
        [("1-15 June", "visible", [MOSVY_HEADER, *rows[:4]]), ("16-30 June", "visible", rows[4:])]
    )


def _far_below(rows: list[list[object]]) -> bytes:
    """Three men typed 60 rows under the list (rows formatted as a print area between)."""
    blank: list[object] = [None] * len(MOSVY_HEADER)
    return workbook([("Sheet1", "visible", [MOSVY_HEADER, *rows[:4], *[blank] * 60, *rows[4:]])])


def _struck_through(rows: list[list[object]]) -> bytes:
    """Two men struck through (font strikethrough), an officer's mark for men who withdrew:
    still data, read as men."""
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.load_workbook(io.BytesIO(mosvy_book(rows)))
    ws = wb.active
    for r in (5, 7):
        for cell in ws[r]:
            cell.font = Font(strike=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def session25_cases() -> list[Case]:
    numbered = [f"{i + 1}. {h.replace('_', ' ').capitalize()}" for i, h in enumerate(IOM_HEADER)]
    cases = [
        _mosvy(
            "dob-formula-day-zero",
            "birth dates by a formula from empty cells: Excel's day 0 (00/01/1900) and the number 0; "
            "one return date too",
            _dob_day_zero,
        ),
        _iom(
            "dob-day-zero-csv",
            "a CSV saved from such a sheet: birth dates 00/01/1900, 1/0/1900 and 0",
            csv_text,
            edit=_each("dob", ["00/01/1900", "01/01/1985", "1/0/1900", "0", "12/03/1990"]),
        ),
        _mosvy(
            "seven-digits-month-first-cells",
            "month-first dates typed 06132024 into number cells (Excel keeps 6132024), 6052024 among them",
            _mcol(RET, [6132024, 6142024, 6052024, 6152024, 6162024]),
        ),
        _iom(
            "seven-digits-month-first-text",
            "a month-first CSV's return dates typed with no separators, their leading zero lost: "
            "6132024, 6052024, 1062024 (January 6 or October 6?)",
            csv_text,
            edit=_each("date_of_return", ["6132024", "6142024", "6052024", "6152024", "1062024"]),
        ),
        _iom(
            "numbered-titles",
            "a form's numbered titles: 1. Iom case no, 2. Full name ...",
            _titles_of(numbered),
        ),
        _iom(
            "titles-with-units",
            "titles with units and marks: Age (years), Phone *, Date of return (dd/mm/yyyy), Sex (M/F)",
            _titles_of(_UNIT_TITLES),
        ),
        _iom(
            "pandas-unnamed-columns",
            "pandas' 'Unnamed: 0' index and empty 'Unnamed: 19..21' columns",
            _pandas_unnamed,
        ),
        _iom(
            "phones-grouped-thousands",
            "phones saved from number cells formatted #,##0: 12,555,000 (and one 12,555,004.00)",
            csv_text,
            edit=_each("phone", ["12,555,000", "12,555,001", "12,555,002", "12,555,003", "12,555,004.00"]),
        ),
        _mosvy(
            "ages-percent-format",
            "the age column formatted as a percentage: 25 typed is 25% (0.25)",
            book=_book_formats({4: "0%"}, _ages_as_fractions),
        ),
        _mosvy(
            "currency-and-grouped-formats",
            "phones as number cells formatted as currency ($977,000,000.00), ID cards as #,##0",
            book=_book_formats({PHONE: '"$"#,##0.00', NID: "#,##0"}, _numbers_in_cells),
        ),
        _mosvy(
            "list-continued-on-sheet-two",
            "the list split by dates over two sheets, the header on the first alone",
            book=_continued_on_sheet_two,
            n=7,
        ),
        _mosvy(
            "men-far-below-the-list", "three men typed 60 empty rows under the list", book=_far_below, n=7
        ),
        _mosvy("struck-through-rows", "two men struck through (font strikethrough)", book=_struck_through),
    ]
    odd = {
        "dob-formula-day-zero": ("quarantined rows", 4),
        "seven-digits-month-first-text": ("quarantined rows", 4),
        "list-continued-on-sheet-two": ("refused file", 0),
        "men-far-below-the-list": ("ingested", 7),
    }
    return [_expect(c, *odd.get(c.id, ("ingested", 5))) for c in cases]


def all_cases(big: bool = False) -> list[Case]:
    cases = (
        csv_cases()
        + xlsx_cases()
        + ngo_cases()
        + session13_cases()
        + session14_cases()
        + session15_cases()
        + session19_cases()
        + session19_more_cases()
        + session20_cases()
        + session22_cases()
        + session23_cases()
        + session24_cases()
        + session25_cases()
    )
    return cases + big_cases() if big else cases
