"""Bad input, round six (hB-bad6): deliveries no round had.

Each file is written here, real (csv, openpyxl), and ingested into a store of its own through
Ingestor, the path `survivor-link ingest` takes; the corpus cases of session 23
(`benchmarks/bad_input/corpus.py`) are each held to their outcome too. Canary values (an ID
card, a phone, a name no other test uses) prove no reason or note shows a cell's value.
"""

from __future__ import annotations

import pytest

from benchmarks.bad_input import corpus
from linkage.ingest.readers import header_key
from linkage.normalise.phones import normalise_phones
from linkage.settings import Settings
from linkage.synth.writers import IOM_HEADER, MOSVY_HEADER
from tests.store_helpers import ingest, meets_its_outcome, quarantine, records

CANARY_PHONE = "012 987 654"
CANARY_DOC = "N0CANARY77"
CANARY_NAME = "CANARYNAME ZZYZX"


@pytest.mark.parametrize("case", corpus.session23_cases(), ids=lambda c: c.id)
def test_session23_case_meets_its_outcome(store: Settings, case: corpus.Case) -> None:
    r = meets_its_outcome(store, case)
    assert r.rows_loaded <= case.persons


# --- phones with an extension --------------------------------------------------------------


def test_an_extension_after_a_phone_is_not_read_into_its_digits(store: Settings) -> None:
    """`012555001 ext. 3` was stored as +855125550013 (another line, without a word), and
    `012 555 000 ext 12` lost its number (too many digits); the extension is left out now."""
    phones = [
        "012 555 000 ext 12",
        "012555001 ext. 3",
        "012 555 002 x 45",
        "012-555-003 (ext 7)",
        "097 7000004 លេខបន្ត ១២",
    ]
    case = corpus._iom("t", "", corpus.csv_text, edit=corpus._each("phone", phones))
    r = ingest(store, case.data, "iom.csv", "iom")
    assert (r.status, r.rows_loaded) == ("ingested", 5), r.reason
    assert "phone_format" not in r.warnings_by_rule
    got = [x.phone for x in records(store)]
    assert got == ["+85512555000", "+85512555001", "+85512555002", "+85512555003", "+855977000004"]


def test_a_letter_x_that_is_no_extension_still_leaves_the_number_out() -> None:
    assert normalise_phones("0125550x4") == ([], 1)  # too few digits either way
    assert normalise_phones("ext 12") == ([], 1)  # an extension alone is no number
    assert normalise_phones("012 555 000 / 097 700 0001 ext 5")[0] == ["+85512555000", "+855977000001"]


# --- a second list pasted under the first ---------------------------------------------------


def _two_blocks(second_header: list[str], canary: bool = False) -> bytes:
    rows = corpus.iom_rows(7)
    if canary:
        rows[5].update(phone=CANARY_PHONE, travel_doc_no=CANARY_DOC, full_name=CANARY_NAME)
    return corpus._second_block(second_header)(rows).encode()


def test_a_second_block_with_two_columns_swapped_is_read_by_its_own_header(store: Settings) -> None:
    """Its header was taken for the first printed again (most titles in place) and its rows
    read by the first header: phones loaded as travel documents and the reverse, silently."""
    header = corpus._swapped(IOM_HEADER, "phone", "travel_doc_no")
    r = ingest(store, _two_blocks(header), "iom.csv", "iom")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 7, 0), r.reason
    assert "phone_format" not in r.warnings_by_rule
    got = [(x.line, x.phone, x.travel_doc_no) for x in records(store)]
    assert got[4:] == [
        (7, "+85512555004", "N04418204"),
        (8, "+85512555005", "N04418205"),
        (9, "+85512555006", "N04418206"),
    ]
    assert any(
        n.startswith("the header is repeated on line(s) 6 with its columns in another order") for n in r.notes
    )


def test_a_second_block_in_the_reverse_order_is_read_not_quarantined_as_bad_dates(store: Settings) -> None:
    """Its header was read as a man with a bad birth date and its three rows as men with bad
    referral dates (the return date's column read as one)."""
    r = ingest(store, _two_blocks(list(reversed(IOM_HEADER))), "iom.csv", "iom")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 7, 0), r.reason
    assert [x.return_date.day for x in records(store)] == [1, 2, 3, 4, 5, 6, 7]


