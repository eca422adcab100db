"""Bad input, round seven (hB-bad7): deliveries no round had.

Each file is written here, real (csv, openpyxl, a zip edited by hand), and ingested into a
store of its own through Ingestor, the path `survivor-link ingest` takes; the corpus cases of
session 24 (`benchmarks/bad_input/corpus.py`) are each held to their outcome too.
"""

from __future__ import annotations

import datetime as dt

import pytest

from benchmarks.bad_input import corpus
from linkage.normalise.dates import DateError, parse_date
from linkage.normalise.names import tidy_khmer_name
from linkage.settings import Settings
from tests.store_helpers import ingest, meets_its_outcome, quarantine, records, shown


def _case(id: str) -> corpus.Case:
    return next(c for c in corpus.all_cases() if c.id == id)


# --- a row that is no man counts as what it is -----------------------------------------------


@pytest.mark.parametrize(
    "id",
    ["csv-prepared-by", "gsheet-csv-summary", "table-total-row", "totals-row", "second-block-other-columns"],
)
def test_a_row_that_is_no_man_adds_no_warning_to_the_files_counts(store: Settings, id: str) -> None:
    """A sign-off's `Date:` line, a totals row, a second list's rows read by the first header:
    quarantined as what they are, but their cells, read as a man's, added warnings
    (missing_country 2 for two sign-off lines, consent_format 4 for a second list's rows, an
    age_format for a total's SUBTOTAL formula) and their quarantine rows listed date_format and
    required issues beside the rule that says what the row is."""
    case = _case(id)
    r = ingest(store, case.data, case.file_name, case.source)
    assert r.status == "ingested" and r.rows_loaded == case.persons - (id == "second-block-other-columns") * 3
    assert r.warnings_by_rule == {}
    q = quarantine(store)
    assert q and all(rule in ("sign_off_row", "totals_row", "other_header") for rule, _ in q.values())
    from sqlalchemy import select

    from linkage.store.db import session_scope
    from linkage.store.models import Quarantine

    with session_scope(store) as s:
        issues = [[i["rule"] for i in x.issues] for x in s.scalars(select(Quarantine))]
    assert all(len(rules) == 1 for rules in issues), issues


def test_a_mans_own_warnings_still_count_beside_a_row_that_is_no_man(store: Settings) -> None:
    rows = corpus.iom_rows(5)
    rows[1]["consent_to_share"] = "maybe"
    rows[2]["country_of_exploitation"] = ""
    text = corpus._iom_sign_off(rows)
    r = ingest(store, text.encode(), "iom.csv", "iom")
    assert (r.rows_loaded, r.quarantined_by_rule) == (5, {"sign_off_row": 2})
    assert r.warnings_by_rule == {"consent_format": 1, "missing_country": 1}


# --- dates typed with no separators -------------------------------------------------------------


def test_return_and_birth_dates_typed_without_separators_are_read(store: Settings) -> None:
    """06062024 (DDMMYYYY) was quarantined as date_format; 20240606 (YYYYMMDD) was read.
    Khmer digits and a Buddhist-era year too; a birth date 01011990 is its year, as 01/01/1990."""
    rets = ["06062024", "20240607", "០៨០៦២០២៤", "09062567", "10/06/2024"]
    dobs = ["01011990", "19850312", "12031985", "", "02/01/1970"]
    rows = corpus.iom_rows(5)
    for row, ret, dob in zip(rows, rets, dobs, strict=True):
        row.update(date_of_return=ret, dob=dob)
    r = ingest(store, corpus.csv_text(rows).encode(), "iom.csv", "iom")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 5, 0), quarantine(store)
    got = records(store)
    assert [x.return_date.isoformat() for x in got] == [f"2024-06-{d:02d}" for d in range(6, 11)]
    assert [(x.birth_date and x.birth_date.isoformat(), x.birth_precision) for x in got[:3]] == [
        ("1990-01-01", "year"),
        ("1985-03-12", "day"),
        ("1985-03-12", "day"),
    ]


