"""Khmer name tables (surnames, given names) loaded once from linkage/data.

Why tables: romanisation of names is conventional, not phonetic; the spellings lists use
for common names are facts to look up, and their variants define equivalence classes.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@cache
def load_table(name: str) -> Any:
    return yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))


def surnames() -> list[dict[str, Any]]:
    return load_table("surnames.yaml")


def given_names() -> list[dict[str, Any]]:
    return load_table("given_names.yaml")


@cache
def khmer_to_latin_table() -> dict[str, str]:
    """Normalised Khmer spelling -> conventional Latin, for every name in the tables."""
    from linkage.normalise.khmer import normalise_khmer

    table: dict[str, str] = {}
    for row in [*surnames(), *given_names()]:
        table.setdefault(normalise_khmer(row["kh"]), row["latin"])
    return table


@cache
def surname_spellings() -> frozenset[str]:
    """Every Latin spelling of a known surname, upper-cased."""
    names: set[str] = set()
    for row in surnames():
        names.add(row["latin"].upper())
        names.update(v.upper() for v in row["variants"])
    return frozenset(names)


@cache
def given_spellings() -> frozenset[str]:
    names: set[str] = set()
    for row in given_names():
        names.add(row["latin"].upper().replace(" ", ""))
        names.update(v.upper().replace(" ", "") for v in row["variants"])
    return frozenset(names)


@cache
def khmer_surnames() -> frozenset[str]:
    from linkage.normalise.khmer import normalise_khmer

    return frozenset(normalise_khmer(r["kh"]) for r in surnames())


@cache
def khmer_given_names() -> frozenset[str]:
    from linkage.normalise.khmer import normalise_khmer

    return frozenset(normalise_khmer(r["kh"]) for r in given_names())


@cache
def conventional_spelling() -> dict[str, str]:
    """Known spelling of a name (upper-cased, spaces out) -> its conventional romanisation.

    Some variants defeat any phonetic rule (Keov for Keo, Peach for Pich, Som for Sam):
    the tables list them, so they are looked up. A spelling listed for two different names
    (Son: ស៊ុន Sun and សន Sorn; Oum: អ៊ុំ Um and ឱម Om) is left alone, as is anything unlisted.
    """
    seen: dict[str, set[str]] = {}
    for row in [*surnames(), *given_names()]:
        canonical = row["latin"].upper().replace(" ", "")
        for spelling in [row["latin"], *row["variants"]]:
            seen.setdefault(spelling.upper().replace(" ", ""), set()).add(canonical)
    return {s: next(iter(c)) for s, c in seen.items() if len(c) == 1}
