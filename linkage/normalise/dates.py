"""Dates as Cambodian lists write them, with how precise each one is.

Why precision: "01/01/1990" on a return list usually means "born in 1990", and an age
means "born in one of two years"; matching must not treat those as exact days.
"""

from __future__ import annotations

import contextlib
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
# Whole names looked up before the three-letter English prefix: French (the language of older
# forms and of some NGOs' systems, "12 février 1990", "juin" and "juillet" share "jui").
FULL_MONTHS = {
    "janvier": 1,
    "fevrier": 2,
    "février": 2,
    "fév": 2,
    "fev": 2,
    "mars": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "août": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
    "décembre": 12,
    "déc": 12,
}
# The Khmer lunar months (and the two leap months): a date in them is not a solar date, and
# converting needs the lunar calendar of its year; the row is refused with that reason.
LUNAR_MONTHS = frozenset(
    ("មិគសិរ", "បុស្ស", "មាឃ", "ផល្គុន", "ចេត្រ", "ពិសាខ", "ជេស្ឋ", "អាសាឍ", "ស្រាពណ៍", "ភទ្របទ")
    + ("អស្សុជ", "កក្ដិក", "កត្តិក", "បឋមាសាឍ", "ទុតិយាសាឍ")
)
EXCEL_1900 = dt.date(1899, 12, 30)
EXCEL_1904 = dt.date(1904, 1, 1)

# "00:00" that a spreadsheet's export adds, or an ISO timestamp's time, fraction and zone
_TIME = (
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s?(?:[AaPp]\.?[Mm]\.?)?"
    r"(?:\s?(?:Z|UTC|GMT|[+\-]\d{2}(?::?\d{2})?))?)?"
)
_DMY = re.compile(r"^(\d{1,2})[/\-. ](\d{1,2})[/\-. ](\d{2}|\d{4})" + _TIME + "$")
_YMD = re.compile(r"^(\d{4})[/\-.](\d{1,2})[/\-.](\d{1,2})" + _TIME + "$")
_YEAR = re.compile(r"^(\d{4})$")
# A month name is any run of letters, Khmer vowel signs included (12 មីនា 1985, 12-Mar-1985),
# written after the day or, in English, before it (March 12, 1985).
_MONTH = r"(?:ខែ\s*)?([^\d\s/\-.,]+)"
# The year in two digits too (12-Mar-90: Excel's "dd-mmm-yy" and Oracle's default).
_NAMED = re.compile(r"^(\d{1,2})[\s\-/]*" + _MONTH + r"\.?[\s\-/,]*(\d{4}|\d{2})" + _TIME + "$")
_NAMED_FIRST = re.compile(r"^" + _MONTH + r"\.?[\s\-]+(\d{1,2}),?[\s\-]+(\d{4}|\d{2})" + _TIME + "$")
# A month and a year without the day: 03/1990, 1990-03, March 1990, Mar-90, ខែមីនា ១៩៩០.
_MONTH_YEAR = re.compile(r"^(\d{1,2})[/\-. ](\d{4})$")
_YEAR_MONTH = re.compile(r"^(\d{4})[/\-.](\d{1,2})$")
_NAMED_MONTH_YEAR = re.compile(r"^" + _MONTH + r"\.?[\s\-/,]+(\d{4}|\d{2})$")
# numbers that are years, not Excel day numbers: 1900-2100 and Buddhist-era 2443-2643
_YEAR_NUMBERS = (1900, 2643)
_YEAR_FLOAT = re.compile(r"^(\d{4})\.0+$")  # 1990.0: a year a spreadsheet wrote as a number
# What surrounds a date written out: Khmer "ថ្ងៃទី១២ ខែមីនា ឆ្នាំ១៩៩០" (day, month, year) with a
# weekday (ថ្ងៃច័ន្ទ) or an era (ព.ស. Buddhist, គ.ស. common); English weekdays and ordinals.
_KH_WEEKDAY = r"(?:អាទិត្យ|ច័ន្ទ|អង្គារ|ពុធ|ព្រហស្បតិ៍|សុក្រ|សៅរ៍)"
_KH_WORDS = re.compile(r"ថ្ងៃ\s*" + _KH_WEEKDAY + r"|ថ្ងៃទី|ថ្ងៃ|ទី(?=\s*\d)|ឆ្នាំ|ខែ(?=\s*\d)")
_KH_BE = re.compile(r"ព\s*\.\s*ស\s*\.?|ពុទ្ធសករាជ|พ\s*\.\s*ศ\s*\.?")
_KH_CE = re.compile(r"គ\s*\.\s*ស\s*\.?|គ្រិស្តសករាជ")
_WEEKDAY = re.compile(
    r"^(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|urday|sday)?\.?,?\s+", re.IGNORECASE
)
_ORDINAL = re.compile(r"(?<=\d)(?:st|nd|rd|th)\b", re.IGNORECASE)
# an Excel day number written out as text: 45449, 45449.0, or with the time of day a
# date-time cell carries (45449.5, noon); a fraction only after five digits (a day since
# 1927), so that 1990.5 is never read as a day of 1905
_SERIAL = re.compile(r"^(\d{4,5})(?:\.0+)?$|^(\d{5})\.\d{1,12}$")
_COMPACT = re.compile(r"^((?:19|20)\d{2})(\d{2})(\d{2})(?:\.0+)?$")  # 20250312, as typed into a cell
EXCEL_LAST_DAY = 2_958_465  # 31/12/9999, the last day Excel can show
_EXCEL_ERROR = re.compile(r"^#(?:VALUE!|REF!|N/A|DIV/0!|NUM!|NAME\?|NULL!)$")


