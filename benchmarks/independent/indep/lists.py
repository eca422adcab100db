"""Writing the population's returns as the three kinds of list, with a truth row for each record.

Why: each organisation writes what it saw in its own way (sources/*.yaml is the interface):
IOM in English with the given name first and ages for unknown births, the ministry in Khmer
script and often Khmer digits a few days later, NGOs with the address a man lives at now.
Each record's truth row names the man and the habits that shaped the row (its tags), so
the scorer can say which habits the linker fails on.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from indep import places
from indep.name_data import KH_RETURN_POINTS
from indep.people import END, START, Episode, Name, Person, Population
from indep.referrals import (
    IOM_NO_REFERRAL,
    IOM_ORGS,
    MOSVY_REMARKS,
    NGO_STATUS,
    carry_referral,
    late_intake,
    not_yet,
    other_ngo,
    referral_of_written,
    sent_home,
    vary_iom,
    vary_mosvy,
    vary_ngo,
    written_out,
)
from indep.spelling import khmer_digits, khmer_typo, latin_typo, romanise_variant, split_compound

IOM_COLUMNS = ["iom_case_no", "full_name", "sex", "dob", "age_at_return", "province_of_origin",
               "district_of_origin", "commune_of_origin", "village_of_origin", "country_of_exploitation",
               "sector", "date_of_return", "point_of_entry", "travel_doc_no", "phone", "referred_to",
               "referral_date", "consent_to_share", "batch_id"]
MOSVY_COLUMNS = ["ល.រ", "នាមត្រកូល", "នាមខ្លួន", "ភេទ", "អាយុ", "ថ្ងៃខែឆ្នាំកំណើត", "ភូមិ", "ឃុំ/សង្កាត់",
                 "ស្រុក/ខណ្ឌ", "ខេត្ត/រាជធានី", "ប្រទេស", "ថ្ងៃខែឆ្នាំត្រឡប់មកវិញ", "ច្រកព្រំដែន", "ឈ្មោះឪពុក",
                 "អត្តសញ្ញាណប័ណ្ណ", "លេខទូរស័ព្ទ", "ផ្សេងៗ"]
NGO_COLUMNS = ["client_id", "name_kh", "name_en", "dob", "sex", "province", "district", "commune", "village",
               "phone", "intake_date", "referral_source", "case_manager", "case_status", "services",
               "last_follow_up_date", "consent_form_signed"]
TRUTH_COLUMNS = ["source", "file", "record_id", "person_id", "episode_id", "family_id", "batch_id", "tags",
                 "referral"]
EPISODE_COLUMNS = ["episode_id", "person_id", "return_date", "return_number", "returns", "batch_id",
                   "records", "lists", "referred", "referral_kinds", "partial"]

COUNTRY_EN = {"TH": "Thailand", "ID": "Indonesia", "MY": "Malaysia", "MM": "Myanmar", "LA": "Laos",
              "SA": "Saudi Arabia", "FJ": "Fiji", "ZA": "South Africa", "MU": "Mauritius", "SN": "Senegal",
              "KR": "South Korea"}
COUNTRY_KH = {"TH": "ថៃ", "ID": "ឥណ្ឌូណេស៊ី", "MY": "ម៉ាឡេស៊ី", "MM": "មីយ៉ាន់ម៉ា", "LA": "ឡាវ",
              "SA": "អារ៉ាប៊ីសាអូឌីត", "FJ": "ហ្វីជី", "ZA": "អាហ្វ្រិកខាងត្បូង", "MU": "ម៉ូរីស", "SN": "សេណេហ្គាល់",
              "KR": "កូរ៉េខាងត្បូង"}
ENTRY_KH = {"Poipet": "ប៉ោយប៉ែត", "Phnom Penh Airport": "ព្រលានយន្តហោះភ្នំពេញ", "Bavet": "បាវិត",
            "O'Smach": "អូរស្មាច់", "Cham Yeam": "ចាំយាម", "Daung": "ដូង"}
SERVICES = ["medical", "psychosocial", "vocational", "legal", "cash"]
CASE_MANAGERS = ["Chan Sreymom", "Keo Sophea", "Lim Dalin", "Heng Sokunthea", "Ouk Ratanak", "Meas Bopha"]


@dataclass
class Written:
    """One record as written, with its truth row."""

    source: str
    file: str
    row: dict[str, object]
    record_id: str
    episode: Episode
    tags: list[str] = field(default_factory=list)


# --- pieces every list writes -------------------------------------------------------------


def _latin_word(name: Name, rng: random.Random, r: dict[str, float], tags: list[str]) -> str:
    word = name.latin
    if name.variants and rng.random() < r["table_variant"]:
        word = rng.choice(name.variants)
    if rng.random() < r["respell"]:
        word = romanise_variant(word, rng, r["respell_per_rule"])
    if " " not in word and len(name.syllables) > 1 and rng.random() < r["split_compound"]:
        word, _how = split_compound(word, name.syllables, rng)
    if word.replace("-", " ").lower() != name.latin.lower():
        tags.append("romanisation" if " " not in word and "-" not in word else "split_name")
    if rng.random() < r["latin_typo"]:
        word = latin_typo(word, rng)
        tags.append("typo_latin")
    return word


def _given_names(p: Person, rng: random.Random, r: dict[str, float],
                 tags: list[str]) -> tuple[Name | None, str]:
    """Which given name a list writes: his own, his nickname, or his own with his second one."""
    if p.nickname and rng.random() < r["use_nickname"]:
        tags.append("nickname")
        kh, lat = p.nickname
        return Name(kh, lat, ()), "nick"
    if p.second_given and rng.random() < r["use_second_given"]:
        tags.append("second_given")
        return p.second_given, "second"
    return None, "own"


def latin_full(p: Person, rng: random.Random, r: dict[str, float], tags: list[str]) -> tuple[str, str]:
    """(family, given) in Latin as this list spells them."""
    family = _latin_word(p.family, rng, r, tags)
    extra, kind = _given_names(p, rng, r, tags)
    if kind == "nick" and extra is not None:
        given = extra.latin
    else:
        given = _latin_word(p.given, rng, r, tags)
        if kind == "second" and extra is not None:
            given = f"{given} {_latin_word(extra, rng, r, [])}"
    return family, given


def khmer_name(name: Name, rng: random.Random, r: dict[str, float], tags: list[str]) -> str:
    text = name.kh
    if rng.random() < r["khmer_typo"]:
        text, kind = khmer_typo(text, rng)
        tags.append(f"typo_khmer_{kind}")
    return text


def khmer_given(p: Person, rng: random.Random, r: dict[str, float], tags: list[str]) -> str:
    extra, kind = _given_names(p, rng, r, tags)
    if kind == "nick" and extra is not None:
        return extra.kh
    given = khmer_name(p.given, rng, r, tags)
    if kind == "second" and extra is not None:
        given += " " + extra.kh
    return given


def age_at(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def dmy(d: dt.date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def excel_serial(d: dt.date) -> str:
    return str((d - dt.date(1899, 12, 30)).days)


def _typed_year(year: int, rng: random.Random) -> int:
    """The year as a hurried clerk types it: two neighbouring digits swapped (1987 -> 1978),
    or one digit one key off (1987 -> 1986, 1997). Never the year itself, never ahead of now."""
    digits = list(str(year))
    for _ in range(20):
        out = digits[:]
        if rng.random() < 0.5:
            i = rng.choice([1, 2])  # 19|87: the decade and year digits, or century and decade
            out[i], out[i + 1] = out[i + 1], out[i]
        else:
            i = rng.choice([2, 3])
            out[i] = str((int(out[i]) + rng.choice([-1, 1])) % 10)
        typed = int("".join(out))
        if typed != year and 1930 <= typed <= 2015:
            return typed
    return year


def birth_text(p: Person, rng: random.Random, r: dict[str, float], tags: list[str], iso: bool = False) -> str:
    """A full birth date with the slips lists make: a wrong year, day and month swapped."""
    d = p.birth
    if rng.random() < r["dob_wrong_year"]:
        d = d.replace(year=d.year + rng.choice([-1, 1]), day=min(d.day, 28))
        tags.append("dob_wrong_year")
    if r["year_typed"] and rng.random() < r["year_typed"]:  # no draw at 0: default lists unchanged
        d = d.replace(year=_typed_year(d.year, rng), day=min(d.day, 28))
        tags.append("year_typed")
    if d.day <= 12 and d.day != d.month and rng.random() < r["date_swapped"]:
        tags.append("date_swapped")
        d = dt.date(d.year, d.day, d.month)
    return d.isoformat() if iso else dmy(d)


def phone_text(number: str, rng: random.Random) -> str:
    """A national number as people write it: spaces, +855, 855, dashes, or the 0 dropped."""
    rest = number[1:]
    style = rng.randrange(7)
    if style == 0:
        return number
    if style == 1:
        return f"{number[:3]} {number[3:6]} {number[6:]}"
    if style == 2:
        return f"+855 {rest[:2]} {rest[2:5]} {rest[5:]}"
    if style == 3:
        return "855" + rest
    if style == 4:
        return f"{number[:3]}-{number[3:6]}-{number[6:]}"
    if style == 5:
        return f"(+855) {rest}"
    return rest


def phone_slip(number: str, rng: random.Random) -> str:
    """The number as a clerk mistyped it: one digit another, or two neighbours swapped."""
    digits = list(number)
    at = rng.randrange(1, len(digits) - 1)  # never the leading 0
    if rng.random() < 0.5 and digits[at] != digits[at + 1]:
        digits[at], digits[at + 1] = digits[at + 1], digits[at]
    else:
        digits[at] = rng.choice([d for d in "0123456789" if d != digits[at]])
    return "".join(digits)


def phone_cell(number: str, p: Person, rng: random.Random, r: dict[str, float], tags: list[str]) -> str:
    """The phone cell: the number as written, and sometimes the family's or his own beside it."""
    if r["phone_typo"] and rng.random() < r["phone_typo"]:  # no draw at 0: the same rows as before
        number = phone_slip(number, rng)
        tags.append("phone_typo")
    text = phone_text(number, rng)
    if not r["two_phones"] or not (p.own_phone and p.family_phone and p.own_phone != p.family_phone):
        return text  # no draw: rates left at 0 give the same rows as before
    if rng.random() < r["two_phones"]:
        other = p.own_phone if number == p.family_phone else p.family_phone
        tags.append("two_phones")
        text += rng.choice([" / ", ", ", " or ", "; ", "/"]) + phone_text(other, rng)
    return text


