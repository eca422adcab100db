"""Bad input, round eight (hB-bad8): deliveries no round had.

Each file is written here, real (csv, openpyxl), and ingested into a store of its own through
Ingestor, the path `survivor-link ingest` takes; the corpus cases of session 25
(`benchmarks/bad_input/corpus.py`) are each held to their outcome too.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest

from benchmarks.bad_input import corpus
from linkage.ingest.load import Ingestor
from linkage.normalise.dates import DateError, DayZero, parse_date
from linkage.settings import PROJECT_ROOT, Settings, load_settings
from linkage.sources import MappingError, load_mapping
from linkage.store.db import dispose_engines
from tests.store_helpers import ingest, meets_its_outcome, quarantine, records, shown


def _case(id: str) -> corpus.Case:
    return next(c for c in corpus.all_cases() if c.id == id)


# --- Excel's day 0 in an optional date -----------------------------------------------------------


def test_day_zero_in_an_optional_birth_date_is_a_blank_with_a_warning(store: Settings) -> None:
    """A formula that copies an empty birth-date cell saves day 0 (00/01/1900): the man was
    quarantined for a date his list never had; now the birth date is blank, as the empty cell
    is, and the file counts a warning. A required return date of day 0 stays quarantined."""
    r = ingest(store, _case("dob-formula-day-zero").data, "dosvy.xlsx", "mosvy")
    assert (r.rows_loaded, r.quarantined_by_rule) == (4, {"date_format": 1})
    assert r.warnings_by_rule == {"date_day_zero": 3}
    got = records(store)
    assert [x.line for x in got] == [4, 5, 6, 7]  # under two title rows and the header
    assert [x.birth_date for x in got] == [None] * 4
    ((line, (rule, why)),) = quarantine(store).items()
    assert line == 8 and why.startswith("return_date: Excel's day 0") and "fill in the date" in why


def test_day_zero_as_a_csv_writes_it_is_no_birth_in_1900(store: Settings) -> None:
    """00/01/1900 and 1/0/1900 (Excel's day 0 shown day-first and month-first) were read as a
    birth in 1900 (an unknown day 00 is a year), without a word; 0 was quarantined."""
    r = ingest(store, _case("dob-day-zero-csv").data, "iom.csv", "iom")
    assert (r.rows_loaded, r.rows_quarantined, r.warnings_by_rule) == (5, 0, {"date_day_zero": 3})
    assert [x.birth_date and x.birth_date.year for x in records(store)] == [None, 1985, None, None, 1990]
    assert "00/01/1900" not in shown(store, r)


def test_a_required_date_of_day_zero_still_says_what_it_is() -> None:
    for cell in (
        dt.time(0, 0),
        dt.datetime(1899, 12, 30),
        dt.datetime(1899, 12, 31),
        0,
        "00/01/1900",
        "0:00",
    ):
        with pytest.raises(DayZero, match="Excel's day 0"):
            parse_date(cell)
    assert parse_date(0, epoch_1904=True).value == dt.date(1904, 1, 1)  # a day in a 1904 book
    assert parse_date("00/00/1990", placeholder_is_year=True).value == dt.date(1990, 1, 1)
    with pytest.raises(DateError):
        parse_date("00/01/1990")  # day 0 of another year: no day, as before (not Excel's day 0)


# --- seven digits, month first -------------------------------------------------------------------


def test_seven_digits_in_a_month_first_column_are_read_month_first(store: Settings) -> None:
    """06132024 typed into number cells is 6132024: two such (day 13, 14 second) make the column
    month-first, so 6052024 is 5 June (read day-first it was 6 May, without a word, on the old
    code quarantined with the rest as 'no calendar date')."""
    r = ingest(store, _case("seven-digits-month-first-cells").data, "dosvy.xlsx", "mosvy")
    assert (r.rows_loaded, r.rows_quarantined) == (5, 0), quarantine(store)
    assert [x.return_date.isoformat() for x in records(store)] == [
        "2024-06-13",
        "2024-06-14",
        "2024-06-05",
        "2024-06-15",
        "2024-06-16",
    ]
    assert any("month-first" in n for n in r.notes)


def test_seven_digits_read_two_ways_month_first_are_quarantined_saying_so(store: Settings) -> None:
    r = ingest(store, _case("seven-digits-month-first-text").data, "iom.csv", "iom")
    assert (r.rows_loaded, r.quarantined_by_rule) == (4, {"date_format": 1})
    ((line, (rule, why)),) = quarantine(store).items()
    assert line == 6 and "can be read two ways in this column written month-first" in why
    assert [x.return_date.day for x in records(store)] == [13, 14, 5, 15]


def test_one_seven_digit_date_alone_decides_no_column(store: Settings) -> None:
    """3162024 can only be 16 March: one alone is too little to read the column month-first
    (as one 03/16/2024 alone is), so it stays quarantined and the others load day-first."""
    rows = corpus.iom_rows(3)
    rows[0]["date_of_return"] = "3162024"
    r = ingest(store, corpus.csv_text(rows).encode(), "iom.csv", "iom")
    assert (r.rows_loaded, r.quarantined_by_rule) == (2, {"date_format": 1})
    assert [x.return_date.isoformat() for x in records(store)] == ["2024-06-02", "2024-06-03"]


def test_a_day_first_only_seven_digits_in_a_month_first_column_is_ambiguous(store: Settings) -> None:
    rows = corpus.iom_rows(4)
    for row, ret in zip(rows, ["06/13/2024", "06/14/2024", "1322024", "06/15/2024"], strict=True):
        row["date_of_return"] = ret
    r = ingest(store, corpus.csv_text(rows).encode(), "iom.csv", "iom")
    assert (r.rows_loaded, r.quarantined_by_rule) == (3, {"date_ambiguous": 1})
    assert "only day-first, in a column written month-first" in quarantine(store)[4][1]


_MONTH_FIRST_NGO = """\
source: ngo-usa
title: an NGO whose system writes MM/DD/YYYY
name_order: family_given
date_order: month_first
fields:
  source_record_id: [client_id]
  full_name: [name_en]
  intake_date: [intake_date]
  case_status: [case_status]
required_columns: [source_record_id, intake_date, case_status]
required_values: [source_record_id, intake_date]
"""


def test_a_source_that_writes_month_first_reads_a_column_that_cannot_tell(tmp_path: Path) -> None:
    """A column whose dates say nothing of their order (6052024, 05/06/2024) is read day-first
    unless the source's mapping says it writes month-first (`date_order: month_first`)."""
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "ngo-usa.yaml").write_text(_MONTH_FIRST_NGO, encoding="utf-8")
    settings = load_settings(home=tmp_path / "home", db_url="", data_docs=False, sources_dir=sources)
    from linkage.store.db import migrate

    migrate(settings)
    text = "client_id,name_en,intake_date,case_status\r\nU1,SOK,6052024,open\r\nU2,KEO,05/07/2024,open\r\n"
    r = Ingestor(settings).ingest_bytes(text.encode(), "usa.csv", "ngo-usa")
    assert (r.status, r.rows_loaded) == ("ingested", 2), r.reason
    assert [x.intake_date for x in records(settings)] == [dt.date(2024, 6, 5), dt.date(2024, 5, 7)]
    assert any("date_order: month_first" in n for n in r.notes)
    dispose_engines()
    bad = sources / "ngo-usa.yaml"
    bad.write_text(_MONTH_FIRST_NGO.replace("month_first", "mm/dd/yyyy"), encoding="utf-8")
    with pytest.raises(MappingError, match="date_order must be day_first or month_first"):
        load_mapping(bad)


