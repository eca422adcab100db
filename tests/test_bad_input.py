"""Malformed deliveries that benchmarks/bad_input found mishandled, one test per class fixed.

Each file is made here, small and real (openpyxl workbooks, a workbook encrypted as Excel
does it, UTF-16 cut short), and ingested into a store of its own through Ingestor, the
path `survivor-link ingest` takes. Every test checks the rows are all accounted for.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from linkage.ingest.load import Ingestor
from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import Delivery, Quarantine
from linkage.synth.writers import MOSVY_HEADER
from tests.helpers import iom_csv, iom_row, mosvy_row, mosvy_xlsx, ngo_csv, ngo_row, sheet
from tests.store_helpers import ingest, quarantined, records

RET = MOSVY_HEADER.index("ថ្ងៃខែឆ្នាំត្រឡប់មកវិញ")
PROV = MOSVY_HEADER.index("ខេត្ត/រាជធានី")


def book(rows: list[list[object]], merges: tuple[str, ...] = ()) -> bytes:
    """A MoSVY sheet with its header on row 1."""
    return sheet([MOSVY_HEADER, *rows], merges)


def three() -> list[list[object]]:
    return [mosvy_row("1"), mosvy_row("2", given="វណ្ណា"), mosvy_row("3", given="សម្បត្តិ")]


def rezip(data: bytes, part: str, edit) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            z.writestr(info.filename, edit(body) if info.filename == part else body)
    return out.getvalue()


# --- whole files refused, in words, never as an internal error -----------------------------


def test_a_sheet_with_damaged_xml_is_refused_by_name_not_as_an_internal_error(store: Settings) -> None:
    data = rezip(book(three()), "xl/worksheets/sheet1.xml", lambda b: b[: len(b) // 2])
    r = ingest(store, data, "m.xlsx", "mosvy")
    assert r.status == "rejected"
    assert r.reason == (
        "sheet 1 of the workbook cannot be read: a part of the file holds damaged XML; open and "
        "save it again in Excel, or export it again"
    )


def test_a_password_protected_workbook_is_named_so_not_called_an_xls(store: Settings) -> None:
    import msoffcrypto.format.ooxml as ooxml

    out = io.BytesIO()
    ooxml.OOXMLFile(io.BytesIO(book(three()))).encrypt("pw-2024", out)
    r = ingest(store, out.getvalue(), "m.xlsx", "mosvy")
    assert r.status == "rejected"
    assert r.reason.startswith("the workbook is protected by a password, so it cannot be read")
    with session_scope(store) as s:
        assert s.scalars(select(Delivery)).one().status == "rejected"


@pytest.mark.parametrize(
    ("data", "start"),
    [
        (
            b"<html><body><table><tr><th>iom_case_no</th></tr></table></body></html>",
            "this is a web page (HTML)",
        ),
        (
            b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>',
            "this is an Excel 2003 XML spreadsheet",
        ),
        (gzip.compress(iom_csv([iom_row()]).encode(), mtime=0), "this is a gzip-compressed file"),
    ],
    ids=["html-named-xls", "spreadsheetml", "gzip"],
)
def test_files_that_are_no_list_are_named_for_what_they_are(store: Settings, data: bytes, start: str) -> None:
    r = ingest(store, data, "list.xls", "iom")
    assert r.status == "rejected" and r.reason.startswith(start), r.reason


def test_an_ods_workbook_is_named(store: Settings) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<x/>")
    r = ingest(store, buf.getvalue(), "m.xlsx", "mosvy")
    assert r.reason.startswith("this is an OpenDocument spreadsheet (.ods")


def _strict(data: bytes) -> bytes:
    """The workbook as Excel's "Strict Open XML Spreadsheet" names its XML (ISO 29500 strict)."""
    pairs = [
        (
            "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            "http://purl.oclc.org/ooxml/spreadsheetml/main",
        ),
        (
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
            "http://purl.oclc.org/ooxml/officeDocument/relationships",
        ),
    ]
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            for ordinary, strict in pairs:
                body = body.replace(ordinary.encode(), strict.encode())
            z.writestr(info.filename, body)
    return out.getvalue()


