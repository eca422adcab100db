"""Bad input, round four (hD-bad): invisible marks inside cells, printed templates, a sheet's
stale size, formulas showing empty text, dates an English-locale Excel wrote month-first,
phones written as floats, and a source mapping whose words YAML made booleans.

Each file is written here, real (openpyxl, csv, a workbook's XML edited as a program leaves
it), and ingested into a store of its own through Ingestor, the path `survivor-link ingest`
takes; the corpus cases of session 20 (`benchmarks/bad_input/corpus.py`) are each held to
their outcome too. No reason or note may hold a value of the file (canaries below).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from benchmarks.bad_input import corpus
from linkage.ingest.load import DeliveryResult, Ingestor
from linkage.normalise.khmer import normalise_khmer
from linkage.settings import PROJECT_ROOT, Settings, load_settings
from linkage.sources import MappingError, load_mapping
from linkage.synth.writers import MOSVY_HEADER
from tests.helpers import iom_csv, iom_row, mosvy_row, ngo_csv, ngo_row, sheet
from tests.store_helpers import ingest, outcome, quarantine, quarantined, records, shown

RET = MOSVY_HEADER.index("ថ្ងៃខែឆ្នាំត្រឡប់មកវិញ")
CANARY_NAME, CANARY_PHONE, CANARY_CASE = "VUTHEARA SOKHEANG", "012987654", "KH-IOM-2024-9917"
CANARY_FAMILY, CANARY_GIVEN = "ចាន់", "សុភក្ត្រា"


def _no_canary(text: str) -> None:
    for canary in (CANARY_NAME, *CANARY_NAME.split(), CANARY_PHONE, CANARY_CASE, CANARY_FAMILY, CANARY_GIVEN):
        assert canary not in text


# --- every session-20 case of the corpus meets the outcome it says --------------------------


@pytest.mark.parametrize("case", corpus.session20_cases(), ids=lambda c: c.id)
def test_session20_case_meets_its_outcome(store: Settings, case: corpus.Case) -> None:
    r = ingest(store, case.data, case.file_name, case.source)
    assert outcome(r) == case.expect, r.reason
    assert r.rows_loaded == case.expect_loaded
    if r.status == "ingested":  # every man kept, no row that is no man loaded
        assert r.rows_loaded + r.rows_quarantined == case.persons
        assert r.blank_rows >= case.extra


# --- invisible marks ---------------------------------------------------------------------------


def test_direction_marks_inside_cells_are_dropped_from_ids_dates_phones_and_names(store: Settings) -> None:
    marks = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    row = iom_row(
        "\u202a" + CANARY_CASE + "\u202c",
        name="\u2067VUTHEARA\u2069 \u200fSOKHEANG\u200e",
        dob="12/\u200e03/1990",
        ret="\u202d05/06/2024\u202c",
        phone="\u2066" + CANARY_PHONE + "\u2069",
    )
    r = ingest(store, iom_csv([row, iom_row("KH-IOM-2024-0002")]).encode(), "iom.csv", "iom")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 2, 0), r.reason
    first = records(store)[0]
    assert first.source_record_id == CANARY_CASE
    assert (first.family_name, first.given_name) == ("SOKHEANG", "VUTHEARA")
    assert (first.birth_date, first.return_date) == (dt.date(1990, 3, 12), dt.date(2024, 6, 5))
    assert first.phone == "+85512987654"
    assert not any(m in (first.full_name or "") for m in marks)


def test_a_header_pasted_with_right_to_left_marks_is_read(store: Settings) -> None:
    header = [
        "\u200f" + h + "\u200e" if i % 2 else "\u202b" + h + "\u202c" for i, h in enumerate(MOSVY_HEADER)
    ]
    r = ingest(
        store, sheet([["បញ្ជីឈ្មោះ"], header, mosvy_row("១", CANARY_FAMILY, CANARY_GIVEN)]), "d.xlsx", "mosvy"
    )
    assert (r.status, r.rows_loaded) == ("ingested", 1), r.reason
    assert records(store)[0].family_name_kh == CANARY_FAMILY


def test_a_bom_before_the_first_title_and_inside_cells_is_dropped(store: Settings) -> None:
    header = ["\ufeff" + MOSVY_HEADER[0], *MOSVY_HEADER[1:]]
    row = mosvy_row("\ufeff១", CANARY_FAMILY, "សុភ\ufeffក្ត្រា", ret="០៥/\ufeff០៦/២០២៤", nid="0102\ufeff00300")
    r = ingest(store, sheet([header, row]), "d.xlsx", "mosvy")
    assert (r.status, r.rows_loaded) == ("ingested", 1), r.reason
    rec = records(store)[0]
    assert (rec.source_record_id, rec.given_name_kh) == ("1", CANARY_GIVEN)
    assert (rec.return_date, rec.national_id) == (dt.date(2024, 6, 5), "010200300")


def test_zero_width_marks_in_khmer_names_leave_the_same_name(store: Settings) -> None:
    """A zero-width space is Khmer's word separator: between the names it splits them as a
    space does; inside a name (with a joiner or non-joiner) it is no part of the name."""
    clean = ngo_row(
        "HG-1", "", "1990-03-12", "2024-07-01", "Active", name_kh=f"{CANARY_FAMILY} {CANARY_GIVEN}"
    )
    zwsp = ngo_row(
        "HG-2", "", "1990-03-12", "2024-07-01", "Active", name_kh=CANARY_FAMILY + "\u200b" + CANARY_GIVEN
    )
    inside = ngo_row(
        "HG-3", "", "1990-03-12", "2024-07-01", "Active", name_kh=f"\u200d{CANARY_FAMILY} សុភ\u200cក្ត\u200b្រា"
    )
    r = ingest(store, ngo_csv([clean, zwsp, inside]).encode(), "hagar.csv", "ngo-hagar")
    assert (r.status, r.rows_loaded) == ("ingested", 3), r.reason
    names = {(x.family_name_kh, x.given_name_kh, x.name_kh) for x in records(store)}
    assert names == {(CANARY_FAMILY, CANARY_GIVEN, f"{CANARY_FAMILY} {CANARY_GIVEN}")}


# --- MoSVY sheets: titles and a printed template's empty lines ---------------------------------


@pytest.mark.parametrize(
    "titles",
    [
        [["1. បញ្ជីឈ្មោះជនរងគ្រោះដែលបានវិលត្រឡប់មកវិញ"], ["2. ខេត្តកំពង់ធំ"], ["៣. ខែមិថុនា ២០២៤"]],
        [
            ["List of returnees from Thailand, June 2024"],
            ["Province: Kampong Thom", None, "Date: 30/06/2024"],
        ],
    ],
    ids=["numbered", "english"],
)
def test_title_rows_numbered_or_in_english_are_not_men(store: Settings, titles: list[list[object]]) -> None:
    rows = [mosvy_row("1", CANARY_FAMILY, CANARY_GIVEN), mosvy_row("2", "សុខ", "ដារា")]
    r = ingest(store, sheet([*titles, [], MOSVY_HEADER, *rows]), "d.xlsx", "mosvy")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 2, 0), r.reason


def test_a_templates_numbered_empty_lines_are_counted_not_quarantined(store: Settings) -> None:
    rows = [mosvy_row("1", CANARY_FAMILY, CANARY_GIVEN), mosvy_row("2", "សុខ", "ដារា")]
    empty = [[n] + [None] * (len(MOSVY_HEADER) - 1) for n in range(3, 21)]
    khmer = [["២១"] + [""] * (len(MOSVY_HEADER) - 1), ["២២."] + [""] * 3]
    r = ingest(store, sheet([["បញ្ជីឈ្មោះ"], MOSVY_HEADER, *rows, *empty, *khmer]), "d.xlsx", "mosvy")
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("ingested", 2, 2, 0), r.reason
    assert r.blank_rows == 20
    assert any(n.startswith("20 line(s) hold only a row number") and "line(s) 5, 6, 7" in n for n in r.notes)
    _no_canary(shown(store, r))


def test_a_row_number_with_a_name_is_still_a_man(store: Settings) -> None:
    """Only a number and nothing else is a template line: one cell more and it is a row."""
    lonely = ["3", None, "ដារា", *[None] * (len(MOSVY_HEADER) - 3)]
    r = ingest(store, sheet([MOSVY_HEADER, mosvy_row("1"), lonely]), "d.xlsx", "mosvy")
    assert (r.status, r.rows_loaded, r.blank_rows) == ("ingested", 1, 0), r.reason
    assert quarantined(store) == {3: "required"}


# --- a sheet's stale size, formulas' empty text, Excel's shared strings -----------------------


@pytest.mark.parametrize("ref", ["A1:C3", "A1:Q4", "B2"])
def test_a_dimension_smaller_than_the_sheet_loses_nothing(store: Settings, ref: str) -> None:
    rows = corpus.mosvy_rows(5)
    r = ingest(store, corpus._stale_dimension(ref)(rows), "d.xlsx", "mosvy")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 5, 0), r.reason
    assert [x.phone for x in records(store)][-1] == "+855977000004"


def test_formulas_whose_saved_value_is_empty_text_are_blank_not_uncalculated(store: Settings) -> None:
    r = ingest(store, corpus._formula_cells(corpus.PHONE, "")(corpus.mosvy_rows(3)), "d.xlsx", "mosvy")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 3, 0), r.reason
    assert [x.phone for x in records(store)] == [None, None, None]


def test_formulas_with_no_saved_value_are_still_quarantined_by_their_cell(store: Settings) -> None:
    r = ingest(store, corpus._formula_cells(16, None)(corpus.mosvy_rows(2)), "d.xlsx", "mosvy")
    assert (r.rows_loaded, quarantined(store)) == (0, {4: "formula", 5: "formula"})
    assert "cell Q4 holds a formula with no value saved" in quarantine(store)[4][1]


def test_excels_shared_strings_with_rich_and_phonetic_runs_read_as_their_text(store: Settings) -> None:
    r = ingest(store, corpus._excel_shared_strings(corpus.mosvy_rows(3)), "d.xlsx", "mosvy")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 3, 0), r.reason
    got = [(x.family_name_kh, x.given_name_kh) for x in records(store)]
    assert got == [
        (normalise_khmer(corpus.KH_FAMILY[i]), normalise_khmer(corpus.KH_GIVEN[i])) for i in range(3)
    ]
    assert all("ゴ" not in (x.name_kh or "") for x in records(store))  # the reading guide is no text


# --- dates an English-locale Excel wrote month-first -------------------------------------------


def _returns(store: Settings, dates: list[str], dobs: list[str] | None = None) -> DeliveryResult:
    rows = [
        iom_row(f"KH-IOM-2024-000{i}", name=f"DARA SOK{'K' * i}", ret=d, dob=(dobs or [""] * len(dates))[i])
        for i, d in enumerate(dates)
    ]
    return ingest(store, iom_csv(rows).encode(), "iom.csv", "iom")


def test_a_column_written_month_first_is_read_month_first_and_says_so(store: Settings) -> None:
    r = _returns(
        store, ["12/31/2024", "01/02/2024", "06/13/2024"], ["11/25/1979", "01/02/1990", "03/04/1988"]
    )
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 3, 0), r.reason
    got = [(str(x.return_date), str(x.birth_date)) for x in records(store)]
    assert got == [("2024-12-31", "1979-11-25"), ("2024-01-02", "1990-01-02"), ("2024-06-13", "1988-03-04")]
    assert any(n.startswith("return_date: read month-first (MM/DD/YYYY): 2 of its dates") for n in r.notes)
    assert any(n.startswith("birth_date: read month-first") for n in r.notes)


def test_a_column_with_no_date_of_its_own_follows_the_files_month_first_columns(store: Settings) -> None:
    r = _returns(
        store, ["12/31/2024", "06/13/2024", "01/02/2024"], ["01/02/1990", "03/04/1988", "05/06/1985"]
    )
    assert (r.status, r.rows_loaded) == ("ingested", 3), r.reason
    assert [str(x.birth_date) for x in records(store)] == ["1990-01-02", "1988-03-04", "1985-05-06"]
    assert any("as the file's other date columns are written" in n for n in r.notes)


def test_a_column_written_both_ways_quarantines_the_dates_that_could_be_either(store: Settings) -> None:
    r = _returns(store, ["13/06/2024", "06/14/2024", "05/06/2024", "20/06/2024", "07/07/2024"])
    assert (r.rows_loaded, quarantined(store)) == (3, {3: "date_format", 4: "date_ambiguous"})
    assert [str(x.return_date) for x in records(store)] == ["2024-06-13", "2024-06-20", "2024-07-07"]
    reason = quarantine(store)[4][1]
    assert "could be either" in reason and "05/06" not in reason and "2024" not in reason


def test_one_month_first_date_is_no_proof_the_others_stay_ambiguous(store: Settings) -> None:
    """12/31/2024 beside 01/02/2024, and nothing else: the one date that cannot be day-first
    is quarantined as it was (a slip, or a month-first list?), and 01/02/2024 is neither
    swapped nor read day-first without a word."""
    r = _returns(store, ["12/31/2024", "01/02/2024", "05/05/2024"])
    assert (r.rows_loaded, quarantined(store)) == (1, {2: "date_format", 3: "date_ambiguous"})
    assert str(records(store)[0].return_date) == "2024-05-05"


def test_a_day_first_list_with_one_slip_keeps_its_dates(store: Settings) -> None:
    days = [f"{d}/06/2024" for d in range(13, 28)] + ["06/14/2024", "05/06/2024"]
    r = _returns(store, days)
    assert (r.rows_loaded, quarantined(store)) == (16, {17: "date_format"})
    assert str(records(store)[-1].return_date) == "2024-06-05"


# --- phones and ages a program wrote as numbers ------------------------------------------------


def test_a_phone_written_as_a_float_with_every_digit_is_read(store: Settings) -> None:
    rows = [
        iom_row("KH-1", phone="8.5512987654e+10"),
        iom_row("KH-2", phone="85512987654.0"),
        iom_row("KH-3", phone="8.55129E+10"),
    ]
    r = ingest(store, iom_csv(rows).encode(), "iom.csv", "iom")
    assert (r.status, r.rows_loaded) == ("ingested", 3), r.reason
    assert [x.phone for x in records(store)] == ["+85512987654", "+85512987654", None]
    assert r.warnings_by_rule == {"phone_format": 1}


def test_ages_with_a_decimal_comma_keep_their_years(store: Settings) -> None:
    rows = [iom_row(f"KH-{i}", dob="", age_at_return=a) for i, a in enumerate(["28,5", "40,0", "31"])]
    r = ingest(store, iom_csv(rows, delimiter=";").encode("cp1252"), "iom.csv", "iom")
    assert (r.status, r.rows_loaded, r.warnings_by_rule) == ("ingested", 3, {}), r.reason
    assert [x.age for x in records(store)] == [28, 40, 31]


# --- a source mapping whose words YAML read as booleans ----------------------------------------

_NGO_YAML = """source: ngo-new
title: A new NGO
stable_ids: true
fields:
  source_record_id: [client_id, {alias}]
  full_name: [name]
  intake_date: [intake_date]
  case_status: [status]
  consent: [consent, {consent}]