def test_the_shipped_sources_write_day_first() -> None:
    assert {load_mapping(p).date_order for p in (PROJECT_ROOT / "sources").glob("*.yaml")} == {"day_first"}


# --- titles, numbers and formats ---------------------------------------------------------------


def test_a_forms_numbered_titles_are_read(store: Settings) -> None:
    """`1. Iom case no`, `2. Full name`: the file was refused as having no header."""
    r = ingest(store, _case("numbered-titles").data, "iom.csv", "iom")
    assert (r.status, r.rows_loaded) == ("ingested", 5), r.reason
    assert [x.phone for x in records(store)][0] == "+85512555000"


def test_titles_with_units_are_noted_as_such(store: Settings) -> None:
    r = ingest(store, _case("titles-with-units").data, "iom.csv", "iom")
    assert (r.status, r.rows_loaded, r.unknown_columns) == ("ingested", 5, [])
    assert any("a unit or a note" in n for n in r.notes), r.notes


def test_phones_grouped_by_thousands_are_read(store: Settings) -> None:
    """12,555,000: a number cell formatted #,##0 saved to CSV; it was no phone at all (phone
    lost, a phone_format warning on each man)."""
    r = ingest(store, _case("phones-grouped-thousands").data, "iom.csv", "iom")
    assert r.warnings_by_rule == {}
    assert [x.phone for x in records(store)] == [f"+8551255500{i}" for i in range(5)]