def which_phone(p: Person, ep: Episode, rng: random.Random, r: dict[str, float], present: float,
                tags: list[str]) -> str | None:
    if rng.random() >= present:
        return None
    if p.own_phone is None or rng.random() < r["relative_phone"]:
        tags.append("phone_relative")
        return p.family_phone
    if ep is not p.episodes[0] and rng.random() < r["phone_changed"]:
        tags.append("phone_changed")
        return "0" + str(int(p.own_phone[1:]) + 7919)[: len(p.own_phone) - 1]
    return p.own_phone


def province_code_for(p: Person, rng: random.Random, r: dict[str, float], tags: list[str]) -> str:
    code = p.home.province.code
    if p.home.district.code in places.OLD_PROVINCE and rng.random() < r["old_units"]:
        tags.append("old_province")
        return places.OLD_PROVINCE[p.home.district.code]
    return code


# --- the three lists ----------------------------------------------------------------------


def _entry_province(point: str) -> str | None:
    """The province code of a border checkpoint or airport, as IOM names it."""
    for name, variants, code, _other_side in KH_RETURN_POINTS:
        if point == name or point in variants:
            return code
    return None


def _village(
    home: places.Home, rng: random.Random, r: dict[str, float], tags: list[str]
) -> places.geo.Village:
    """The village this list writes for him (another of his commune at rate village_slip)."""
    village, slipped = places.village_written(home, rng, r["village_slip"])
    if slipped:
        tags.append("village_slip")
    return village


