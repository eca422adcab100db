"""The true population behind the lists: families, men, and their returns in batches.

Why: the errors that matter come from how men are related, not from how rows are typed.
Brothers share a family name, a father, a village and often a phone and a boat; twins share
a birth date too; namesakes share a common name, a district and an age; some men are
trafficked again and come home twice. The lists (lists.py) only write what happened here.
"""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from indep.name_data import KH_MALE_GIVEN, KH_SURNAMES
from indep.places import Home, neighbour_home, random_home

START = dt.date(2015, 1, 1)
END = dt.date(2025, 6, 30)

# country code -> (weight, points of entry as lists write them, sectors)
COUNTRIES = {
    "TH": (45, ["Poipet", "O'Smach", "Cham Yeam", "Daung", "Poipet International Border Checkpoint"],
           ["fishing", "agriculture", "construction", "factory"]),
    "ID": (18, ["Phnom Penh Airport", "Pochentong", "PNH"], ["fishing"]),
    "MY": (15, ["Phnom Penh Airport", "Pochentong", "Phnom Penh International Airport"],
           ["fishing", "construction", "factory", "agriculture"]),
    "MM": (6, ["Phnom Penh Airport", "Poipet"], ["scam compound"]),
    "LA": (4, ["Trapeang Kriel", "Phnom Penh Airport"], ["scam compound", "construction"]),
    "SA": (3, ["Phnom Penh Airport"], ["construction", "domestic work"]),
    "FJ": (2, ["Phnom Penh Airport"], ["fishing"]),
    "ZA": (2, ["Phnom Penh Airport"], ["fishing"]),
    "MU": (1, ["Phnom Penh Airport"], ["fishing"]),
    "SN": (1, ["Phnom Penh Airport"], ["fishing"]),
    "KR": (3, ["Phnom Penh Airport"], ["agriculture", "factory"]),
}

# Names men are called by at home (Khmer, Latin): what a list may write instead of the given name.
NICKNAMES = [("ពៅ", "Pov"), ("តូច", "Touch"), ("ធំ", "Thom"), ("ខ្មៅ", "Khmao"), ("មុំ", "Mom"),
             ("ណុប", "Nop"), ("ហួត", "Huot"), ("ប៊ុន", "Bun"), ("សាន", "San"), ("ជុំ", "Chum")]


@dataclass
class Name:
    """A name as one entry of the research tables: Khmer, usual Latin, known variants."""

    kh: str
    latin: str
    variants: tuple[str, ...]

    @property
    def syllables(self) -> list[str]:
        """The parts of a compound name, from a variant that writes it split (Chan Thou)."""
        for v in self.variants:
            if " " in v:
                return v.split()
        return [self.latin]


SURNAMES = [Name(kh, lat, tuple(v)) for kh, lat, v, _w in KH_SURNAMES]
SURNAME_WEIGHTS = [w for *_rest, w in KH_SURNAMES]
GIVEN = [Name(kh, lat, tuple(v)) for kh, lat, v in KH_MALE_GIVEN]
# Given names are not equally common either: a gentle Zipf curve over the table's order.
GIVEN_WEIGHTS = [1.0 / (rank + 1) ** 0.7 for rank in range(len(GIVEN))]
# A father's given name may be any man's name, surnames included (surnames were given names).
FATHER_GIVEN = GIVEN + SURNAMES


@dataclass
class Person:
    pid: str
    family_id: str
    family: Name
    given: Name
    birth: dt.date
    home: Home
    father_family: Name
    father_given: Name
    family_phone: str
    own_phone: str | None
    national_id: str | None
    second_given: Name | None = None
    nickname: tuple[str, str] | None = None
    twin_of: str | None = None
    namesake_of: str | None = None
    episodes: list[Episode] = field(default_factory=list)


@dataclass
class Batch:
    bid: str
    date: dt.date
    country: str
    point_of_entry: str
    sector: str
    group: bool  # a flight or group return with a batch id, or a man who came home alone


@dataclass
class Episode:
    eid: str
    person: Person
    batch: Batch
    travel_doc: str | None


