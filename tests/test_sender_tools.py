"""What the senders' tools do to a list: Excel's ANSI 'CSV' (Khmer turned to ?), a program's
export (blanks as nan, ids as 110200300.0), Office files that are no workbook, a province's
name on a row of its own, a note right of the list, a name merged across two cells.

Each file is made here and ingested into a store of its own through Ingestor (the path
`survivor-link ingest` takes); every test checks the rows are all accounted for.
"""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from linkage.settings import Settings
from linkage.synth.writers import MOSVY_HEADER
from tests.helpers import iom_csv, iom_row, mosvy_row, ngo_csv, ngo_row, sheet
from tests.store_helpers import ingest, quarantine, records

NID = MOSVY_HEADER.index("អត្តសញ្ញាណប័ណ្ណ")
RET = MOSVY_HEADER.index("ថ្ងៃខែឆ្នាំត្រឡប់មកវិញ")
PROV = MOSVY_HEADER.index("ខេត្ត/រាជធានី")


def mosvy_csv(rows: list[list[object]]) -> str:
    return "\n".join(",".join(str(c) for c in r) for r in [MOSVY_HEADER, *rows]) + "\n"


# --- Khmer saved as question marks ---------------------------------------------------------


def test_a_khmer_list_saved_as_ansi_csv_is_refused_for_what_happened_not_as_no_header(
    store: Settings,
) -> None:
    data = mosvy_csv([mosvy_row("1"), mosvy_row("2", given="វណ្ណា")]).encode("cp1252", errors="replace")
    r = ingest(store, data, "m.csv", "mosvy")
    assert r.status == "rejected"
    assert r.reason.startswith("the file's Khmer text is question marks (????), its column titles too")
    assert "'CSV UTF-8'" in r.reason


def test_khmer_names_turned_to_question_marks_are_never_linked_and_the_latin_name_is_kept(
    store: Settings,
) -> None:
    """'??? ????' would match every other name lost the same way: no such name is loaded. A
    row that still has its Latin name loads with the Khmer one blank and a warning; a row
    whose only name was Khmer is quarantined, for the list to be sent again."""
    rows = [
        ngo_row("HG-1", "DARA SOK", "1990-03-12", "2024-07-01", "Active", name_kh="សុខ ដារា"),
        ngo_row("HG-2", "VANNAK KEO", "1985-02-01", "2024-07-02", "Active"),
        ngo_row("HG-3", "", "1992-04-03", "2024-07-03", "Active", name_kh="ជា សម្បត្តិ"),
    ]
    data = ngo_csv(rows).encode("cp1252", errors="replace")
    r = ingest(store, data, "h.csv", "ngo-hagar")
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("ingested", 3, 2, 1)
    assert r.warnings_by_rule == {"lost_characters": 1}
    (rule, reason), *_ = quarantine(store).values()
    assert rule == "lost_characters"
    assert reason.startswith("full_name_kh: the text is question marks (????)")
    stored = records(store)
    assert all("?" not in (x.name_kh or "") for x in stored)
    assert sorted(x.family_name for x in stored) == ["KEO", "SOK"]


# --- a program's export -------------------------------------------------------------------


def test_a_list_written_by_pandas_reads_nan_as_blank_and_float_ids_as_their_digits(
    store: Settings,
) -> None:
    rows = [
        iom_row("KH-1", dob="nan", phone="12555000.0", travel_doc_no="4418201.0", referral_date="NaT"),
        iom_row("KH-2", name="VANNAK KEO", age_at_return="nan", phone="nan", travel_doc_no="<NA>"),
    ]
    r = ingest(store, iom_csv(rows).encode(), "i.csv", "iom")
    assert (r.rows_read, r.rows_loaded, r.warnings_by_rule) == (2, 2, {})
    first, second = records(store)
    assert (first.birth_date, first.phone, first.travel_doc_no, first.referral_date) == (
        None,
        "+85512555000",
        "4418201",
        None,
    )
    assert (second.age, second.phone, second.travel_doc_no) == (None, None, None)