def _iom_place(p: Person, rng: random.Random, r: dict[str, float], tags: list[str]) -> tuple[str, str, str]:
    """IOM's district, commune and village of origin (a fifth of districts left blank)."""
    district = commune = village = ""
    written = _village(p.home, rng, r, tags)
    if rng.random() < r["iom_district_blank"]:
        tags.append("district_blank")
        if rng.random() < r["blank_keeps_commune"]:
            commune = p.home.commune.name_en
            tags.append("commune_kept")
        if rng.random() < r["blank_keeps_village"]:
            village = written.name_en
    else:
        district, varied = places.district_latin(p.home.district, rng, r["district_variant"])
        if varied:
            tags.append("district_variant")
        if rng.random() < 0.6:
            commune = p.home.commune.name_en
        if rng.random() < 0.4:
            village = written.name_en
    return district, commune, village


def iom_row(ep: Episode, case_no: str, rng: random.Random, r: dict[str, float]) -> tuple[dict, list[str]]:
    p, b = ep.person, ep.batch
    tags: list[str] = []
    family, given = latin_full(p, rng, r, tags)
    if rng.random() < r["iom_family_first"]:
        full = f"{family} {given}"
        tags.append("order_family_first")
    else:
        full = f"{given} {family}"
    full = full.upper() if rng.random() < 0.7 else full.title()
    dob, age = "", ""
    u = rng.random()
    if u < r["iom_dob_full"]:
        dob = birth_text(p, rng, r, tags)
    elif u < r["iom_dob_full"] + r["iom_dob_year"]:
        dob = f"01/01/{p.birth.year}" if rng.random() < 0.8 else str(p.birth.year)
        tags.append("birth_year_only")
    elif u < r["iom_dob_full"] + r["iom_dob_year"] + r["iom_age_only"]:
        a = age_at(p.birth, b.date)
        if rng.random() < r["age_off_by_one"]:
            a += rng.choice([-1, 1])
            tags.append("age_off_by_one")
        age = str(a)
        tags.append("age_only")
    else:
        tags.append("birth_blank")
    pcode = province_code_for(p, rng, r, tags)
    entry = _entry_province(b.point_of_entry)
    # (drawn only when the rate is set, so the default lists stay as they were)
    if r["iom_home_is_entry"] and entry and entry != pcode and rng.random() < r["iom_home_is_entry"]:
        tags.append("home_is_entry")
        province = places.province_latin(entry, rng, r["province_variant"])
        district = commune = village = ""
    else:
        province = places.province_latin(pcode, rng, r["province_variant"])
        district, commune, village = _iom_place(p, rng, r, tags)
    ret = b.date
    if rng.random() < r["return_date_typo"]:
        ret = ret + dt.timedelta(days=rng.choice([-10, 10, 1, -1, 30]))
        tags.append("return_date_typo")
    phone = which_phone(p, ep, rng, r, r["iom_phone"], tags)
    referred = rng.random() < 0.35
    row = {
        "iom_case_no": case_no, "full_name": full, "sex": rng.choice(["M", "M", "Male", "m"]),
        "dob": dob, "age_at_return": age, "province_of_origin": province, "district_of_origin": district,
        "commune_of_origin": commune, "village_of_origin": village,
        "country_of_exploitation": COUNTRY_EN[b.country], "sector": b.sector, "date_of_return": dmy(ret),
        "point_of_entry": b.point_of_entry, "travel_doc_no": ep.travel_doc or "",
        "phone": phone_cell(phone, p, rng, r, tags) if phone else "",
        "referred_to": rng.choice(IOM_ORGS) if referred else rng.choice(IOM_NO_REFERRAL),
        "referral_date": dmy(b.date + dt.timedelta(days=rng.randint(0, 20))) if referred else "",
        "consent_to_share": rng.choice(["Y", "Y", "Y", "N"]),
        "batch_id": f"KH-RET-{b.date:%Y%m%d}-{b.bid[1:]}" if b.group else "",
    }
    if r["referral_variant"] and rng.random() < r["referral_variant"]:  # (no draw at the default 0)
        vary_iom(row, ret, rng, tags)
    not_yet(row, rng, r, tags)
    return row, tags


