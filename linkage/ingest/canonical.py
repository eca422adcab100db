"""Map a raw table to canonical records column by column, collecting row-level issues.

Why column by column: lists repeat the same places, dates, sexes and countries thousands
of times. Each distinct value (or tuple of values, for names and places) is normalised
once and its result spread back to every row holding it, so a list of 100,000 rows costs
a few hundred thousand dictionary lookups, not 100,000 runs of every normaliser.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from linkage.ingest.date_order import settle_order
from linkage.ingest.readers import Cell, RawTable
from linkage.ingest.safe_text import label
from linkage.normalise.dates import DAY_ZERO_WHY, DateError, DayZero, parse_date
from linkage.normalise.khmer import (
    has_khmer,
    khmer_digits_to_ascii,
    limon_to_unicode,
    looks_like_limon,
    normalise_khmer,
)
from linkage.normalise.name_tables import khmer_to_latin_table
from linkage.normalise.names import split_full_name, tidy_khmer_name, tidy_latin
from linkage.normalise.phones import MAX_PHONES, normalise_phones, split_phones
from linkage.normalise.places import resolve_country, resolve_place, resolve_point_of_entry
from linkage.normalise.romanise import romanise
from linkage.sources import SourceMapping

DATE_FIELDS = ("birth_date", "return_date", "referral_date", "intake_date", "last_follow_up_date")
SEX = {
    "m": "M",
    "male": "M",
    "ប្រុស": "M",
    "ប": "M",
    "man": "M",
    "boy": "M",
    "f": "F",
    "female": "F",
    "ស្រី": "F",
    "ស": "F",
    "woman": "F",
    "girl": "F",
}
STATUS = {
    "active": "active",
    "follow-up": "follow-up",
    "follow up": "follow-up",
    "followup": "follow-up",
    "closed": "closed",
    "closed-referred": "closed-referred",
    "closed referred": "closed-referred",
    "closedreferred": "closed-referred",
}
_ID_SEPARATORS = re.compile(r"[\s\-]")
_SURROGATE = re.compile(r"[\udc80-\udcff]")
FORMULA_START = re.compile(r"^\s*[=@]|^\s*[+\-][^\d\s.(]")
# a cell (after a NUL that joins a column's cells) starting the way a formula may start
_MAYBE_FORMULA = re.compile(r"\x00[\s=@+\-]")
_FORMULA_FIRST = ("=", "@", "+", "-")  # after any white space (\s, which is str.isspace)
CELL_MAX = 32_767  # the most characters an Excel cell holds: a cell that long is a damaged row


@dataclass(frozen=True)
class Issue:
    """One problem with one row. Never holds the offending value."""

    line: int
    column: str | None
    rule: str
    reason: str
    severity: str = "error"  # error: quarantine the row; warning: load, report


@dataclass
class MappedRows:
    """A table's canonical values column by column (field -> one value per row), and its issues.

    Why columns: checks, duplicate search and the insert all read a few fields of every row;
    building a dictionary per row would cost more than the mapping itself.
    """

    columns: dict[str, list[Any]]
    issues: list[Issue]

    @property
    def lines(self) -> list[int]:
        return self.columns["line"]


def cell_text(value: Cell) -> str:
    """A cell as text: Excel numbers without a trailing '.0', dates ISO, blanks empty."""
    if type(value) is str:  # the common case first: this runs for every cell
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    return str(value).strip()


_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069]")
# marks no text means (direction controls, a BOM or word joiner inside a cell): taken out of
# every cell, names and free text too; a zero-width space stays (Khmer's word separator)
_MARKS = re.compile(r"[\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
_SCIENTIFIC = re.compile(r"^\d(?:[.,]\d+)?[eE]\+?\d{1,2}$")
EXCEL_ERRORS = frozenset(
    ("#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!")
    + ("#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#BUSY!", "#CONNECT!", "#EXTERNAL!")
)
_LITERAL = re.compile(r'^="([^"]*)"$')  # ="012345678": CSV's way to keep a number's zeros


# what clerks type for "not known" in a date, age, phone or id cell: the cell is blank
PLACEHOLDERS = frozenset(
    ("-", "--", "---", ".", "?", "n/a", "na", "n.a.", "#n/a", "none", "null", "nil", "unknown")
    # what pandas and R write for a blank when a list passes through them (NaN, NaT, <NA>, NA)
    + ("nan", "nat", "<na>")
    + ("unk", "not known", "n.k.", "don't know")
    + ("មិនដឹង", "គ្មាន", "មិនស្គាល់", "មិនមាន", "មិនច្បាស់")
)


def bare(text: str) -> str:
    """A code, number or date without what a spreadsheet or a paste adds around it:
    invisible characters (zero-width space, soft hyphen, BOM), Excel's leading apostrophe
    (its mark for "keep this as text"), and a placeholder for "not known" ("-", "N/A")."""
    if not text.isascii():
        text = _INVISIBLE.sub("", text).strip()
    if text[:1] == "'":
        text = text[1:].strip()
    if len(text) <= 9 and text.lower() in PLACEHOLDERS:
        return ""
    return text


_FLOAT_TEXT = re.compile(r"^(\d+)\.0+$")


def _whole(text: str) -> str:
    """A number written as a float's text (110200300.0, 3100.0): a column of ids read as
    numbers and written out again by a program (pandas, R); its digits without the '.0'."""
    m = _FLOAT_TEXT.match(text) if "." in text else None
    return m[1] if m else text


def _record_id(value: Cell) -> str:
    return _whole(bare(khmer_digits_to_ascii(cell_text(value)).strip()))


def _ids(value: str) -> str:
    return _ID_SEPARATORS.sub("", _whole(khmer_digits_to_ascii(bare(value)))).upper()


Template = tuple[str | None, str, str, str]  # column, rule, reason, severity: an Issue without its line
NAME_FIELDS = ("full_name", "full_name_kh", "family_name_kh", "given_name_kh", "family_name", "given_name")
NAME_OUTPUTS = (
    "full_name",
    "family_name_kh",
    "given_name_kh",
    "name_kh",
    "family_name",
    "given_name",
    "name_latin",
    "name_order",
)
PLACE_FIELDS = ("province", "district", "commune", "village")
PLAIN_FIELDS = ("sector", "batch_id", "referred_to", "referral_source", "case_manager", "services", "remarks")
# "25", "25 years", "២៥ឆ្នាំ", and with the word typed before it: "អាយុ ២៨", "Age: 28"
# and the months after the years, which a whole age drops: "28.5", "២៨ ឆ្នាំ ៦ ខែ", "30 years 2 months"
_AGE = re.compile(
    # the unit as officers write it: 25 years (old), 25yrs., 25y, 25 y.o., 25yo, 25 y/o, 25 ឆ្នាំ
    # and a guess said as one (an age is one already): about 28, ~26, ប្រហែល ២៩, 25?, 27+
    r"^(?:(?:អាយុ|age)\s*:?\s*)?(?:(?:about|approx\.?|approximately|around|ca?\.|~|≈|ប្រហែល|ប្រមាណ)\s*)?"
    r"(\d{1,3})(?:[.,]\d+)?"
    r"(?:\s*(?:years?(?:\s+old)?|yrs?\.?|y\.?\s*o\.?|y/o|y|ឆ្នាំ))?\s*[?+]?"
    r"(?:\s*,?\s*(?:and\s+|និង\s*)?(?:1[01]|\d)\s*(?:months?|mths?|mos?|ខែ))?$",
    re.I,
)
_PLUS_DIGIT = re.compile(r"^\s*\+\d")
_DASHES = re.compile(r"^\s*-+\s*$")  # '--' written for "none": no formula a spreadsheet would run


def spread(values: Sequence[Any], fn: Callable[[Any], Any]) -> list[Any]:
    """fn run once per distinct value; every row gets the result for its value."""
    done = {v: fn(v) for v in set(values)}
    return list(map(done.__getitem__, values))


def spread_checked(
    values: Sequence[Any],
    fn: Callable[[Any], tuple[Any, Template | None]],
    lines: list[int],
    issues: list[Issue],
) -> list[Any]:
    """Like spread, for an fn that returns (result, problem or None): each problem becomes an
    issue of every row holding that value."""
    done = {v: fn(v) for v in set(values)}
    problems = {v: t for v, (_, t) in done.items() if t is not None}
    if problems:
        issues.extend(Issue(lines[r], *problems[v]) for r, v in enumerate(values) if v in problems)
    results = {v: x for v, (x, _) in done.items()}
    return list(map(results.__getitem__, values))


def _has_surrogate(text: str) -> bool:
    """Bytes that were not UTF-8 were decoded to lone surrogates; ASCII text has none."""
    return not text.isascii() and bool(_SURROGATE.search(text))


def _is_formula(text: str) -> bool:
    """=SUM(..), @.., +A1 or -A1 start a formula; +855.. is a phone number, '--' a blank."""
    if text[:1] not in _FORMULA_FIRST and not text[:1].isspace():  # most cells: no regex needed
        return False
    return bool(FORMULA_START.match(text)) and not _PLUS_DIGIT.match(text) and not _DASHES.match(text)


def _two_words(text: str) -> bool:
    """Words apart by a space or a line break inside the cell."""
    t = text.strip()
    return " " in t or "\n" in t or "\r" in t


def _name_parts(key: tuple[str, ...], default_order: str) -> tuple[str | None, ...]:
    """The name fields of one row from the texts of its name columns (see NAME_OUTPUTS)."""
    full, full_kh, fam_kh, giv_kh, fam, giv = key
    # A Khmer column holding Latin (not Limon) is a Latin name typed in the wrong column.
    if full_kh and not has_khmer(full_kh) and not full:
        full, full_kh = full_kh, ""
    if full and has_khmer(full) and not full_kh:
        full, full_kh = "", full
    if fam_kh and not has_khmer(fam_kh):
        fam, fam_kh = fam or fam_kh, ""
    if giv_kh and not has_khmer(giv_kh):
        giv, giv_kh = giv or giv_kh, ""
    # a whole name in the family column, the given one left blank (the two cells merged
    # across, or typed in one, over two lines of the cell too: Alt+Enter): read as a full
    # name, split by the known surnames (over two lines it was kept whole as the family name)
    if fam_kh and not giv_kh and not full_kh and _two_words(fam_kh):
        full_kh, fam_kh = fam_kh, ""
    if fam and not giv and not full and _two_words(fam):
        full, fam = fam, ""
    order = None
    if full_kh:
        s = split_full_name(tidy_khmer_name(full_kh), "family_given")
        fam_kh, giv_kh, order = fam_kh or s.family, giv_kh or s.given, s.order
    else:
        fam_kh = tidy_khmer_name(fam_kh) if fam_kh else None
        giv_kh = tidy_khmer_name(giv_kh) if giv_kh else None
    if full:
        s = split_full_name(tidy_latin(full), default_order)
        fam, giv, order = fam or s.family, giv or s.given, s.order
    else:
        fam = tidy_latin(fam) if fam else None
        giv = tidy_latin(giv) if giv else None
    if fam_kh or giv_kh:
        order = order or "family_given"
    # Latin forms: as written when given, else romanised from Khmer
    family = fam or (romanise(fam_kh).upper() if fam_kh else None)
    given = giv or (romanise(giv_kh).upper() if giv_kh else None)
    name_kh = _both(fam_kh, giv_kh)
    return (
        full or full_kh or name_kh,
        fam_kh or None,
        giv_kh or None,
        name_kh,
        family,
        given,
        _both(family, given),
        order,
    )


def _both(first: str | None, second: str | None) -> str | None:
    """Two name parts joined by a space; either alone; None when neither is given."""
    if first and second:
        return f"{first} {second}"
    return first or second or None


def _limon(field: str, text: str) -> tuple[str | None, Template | None]:
    """Legacy Limon-font text: converted when every word is a known name, else refused."""
    if not text or not looks_like_limon(text):
        return None, None
    converted = limon_to_unicode(text)
    if converted and all(w in khmer_to_latin_table() for w in converted.split()):
        return converted, (field, "limon_converted", f"{field}: legacy Limon-font Khmer converted", "warning")
    return None, (
        field,
        "limon",
        f"{field}: legacy Limon-font Khmer (typed in ASCII codes) that could not be read "
        "safely; convert the sheet to Khmer Unicode and send again",
        "error",
    )


def _father(text: str) -> str | None:
    return (normalise_khmer(text) if has_khmer(text) else tidy_latin(text)) if text else None


# what a cell formatted as a percentage holds: 28 typed into it is 28% (0.28), saved to CSV
# as 28%; an age read from it was 0 (quarantined as outside 5 to 90 years) or 28 without a word
_AGE_PERCENT = re.compile(r"^(?:0?\.\d+|\d{1,3}(?:[.,]\d+)?\s?%)$")
_AGE_PERCENT_WHY = (
    "age: written as a percentage (a cell formatted as percent: 28 typed shows 28%), read as "
    "blank; format the column as a number and send again"
)


def _age(text: str) -> tuple[int | None, Template | None]:
    text = khmer_digits_to_ascii(bare(text))
    if not text:
        return None, None
    if _AGE_PERCENT.match(text.strip()):
        return None, ("age", "age_format", _AGE_PERCENT_WHY, "warning")
    m = _AGE.match(text.strip())
    if m:
        return int(m[1]), None
    return None, ("age", "age_format", "age: not a whole number of years", "warning")


def _place(texts: tuple[str | None, ...]) -> tuple[tuple[str | None, ...], Template | None]:
    place = resolve_place(*texts)
    codes = (place.province_code, place.district_code, place.commune_code, place.village_code)
    if texts[0] and not place.province_code:
        return codes, ("province", "unknown_place", "province: not found in the gazetteer", "warning")
    if texts[1] and not place.district_code:
        return codes, ("district", "unknown_place", "district: not found in its province", "warning")
    return codes, None


def _sex(text: str) -> tuple[str | None, Template | None]:
    # "ប្រុស.", "M." or "ស្រី។": a full stop typed after the word or its letter
    sex = SEX.get(text.lower().rstrip(" .។")) if text else None
    if text and sex is None:
        return None, ("sex", "sex_value", "sex: not M/F, Male/Female or ប្រុស/ស្រី", "warning")
    return sex, None


def _lost_digits(field: str, rule: str) -> Template:
    why = (
        f"{field}: written as a spreadsheet number in scientific notation (like 8.55E+10), "
        "its last digits lost; format the column as text and send again"
    )
    return (field, rule, why, "warning")


def _whole_scientific(text: str) -> str | None:
    """A number in scientific notation that keeps every digit (8.5512345678e+10, as a program
    writes a float: 11 digits, exponent 10) as its digits; None when digits were lost
    (8.55E+10, Excel's General format) or it is no whole number."""
    mantissa, _, exponent = text.lower().partition("e")
    whole, _, fraction = mantissa.replace(",", ".").partition(".")
    if len(fraction) != int(exponent.lstrip("+")):
        return None
    return whole + fraction


# a number Excel shows grouped by thousands ("#,##0"; "#,##0.00"), as a CSV saved from it
# writes it: 12,555,000 or 110,200,300.00 (read as a list of numbers it was no phone at all)
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3}){2,3}(?:\.00?)?$")


