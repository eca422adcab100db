"""Bad input, round five (hB-bad5): the fast sheet reader held to openpyxl on workbooks of
three writers and their sheet XML changed, then deliveries no round had: (see the sections).

Each file is written here, real (openpyxl, xlsxwriter, LibreOffice, csv, a workbook's XML
edited as a program leaves it), and read through the ingest's own reader or ingested into a
store of its own through Ingestor, the path `survivor-link ingest` takes; the corpus cases of
session 22 (`benchmarks/bad_input/corpus.py`) are each held to their outcome too.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import openpyxl
import pytest

from benchmarks.bad_input import corpus
from linkage.ingest.sheet_cells import hidden_rows
from linkage.ingest.sheet_xml import MAIN_NS, sheet_values
from linkage.ingest.xlsx_text import install
from linkage.settings import Settings
from tests.helpers import iom_csv, iom_row
from tests.store_helpers import ingest, outcome, quarantine, quarantined, records, shown

DOB, PHONE, RET = corpus.DOB, corpus.PHONE, corpus.RET
FUZZ = Path(__file__).resolve().parents[1] / "scripts" / "fuzz_sheet_xml.py"


def _fuzz() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_sheet_xml", FUZZ)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_sheet_xml"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# --- the fast sheet reader against openpyxl ------------------------------------------------


def _sheet_edited(data: bytes, edit) -> bytes:  # noqa: ANN001 - a str -> str function
    return _fuzz().with_parts(data, {"xl/worksheets/sheet1.xml": lambda b: edit(b.decode()).encode()})


def _fast(data: bytes) -> list[list[object]] | None:
    install()
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        ws = wb.worksheets[0]
        ws.reset_dimensions()
        return sheet_values(ws)
    finally:
        wb.close()


@pytest.mark.parametrize("writer", ["openpyxl", "xlsxwriter", "xlsxwriter-constant-memory"])
def test_each_writers_workbook_is_read_by_the_fast_path_as_openpyxl_reads_it(writer: str) -> None:
    fuzz = _fuzz()
    data = fuzz.bases_of([writer])[writer]
    assert fuzz.compare(data) == ("fast", "")  # read by the fast path, and the same rows


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is installed by make test")
def test_libreoffices_workbook_is_read_by_the_fast_path_as_openpyxl_reads_it() -> None:
    fuzz = _fuzz()
    assert fuzz.compare(fuzz.soffice_book(fuzz.OFFICE_ROWS)) == ("fast", "")
    with_booleans = fuzz.soffice_book(fuzz.ROWS)  # TRUE as a formula: openpyxl's to read
    assert fuzz.compare(with_booleans) == ("openpyxl", "")


def test_a_seeded_differential_run_over_every_mutation_finds_nothing() -> None:
    """Three hundred workbooks, each writer's sheet XML changed one to four ways: the fast
    path gives openpyxl's rows, or leaves the sheet to it."""
    fuzz = _fuzz()
    tally = fuzz.run(
        fuzz.bases_of(["openpyxl", "xlsxwriter", "xlsxwriter-constant-memory"]), seed=22, iterations=300
    )
    assert tally.findings == []
    assert tally.outcomes["fast"] >= 30 and tally.outcomes["openpyxl"] >= 30  # both ways taken
    assert len(tally.by_mutation) == len(fuzz.MUTATIONS) + 1  # each mutation, and the date style 0


def test_a_row_attribute_whose_prefix_no_element_declares_is_left_to_openpyxl_which_refuses_it(
    store: Settings,
) -> None:
    """Found by the fuzz: expat without namespaces took `foo:bar="1"` on a row; openpyxl's
    parser says "unbound prefix". The fast path read a sheet the reader otherwise refuses."""
    data = _sheet_edited(
        corpus.mosvy_book(corpus.mosvy_rows()), lambda x: x.replace("<row ", '<row foo:bar="1" ', 1)
    )
    assert _fast(data) is None
    r = ingest(store, data, "mosvy.xlsx", "mosvy")
    assert r.status == "rejected"
    assert "sheet 1 of the workbook cannot be read: a part of the file holds damaged XML" in r.reason