def _kdate(d: dt.date, digits: bool, be: bool, cells: bool) -> object:
    if cells and not be:
        return dt.datetime(d.year, d.month, d.day)
    text = f"{d.day:02d}/{d.month:02d}/{d.year + 543 if be else d.year:04d}"
    return khmer_digits(text) if digits else text


def mosvy_row(ep: Episode, n: int, sheet: dict[str, bool], rng: random.Random,
              r: dict[str, float]) -> tuple[dict, list[str]]:
    p, b = ep.person, ep.batch
    tags: list[str] = ["khmer_digits"] if sheet["digits"] else []
    family = khmer_name(p.family, rng, r, tags)
    given = khmer_given(p, rng, r, tags)
    if rng.random() < r["mosvy_columns_swapped"]:
        family, given = given, family
        tags.append("order_columns_swapped")
    lag = 0 if rng.random() < r["mosvy_same_day"] else rng.randint(1, int(r["mosvy_lag_max"]))
    if lag:
        tags.append("registered_later")
    ret = b.date + dt.timedelta(days=lag)
    age = dob = ""
    if rng.random() < r["mosvy_dob"]:
        text = birth_text(p, rng, r, tags)
        d, m, y = (int(x) for x in text.split("/"))
        be = rng.random() < r["buddhist_era"]
        if be:
            tags.append("buddhist_era")
        if rng.random() < 0.15:
            d, m = 1, 1
            tags.append("birth_year_only")
        dob = _kdate(dt.date(y, m, d), sheet["digits"], be, sheet["cells"])
    if not dob or rng.random() < r["mosvy_age_too"]:
        a = age_at(p.birth, ret)
        if rng.random() < r["age_off_by_one"]:
            a += rng.choice([-1, 1])
            tags.append("age_off_by_one")
        age = khmer_digits(str(a)) if sheet["digits"] else a
        if not dob:
            tags.append("age_only")
    pcode = province_code_for(p, rng, r, tags)
    prov = places._provinces()[pcode]
    district = "" if rng.random() < r["mosvy_district_blank"] else places.khmer_place(
        p.home.district.name_kh, "ស្រុក", rng)
    if not district:
        tags.append("district_blank")
    father = ""
    if rng.random() < 0.6:
        father = f"{khmer_name(p.father_family, rng, r, [])} {khmer_name(p.father_given, rng, r, [])}"
    nid = ""
    if p.national_id and rng.random() < r["mosvy_id"]:
        nid = khmer_digits(p.national_id) if sheet["digits"] else p.national_id
        tags.append("national_id")
    phone = which_phone(p, ep, rng, r, r["mosvy_phone"], tags)
    phone_txt = phone_cell(phone, p, rng, r, tags) if phone else ""
    if phone_txt and sheet["digits"]:
        phone_txt = khmer_digits(phone_txt)
    remark = ""
    if rng.random() < 0.2:
        remark = rng.choice(MOSVY_REMARKS)
    row = {
        "ល.រ": khmer_digits(str(n)) if sheet["digits"] else n,
        "នាមត្រកូល": family, "នាមខ្លួន": given, "ភេទ": rng.choice(["ប្រុស", "ប្រុស", "ប"]),
        "អាយុ": age, "ថ្ងៃខែឆ្នាំកំណើត": dob,
        "ភូមិ": places.khmer_place(_village(p.home, rng, r, tags).name_kh, "ភូមិ", rng, 0.2),
        "ឃុំ/សង្កាត់": places.khmer_place(p.home.commune.name_kh, "ឃុំ", rng, 0.2),
        "ស្រុក/ខណ្ឌ": district,
        "ខេត្ត/រាជធានី": places.khmer_place(prov.name_kh, "ខេត្ត", rng, 0.4),
        "ប្រទេស": COUNTRY_KH[b.country],
        "ថ្ងៃខែឆ្នាំត្រឡប់មកវិញ": _kdate(ret, sheet["digits"], False, sheet["cells"]),
        "ច្រកព្រំដែន": ENTRY_KH.get(b.point_of_entry, b.point_of_entry),
        "ឈ្មោះឪពុក": father, "អត្តសញ្ញាណប័ណ្ណ": nid, "លេខទូរស័ព្ទ": phone_txt, "ផ្សេងៗ": remark,
    }
    if r["referral_variant"] and rng.random() < r["referral_variant"]:
        vary_mosvy(row, rng, tags)
    sent_home(row, rng, r, tags)
    return row, tags


