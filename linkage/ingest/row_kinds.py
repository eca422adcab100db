"""Rows of a list that are no man: the header printed again, a row numbering the columns, a
totals row.

Why: lists are often pasted together from printed pages (each with its header) or carry a
row of column numbers under the header and a total at the bottom. Read as records they were
quarantined for a bad date, and a row of column numbers took the record id 1, so the list's
real first row was quarantined as its duplicate. A header again or the column numbers are
not read as rows, and the notes say on which lines; a totals row is quarantined as one, so
an officer sees it for what it is (it cannot be a man, but it is never dropped unseen).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from linkage.normalise.khmer import khmer_digits_to_ascii

_NUMBERED = re.compile(r"^[(\[]?(\d{1,3})[)\].]?$")
_TOTAL_STARTS = ("t", "g", "s", "ស", " ")
_TOTAL = re.compile(r"^(total|totals|grand total|sum|សរុប|សរុបរួម|សរុបទាំងអស់)\b", re.IGNORECASE)


def cell_text(cell: Any) -> str:
    """A cell as text: blank for None, a whole float without its ".0" (as a sheet shows it)."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def repeats_header(cells: Sequence[Any], header_keys: list[str], key: Callable[[Any], str]) -> bool:
    """Half or more of the header's named cells (two at least) say their own column's name."""
    named = [(i, k) for i, k in enumerate(header_keys) if k]
    same = sum(1 for i, k in named if i < len(cells) and cells[i] is not None and key(cells[i]) == k)
    return same >= 2 and same * 2 >= len(named)


def numbers_columns(cells: Sequence[Any]) -> bool:
    """Cells that count the columns: 1, 2, 3 ... (or (១), (២) ...), three at least, nothing else."""
    texts = [cell_text(c) for c in cells]
    filled = [t for t in texts if t]
    if len(filled) < 3 or len(filled) * 2 < len(texts):
        return False
    numbers = []
    for t in filled:
        m = _NUMBERED.match(khmer_digits_to_ascii(t))
        if not m:
            return False
        numbers.append(int(m[1]))
    return numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def is_totals(cells: Sequence[Any]) -> bool:
    """The first filled cell says Total (or សរុប), and at most three cells are filled, or
    every other filled cell is a number (a count under each column it counts: ages, phones,
    consents; it was quarantined as a man with no name, its counts as bad phones)."""
    first = next((c for c in cells if c is not None and c != ""), None)
    if type(first) is not str or not _TOTAL.match(first.strip()):
        return False
    filled = [c for c in cells if cell_text(c)]
    return len(filled) <= 3 or all(_is_number(c) for c in filled[1:])


_DIGIT = re.compile(r"[0-9\u17e0-\u17e9]")


def is_summary(cells: Sequence[Any]) -> bool:
    """A line of a summary under a totals row: a word with no digit first (Men, ស្រី, Average
    age), then a number, at most three cells filled. Why only under a total: above one, a
    row of a word and a number may be a man's half-typed row, which its checks name."""
    filled = [c for c in cells if cell_text(c)]
    if not 2 <= len(filled) <= 3 or type(filled[0]) is not str or _DIGIT.search(filled[0]):
        return False
    return any(_is_number(c) for c in filled[1:])


def _is_number(cell: Any) -> bool:
    """A number, or text that is one (Latin or Khmer digits, a decimal point)."""
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        return True
    return bool(re.fullmatch(r"-?\d+(?:[.,]\d+)?%?", khmer_digits_to_ascii(cell_text(cell))))