class DateError(ValueError):
    """A value that is not a date; the message names the problem, never the value."""


class DayZero(DateError):
    """Excel's day 0 (00/01/1900): what a formula that copies an empty cell saves. Why its
    own kind: in an optional date it is a blank, not a bad date (the row need not wait)."""


DAY_ZERO_WHY = (
    "Excel's day 0 (shown 00/01/1900 or 0:00: a time of day with no date, as a formula that reads "
    "an empty cell gives)"
)
# Excel's day 0 as a CSV or a text cell shows it: 00/01/1900 (day first), 1/0/1900 (month
# first), 1900-01-00, 0-Jan-1900, with or without its time; a lone 0 or 0:00
_DAY_ZERO_TEXT = re.compile(
    r"^(?:0{1,2}[/.\-]0?1[/.\-](?:1900|00)|0?1[/.\-]0{1,2}[/.\-](?:1900|00)|1900[/.\-]0?1[/.\-]0{1,2}"
    r"|0{1,2}[\s\-/]*jan(?:uary)?[\s\-/,]*(?:1900|00))(?:[ T]0{1,2}:00(?::00)?(?:\s?[ap]m)?)?$"
    r"|^0(?:\.0+)?$|^0{1,2}:00(?::00)?(?:\s?[ap]m)?$|^12:00(?::00)?\s?am$",
    re.IGNORECASE,
)


def is_day_zero(value: object) -> bool:
    """A cell that is Excel's day 0: a time alone, a day-0 datetime (openpyxl's 30/12/1899,
    xlrd's 31/12/1899), the number 0, or its text as Excel shows it."""
    if isinstance(value, dt.time):
        return True
    if isinstance(value, dt.datetime | dt.date):
        d = value.date() if isinstance(value, dt.datetime) else value
        return d in (dt.date(1899, 12, 30), dt.date(1899, 12, 31))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value == 0
    return isinstance(value, str) and bool(_DAY_ZERO_TEXT.match(khmer_digits_to_ascii(value).strip()))


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