def ngo_row(ep: Episode, client_id: str, rng: random.Random, r: dict[str, float]) -> tuple[dict, list[str]]:
    p, b = ep.person, ep.batch
    tags: list[str] = []
    intake = b.date + dt.timedelta(days=rng.randint(3, 120))
    if r["ngo_late_intake"] and rng.random() < r["ngo_late_intake"]:  # (no draw at the default 0)
        after = [e.batch.date for e in p.episodes if e.batch.date > b.date]
        late = late_intake(b.date, min(after, default=None), rng)
        if late is not None:
            intake = late
            tags.append("intake_late")
    name_kh = name_en = ""
    write_kh = rng.random() < 0.8
    write_en = not write_kh or rng.random() < 0.8
    if write_kh:
        sep = "" if rng.random() < 0.6 else " "
        name_kh = khmer_name(p.family, rng, r, tags) + sep + khmer_given(p, rng, r, tags)
    if write_en:
        family, given = latin_full(p, rng, r, tags)
        if rng.random() < r["ngo_given_first"]:
            name_en = f"{given} {family}"
            tags.append("order_given_first")
        else:
            name_en = f"{family} {given}"
        name_en = name_en.title() if rng.random() < 0.6 else name_en.upper()
    dob = ""
    if rng.random() < r["ngo_dob"]:
        if rng.random() < r["excel_serial"]:
            dob = excel_serial(p.birth)
            tags.append("excel_serial")
        else:
            dob = birth_text(p, rng, r, tags, iso=rng.random() < 0.6)
    else:
        tags.append("birth_blank")
    home = p.home
    if rng.random() < r["ngo_moved"]:
        home = places.random_home(rng)
        tags.append("moved")
    khmer_address = rng.random() < 0.25
    pcode = home.province.code
    village_of = _village(home, rng, r, tags)
    if khmer_address:
        province, district = home.province.name_kh, home.district.name_kh
        commune, village = home.commune.name_kh, village_of.name_kh
    else:
        province = places.province_latin(pcode, rng, r["province_variant"])
        district, varied = places.district_latin(home.district, rng, r["district_variant"])
        if varied:
            tags.append("district_variant")
        commune, village = home.commune.name_en, village_of.name_en if rng.random() < 0.6 else ""
    phone = which_phone(p, ep, rng, r, r["ngo_phone"], tags)
    status = rng.choices(NGO_STATUS, [4, 3, 2, 2])[0]
    row = {
        "client_id": client_id, "name_kh": name_kh, "name_en": name_en, "dob": dob,
        "sex": rng.choice(["M", "Male", "ប្រុស"]), "province": province, "district": district,
        "commune": commune, "village": village, "phone": phone_cell(phone, p, rng, r, tags) if phone else "",
        "intake_date": intake.isoformat() if rng.random() < 0.5 else dmy(intake),
        "referral_source": rng.choice(["IOM", "IOM", "MoSVY", "police", "self", "DoSVY"]),
        "case_manager": rng.choice(CASE_MANAGERS), "case_status": status,
        "services": ";".join(rng.sample(SERVICES, rng.randint(1, 3))),
        "last_follow_up_date": (intake + dt.timedelta(days=rng.randint(10, 200))).isoformat(),
        "consent_form_signed": rng.choice(["Y", "Y", "N"]),
    }
    if r["referral_variant"] and rng.random() < r["referral_variant"]:
        vary_ngo(row, b.date, rng, tags)
    other_ngo(row, rng, r, tags)
    written_out(row, rng, r, tags)
    return row, tags


