"""Layouts of a list that are not rows of men: a header in two languages printed again on
each page, and a date written over three columns (day, month, year).

Each file is made here (openpyxl workbooks, CSV text) and ingested into a store of its own
through Ingestor, the path `survivor-link ingest` takes; every test checks that each man's
row is loaded or quarantined and that no title row is loaded as a man.
"""

from __future__ import annotations

import datetime as dt

import pytest

from linkage.ingest.date_parts import classify, joined
from linkage.settings import Settings
from linkage.synth.writers import IOM_HEADER, MOSVY_HEADER
from tests.helpers import iom_csv, iom_row, mosvy_row, sheet
from tests.store_helpers import ingest, quarantined, records

DOB = MOSVY_HEADER.index("ថ្ងៃខែឆ្នាំកំណើត")
RET = MOSVY_HEADER.index("ថ្ងៃខែឆ្នាំត្រឡប់មកវិញ")
ENGLISH = ["No.", "Family name", "Given name", "Sex", "Age", "Date of birth", "Village", "Commune"]
ENGLISH += ["District", "Province", "Country", "Date of return", "Border", "Father", "ID card"]
ENGLISH += ["Phone", "Remarks"]


def men(n: int = 4) -> list[list[object]]:
    given = ["ដារា", "វណ្ណា", "សម្បត្តិ", "ចាន់ធឿន", "សុគន្ធា"]
    return [mosvy_row(str(i + 1), given=given[i]) for i in range(n)]


# --- the header in two languages, printed again on each page --------------------------------


def test_a_header_in_two_languages_in_one_cell_printed_on_each_page_is_no_row(store: Settings) -> None:
    both = [f"{k}\n{e}" for k, e in zip(MOSVY_HEADER, ENGLISH, strict=True)]
    m = men()
    r = ingest(store, sheet([both, m[0], m[1], both, m[2], both, m[3]]), "m.xlsx", "mosvy")
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("ingested", 4, 4, 0)
    assert "the header is repeated on line(s) 4, 6: not read as rows" in r.notes
    assert [x.line for x in records(store)] == [2, 3, 5, 7]


@pytest.mark.parametrize("english_first", [False, True], ids=["khmer-over-english", "english-over-khmer"])
def test_a_khmer_and_an_english_header_row_on_each_page_are_no_rows(
    store: Settings, english_first: bool
) -> None:
    head = [ENGLISH, MOSVY_HEADER] if english_first else [MOSVY_HEADER, ENGLISH]
    m = men()
    r = ingest(store, sheet([*head, m[0], m[1], *head, m[2], m[3]]), "m.xlsx", "mosvy")
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("ingested", 4, 4, 0)
    assert "the header is written over lines 1-2 (titles in another language): read as one" in r.notes
    assert [x.line for x in records(store)] == [3, 4, 7, 8]
    assert [x.family_name_kh for x in records(store)] == ["សុខ"] * 4  # mosvy_row's family name


def test_the_two_header_rows_again_in_a_csv_are_no_rows(store: Settings) -> None:
    khmer, english = ",".join(MOSVY_HEADER), ",".join(ENGLISH)
    lines = [",".join(str(c) for c in x) for x in men()]
    text = "\n".join([khmer, english, lines[0], lines[1], khmer, english, lines[2], lines[3]]) + "\n"
    r = ingest(store, text.encode(), "m.csv", "mosvy")
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("ingested", 4, 4, 0)
    assert "line(s) 6 beside a repeated header title its columns: not read as rows" in r.notes


def test_a_row_of_titles_not_beside_a_header_is_quarantined_not_dropped(store: Settings) -> None:
    """Only a header's own rows are set aside: English titles alone in the middle of a list
    are no repeat of the header, and stay an officer's to see (quarantined)."""
    m = men()
    r = ingest(store, sheet([MOSVY_HEADER, m[0], m[1], ENGLISH, m[2]]), "m.xlsx", "mosvy")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (4, 3, 1)
    assert list(quarantined(store)) == [4]


def test_a_first_row_of_men_is_never_taken_for_titles(store: Settings) -> None:
    """A man's row holds digits (his row number, his return date): never a row of titles,
    even when his name and places are words that title columns elsewhere."""
    m = men(2)
    m[0][1], m[0][2] = "ឈ្មោះ", "នាម"  # the words for "name", as a family and a given name
    r = ingest(store, sheet([MOSVY_HEADER, *m]), "m.xlsx", "mosvy")
    assert (r.rows_read, r.rows_loaded) == (2, 2)