def _year(y: int, two_digit_pivot: int, month: int | None = None, day: int = 1, khmer: bool = False) -> int:
    """A written year in the common era: two digits by the pivot, a Buddhist-era year less 543
    or 544. Thailand's era year turns on 1 January (CE + 543); Cambodia's at Visak Bochea, a
    full moon of April-June, mostly in May (CE + 543 before, CE + 544 after), so a Khmer date
    (Khmer digits or words) from June on is CE + 544, and in May after the 14th too (the full
    moon's day varies by year: a May date may be one year off)."""
    if y < 100:
        return 2000 + y if y <= two_digit_pivot else 1900 + y
    if y > 2400:
        late = month is not None and (month > 5 or (month == 5 and day > 14))
        return y - 544 if khmer and late else y - 543
    return y


def _make(y: int, m: int, d: int) -> dt.date:
    try:
        return dt.date(y, m, d)
    except ValueError as exc:
        raise DateError(f"day {d}, month {m} is not a calendar date") from exc


def _month(name: str) -> int | None:
    """January, Jan, មីនា, ខែមីនា ("month of March") or février."""
    name = name.removeprefix("ខែ").strip()
    if (full := FULL_MONTHS.get(name.lower())) is not None:
        return full
    return MONTHS.get(name.lower()[:3]) if name.isascii() else MONTHS.get(name)


def _known_month(name: str) -> int:
    month = _month(name)
    if month is not None:
        return month
    if name.removeprefix("ខែ").strip() in LUNAR_MONTHS:
        raise DateError(
            "a month of the Khmer lunar calendar: write the date in the solar calendar (DD/MM/YYYY)"
        )
    raise DateError("unknown month name")


# three numbers with one separator between each, spaces around it (a clerk's typing)
_SPACED_NUMERIC = re.compile(r"^\d{1,4}\s*([./-])\s*\d{1,2}\s*\1\s*\d{1,4}$")
_COMMA_NUMERIC = re.compile(r"^\d{1,2},\d{1,2},\d{4}$")


def _era_year(y: int) -> bool:
    """A year a list means: 1900-2099, or a Buddhist-era year (2443-2643)."""
    return 1900 <= y <= 2099 or 2443 <= y <= 2643


def _uncompacted(s: str) -> str:
    """Eight digits typed with no separators: YYYYMMDD when they read so (a year 19xx or
    20xx, a month and a day), left for _COMPACT; else DDMMYYYY when the last four are a year,
    written DD/MM/YYYY (so that a month-first column's are found, and a bad month is named).
    Both cannot read: DDMMYYYY's year puts 19 or 20 where YYYYMMDD's month is."""
    if 1900 <= int(s[:4]) <= 2099 and 1 <= int(s[4:6]) <= 12 and 1 <= int(s[6:]) <= 31:
        return s
    if _era_year(int(s[4:])):
        return f"{s[:2]}/{s[2:4]}/{s[4:]}"
    return s


def despaced(text: str) -> str:
    """A numeric date typed with spaces around its separators (12 / 03 / 1992) or with
    commas for them (12,03,1988) as 12/03/1992; eight digits with none (06062024) as
    06/06/2024 when they are DDMMYYYY; any other text as it is."""
    s = text.strip()
    if len(s) == 8 and s.isdigit():
        return _uncompacted(s)
    if _SPACED_NUMERIC.match(s):
        return re.sub(r"\s*([./-])\s*", r"\1", s)
    if _COMMA_NUMERIC.match(s):
        return s.replace(",", "/")
    return text


def _tidy(text: str) -> tuple[str, bool]:
    """The date's text without the words around it (Khmer day, month and year words, an era,
    a weekday, an ordinal's suffix), and whether it is written in Khmer (the era's rule)."""
    khmer = not text.isascii() and any("\u1780" <= c <= "\u17ff" for c in text)
    s = khmer_digits_to_ascii(text).strip().rstrip(".")
    if khmer:
        s = _KH_CE.sub(" ", _KH_BE.sub(" ", s))
        s = _KH_WORDS.sub(" ", s)
        s = re.sub(r"\s+", " ", s).strip(" ,")
    if s[:1].isalpha() and s.isascii():
        s = _WEEKDAY.sub("", s)
    if not s.isdigit():
        s = _ORDINAL.sub("", s)
    return despaced(s), khmer


