"""Cambodian phone numbers to E.164 (+855...), from every way lists write them."""

from __future__ import annotations

import re
from functools import lru_cache

from linkage.normalise.khmer import khmer_digits_to_ascii

_NOT_DIGIT = re.compile(r"\D")


class PhoneError(ValueError):
    """Not a Cambodian phone number; the message holds no digits of it."""


@lru_cache(maxsize=200_000)
def normalise_phone(text: str) -> str | None:
    """'012 345 678', '+855 12 345 678', '85512345678', '(+855) 12-345-678' -> '+85512345678'."""
    s = khmer_digits_to_ascii(text).strip()
    if not s:
        return None
    if s.endswith(".0") and s[:-2].isdigit():  # a number that went through a spreadsheet
        s = s[:-2]
    digits = _NOT_DIGIT.sub("", s)
    if digits.startswith("00855"):
        digits = digits[5:]
    elif digits.startswith("855") and len(digits) >= 11:
        digits = digits[3:]
    elif digits.startswith("0"):
        digits = digits[1:]
    if not 8 <= len(digits) <= 9 or digits.startswith("0"):
        raise PhoneError(f"a Cambodian number has 8 or 9 digits after 0 or +855; found {len(digits)}")
    return "+855" + digits