def _ungrouped(text: str) -> str:
    """A number grouped by thousands as its digits; any other text as it is."""
    t = text.strip()
    return t.split(".")[0].replace(",", "") if _GROUPED.match(t) else text


def _phone(text: str) -> tuple[str | None, Template | None]:
    """The cell's numbers, E.164, space-separated (his own and a relative's often share a
    cell); a part that is no number is said, the numbers beside it kept."""
    text = _ungrouped(bare(text))
    if not text:
        return None, None
    if _SCIENTIFIC.match(text) and (text := _whole_scientific(text) or "") == "":
        return None, _lost_digits("phone", "phone_format")
    numbers, bad = normalise_phones(text)
    parts = len(split_phones(text))
    if bad and not numbers:
        why = "phone: a Cambodian number has 8 or 9 digits after 0 or +855"
        return None, ("phone", "phone_format", why, "warning")
    if bad:
        why = f"phone: {bad} of the {parts} parts of the cell is not a Cambodian number; the others kept"
        return " ".join(numbers), ("phone", "phone_format", why, "warning")
    if parts > MAX_PHONES and len(numbers) == MAX_PHONES:
        why = f"phone: {parts} numbers in one cell; the first {MAX_PHONES} kept"
        return " ".join(numbers), ("phone", "phone_count", why, "warning")
    return " ".join(numbers), None