def test_a_month_first_column_of_dates_without_separators_is_read_month_first(store: Settings) -> None:
    """06132024 and 06142024 can only be month-first: the column is, so 06052024 is 5 June
    (read day-first it was 6 May without a word, had it been read at all)."""
    rets = ["06132024", "06142024", "06052024", "06152024", "06162024"]
    case = corpus._iom("t", "", corpus.csv_text, edit=corpus._each("date_of_return", rets))
    r = ingest(store, case.data, "iom.csv", "iom")
    assert (r.status, r.rows_loaded) == ("ingested", 5), quarantine(store)
    assert [x.return_date.day for x in records(store)] == [13, 14, 5, 15, 16]
    assert any("month first" in n or "month-first" in n for n in r.notes), r.notes


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("1062024", "7 digits with no separators can be read two ways"),
        ("060624", "6 digits with no separators can be read two ways (DDMMYY or YYMMDD)"),
        ("31062024", "day 31, month 6 is not a calendar date"),
        ("12555001", "8 digits with no separators that are not a date"),
        ("3162024", "7 digits with no separators that are no calendar date"),
    ],
)
def test_digits_that_are_no_date_one_way_are_quarantined_with_why(
    store: Settings, typed: str, why: str
) -> None:
    rows = corpus.iom_rows(3)
    rows[1]["date_of_return"] = typed
    r = ingest(store, corpus.csv_text(rows).encode(), "iom.csv", "iom")
    assert (r.rows_loaded, r.quarantined_by_rule) == (2, {"date_format": 1})
    (rule, reason), *_ = quarantine(store).values()
    assert reason.startswith(f"return_date: {why}")
    assert typed not in shown(store, r)


def test_dates_typed_as_numbers_into_a_sheet_are_read_by_their_digits(store: Settings) -> None:
    """06062024 typed into a General cell is the number 6062024 (its zero dropped): it was read
    as an Excel day number, a day of the year 4800-odd, quarantined as 'year outside 1900-2100';
    10062024 as 'a number outside Excel's dates'. Now their digits, as typed text is; 1062024
    (1/06 or 10/6) is quarantined as read two ways."""
    rows = corpus.mosvy_rows(5)
    for row, typed in zip(rows, [6062024, 10062024, 20240611, 1062024, "12/06/2024"], strict=True):
        row[corpus.RET] = typed
    r = ingest(store, corpus.mosvy_book(rows), "dosvy.xlsx", "mosvy")
    assert (r.rows_loaded, r.quarantined_by_rule) == (4, {"date_format": 1}), quarantine(store)
    assert [x.return_date.isoformat() for x in records(store)] == [
        "2024-06-06",
        "2024-06-10",
        "2024-06-11",
        "2024-06-12",
    ]
    ((rule, reason),) = quarantine(store).values()
    assert "7 digits with no separators can be read two ways" in reason


def test_numbers_that_are_day_numbers_or_years_are_read_as_before() -> None:
    assert parse_date(45449).value == dt.date(2024, 6, 6)
    assert parse_date(1990, placeholder_is_year=True).precision == "year"
    assert parse_date("45449").value == dt.date(2024, 6, 6)
    with pytest.raises(DateError):
        parse_date(123456789)  # nine digits: no date, as before


# --- lines ending CR CR LF ------------------------------------------------------------------------


def _doubled_cr(rows: list[dict[str, str]]) -> bytes:
    return corpus.csv_text(rows).replace("\r\n", "\r\r\n").encode()


def test_a_file_whose_lines_end_cr_cr_lf_says_how_its_lines_are_counted(store: Settings) -> None:
    """A program that writes CR LF through a Windows text file (Python's csv without
    newline='') ends each line CR CR LF. Excel shows a blank row under each row (the second
    man on row 5), so the line numbers stay the file's lines; but nothing said why line 7 was
    the third man, and Windows 7's Notepad, which shows no blank rows, has him on line 4. Every
    man is read once, none lost."""
    rows = corpus.iom_rows(5)
    rows[2]["date_of_return"] = "31/31/2024"
    r = ingest(store, _doubled_cr(rows), "iom.csv", "iom")
    assert (r.status, r.rows_read, r.rows_loaded) == ("ingested", 5, 4)
    assert [x.line for x in records(store)] == [3, 5, 9, 11]
    assert list(quarantine(store)) == [7]
    (note,) = [n for n in r.notes if "CR CR LF" in n]
    assert "the first row under the header is line 3" in note and "(N + 1) / 2" in note
    assert [x.source_record_id for x in records(store)] == [
        row["iom_case_no"] for i, row in enumerate(rows) if i != 2
    ]