def _dated(value: dt.date, placeholder_is_year: bool) -> ParsedDate:
    if placeholder_is_year and value.day == 1 and value.month == 1:
        return ParsedDate(value, "year")
    return ParsedDate(value, "day")


def _partial(y: int, month: int | None, placeholder_is_year: bool) -> ParsedDate:
    """A year, or a month and year, without the day: a birth date's year (its precision says
    so); any other date needs its day (a return on "2024" is no day to count from)."""
    if not placeholder_is_year:
        what = "a month and year" if month else "a year"
        raise DateError(f"{what} without the day: the full date (day, month, year) is needed")
    return ParsedDate(dt.date(y, month or 1, 1), "year")


# a birth date written as a guess: "c. 1990", "approx 1985", "1990?", "~1992", "ប្រហែល ១៩៩០"
_GUESS_BEFORE = re.compile(
    r"^(?:c\.|ca\.|circa|approx\.?|approximately|about|around|abt\.?|est\.|~|±|ប្រហែល(?:ជា)?|អំពី)\s*",
    re.IGNORECASE,
)
_GUESS_AFTER = re.compile(r"\s*(?:\?+|\((?:approx\.?|est\.?|\?)\)|approx\.?|\(?ប្រហែល\)?)$", re.IGNORECASE)


# a birth date whose unknown day or month is written 00, 0, xx or ??: "00/00/1990", "00/07/1985"
_UNKNOWN_PART = r"0{1,2}|[xX]{1,2}|\?{1,2}|-{1,2}"
_UNKNOWN_PARTS = re.compile(rf"^(\d{{1,2}}|{_UNKNOWN_PART})[/. ](\d{{1,2}}|{_UNKNOWN_PART})[/. ](\d{{4}})$")


def _unknown(part: str) -> bool:
    """A day or month written as not known (0, 00, x, xx, ?, ??, -, --)."""
    return not part.isdigit() or int(part) == 0


def _with_unknown_parts(s: str, pivot: int) -> ParsedDate | None:
    """A birth date's year (and month) when its day or month is written unknown, else None."""
    m = _UNKNOWN_PARTS.match(s)
    if not m or not (_unknown(m[1]) or _unknown(m[2])):
        return None
    month = None if _unknown(m[2]) else int(m[2])
    if month is not None and not 1 <= month <= 12:
        return None
    return _partial(_year(int(m[3]), pivot), month, True)