def test_id_cards_and_row_numbers_written_as_floats_are_their_digits(store: Settings) -> None:
    rows = [mosvy_row("1.0", nid="110200300.0"), mosvy_row("2.0", given="វណ្ណា", nid="011020030.00")]
    r = ingest(store, mosvy_csv(rows).encode(), "m.csv", "mosvy")
    assert (r.rows_loaded, r.warnings_by_rule) == (2, {})
    assert [(x.source_record_id, x.national_id) for x in records(store)] == [
        ("1", "110200300"),
        ("2", "011020030"),
    ]


def test_a_name_that_is_nan_stays_a_name(store: Settings) -> None:
    """NAN is a Khmer given name: only codes, numbers and dates read nan as blank."""
    r = ingest(store, iom_csv([iom_row("KH-1", name="NAN SOK")]).encode(), "i.csv", "iom")
    assert r.rows_loaded == 1
    assert records(store)[0].name_latin == "SOK NAN"


# --- Office files that are no workbook ------------------------------------------------------


def _office(part: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(part, "<x/>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("part", "start"),
    [
        ("word/document.xml", "this is a Word document (.docx), not a list"),
        ("xl/workbook.bin", "this is an Excel Binary Workbook (.xlsb), which is not read"),
        ("ppt/presentation.xml", "this is a PowerPoint presentation (.pptx)"),
    ],
)
def test_an_office_file_that_is_no_workbook_is_named_for_what_it_is(
    store: Settings, part: str, start: str
) -> None:
    r = ingest(store, _office(part), "m.xlsx", "mosvy")
    assert r.status == "rejected"
    assert r.reason.startswith(start)


# --- rows and columns that are no part of a man's row ------------------------------------


def test_a_province_name_on_a_row_of_its_own_is_quarantined_as_a_heading(store: Settings) -> None:
    m = [mosvy_row("1"), mosvy_row("2", given="វណ្ណា")]
    rows = [MOSVY_HEADER, ["ខេត្តកំពង់ធំ"], m[0], [None, None, "ខេត្តសៀមរាប"], m[1]]
    r = ingest(store, sheet(rows, ("A2:Q2",)), "m.xlsx", "mosvy")
    assert (r.rows_read, r.rows_loaded, r.quarantined_by_rule) == (4, 2, {"heading_row": 2})
    assert set(quarantine(store)) == {2, 4}


def test_a_row_with_one_cell_holding_digits_is_no_heading(store: Settings) -> None:
    """A signature's date (ថ្ងៃទី ៣០ ...) or a return date that is no date, alone in its row,
    stays a row to quarantine (the signature as a sign-off, since round 6): only text with
    no digit is a heading."""
    rows = [MOSVY_HEADER, mosvy_row("1"), [None] * 11 + ["ធ្វើនៅ ថ្ងៃទី ៣០ ខែ មិថុនា ឆ្នាំ ២០២៤"]]
    r = ingest(store, sheet(rows), "m.xlsx", "mosvy")
    assert r.quarantined_by_rule == {"sign_off_row": 1}
    rows = [MOSVY_HEADER, mosvy_row("1"), [None] * 11 + ["៣០ មិថុនា"]]
    r = ingest(store, sheet(rows), "m2.xlsx", "mosvy")
    assert r.quarantined_by_rule == {"date_format": 1}


def test_a_note_right_of_the_list_is_kept_with_its_record_and_named(store: Settings) -> None:
    m = [mosvy_row("1"), [*mosvy_row("2", given="វណ្ណា"), None, None, "checked"]]
    r = ingest(store, sheet([MOSVY_HEADER, *m]), "m.xlsx", "mosvy")
    assert r.rows_loaded == 2
    assert (
        "column T has no title but holds values in 1 row(s): kept with each record's other columns" in r.notes
    )
    assert [x.extra for x in records(store)] == [None, {"column T": "checked"}]


def test_a_whole_name_merged_across_family_and_given_is_split(store: Settings) -> None:
    m = [mosvy_row("1"), mosvy_row("2", family="ជា សុគន្ធា", given=None)]
    r = ingest(store, sheet([MOSVY_HEADER, *m], ("B3:C3",)), "m.xlsx", "mosvy")
    assert r.rows_loaded == 2
    second = records(store)[1]
    assert (second.family_name_kh, second.given_name_kh) == ("ជា", "សុគន្ធា")


# --- Excel 97-2003 (.xls) ----------------------------------------------------------------


def _xls(rows: list[list[object]], hidden_old: bool = False) -> bytes:
    import datetime as dt

    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    if hidden_old:
        old = wb.add_sheet("Old")
        for j, h in enumerate(MOSVY_HEADER):
            old.write(0, j, h)
        old.write(1, 0, 9)
        old.visibility = 1  # hidden
    ws = wb.add_sheet("List")
    for j, h in enumerate(MOSVY_HEADER):
        ws.write(0, j, h)
    date = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for i, r in enumerate(rows, 1):
        for j, v in enumerate(r):
            if j == RET:
                ws.write(i, j, dt.datetime(2024, 6, i), date)
            elif j == NID and i == 2:
                ws.write(i, j, 110200301)  # a number where the id is
            elif j != PROV or i == 1:
                ws.write(i, j, v)
    ws.merge(1, len(rows), PROV, PROV)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_an_xls_workbook_is_read_as_a_workbook(store: Settings) -> None:
    import datetime as dt

    rows = [mosvy_row("1"), mosvy_row("2", given="វណ្ណា"), mosvy_row("3", given="សម្បត្តិ")]
    r = ingest(store, _xls(rows), "m.xls", "mosvy")
    assert (r.status, r.rows_read, r.rows_loaded) == ("ingested", 3, 3)
    assert "an Excel 97-2003 workbook (.xls): read as a workbook" in r.notes
    got = records(store)
    assert [x.return_date for x in got] == [dt.date(2024, 6, d) for d in (1, 2, 3)]
    assert [x.province_text for x in got] == ["ខេត្តកំពង់ធំ"] * 3  # merged down
    assert got[1].national_id == "110200301"
    assert [x.given_name_kh for x in got] == ["ដារា", "វណ្ណា", "សម្បត្តិ"]


def test_an_xls_with_rows_on_a_hidden_sheet_too_is_refused_naming_both(store: Settings) -> None:
    r = ingest(store, _xls([mosvy_row("1")], hidden_old=True), "m.xls", "mosvy")
    assert r.status == "rejected"
    assert r.reason.startswith("rows of this list are on 2 sheets (sheet 1 ('Old', hidden): 1 rows;")


def test_a_damaged_xls_is_refused_in_words(store: Settings) -> None:
    data = _xls([mosvy_row("1")])
    broken = data[:512] + bytes(b ^ 0x5A for b in data[512:1024]) + data[1024:]
    r = ingest(store, broken, "m.xls", "mosvy")
    assert r.status == "rejected"
    assert r.reason.startswith("this is an Excel 97-2003 (.xls) workbook")
    assert r.reason.endswith("save it as .xlsx and send again")


def test_an_id_kept_as_a_number_with_a_zeros_format_is_read_with_its_leading_zero(store: Settings) -> None:
    """10234567 formatted 000000000 shows 010234567 in Excel: that is the man's ID card."""
    phone = MOSVY_HEADER.index("លេខទូរស័ព្ទ")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(MOSVY_HEADER)
    ws.append(mosvy_row("1"))
    ws.append(mosvy_row("2", given="វណ្ណា"))
    ws.cell(2, NID + 1, 10234567).number_format = "000000000"
    ws.cell(2, phone + 1, 12345678).number_format = '000" "000" "000'
    ws.cell(3, NID + 1, 110234567).number_format = "000000000"  # nine digits: nothing to add
    ws.cell(3, phone + 1, 12345678)  # no format: a number as it is
    buf = io.BytesIO()
    wb.save(buf)
    r = ingest(store, buf.getvalue(), "m.xlsx", "mosvy")
    assert r.rows_loaded == 2
    assert "2 number cell(s) show leading zeros by their number format (000000000): read as shown" in r.notes
    first, second = records(store)
    assert (first.national_id, first.phone) == ("010234567", "+85512345678")
    assert second.national_id == "110234567"