def test_a_declared_prefix_on_row_attributes_as_excel_writes_it_is_still_read_fast() -> None:
    ac = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"

    def edit(x: str) -> str:
        x = x.replace(f'xmlns="{MAIN_NS}"', f'xmlns="{MAIN_NS}" xmlns:x14ac="{ac}"', 1)
        return re.sub(r"<row ", '<row x14ac:dyDescent="0.25" ', x)

    data = _sheet_edited(_fuzz().openpyxl_book(_fuzz().ROWS), edit)
    assert _fuzz().compare(data) == ("fast", "")


def test_one_attribute_twice_under_two_prefixes_of_one_namespace_is_left_to_openpyxl() -> None:
    def edit(x: str) -> str:
        x = x.replace(f'xmlns="{MAIN_NS}"', f'xmlns="{MAIN_NS}" xmlns:a="urn:q" xmlns:b="urn:q"', 1)
        return x.replace("<row ", '<row a:h="1" b:h="2" ', 1)

    data = _sheet_edited(_fuzz().openpyxl_book(_fuzz().ROWS), edit)
    assert _fast(data) is None
    assert _fuzz().compare(data) == ("openpyxl", "")


def test_cells_with_no_style_take_style_0_which_a_workbook_may_make_a_date() -> None:
    """Found by the fuzz: a cell without `s` is style 0 to openpyxl; when the workbook's first
    cell format is a date (numFmtId 14) its numbers are dates. The fast path kept numbers."""
    fuzz = _fuzz()
    data = fuzz.date_style_zero(fuzz.bases_of(["xlsxwriter"])["xlsxwriter"])
    rows = _fast(data)
    assert rows is not None and fuzz.compare(data) == ("fast", "")
    assert rows[1][0].year == 1900  # the row number 1, a date by style 0 as openpyxl reads it


# --- deliveries of round five ----------------------------------------------------------------


@pytest.mark.parametrize("case", corpus.session22_cases(), ids=lambda c: c.id)
def test_session22_case_meets_its_outcome(store: Settings, case: corpus.Case) -> None:
    r = ingest(store, case.data, case.file_name, case.source)
    assert outcome(r) == case.expect, r.reason
    assert r.rows_loaded == case.expect_loaded
    assert r.rows_loaded + r.rows_quarantined == case.persons + case.extra  # every row kept
    said = shown(store, r)
    assert not [v for v in case.values if len(v) >= 5 and v in said]  # no personal value shown


def _mosvy(edit=None, book=corpus.mosvy_book) -> bytes:  # noqa: ANN001 - corpus's edit and book
    rows = corpus.mosvy_rows()
    if edit:
        edit(rows)
    return book(rows)


def test_ages_written_25y_y_o_yo_and_years_old_keep_their_years(store: Settings) -> None:
    ages = ["25y", "26 y", "27y.o.", "28 yo", "29 years old"]
    r = ingest(store, _mosvy(corpus._mcol(4, ages)), "dosvy.xlsx", "mosvy")
    assert (r.status, r.rows_loaded) == ("ingested", 5), r.reason
    assert "age_format" not in r.warnings_by_rule
    assert [x.age for x in records(store)] == [25, 26, 27, 28, 29]


def test_a_letter_that_is_no_unit_still_leaves_the_age_blank_with_a_warning(store: Settings) -> None:
    r = ingest(store, _mosvy(corpus._mcol(4, ["25yy", "26 x", "27", "28", "29"])), "dosvy.xlsx", "mosvy")
    assert r.warnings_by_rule.get("age_format") == 2
    assert [x.age for x in records(store)] == [None, None, 27, 28, 29]