def test_a_strict_open_xml_workbook_is_read_as_an_ordinary_one(store: Settings, tmp_path: Path) -> None:
    # as Excel writes it (shared strings, a date cell), then saved as Strict
    rows = [
        mosvy_row("1", ret=dt.datetime(2024, 6, 5)),
        mosvy_row("2", given="វណ្ណា"),
        mosvy_row("3", given="សម្បត្តិ"),
    ]
    data = _strict(mosvy_xlsx(tmp_path / "m.xlsx", rows, shared_strings=True).read_bytes())
    assert b"purl.oclc.org" in zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml")
    r = ingest(store, data, "m.xlsx", "mosvy")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 3, 0), r.reason
    assert "saved as Excel's Strict Open XML Spreadsheet: read as an ordinary workbook" in r.notes
    assert [(x.given_name_kh, x.return_date) for x in records(store)] == [
        ("ដារា", dt.date(2024, 6, 5)),
        ("វណ្ណា", dt.date(2024, 6, 5)),
        ("សម្បត្តិ", dt.date(2024, 6, 5)),
    ]


def _renamed(header: dict[str, str]) -> bytes:
    rows = [
        ngo_row("HG-1", "SOK DARA", "1990-03-12", "2024-07-01", "Active"),
        ngo_row("HG-2", "KEO VANNAK", "12-Mar-90", "2024-07-02", "Closed"),
    ]
    text = ngo_csv(rows)
    head, rest = text.split("\n", 1)
    return (",".join(header.get(h, h) for h in head.split(",")) + "\n" + rest).encode()


def test_an_ngo_export_with_its_columns_renamed_by_staff_is_read(store: Settings) -> None:
    names = {
        "client_id": "Client ID",
        "name_en": "Name (English)",
        "dob": "Date of Birth",
        "intake_date": "Intake Date",
        "case_status": "Status",
        "phone": "Phone Number",
    }
    r = ingest(store, _renamed(names), "hagar.csv", "ngo-hagar")
    assert (r.status, r.rows_loaded, r.unknown_columns) == ("ingested", 2, [])
    got = records(store)
    assert [(x.source_record_id, x.family_name, x.birth_date) for x in got] == [
        ("HG-1", "SOK", dt.date(1990, 3, 12)),
        ("HG-2", "KEO", dt.date(1990, 3, 12)),
    ]
    assert [x.case_status for x in got] == ["active", "closed"]


def test_a_required_column_renamed_past_recognition_is_refused_naming_the_columns_not_read(
    store: Settings,
) -> None:
    r = ingest(store, _renamed({"case_status": "Stage of case"}), "hagar.csv", "ngo-hagar")
    assert r.status == "rejected"
    assert r.reason == (
        "required column(s) missing from the header on line 1: case_status (one of: case_status, "
        "status); columns of the file not read: 'Stage of case'. If one of them is the missing "
        "column renamed, add its name to sources/ngo-hagar.yaml and replay, or rename it in the file"
    )


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


@pytest.mark.parametrize("form", ["{}\n{}", "{} ({})"], ids=["over-two-lines", "in-brackets"])
def test_titles_in_khmer_and_english_are_read_by_the_name_the_source_knows(
    store: Settings, form: str
) -> None:
    header = [form.format(k, e) for k, e in zip(MOSVY_HEADER, _ENGLISH, strict=True)]
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [header, *three()]:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    r = ingest(store, buf.getvalue(), "m.xlsx", "mosvy")
    assert (r.status, r.rows_loaded, r.unknown_columns) == ("ingested", 3, []), r.reason
    assert r.notes == [
        "17 header cell(s) name their column in two languages, or with a unit or a note (in brackets, "
        "after a slash or on a second line): read by the name this source knows"
    ]
    assert all(x.province_code for x in records(store))


def test_form_marks_on_titles_and_a_ctrl_z_at_the_end_are_not_part_of_the_list(store: Settings) -> None:
    text = iom_csv([iom_row("KH-1"), iom_row("KH-2", name="VANNAK KEO")])
    head, rest = text.split("\n", 1)
    marked = ",".join(
        f"{h} *" if h in ("iom_case_no", "date_of_return") else f"{h}:" for h in head.split(",")
    )
    r = ingest(store, (marked + "\n" + rest + "\x1a").encode(), "list.csv", "iom")
    assert (r.status, r.rows_read, r.rows_loaded, r.unknown_columns) == ("ingested", 2, 2, [])


# --- encodings ---------------------------------------------------------------------------


def test_utf16_cut_short_mid_row_loads_the_whole_rows(store: Settings) -> None:
    text = iom_csv(
        [iom_row("KH-1"), iom_row("KH-2", name="VANNAK KEO"), iom_row("KH-3", name="SAMBATH CHEA")]
    )
    data = text.encode("utf-16")
    r = ingest(store, data[: len(data) - 41], "list.csv", "iom")  # odd: half a character at the end
    assert (r.status, r.rows_read, r.rows_loaded) == ("ingested", 3, 2)
    assert quarantined(store) == {4: "ragged_row"}