@dataclass
class Population:
    persons: list[Person]
    batches: list[Batch]
    episodes: list[Episode]


def phone_number(rng: random.Random) -> str:
    """A Cambodian mobile number, national form with its 0 (9 or 10 digits)."""
    from indep.name_data import KH_MOBILE_PREFIXES

    prefix = rng.choice(sorted(KH_MOBILE_PREFIXES))
    _carrier, length = KH_MOBILE_PREFIXES[prefix]
    return prefix + "".join(str(rng.randrange(10)) for _ in range(length - 3))


def _random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def _batch_size(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.35:
        return 1
    if r < 0.75:
        return rng.randint(2, 12)
    if r < 0.96:
        return rng.randint(13, 45)
    return rng.randint(46, 220)


def _new_batch(rng: random.Random, n: int, date: dt.date | None = None) -> Batch:
    countries = list(COUNTRIES)
    country = rng.choices(countries, [COUNTRIES[c][0] for c in countries])[0]
    _w, entries, sectors = COUNTRIES[country]
    return Batch(f"B{n:05d}", date or _random_date(rng, START, END), country, rng.choice(entries),
                 rng.choice(sectors), group=True)


def _brother_given(rng: random.Random, taken: list[Name], similar: bool) -> Name:
    """A brother's given name: never his brother's, and often sharing its first syllable."""
    pool = [g for g in GIVEN if g not in taken]
    if similar and taken:
        head = taken[0].latin[:3].lower()
        alike = [g for g in pool if g.latin.lower().startswith(head)]
        if alike:
            return rng.choice(alike)
    weights = [w for g, w in zip(GIVEN, GIVEN_WEIGHTS, strict=True) if g not in taken]
    return rng.choices(pool, weights)[0]


def generate_population(n_persons: int, rates: dict[str, float], rng: random.Random) -> Population:  # noqa: C901 (one random stream: a split must keep every draw in order)
    """Families filled into return batches until n_persons men exist; some return again."""
    persons: list[Person] = []
    batches: list[Batch] = []
    episodes: list[Episode] = []
    later: list[tuple[Person, dt.date | None]] = []  # (man, date near which he returns) or again
    n_family = 0

    def add_episode(p: Person, b: Batch) -> None:
        doc = None
        if rng.random() < rates["travel_doc"]:
            doc = (rng.choice("NT") + f"{rng.randrange(10**7):07d}") if rng.random() < 0.7 else (
                f"TD{rng.randrange(10**6):06d}")
        e = Episode(f"E{len(episodes) + 1:06d}", p, b, doc)
        episodes.append(e)
        p.episodes.append(e)

    def new_person(family_id: str, fam: Name, given: Name, birth: dt.date, home: Home,
                   father: tuple[Name, Name], family_phone: str) -> Person:
        p = Person(
            pid=f"P{len(persons) + 1:06d}", family_id=family_id, family=fam, given=given, birth=birth,
            home=home, father_family=father[0], father_given=father[1], family_phone=family_phone,
            own_phone=phone_number(rng) if rng.random() < rates["own_phone"] else None,
            national_id=f"{rng.randrange(10**8, 10**9)}" if rng.random() < rates["national_id"] else None,
        )
        if rng.random() < rates["second_given"]:
            p.second_given = rng.choice([g for g in GIVEN if g is not given])
        if rng.random() < rates["nickname"]:
            syl = given.syllables
            p.nickname = (given.kh, syl[-1]) if len(syl) > 1 and rng.random() < 0.5 else rng.choice(NICKNAMES)
        persons.append(p)
        return p

    while len(persons) < n_persons:
        batch = _new_batch(rng, len(batches) + 1)
        size = _batch_size(rng)
        batch.group = size > 1
        batches.append(batch)
        anchor = random_home(rng)
        members = 0
        while members < size and len(persons) < n_persons:
            n_family += 1
            fid = f"F{n_family:06d}"
            near = rng.random() < rates["batch_same_district"]
            home = neighbour_home(anchor, rng) if near else random_home(rng)
            fam = SURNAMES[rng.choices(range(len(SURNAMES)), SURNAME_WEIGHTS)[0]]
            if rng.random() < rates["patronymic"]:
                # the son's surname is his father's given name
                father = (rng.choices(SURNAMES, SURNAME_WEIGHTS)[0], fam)
            else:
                father = (fam, rng.choice(FATHER_GIVEN))
            family_phone = phone_number(rng)
            n_sons = 1
            twins = rng.random() < rates["twins"]
            if twins:
                n_sons = 2 + (rng.random() < 0.3)
            elif rng.random() < rates["brothers"]:
                n_sons = 2 + (rng.random() < 0.2)
            age = rng.choices(range(16, 51), [max(1.0, 30 - abs(a - 26)) for a in range(16, 51)])[0]
            first_birth = batch.date - dt.timedelta(days=365 * age + rng.randrange(365))
            sons: list[Person] = []
            takens: list[Name] = []
            for k in range(n_sons):
                if k == 0 or twins and k == 1:
                    birth = first_birth
                else:
                    gap = 365 * rng.randint(2, 7) + rng.randrange(-60, 60)
                    birth = sons[-1].birth + dt.timedelta(days=gap)
                if k > 0 and birth > batch.date - dt.timedelta(days=365 * 15):
                    break  # a younger brother too young to have gone
                similar = rng.random() < (0.6 if twins else 0.35)
                given = _brother_given(rng, takens, similar) if k else rng.choices(GIVEN, GIVEN_WEIGHTS)[0]
                takens.append(given)
                p = new_person(fid, fam, given, birth, home, father, family_phone)
                if twins and k == 1:
                    p.twin_of = sons[0].pid
                sons.append(p)
            for k, p in enumerate(sons):
                if k == 0 or rng.random() < rates["brothers_same_batch"]:
                    add_episode(p, batch)
                    members += 1
                else:
                    later.append((p, batch.date))
            # A namesake: another family's son with the same common name, district and age.
            if rng.random() < rates["namesakes"] and len(persons) < n_persons:
                src = sons[0]
                n_family += 1
                other_home = neighbour_home(src.home, rng)
                twin_name = new_person(
                    f"F{n_family:06d}", src.family, src.given,
                    src.birth + dt.timedelta(days=rng.randrange(-400, 400)), other_home,
                    (rng.choices(SURNAMES, SURNAME_WEIGHTS)[0], rng.choice(FATHER_GIVEN)), phone_number(rng),
                )
                twin_name.namesake_of = src.pid
                if rng.random() < 0.4:
                    add_episode(twin_name, batch)
                    members += 1
                else:
                    later.append((twin_name, batch.date))

    # Men trafficked again: a second return (a few a third) one to five years after the last.
    for p in list(persons):
        if p.episodes and rng.random() < rates["retrafficked"]:
            later.append((p, None))
            if rng.random() < 0.15:
                later.append((p, None))
    by_date = sorted(batches, key=lambda b: b.date)
    dates = [b.date for b in by_date]  # for bisect: a scan of every batch per man was quadratic
    for p, ref in later:
        if ref is not None:  # a brother or namesake who came home in another batch, near in time
            lo = max(START, p.birth + dt.timedelta(days=365 * 16), ref - dt.timedelta(days=730))
            hi = min(END, ref + dt.timedelta(days=1095))
        else:
            if not p.episodes:
                continue
            last = max(e.batch.date for e in p.episodes)
            lo = last + dt.timedelta(days=rng.randint(365, 5 * 365))
            hi = min(END, lo + dt.timedelta(days=400))
        if lo > hi:
            continue
        fitting = [b for b in by_date[bisect_left(dates, lo) : bisect_right(dates, hi)] if b.group]
        if fitting and rng.random() < 0.7:
            b = rng.choice(fitting)
        else:
            b = _new_batch(rng, len(batches) + 1, _random_date(rng, lo, hi))
            b.group = False
            batches.append(b)
        add_episode(p, b)
    persons = [p for p in persons if p.episodes]
    return Population(persons, batches, episodes)