def test_an_id_typed_after_its_label_keeps_only_its_number(store: Settings) -> None:
    """N° 110200303 was kept as N°110200303 (with an id_format warning): the same man's card
    on another list, typed bare, then never met it."""
    ids = ["N° 110200301", "ID: 110 200 302", "លេខ ១១០២០០៣០៣", "អត្តសញ្ញាណប័ណ្ណលេខ 110200304", "N110200305"]
    r = ingest(store, _mosvy(corpus._mcol(corpus.NID, ids)), "dosvy.xlsx", "mosvy")
    assert (r.status, r.rows_loaded) == ("ingested", 5), r.reason
    got = sorted(x.national_id for x in records(store))
    assert got == ["110200301", "110200302", "110200303", "110200304", "N110200305"]
    assert r.warnings_by_rule.get("id_format") == 1  # a letter that is no label is still said


def test_a_summary_kept_under_the_totals_row_is_quarantined_as_totals_not_as_men(store: Settings) -> None:
    """Google Sheets' CSV of a list with Total, Men under it: the Men row was quarantined as a
    man with no return date ("required"), which sends an officer looking for a man."""
    case = next(c for c in corpus.session22_cases() if c.id == "gsheet-csv-summary")
    r = ingest(store, case.data, case.file_name, case.source)
    assert (r.status, r.rows_loaded, r.quarantined_by_rule) == ("ingested", 5, {"totals_row": 2})
    assert sorted(quarantined(store)) == [8, 9]


def test_a_word_and_a_number_above_any_total_stays_a_row_its_checks_name(store: Settings) -> None:
    """Only under a totals row is a word and a number a summary: a half-typed row elsewhere
    (a name and an age) keeps its own rule."""
    rows = [iom_row(f"KH-IOM-2024-000{i}") for i in range(1, 4)]
    text = iom_csv(rows) + "Men,5" + "," * (len(rows[0]) - 1) + "\n"
    r = ingest(store, text.encode(), "iom.csv", "iom")
    assert r.rows_loaded == 3 and "totals_row" not in r.quarantined_by_rule
    text = iom_csv(rows) + "Total,3\n" + "Men,3\n" + "Women,0\n"
    r2 = ingest(store, text.encode(), "iom2.csv", "iom")
    assert r2.quarantined_by_rule == {"totals_row": 3}


def test_rows_a_filter_or_a_collapsed_group_hides_are_read_and_named_in_the_notes(store: Settings) -> None:
    """A filter is a way of looking, not of deleting: every man is read, and the notes say
    which lines the sheet hid (an officer who filtered before sending may not mean them)."""
    filtered = next(c for c in corpus.session22_cases() if c.id == "table-filter-hidden-rows")
    r = ingest(store, filtered.data, filtered.file_name, filtered.source)
    assert (r.status, r.rows_loaded) == ("ingested", 5)
    assert any(
        n.startswith("2 row(s) of the list are hidden in the sheet") and "line(s) 3, 5:" in n for n in r.notes
    )
    plain = ingest(store, _mosvy(), "plain.xlsx", "mosvy")
    assert not any("hidden" in n for n in plain.notes)


def test_quoted_cells_parted_by_a_comma_and_a_space_are_read_as_sent(store: Settings) -> None:
    """`"iom_case_no", "full_name", ...`: csv kept ` "full_name"` with its space and quotes,
    no title matched, and the list was refused as having no header."""
    rows = [iom_row("KH-IOM-2024-0001", name="SOK, DARA"), iom_row("KH-IOM-2024-0002")]
    fields = list(rows[0])
    text = ", ".join(f'"{h}"' for h in fields) + "\r\n"
    text += "".join(", ".join(f'"{r[h]}"' for h in fields) + "\r\n" for r in rows)
    r = ingest(store, text.encode(), "iom.csv", "iom")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 2, 0), r.reason
    assert any(n.startswith("a space after each delimiter") for n in r.notes)
    first = records(store)[0]
    assert (first.source_record_id, first.family_name, first.given_name) == (
        "KH-IOM-2024-0001",
        "SOK",
        "DARA",
    )