def test_utf16_with_one_broken_character_quarantines_its_row(store: Settings) -> None:
    text = iom_csv(
        [iom_row("KH-1"), iom_row("KH-2", name="VANNAK KEO"), iom_row("KH-3", name="SAMBATH CHEA")]
    )
    data = text.encode("utf-16-le").replace(
        "VANNAK".encode("utf-16-le"), "VA".encode("utf-16-le") + b"\x00\xdc"
    )
    r = ingest(store, b"\xff\xfe" + data, "list.csv", "iom")
    assert (r.status, r.rows_read, r.rows_loaded) == ("ingested", 3, 2)
    assert quarantined(store) == {3: "encoding"}
    assert r.notes == ["1 line(s) hold bytes that are not valid UTF-16"]


def test_a_csv_whose_every_line_is_quoted_whole_is_read_by_its_inner_commas(store: Settings) -> None:
    rows = [iom_row("KH-1"), iom_row("KH-2", name="VANNAK KEO", village_of_origin="Phum Thmei, Krom 3")]
    text = iom_csv(rows)  # the village is quoted: "Phum Thmei, Krom 3"
    wrapped = "".join('"' + line.replace('"', '""') + '"\r\n' for line in text.splitlines())
    r = ingest(store, wrapped.encode(), "list.csv", "iom")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 2, 0), r.reason
    assert r.notes == [
        "each line is quoted whole (a list pasted into one column and saved as CSV): "
        "read by the delimiters inside the quotes"
    ]
    got = records(store)
    assert [(x.line, x.source_record_id, x.village_text) for x in got] == [
        (2, "KH-1", None),
        (3, "KH-2", "Phum Thmei, Krom 3"),
    ]


def test_two_exports_pasted_into_one_file_each_with_its_bom(store: Settings) -> None:
    first = iom_csv([iom_row("KH-1"), iom_row("KH-2", name="VANNAK KEO")])
    second = iom_csv([iom_row("KH-3", name="SAMBATH CHEA")])
    r = ingest(store, ("\ufeff" + first + "\ufeff" + second).encode(), "list.csv", "iom")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (3, 3, 0)  # line 4 was a man: bad date
    assert r.notes == ["the header is repeated on line(s) 4: not read as rows"]
    assert [x.line for x in records(store)] == [2, 3, 5]


# --- what a sheet shows ------------------------------------------------------------------


def test_merged_cells_down_a_batch_give_each_row_the_value_shown(store: Settings) -> None:
    rows = three()
    for r in rows[1:]:
        r[RET] = r[PROV] = None
    prov, ret = chr(ord("A") + PROV), chr(ord("A") + RET)
    r = ingest(store, book(rows, (f"{prov}2:{prov}4", f"{ret}2:{ret}4")), "m.xlsx", "mosvy")
    assert (r.rows_loaded, r.rows_quarantined) == (3, 0)
    assert r.notes == ["4 cell(s) of merged ranges given the value shown at the range's top"]
    assert {x.return_date for x in records(store)} == {dt.date(2024, 6, 5)}
    assert len({x.province_code for x in records(store)}) == 1


# group titles over the columns: ទីលំនៅ ("address") over the places, or ឈ្មោះ ("name")
# over the names; every other title merged down over both rows
_ADDRESS_OVER = (
    [*MOSVY_HEADER[:6], "ទីលំនៅ", None, None, None, *MOSVY_HEADER[10:]],
    [None] * 6 + MOSVY_HEADER[6:10] + [None] * 7,
    ["A1:A2", "B1:B2", "C1:C2", "D1:D2", "E1:E2", "F1:F2", "G1:J1", *[f"{c}1:{c}2" for c in "KLMNOPQ"]],
)
_NAME_OVER = (
    ["ល.រ", "ឈ្មោះ", None, *MOSVY_HEADER[3:]],
    [None, "នាមត្រកូល", "នាមខ្លួន"] + [None] * 14,
    ["A1:A2", "B1:C1", *[f"{c}1:{c}2" for c in "DEFGHIJKLMNOPQ"]],
)