# the label an officer types before the number: N° 110200303, No. 110200303, ID: 110200303,
# ID card 110200303, លេខ ១១០២០០៣០៣, អត្តសញ្ញាណប័ណ្ណ ... (left on, the number matched no other)
_ID_LABEL = re.compile(
    r"^\s*(?:n\s*[°º]|no\.?|nr\.?|num(?:ber)?\.?|#|(?:n?id|cni)(?:\s*card)?(?:\s*(?:no\.?|n[°º]|number|#))?"
    r"|អត្តសញ្ញាណប័ណ្ណ(?:\s*លេខ)?|លេខ(?:\s*អត្តសញ្ញាណប័ណ្ណ)?)\s*[:.#]?\s*(?=[\d០-៩])",
    re.IGNORECASE,
)


def _national_id(text: str) -> tuple[str | None, Template | None]:
    text = _ungrouped(bare(text))
    if _SCIENTIFIC.match(text) and (text := _whole_scientific(text) or "") == "":
        return None, _lost_digits("national_id", "id_format")
    nid = _ids(_ID_LABEL.sub("", bare(text), count=1))
    if nid and not re.fullmatch(r"\d{9,10}", nid):
        why = "national_id: a Cambodian ID card number has 9 digits"
        return nid, ("national_id", "id_format", why, "warning")
    return nid or None, None