def test_an_ordinary_quoted_csv_is_not_taken_for_one_spaced_after_its_commas(store: Settings) -> None:
    """Every cell quoted, one holding `"yes", "no"` (its quotes doubled): read by CSV's rules."""
    rows = [iom_row("KH-IOM-2024-0001", sector='said "yes", "no"'), iom_row("KH-IOM-2024-0002")]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, list(rows[0]), quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    assert '"", ""' in buf.getvalue()
    r = ingest(store, buf.getvalue().encode(), "iom.csv", "iom")
    assert (r.status, r.rows_loaded) == ("ingested", 2), r.reason
    assert not any(n.startswith("a space after each delimiter") for n in r.notes)
    assert records(store)[0].sector == 'said "yes", "no"'


@pytest.mark.parametrize(
    ("written", "phone"),
    [
        ("+855 (0)12 555 000", "+85512555000"),
        ("855 (0)97 7000001", "+855977000001"),
        ("(+855) 097 7000003", "+855977000003"),
        ("+855 00 12345678", None),  # two zeros after the country code: no number
    ],
)
def test_a_trunk_zero_written_after_the_country_code_is_dropped(
    store: Settings, written: str, phone: str
) -> None:
    r = ingest(store, _mosvy(corpus._mcol(PHONE, [written] * 5)), "dosvy.xlsx", "mosvy")
    assert r.rows_loaded == 5
    assert records(store)[0].phone == phone
    assert ("phone_format" in r.warnings_by_rule) == (phone is None)


def test_ages_written_as_guesses_keep_their_years(store: Settings) -> None:
    r = ingest(
        store, _mosvy(corpus._mcol(4, ["25?", "~26", "27+", "about 28", "ប្រហែល ២៩"])), "d.xlsx", "mosvy"
    )
    assert "age_format" not in r.warnings_by_rule
    assert [x.age for x in records(store)] == [25, 26, 27, 28, 29]


def test_a_birth_date_with_its_unknown_day_and_month_as_zeros_is_its_year(store: Settings) -> None:
    """00/00/1990 (and 00/07/1985, xx/xx/1992, ០០/០០/១៩៩០) is how lists write "born in 1990":
    each row was quarantined as "not a date", a man kept out of linking for a convention."""
    dobs = ["00/00/1990", "00/07/1985", "xx/xx/1992", "០០/០០/១៩៨៨", "12/03/1990"]
    r = ingest(store, _mosvy(corpus._mcol(DOB, dobs)), "dosvy.xlsx", "mosvy")
    assert (r.rows_loaded, r.rows_quarantined) == (5, 0)
    got = [(x.birth_date, x.birth_precision) for x in records(store)]
    assert got == [
        (dt.date(1990, 1, 1), "year"),
        (dt.date(1985, 7, 1), "year"),
        (dt.date(1992, 1, 1), "year"),
        (dt.date(1988, 1, 1), "year"),
        (dt.date(1990, 3, 12), "day"),
    ]


def test_a_return_date_with_a_zero_day_is_still_no_date(store: Settings) -> None:
    r = ingest(store, _mosvy(corpus._mset(0, RET, "00/06/2024")), "dosvy.xlsx", "mosvy")
    assert r.quarantined_by_rule == {"date_format": 1}


def test_an_id_typed_again_in_other_case_or_with_a_space_is_a_repeat(store: Settings) -> None:
    rows = [
        iom_row("KH-IOM-2024-0001"),
        iom_row("KH-IOM-2024-0002"),
        iom_row("kh-iom-2024-0001 ", name="CHEA SOK"),
    ]
    r = ingest(store, iom_csv(rows).encode(), "iom.csv", "iom")
    assert (r.rows_loaded, r.quarantined_by_rule) == (2, {"duplicate_id": 1})
    rule, reason = quarantine(store)[4]
    assert rule == "duplicate_id"
    assert reason == (
        "source_record_id: a different row with the same id as line 2 "
        "(written there in other case or spacing)"
    )