def test_a_second_block_with_other_columns_is_quarantined_by_a_rule_that_says_so(store: Settings) -> None:
    """A remarks column the first list has not: its rows cannot be read by the first header
    without losing a cell, so they and their header are quarantined as other_header (they
    were quarantined as men with bad return dates), and replay once moved."""
    header = [h for h in IOM_HEADER if h != "sector"] + ["remarks"]
    r = ingest(store, _two_blocks(header, canary=True), "iom.csv", "iom")
    assert (r.status, r.rows_loaded, r.quarantined_by_rule) == ("ingested", 4, {"other_header": 4})
    q = quarantine(store)
    assert sorted(q) == [6, 7, 8, 9]
    assert all("second header" in why for _, why in q.values())
    said = "\n".join([*r.notes, *(why for _, why in q.values())])
    for value in (CANARY_PHONE, CANARY_DOC, CANARY_NAME, "CANARYNAME"):
        assert value not in said


def test_the_header_printed_again_in_place_is_still_set_aside_as_before(store: Settings) -> None:
    rows = corpus.iom_rows(6)
    text = corpus.csv_text(rows[:3]) + corpus.csv_text(rows[3:])
    r = ingest(store, text.encode(), "iom.csv", "iom")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 6, 0)
    assert "the header is repeated on line(s) 5: not read as rows" in r.notes


def test_a_mosvy_second_month_with_id_and_phone_titles_swapped_keeps_each_in_its_field(
    store: Settings,
) -> None:
    case = next(c for c in corpus.session23_cases() if c.id == "mosvy-second-block-swapped")
    r = ingest(store, case.data, case.file_name, case.source)
    assert (r.status, r.rows_loaded) == ("ingested", 7), r.reason
    got = [(x.national_id, x.phone) for x in records(store)]
    assert got == [(f"11020030{i}", f"+85597700000{i}") for i in range(7)]
    assert MOSVY_HEADER  # the sheet's titles are the synthetic writer's


# --- a template's titles -----------------------------------------------------------------------


def test_titles_written_no_dot_star_and_question_mark_are_the_known_columns(store: Settings) -> None:
    """`IOM Case No.*` and `Phone No.` were not known (the list refused: required column
    missing), `Consent?` neither (consent dropped)."""
    case = next(c for c in corpus.session23_cases() if c.id == "form-titles")
    r = ingest(store, case.data, case.file_name, case.source)
    assert (r.status, r.rows_loaded) == ("ingested", 5), r.reason
    first = records(store)[0]
    assert (first.source_record_id, first.phone, first.consent) == ("KH-IOM-2024-7301", "+85512555000", "Y")
    assert header_key("Phone No.") == header_key("phone_number") == header_key("Phone Number")
    assert header_key("Case #") == header_key("case no") == header_key("Case Number")
    assert header_key("ល.រ.") == header_key("ល.រ")


# --- a sign-off under the list -------------------------------------------------------------------


def test_a_sign_off_under_the_list_is_quarantined_as_one_not_as_men_with_bad_dates(store: Settings) -> None:
    """ធ្វើនៅ ... ថ្ងៃទី ១០ ... in the return date's column, រៀបចំដោយ in the family name's,
    Prepared by: in the row number's: quarantined as men with a bad return date (date_format),
    an officer sent looking for three men who are a signature."""
    case = next(c for c in corpus.session23_cases() if c.id == "sign-off-block")
    r = ingest(store, case.data, case.file_name, case.source)
    assert (r.status, r.rows_loaded, r.quarantined_by_rule) == ("ingested", 5, {"sign_off_row": 3})
    q = quarantine(store)
    assert sorted(q) == [10, 11, 12]
    assert all("sign-off" in why and "Sok Dara" not in why and "Keo Sina" not in why for _, why in q.values())


def test_prepared_by_and_date_lines_under_a_csv_are_a_sign_off(store: Settings) -> None:
    case = next(c for c in corpus.session23_cases() if c.id == "csv-prepared-by")
    r = ingest(store, case.data, case.file_name, case.source)
    assert (r.status, r.rows_loaded, r.quarantined_by_rule) == ("ingested", 5, {"sign_off_row": 2})