@pytest.mark.parametrize("layout", [_ADDRESS_OVER, _NAME_OVER], ids=["places-below", "names-below"])
def test_a_header_over_two_rows_is_read_as_one(store: Settings, layout: tuple) -> None:
    top, sub, merges = layout
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [top, sub, *three()]:
        ws.append(row)
    for m in merges:
        ws.merge_cells(m)
    buf = io.BytesIO()
    wb.save(buf)
    r = ingest(store, buf.getvalue(), "m.xlsx", "mosvy")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (3, 3, 0)  # the sub-titles are no man
    assert r.notes == ["the header is written over lines 1-2 (group titles over columns): read as one"]
    got = records(store)
    assert [x.line for x in got] == [3, 4, 5]
    assert all(x.province_code and x.district_code for x in got)  # were lost: read from row 1 only
    assert [x.given_name_kh for x in got] == ["ដារា", "វណ្ណា", "សម្បត្តិ"]


def _with_saved(data: bytes, column: str) -> bytes:
    """A column's text cells below the header turned into formulas with a saved value."""

    def edit(body: bytes) -> bytes:
        return re.sub(
            rb'<c r="(' + column.encode() + rb'(\d+))"[^>]*t="inlineStr"[^>]*><is><t>([^<]*)</t></is></c>',
            lambda m: (
                m[0] if m[2] == b"1" else b'<c r="' + m[1] + b'"><f>ROW()-1</f><v>' + m[3] + b"</v></c>"
            ),
            body,
        )

    return rezip(data, "xl/worksheets/sheet1.xml", edit)


def test_formulas_are_read_by_the_value_excel_saved_and_without_one_quarantined(store: Settings) -> None:
    rows = three()
    rows[2][4] = "=2024-1990"  # age by a formula no program ever computed
    r = ingest(store, _with_saved(book(rows), "A"), "m.xlsx", "mosvy")
    assert r.notes == ["3 formula cell(s) read as the values Excel saved with them"]
    assert (r.rows_loaded, quarantined(store)) == (2, {4: "formula"})
    assert [x.source_record_id for x in records(store)] == ["1", "2"]


def test_a_formula_without_a_saved_value_names_its_cell_and_says_to_save_it_in_excel(
    store: Settings,
) -> None:
    # a list that starts at B3 under a title, as offices lay them out: the cell is named as
    # Excel shows it (age is the list's fifth column, F; its third row is sheet row 6)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B1"] = "បញ្ជីឈ្មោះ"
    for i, row in enumerate([MOSVY_HEADER, *three()]):
        for j, v in enumerate(row):
            ws.cell(row=3 + i, column=2 + j, value=v)
    ws["F6"] = "=2024-1990"
    buf = io.BytesIO()
    wb.save(buf)
    r = ingest(store, buf.getvalue(), "m.xlsx", "mosvy")
    assert (r.rows_loaded, quarantined(store)) == (2, {6: "formula"})
    with session_scope(store) as s:
        q = s.scalars(select(Quarantine)).one()
        assert (q.column, q.reason) == (
            "age",
            "age: cell F6 holds a formula with no value saved with it (the workbook was written "
            "by a program and never calculated); open it in Excel, save it there so each "
            "formula's value is kept, and send it again",
        )


def test_an_excel_error_value_is_never_loaded_as_a_name(store: Settings) -> None:
    rows = three()
    rows[1][2] = "#N/A"
    r = ingest(store, book(rows), "m.xlsx", "mosvy")
    assert (r.rows_loaded, quarantined(store)) == (2, {3: "excel_error"})
    with session_scope(store) as s:
        q = s.scalars(select(Quarantine)).one()
        assert q.reason == (
            "given_name_kh: cell C3 holds an Excel error value (#N/A, #REF! ...): "
            "the formula behind it failed"
        )


def test_dates_an_excel_set_to_month_first_converted_are_quarantined_not_loaded_swapped(
    store: Settings,
) -> None:
    # typed 05/06/2024, 13/06/2024 and 06/06/2024 into an Excel set to MM/DD/YYYY: the first
    # became 6 May, the second stayed text (no month 13), the third is the same either way
    rows = [
        mosvy_row("1", ret=dt.datetime(2024, 5, 6)),
        mosvy_row("2", given="វណ្ណា", ret="13/06/2024"),
        mosvy_row("3", given="សម្បត្តិ", ret=dt.datetime(2024, 6, 6)),
    ]
    r = ingest(store, book(rows), "m.xlsx", "mosvy")
    assert (r.rows_loaded, quarantined(store)) == (2, {2: "date_month_first"})
    assert [x.return_date for x in records(store)] == [dt.date(2024, 6, 13), dt.date(2024, 6, 6)]
    rows[1][RET] = dt.datetime(2024, 6, 5)  # a column of dates alone says nothing of the sort
    again = ingest(store, book(rows), "m2.xlsx", "mosvy")
    assert again.rows_quarantined == 0
    # a clerk who typed some dates as text and entered others as dates: a real 20 June among
    # them cannot have been swapped, so the column is no mark and nothing is held back
    rows[1][RET] = "13/06/2024"
    rows.append(mosvy_row("4", given="សុខា", ret=dt.datetime(2024, 6, 20)))
    mixed = ingest(store, book(rows), "m3.xlsx", "mosvy")
    assert (mixed.rows_loaded, mixed.rows_quarantined) == (4, 0)