def _country(text: str) -> tuple[str | None, Template | None]:
    country = resolve_country(text) if text else None
    if text and not country:
        return None, ("country", "unknown_country", "country: not recognised", "warning")
    return country, None


def _point_of_entry(text: str) -> str | None:
    return (resolve_point_of_entry(text) or f"OTHER:{tidy_latin(text)}"[:64]) if text else None


def _status(text: str) -> str | None:
    return STATUS.get(text.lower().strip(), text.lower() or None) if text else None


# consent as lists write it beside Y/N, Yes/No: a checkbox (Google Sheets' CSV writes TRUE and
# FALSE, a workbook's boolean cell reads True), 1/0, a tick, and Khmer yes, no, agree
_CONSENT_WORDS = {"TRUE": "Y", "1": "Y", "✓": "Y", "✔": "Y", "☑": "Y", "បាទ": "Y", "ចាស": "Y", "យល់ព្រម": "Y"}
_CONSENT_WORDS |= {"FALSE": "N", "0": "N", "✗": "N", "✘": "N", "☐": "N", "ទេ": "N", "មិនយល់ព្រម": "N"}


def _consent(text: str) -> tuple[str | None, Template | None]:
    """Y or N; a value that is neither is said, and read as consent not given (None: the
    reports withhold contact details). Why: a checkbox's TRUE was read as no answer, a man
    who agreed kept out of referral lists without a word."""
    t = bare(text).strip()
    if not t:
        return None, None
    if (word := _CONSENT_WORDS.get(t.upper())) is not None:
        return word, None
    consent = t.upper()[:1]
    if consent in ("Y", "N"):
        return consent, None
    return None, (
        "consent",
        "consent_format",
        "consent: not yes or no (Y, N, TRUE, FALSE); read as not given",
        "warning",
    )