_TITLE_WORDS = frozenset(
    ("no", "name", "names", "family", "given", "sex", "gender", "age", "birth", "date", "dob")
    + ("village", "commune", "district", "province", "country", "return", "border", "father")
    + ("id", "card", "phone", "remarks", "remark", "address", "nationality", "passport", "case")
    + ("contact", "notes", "day", "month", "year")
)
_KHMER_TITLE_WORDS = (
    "ឈ្មោះ",
    "នាម",
    "ភេទ",
    "អាយុ",
    "ថ្ងៃ",
    "ខែ",
    "ឆ្នាំ",
    "ភូមិ",
    "ឃុំ",
    "ស្រុក",
    "ខេត្ត",
    "ប្រទេស",
    "ច្រក",
    "ឪពុក",
    "អត្តសញ្ញាណ",
    "ទូរស័ព្ទ",
    "ផ្សេងៗ",
    "ល.រ",
    "លេខ",
    "ទីលំនៅ",
)


def _titles_a_column(text: str) -> bool:
    if text.isascii():
        return bool(_TITLE_WORDS.intersection(re.findall(r"[a-z]+", text.lower())))
    return any(w in text for w in _KHMER_TITLE_WORDS)


def is_title_row(cells: Sequence[Any]) -> bool:
    """Column titles in another language (the English row under a Khmer header, or the
    reverse), or the sub-titles of a header (ថ្ងៃ ខែ ឆ្នាំ): text only, no digit in any
    cell (a man's row has its return date, a row number or an id), and at least two
    cells, two of them words that title a column (Name, Date of birth, ភូមិ ...)."""
    filled = []
    for c in cells:
        if c is None or c == "":
            continue
        if type(c) is not str or _DIGIT.search(c):
            return False
        if c.strip():
            filled.append(c.strip())
    return len(filled) >= 2 and sum(map(_titles_a_column, filled)) >= 2


def is_heading(cells: Sequence[Any]) -> bool:
    """One cell of text and nothing else, with no digit: a heading over the rows below it
    (a province's name, ក្រុមទី... spelt out), a note, a signature's title. Never a man's row,
    which has its return date; quarantined as what it is, not as a man with blanks."""
    filled = [c for c in cells if c]
    return len(filled) == 1 and type(filled[0]) is str and not _DIGIT.search(filled[0])


_ROW_NUMBER = re.compile(r"^\d{1,5}\.?$")

# how a sign-off under a list begins: who prepared, checked or approved it, where and when it
# was done (ធ្វើនៅ ... ថ្ងៃទី ...), a signature's place, the signer's title (ប្រធាន ...)
_SIGN_OFF = re.compile(
    r"^(?:(?:prepared|checked|approved|verified|reported|compiled|reviewed|submitted|signed)\s+by\b"
    r"|signature\b|signed\b|date\s*[:៖]|done\s+(?:at|in)\b"
    r"|ធ្វើនៅ|រៀបចំដោយ|ពិនិត្យដោយ|បានពិនិត្យ|បានឃើញ|ឯកភាព|ហត្ថលេខា|អ្នករៀបចំ|អ្នកពិនិត្យ|ប្រធាន)",
    re.IGNORECASE,
)


def is_sign_off(cells: Sequence[Any]) -> bool:
    """A line of a sign-off under a list: a cell of text begins it (Prepared by:, ធ្វើនៅ ...
    ថ្ងៃទី ១០ ..., Date: 10/06/2024), at most four cells filled. Why: read as a man's row it
    was quarantined for a bad return date or a missing name, which sends an officer looking
    for a man; a man's row fills more cells (his id, name, return date and more)."""
    if sum(map(bool, cells)) > 4:  # a cheap look first: a man's row fills more (zero is filled)
        return False
    filled = [c for c in cells if c is not None and c != ""]
    if not 1 <= len(filled) <= 4:
        return False
    return any(type(c) is str and _SIGN_OFF.match(c.strip()) for c in filled)


def template_lines(
    rows: list[tuple[int, list[Any]]], header: Sequence[Any]
) -> tuple[list[tuple[int, list[Any]]], list[int]]:
    """(rows that may be men, lines that hold only a row number): a printed template's empty
    lines, numbered down the list's first column and nothing else filled in. Why: read as
    rows they were quarantined by the dozen as men without a name or a return date."""
    first = next((i for i, h in enumerate(header) if h not in (None, "")), 0)
    empty = []
    for n, (_, cells) in enumerate(rows):
        if first >= len(cells) or cells[first] is None or cells[first] == "":
            continue
        if any(c is not None and cell_text(c) for j, c in enumerate(cells) if j != first):
            continue
        if _row_number(cells[first]):
            empty.append(n)
    if not empty:
        return rows, []
    drop = set(empty)
    return [r for n, r in enumerate(rows) if n not in drop], [rows[n][0] for n in empty]


