"""A date written over three columns (day, month, year) read as one date.

Why: paper forms and the sheets typed from them often give a birth or return date three
boxes, ថ្ងៃ ខែ ឆ្នាំ (day, month, year) under one title merged over them, or columns named
"Day of birth", "Month of birth", "Year of birth" (ថ្ងៃកំណើត, ខែកំណើត, ឆ្នាំកំណើត). Read as
columns of their own, the date's column was missing (a list without its return date was
refused) or held the day alone. The parts are joined into the text a date is written in
(12/03/1990, 12 Mar 1990, 03/1990, 1990) and read by the same rules as any date; a part left
blank or wrong makes the row's date fail with its reason, as a bad date does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from linkage.ingest.row_kinds import cell_text

PARTS = ("day", "month", "year")
_PART_WORDS = {
    "day": ("day", "dd", "d", "ថ្ងៃ", "ថ្ងៃទី"),
    "month": ("month", "mm", "m", "mon", "ខែ"),
    "year": ("year", "yyyy", "yy", "y", "yr", "ឆ្នាំ"),
}
_WORD_PART = {w: p for p, words in _PART_WORDS.items() for w in words}
_KHMER_PARTS = sorted(((w, p) for w, p in _WORD_PART.items() if not w.isascii()), key=lambda x: -len(x[0]))
# what names the date beside a part word: birth in "Day of birth", return in "ឆ្នាំត្រឡប់"
_STEMS = {
    "birth_date": ("birth", "born", "dob", "កំណើត"),
    "return_date": ("return", "returned", "arrival", "ត្រឡប់", "ត្រឡប់មកវិញ", "មកវិញ"),
    "intake_date": ("intake",),
    "referral_date": ("referral", "referred", "បញ្ជូន"),
}
_FILLER = {"of", "the", "date", "ថ្ងៃខែឆ្នាំ", "ទី"}


def _tokens(key: str) -> list[str]:
    return [t for t in re.split(r"[\s()\[\]/.,:]+", key) if t]


def part_word(text: str) -> str | None:
    """day, month or year when a header cell is only that word (ថ្ងៃ, Month, YYYY)."""
    tokens = _tokens(str(text or "").strip().lower())
    return _WORD_PART.get(tokens[0]) if len(tokens) == 1 else None


def _field_of(rest: list[str], aliases: dict[str, str]) -> str | None:
    words = [t for t in rest if t not in _FILLER]
    if not words:
        return None
    joined = " ".join(rest)
    if joined in aliases:
        return aliases[joined]
    found = {f for f, stems in _STEMS.items() for w in words for s in stems if w == s or w.endswith(s)}
    return found.pop() if len(found) == 1 else None


def title_field(title: str) -> str | None:
    """The date field a title names by its words (កំណើត birth, ត្រឡប់ return), if one."""
    return _field_of(_tokens(title.lower()), {})


def classify(key: str, aliases: dict[str, str]) -> tuple[str, str] | None:
    """(date field, part) of a header cell (its header_key) such as "day of birth",
    "dob day", "ថ្ងៃខែឆ្នាំកំណើត ថ្ងៃ" or "ឆ្នាំកំណើត"; aliases: the source's names of its
    date fields (header keys) -> field. None when the cell is no part of a date."""
    if key in aliases:
        return None  # the date's own column
    tokens = _tokens(key)
    if not tokens:
        return None
    for at, rest in ((0, tokens[1:]), (-1, tokens[:-1])):
        part = _WORD_PART.get(tokens[at])
        if part and (field := _field_of(rest, aliases)):
            return field, part
    for word, part in _KHMER_PARTS:  # Khmer writes words together: ឆ្នាំកំណើត
        if tokens[0].startswith(word) and len(tokens[0]) > len(word):
            rest = [tokens[0][len(word) :], *tokens[1:]]
            if any(rest[0].startswith(w) for w, _ in _KHMER_PARTS):
                return None  # ថ្ងៃខែឆ្នាំ...: the whole date's title, not one part
            if field := _field_of(rest, aliases):
                return field, part
    return None


def joined(day: Any, month: Any, year: Any) -> Any:
    """The parts as a date is written: 12/03/1990, 12 Mar 1990, 03/1990 or 1990 (a part
    left out is left out, so the date reads as what it still says or fails with a reason)."""
    cells = (day, month, year)
    filled = [c for c in cells if cell_text(c)]
    if not filled:
        return None
    if len(filled) == 1 and isinstance(filled[0], dt.date):
        return filled[0]  # a whole date typed into one of the boxes
    d, m, y = map(cell_text, cells)
    if m and not re.fullmatch(r"[\d\u17e0-\u17e9]+", m):  # a month's name: 12 Mar 1990, Mar 1990
        return " ".join(p for p in (d, m, y) if p)
    if not d and not m:
        return y
    if not d:
        return f"{m}/{y}"
    return f"{d}/{m}/{y}"


def join_date_parts(
    header: list[str],
    rows: list[tuple[int, list[Any]]],
    fields: dict[str, tuple[str, ...]],
    key: Callable[[Any], str],
    date_fields: tuple[str, ...],
) -> tuple[list[str], set[int]]:
    """Date fields written in part columns joined, in place: the first part's column gets
    the date (headed by the field's first name in the mapping) and the other parts' columns
    lose their names (their values are in the date). Returns notes saying which were, and
    the positions of the columns folded into a date."""
    aliases = {key(a): f for f in date_fields for a in fields.get(f, ())}
    mapped = {aliases[k] for h in header if (k := key(h)) in aliases}
    found: dict[str, dict[str, int]] = {}
    for i, h in enumerate(header):
        if h and (c := classify(key(h), aliases)) and c[0] in fields and c[0] not in mapped:
            found.setdefault(c[0], {}).setdefault(c[1], i)
    notes, folded = [], set()
    for field, parts in found.items():
        if "year" not in parts:
            continue  # a day and a month alone are no date
        at = [parts.get(p) for p in PARTS]
        first = min(i for i in at if i is not None)
        for _, cells in rows:
            values = [cells[i] if i is not None and i < len(cells) else None for i in at]
            if first < len(cells):
                cells[first] = joined(*values)
            elif any(cell_text(v) for v in values):
                cells.extend([None] * (first + 1 - len(cells)))
                cells[first] = joined(*values)
        header[first] = fields[field][0]
        for i in at:
            if i is not None and i != first:
                header[i] = ""
                folded.add(i)
        cols = ", ".join(f"{p} column {i + 1}" for p, i in zip(PARTS, at, strict=True) if i is not None)
        notes.append(f"{field} is written in parts ({cols}): read as one date")
    return notes, folded