@lru_cache(maxsize=100_000)
def parse_date_text(text: str, placeholder_is_year: bool = False, allow_serial: bool = True) -> ParsedDate:
    """Parse one date string. Raises DateError with a reason that holds no personal value.

    placeholder_is_year: a birth date, where 01/01 stands for "born that year" and a year or
    a month and year alone are read as the year; one written as a guess ("c. 1990",
    "approx 12/03/1985", "1990?") is read as its year alone, the precision a guess has, and
    one whose day or month is written unknown ("00/00/1990", "xx/07/1985") as its year (and
    month)."""
    if placeholder_is_year:
        guess = _GUESS_AFTER.sub("", _GUESS_BEFORE.sub("", text.strip()))
        if guess != text.strip() and guess:
            parsed = parse_date_text(guess, True, allow_serial)
            return ParsedDate(dt.date(parsed.value.year, 1, 1), "year")
    s, khmer = _tidy(text)
    pivot = dt.date.today().year % 100
    if placeholder_is_year and (unknown := _with_unknown_parts(s, pivot)):
        return unknown
    if m := _DMY.match(s):
        d, mo = int(m[1]), int(m[2])
        if mo > 12 and d <= 12:
            raise DateError("month above 12: is the date written MM/DD/YYYY?")
        return _dated(_make(_year(int(m[3]), pivot, mo, d, khmer), mo, d), placeholder_is_year)
    if m := _YMD.match(s):
        mo, d = int(m[2]), int(m[3])
        return _dated(_make(_year(int(m[1]), pivot, mo, d, khmer), mo, d), placeholder_is_year)
    if (m := _YEAR.match(s)) or (m := _YEAR_FLOAT.match(s)):
        return _partial(_year(int(m[1]), pivot), None, placeholder_is_year)
    named = _NAMED.match(s)
    if named or (named := _NAMED_FIRST.match(s)):
        day, name, year = (
            (named[1], named[2], named[3]) if named.re is _NAMED else (named[2], named[1], named[3])
        )
        month = _known_month(name)
        value = _make(_year(int(year), pivot, month, int(day), khmer), month, int(day))
        return _dated(value, placeholder_is_year)
    if (m := _MONTH_YEAR.match(s)) or (m := _YEAR_MONTH.match(s)):
        y, mo = (int(m[2]), int(m[1])) if m.re is _MONTH_YEAR else (int(m[1]), int(m[2]))
        if 1 <= mo <= 12:
            return _partial(_year(y, pivot, mo, 1, khmer), mo, placeholder_is_year)
    if m := _NAMED_MONTH_YEAR.match(s):
        month = _known_month(m[1])
        return _partial(_year(int(m[2]), pivot, month, 1, khmer), month, placeholder_is_year)
    if _EXCEL_ERROR.match(s):
        raise DateError(
            "an Excel error value, not a date (a number in a date cell that Excel cannot show as a date?)"
        )
    if m := _COMPACT.match(s):
        return _dated(_make(int(m[1]), int(m[2]), int(m[3])), placeholder_is_year)
    return _number_date(s, khmer, placeholder_is_year, allow_serial)


def _number_date(s: str, khmer: bool, placeholder_is_year: bool, allow_serial: bool) -> ParsedDate:
    """The last readings of parse_date_text: an Excel day number written out, digits with no
    separators; else no date in a known format."""
    if allow_serial and (m := _SERIAL.match(s)) and 366 <= int(day := m[1] or m[2]) <= 80000:
        return ParsedDate(excel_serial_to_date(int(day)), "day")
    if s.isdigit() and len(s) in (6, 7, 8):
        return _dated(_digits_only(s, khmer), placeholder_is_year)
    if _two_dates(s):
        raise DateError(
            "two dates or a range of days (01-05/06/2024, 06/06/2024 - 08/06/2024, 5 or 6 June): "
            "write the one day, DD/MM/YYYY"
        )
    raise DateError("not a date in a known format (DD/MM/YYYY, YYYY-MM-DD, D-M-YYYY, year)")


# days a range spans, before one month and year: 01-05/06/2024, 5-7 June 2024, 5 & 6 June 2024
_DAY_RANGE = re.compile(
    r"^\d{1,2}\s*(?:[-–~&]|to|or|and|ឬ|ដល់|ទៅ|និង)\s*\d{1,2}\s*(?:[/.]\s*\d{1,2}\s*[/.]\s*\d{2,4}"
    r"|[\s\-]+[^\d\s/\-.,]+\.?,?[\s\-]+\d{2,4})$",
    re.IGNORECASE,
)
# two whole dates: 06/06/2024 - 08/06/2024, 6/6/2024 or 7/6/2024, 06/06/2024ដល់08/06/2024
_BETWEEN = re.compile(r"\s+(?:-|to|or|and|&)\s+|\s*(?:–|~|ឬ|ដល់|ទៅ|និង)\s*", re.IGNORECASE)


def _two_dates(s: str) -> bool:
    """A range of days or two dates where one is wanted (only asked of text no reading took)."""
    if _DAY_RANGE.match(s):
        return True
    parts = _BETWEEN.split(s)
    if len(parts) != 2 or not all(parts):
        return False
    try:
        for part in parts:
            parse_date_text(part)
    except DateError:
        return False
    return True


