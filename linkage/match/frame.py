"""The comparison frame: one row per record with the derived fields linkage compares.

Why a separate frame: comparison works on folded keys (phonetic name keys, an estimated
birth year, place codes), not on what the list said. Every derived column is computed once
per distinct value, so a million records with a few thousand distinct names stay cheap.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from linkage.normalise.khmer import has_khmer
from linkage.normalise.name_tables import conventional_spelling
from linkage.normalise.names import tidy_khmer_name, tidy_latin
from linkage.normalise.phonetic import phonetic_key
from linkage.normalise.places import entry_provinces, former_province
from linkage.normalise.romanise import romanise
from linkage.sources import current_address_sources

# Record columns the frame is built from (never more: the frame is the privacy boundary
# of matching, and nothing from it is logged).
RECORD_COLUMNS = [
    "id",
    "source",
    "delivery_sha256",
    "line",
    "family_name",
    "given_name",
    "family_name_kh",
    "given_name_kh",
    "birth_date",
    "birth_year",
    "birth_precision",
    "age",
    "province_code",
    "district_code",
    "commune_code",
    "village_code",
    "country",
    "return_date",
    "point_of_entry",
    "batch_id",
    "phone",
    "national_id",
    "travel_doc_no",
    "father_name",
    "intake_date",
    "loaded_at",
]


_VOWELS = str.maketrans("", "", "AEIOUY")
_VOWEL_BEFORE_CONSONANT = re.compile(r"[AEIOUY]+(?=[^AEIOUY ])")


def _map_unique(series: pd.Series, fn) -> pd.Series:
    """Apply fn once per distinct value (names repeat a lot)."""
    uniques = series.dropna().unique()
    table = {u: fn(u) for u in uniques}
    return series.map(table)


def _name_key(text: object) -> str:
    """Joined phonetic key of a name part: 'Sovann Rith' and 'Sovannrith' meet."""
    if not isinstance(text, str) or not text.strip():
        return ""
    latin = romanise(text) if has_khmer(text) else text
    # Key the joined text: a split 'Sar Oeun' must key like 'Saroeun'; a listed variant
    # spelling keys as its conventional form.
    joined = re.sub(r"[\s\-]+", "", latin).upper()
    return phonetic_key(conventional_spelling().get(joined, joined))


def _part_keys(text: object) -> str:
    """The phonetic key of each word of a name of two or more words, as '|A|B|' ('' else).

    Why: a man with two given names (Sokha Sophal) is often listed by one of them alone
    (Sokha); the joined key of both is far from the key of one, the key of a word is not.
    """
    if not isinstance(text, str) or not text.strip():
        return ""
    latin = romanise(text) if has_khmer(text) else text
    words = [w for w in re.split(r"[\s\-]+", latin.upper()) if len(w) >= 2]
    if len(words) < 2:
        return ""
    return "|" + "|".join(_name_key(w) for w in words) + "|"


def _words(parts: str, key: str) -> list[str]:
    return [w for w in parts.split("|") if w] if parts else ([key] if key else [])


def _add_other_script_given(f: pd.DataFrame, r: pd.DataFrame) -> None:
    """A given name the record writes in Khmer that is not its Latin one: his other name.

    Why: a case worker writes the name a man gives in Khmer (often his house name, Mom)
    and his papers' name in Latin letters (Sophal Ratha); another list knows him by one of
    the two. The Khmer one joins the given name's words (so one of them alone is his name,
    as for two given names) and is a blocking key of its own (`giv_alt`).
    """
    both = r["given_name"].notna() & r["given_name_kh"].notna()
    kh = r["given_name_kh"].where(both)
    kh_key = _map_unique(kh, _name_key).fillna("").astype(str)
    kh_parts = _map_unique(kh, _part_keys).fillna("").astype(str)
    alt = [""] * len(f)
    parts, keys = f["giv_parts"].tolist(), f["giv_key"].tolist()
    kh_keys, kh_words = kh_key.tolist(), kh_parts.tolist()
    # row by row in lists, not through .iat (a few microseconds a cell, thousands of rows)
    for i in np.flatnonzero(both.to_numpy() & (kh_key != f["giv_key"]).to_numpy()).tolist():
        latin = _words(parts[i], keys[i])
        other = [w for w in _words(kh_words[i], kh_keys[i]) if w not in latin]
        if other and latin:
            parts[i] = "|" + "|".join(latin + other) + "|"
            alt[i] = kh_keys[i]
    f["giv_parts"] = pd.Series(parts, index=f.index, dtype=object)
    alt_s = pd.Series(alt, index=f.index, dtype=object)
    f["giv_alt"] = alt_s.astype("string").mask(alt_s == "", pd.NA)


def _latin_text(text: object) -> str:
    """The spelling as written (tidied, spaces out), for the same-spelling level."""
    if not isinstance(text, str) or not text.strip():
        return ""
    latin = romanise(text) if has_khmer(text) else text
    return tidy_latin(latin).replace(" ", "")


def _khmer(text: object) -> str:
    if not isinstance(text, str) or not has_khmer(text):
        return ""
    return tidy_khmer_name(text).replace(" ", "")


def one_syllable(keys: pd.Series) -> pd.Series:
    """1.0 where a phonetic key has a single vowel group (one syllable), 0.0 where more,
    NaN where blank (or missing)."""
    keys = keys.fillna("")
    groups = keys.str.count(r"[AEIOUY]+").astype("float64")
    return groups.eq(1).astype("float64").where(keys != "")


def _blank_to_na(series: pd.Series) -> pd.Series:
    """Text stripped, blank as missing; each distinct value once (codes repeat: a province
    column of a million rows holds 25 values)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    cleaned = pd.Series(uniques, dtype=object).astype("string").str.strip()
    cleaned = cleaned.mask(cleaned == "", pd.NA)
    return pd.Series(cleaned.array.take(codes, allow_fill=True), index=series.index, dtype="string")


