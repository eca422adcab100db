"""Dates as Cambodian lists write them, with how precise each one is.

Why precision: "01/01/1990" on a return list usually means "born in 1990", and an age
means "born in one of two years"; matching must not treat those as exact days.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from functools import lru_cache

from linkage.normalise.khmer import khmer_digits_to_ascii

MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
    "មករា": 1,
    "កុម្ភៈ": 2,
    "មីនា": 3,
    "មេសា": 4,
    "ឧសភា": 5,
    "មិថុនា": 6,
    "កក្កដា": 7,
    "សីហា": 8,
    "កញ្ញា": 9,
    "តុលា": 10,
    "វិច្ឆិកា": 11,
    "ធ្នូ": 12,
}
EXCEL_1900 = dt.date(1899, 12, 30)
EXCEL_1904 = dt.date(1904, 1, 1)

# "00:00" that a spreadsheet's export adds, or an ISO timestamp's time, fraction and zone
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?(?:Z|UTC|[+\-]\d{2}(?::?\d{2})?))?)?"
_DMY = re.compile(r"^(\d{1,2})[/\-. ](\d{1,2})[/\-. ](\d{2}|\d{4})" + _TIME + "$")
_YMD = re.compile(r"^(\d{4})[/\-.](\d{1,2})[/\-.](\d{1,2})" + _TIME + "$")
_YEAR = re.compile(r"^(\d{4})$")
# A month name is any run of letters, Khmer vowel signs included (12 មីនា 1985, 12-Mar-1985),
# written after the day or, in English, before it (March 12, 1985).
_MONTH = r"(?:ខែ\s*)?([^\d\s/\-.,]+)"
_NAMED = re.compile(r"^(\d{1,2})[\s\-/]*" + _MONTH + r"\.?[\s\-/,]*(\d{4})$")
_NAMED_FIRST = re.compile(r"^" + _MONTH + r"\.?\s+(\d{1,2}),?\s+(\d{4})$")
_SERIAL = re.compile(r"^(\d{4,5})(?:\.0+)?$")
_COMPACT = re.compile(r"^((?:19|20)\d{2})(\d{2})(\d{2})(?:\.0+)?$")  # 20250312, as typed into a cell
EXCEL_LAST_DAY = 2_958_465  # 31/12/9999, the last day Excel can show
_EXCEL_ERROR = re.compile(r"^#(?:VALUE!|REF!|N/A|DIV/0!|NUM!|NAME\?|NULL!)$")


class DateError(ValueError):
    """A value that is not a date; the message names the problem, never the value."""


@dataclass(frozen=True)
class ParsedDate:
    value: dt.date
    precision: str  # day | year


def excel_serial_to_date(serial: float, epoch_1904: bool = False) -> dt.date:
    """Excel day number to a date, with the 1900 leap-year bug (day 60 = 29 Feb 1900).

    A number typed as YYYYMMDD (20250312) is read as that date: Excel would show it as a
    day past the year 9999, which no list means. Other numbers outside Excel's days are
    refused with a reason, never an overflow.
    """
    if isinstance(serial, float) and not math.isfinite(serial):
        raise DateError("a number that is not a date")
    whole = -1 <= serial <= 99_999_999 and int(serial) == serial  # no str() of a huge number
    if whole and (m := _COMPACT.match(str(int(serial)))):
        return _make(int(m[1]), int(m[2]), int(m[3]))
    if not (0 if epoch_1904 else 1) <= serial <= EXCEL_LAST_DAY:
        raise DateError("a number outside Excel's dates (not a day number, nor YYYYMMDD)")
    days = int(serial)
    if epoch_1904:
        if days > EXCEL_LAST_DAY - 1462:
            raise DateError("a number outside Excel's dates (not a day number, nor YYYYMMDD)")
        return EXCEL_1904 + dt.timedelta(days=days)
    if days == 60:
        raise DateError("Excel day 60 is 29/02/1900, a day that does not exist")
    if days < 60:
        return dt.date(1899, 12, 31) + dt.timedelta(days=days)
    return EXCEL_1900 + dt.timedelta(days=days)


def _year(y: int, two_digit_pivot: int) -> int:
    if y < 100:
        return 2000 + y if y <= two_digit_pivot else 1900 + y
    if y > 2400:  # Buddhist era (Cambodian or Thai): CE = BE - 543
        return y - 543
    return y


def _make(y: int, m: int, d: int) -> dt.date:
    try:
        return dt.date(y, m, d)
    except ValueError as exc:
        raise DateError(f"day {d}, month {m} is not a calendar date") from exc


def _month(name: str) -> int | None:
    """January, Jan, មីនា or ខែមីនា ("month of March")."""
    name = name.removeprefix("ខែ")
    return MONTHS.get(name.lower()[:3]) if name.isascii() else MONTHS.get(name)


@lru_cache(maxsize=100_000)
def parse_date_text(text: str, placeholder_is_year: bool = False, allow_serial: bool = True) -> ParsedDate:
    """Parse one date string. Raises DateError with a reason that holds no personal value."""
    s = khmer_digits_to_ascii(text).strip().rstrip(".")
    pivot = dt.date.today().year % 100
    if m := _DMY.match(s):
        d, mo, y = int(m[1]), int(m[2]), _year(int(m[3]), pivot)
        if mo > 12 and d <= 12:
            raise DateError("month above 12: is the date written MM/DD/YYYY?")
        value = _make(y, mo, d)
        if placeholder_is_year and d == 1 and mo == 1:
            return ParsedDate(value, "year")
        return ParsedDate(value, "day")
    if m := _YMD.match(s):
        y, mo, d = _year(int(m[1]), pivot), int(m[2]), int(m[3])
        value = _make(y, mo, d)
        if placeholder_is_year and d == 1 and mo == 1:
            return ParsedDate(value, "year")
        return ParsedDate(value, "day")
    if m := _YEAR.match(s):
        y = _year(int(m[1]), pivot)
        return ParsedDate(dt.date(y, 1, 1), "year")
    named = _NAMED.match(s)
    if named or (named := _NAMED_FIRST.match(s)):
        day, name, year = (
            (named[1], named[2], named[3]) if named.re is _NAMED else (named[2], named[1], named[3])
        )
        month = _month(name)
        if month is None:
            raise DateError("unknown month name")
        value = _make(_year(int(year), pivot), month, int(day))
        if placeholder_is_year and value.day == 1 and value.month == 1:
            return ParsedDate(value, "year")
        return ParsedDate(value, "day")
    if _EXCEL_ERROR.match(s):
        raise DateError(
            "an Excel error value, not a date (a number in a date cell that Excel cannot show as a date?)"
        )
    if m := _COMPACT.match(s):
        value = _make(int(m[1]), int(m[2]), int(m[3]))
        return ParsedDate(value, "year" if placeholder_is_year and value.day == value.month == 1 else "day")
    if allow_serial and (m := _SERIAL.match(s)) and 366 <= int(m[1]) <= 80000:
        return ParsedDate(excel_serial_to_date(int(m[1])), "day")
    raise DateError("not a date in a known format (DD/MM/YYYY, YYYY-MM-DD, D-M-YYYY, year)")


def parse_date(
    value: object, placeholder_is_year: bool = False, epoch_1904: bool = False
) -> ParsedDate | None:
    """Parse a cell (text, Excel datetime or day number). Blank gives None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        if placeholder_is_year and value.month == 1 and value.day == 1:
            return ParsedDate(value, "year")
        return ParsedDate(value, "day")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return ParsedDate(excel_serial_to_date(value, epoch_1904), "day")
    text = str(value).strip()
    if not text:
        return None
    return parse_date_text(text, placeholder_is_year)