required_columns: [source_record_id, intake_date]
"""


@pytest.mark.parametrize(
    ("alias", "consent", "where"),
    [
        ("no", "'yes'", "fields.source_record_id (its value number 2, read as False)"),
        ("'no'", "on", "fields.consent (its value number 2, read as True)"),
        ("'no'", "OFF", "fields.consent (its value number 2, read as False)"),
    ],
)
def test_an_unquoted_yes_no_on_off_in_a_mapping_is_refused_naming_the_key(
    tmp_path: Path, alias: str, consent: str, where: str
) -> None:
    path = tmp_path / "ngo-new.yaml"
    path.write_text(_NGO_YAML.format(alias=alias, consent=consent), encoding="utf-8")
    with pytest.raises(MappingError) as err:
        load_mapping(path)
    message = str(err.value)
    assert message.startswith("ngo-new.yaml: an unquoted yes, no, on, off, true or false is read by YAML")
    assert where in message and "put the word in quotes" in message


def test_a_key_yaml_read_as_a_boolean_is_named_and_stable_ids_must_be_one(tmp_path: Path) -> None:
    path = tmp_path / "ngo-new.yaml"
    path.write_text(_NGO_YAML.format(alias="'no'", consent="'y'") + "no: [x]\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"a key under the top level \(read as False\)"):
        load_mapping(path)
    path.write_text(_NGO_YAML.format(alias="'no'", consent="'y'").replace("true", "'no'"), encoding="utf-8")
    with pytest.raises(MappingError, match="stable_ids must be true or false, unquoted"):
        load_mapping(path)
    path.write_text(_NGO_YAML.format(alias="'no'", consent="y"), encoding="utf-8")
    assert load_mapping(path).fields["source_record_id"] == ("client_id", "no")


def test_a_bad_mapping_stops_the_ingest_before_any_file_is_read(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(PROJECT_ROOT / "sources", sources)
    (sources / "ngo-new.yaml").write_text(_NGO_YAML.format(alias="no", consent="'y'"), encoding="utf-8")
    settings = load_settings(home=tmp_path / "home", db_url="", data_docs=False, sources_dir=sources)
    with pytest.raises(MappingError, match="fields.source_record_id"):
        Ingestor(settings)


def test_the_shipped_mappings_hold_no_word_yaml_made_a_boolean() -> None:
    """mosvy.yaml listed the English title No unquoted: it was matched as 'False'."""
    for path in sorted((PROJECT_ROOT / "sources").glob("*.yaml")):
        load_mapping(path)
    assert "no" in load_mapping(PROJECT_ROOT / "sources" / "mosvy.yaml").fields["source_record_id"]


def test_a_mosvy_list_whose_number_column_is_titled_no_is_read(store: Settings) -> None:
    header = ["No", *MOSVY_HEADER[1:]]
    r = ingest(store, sheet([header, mosvy_row("1", CANARY_FAMILY, CANARY_GIVEN)]), "d.xlsx", "mosvy")
    assert (r.status, r.rows_loaded) == ("ingested", 1), r.reason
    assert records(store)[0].source_record_id == "1"