def test_two_phones_parted_by_a_comma_are_still_two(store: Settings) -> None:
    rows = corpus.iom_rows(2)
    rows[0]["phone"] = "012 555 000, 097 7000001"
    ingest(store, corpus.csv_text(rows).encode(), "iom.csv", "iom")
    assert records(store)[0].phone == "+85512555000 +855977000001"


def test_ages_in_a_percent_formatted_column_are_blank_with_why(store: Settings) -> None:
    """25 typed into a cell formatted 0% is 0.25: read as age 0, every man was quarantined as
    'outside 5 to 90 years'. Now the age is blank and the warning says why; 28% typed in a CSV too."""
    r = ingest(store, _case("ages-percent-format").data, "dosvy.xlsx", "mosvy")
    assert (r.rows_loaded, r.warnings_by_rule) == (5, {"age_format": 5})
    assert [x.age for x in records(store)] == [None] * 5


def test_a_list_continued_on_a_sheet_without_its_header_is_refused_saying_so(store: Settings) -> None:
    """Its three men were left unread with a note, the delivery ingested with four of seven."""
    r = ingest(store, _case("list-continued-on-sheet-two").data, "dosvy.xlsx", "mosvy")
    assert r.status == "rejected"
    assert "sheet 2 ('16-30 June') holds 3 rows as wide as this list's, with no header" in r.reason


def test_a_sheet_of_other_rows_beside_the_list_is_still_only_noted(store: Settings) -> None:
    """A lookup sheet of provinces and a sheet of notes are no continuation of the list."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [corpus.MOSVY_HEADER, *corpus.mosvy_rows(3)]:
        ws.append(row)
    lists = wb.create_sheet("lists")
    for row in [["ខេត្តកំពង់ធំ", "សណ្ដាន់"], ["ខេត្តតាកែវ", "ត្រាំកក់"], ["Kampot", "Kampot 2"]]:
        lists.append(row)
    notes = wb.create_sheet("notes")
    notes.append(["Batch of 5 June, 3 men, checked 12/06/2024 by the provincial office"])
    buf = io.BytesIO()
    wb.save(buf)
    r = ingest(store, buf.getvalue(), "dosvy.xlsx", "mosvy")
    assert (r.status, r.rows_loaded) == ("ingested", 3), r.reason
    assert sum("not read" in n for n in r.notes) == 2


# --- the corpus cases of session 25 -------------------------------------------------------------


@pytest.mark.parametrize("case", corpus.session25_cases(), ids=lambda c: c.id)
def test_session25_case_meets_its_outcome(store: Settings, case: corpus.Case) -> None:
    meets_its_outcome(store, case)
