"""Write the population as the lists IOM, MoSVY and NGOs send, plus the ground truth."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

from linkage.normalise.name_tables import load_table
from linkage.synth.habits import Habits
from linkage.synth.people import Person, Population, ReturnEvent, random_phone
from linkage.synth.routes import Routes
from linkage.synth.spelling import (
    dob_text,
    khmer_digits,
    khmer_variant,
    latin_variant,
    phone_format,
)

LONG_TERM_ORGS = ["Hagar", "LSCW", "Chab Dai", "MoSVY case management", "DoSVY case management"]
PROVINCE_VARIANTS = {r["code"]: r["variants"] for r in load_table("province_aliases.yaml")}
IOM_HEADER = [
    "iom_case_no",
    "full_name",
    "sex",
    "dob",
    "age_at_return",
    "province_of_origin",
    "district_of_origin",
    "commune_of_origin",
    "village_of_origin",
    "country_of_exploitation",
    "sector",
    "date_of_return",
    "point_of_entry",
    "travel_doc_no",
    "phone",
    "referred_to",
    "referral_date",
    "consent_to_share",
    "batch_id",
]
MOSVY_HEADER = [
    "ល.រ",
    "នាមត្រកូល",
    "នាមខ្លួន",
    "ភេទ",
    "អាយុ",
    "ថ្ងៃខែឆ្នាំកំណើត",
    "ភូមិ",
    "ឃុំ/សង្កាត់",
    "ស្រុក/ខណ្ឌ",
    "ខេត្ត/រាជធានី",
    "ប្រទេស",
    "ថ្ងៃខែឆ្នាំត្រឡប់មកវិញ",
    "ច្រកព្រំដែន",
    "ឈ្មោះឪពុក",
    "អត្តសញ្ញាណប័ណ្ណ",
    "លេខទូរស័ព្ទ",
    "ផ្សេងៗ",
]
NGO_HEADER = [
    "client_id",
    "name_kh",
    "name_en",
    "dob",
    "sex",
    "province",
    "district",
    "commune",
    "village",
    "phone",
    "intake_date",
    "referral_source",
    "case_manager",
    "case_status",
    "services",
    "last_follow_up_date",
    "consent_form_signed",
]


# Old provincial sheets typed in the Limon font: surnames Sok, Heng, Kim, Keo as ASCII codes.
LIMON_EXAMPLES = ["sux", "ehg", "KIm", "Ekv"]


class ExcelSheet:
    """A one-sheet workbook written as Excel writes it: text in a shared-strings table, dates
    as serial numbers with a date format.

    Why not openpyxl, which reads our deliveries: it writes every text cell inline, which
    Excel never does, and inline text reads about twice as slowly, so the MoSVY lists of the
    demo, the tests and the benchmarks would not be what MoSVY sends.
    """

    def __init__(self, path: Path, title: str) -> None:
        import xlsxwriter

        options = {
            "default_date_format": "dd/mm/yyyy",
            "strings_to_formulas": False,  # text is text, as typed into a cell
            "strings_to_urls": False,
        }
        self._book = xlsxwriter.Workbook(str(path), options)
        # a fixed creation time (XlsxWriter also stamps the zip entries with it): the same
        # seed makes the same bytes, so the same file hash and the same persons
        self._book.set_properties({"created": dt.datetime(2020, 1, 1)})
        self._sheet = self._book.add_worksheet(title)
        self._row = 0

    def append(self, values: list[Any]) -> None:
        self._sheet.write_row(self._row, 0, values)
        self._row += 1

    def close(self) -> None:
        self._book.close()


# Names men are called at home (ឈ្មោះហៅក្រៅ): the youngest, small, big, dark, fair...
HOUSE_NAMES = (
    {"kh": "ពៅ", "latin": "POV", "variants": ["PEOU", "POW"]},
    {"kh": "តូច", "latin": "TOUCH", "variants": ["TOCH", "TOUCH"]},
    {"kh": "ធំ", "latin": "THOM", "variants": ["THOM", "TOM"]},
    {"kh": "ខ្មៅ", "latin": "KHMAO", "variants": ["KHMAU", "KMAO"]},
    {"kh": "ស", "latin": "SAR", "variants": ["SA"]},
    {"kh": "ណយ", "latin": "NOY", "variants": ["NOI"]},
)


def _messy_date(rng: random.Random, date: dt.date) -> str:
    """Mostly DD/MM/YYYY; now and then a date no calendar has, as typing errors make."""
    if rng.random() < 0.005:
        return f"31/02/{date.year}"
    return f"{date:%d/%m/%Y}"


def assign_referrals(pop: Population, rng: random.Random, p_referred: float, as_of: dt.date) -> None:
    for p in pop.persons:
        for e in p.events:
            r = rng.random()
            date = e.return_date + dt.timedelta(days=rng.randint(2, 75))
            if date > as_of:
                continue
            if r < p_referred * 0.4:
                e.referred, e.referral_kind, e.referral_date = True, "iom_referral", date
            elif r < p_referred:
                e.referred, e.referral_date = True, date
                e.referral_kind = rng.choice(["ngo_active", "ngo_follow_up", "ngo_closed_referred"])
            elif r < p_referred + 0.1:
                e.partial, e.referral_date = True, date


def _province_text(rng: random.Random, code: str, en: str) -> str:
    if rng.random() < 0.35 and PROVINCE_VARIANTS.get(code):
        return rng.choice(PROVINCE_VARIANTS[code])
    return en


class ListWriter:
    def __init__(
        self, pop: Population, out: Path, seed: int, as_of: dt.date, routes: Routes | None = None
    ) -> None:
        self.pop, self.out, self.as_of = pop, out, as_of
        self.routes = routes or Routes.independent()
        self.habits = pop.habits
        self.rng = random.Random(seed + 1)
        self.truth: list[dict] = []

    def _truth(self, source: str, file: str, rid: str, p: Person, e: ReturnEvent | None) -> None:
        self.truth.append(
            {
                "source": source,
                "file": file,
                "source_record_id": rid,
                "person_id": p.person_id,
                "event_id": e.event_id if e else "",
            }
        )

    # -- IOM ---------------------------------------------------------------------------------
    def iom(self, files: int = 2) -> None:
        rng, cover = self.rng, self.routes.coverage
        rows = [(p, e) for p in self.pop.persons for e in p.events if rng.random() < cover(e.route, "iom")]
        rows.sort(key=lambda pe: pe[1].return_date)
        chunk = max(1, len(rows) // files + 1)
        n = 0
        for f in range(files):
            part = rows[f * chunk : (f + 1) * chunk]
            if not part:
                continue
            name = f"iom_returns_{part[0][1].return_date:%Y%m}_{part[-1][1].return_date:%Y%m}.csv"
            path = self.out / "landing" / "iom" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            bom = rng.random() < 0.5
            with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(IOM_HEADER)
                for p, e in part:
                    n += 1
                    rid = f"KH-IOM-{e.return_date.year}-{n:04d}"
                    fam = latin_variant(rng, p.family)
                    giv = latin_variant(rng, self._given(p))
                    full = f"{giv} {fam}" if rng.random() < 0.7 else f"{fam} {giv}"
                    full = full.upper() if rng.random() < 0.7 else full
                    off = self.habits.age_off_by_one
                    dob, age = dob_text(rng, p.birth_date, e.return_date, off_by_one=off)
                    district, commune, village = self._iom_place(p)
                    referred_to = referral_date = ""
                    if e.referral_kind == "iom_referral":
                        referred_to = rng.choice(LONG_TERM_ORGS)
                        referral_date = f"{e.referral_date:%d/%m/%Y}"
                    w.writerow(
                        [
                            rid,
                            full,
                            rng.choice(["M", "Male", "M"]),
                            dob,
                            age if age or not dob else "",
                            _province_text(rng, p.home.province[0], p.home.province[2]),
                            district,
                            commune,
                            village,
                            e.country[1],
                            e.sector,
                            _messy_date(rng, e.return_date),
                            e.entry[0],
                            p.travel_doc or "",
                            self._iom_phone(p),
                            referred_to,
                            referral_date,
                            rng.choice("YYYN"),
                            e.batch_id,
                        ]
                    )
                    self._truth("iom", name, rid, p, e)

    def _given(self, p: Person) -> dict:
        """The given name this row writes: his own, or (at the house_name rate) the name he
        is called at home, the same one on every list that uses it. No draw at all when the
        rate is 0, so the default lists stay as they were."""
        rate = self.habits.house_name
        if not rate or self.rng.random() >= rate:
            return p.given
        return HOUSE_NAMES[int(p.person_id[1:]) % len(HOUSE_NAMES)]

    def _iom_place(self, p: Person) -> tuple[str, str, str]:
        """District, commune and village as IOM writes them: the district sometimes blank,
        and then the commune or village sometimes still given."""
        rng, h = self.rng, self.habits
        if rng.random() < h.iom_blank_district:
            return (
                "",
                p.home.commune[2] if rng.random() < h.iom_blank_keeps_commune else "",
                p.home.village[2] if rng.random() < h.iom_blank_keeps_village else "",
            )
        return (
            p.home.district[2],
            p.home.commune[2] if rng.random() < 0.7 else "",
            p.home.village[2] if rng.random() < 0.5 else "",
        )

    def _iom_phone(self, p: Person) -> str:
        """The man's phone, often blank, sometimes a relative's number instead."""
        rng = self.rng
        if rng.random() < self.habits.iom_relative_phone:
            return phone_format(rng, random_phone(rng))
        return phone_format(rng, p.phone) if p.phone and rng.random() < 0.8 else ""

    def _mosvy_lag(self) -> int:
        """Days between IOM's reception at the border and the ministry's registration."""
        rng, h = self.rng, self.habits
        if h.mosvy_lag_days and rng.random() < h.mosvy_lag_share:
            return rng.randint(1, h.mosvy_lag_days)
        return 0

    # -- MoSVY ---------------------------------------------------------------------------------
    def mosvy(self, files: int = 2) -> None:
        rng, cover = self.rng, self.routes.coverage
        events = [
            (p, e) for p in self.pop.persons for e in p.events if rng.random() < cover(e.route, "mosvy")
        ]
        rng.shuffle(events)
        chunk = max(1, len(events) // files + 1)
        for f in range(files):
            part = events[f * chunk : (f + 1) * chunk]
            if f > 0:  # a provincial list repeats some men of the national one
                part += rng.sample(events[:chunk], k=min(len(events[:chunk]), len(part) // 7))
            if not part:
                continue
            name = f"mosvy_list_{f + 1}.xlsx"
            path = self.out / "landing" / "mosvy" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            sheet = ExcelSheet(path, "បញ្ជី")
            titles = rng.randint(0, 3)
            for t in range(titles):
                sheet.append(["បញ្ជីឈ្មោះជនរងគ្រោះដែលបានធ្វើមាតុភូមិនិវត្តន៍" if t == 0 else ""])
            sheet.append(MOSVY_HEADER)
            for i, (p, e) in enumerate(part, 1):
                digits = rng.random() < 0.5
                conv = khmer_digits if digits else (lambda s: s)
                ret = e.return_date + dt.timedelta(days=self._mosvy_lag())
                dob, age = dob_text(rng, p.birth_date, ret, off_by_one=self.habits.age_off_by_one)
                nid = p.national_id if p.national_id and rng.random() < 0.7 else ""
                sheet.append(
                    [
                        conv(str(i)),
                        LIMON_EXAMPLES[i % len(LIMON_EXAMPLES)]
                        if rng.random() < 0.01
                        else khmer_variant(rng, p.family["kh"]),
                        khmer_variant(rng, self._given(p)["kh"]),
                        "ប្រុស",
                        conv(age),
                        conv(dob),
                        p.home.village[1] if rng.random() < 0.7 else "",
                        p.home.commune[1],
                        p.home.district[1],
                        ("ខេត្ត" if rng.random() < 0.3 else "") + p.home.province[1],
                        e.country[2],
                        conv(f"{ret:%d/%m/%Y}") if rng.random() < 0.8 else ret,
                        e.entry[1],
                        khmer_variant(rng, p.father_given["kh"]) if rng.random() < 0.6 else "",
                        conv(nid),
                        conv(p.phone) if p.phone and rng.random() < 0.6 else "",
                        "",
                    ]
                )
                self._truth("mosvy", name, str(i), p, e)
            sheet.close()

    # -- NGOs ----------------------------------------------------------------------------------
    def ngos(self, codes: tuple[str, ...] = ("hagar", "lscw")) -> None:
        rng = self.rng
        per_ngo: dict[str, list[tuple[Person, ReturnEvent]]] = {c: [] for c in codes}
        for p in self.pop.persons:
            for e in p.events:
                if (e.referral_kind or "").startswith("ngo") or e.partial:
                    per_ngo[rng.choice(codes)].append((p, e))
        for code, rows in per_ngo.items():
            name = f"{code}_cases_{self.as_of:%Y%m%d}.csv"
            path = self.out / "landing" / f"ngo-{code}" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(NGO_HEADER)
                for i, (p, e) in enumerate(rows, 1):
                    rid = f"{code[:3].upper()}-{i:05d}"
                    status = {
                        "ngo_active": "Active",
                        "ngo_follow_up": "Follow-up",
                        "ngo_closed_referred": "Closed-Referred",
                    }.get(e.referral_kind or "", "Closed")
                    # Khmer writes words together: a space, a zero-width space, or nothing
                    sep = rng.choices([" ", "\u200b", ""], weights=[75, 15, 10])[0]
                    given = self._given(p)
                    kh = khmer_variant(rng, f"{p.family['kh']}{sep}{given['kh']}")
                    en = f"{latin_variant(rng, p.family)} {latin_variant(rng, given)}"
                    r = rng.random()
                    name_kh, name_en = (kh, "") if r < 0.25 else ("", en) if r < 0.45 else (kh, en)
                    dob, _age = dob_text(
                        rng, p.birth_date, e.return_date, style="iso", off_by_one=self.habits.age_off_by_one
                    )
                    follow = e.referral_date + dt.timedelta(days=rng.randint(20, 200))
                    w.writerow(
                        [
                            rid,
                            name_kh,
                            name_en,
                            dob,
                            "M",
                            _province_text(rng, p.home.province[0], p.home.province[2]),
                            p.home.district[2],
                            p.home.commune[2] if rng.random() < 0.6 else "",
                            "",
                            phone_format(rng, p.phone) if p.phone and rng.random() < 0.5 else "",
                            e.referral_date.isoformat(),
                            rng.choice(["IOM", "MoSVY", "police", "self"]),
                            rng.choice(["Srey Mom", "Dara Pich", "Sophea Lim"]),
                            status,
                            ";".join(
                                rng.sample(["medical", "psychosocial", "vocational", "legal", "cash"], 2)
                            ),
                            follow.isoformat() if follow <= self.as_of else "",
                            rng.choice("YYN"),
                        ]
                    )
                    self._truth(f"ngo-{code}", name, rid, p, e)

    def write_truth(self) -> None:
        tdir = self.out / "truth"
        tdir.mkdir(parents=True, exist_ok=True)
        with (tdir / "records.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, ["source", "file", "source_record_id", "person_id", "event_id"])
            w.writeheader()
            w.writerows(self.truth)
        with (tdir / "persons.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["person_id", "household"])
            w.writerows((p.person_id, p.household or p.person_id) for p in self.pop.persons)
        with (tdir / "events.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(
                [
                    "event_id",
                    "person_id",
                    "return_date",
                    "referred",
                    "referral_kind",
                    "referral_date",
                    "partial_assistance",
                    "route",
                    "lists",  # the lists that hold the return; empty: it reached no list
                ]
            )
            held: dict[str, set[str]] = {}
            for t in self.truth:
                held.setdefault(t["event_id"], set()).add(t["source"])
            for p in self.pop.persons:
                for e in p.events:
                    w.writerow(
                        [
                            e.event_id,
                            p.person_id,
                            e.return_date.isoformat(),
                            int(e.referred),
                            e.referral_kind or "",
                            e.referral_date.isoformat() if e.referral_date else "",
                            int(e.partial),
                            e.route,
                            ";".join(sorted(held.get(e.event_id, ()))),
                        ]
                    )


def generate(
    out: Path,
    persons: int,
    seed: int,
    as_of: dt.date | None = None,
    p_referred: float = 0.45,
    habits: Habits | None = None,
    routes: Routes | None = None,
) -> dict[str, int]:
    """Write landing/<source>/ lists and truth/ for a population of `persons` men.

    routes=Routes() draws IOM and MoSVY from how each man came home (dependent lists, more
    returns on no list); the default keeps the old independent shares.
    """
    as_of = as_of or dt.date(2026, 11, 23)
    pop = Population(persons, seed, start=as_of - dt.timedelta(days=3 * 365), end=as_of, habits=habits)
    rng = random.Random(seed + 2)
    assign_referrals(pop, rng, p_referred, as_of)
    routes = routes or Routes.independent()
    routes.assign(pop, seed)
    w = ListWriter(pop, out, seed, as_of, routes)
    w.iom()
    w.mosvy()
    w.ngos()
    w.write_truth()
    return {
        "persons": len(pop.persons),
        "events": sum(len(p.events) for p in pop.persons),
        "records": len(w.truth),
    }
