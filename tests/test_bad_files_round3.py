"""Bad input, round three (hB-bad): titles typed as a form, form tools' exports, files that
are no list, a list pasted into one column, ages with their months.

Each file is written here, real (openpyxl, csv, json), and ingested into a store of its own
through Ingestor, the path `survivor-link ingest` takes. A refusal must say what is wrong
and what to send instead, never a value of the file.
"""

from __future__ import annotations

import csv
import io
import json

from linkage.settings import Settings
from linkage.synth.writers import MOSVY_HEADER, NGO_HEADER
from tests.helpers import iom_csv, iom_row, mosvy_row, ngo_row, sheet
from tests.store_helpers import ingest, records

RET = MOSVY_HEADER.index("ថ្ងៃខែឆ្នាំត្រឡប់មកវិញ")
DOB = MOSVY_HEADER.index("ថ្ងៃខែឆ្នាំកំណើត")
CANARY_FAMILY, CANARY_GIVEN, CANARY_PHONE = "ចាន់", "សុភក្ត្រា", "012987654"


def _rows() -> list[list[object]]:
    return [
        mosvy_row("១", CANARY_FAMILY, CANARY_GIVEN, phone=CANARY_PHONE, dob="12/03/1990"),
        mosvy_row("២", "សុខ", "ដារា", ret="០៦/០៦/២០២៤"),
    ]


def test_khmer_titles_with_a_khmer_colon_or_a_line_break_inside_are_read(store: Settings) -> None:
    header = [f"{h}៖" if i % 2 else h for i, h in enumerate(MOSVY_HEADER)]
    header[DOB] = "ថ្ងៃខែឆ្នាំ\nកំណើត"
    header[RET] = "ថ្ងៃខែឆ្នាំ\r\nត្រឡប់មកវិញ :"
    r = ingest(store, sheet([["បញ្ជីឈ្មោះ"], header, *_rows()]), "dosvy.xlsx", "mosvy")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 2, 0), r.reason
    first = records(store)[0]
    assert str(first.return_date) == "2024-06-05"
    assert str(first.birth_date) == "1990-03-12"
    assert first.phone == "+85512987654"


def test_a_kobo_export_with_group_paths_in_its_titles_is_read(store: Settings) -> None:
    rows = [
        ngo_row("HG-1", "SOK DARA", "1990-03-12", "2024-07-01", "Active"),
        ngo_row("HG-2", "KEO VIBOL", "1988-01-02", "2024-07-02", "Closed"),
    ]
    text = ngo_csv_with_groups(rows)
    r = ingest(store, text.encode(), "kobo_export.csv", "ngo-hagar")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 2, 0), r.reason
    got = {x.source_record_id: (str(x.intake_date), x.case_status) for x in records(store)}
    assert got == {"HG-1": ("2024-07-01", "active"), "HG-2": ("2024-07-02", "closed")}