def test_cr_cr_lf_with_a_quoted_line_break_and_no_final_line_end_loses_no_row(store: Settings) -> None:
    rows = corpus.iom_rows(5)
    rows[1]["point_of_entry"] = "Phnom Penh\nAirport"
    data = _doubled_cr(rows).rstrip(b"\r\n")
    r = ingest(store, data, "iom.csv", "iom")
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("ingested", 5, 5, 0)
    assert [x.source_record_id for x in records(store)] == [row["iom_case_no"] for row in rows]
    assert records(store)[1].point_of_entry == records(store)[0].point_of_entry


def test_a_file_of_plain_cr_lf_has_no_such_note(store: Settings) -> None:
    r = ingest(store, corpus.csv_text(corpus.iom_rows(3)).encode(), "iom.csv", "iom")
    assert not [n for n in r.notes if "CR CR LF" in n]
    assert [x.line for x in records(store)] == [2, 3, 4]


# --- the corpus cases of session 24 -------------------------------------------------------------


@pytest.mark.parametrize("case", corpus.session24_cases(), ids=lambda c: c.id)
def test_session24_case_meets_its_outcome(store: Settings, case: corpus.Case) -> None:
    meets_its_outcome(store, case)


def test_a_range_of_days_or_two_dates_is_quarantined_saying_so(store: Settings) -> None:
    """01-05/06/2024 (a batch returned over five days) and 06/06/2024 - 08/06/2024 were
    quarantined as 'not a date in a known format': an officer could not tell what was wrong."""
    r = ingest(store, _case("return-date-ranges").data, "iom.csv", "iom")
    q = quarantine(store)
    assert sorted(q) == [2, 3, 6]
    assert all(why.startswith("return_date: two dates or a range of days") for _, why in q.values())
    assert parse_date("12-03-1990").value == dt.date(1990, 3, 12)  # a date with dashes is still one
    assert parse_date("5-Jun-24").value == dt.date(2024, 6, 5)
    assert r.rows_loaded == 2


def test_excel_day_zero_in_a_date_cell_is_quarantined_saying_what_it_is(store: Settings) -> None:
    """A formula that copies an empty cell saves 0, which a date format shows 00/01/1900; it
    reached the checks as a time and was 'not a date in a known format'."""
    r = ingest(store, _case("date-formula-day-zero").data, "dosvy.xlsx", "mosvy")
    assert (r.rows_loaded, r.quarantined_by_rule) == (3, {"date_format": 2})
    assert all("Excel's day 0" in why for _, why in quarantine(store).values())


def test_a_name_over_two_lines_of_the_family_cell_is_split(store: Settings) -> None:
    """កែវ⏎ភក្ដី in the family name's cell, the given name's blank: stored as the family name
    KEO PHEAKDEY with no given name (a space between them was split already)."""
    r = ingest(store, _case("name-two-lines-one-cell").data, "dosvy.xlsx", "mosvy")
    assert (r.rows_loaded, r.rows_quarantined) == (5, 0)
    got = [(x.family_name_kh, x.given_name_kh) for x in records(store)]
    for i in (2, 4):  # as the same name typed in its two cells is stored
        assert got[i] == (tidy_khmer_name(corpus.KH_FAMILY[i]), tidy_khmer_name(corpus.KH_GIVEN[i]))


def test_a_total_row_with_counts_under_several_columns_is_a_totals_row(store: Settings) -> None:
    """Total, 5 (ages), 5 (phones), 4 (consents): four cells filled, so it was no totals row
    (three at most) but a man with no name (required) and a phone and consent warning."""
    r = ingest(store, _case("totals-row-counts-in-cells").data, "iom.csv", "iom")
    assert (r.rows_loaded, r.quarantined_by_rule, r.warnings_by_rule) == (5, {"totals_row": 1}, {})


def test_a_man_whose_case_number_cell_says_total_is_not_taken_for_a_total(store: Settings) -> None:
    rows = corpus.iom_rows(3)
    rows[2]["iom_case_no"] = "Total"  # his other cells hold words: a man's row, checked as one
    r = ingest(store, corpus.csv_text(rows).encode(), "iom.csv", "iom")
    assert "totals_row" not in r.quarantined_by_rule


def test_phones_with_the_trunk_zero_in_brackets_are_read(store: Settings) -> None:
    r = ingest(store, _case("phones-trunk-in-brackets").data, "iom.csv", "iom")
    assert [x.phone for x in records(store)] == [
        "+85512555000",
        "+85512555001",
        "+85512555002",
        "+855977000003",
        "+85512555004",
    ]
    assert r.warnings_by_rule == {}