# --- a date written over three columns --------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "field", "part"),
    [
        ("day of birth", "birth_date", "day"),
        ("dob month", "birth_date", "month"),
        ("birth year", "birth_date", "year"),
        ("ថ្ងៃកំណើត", "birth_date", "day"),
        ("ឆ្នាំកំណើត", "birth_date", "year"),
        ("ថ្ងៃខែឆ្នាំកំណើត ខែ", "birth_date", "month"),
        ("return dd", "return_date", "day"),
        ("year of return", "return_date", "year"),
        ("ខែត្រឡប់មកវិញ", "return_date", "month"),
    ],
)
def test_a_part_of_a_date_is_known_by_its_title(title: str, field: str, part: str) -> None:
    aliases = {"ថ្ងៃខែឆ្នាំកំណើត": "birth_date", "dob": "birth_date", "date of return": "return_date"}
    assert classify(title, aliases) == (field, part)


@pytest.mark.parametrize(
    "title", ["ថ្ងៃខែឆ្នាំកំណើត", "ថ្ងៃខែឆ្នាំ កំណើត", "dob", "day", "ខេត្ត", "province", "batch id", "age"]
)
def test_a_date_or_another_column_is_no_part(title: str) -> None:
    assert classify(title, {"ថ្ងៃខែឆ្នាំកំណើត": "birth_date", "dob": "birth_date"}) is None


def test_parts_are_joined_as_a_date_is_written() -> None:
    assert joined(12, 3, 1990) == "12/3/1990"
    assert joined(12.0, "Mar", "1990") == "12 Mar 1990"
    assert joined(None, 3, 1990) == "3/1990"
    assert joined("", "", "១៩៩០") == "១៩៩០"
    assert joined(None, None, None) is None
    assert joined(dt.datetime(1990, 3, 12), None, None) == dt.datetime(1990, 3, 12)


def test_birth_and_return_dates_in_three_boxes_under_merged_titles_are_read(store: Settings) -> None:
    top, sub, merges = [], [], []
    for j, title in enumerate(MOSVY_HEADER):
        if j in (DOB, RET):
            top += [title, None, None]
            sub += ["ថ្ងៃ", "ខែ", "ឆ្នាំ"]
        else:
            top.append(title)
            sub.append(None)
    letters = [chr(65 + c) for c in range(len(top))]
    for c, t in enumerate(top):
        if t in (MOSVY_HEADER[DOB], MOSVY_HEADER[RET]):
            merges.append(f"{letters[c]}1:{letters[c + 2]}1")
        elif t is not None:
            merges.append(f"{letters[c]}1:{letters[c]}2")
    body = []
    for i, row in enumerate(men(3)):
        dob = [12, 3, 1990] if i != 1 else [None, None, "១៩៨៥"]
        ret = [5, 6, 2024] if i != 2 else [31, 2, 2024]  # no 31 February: quarantined
        body.append([*row[:DOB], *dob, *row[DOB + 1 : RET], *ret, *row[RET + 1 :]])
    r = ingest(store, sheet([top, sub, *body], tuple(merges)), "m.xlsx", "mosvy")
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("ingested", 3, 2, 1)
    assert quarantined(store) == {5: "date_format"}
    first, second = records(store)
    assert (first.birth_date, first.birth_precision, first.return_date) == (
        dt.date(1990, 3, 12),
        "day",
        dt.date(2024, 6, 5),
    )
    assert (second.birth_date.year, second.birth_precision) == (1985, "year")
    assert "the header is written over lines 1-2 (a date's parts under its title): read as one" in r.notes
    assert any(n.startswith("return_date is written in parts (day column 14,") for n in r.notes)


def test_a_csv_whose_return_date_is_in_three_columns_is_not_refused(store: Settings) -> None:
    header = ["return_day" if h == "date_of_return" else h for h in IOM_HEADER]
    at = header.index("return_day")
    header[at + 1 : at + 1] = ["return_month", "return_year"]
    rows = []
    for i, case in enumerate(("KH-1", "KH-2", "KH-3")):
        row = iom_row(case, name=["DARA SOK", "VANNAK KEO", "SAMBATH CHEA"][i])
        row.update(return_day="05" if i != 2 else "", return_month="06", return_year="2024")
        rows.append(row)
    r = ingest(store, iom_csv(rows, header).encode(), "i.csv", "iom")
    assert (r.status, r.rows_read, r.rows_loaded) == ("ingested", 3, 2)
    assert quarantined(store) == {4: "date_format"}  # 06/2024: a return needs its day
    assert [x.return_date for x in records(store)] == [dt.date(2024, 6, 5)] * 2
    assert r.unknown_columns == []  # the parts are the date, not columns of their own


def test_a_date_column_of_its_own_wins_over_parts(store: Settings) -> None:
    """A list with a dob column and a 'birth year' beside it keeps reading dob; the year
    column stays a column of its own (its values are kept with the record)."""
    rows = [iom_row("KH-1", birth_year="1991")]
    r = ingest(store, iom_csv(rows, [*IOM_HEADER, "birth_year"]).encode(), "i.csv", "iom")
    assert r.rows_loaded == 1
    (rec,) = records(store)
    assert rec.birth_date == dt.date(1990, 3, 12)
    assert r.unknown_columns == ["birth_year"]