def _row_number(value: Any) -> bool:
    if type(value) is int or type(value) is float and value.is_integer():
        return 0 < value < 100_000
    return type(value) is str and bool(_ROW_NUMBER.match(khmer_digits_to_ascii(value.strip())))


def template_note(lines: list[int]) -> str:
    return (
        f"{len(lines)} line(s) hold only a row number, a printed template's empty lines "
        f"(line(s) {_lines(lines)}): not read as rows, counted as blank"
    )


def _first_text(cells: Sequence[Any]) -> str:
    """The row's first cell when it is text, else its first filled cell's text (a cheap look)."""
    first = cells[0] if cells else None
    if first is None or first == "":
        first = next((c for c in cells if c is not None and c != ""), "")
    return first if type(first) is str else ""


def sort_rows(
    rows: list[tuple[int, list[Any]]], header: Sequence[Any], key: Callable[[Any], str]
) -> tuple[list[tuple[int, list[Any]]], list[str], dict[int, str]]:
    """(rows that may be men, notes on the rows that are not read, totals and heading
    rows by line: the rule each is quarantined by)."""
    header_keys = [key(h) if h not in (None, "") else "" for h in header]
    probe, probe_text = next(
        ((i, cell_text(h).lower()) for i, h in enumerate(header) if header_keys[i]), (0, "")
    )
    # cheap looks first, over every row (a list has 100,000); the few rows they pick are checked
    maybe_header = {
        n
        for n, (_, cells) in enumerate(rows)
        # a BOM before it: two exports pasted into one file, each with its own
        if probe < len(cells)
        and type(cells[probe]) is str
        and probe_text
        and probe_text in cells[probe].lower()
    }
    maybe_total = {n for n, (_, cells) in enumerate(rows) if _first_text(cells)[:1].lower() in _TOTAL_STARTS}
    drop = {n for n in maybe_header if repeats_header(rows[n][1], header_keys, key)}
    rows, reordered, other = _second_headers(rows, header_keys, key, drop)
    drop = (drop | set(reordered)) - {n for n in drop if rows[n][0] in other}
    again = [rows[n][0] for n in sorted(drop) if n not in reordered]
    # the header again in two languages (a row of each) or over two rows: its other row
    titles = {
        m
        for n in drop
        for m in (n - 1, n + 1)
        if 0 <= m < len(rows) and m not in drop and is_title_row(rows[m][1])
    }
    drop |= titles
    numbered = [rows[0][0]] if rows and 0 not in drop and numbers_columns(rows[0][1]) else []
    if numbered:
        drop.add(0)
    totals = {rows[n][0]: "totals_row" for n in sorted(maybe_total - drop) if is_totals(rows[n][1])}
    if totals:  # the summary kept under a total (Men 5, Women 0, ប្រុស ៥): no man either
        last = max(n for n, (line, _) in enumerate(rows) if line in totals)
        totals.update((line, "totals_row") for line, cells in rows[last + 1 :] if is_summary(cells))
    totals.update(
        (line, "heading_row")
        for n, (line, cells) in enumerate(rows)
        if len(cells) > 1
        and sum(map(bool, cells)) == 1
        and n not in drop
        and line not in totals
        and is_heading(cells)
    )
    totals.update(
        (line, "sign_off_row")
        for n, (line, cells) in enumerate(rows)
        if n not in drop and line not in totals and line not in other and is_sign_off(cells)
    )
    totals.update(other)
    kept = [r for n, r in enumerate(rows) if n not in drop] if drop else rows
    notes = []
    if again:
        notes.append(f"the header is repeated on line(s) {_lines(again)}: not read as rows")
    if reordered:
        lines = [rows[n][0] for n in sorted(reordered)]
        notes.append(
            f"the header is repeated on line(s) {_lines(lines)} with its columns in another order "
            "(a second list pasted under the first): the rows under it are read by it"
        )
    if other:
        notes.append(
            f"line(s) {_lines(sorted(other))} are a second header with other columns and the rows "
            "under it (a second list pasted under the first): quarantined, not read by the first header"
        )
    if titles:
        lines = sorted(rows[m][0] for m in titles)
        notes.append(f"line(s) {_lines(lines)} beside a repeated header title its columns: not read as rows")
    if numbered:
        notes.append(f"line {numbered[0]} numbers the columns (1, 2, 3 ...): not read as a row")
    return kept, notes, totals