# --- cells as spreadsheets and pastes leave them -----------------------------------------


def test_equals_quoted_apostrophe_and_zero_width_cells_are_their_values(store: Settings) -> None:
    rows = [
        iom_row("'KH-1", phone='="012345678"', dob="'12/03/1990"),
        iom_row("KH-2\u200b", name="VANNAK KEO", dob="01/02/1985\u200b", phone="\u00a0012 345 679"),
        iom_row("KH-3", name="SAMBATH CHEA"),
    ]
    text = iom_csv(rows).replace('"=""012345678"""', '="012345678"')  # as Excel users write it
    r = ingest(store, text.encode(), "list.csv", "iom")
    assert (r.rows_loaded, r.rows_quarantined) == (3, 0)
    got = records(store)
    assert [x.source_record_id for x in got] == ["KH-1", "KH-2", "KH-3"]
    assert [x.phone for x in got[:2]] == ["+85512345678", "+85512345679"]
    assert [x.birth_date for x in got[:2]] == [dt.date(1990, 3, 12), dt.date(1985, 2, 1)]


def test_an_id_that_differs_by_a_zero_width_space_is_the_same_id(store: Settings) -> None:
    rows = [iom_row("KH-1"), iom_row("KH-1\u200b", name="VANNAK KEO")]
    r = ingest(store, iom_csv(rows).encode(), "list.csv", "iom")
    assert (r.rows_loaded, quarantined(store)) == (1, {3: "duplicate_id"})


def test_a_phone_in_scientific_notation_is_not_stored_as_a_wrong_number(store: Settings) -> None:
    rows = [iom_row("KH-1", phone="8.55123E+10"), iom_row("KH-2", name="VANNAK KEO", phone="85512345678.0")]
    r = ingest(store, iom_csv(rows).encode(), "list.csv", "iom")
    assert r.rows_loaded == 2 and r.warnings_by_rule["phone_format"] == 1
    assert [x.phone for x in records(store)] == [None, "+85512345678"]


def test_two_phones_in_one_cell_are_both_kept_and_a_bad_one_beside_them_is_said(store: Settings) -> None:
    rows = [
        iom_row("KH-1", phone="012 345 678 / 097 123 4567"),
        iom_row("KH-2", name="VANNAK KEO", phone="012 345 679, 12"),
    ]
    r = ingest(store, iom_csv(rows).encode(), "list.csv", "iom")
    assert (r.rows_loaded, r.warnings_by_rule["phone_format"]) == (2, 1)
    assert [x.phone for x in records(store)] == ["+85512345678 +855971234567", "+85512345679"]


def test_dates_written_out_are_read_and_a_lunar_month_or_a_bare_year_is_refused_by_reason(
    store: Settings,
) -> None:
    rows = [
        iom_row("KH-1", dob="12-Mar-90"),
        iom_row("KH-2", name="VANNAK KEO", dob="ថ្ងៃទី១២ ខែមីនា ឆ្នាំ១៩៩០"),
        iom_row("KH-3", name="SAMBATH CHEA", dob="12/03/1990 12:00 AM", ret="5-Jun-24"),
        iom_row("KH-4", name="PISETH HENG", dob="March 1990"),  # born that year
        iom_row("KH-5", name="VICHEA PHAN", dob="១២ មិគសិរ ២៥៣៣"),  # a lunar month
        iom_row("KH-6", name="RITHY THACH", ret="2024"),  # a year is no return date
    ]
    r = ingest(store, iom_csv(rows).encode(), "list.csv", "iom")
    assert (r.rows_loaded, quarantined(store)) == (4, {6: "date_format", 7: "date_format"})
    got = records(store)
    assert [(x.birth_date, x.birth_precision) for x in got] == [
        (dt.date(1990, 3, 12), "day"),
        (dt.date(1990, 3, 12), "day"),
        (dt.date(1990, 3, 12), "day"),
        (dt.date(1990, 3, 1), "year"),
    ]
    assert {x.return_date for x in got} == {dt.date(2024, 6, 5)}
    with session_scope(store) as s:
        reasons = [q.reason for q in s.scalars(select(Quarantine).order_by(Quarantine.line))]
    assert reasons == [
        "birth_date: a month of the Khmer lunar calendar: write the date in the solar calendar (DD/MM/YYYY)",
        "return_date: a year without the day: the full date (day, month, year) is needed",
    ]


