"""Khmer and English words of the weekly report, from one hand-written glossary.

Why a file and not strings in code: a Khmer reader checks every label, reason, band and
definition in one place (`linkage/data/glossary.yaml`), and nothing is machine-translated
when a report is built. A key missing from the glossary is an error, not an English-only cell.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

GLOSSARY_PATH = Path(__file__).resolve().parent.parent / "data" / "glossary.yaml"
KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")


@dataclass(frozen=True)
class Term:
    """One entry: the same words in Khmer and in English."""

    km: str
    en: str

    def both(self, sep: str = "\n") -> str:
        return f"{self.km}{sep}{self.en}"


@cache
def glossary() -> dict[str, Term]:
    raw = yaml.safe_load(GLOSSARY_PATH.read_text(encoding="utf-8"))
    return {str(k): Term(str(v["km"]), str(v["en"])) for k, v in raw.items()}


def _shown(value: Any, khmer: bool) -> str:
    """Numbers and dates take Khmer digits in Khmer text; ids and names stay as written."""
    if isinstance(value, dt.date):
        text = f"{value:%d/%m/%Y}"
    elif isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    else:
        return str(value)
    return text.translate(KHMER_DIGITS) if khmer else text


def term(key: str, **values: Any) -> Term:
    """The glossary entry `key`, with {placeholders} filled in (KeyError if it is missing)."""
    t = glossary()[key]
    if not values:
        return t
    return Term(
        t.km.format(**{k: _shown(v, True) for k, v in values.items()}),
        t.en.format(**{k: _shown(v, False) for k, v in values.items()}),
    )


def both(key: str, sep: str = "\n", **values: Any) -> str:
    return term(key, **values).both(sep)


def has(key: str) -> bool:
    return key in glossary()