# --- files ----------------------------------------------------------------------------------


def write_lists(pop: Population, out: Path, rng: random.Random, r: dict[str, float],
                by_year: bool = True) -> list[Written]:
    """Every list as files under out/landing/<source>/ (one per year, or one per list), and
    the records written, in order."""
    iom: dict[int, list[Written]] = {}
    mosvy: dict[int, list[tuple[Episode, bool]]] = {}
    ngo: dict[tuple[str, int], list[Written]] = {}
    seq: dict[str, int] = {}
    carried: dict[str, tuple[str, str]] = {}  # a man -> his last IOM referral (iom_referral_carried)

    def next_id(key: str) -> int:
        seq[key] = seq.get(key, 0) + 1
        return seq[key]

    for ep in sorted(pop.episodes, key=lambda e: (e.batch.date, e.eid)):
        year = ep.batch.date.year if by_year else 0
        if rng.random() < r["on_iom"]:
            for dup in range(1 + (rng.random() < r["dup_iom"])):
                case = f"KH-IOM-{ep.batch.date.year}-{next_id(f'iom{ep.batch.date.year}'):04d}"
                row, tags = iom_row(ep, case, rng, r)
                tags += ["dup_in_list"] if dup else []
                carry_referral(row, ep, carried, rng, r, tags)
                name = f"iom_returns_{_label(year)}.csv"
                iom.setdefault(year, []).append(Written("iom", name, row, case, ep, tags))
        if rng.random() < r["on_mosvy"]:
            for dup in range(1 + (rng.random() < r["dup_mosvy"])):
                mosvy.setdefault(year, []).append((ep, bool(dup)))
        if rng.random() < r["on_ngo"]:
            ngo_code = "ngo-hagar" if rng.random() < 0.6 else "ngo-lscw"
            prefix = "HG" if ngo_code == "ngo-hagar" else "LSCW"
            cid = f"{prefix}-{next_id(ngo_code):05d}"
            row, tags = ngo_row(ep, cid, rng, r)
            ngo.setdefault((ngo_code, year), []).append(Written(ngo_code, "", row, cid, ep, tags))

    written: list[Written] = []
    for year, rows in sorted(iom.items()):
        path = out / "landing" / "iom" / f"iom_returns_{_label(year)}.csv"
        _write_csv(path, IOM_COLUMNS, [w.row for w in rows], bom=year % 2 == 0)
        written += rows
    for year, eps in sorted(mosvy.items()):
        name = f"mosvy_returns_{_label(year)}.xlsx"
        sheet = {"digits": rng.random() < r["khmer_digits"], "cells": rng.random() < r["mosvy_date_cells"]}
        eps.sort(key=lambda x: (x[0].batch.date, x[0].person.home.province.code))
        rows = []
        for n, (ep, dup) in enumerate(eps, start=1):
            row, tags = mosvy_row(ep, n, sheet, rng, r)
            tags += ["dup_in_list"] if dup else []
            rows.append(Written("mosvy", name, row, str(n), ep, tags))
        _write_xlsx(out / "landing" / "mosvy" / name, _label(year), rows)
        written += rows
    for (code, year), rows in sorted(ngo.items()):
        name = f"{code.removeprefix('ngo-')}_clients_{_label(year)}.csv"
        for w in rows:
            w.file = name
        _write_csv(out / "landing" / code / name, NGO_COLUMNS, [w.row for w in rows], bom=True)
        written += rows
    return written