def test_hidden_rows_are_told_in_each_way_writers_mark_them() -> None:
    """LibreOffice writes hidden="false" on every row and "true" on a hidden one; Excel and
    openpyxl write "1"; a prefixed sheet x:row; single quotes are XML too."""
    lo = b'<row r="%d" ht="12.8" hidden="%s" outlineLevel="0"><c r="A%d"><v>1</v></c></row>'
    xml = b"".join(lo % (i, b"true" if i in (4, 9) else b"false", i) for i in range(1, 12))
    assert hidden_rows(xml) == [4, 9]
    assert hidden_rows(xml.replace(b'"true"', b'"false"')) == []
    assert hidden_rows(b'<row r="3" hidden="1"/><x:row spans="1:2" hidden="1" r="5">') == [3, 5]
    assert hidden_rows(b"<row r='6' hidden='true'></row><row r='7' hidden='0'/>") == [6]


def test_consent_as_a_checkbox_writes_it_is_read_and_anything_else_is_said(store: Settings) -> None:
    """Google Sheets' CSV writes a checkbox TRUE/FALSE: read as no answer, a man who agreed
    had his contact details withheld from referral lists without a word."""
    values = ["TRUE", "FALSE", "1", "ចាស", "Yes", "N", "verbal only", ""]
    rows = [iom_row(f"KH-IOM-2024-000{i}", consent_to_share=v) for i, v in enumerate(values, 1)]
    r = ingest(store, iom_csv(rows).encode(), "iom.csv", "iom")
    assert r.rows_loaded == len(values)
    assert [x.consent for x in records(store)] == ["Y", "N", "Y", "Y", "Y", "N", None, None]
    assert r.warnings_by_rule.get("consent_format") == 1  # "verbal only": said, read as not given


def test_a_workbooks_boolean_consent_cell_is_read(store: Settings) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    header = list(iom_row())
    ws.append(header)
    for i, v in enumerate([True, False], 1):
        ws.append([v if h == "consent_to_share" else x for h, x in iom_row(f"KH-IOM-2024-000{i}").items()])
    buf = io.BytesIO()
    wb.save(buf)
    r = ingest(store, buf.getvalue(), "iom.xlsx", "iom")
    assert r.rows_loaded == 2, r.reason
    assert [x.consent for x in records(store)] == ["Y", "N"]


def test_dates_typed_with_spaces_round_their_separators_or_commas_for_them_are_read(store: Settings) -> None:
    """`12 / 03 / 1992`, `12 . 03 . 1992`, `12,03,1988` were quarantined as "not a date"."""
    rows = [
        iom_row("KH-IOM-2024-0001", dob="12 / 03 / 1992", ret="05 . 06 . 2024"),
        iom_row("KH-IOM-2024-0002", dob="12,03,1988", ret="05 - 06 - 2024"),
        iom_row("KH-IOM-2024-0003", dob="1 / 2 / 1990"),
    ]
    r = ingest(store, iom_csv(rows).encode(), "iom.csv", "iom")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 3, 0), r.reason
    got = sorted((x.source_record_id, x.birth_date, x.return_date) for x in records(store))
    assert [g[1] for g in got] == [dt.date(1992, 3, 12), dt.date(1988, 3, 12), dt.date(1990, 2, 1)]
    assert [g[2] for g in got][:2] == [dt.date(2024, 6, 5), dt.date(2024, 6, 5)]


def test_spaced_dates_count_when_a_column_says_it_is_month_first(store: Settings) -> None:
    """Spaced month-first dates decide the column as unspaced ones do: 06 / 02 / 2024 beside
    06 / 13 / 2024 and 07 / 14 / 2024 is 2 June, not 6 February."""
    rows = [
        iom_row("KH-IOM-2024-0001", ret="06 / 13 / 2024"),
        iom_row("KH-IOM-2024-0002", ret="07 / 14 / 2024"),
        iom_row("KH-IOM-2024-0003", ret="06 / 02 / 2024"),
    ]
    r = ingest(store, iom_csv(rows).encode(), "iom.csv", "iom")
    assert r.rows_loaded == 3, r.reason
    by_id = {x.source_record_id: x.return_date for x in records(store)}
    assert by_id["KH-IOM-2024-0003"] == dt.date(2024, 6, 2)
