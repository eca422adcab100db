"""Cambodian phone numbers to E.164 (+855...), from every way lists write them."""

from __future__ import annotations

import re
from functools import lru_cache

from linkage.normalise.khmer import khmer_digits_to_ascii

_NOT_DIGIT = re.compile(r"\D")
# Between two numbers in one cell: a slash, comma, semicolon, bar, ampersand, a line break,
# "or"/"and" in English or Khmer (ឬ, និង). Not a hyphen or a space: those sit inside numbers.
_BETWEEN_NUMBERS = re.compile(r"\s*(?:[/,;|&\n\r]|\bor\b|\band\b|ឬ|និង)\s*", re.IGNORECASE)
# An office line's extension after the number: '012 555 000 ext 12', 'ext. 3', 'x 45',
# '(ext 7)', 'លេខបន្ត ១២'. Its digits ran into the number (012555001 ext. 3 was stored as
# +855125550013, another man's line) or made it too long to keep: the number is kept
# without it (the cell as sent stays in the record's raw values).
_EXTENSION = re.compile(
    r"\s*[(\[]?\s*(?:ext(?:ension|n)?|x|(?:លេខ\s*)?បន្ត)\s*\.?\s*[:#]?\s*\d{1,5}\s*[)\]]?\s*$",
    re.IGNORECASE,
)
MAX_PHONES = 2  # the numbers of a cell we keep: his own and a relative's


class PhoneError(ValueError):
    """Not a Cambodian phone number; the message holds no digits of it."""


@lru_cache(maxsize=200_000)
def normalise_phone(text: str) -> str | None:
    """'012 345 678', '+855 12 345 678', '85512345678', '(+855) 12-345-678', '+855 (0)12 345 678'
    -> '+85512345678'."""
    s = khmer_digits_to_ascii(text).strip()
    if not s:
        return None
    without = _EXTENSION.sub("", s)
    if any(c.isdigit() for c in without):
        s = without
    if s.endswith(".0") and s[:-2].isdigit():  # a number that went through a spreadsheet
        s = s[:-2]
    digits = _NOT_DIGIT.sub("", s)
    if digits.startswith("00855"):
        digits = digits[5:]
    elif digits.startswith("855") and len(digits) >= 11:
        digits = digits[3:]
    # the trunk 0: a local number's, or written after the country code as well, as lists and
    # business cards do ('+855 (0)12 345 678', '(+855) 097 123 4567'); one, never two
    if digits.startswith("0"):
        digits = digits[1:]
    if not 8 <= len(digits) <= 9 or digits.startswith("0"):
        raise PhoneError(f"a Cambodian number has 8 or 9 digits after 0 or +855; found {len(digits)}")
    return "+855" + digits


def split_phones(text: str) -> list[str]:
    """A cell's numbers, apart: '012 345 678 / 097 123 4567' -> two texts.

    Why: people here keep two SIMs and lists write a relative's number beside his own, in
    one cell; read as one number the digits are too many and both were lost. A cell of
    ten or more digit groups with no separator (two numbers run together with spaces) is
    not split: the digit count alone cannot say where the first ends.
    """
    parts = [p for p in _BETWEEN_NUMBERS.split(khmer_digits_to_ascii(text)) if p and p.strip()]
    return parts or [text]


def normalise_phones(text: str) -> tuple[list[str], int]:
    """Every Cambodian number in a cell, E.164, distinct, in order (at most MAX_PHONES), and
    how many parts of the cell were not a number."""
    found: list[str] = []
    bad = 0
    for part in split_phones(text):
        try:
            number = normalise_phone(part)
        except PhoneError:
            bad += 1
            continue
        if number and number not in found:
            found.append(number)
    return found[:MAX_PHONES], bad