def ngo_csv_with_groups(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([f"{'client' if i < 5 else 'case'}_info/{h}" for i, h in enumerate(NGO_HEADER)])
    w.writerows([[r.get(h, "") for h in NGO_HEADER] for r in rows])
    return buf.getvalue()


def test_a_known_title_with_a_slash_is_still_read_whole(store: Settings) -> None:
    """ឃុំ/សង្កាត់ is one title: the group-path reading must not cut it to សង្កាត់."""
    rows = _rows()
    rows[0][MOSVY_HEADER.index("ឃុំ/សង្កាត់")] = "សណ្ដាន់"
    r = ingest(store, sheet([MOSVY_HEADER, *rows]), "dosvy.xlsx", "mosvy")
    assert r.status == "ingested", r.reason
    assert records(store)[0].commune_text == "សណ្ដាន់"


def test_a_json_export_is_named_for_what_it_is_and_echoes_nothing(store: Settings) -> None:
    rows = [ngo_row("HG-9917", "VUTHEARA SOKHEANG", "1990-03-12", "2024-07-01", "Active", phone=CANARY_PHONE)]
    for data in (json.dumps(rows, indent=1), json.dumps({"clients": rows}), json.dumps(rows[0]) + "\n"):
        r = ingest(store, data.encode(), "hagar_export.csv", "ngo-hagar")
        assert r.status == "rejected"
        assert r.reason.startswith("this is a JSON file"), r.reason
        assert "VUTHEARA" not in r.reason and CANARY_PHONE not in r.reason and "HG-9917" not in r.reason


def test_a_csv_whose_first_cell_is_a_brace_is_still_a_csv(store: Settings) -> None:
    text = "{draft} [list of June]\r\n" + iom_csv([iom_row()])
    r = ingest(store, text.encode(), "iom.csv", "iom")
    assert (r.status, r.rows_loaded) == ("ingested", 1), r.reason


def test_a_csv_pasted_into_one_column_says_to_split_it(store: Settings) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([MOSVY_HEADER, *_rows()])
    book = sheet([["បញ្ជីឈ្មោះ"], *[[line] for line in buf.getvalue().splitlines()]])
    r = ingest(store, book, "dosvy.xlsx", "mosvy")
    assert r.status == "rejected"
    assert "The list sits in one column" in r.reason and "separated by commas" in r.reason, r.reason
    assert "Text to Columns" in r.reason
    for canary in (CANARY_FAMILY, CANARY_GIVEN, CANARY_PHONE):
        assert canary not in r.reason


def test_khmer_mangled_by_windows_1252_is_named_and_echoes_nothing(store: Settings) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([MOSVY_HEADER, *_rows()])
    mangled = buf.getvalue().encode("utf-8").decode("cp1252", errors="replace")
    r = ingest(store, mangled.encode("utf-8"), "dosvy.csv", "mosvy")
    assert r.status == "rejected"
    assert "Khmer text is garbled" in r.reason and "Windows-1252" in r.reason, r.reason
    for canary in (CANARY_FAMILY, CANARY_GIVEN, CANARY_PHONE):
        assert canary not in r.reason
        assert canary.encode().decode("cp1252", errors="replace") not in r.reason


def test_ages_written_with_their_months_keep_the_whole_years(store: Settings) -> None:
    ages = ["២៨ ឆ្នាំ ៦ ខែ", "28.5", "30 years 2 months", "៣១ឆ្នាំ", "26"]
    rows = [
        mosvy_row(str(i + 1), "សុខ", f"ដារា{i}", age=a, ret=f"0{i + 1}/06/2024") for i, a in enumerate(ages)
    ]
    r = ingest(store, sheet([MOSVY_HEADER, *rows]), "dosvy.xlsx", "mosvy")
    assert (r.status, r.rows_loaded) == ("ingested", 5), r.reason
    assert [x.age for x in records(store)] == [28, 28, 30, 31, 26]


def test_an_age_that_is_no_age_still_warns(store: Settings) -> None:
    rows = [mosvy_row("1", "សុខ", "ដារា", age="28 12 months"), mosvy_row("2", "ជា", "វិបុល", age="1990")]
    r = ingest(store, sheet([MOSVY_HEADER, *rows]), "dosvy.xlsx", "mosvy")
    assert (r.status, r.rows_loaded) == ("ingested", 2), r.reason
    assert [x.age for x in records(store)] == [None, None]


def test_birth_dates_written_as_guesses_keep_their_year_and_say_it_is_a_year(store: Settings) -> None:
    guesses = ["c. 1990", "approx 12/03/1985", "1990?", "about 1988", "~1992", "ប្រហែល ១៩៨៧"]
    rows = [
        iom_row(f"KH-IOM-2024-000{i}", name=f"DARA SOK{'K' * i}", dob=g, ret=f"0{i + 1}/06/2024")
        for i, g in enumerate(guesses)
    ]
    r = ingest(store, iom_csv(rows).encode(), "iom.csv", "iom")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 6, 0), r.reason
    got = [(x.birth_year, x.birth_precision) for x in records(store)]
    assert got == [
        (1990, "year"),
        (1985, "year"),
        (1990, "year"),
        (1988, "year"),
        (1992, "year"),
        (1987, "year"),
    ]


def test_a_return_date_written_as_a_guess_is_still_refused(store: Settings) -> None:
    rows = [iom_row("KH-IOM-2024-0001", ret="about 05/06/2024"), iom_row("KH-IOM-2024-0002")]
    r = ingest(store, iom_csv(rows).encode(), "iom.csv", "iom")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 1, 1), r.reason


def test_unclear_in_khmer_is_a_blank_and_a_full_stop_after_the_sex_is_read(store: Settings) -> None:
    sexes = ["ប្រុស.", "ស្រី។", "ប.", "M.", "1"]
    rows = [
        mosvy_row(str(i + 1), "សុខ", f"ដារា{i}", dob="មិនច្បាស់", ret=f"0{i + 1}/06/2024")
        for i in range(len(sexes))
    ]
    for row, sex in zip(rows, sexes, strict=True):
        row[3] = sex
    r = ingest(store, sheet([MOSVY_HEADER, *rows]), "dosvy.xlsx", "mosvy")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 5, 0), r.reason
    got = records(store)
    assert [x.sex for x in got] == ["M", "F", "M", "M", None]  # "1" is a code book's, not ours
    assert [x.birth_date for x in got] == [None] * 5