def test_a_mans_row_with_a_remark_that_begins_like_a_sign_off_is_still_a_man(store: Settings) -> None:
    """More than four cells filled: his row, whatever his remarks say."""
    rows = corpus.mosvy_rows()
    rows[1][-1] = "Checked by police at the border"
    rows[2][-1] = "ប្រធានភូមិបានបញ្ជាក់"  # the village chief confirmed
    r = ingest(store, corpus.mosvy_book(rows), "dosvy.xlsx", "mosvy")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 5, 0)


# --- Buddhist-era years in date cells ------------------------------------------------------------


def test_date_cells_of_a_buddhist_era_year_are_read_as_its_written_year_is(store: Settings) -> None:
    """A sheet typed in a Thai or Khmer BE locale stores 05/06/2567 as a date of the year 2567:
    quarantined as 'year outside 1900-2100'; text 05/06/2567 was already read as 2024."""
    case = next(c for c in corpus.session23_cases() if c.id == "era-year-date-cells")
    r = ingest(store, case.data, case.file_name, case.source)
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 5, 0), r.reason
    got = records(store)
    assert [x.return_date.isoformat() for x in got[:2]] == ["2024-06-01", "2024-06-02"]
    assert got[2].birth_date.isoformat() == "1990-03-12"


# --- two lists side by side; a list of a header alone ----------------------------------------


def _side_by_side() -> bytes:
    first, second = corpus.mosvy_rows(5), corpus.mosvy_rows(2)
    blank = [""] * len(MOSVY_HEADER)
    rows = [[*MOSVY_HEADER, "", *MOSVY_HEADER]]
    rows += [[*first[i], "", *(second[i] if i < 2 else blank)] for i in range(5)]
    return corpus.workbook([("Sheet1", "visible", [["បញ្ជីឈ្មោះ ខែ៥ និង ខែ៦"], [], *rows])])


def test_two_lists_side_by_side_are_refused_for_what_they_are(store: Settings) -> None:
    """Refused before too, but as 'columns 1 and 19 have the same name; rename or remove
    one': an officer who did so would send a list read by half its columns."""
    r = ingest(store, _side_by_side(), "dosvy.xlsx", "mosvy")
    assert r.status == "rejected"
    assert r.reason.startswith("the header on line 3 is written twice side by side (columns 1-17 and 19-35)")


def test_one_title_written_twice_is_still_refused_as_before(store: Settings) -> None:
    header = [*MOSVY_HEADER, MOSVY_HEADER[3]]
    rows = [[*r, "ប្រុស"] for r in corpus.mosvy_rows()]
    r = ingest(store, corpus.workbook([("Sheet1", "visible", [header, *rows])]), "d.xlsx", "mosvy")
    assert r.status == "rejected" and "have the same name; rename or remove one" in r.reason


def test_a_list_of_its_header_alone_says_so_in_the_notes(store: Settings) -> None:
    r = ingest(store, corpus.csv_text([]).encode(), "iom.csv", "iom")
    assert (r.status, r.rows_read, r.rows_loaded) == ("ingested", 0, 0)
    assert any(n.startswith("the list has its header (line 1) but no rows under it") for n in r.notes)
    r2 = ingest(store, corpus.csv_text(corpus.iom_rows(2)).encode(), "iom2.csv", "iom")
    assert not any("no rows under it" in n for n in r2.notes)


def test_a_return_written_as_an_excel_day_number_with_its_time_is_read_as_that_day(store: Settings) -> None:
    """A date-time cell saved to CSV as its number (45449.5: noon on 6 June 2024) was
    quarantined as 'not a date in a known format'; a year with a fraction is still no day."""
    days = ["45449.5", "45449.75", "45449", "45449.0", "45450.041666667"]
    case = corpus._iom("t", "", corpus.csv_text, edit=corpus._each("date_of_return", days))
    r = ingest(store, case.data, "iom.csv", "iom")
    assert (r.status, r.rows_loaded) == ("ingested", 5), r.reason
    got = sorted(str(x.return_date) for x in records(store))
    assert got == ["2024-06-06"] * 4 + ["2024-06-07"]
    from linkage.normalise.dates import DateError, parse_date_text

    with pytest.raises(DateError):
        parse_date_text("1990.5")