def seven_digit_readings(s: str, month_first: bool, khmer: bool = False) -> list[dt.date]:
    """The calendar dates seven digits with no separators can be (a day or month lost its
    leading zero: D MM YYYY and DD M YYYY, or month first M DD YYYY and MM D YYYY); none when
    the last four are no year a list means."""
    if not (len(s) == 7 and s.isdigit() and _era_year(int(s[3:]))):
        return []
    y = int(s[3:])
    readings = []
    for a, b in ((int(s[0]), int(s[1:3])), (int(s[:2]), int(s[2]))):
        d, mo = (b, a) if month_first else (a, b)
        with contextlib.suppress(DateError):
            readings.append(_make(_year(y, 0, mo, d, khmer), mo, d))
    return readings


def _digits_only(s: str, khmer: bool) -> dt.date:
    """A date of six to eight digits with no separators that is not YYYYMMDD nor DDMMYYYY
    (those are read before): seven (a day or month without its leading zero, as Excel keeps
    06062024 typed into a cell: 6062024) read when one way alone is a calendar date, D MM
    YYYY or DD M YYYY; else refused with why, never guessed."""
    if len(s) == 7 and _era_year(int(s[3:])):
        readings = seven_digit_readings(s, month_first=False, khmer=khmer)
        if len(readings) == 1:
            return readings[0]
        if readings:
            raise DateError(
                "7 digits with no separators can be read two ways (D MM YYYY or DD M YYYY: the "
                "day or month lost its leading zero); write the date DD/MM/YYYY"
            )
        raise DateError("7 digits with no separators that are no calendar date (D MM YYYY or DD M YYYY)")
    if len(s) == 6:
        raise DateError(
            "6 digits with no separators can be read two ways (DDMMYY or YYMMDD); write the date DD/MM/YYYY"
        )
    raise DateError(
        f"{len(s)} digits with no separators that are not a date (DDMMYYYY or YYYYMMDD with a year "
        "1900-2099); write the date DD/MM/YYYY"
    )


def parse_date(
    value: object, placeholder_is_year: bool = False, epoch_1904: bool = False
) -> ParsedDate | None:
    """Parse a cell (text, Excel datetime or day number). Blank gives None."""
    if value is None:
        return None
    if (not epoch_1904 or not isinstance(value, int | float)) and is_day_zero(value):
        # a cell of a time alone, Excel's day 0 (shown 00/01/1900 or 0:00; what a formula
        # that reads an empty cell gives), or a time typed into a date's column; in a 1904
        # workbook the number 0 is 01/01/1904, a day
        raise DayZero(f"{DAY_ZERO_WHY}: fill in the date")
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        if 2443 <= value.year <= 2643:
            # a date cell of a sheet typed in a Thai or Khmer Buddhist-era locale (05/06/2567
            # accepted as the year 2567): its year as a written one is read (CE + 543), not
            # quarantined as outside 1900-2100
            with contextlib.suppress(ValueError):  # 29 February of a common year with none
                value = value.replace(year=_year(value.year, 0, value.month, value.day))
        if placeholder_is_year and value.month == 1 and value.day == 1:
            return ParsedDate(value, "year")
        return ParsedDate(value, "day")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if _YEAR_NUMBERS[0] <= value <= _YEAR_NUMBERS[1] and float(value).is_integer():
            # 1990 typed into a cell: a year (as day number 1990 it is 12/06/1905, a date no
            # list of returns means); BE years (2533) too
            return _partial(_year(int(value), 0), None, placeholder_is_year)
        if 1_000_000 <= value < 100_000_000 and float(value).is_integer():
            # 06062024 or 20240606 typed into a cell of a number format (Excel keeps 6062024):
            # its digits, read as typed text is; as a day number it is a day after the year
            # 4600 (a list means none), and past Excel's last day from 2,958,466
            return parse_date_text(str(int(value)), placeholder_is_year)
        return ParsedDate(excel_serial_to_date(value, epoch_1904), "day")
    text = str(value).strip()
    if not text:
        return None
    return parse_date_text(text, placeholder_is_year)