class RowMapper:
    """Maps the rows of one raw table of one source, a column at a time."""

    def __init__(self, mapping: SourceMapping, table: RawTable, today: dt.date) -> None:
        self.mapping = mapping
        self.table = table
        self.today = today
        self.positions = mapping.column_for(table.header)
        mapped = set(self.positions.values())
        # shown in tables and stored: one line, no control characters, at most 60 characters
        self.unknown_columns = [label(h) for i, h in enumerate(table.header) if i not in mapped and h]
        # how reasons name a column: its canonical field, else its position (never header text)
        self.labels = [f"column {i + 1}" for i in range(len(table.header))]
        for f, i in self.positions.items():
            self.labels[i] = f

    def _date(self, field: str, raw: Cell) -> tuple[Any, Template | None]:
        """(parsed date or None, problem or None) for one non-blank cell of a date column."""
        severity = "warning" if field == "last_follow_up_date" else "error"
        try:
            parsed = parse_date(
                raw, placeholder_is_year=(field == "birth_date"), epoch_1904=self.table.epoch_1904
            )
        except DayZero as exc:
            if field in self.mapping.required_values:
                return None, (field, "date_format", f"{field}: {exc}", severity)
            # an optional date a formula copied from an empty cell: blank, as that cell is
            why = f"{field}: {DAY_ZERO_WHY}: read as blank"
            return None, (field, "date_day_zero", why, "warning")
        except DateError as exc:
            return None, (field, "date_format", f"{field}: {exc}", severity)
        if parsed is not None and not 1900 <= parsed.value.year <= 2100:
            return None, (field, "date_range", f"{field}: year outside 1900-2100", severity)
        return parsed, None

    def map_rows(
        self, rows: Sequence[tuple[int, Sequence[Cell]]], progress: Callable[[int], None] | None = None
    ) -> MappedRows:
        """Canonical values (one per row, in order) and every row-level issue.

        Issues are gathered check by check over all rows, then sorted by line (stably), so
        each row's issues come in the order of the checks: the first names its quarantine.
        """
        n = len(rows)
        lines = [line for line, _ in rows]
        issues: list[Issue] = []

        header = self.table.header
        self._reader_problems(issues)
        self._ragged(rows, issues)
        cols = self._columns(rows, len(header), self.table.kind != "csv")
        sheet = self.table.kind == "xlsx"
        texts = [
            self._texts(name, col, lines, issues, _letters(i) if sheet else None)
            for i, (name, col) in enumerate(zip(self.labels, cols, strict=True))
        ]
        blank_texts = [""] * n
        nones: list[Cell] = [None] * n
        cell = {f: cols[p] for f, p in self.positions.items()}
        text = {f: texts[p] for f, p in self.positions.items()}
        out: dict[str, list[Any]] = {"line": lines}
        out["source_record_id"] = spread(cell.get("source_record_id", nones), _record_id)
        self._khmer(cell, text, lines, issues)
        _lost_to_question_marks(text, lines, issues)
        self._names(text, blank_texts, out)
        if progress:
            progress(n // 3)
        self._dates(cell, text.get("age", blank_texts), out, lines, issues)
        self._places(text, blank_texts, out, lines, issues)
        if progress:
            progress(2 * n // 3)
        self._simple(text, blank_texts, out, lines, issues)
        self._required(out, text, lines, issues)
        self._raw_and_extra(texts, out, n)
        issues.sort(key=lambda i: i.line)
        if progress:
            progress(n)
        return MappedRows(out, issues)

    def _khmer(
        self, cell: dict[str, list[Cell]], text: dict[str, list[str]], lines: list[int], issues: list[Issue]
    ) -> None:
        """Legacy-font (Limon) Khmer fields converted in place, when every word is known."""
        for f in self.mapping.khmer_fields:
            if f not in text:
                continue
            found = spread_checked(text[f], lambda t, f=f: _limon(f, t), lines, issues)
            if any(c is not None for c in found):  # every word known: read as converted
                text[f] = [t if c is None else c for t, c in zip(text[f], found, strict=True)]
                cell[f] = text[f]

    def _names(self, text: dict[str, list[str]], blank_texts: list[str], out: dict[str, list[Any]]) -> None:
        """Family and given names split in the source's name order, and the father's name."""
        name_keys = list(zip(*(text.get(f, blank_texts) for f in NAME_FIELDS), strict=True))
        names = spread(name_keys, lambda k: _name_parts(k, self.mapping.name_order))
        for i, f in enumerate(NAME_OUTPUTS):
            out[f] = [x[i] for x in names]
        out["father_name"] = spread(text.get("father_name", blank_texts), _father)

    def _places(
        self,
        text: dict[str, list[str]],
        blank_texts: list[str],
        out: dict[str, list[Any]],
        lines: list[int],
        issues: list[Issue],
    ) -> None:
        """Province, district and commune: the text as given and the code it resolves to."""
        places = spread_checked(
            list(zip(*(text.get(f, blank_texts) for f in PLACE_FIELDS), strict=True)),
            lambda k: _place(tuple(t or None for t in k)),
            lines,
            issues,
        )
        for f in PLACE_FIELDS:
            out[f"{f}_text"] = [t or None for t in text.get(f, blank_texts)]
        for i, f in enumerate(PLACE_FIELDS):
            out[f"{f}_code"] = [codes[i] for codes in places]

    def _raw_and_extra(self, texts: list[list[str]], out: dict[str, list[Any]], n: int) -> None:
        """Each row as received (named columns), and its unmapped columns that hold something."""
        header = self.table.header
        named = [(h, texts[i]) for i, h in enumerate(header) if h]
        raw_names = [h for h, _ in named]
        by_row = zip(*(t for _, t in named), strict=True) if named else [()] * n
        out["raw"] = [dict(zip(raw_names, row, strict=True)) for row in by_row]
        mapped = set(self.positions.values())
        unknown = [(h, texts[i]) for i, h in enumerate(header) if i not in mapped and h]
        unknown += self._untitled(texts)
        out["extra"] = (
            [{h: t[r] for h, t in unknown if t[r]} or None for r in range(n)] if unknown else [None] * n
        )

    def _untitled(self, texts: list[list[str]]) -> list[tuple[str, list[str]]]:
        """Columns with no title that hold values (a note typed right of the list, a column
        whose title was deleted): kept with each record's other columns under their place
        (`column R`), and named in the notes; they were dropped without a word."""
        header, sheet = self.table.header, self.table.kind == "xlsx"
        found = []
        for i, h in enumerate(header):
            if h or i in self.table.folded or not any(texts[i]):
                continue
            where = f"column {_letters(i)}" if sheet else f"column {i + 1}"
            rows = sum(1 for t in texts[i] if t)
            found.append((where, texts[i]))
            self.table.notes.append(
                f"{where} has no title but holds values in {rows} row(s): kept with each record's "
                "other columns"
            )
        return found

    def _reader_problems(self, issues: list[Issue]) -> None:
        """Rows the reader found broken (a quote left open, a line csv cannot parse)."""
        for line, (rule, position) in sorted(self.table.row_problems.items()):
            where = self.labels[position] if position is not None and position < len(self.labels) else None
            if rule == "totals_row":
                why = "the row looks like a totals row (Total, សរុប), not a person: delete it from the list"
            elif rule == "heading_row":
                why = (
                    "the row holds one cell of text and nothing else (a heading such as a province's "
                    "name, a note or a signature), not a person: delete it from the list"
                )
            elif rule == "sign_off_row":
                why = (
                    "the row is part of a sign-off under the list (Prepared by, Checked by, ធ្វើនៅ ... "
                    "ថ្ងៃទី ..., a signer's title), not a person: delete it from the list"
                )
            elif rule == "other_header":
                why = (
                    "the row is a second header whose columns are not the first header's, or a row "
                    "under it (a second list pasted under the first): its cells cannot be read by the "
                    "first header; move them under its columns, or send them as a list of their own"
                )
            elif rule == "unclosed_quote":
                why = (
                    f"{where or 'a cell'}: a quote opens here and is not closed on this line; "
                    "the lines after it were read as rows of their own"
                )
            else:
                why = "the line is not valid CSV (a stray quote or character)"
            issues.append(Issue(line, where, rule, why))

    def _ragged(self, rows: Sequence[tuple[int, Sequence[Cell]]], issues: list[Issue]) -> None:
        width = len(self.table.header)
        for line, cells in rows:
            if len(cells) > width and any(cell_text(c) for c in cells[width:]):
                issues.append(
                    Issue(
                        line,
                        None,
                        "ragged_row",
                        f"row has {len(cells)} cells but the header has {width}: "
                        "a delimiter inside an unquoted value shifts the columns",
                    )
                )
            elif len(cells) < width and self.table.kind == "csv":
                why = (
                    "the line is one cell of text, not a row (a note or a footer such as 'Page 1 of "
                    "2', or a row without its delimiters): delete it, or put back its delimiters"
                    if len(cells) == 1
                    else "the row is cut short or its columns are shifted"
                )
                issues.append(
                    Issue(
                        line,
                        None,
                        "ragged_row",
                        f"row has {len(cells)} cells but the header has {width}: {why}",
                    )
                )

    @staticmethod
    def _columns(
        rows: Sequence[tuple[int, Sequence[Cell]]], width: int, typed: bool = True
    ) -> list[list[Cell]]:
        """The rows turned into columns, short rows padded with blanks, cells past the header dropped.

        A boolean cell of a sheet (typed: cells other than text) becomes its text ("True"),
        as it would be read anyway: this keeps it apart from the number 1, which compares
        equal to True when distinct values are sought. CSV cells are all text.
        """
        padded = [
            cells if len(cells) == width else [*cells[:width], *([None] * (width - len(cells)))]
            for _, cells in rows
        ]
        cols = [list(c) for c in zip(*padded, strict=True)] if padded else [[] for _ in range(width)]
        for col in cols if typed else ():
            # every cell, not the distinct ones: a set holding 1 has no room for True
            if any(type(v) is bool for v in col):
                col[:] = [str(v) if type(v) is bool else v for v in col]
        return cols

    @staticmethod
    def _texts(
        name: str, col: list[Cell], lines: list[int], issues: list[Issue], letters: str | None = None
    ) -> list[str]:
        """The column's cells as text; bytes that were not valid text and formulas are issues.

        Broken bytes are replaced in the column too: the exact bytes stay in the archive,
        the store gets a replacement mark. A sheet's formula or error value is named by its
        cell (letters: the column's, as Excel shows it; a sheet's line is its row number).
        """
        distinct = list(set(col))
        literals = {
            v: m[1] for v in distinct if type(v) is str and v[:2] == '="' and (m := _LITERAL.match(v))
        }
        if literals:  # ="0123" is the text 0123 (never a formula: quoted, it computes nothing)
            col[:] = [literals.get(v, v) if type(v) is str else v for v in col]
            distinct = list(set(col))
        marked = {
            v: _MARKS.sub("", v) for v in distinct if type(v) is str and not v.isascii() and _MARKS.search(v)
        }
        if marked:  # a direction mark or BOM inside a name or a date: invisible, and no part of it
            col[:] = [marked.get(v, v) if type(v) is str else v for v in col]
            distinct = list(set(col))
        try:  # CSV: every cell is text, stripped in one C-level pass
            stripped: list[str] | None = list(map(str.strip, distinct))
            strings = distinct
        except TypeError:  # a sheet's numbers and dates, or blanks of short rows
            stripped, strings = None, [v for v in distinct if isinstance(v, str)]
        # the column's text searched once: broken bytes and formulas are rare
        joined = "\x00" + "\x00".join(strings)
        broken = {v for v in strings if _SURROGATE.search(v)} if _has_surrogate(joined) else ()
        maybe = _MAYBE_FORMULA.search(joined)
        formulas = {v for v in strings if v not in broken and _is_formula(v)} if maybe else ()
        nul = joined.count("\x00") > len(strings)  # more NULs than the ones joining the cells
        overlong = len(joined) >= CELL_MAX and max(map(len, strings)) >= CELL_MAX
        # a date column names its error values itself (a number Excel cannot show as a date)
        maybe_error = ("\x00#" in joined or "\x00 " in joined) and name not in DATE_FIELDS
        errors = {v for v in strings if v.strip().upper() in EXCEL_ERRORS} if maybe_error else ()
        for r, v in enumerate(col) if broken or formulas or nul or overlong or errors else ():
            if type(v) is not str:
                continue
            if v in broken:
                why = f"{name}: bytes that are not valid text in the file's encoding"
                issues.append(Issue(lines[r], name, "encoding", why))
                col[r] = v = _SURROGATE.sub("\ufffd", v)
            if nul and "\x00" in v:
                why = f"{name}: a NUL character (zero byte), the mark of a damaged export"
                issues.append(Issue(lines[r], name, "nul_character", why))
                col[r] = v = v.replace("\x00", "\ufffd")
            if overlong and len(v) >= CELL_MAX:  # a workbook's reader cuts a longer cell to the limit
                limit = f"a spreadsheet cell's limit ({CELL_MAX:,}) or more: damaged"
                why = f"{name}: {len(v):,} characters, {limit}"
                issues.append(Issue(lines[r], name, "cell_too_long", why))
            elif v in formulas:
                issues.append(Issue(lines[r], name, "formula", _formula_reason(name, letters, lines[r])))
            elif v in errors:
                where = f"cell {letters}{lines[r]} holds " if letters else ""
                why = f"{name}: {where}an Excel error value (#N/A, #REF! ...): the formula behind it failed"
                issues.append(Issue(lines[r], name, "excel_error", why))
        if broken or nul or stripped is None:
            done = {v: cell_text(v) for v in set(col)}
        else:
            done = dict(zip(distinct, stripped, strict=True))
        return list(map(done.__getitem__, col))

    def _dates(
        self,
        cell: dict[str, list[Cell]],
        age_texts: list[str],
        out: dict[str, list[Any]],
        lines: list[int],
        issues: list[Issue],
    ) -> None:
        n = len(age_texts)

        def parse(field: str, raw: Cell) -> tuple[Any, Template | None]:
            if raw is None or cell_text(raw) == "":
                return None, None
            return self._date(field, bare(raw.strip()) if isinstance(raw, str) else raw)

        order_issues, notes = settle_order(
            {f: cell[f] for f in DATE_FIELDS if f in cell},
            lines,
            source_month_first=self.mapping.date_order == "month_first",
        )
        issues.extend(Issue(*p) for p in order_issues)
        self.table.notes.extend(notes)
        precision: list[str | None] = [None] * n
        for f in DATE_FIELDS:
            if f not in cell:
                out[f] = [None] * n
                continue
            found = spread_checked(cell[f], lambda raw, f=f: parse(f, raw), lines, issues)
            if self.table.kind == "xlsx":
                _month_first(f, cell[f], lines, issues)
            out[f] = [p.value if p is not None else None for p in found]
            if f == "birth_date":
                precision = [p.precision if p is not None else None for p in found]
        out["age"] = ages = spread_checked(age_texts, _age, lines, issues)
        years: list[int | None] = []
        for r, (bd, age) in enumerate(zip(out["birth_date"], ages, strict=True)):
            if bd:
                years.append(bd.year)
            elif age is not None:
                years.append((out["return_date"][r] or self.today).year - age)
                precision[r] = "age"
            else:
                years.append(None)
                precision[r] = None
        out["birth_year"] = years
        out["birth_precision"] = precision

    def _simple(
        self,
        text: dict[str, list[str]],
        blank: list[str],
        out: dict[str, list[Any]],
        lines: list[int],
        issues: list[Issue],
    ) -> None:
        for f, fn in (("sex", _sex), ("phone", _phone), ("national_id", _national_id)):
            out[f] = spread_checked(text.get(f, blank), fn, lines, issues)
        out["travel_doc_no"] = spread(text.get("travel_doc_no", blank), lambda t: _ids(t) or None)
        out["country"] = spread_checked(text.get("country", blank), _country, lines, issues)
        out["point_of_entry"] = spread(text.get("point_of_entry", blank), _point_of_entry)
        out["case_status"] = spread(text.get("case_status", blank), _status)
        out["consent"] = spread_checked(text.get("consent", blank), _consent, lines, issues)
        for f in PLAIN_FIELDS:
            out[f] = [t or None for t in text.get(f, blank)]
        out["sector"] = [s.lower() if s else s for s in out["sector"]]

    def _required(
        self, out: dict[str, list[Any]], text: dict[str, list[str]], lines: list[int], issues: list[Issue]
    ) -> None:
        """Blank required values (unless that column already has a problem) and one-of groups."""
        flagged = {(i.line, i.column) for i in issues}
        for f in self.mapping.required_values:
            if f not in self.positions:
                continue
            for line, value in zip(lines, out.get(_canonical_target(f), [None] * len(lines)), strict=True):
                if not value and (line, f) not in flagged:
                    issues.append(Issue(line, f, "required", f"{f}: required value is blank"))
        for group in self.mapping.one_of:
            given = [text[f] for f in group if f in text]
            for r, line in enumerate(lines):
                if not any(t[r] for t in given):
                    issues.append(
                        Issue(line, "/".join(group), "required", f"one of {', '.join(group)} must be given")
                    )


_LOST = "??"
LOST_REASON = (
    "the text is question marks (????): the file was saved in an encoding that has no Khmer "
    "(Excel's 'CSV (Comma delimited)' or 'Text'), which wrote ? for each Khmer letter; save "
    "the list as 'CSV UTF-8' or send the .xlsx"
)


_LATIN_NAMES = ("full_name", "family_name", "given_name")


def _lost_to_question_marks(text: dict[str, list[str]], lines: list[int], issues: list[Issue]) -> None:
    """A name saved as ?? ????: its letters are lost, so it is no name to link by (every
    such name would match every other). Where the row still has its Latin name, the lost
    Khmer one is left blank and the row loads with a warning; else the row is quarantined,
    and the sender must send the list again in an encoding that keeps Khmer (a replay of
    the same bytes cannot help)."""
    latin = [text[f] for f in _LATIN_NAMES if f in text]

    def has_latin(r: int) -> bool:
        return any(col[r].strip() and _LOST not in col[r] for col in latin)

    for f in (*NAME_FIELDS, "father_name"):
        col = text.get(f)
        if col is None or _LOST not in "\x00".join(set(col)):
            continue
        for r, v in enumerate(col):
            if _LOST not in v:
                continue
            if f.endswith("_kh") and has_latin(r):
                col[r] = ""
                issues.append(Issue(lines[r], f, "lost_characters", f"{f}: {LOST_REASON}", "warning"))
            else:
                issues.append(Issue(lines[r], f, "lost_characters", f"{f}: {LOST_REASON}"))


_DAY_FIRST_TEXT = re.compile(r"^\s*(1[3-9]|2\d|3[01])[/.\-](0?[1-9]|1[0-2])[/.\-]\d{4}\s*$")


def _month_first(field: str, col: list[Cell], lines: list[int], issues: list[Issue]) -> None:
    """Dates an Excel set to month-first (MM/DD/YYYY) may have swapped: DD/MM/YYYY typed into
    it becomes a date when the day is 12 or less (05/06/2024 is 6 May) and stays text when it
    is not (13/06/2024). A date column holding both is the mark; its converted dates whose
    day and month differ are quarantined for the officer to check, never loaded as they are."""
    converted = [v for v in col if isinstance(v, dt.date)]
    if not converted or not any(type(v) is str and _DAY_FIRST_TEXT.match(v) for v in col):
        return
    # Swapped, every converted date has a day of 12 or less (it was the month); a column
    # whose real dates include a 13th or later was typed month-first or picked (a list whose
    # clerk typed some dates as text and others as dates is no mark).
    if any(v.day > 12 for v in converted):
        return
    severity = "warning" if field == "last_follow_up_date" else "error"
    why = (
        f"{field}: the column holds dates Excel converted and dates it left as text with a day "
        "above 12, the mark of DD/MM/YYYY typed into an Excel set to MM/DD/YYYY: this date's day "
        "and month may be swapped; check them, format the column as text, and send again"
    )
    for r, v in enumerate(col):
        if isinstance(v, dt.date) and v.day <= 12 and v.day != v.month:
            issues.append(Issue(lines[r], field, "date_month_first", why, severity))


def _letters(position: int) -> str:
    """A sheet's column letters (0 -> A, 26 -> AA), as Excel names its cells."""
    out = ""
    n = position + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _formula_reason(name: str, letters: str | None, line: int) -> str:
    """A formula with no value: a sheet's names its cell and what to do (a workbook written by
    a program holds formulas no spreadsheet has computed yet); a CSV's is text typed with =."""
    if letters is None:
        return f"{name}: the cell holds a spreadsheet formula, not a value"
    return (
        f"{name}: cell {letters}{line} holds a formula with no value saved with it (the workbook "
        "was written by a program and never calculated); open it in Excel, save it there so "
        "each formula's value is kept, and send it again"
    )


def _canonical_target(field: str) -> str:
    """Where a mapped column's value lands in the record (a place keeps its text beside its code)."""
    if field in PLACE_FIELDS:
        return f"{field}_text"
    return {"full_name_kh": "name_kh"}.get(field, field)
