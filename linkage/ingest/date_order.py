"""Which way round a column's numeric dates are written: day first, or month first.

Why: an English-locale Excel saves a CSV with its dates month-first (06/13/2024 beside
06/02/2024); read day-first as every source writes them, 06/02/2024 became 6 February without
a word, and only the dates with a day above 12 were quarantined. The dates that can be read
one way only decide the column: two or more one way and at most one in ten the other, and
the dates that could be either follow (a month-first column is noted). Nothing to tell (no
date above 12 either way): the source's day-first stands. Too little (one month-first date
alone) or both ways in one column: each date that could be either (05/06/2024) is
quarantined, never guessed. A column whose own dates say too little follows the file's
other date columns when they say month-first and no date of the file is day-first (one
export writes every column the same way).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from linkage.normalise.dates import despaced, seven_digit_readings
from linkage.normalise.khmer import khmer_digits_to_ascii

# (line, column, rule, reason, severity): an Issue of canonical.py, which imports this module
Problem = tuple[int, str, str, str, str]


# day and month (either order), then the year; a time may follow
_NUMERIC = re.compile(r"^(\s*)([0-9០-៩]{1,2})([/.\-])([0-9០-៩]{1,2})(\3[0-9០-៩]{2,4}(?:$|[\sT].*$))", re.S)
MONTH_FIRST_MIN = 2  # dates that can only be month-first before a column is read so
MINORITY = 10  # the other way may be at most one in this many (typing slips)


def _parts(value: Any) -> tuple[int, int] | None:
    if type(value) is not str:
        return None
    m = _NUMERIC.match(despaced(value))
    if m is None:
        return None
    return int(khmer_digits_to_ascii(m[2])), int(khmer_digits_to_ascii(m[4]))


def _seven(value: Any) -> str | None:
    """Seven digits with no separators, typed or a number cell of them (06132024 typed into a
    number cell is 6132024: its leading zero dropped), as ASCII digits; else None."""
    if type(value) is str:
        s = khmer_digits_to_ascii(value.strip())
    elif type(value) in (int, float) and 1_000_000 <= value < 10_000_000 and float(value).is_integer():
        s = str(int(value))
    else:
        return None
    return s if len(s) == 7 and s.isdigit() else None


def _seven_ways(s: str) -> tuple[list[Any], list[Any]]:
    """(its month-first readings, its day-first readings)."""
    return seven_digit_readings(s, month_first=True), seven_digit_readings(s, month_first=False)


def _evidence(col: Sequence[Any]) -> tuple[int, int]:
    """(dates that can only be month-first, dates that can only be day-first), distinct values.
    Seven digits that read one way alone count when two or more do (one alone is too little:
    it stays what the day-first reading makes of it, as before)."""
    month = day = month7 = day7 = 0
    for v in set(col):
        if (s := _seven(v)) is not None:
            by_month, by_day = _seven_ways(s)
            month7 += bool(by_month) and not by_day
            day7 += bool(by_day) and not by_month
            continue
        p = _parts(v)
        if p is None:
            continue
        a, b = p
        if a <= 12 < b <= 31:
            month += 1
        elif b <= 12 < a <= 31:
            day += 1
    month += month7 if month7 >= MONTH_FIRST_MIN else 0
    day += day7 if day7 >= MONTH_FIRST_MIN else 0
    return month, day


def _numeric(v: Any) -> bool:
    return _parts(v) is not None or _seven(v) is not None


def _order(month: int, day: int) -> str:
    if month == 0:
        return "day" if day else "none"
    if month >= MONTH_FIRST_MIN and day * MINORITY <= month:
        return "month"
    if day >= MONTH_FIRST_MIN and month * MINORITY <= day:
        return "day"
    return "unsure"


def _swapped(value: str) -> str:
    m = _NUMERIC.match(despaced(value))
    assert m is not None
    return f"{m[1]}{m[4]}{m[3]}{m[2]}{m[5]}"


def settle_order(
    columns: dict[str, list[Any]], lines: list[int], source_month_first: bool = False
) -> tuple[list[Problem], list[str]]:
    """Each date column read the way its dates say (see the module): month-first columns
    rewritten in place day-first; (issues, notes). Issues: a date that could be either in a
    column written both ways, and a day-first date in a month-first column. A source whose
    mapping says it writes month-first (`date_order: month_first`) has a column whose dates
    tell nothing read so."""
    evidence = {f: _evidence(col) for f, col in columns.items()}
    orders = {f: _order(*e) for f, e in evidence.items()}
    if source_month_first:
        for f, order in orders.items():
            if order == "none" and any(_numeric(v) for v in set(columns[f])):
                orders[f] = "month"
                evidence[f] = (0, 0)
    # the file's other columns say month-first, and none of its dates is written day-first
    follow = "month" in orders.values() and not any(day for _, day in evidence.values())
    issues: list[Problem] = []
    notes: list[str] = []
    for f, col in columns.items():
        order = orders[f]
        severity = "warning" if f == "last_follow_up_date" else "error"
        if order in ("none", "unsure") and follow and any(_numeric(v) for v in set(col)):
            order = "month"
            notes.append(
                f"{f}: read month-first (MM/DD/YYYY), as the file's other date columns are written "
                "(its own dates say too little to tell)"
            )
        elif order == "month" and evidence[f] == (0, 0):
            notes.append(
                f"{f}: read month-first (MM/DD/YYYY), as the source's mapping says it writes dates "
                "(date_order: month_first); its own dates say too little to tell"
            )
        elif order == "month":
            month, day = evidence[f]
            slips = f"; {day} written day-first are quarantined" if day else ""
            notes.append(
                f"{f}: read month-first (MM/DD/YYYY): {month} of its dates have a day above 12 "
                f"second and none (or few) first, as an English-locale Excel writes them{slips}"
            )
        if order == "month":
            _read_month_first(f, col, lines, severity, issues)
        elif order == "unsure":
            _quarantine_either(f, col, lines, severity, issues, both_ways=evidence[f][1] > 0)
    return issues, notes


def _read_month_first(f: str, col: list[Any], lines: list[int], severity: str, issues: list[Problem]) -> None:
    done: dict[str, str | None] = {}
    for r, v in enumerate(col):
        if (s := _seven(v)) is not None:
            _seven_month_first(f, s, r, col, lines, severity, issues)
            continue
        p = _parts(v)
        if p is None:
            continue
        if v not in done:
            a, b = p
            done[v] = None if a > 12 else _swapped(v)
        new = done[v]
        if new is None:
            why = (
                f"{f}: written day-first (DD/MM/YYYY) in a column written month-first (MM/DD/YYYY): "
                "check the date, write the column one way, and send again"
            )
            issues.append((lines[r], f, "date_ambiguous", why, severity))
        else:
            col[r] = new


def _seven_month_first(
    f: str, s: str, r: int, col: list[Any], lines: list[int], severity: str, issues: list[Problem]
) -> None:
    """Seven digits in a month-first column: M DD YYYY or MM D YYYY, read (as DD/MM/YYYY
    text) when one alone is a date; two readings, or a day-first one only, are quarantined
    (the cell is then left blank for the later checks, so the row has one reason)."""
    by_month, by_day = _seven_ways(s)
    if len(by_month) == 1:
        col[r] = by_month[0].strftime("%d/%m/%Y")
        return
    if len(by_month) == 2:
        why = (
            f"{f}: 7 digits with no separators can be read two ways in this column written month-first "
            "(M DD YYYY or MM D YYYY: the month or day lost its leading zero); write the date DD/MM/YYYY"
        )
        issues.append((lines[r], f, "date_format", why, severity))
        col[r] = None
    elif by_day:
        why = (
            f"{f}: 7 digits that are a date only day-first, in a column written month-first (MM/DD/YYYY): "
            "check the date, write the column one way, and send again"
        )
        issues.append((lines[r], f, "date_ambiguous", why, severity))
        col[r] = None


def _quarantine_either(
    f: str, col: list[Any], lines: list[int], severity: str, issues: list[Problem], both_ways: bool
) -> None:
    why = (
        "this column holds dates written both ways (a day above 12 first on some lines, second on others)"
        if both_ways
        else "one date of this column can only be month-first (MM/DD/YYYY), too few to read the column so"
    )
    why = (
        f"{f}: day and month are both 12 or less, and {why}: the date could be either; write it "
        "as DD/MM/YYYY and send again"
    )
    for r, v in enumerate(col):
        if (s := _seven(v)) is not None:
            by_month, by_day = _seven_ways(s)
            either = len(by_day) == 1 and bool(by_month) and set(by_month) != set(by_day)
        else:
            p = _parts(v)
            either = p is not None and p[0] <= 12 and p[1] <= 12 and p[0] != p[1]
        if either:
            issues.append((lines[r], f, "date_ambiguous", why, severity))