def _second_headers(
    rows: list[tuple[int, list[Any]]], header_keys: list[str], key: Callable[[Any], str], drop: set[int]
) -> tuple[list[tuple[int, list[Any]]], list[int], dict[int, str]]:
    """A second list pasted under the first with its own header, its columns in another order
    or not the same columns: (the rows, those under a reordered header put in the first
    header's order; the reordered headers' row indexes; lines quarantined as other_header).

    Why: the rows under such a header were read by the first header's columns, a phone as a
    travel document, a return date as a referral date: loaded garbled or quarantined for the
    wrong cell. Read by their own header when it names the same columns (nothing is lost), or
    quarantined, the header with them, when it does not (a column the first has not)."""
    named = {k for k in header_keys if k}
    if len(named) < 2:
        return rows, [], {}
    at = {k: i for i, k in enumerate(header_keys) if k}

    def titles(cells: Sequence[Any]) -> list[str]:
        return [key(c) if type(c) is str and c.strip() else "" for c in cells]

    found = []
    for n, (_, cells) in enumerate(rows):
        if n in drop:  # the header again, half or more in place: the rest too?
            keys = titles(cells)
            # a title in another column's place; one spelt otherwise in its own is a repeat still
            moved = any(
                k in named and (j >= len(header_keys) or k != header_keys[j]) for j, k in enumerate(keys)
            )
            if moved:
                found.append((n, keys))
            continue
        first = _first_text(cells)
        if not first or len(first) > 60:
            continue
        # a cheap look first (a list whose rows begin with a name has 100,000): titles hold no
        # digit, a man's row does (his return date at least); the list's repr is one C call
        if _DIGIT.search(repr(cells)) or key(first) not in named:
            continue
        keys = titles(cells)
        hits = named.intersection(keys)
        if len(hits) >= 2 and len(hits) * 2 >= len(named):
            found.append((n, keys))
    if not found:
        return rows, [], {}
    ends = sorted({*drop, *(n for n, _ in found), len(rows)})
    rows = list(rows)
    reordered: list[int] = []
    other: dict[int, str] = {}
    for n, keys in found:
        end = next(e for e in ends if e > n)
        block = range(n + 1, end)
        titled = [k for k in keys if k]
        same = len(titled) == len(set(titled)) and set(titled) == {k for k in header_keys if k}
        spare = [j for j, k in enumerate(keys) if not k]
        if same and not any(j < len(rows[m][1]) and cell_text(rows[m][1][j]) for m in block for j in spare):
            reordered.append(n)
            for m in block:
                line, cells = rows[m]
                moved: list[Any] = [None] * len(header_keys)
                for j, k in enumerate(keys):
                    if k and j < len(cells):
                        moved[at[k]] = cells[j]
                rows[m] = (line, moved + list(cells[len(keys) :]))
        else:
            other.update((rows[m][0], "other_header") for m in (n, *block))
    return rows, reordered, other


def _lines(lines: list[int]) -> str:
    shown = ", ".join(map(str, lines[:10]))
    return shown + (f" and {len(lines) - 10} more" if len(lines) > 10 else "")