def test_a_birth_year_typed_as_a_number_is_that_year_not_excel_day_1990(store: Settings) -> None:
    rows = three()
    rows[0][5], rows[1][5] = 1990, 1985.0  # ថ្ងៃខែឆ្នាំកំណើត: a number, as typed into a cell
    r = ingest(store, book(rows), "m.xlsx", "mosvy")
    assert r.rows_loaded == 3
    got = records(store)
    assert [(x.birth_year, x.birth_precision) for x in got[:2]] == [(1990, "year"), (1985, "year")]
    assert got[0].birth_date != dt.date(1905, 6, 12)  # what day number 1990 is


# --- rows that are no man ----------------------------------------------------------------


def test_a_header_again_and_column_numbers_are_not_rows_and_a_total_is_quarantined(store: Settings) -> None:
    rows = three()
    numbers = [str(i) for i in range(1, len(MOSVY_HEADER) + 1)]
    total = ["សរុប", *[None] * (len(MOSVY_HEADER) - 2), "3 នាក់"]
    r = ingest(store, book([numbers, rows[0], list(MOSVY_HEADER), *rows[1:], total]), "m.xlsx", "mosvy")
    assert (r.rows_read, r.rows_loaded) == (4, 3)
    assert quarantined(store) == {7: "totals_row"}
    assert r.notes == [
        "the header is repeated on line(s) 4: not read as rows",
        "line 2 numbers the columns (1, 2, 3 ...): not read as a row",
    ]
    assert [x.source_record_id for x in records(store)] == ["1", "2", "3"]  # 1 is no duplicate of line 2


def test_a_totals_row_of_a_csv_is_quarantined_as_one_and_replay_keeps_it(store: Settings) -> None:
    text = iom_csv([iom_row("KH-1"), iom_row("KH-2", name="VANNAK KEO")]) + "Total,2" + "," * 17 + "\n"
    r = ingest(store, text.encode(), "list.csv", "iom")
    assert (r.rows_loaded, quarantined(store)) == (2, {4: "totals_row"})
    again = Ingestor(store).replay()
    assert [(x.rows_loaded, x.rows_quarantined) for x in again] == [(0, 1)]
    assert quarantined(store) == {4: "totals_row"}


def test_a_footer_under_a_csv_list_is_quarantined_as_a_line_of_text_not_a_cut_row(store: Settings) -> None:
    text = (
        iom_csv([iom_row("KH-1"), iom_row("KH-2", name="VANNAK KEO")])
        + "Printed by ActivityInfo\nPage 1 of 1\n"
    )
    r = ingest(store, text.encode(), "list.csv", "iom")
    assert (r.rows_loaded, quarantined(store)) == (2, {4: "ragged_row", 5: "ragged_row"})
    with session_scope(store) as s:
        reasons = {q.reason for q in s.scalars(select(Quarantine))}
    assert reasons == {
        "row has 1 cells but the header has 19: the line is one cell of text, not a row (a note or "
        "a footer such as 'Page 1 of 2', or a row without its delimiters): delete it, or put back "
        "its delimiters"
    }


def test_a_placeholder_for_not_known_is_a_blank_cell(store: Settings) -> None:
    rows = [
        iom_row("KH-1", dob="-", phone="N/A"),
        iom_row("KH-2", name="VANNAK KEO", dob="N/A", age_at_return="?"),
        iom_row("-", name="SAMBATH CHEA"),  # an id of '-' is no id
    ]
    r = ingest(store, iom_csv(rows).encode(), "list.csv", "iom")
    assert (r.rows_loaded, quarantined(store)) == (2, {4: "required"})
    assert [(x.birth_date, x.phone, x.age) for x in records(store)] == [
        (None, None, None),
        (None, "+85512345678", None),
    ]
