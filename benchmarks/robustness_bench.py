"""Robustness benchmark (not a test): linkage quality when lists carry noise synth never makes.

Why: linkage is judged on lists we never see. Our generator knows the variation it writes;
this adds, one kind at a time, variation it does not (typing slips in Latin names, day and
month swapped or a year off in birth dates, misspelt districts and communes, a digit off
in phones, a character dropped from Khmer names, Khmer full names written as one word,
returns dated a week or two later on the ministry's list) and prints F1 for each, so a
change that only fits the generator shows up as a gap here.

Rows named after a habit of real lists (brothers, blank IOM districts, a ministry that
registers a man days later, ages a year off) generate the lists again with that habit's
rate turned up (linkage/synth/habits.py); `habits_all` turns all of them up at once.

    .venv/bin/python benchmarks/robustness_bench.py --persons 5000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from linkage.ingest.load import Ingestor  # noqa: E402
from linkage.match.evaluate import evaluate_store  # noqa: E402
from linkage.match.linker import link  # noqa: E402
from linkage.settings import load_settings  # noqa: E402
from linkage.store.db import dispose_engines, migrate  # noqa: E402
from linkage.synth.habits import Habits  # noqa: E402
from linkage.synth.writers import generate  # noqa: E402

KINDS = (
    "none",
    "latin_typos",
    "birth_dates",
    "places",
    "phones",
    "khmer_typos",
    "joined_names",
    "return_dates",
)
# Habits of real lists, each turned well above its default rate (the default is row "none").
HABITS: dict[str, dict] = {
    "brothers": {"brother_rate": 0.25, "brother_shares_phone": 0.7, "brother_same_batch": 0.8},
    "blank_districts": {"iom_blank_district": 0.45, "iom_blank_keeps_commune": 0.5},
    "relatives_phones": {"iom_relative_phone": 0.5},
    "agency_lag": {"mosvy_lag_share": 0.8, "mosvy_lag_days": 21},
    "age_years": {"age_off_by_one": 0.8},
    "house_names": {"house_name": 0.1},
}
HABITS["habits_all"] = {k: v for rates in HABITS.values() for k, v in rates.items()}
VOWEL_SWAP = {"a": "e", "e": "a", "o": "u", "u": "o", "i": "y", "y": "i"}


class Noise:
    """The noise of one kind, drawn from its own seeded generator."""

    def __init__(self, kinds: set[str], seed: int) -> None:
        self.kinds, self.rng = kinds, random.Random(seed)

    def _slip(self, word: str) -> str:
        """Two letters swapped, a vowel changed or a letter dropped."""
        rng = self.rng
        if len(word) < 4:
            return word
        i = rng.randrange(1, len(word) - 1)
        kind = rng.random()
        if kind < 0.33 and i + 1 < len(word):
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        vowels = [k for k, c in enumerate(word) if c.lower() in VOWEL_SWAP and k > 0]
        if kind < 0.66 and vowels:
            k = rng.choice(vowels)
            swap = VOWEL_SWAP[word[k].lower()]
            return word[:k] + (swap.upper() if word[k].isupper() else swap) + word[k + 1 :]
        return word[:i] + word[i + 1 :]

    def latin_name(self, text: str) -> str:
        if "latin_typos" not in self.kinds or not text or self.rng.random() > 0.10:
            return text
        words = text.split()
        k = self.rng.randrange(len(words))
        words[k] = self._slip(words[k])
        return " ".join(words)

    def place(self, text: str) -> str:
        if "places" not in self.kinds or not text or self.rng.random() > 0.25:
            return text
        r = self.rng.random()
        if r < 0.25:
            return text.lower()
        if r < 0.5:
            return text.replace(" ", "")
        if r < 0.75:
            return self._slip(text)
        return f"{text} District" if r < 0.9 else f"Srok {text}"

    def birth_date(self, text: str, iso: bool) -> str:
        if "birth_dates" not in self.kinds or not text or self.rng.random() > 0.08:
            return text
        try:
            d = dt.date.fromisoformat(text) if iso else dt.datetime.strptime(text, "%d/%m/%Y").date()
            if self.rng.random() < 0.5 and d.day <= 12 and d.day != d.month:
                d = dt.date(d.year, d.day, d.month)
            else:
                d = d.replace(year=d.year + self.rng.choice([-1, 1]))
        except ValueError:
            return text
        return d.isoformat() if iso else f"{d:%d/%m/%Y}"

    def phone(self, text: str) -> str:
        if "phones" not in self.kinds or not text or self.rng.random() > 0.08:
            return text
        digits = [k for k, c in enumerate(text) if c.isdigit()][-6:]
        k = self.rng.choice(digits)
        return text[:k] + str((int(text[k]) + self.rng.randint(1, 9)) % 10) + text[k + 1 :]

    def khmer(self, text: object) -> object:
        if not isinstance(text, str) or "khmer_typos" not in self.kinds or len(text) < 3:
            return text
        if self.rng.random() > 0.06:
            return text
        i = self.rng.randrange(1, len(text))
        return text[:i] + text[i + 1 :]

    def khmer_full(self, text: str) -> str:
        text = str(self.khmer(text))
        if "joined_names" not in self.kinds or " " not in text or self.rng.random() > 0.4:
            return text
        return text.replace(" ", "\u200b" if self.rng.random() < 0.5 else "", 1)

    def return_date(self, value: object) -> object:
        if "return_dates" not in self.kinds or not isinstance(value, dt.datetime):
            return value
        return value + dt.timedelta(days=self.rng.randint(4, 14)) if self.rng.random() < 0.1 else value


def _csv(src: Path, dst: Path, noise: Noise) -> None:
    with src.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    col = {h: i for i, h in enumerate(header)}
    edits: list[tuple[str, Callable[[str], str]]] = [
        ("full_name", noise.latin_name),
        ("name_en", noise.latin_name),
        ("name_kh", noise.khmer_full),
        ("district_of_origin", noise.place),
        ("commune_of_origin", noise.place),
        ("district", noise.place),
        ("commune", noise.place),
        ("phone", noise.phone),
    ]
    for row in rows[1:]:
        for name, edit in edits:
            if name in col:
                row[col[name]] = edit(row[col[name]])
        if "dob" in col:
            row[col["dob"]] = noise.birth_date(row[col["dob"]], iso="-" in row[col["dob"]])
    dst.parent.mkdir(parents=True, exist_ok=True)
    with dst.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


def _xlsx(src: Path, dst: Path, noise: Noise) -> None:
    """MoSVY sheets: Khmer names and father, birth date, phone, return date (by position)."""
    wb = openpyxl.load_workbook(src)
    ws = wb.active
    for row in ws.iter_rows():
        if len(row) < 16 or row[1].value is None or row[0].value == "ល.រ":
            continue
        for k in (1, 2, 13):
            row[k].value = noise.khmer(row[k].value)
        if isinstance(row[5].value, str) and row[5].value.isascii() and "/" in row[5].value:
            row[5].value = noise.birth_date(row[5].value, iso=False)
        if isinstance(row[15].value, str) and row[15].value.isascii():
            row[15].value = noise.phone(row[15].value)
        row[11].value = noise.return_date(row[11].value)
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)


def noisy_copy(src: Path, dst: Path, kinds: set[str], seed: int) -> None:
    shutil.copytree(src / "truth", dst / "truth")
    noise = Noise(kinds, seed)
    for f in sorted((src / "landing").rglob("*.*")):
        (_xlsx if f.suffix == ".xlsx" else _csv)(f, dst / f.relative_to(src), noise)


def score(data: Path, home: Path) -> tuple[float, float, float, float]:
    settings = load_settings(home=home, db_url="")
    migrate(settings)
    with Ingestor(settings) as ingestor:
        for f in sorted((data / "landing").rglob("*.*")):
            ingestor.ingest_path(f)
    link(settings)
    persons, _events = evaluate_store(settings, data / "truth")
    dispose_engines()
    return persons.precision, persons.recall, persons.f1, persons.blocking_recall or 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--kinds", default=",".join([*KINDS[1:], "all", *HABITS]))
    args = ap.parse_args()
    unknown = set(args.kinds.split(",")) - {*KINDS, "all", *HABITS}
    if unknown:
        ap.error(f"unknown kind(s): {', '.join(sorted(unknown))}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root / "clean", args.persons, args.seed)
        for kind in dict.fromkeys(["none", *args.kinds.split(",")]):  # "none" once, first
            t = time.perf_counter()
            kinds = set(KINDS) if kind == "all" else {kind}
            data = root / "clean" if kind == "none" else root / kind
            if kind in HABITS:
                generate(data, args.persons, args.seed, habits=Habits().scaled(**HABITS[kind]))
            elif kind != "none":
                noisy_copy(root / "clean", data, kinds, args.seed)
            p, r, f1, br = score(data, root / f"home-{kind}")
            rows.append((kind, p, r, f1, br))
            took = time.perf_counter() - t
            print(f"{kind:14s} P {p:.4f} R {r:.4f} F1 {f1:.4f} blocking {br:.4f} ({took:.0f} s)")
    print("\n| noise | precision | recall | F1 | blocking recall |\n|---|---|---|---|---|")
    for kind, p, r, f1, br in rows:
        print(f"| {kind} | {p:.4f} | {r:.4f} | {f1:.4f} | {br:.4f} |")


if __name__ == "__main__":
    main()