def _label(year: int) -> str:
    return str(year) if year else f"{START.year}-{END.year}"


def _write_csv(path: Path, columns: list[str], rows: list[dict], bom: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        w = csv.DictWriter(fh, columns)
        w.writeheader()
        w.writerows(rows)


def _write_xlsx(path: Path, year: str, rows: list[Written]) -> None:
    """A ministry workbook: a title and a date line above the header, as such sheets start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "បញ្ជី"
    ws.append([f"បញ្ជីឈ្មោះជនរងគ្រោះដែលត្រូវបានធ្វើមាតុភូមិនិវត្តន៍ ឆ្នាំ{khmer_digits(str(year))}"])
    ws.append(["ក្រសួងសង្គមកិច្ច អតីតយុទ្ធជន និងយុវនីតិសម្បទា"])
    ws.append([])
    ws.append(MOSVY_COLUMNS)
    for w in rows:
        ws.append([w.row[c] for c in MOSVY_COLUMNS])
    for col in ("F", "L"):
        for cell in ws[col][4:]:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "DD/MM/YYYY"
    wb.properties.created = wb.properties.modified = dt.datetime(2025, 12, 31)
    wb.save(path)


def write_truth(written: list[Written], out: Path) -> Path:
    """truth.csv: one row per record written, naming the man, his return, family and habits."""
    path = out / "truth.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(TRUTH_COLUMNS)
        for rec in written:
            ep = rec.episode
            w.writerow([rec.source, rec.file, rec.record_id, ep.person.pid, ep.eid, ep.person.family_id,
                        ep.batch.bid, ";".join(dict.fromkeys(rec.tags)),
                        referral_of_written(rec.source, rec.row, rec.tags)])
    return path


def write_episodes(pop: Population, written: list[Written], out: Path) -> Path:
    """episodes.csv: every return some list wrote, and whether its rows show a referral.

    Referred means a row of this return shows one (an organisation IOM names, an NGO case it
    keeps, a ministry remark); 'partial' an NGO case closed without one. Each list writes of
    the return it is about, so a referral shown for a return is that return's referral."""
    rows: dict[str, list[Written]] = {}
    for rec in written:
        rows.setdefault(rec.episode.eid, []).append(rec)
    path = out / "episodes.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(EPISODE_COLUMNS)
        for p in pop.persons:
            ordered = sorted(p.episodes, key=lambda e: (e.batch.date, e.eid))
            for number, ep in enumerate(ordered, start=1):
                recs = rows.get(ep.eid)
                if not recs:
                    continue  # on no list: nobody can flag it
                kinds = [referral_of_written(r.source, r.row, r.tags) for r in recs]
                referred = sorted({k for k in kinds if k and k != "partial"})
                w.writerow([ep.eid, p.pid, ep.batch.date.isoformat(), number, len(ordered), ep.batch.bid,
                            len(recs), ";".join(sorted({r.source for r in recs})), int(bool(referred)),
                            ";".join(referred), int("partial" in kinds and not referred)])
    return path


def write_returns(pop: Population, written: list[Written], out: Path) -> Path:
    """returns.csv: every return, those no list wrote included (lists empty), with the home
    province; the truth an estimate of returns on no list is scored against."""
    held: dict[str, set[str]] = {}
    for rec in written:
        held.setdefault(rec.episode.eid, set()).add(rec.source)
    path = out / "returns.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["episode_id", "person_id", "return_date", "province_code", "batch_id", "lists"])
        for ep in sorted(pop.episodes, key=lambda e: (e.batch.date, e.eid)):
            w.writerow([ep.eid, ep.person.pid, ep.batch.date.isoformat(), ep.person.home.province.code,
                        ep.batch.bid, ";".join(sorted(held.get(ep.eid, ())))])
    return path


def write_persons(pop: Population, out: Path) -> Path:
    """persons.csv: the true men, for the scorer's error kinds (twins, namesakes, families)."""
    path = out / "persons.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person_id", "family_id", "twin_of", "namesake_of", "family_name", "given_name",
                    "birth_date", "district_code", "village_code", "returns"])
        for p in pop.persons:
            w.writerow([p.pid, p.family_id, p.twin_of or "", p.namesake_of or "", p.family.latin,
                        p.given.latin, p.birth.isoformat(), p.home.district.code, p.home.village.code,
                        len(p.episodes)])
    return path