def build_frame(records: pd.DataFrame) -> pd.DataFrame:
    """Derive comparison fields from stored records (columns as in RECORD_COLUMNS)."""
    r = records
    f = pd.DataFrame(index=r.index)
    f["record_id"] = r["id"].astype("int64")
    f["source"] = r["source"].astype("string")
    f["delivery"] = r["delivery_sha256"].astype("string")
    _add_name_columns(f, r)
    _add_birth_columns(f, r)
    _add_place_columns(f, r)
    _add_contact_and_return_columns(f, r)
    # the same spellings, kept as text for letter similarity (fam_text is coded for equality)
    f["fam_letters"], f["giv_letters"] = f["fam_text"], f["giv_text"]
    return f.reset_index(drop=True)


# Name columns held as text, a blank one as missing (so comparing two blanks says nothing).
_NAME_COLUMNS = (
    "fam_key",
    "giv_key",
    "fam_skel",
    "giv_skel",
    "fam_consonants",
    "giv_consonants",
    "fam_text",
    "giv_text",
    "fam_kh",
    "giv_kh",
    "father_key",
    "fam_parts",
    "giv_parts",
)


def name_codes(fam_key: pd.Series, giv_key: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """One shared code per distinct name key (blank: none), family and given, over these
    records together: a frame's own codes (frame_cache.py makes them again for the stored
    rows it reads, as they depend on every record of the frame)."""
    codes, _uniques = pd.factorize(pd.concat([fam_key, giv_key], ignore_index=True).replace("", None))
    return codes[: len(fam_key)].astype("float64"), codes[len(fam_key) :].astype("float64")


def _add_name_columns(f: pd.DataFrame, r: pd.DataFrame) -> None:
    """Phonetic keys, word keys, skeletons, shared key codes and spellings of the names.

    A name missing in Latin letters is taken from its Khmer spelling."""
    fam = r["family_name"].where(r["family_name"].notna(), r["family_name_kh"])
    giv = r["given_name"].where(r["given_name"].notna(), r["given_name_kh"])
    f["fam_key"] = _map_unique(fam, _name_key).fillna("").astype(str)
    f["giv_key"] = _map_unique(giv, _name_key).fillna("").astype(str)
    f["fam_parts"] = _map_unique(fam, _part_keys).fillna("").astype(str)
    f["giv_parts"] = _map_unique(giv, _part_keys).fillna("").astype(str)
    _add_other_script_given(f, r)
    # consonant skeletons (Rotana/Ratana), and one shared code per distinct name key
    f["fam_skel"] = f["fam_key"].str.translate(_VOWELS)
    f["giv_skel"] = f["giv_key"].str.translate(_VOWELS)
    # ... and with each word's last vowel kept (Sovann/Sovon alike, Bora/Borey not)
    for part in ("fam", "giv"):  # once per distinct key, not per record
        f[f"{part}_consonants"] = _map_unique(f[f"{part}_key"], lambda k: _VOWEL_BEFORE_CONSONANT.sub("", k))
    f["fam_code"], f["giv_code"] = name_codes(f["fam_key"], f["giv_key"])
    # a name of one syllable (Pov, Touch, Khmao, Mom): house names are, formal given names
    # mostly are not
    f["fam_one_syllable"] = one_syllable(f["fam_key"])
    f["giv_one_syllable"] = one_syllable(f["giv_key"])
    f["fam_text"] = _map_unique(fam, _latin_text).fillna("").astype(str)
    f["giv_text"] = _map_unique(giv, _latin_text).fillna("").astype(str)
    f["fam_kh"] = _map_unique(r["family_name_kh"], _khmer).fillna("").astype(str)
    f["giv_kh"] = _map_unique(r["given_name_kh"], _khmer).fillna("").astype(str)
    f["father_key"] = _map_unique(r["father_name"], _name_key).fillna("").astype(str)
    for col in _NAME_COLUMNS:
        f[col] = f[col].astype("string").mask(f[col] == "", pd.NA)


def _add_birth_columns(f: pd.DataFrame, r: pd.DataFrame) -> None:
    """Birth: exact date when the day is known, else a year (stated or from age at return)."""
    bdate = pd.to_datetime(r["birth_date"], errors="coerce")
    day_known = r["birth_precision"].astype("string").eq("day").fillna(False).to_numpy()
    f["birth_date"] = bdate.where(day_known)
    ref_date = (
        pd.to_datetime(r["return_date"], errors="coerce")
        .fillna(pd.to_datetime(r["intake_date"], errors="coerce"))
        .fillna(pd.to_datetime(r["loaded_at"], errors="coerce"))
    )
    year_from_age = ref_date.dt.year - pd.to_numeric(r["age"], errors="coerce")
    stated = pd.to_numeric(r["birth_year"], errors="coerce")
    f["birth_year"] = stated.fillna(year_from_age).astype("Int64")
    f["birth_from_age"] = stated.isna() & year_from_age.notna()


def _add_place_columns(f: pd.DataFrame, r: pd.DataFrame) -> None:
    """Home place codes, the province before a split, and whether the place is a current address."""
    for col, short in (
        ("province_code", "province"),
        ("district_code", "district"),
        ("commune_code", "commune"),
        ("village_code", "village"),
    ):
        f[short] = _blank_to_na(r[col])
    # the commune a village code lies in (its first six digits), to compare villages within one
    f["village_commune"] = f["village"].str[:6]
    # the province as it was before newer ones were made from it (Tboung Khmum from Kampong
    # Cham): lists still give the old one for a district that moved
    f["province_then"] = _map_unique(f["province"], former_province).astype("string")
    # a case file's place is where he lives now, not the home he left (sources' `address`)
    f["address_now"] = f["source"].isin(current_address_sources()).astype("int8")


def _add_contact_and_return_columns(f: pd.DataFrame, r: pd.DataFrame) -> None:
    """Phone and documents, the return (dates, country, point of entry, batch).

    Needs the place columns: whether the home given is the province he entered by."""
    # a cell may hold two numbers (his own and a relative's), space-separated
    phones = _blank_to_na(r["phone"]).str.split(" ", n=1, expand=True).reindex(columns=[0, 1])
    f["phone"] = phones[0].astype("string")
    f["phone_alt"] = phones[1].astype("string")
    # the digits as one number (+855 dropped), to tell a mistyped number from another man's
    for col in ("phone", "phone_alt"):
        f[f"{col}_number"] = pd.to_numeric(f[col].str.lstrip("+"), errors="coerce").astype("float64")
    f["national_id"] = _blank_to_na(r["national_id"])
    f["travel_doc"] = _blank_to_na(r["travel_doc_no"]).str.upper().str.replace(r"[^0-9A-Z]", "", regex=True)
    f["return_date"] = pd.to_datetime(r["return_date"], errors="coerce")
    f["intake_date"] = pd.to_datetime(r["intake_date"], errors="coerce")
    f["country"] = _blank_to_na(r["country"])
    f["point_of_entry"] = _blank_to_na(r["point_of_entry"])
    # a reception desk may write the province a man crossed into (Poipet's, the airport's) as
    # his home: a province alone that is the one he entered by may be no home of his
    entered = f["point_of_entry"].map(entry_provinces()).astype("string")
    f["home_at_entry"] = ((f["province"] == entered) & f["district"].isna()).fillna(False).astype("int8")
    f["batch"] = _blank_to_na(r["batch_id"])
