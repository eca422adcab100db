"""Read CSV and XLSX deliveries into a header plus numbered rows, refusing what is unsafe.

Why by content, not by name: a file called .xlsx may be a CSV, an old .xls or a zip bomb;
what we do with it depends on its bytes. Every row keeps its line number in the file so a
rejection can say where to look.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import sys
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from charset_normalizer import from_bytes

from linkage.ingest.date_parts import part_word, title_field
from linkage.ingest.errors import DeliveryRejected
from linkage.ingest.file_kinds import not_a_list, outlook_message, zip_of_files
from linkage.ingest.row_kinds import is_title_row, sort_rows, template_lines, template_note
from linkage.ingest.safe_text import label, storable
from linkage.ingest.sheet_cells import (
    fill_merged_down,
    formula_cells,
    hidden_rows,
    merged_ranges,
    pad_by_format,
    sheet_part,
    trust_no_dimension,
    use_saved_values,
)
from linkage.ingest.sheet_xml import sheet_values
from linkage.normalise.khmer import normalise_khmer

Cell = str | int | float | dt.datetime | dt.date | None
DELIMITERS = [",", ";", "\t", "|"]
# Python's csv refuses a field over 131,072 characters by raising; the file's size is
# already capped (max_file_bytes), and an overlong cell is quarantined by its row instead.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass
class RawTable:
    header: list[str]
    rows: list[tuple[int, list[Cell]]]
    header_line: int
    encoding: str
    kind: str  # csv | xlsx
    blank_rows: int = 0
    epoch_1904: bool = False
    delimiter: str | None = None
    notes: list[str] = field(default_factory=list)
    # line -> (rule, column position or None): rows the reader found broken
    row_problems: dict[int, tuple[str, int | None]] = field(default_factory=dict)
    # columns whose values were folded into another's (a date's day, month, year parts)
    folded: set[int] = field(default_factory=set)


def header_key(text: Any) -> str:
    """Compare headers loosely: case, spaces, BOM, underscores and Khmer encodings ignored."""
    s = normalise_khmer(unicodedata.normalize("NFKC", str(text or ""))).replace("\ufeff", "")
    # a form's marks around a title: "Date of return *" (required), "Full Name:", "ភេទ៖",
    # "IOM Case No.*", "Consent?"; and No., Number, Num, # as one word ("Phone No." is
    # "phone number", "Case #" is "case no"): titles templates and officers write
    s = re.sub(r"[\s_\-]+", " ", s).strip().strip("*:៖.?").strip().lower()
    # a form's question number before its title: "1. Case No", "Q2) Full name", "១. ភេទ"
    s = _QUESTION_NUMBER.sub("", s, count=1)
    return _NUMBER_WORD.sub("no", s) if "n" in s or "#" in s else s


_QUESTION_NUMBER = re.compile(r"^(?:q\s?)?[0-9០-៩]{1,2}\s?[.)]\s?(?=[^\d\s.)])")


_NUMBER_WORD = re.compile(r"\b(?:number|num|nbr)\b|(?<=\w )#$|(?<=\w)#$|\bn°")


_KHMER_LETTER = re.compile(r"[\u1780-\u17ff]")
_SPACES = re.compile(r"\s+")
_TITLE_PARTS = re.compile(r"[\r\n()\[\]]+|\s+/\s+")


def known_part(text: Cell, known: set[str]) -> str | None:
    """The part of a header cell this source knows: the whole cell, or one language of a
    title written in two ("នាមត្រកូល\nFamily name", "ភេទ (Sex)"); None when neither is known."""
    if text in (None, ""):
        return None
    whole = str(text)
    if header_key(whole) in known:
        return whole
    # a Khmer title broken over two lines inside its cell: Khmer puts no space between words,
    # so "ថ្ងៃខែឆ្នាំ\nកំណើត" is ថ្ងៃខែឆ្នាំកំណើត
    if _KHMER_LETTER.search(whole) and header_key(joined := _SPACES.sub("", whole)) in known:
        return joined
    if _TITLE_PARTS.search(whole):
        part = next((p for p in _TITLE_PARTS.split(whole) if header_key(p) in known), None)
        if part is not None:
            return part
    # a form tool's group path before the question: "client_info/client_id" (KoboToolbox, ODK)
    steps = whole.split("/")
    return next((t for k in range(1, len(steps)) if header_key(t := "/".join(steps[k:])) in known), None)


def _named_by_parts(cells: list[Cell], known: set[str]) -> tuple[list[Cell], int]:
    """The header with each two-language title replaced by its known part, and how many were."""
    out, done = [], 0
    for c in cells:
        part = known_part(c, known)
        if part is not None and part != c:
            out.append(part)
            done += 1
        else:
            out.append(c)
    return out, done


def _parts_note(n: int) -> str:
    return (
        f"{n} header cell(s) name their column in two languages, or with a unit or a note (in brackets, "
        "after a slash or on a second line): read by the name this source knows"
    )


def sniff_kind(data: bytes) -> str:
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        if _is_xls(data):
            return "xls"
        raise _office_container(data)
    if data[:5] in (b"%PDF-",):
        raise DeliveryRejected("not_a_list", "this is a PDF, not a CSV or Excel list")
    if data[:2] == b"\x1f\x8b":
        raise DeliveryRejected("not_a_list", "this is a gzip-compressed file; unpack it and send the list")
    if data[:6] in (b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c"):
        raise DeliveryRejected("not_a_list", "this is a RAR or 7z archive; unpack it and send the list")
    if why := _markup_kind(data[:2048]) or not_a_list(data):
        raise DeliveryRejected("not_a_list", why)
    return "csv"


def _is_xls(data: bytes) -> bool:
    """An OLE2 container holding an Excel 97-2003 workbook stream (and no encrypted package,
    which is an .xlsx saved with a password)."""
    head = data[: 1 << 20]
    if "EncryptedPackage".encode("utf-16-le") in head or "WordDocument".encode("utf-16-le") in head:
        return False
    if outlook_message(head):  # an e-mail whose attached .xls holds these names too
        return False
    return "Workbook".encode("utf-16-le") in head or "Book".encode("utf-16-le") in head


def read_xls_table(
    data: bytes, known: set[str], search_rows: int, persons: frozenset[str] = frozenset()
) -> RawTable:
    """An .xls read by the rules of a workbook (list_of_sheets): its merged cells filled down."""
    from linkage.ingest.xls import read_xls

    found, epoch_1904 = read_xls(data)
    sheets = [_Sheet(n, x.title, x.hidden, x.rows, None) for n, x in enumerate(found, 1)]
    merges = {id(sh.rows): x.merges for sh, x in zip(sheets, found, strict=True)}

    def shows(sheet: _Sheet, table: RawTable) -> None:
        assert sheet.header_at is not None
        if n := fill_merged_down(sheet.rows, merges[id(sheet.rows)], sheet.header_at):
            table.notes.append(f"{n} cell(s) of merged ranges given the value shown at the range's top")

    table = list_of_sheets(sheets, known, search_rows, epoch_1904, shows, encoding="xls", persons=persons)
    table.notes.append("an Excel 97-2003 workbook (.xls): read as a workbook")
    return table


def _office_container(data: bytes) -> DeliveryRejected:
    """What an OLE2 container (Office's old file format) holds, by the names of its streams
    (UTF-16 in its directory): a workbook saved with a password, an .xls, or another document."""
    head = data[: 1 << 20]
    if "EncryptedPackage".encode("utf-16-le") in head or "EncryptionInfo".encode("utf-16-le") in head:
        return DeliveryRejected(
            "password_protected",
            "the workbook is protected by a password, so it cannot be read; open it, remove the "
            "password (File > Info > Protect Workbook > Encrypt with Password, clear it), save "
            "and send again, and give the password to no one by the same channel",
        )
    if "WordDocument".encode("utf-16-le") in head:
        return DeliveryRejected("not_a_list", "this is a Word document (.doc), not a CSV or Excel list")
    if why := outlook_message(head):
        return DeliveryRejected("not_a_list", why)
    return DeliveryRejected(
        "old_excel", "this is an Excel 97-2003 (.xls) workbook; save it as .xlsx and send again"
    )


def _markup_kind(head: bytes) -> str | None:
    """A web page or an Excel 2003 XML sheet, which web systems' 'export to Excel' often send."""
    text = head.lstrip(codecs.BOM_UTF8).lstrip().lower()
    if b"urn:schemas-microsoft-com:office:spreadsheet" in head.lower() or (
        text.startswith(b"<?xml") and b"<workbook" in text
    ):
        return "this is an Excel 2003 XML spreadsheet; open it in Excel, save it as .xlsx and send again"
    if text.startswith((b"<!doctype html", b"<html")) or (text.startswith(b"<") and b"<table" in text):
        return (
            "this is a web page (HTML), not a CSV or Excel list, though it may be named .xls; "
            "open it in Excel, save it as .xlsx and send again"
        )
    return None


# --- text decoding -----------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str, list[int]]:
    """Return (text, encoding, lines with undecodable bytes). Refuses what it cannot tell."""
    if data.startswith(codecs.BOM_UTF8):
        return _utf8(data[3:], "utf-8-sig")
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: same start
        return _wide(data, "utf-32", "UTF-32")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _wide(data, "utf-16", "UTF-16", says=True)
    sample = data[:4096]
    if sample and sample.count(b"\x00") > len(sample) // 4:
        return _nul_padded(data, sample)
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    valid_multibyte = len(re.findall(rb"[\xc2-\xf4][\x80-\xbf]+", data))
    high_bytes = len(re.findall(rb"[\x80-\xff]", data))
    if valid_multibyte and valid_multibyte * 2 >= high_bytes // 3:
        return _utf8(data, "utf-8")  # UTF-8 with some broken bytes: quarantine those rows
    guess = from_bytes(data).best()
    if guess is not None and guess.encoding in {"cp1252", "latin_1", "iso8859_15", "cp1250"}:
        try:
            return data.decode("cp1252"), "cp1252", []
        except UnicodeDecodeError:
            pass
    raise DeliveryRejected(
        "encoding",
        "cannot tell the file's text encoding (not UTF-8, UTF-16 or Windows-1252); "
        "save it as 'CSV UTF-8' and send again",
    )


def _nul_padded(data: bytes, sample: bytes) -> tuple[str, str, list[int]]:
    """A file with many zero bytes: UTF-32 or UTF-16 without a byte-order mark (zero bytes
    in the same places of each ASCII character), else damaged (say so, not "no header")."""
    quarters = [sample[i::4].count(0) / max(len(sample[i::4]), 1) for i in range(4)]
    # a character of the Basic Multilingual Plane (Latin, Khmer) has two zero bytes in UTF-32
    if len(data) % 4 == 0 and min(quarters[2:]) > 0.9 and quarters[0] < 0.5:
        return _wide(data, "utf-32-le", "UTF-32")
    if len(data) % 4 == 0 and min(quarters[:2]) > 0.9 and quarters[3] < 0.5:
        return _wide(data, "utf-32-be", "UTF-32")
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    if min(odd, even) <= 0.1 * max(odd, even):  # UTF-16: zeros on one side of each unit only
        return _wide(data, "utf-16-le" if odd > even else "utf-16-be", "UTF-16")
    share = sample.count(0) * 100 // len(sample)
    raise DeliveryRejected(
        "nul_bytes",
        f"{share}% of the file's first bytes are zero bytes (NUL), in no text encoding's pattern: "
        "the file is damaged or is not a CSV or Excel list; export it again",
    )


def _mark_broken(exc: UnicodeError) -> tuple[str, int]:
    """A codec error handler: each broken code unit becomes a lone surrogate, which marks its
    line (like a byte that is not UTF-8) and is stored as U+FFFD."""
    assert isinstance(exc, UnicodeDecodeError)
    return "\udcff", exc.end


codecs.register_error("survivor_link_mark", _mark_broken)


def _wide(data: bytes, encoding: str, label: str, says: bool = False) -> tuple[str, str, list[int]]:
    """UTF-16 or UTF-32 text. A few broken code units (a copy cut one byte short, a lone
    surrogate) mark their lines, whose rows are quarantined; the other rows load. Many
    mean the file is not that encoding at all, and it is refused."""
    try:
        return data.decode(encoding), encoding, []
    except UnicodeDecodeError:
        pass
    cut = encoding.startswith("utf-16") and len(data) % 2 == 1  # a copy cut short by one byte
    text = data[: len(data) - cut].decode(encoding, errors="survivor_link_mark")
    if cut:
        text += "\udcff" if text[-1:] not in ("\n", "\r") else ""  # a row cut short is marked
    broken = text.count("\udcff")
    if broken > max(2, len(text) // 1000):
        what = f"the file says {label}" if says else f"the file looks like {label} text"
        raise DeliveryRejected("encoding", f"{what} but {broken:,} of its characters are not valid {label}")
    bad = [i + 1 for i, line in enumerate(text.splitlines()) if "\udcff" in line]
    return text, encoding, bad


def _utf8(data: bytes, name: str) -> tuple[str, str, list[int]]:
    text = data.decode("utf-8", errors="surrogateescape")
    bad = [i + 1 for i, line in enumerate(text.splitlines()) if re.search(r"[\udc80-\udcff]", line)]
    return text, name, bad


# --- header detection ----------------------------------------------------------------------


def find_header(rows: list[list[Cell]], known: set[str], search_rows: int) -> int:
    """Index of the row that names the most known columns (title rows above are skipped)."""
    best, best_hits = -1, 0
    for i, row in enumerate(rows[:search_rows]):
        hits = len({header_key(k) for c in row if (k := known_part(c, known)) is not None})
        if hits > best_hits:
            best, best_hits = i, hits
    if best < 0 or best_hits < 2:
        if (deeper := _header_further_down(rows, known, search_rows)) is not None:
            return deeper
        raise DeliveryRejected(
            "no_header",
            f"no header row found in the first {search_rows} rows: none names at "
            "least two of this source's known columns" + _why_no_header(rows[:search_rows], known),
        )
    return best


# Khmer letters in UTF-8 (E1 9E xx, E1 9F xx) read as Windows-1252: "áž", "áŸ"
_KHMER_MOJIBAKE = re.compile("\u00e1[\u017e\u0178]")


def _why_no_header(rows: list[list[Cell]], known: set[str]) -> str:
    """What the rows show instead of a header, when it is a known mistake: the Khmer of a file
    opened as Windows-1252 and saved again, or a CSV pasted whole into one column."""
    texts = [c for row in rows for c in row if isinstance(c, str)]
    if sum(len(_KHMER_MOJIBAKE.findall(t)) for t in texts) >= 4:
        return (
            ". Its Khmer text is garbled (letters shown as 'áž' or 'áŸ'): the file was opened as "
            "Windows-1252 (ANSI) and saved again, and some letters are lost; send the list from "
            "the workbook or file it was first typed in, saved as 'CSV UTF-8' or as .xlsx"
        )
    for row in rows:
        filled = [c for c in row if not _blank(c)]
        if len(filled) != 1 or not isinstance(filled[0], str):
            continue
        for sep, said in ((",", "commas"), (";", "semicolons"), ("\t", "tabs"), ("|", "'|'")):
            cells = next(csv.reader([filled[0]], delimiter=sep), [])
            if len({header_key(k) for c in cells if (k := known_part(c, known)) is not None}) >= 2:
                return (
                    f". The list sits in one column, each row a line of text with its cells "
                    f"separated by {said} (a CSV pasted into the sheet): select the column, use "
                    "Data > Text to Columns (Delimited) and save, or send it as the CSV file itself"
                )
    return ""


# a covering letter or a long title block typed above the list: its header is looked for this
# far down, and taken only when it names this many of the source's columns (a letter's line
# may name one or two by chance)
HEADER_FURTHER_ROWS = 200
HEADER_FURTHER_HITS = 4


def _header_further_down(rows: list[list[Cell]], known: set[str], search_rows: int) -> int | None:
    for i, row in enumerate(rows[search_rows:HEADER_FURTHER_ROWS], search_rows):
        names = {header_key(k) for c in row if (k := known_part(c, known)) is not None}
        if len(names) >= HEADER_FURTHER_HITS:
            return i
    return None


def _known_at(cells: list[Cell], known: set[str]) -> list[bool]:
    return [known_part(c, known) is not None for c in cells]


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def header_rows(rows: list[list[Cell]], h: int, known: set[str]) -> tuple[list[Cell], int, int, str]:
    """(the header's cells, its first and last row index, what its second row holds): one
    row, or two when the list's
    header is written over two: group titles such as ទីលំនៅ "address" merged over ភូមិ, ឃុំ,
    ស្រុក, ខេត្ត on the row below (the other titles merged down over both rows); a date's
    title over its parts ថ្ងៃ ខែ ឆ្នាំ (day, month, year: read as "title part", joined into
    one date later, date_parts.py); or the titles again in another language (Khmer over
    English), whose row is no man's.

    Why: read from one row, the columns named on the other were lost without a word (a
    MoSVY list's places), and the row of sub-titles was quarantined as a man. Two rows are
    one header only when they fit together: each column is named by one of them, and the
    other row holds nothing but known column names where the first is blank or a group
    title, or date parts under a date's title (a row of data, or a title, never does).
    """
    row = list(rows[h])
    here = _known_at(row, known)
    for other_at, below in ((h + 1, True), (h - 1, False)):
        if 0 <= other_at < len(rows) and (fit := _fit(row, here, list(rows[other_at]), below, known)):
            return fit[0], min(h, other_at), max(h, other_at), fit[1]
    for other_at in (h + 1, h - 1):
        if 0 <= other_at < len(rows) and is_title_row(rows[other_at]):
            return row, min(h, other_at), max(h, other_at), "titles in another language"
    return row, h, h, ""


def _fit(
    row: list[Cell], here: list[bool], other: list[Cell], below: bool, known: set[str]
) -> tuple[list[Cell], str] | None:
    """The header's cells with the other row's names put in and what they are (see
    header_rows), or None when the two rows are not one header."""
    width = max(len(row), len(other))
    mine = row + [None] * (width - len(row))
    theirs = other + [None] * (width - len(other))
    is_known = here + [False] * (width - len(here))
    theirs_known = _known_at(theirs, known)
    merged = list(mine)
    added = parts = 0
    title: str | None = None  # the date title whose parts are being read, left to right
    for j in range(width):
        part = part_word(str(theirs[j])) if below and type(theirs[j]) is str else None
        if not _blank(mine[j]):
            title = str(mine[j]) if part and (is_known[j] or title_field(str(mine[j]))) else None
        if part and title is not None:
            merged[j] = f"{title} {theirs[j]}"
            added += 1
            parts += 1
            continue
        title = None
        if is_known[j]:
            # under a known title: blank (merged down); above one: a group title or blank
            fits = _blank(theirs[j]) or (not below and not theirs_known[j])
        elif not _blank(theirs[j]):
            fits = theirs_known[j]
            added += theirs_known[j]
            if fits:
                merged[j] = theirs[j]
        else:
            fits = True
        if not fits:
            return None
    if not added:
        return None
    return merged, "a date's parts under its title" if parts else "group titles over columns"


def _check_header(header: list[str], line: int) -> None:
    keys = [header_key(h) for h in header]
    seen: dict[str, int] = {}
    for pos, k in enumerate(keys, 1):
        if not k:
            continue
        if k in seen:
            _side_by_side(keys, seen[k] - 1, pos - 1, line)
            raise DeliveryRejected(
                "duplicate_header",
                f"columns {seen[k]} and {pos} of the header on line {line} have the same "
                "name; rename or remove one and send the file again",
            )
        seen[k] = pos


def _side_by_side(keys: list[str], first: int, again: int, line: int) -> None:
    """Refuse a header written twice side by side (two lists next to each other, a month in
    each) for what it is: "rename one of two columns" would have the officer break it."""
    titled = [k for k in keys[first:again] if k]
    repeat = [k for k in keys[again : again + (again - first)] if k]
    if len(titled) < 3 or repeat[: len(titled)] != titled:
        return
    width = max(i for i, k in enumerate(keys[first:again]) if k) + 1  # a blank column between
    raise DeliveryRejected(
        "duplicate_header",
        f"the header on line {line} is written twice side by side (columns {first + 1}-{first + width} "
        f"and {again + 1}-{min(again + width, len(keys))}): two lists next to each other; put the "
        "second list's rows under the first's, in its columns, or send each as a file of its own",
    )


def _set_aside(table: RawTable, known: set[str]) -> None:
    """The header printed again and a row numbering the columns are not read as rows (the
    notes say where); a totals row is marked, to be quarantined as one (row_kinds.py). A
    title in two languages in one cell is the header's when its known part is."""

    def key(cell: Cell) -> str:
        return header_key(known_part(cell, known) or cell)

    table.rows, empty = template_lines(table.rows, table.header)
    if empty:
        table.blank_rows += len(empty)
        table.notes.append(template_note(empty))
    table.rows, notes, totals = sort_rows(table.rows, table.header, key)
    table.notes.extend(notes)
    for line, rule in totals.items():
        table.row_problems.setdefault(line, (rule, None))


def _is_blank(row: Iterable[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in row)


# --- CSV -------------------------------------------------------------------------------------


def read_csv(data: bytes, known: set[str], search_rows: int) -> RawTable:
    """Header and rows of a CSV list; a quote left open is caught on the line it opens.

    Why two readers: csv's own loop over the text is fast but cannot step back; when a
    record over several lines looks like a quote left open (or csv raises), reading starts
    again from that record with a reader that can, and the rows after it survive.
    """
    if not data.strip():
        raise DeliveryRejected("empty_file", "the file is empty")
    text, encoding, bad_lines = decode(data)
    text = text.rstrip("\x1a")  # the end-of-file mark (Ctrl-Z) old DOS and Windows tools add
    # as far down as a header is looked for (a covering letter above it: find_header)
    reach = max(search_rows, HEADER_FURTHER_ROWS)
    text, spaced = _spaces_after_delimiters(text, _first_lines(text, reach))
    delimiter = _sniff_delimiter(_first_lines(text, reach), known)
    text, backslashed = _backslash_quotes(text, delimiter)
    records, restart = _fast_records(text, delimiter)
    first_rows: list[list[Cell]] = [list(cells) for _, _, cells in records[: reach + 1]]
    wrapped = False
    try:
        top = find_header(first_rows[:reach], known, search_rows)
    except DeliveryRejected:
        if (unwrapped := _unwrapped(records, known, search_rows)) is None:
            _lost_header(first_rows[:search_rows])
            raise
        records, delimiter, restart, wrapped = *unwrapped, None, True
        first_rows = [list(cells) for _, _, cells in records[: search_rows + 1]]
        top = find_header(first_rows[:search_rows], known, search_rows)
    cells, top, h, two_rows = header_rows(first_rows, top, known)
    cells, two_languages = _named_by_parts(cells, known)
    header = [storable(str(c or "")).strip() for c in cells]
    header_line = records[h][1]
    _check_header(header, header_line)
    width = len(header)
    problems: dict[int, tuple[str, int | None]] = {}
    suspect = (
        next((i for i in range(h + 1, len(records)) if _quote_left_open(records[i], width, delimiter)), None)
        if not wrapped
        else None
    )
    if suspect is not None:
        restart = records[suspect][0] - 1
        del records[suspect:]
    if restart is not None:
        records.extend(_careful_records(_physical_lines(text), restart, delimiter, width, problems))
    if len(records) > h + 1 and not wrapped:
        _quote_open_at_end(records, text, delimiter, width, problems)
    table = RawTable(header, [], header_line, encoding, "csv", delimiter=delimiter)
    if h > top:
        table.notes.append(_two_rows_note(records[top][0], header_line, two_rows))
    if two_languages:
        table.notes.append(_parts_note(two_languages))
    if backslashed:
        table.notes.append(
            f'{backslashed} quote(s) inside cells escaped with a backslash (\\") as a database or '
            "web export writes them: read as quotes"
        )
    if spaced:
        table.notes.append(
            f'a space after each delimiter ("a"{spaced} "b", as some exports write it): read as '
            "the delimiter alone"
        )
    if wrapped:
        table.notes.append(
            "each line is quoted whole (a list pasted into one column and saved as CSV): "
            "read by the delimiters inside the quotes"
        )
    table.notes.extend(_doubled_cr_notes(text, records, h))
    for first, _last, cells in records[h + 1 :]:
        if not "".join(cells).strip():  # every cell blank (CSV cells are all text)
            table.blank_rows += 1
            continue
        table.rows.append((first, cells))
    table.row_problems = problems
    _set_aside(table, known)
    if bad_lines:
        what = "UTF-8" if encoding.startswith("utf-8") else encoding.upper()[:6]
        table.notes.append(f"{len(bad_lines)} line(s) hold bytes that are not valid {what}")
    return table


Record = tuple[int, int, list[str]]  # first line, last line, cells


def _backslash_quotes(text: str, delimiter: str) -> tuple[str, int]:
    """A quote inside a cell written \\" (MySQL's and many web systems' exports) instead of
    CSV's "": read by csv, the cell ran on past its end and the name kept the backslashes
    (`SOKUNTHEA \\TOM\\" CHEA"`). Rewritten to "" when the file never doubles a quote inside a
    cell, which a file of CSV's own rules would; how many, for the notes."""
    if '\\"' not in text:
        return text, 0
    d = re.escape(delimiter)
    inside = re.compile(rf'\\"(?![{d}\r\n]|$)')  # a backslash-quote followed by more of the cell
    doubled = re.compile(rf'[^{d}\r\n"]""[^{d}\r\n"]')  # CSV's own "" inside a cell
    if not inside.search(text) or doubled.search(text):
        return text, 0
    return text.replace('\\"', '""'), text.count('\\"')


_SPACED = {d: re.compile(rf'"{re.escape(d)}[ \t]+"') for d in DELIMITERS}


def _spaces_after_delimiters(text: str, lines: list[str]) -> tuple[str, str]:
    """A file whose quoted cells are parted by a delimiter and a space ("a", "b", as
    hand-written and some web exports write them): csv kept the space and the quotes as part
    of each cell (` "full_name"`), and the header was not found. Read again with the spaces
    after delimiters skipped and written back as plain CSV (a record keeps its lines); the
    delimiter, for the notes, or "" when the file is not so. Told by a line that starts
    with a quote and parts quoted cells so at least twice, and never as "a","b"."""
    for d, spaced in _SPACED.items():
        if not any(
            line.startswith('"') and len(spaced.findall(line)) >= 2 and f'"{d}"' not in line for line in lines
        ):
            continue
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=d, skipinitialspace=True))
        except csv.Error:
            return text, ""  # read as it is: the careful reader names the line csv refuses
        out = io.StringIO()
        csv.writer(out, delimiter=d, lineterminator="\n").writerows(rows)
        return out.getvalue(), d
    return text, ""


def _lost_header(rows: list[list[Cell]]) -> None:
    """A header that is no header because its Khmer titles became question marks (a list
    saved as 'CSV (Comma delimited)' on Windows): say so, not "no header found"."""
    for cells in rows:
        if sum(1 for c in cells if isinstance(c, str) and "??" in c) >= 2:
            raise DeliveryRejected(
                "lost_characters",
                "the file's Khmer text is question marks (????), its column titles too: it was "
                "saved in an encoding that has no Khmer (Excel's 'CSV (Comma delimited)' or "
                "'Text'); save the list as 'CSV UTF-8' or send the .xlsx",
            )


def _unwrapped(records: list[Record], known: set[str], search_rows: int) -> tuple[list[Record], str] | None:
    """The records of a file whose every line is one quoted cell ("KH-1,SOK DARA,M,..."),
    split by the delimiter inside, and that delimiter; None when the file is not so."""
    filled = [cells for _, _, cells in records if "".join(cells).strip()]
    if not filled or any(len(cells) != 1 for cells in filled):
        return None
    delimiter = _sniff_delimiter([cells[0] for cells in filled[:search_rows]], known)
    split = [
        (first, last, next(csv.reader([cells[0]], delimiter=delimiter), []) if cells else cells)
        for first, last, cells in records
    ]
    return split, delimiter


def _doubled_cr_notes(text: str, records: list[Record], h: int) -> list[str]:
    """What an officer is told of a file whose lines end in CR CR LF (a program that writes
    CR LF through a Windows text file, which adds a CR of its own): each row is followed by a
    line that is empty. Excel (and Notepad++, VS Code) shows it as a blank row, so the line
    numbers stay the file's lines, as csv and every other CSV here counts them; Windows 7's
    Notepad shows no blank line, so the note says how to count there."""
    if (doubled := text.count("\r\r\n")) < 2 or 3 * doubled < len(records):
        return []
    first = next((f for f, _, cells in records[h + 1 :] if "".join(cells).strip()), None)
    where = f" (the first row under the header is line {first})" if first is not None else ""
    return [
        "the file's lines end in two carriage returns (CR CR LF, as a program that adds one of its "
        "own to each line writes them): Excel shows a blank row under each row, and the line "
        f"numbers given here are its rows{where}; in an editor that shows no blank rows (Notepad "
        "on Windows 7), line N here is line (N + 1) / 2 there when the header is on line 1. The "
        "blank rows are not read as rows; nothing is lost. Save it again from Excel as 'CSV UTF-8' "
        "to send it without them"
    ]


def _fast_records(text: str, delimiter: str) -> tuple[list[Record], int | None]:
    """Every record by csv's own loop; where csv raised, the line to read on from carefully."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[Record] = []
    end = 0  # csv.reader's line_num is the line where a record ends
    try:
        for cells in reader:
            records.append((end + 1, reader.line_num, cells))
            end = reader.line_num
    except csv.Error:
        return records, end
    return records, None


def _careful_records(
    lines: list[str], pos: int, delimiter: str, width: int, problems: dict[int, tuple[str, int | None]]
) -> list[Record]:
    """Records from line pos + 1 on. A record over several lines that looks like a quote left
    open becomes the one line it opened on (marked, its quote kept as a character), and
    reading starts again on the next line; a line csv refuses is marked the same way."""
    src = _LineSource(lines)
    src.pos = pos
    reader = csv.reader(src, delimiter=delimiter)
    out: list[Record] = []
    while True:
        first = src.pos + 1
        try:
            cells = next(reader)
        except StopIteration:
            return out
        except csv.Error:
            cells = _without_quotes(lines[first - 1], delimiter)
            problems[first] = ("csv_syntax", None)
            src.pos = first
            out.append((first, first, cells))
            continue
        if src.pos > first and _quote_left_open((first, src.pos, cells), width, delimiter):
            cells = _without_quotes(lines[first - 1], delimiter)
            column = next((i for i, c in enumerate(cells) if c.lstrip().startswith('"')), None)
            problems[first] = ("unclosed_quote", column)
            src.pos = first
        out.append((first, src.pos, cells))


class _LineSource:
    """The file's physical lines for csv.reader, from a position that can be moved back:
    after a quote left open, reading starts again on the line after the one it opened on."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.pos = 0  # lines handed out so far: the last one read is line number `pos`

    def __iter__(self) -> _LineSource:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


_LINE_END = re.compile(r"(?<=\r\n)|(?<=\n)|(?<=\r)(?!\n)")


def _physical_lines(text: str) -> list[str]:
    """Lines as csv counts them (\\r\\n, \\n or \\r), each with its ending."""
    return [line for line in _LINE_END.split(text) if line]


def _quote_open_at_end(
    records: list[Record],
    text: str,
    delimiter: str,
    width: int,
    problems: dict[int, tuple[str, int | None]],
) -> None:
    """A quote opened on the last line has only the rest of that line to swallow: the row
    looks cut short. When that line holds an odd number of quotes, say what happened."""
    first, last, cells = records[-1]
    if first != last or len(cells) == width or first in problems:
        return
    lines = _physical_lines(text)  # a rare path: the last row is cut short
    line = lines[first - 1] if first <= len(lines) else ""
    if line.count('"') % 2 == 1:
        cells = _without_quotes(line, delimiter)
        column = next((i for i, c in enumerate(cells) if c.lstrip().startswith('"')), None)
        records[-1] = (first, last, cells)
        problems[first] = ("unclosed_quote", column)


def _quote_left_open(record: Record, width: int, delimiter: str) -> bool:
    """A record over several lines is a quote left open when its width is wrong, or when a
    cell holds a line that looks like a whole row (as many delimiters as the header)."""
    first, last, cells = record
    if last == first:
        return False
    if len(cells) != width:
        return True
    return any(c.count(delimiter) >= width - 1 for c in cells if "\n" in c or "\r" in c)


def _without_quotes(line: str, delimiter: str) -> list[str]:
    """One line split at its delimiters, quotes kept as characters."""
    return next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter, quoting=csv.QUOTE_NONE), [])


def _first_lines(text: str, n: int) -> list[str]:
    """The first n lines, without splitting the whole file."""
    end = 0
    for _ in range(n):
        end = text.find("\n", end) + 1
        if not end:
            return text.splitlines()[:n]
    return text[:end].splitlines()[:n]


def _sniff_delimiter(lines: list[str], known: set[str]) -> str:
    best, best_hits = ",", -1
    for d in DELIMITERS:
        for line in lines:
            cells = next(csv.reader([line], delimiter=d), [])
            hits = len({header_key(k) for c in cells if (k := known_part(c, known)) is not None})
            if hits > best_hits:
                best, best_hits = d, hits
    return best


# --- XLSX ------------------------------------------------------------------------------------


def check_zip(data: bytes, max_uncompressed: int, max_ratio: float) -> None:
    """Refuse zip bombs from the zip directory alone, before decompressing anything."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise DeliveryRejected(
            "not_excel",
            "named like an Excel file but it is not a valid workbook (the zip container is damaged)",
        ) from exc
    with zf:
        names = zf.namelist()
        if "[Content_Types].xml" not in names:
            if "mimetype" in names and b"opendocument.spreadsheet" in _member_start(zf, "mimetype"):
                raise DeliveryRejected(
                    "not_excel",
                    "this is an OpenDocument spreadsheet (.ods, LibreOffice's own format); save it as "
                    ".xlsx and send again",
                )
            raise DeliveryRejected("not_excel", zip_of_files(names))
        if why := _other_office_kind(set(names)):
            raise DeliveryRejected("not_excel", why)
        total = 0
        for info in zf.infolist():
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > max_ratio and info.file_size > 1_000_000:
                raise DeliveryRejected(
                    "zip_bomb",
                    f"refused: a part of the workbook expands {ratio:,.0f} times "
                    f"(limit {max_ratio:,.0f}); it may be a zip bomb",
                )
        if total > max_uncompressed:
            raise DeliveryRejected(
                "zip_bomb",
                f"refused: the workbook expands to {total / 2**20:,.0f} MiB "
                f"(limit {max_uncompressed / 2**20:,.0f} MiB)",
            )


def _other_office_kind(names: set[str]) -> str | None:
    """What an Office file that is no .xlsx is, by its parts' names (a Word document or a
    binary workbook named .xlsx was "damaged or not a workbook (OSError)")."""
    if "xl/workbook.bin" in names:
        return (
            "this is an Excel Binary Workbook (.xlsb), which is not read; open it in Excel, save "
            "it as .xlsx (Excel Workbook) and send again"
        )
    if "word/document.xml" in names:
        return (
            "this is a Word document (.docx), not a list; copy its table into Excel, save it as "
            ".xlsx and send again"
        )
    if "ppt/presentation.xml" in names:
        return "this is a PowerPoint presentation (.pptx), not a CSV or Excel list"
    return None


def _member_start(zf: zipfile.ZipFile, name: str) -> bytes:
    """The first bytes of a zip member, or none when it cannot be read."""
    try:
        with zf.open(name) as fh:
            return fh.read(200)
    except Exception:  # noqa: BLE001 - a damaged member says nothing about the file's kind
        return b""


# Excel's "Strict Open XML Spreadsheet" (ISO 29500 strict) names its parts' XML in these
# namespaces where an ordinary (transitional) workbook uses the others; nothing else differs
# for what we read. openpyxl knows only the transitional ones and found no sheet.
_STRICT = (
    (
        b"http://purl.oclc.org/ooxml/spreadsheetml/main",
        b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    ),
    (
        b"http://purl.oclc.org/ooxml/officeDocument/relationships",
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    ),
    (b"http://purl.oclc.org/ooxml/drawingml/main", b"http://schemas.openxmlformats.org/drawingml/2006/main"),
    (
        b"http://purl.oclc.org/ooxml/officeDocument/sharedTypes",
        b"http://schemas.openxmlformats.org/officeDocument/2006/sharedTypes",
    ),
)


def _transitional(data: bytes) -> tuple[bytes, bool]:
    """A Strict Open XML workbook rewritten, in memory, with the ordinary namespaces (the
    archive keeps the bytes as sent); any other workbook as it is."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        if b"purl.oclc.org/ooxml/" not in _member_start(zf, "_rels/.rels") + _member_start(
            zf, "xl/workbook.xml"
        ):
            return data, False
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for info in zf.infolist():
                body = zf.read(info.filename)
                if info.filename.endswith((".xml", ".rels")):
                    for strict, ordinary in _STRICT:
                        body = body.replace(strict, ordinary)
                z.writestr(info.filename, body)
    return out.getvalue(), True


def read_xlsx(
    data: bytes,
    known: set[str],
    search_rows: int,
    max_uncompressed: int,
    max_ratio: float,
    persons: frozenset[str] = frozenset(),
) -> RawTable:
    import openpyxl  # slow import, only for Excel deliveries

    from linkage.ingest.xlsx_text import install

    install()  # inline strings read straight from the XML (xlsx_text.py says why)

    check_zip(data, max_uncompressed, max_ratio)
    try:
        data, strict = _transitional(data)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise DeliveryRejected(
            "not_excel", f"the workbook cannot be opened: {_damage(exc)}; export or save it again"
        ) from exc
    with warnings.catch_warnings():
        # openpyxl warns with a cell's value ("the serial value 19900312 is outside ..."): a
        # birth date in a log. The cell comes through as #VALUE!, which the row's checks name.
        warnings.simplefilter("ignore")
        table = _read_workbook(openpyxl, data, known, search_rows, persons)
    if strict:
        table.notes.append("saved as Excel's Strict Open XML Spreadsheet: read as an ordinary workbook")
    return table


@dataclass
class _Sheet:
    number: int  # 1-based position in the workbook
    title: str
    hidden: bool
    rows: list[list[Cell]]
    header_at: int | None  # index of its header row, None when it has none for this source
    part: str | None = None  # its XML part in the zip

    @property
    def name(self) -> str:
        hidden = ", hidden" if self.hidden else ""
        return f"sheet {self.number} ('{label(self.title, 31)}'{hidden})"

    def data_rows(self) -> int:
        start = 0 if self.header_at is None else self.header_at + 1
        return sum(1 for r in self.rows[start:] if not _is_blank(r))


def _has_digit(c: Cell) -> bool:
    return not isinstance(c, str) or any(ch.isdigit() for ch in c)


def _continues_list(other: _Sheet, width: int) -> bool:
    """A sheet with no header whose rows look like the list's own, continued there (a list
    split by dates over two sheets, the header on the first alone): half or more of its rows
    fill half the list's columns or more, no wider than the list, with digits (dates, phones,
    ids), and its first row is no header of another table (titles are words, no digit).
    Why: such rows were left unread with a note, men missing from an ingested delivery."""
    rows = [[c for c in r if c not in (None, "")] for r in other.rows if not _is_blank(r)]
    if not rows or width < 6 or not any(_has_digit(c) for c in rows[0]):
        return False

    def like(r: list[Cell], full: list[Cell]) -> bool:
        trimmed = len(full) - next((k for k, c in enumerate(reversed(full)) if c not in (None, "")), 0)
        return len(r) >= width // 2 and trimmed <= width + 1 and sum(map(_has_digit, r)) >= 2

    full_rows = [r for r in other.rows if not _is_blank(r)]
    return 2 * sum(like(r, f) for r, f in zip(rows, full_rows, strict=True)) >= len(rows)


def _sheet_rows(ws: Any, number: int) -> list[list[Cell]]:
    """A sheet's rows, read when asked for (read-only mode): a sheet whose part is damaged
    (cut XML, a zip member that fails its check) refuses the workbook, naming the sheet."""
    try:
        trust_no_dimension(ws)
        rows = sheet_values(ws)  # a plain sheet read from its XML in one pass (sheet_xml.py)
        if rows is None:
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
    except Exception as exc:  # noqa: BLE001 - zipfile, zlib, XML parsers and openpyxl raise many types
        raise DeliveryRejected(
            "not_excel",
            f"sheet {number} of the workbook cannot be read: {_damage(exc)}; open and save it "
            "again in Excel, or export it again",
        ) from exc
    # every row as wide as the widest, as a true <dimension> gives them (a merged title's row
    # holds one cell, a note right of the list makes its row longer than the header)
    width = max(map(len, rows), default=0)
    for r in rows:
        if len(r) < width:
            r.extend([None] * (width - len(r)))
    return rows


def _damage(exc: BaseException) -> str:
    """What an error opening a workbook says of the file, in words (never its message,
    which may quote a cell)."""
    kind = type(exc).__name__
    if isinstance(exc, zipfile.BadZipFile) or kind == "error" and type(exc).__module__ == "zlib":
        return "a part of the file is damaged (it fails the zip's check)"
    if isinstance(exc, KeyError):
        return "a part the workbook names is missing from the file"
    if "ParseError" in kind or "XMLSyntaxError" in kind or "ExpatError" in kind:
        return "a part of the file holds damaged XML"
    return f"it is damaged or not a workbook ({kind})"


def _read_workbook(
    openpyxl: Any, data: bytes, known: set[str], search_rows: int, persons: frozenset[str]
) -> RawTable:
    """The one sheet that holds the list, hidden or not; every other sheet with rows is named.

    Why not the first sheet with a header: a hidden sheet (an old copy, a lookup table) or a
    second sheet of the same list would then be read, or left out, without a word. Rows of
    this source on two sheets are refused with both named: which rows are current, and
    whether the sheets repeat each other, is for the sender to say; nothing is half-loaded.
    """
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise DeliveryRejected(
            "not_excel", f"the workbook cannot be opened: {_damage(exc)}; export or save it again"
        ) from exc
    try:
        epoch_1904 = wb.epoch == dt.datetime(1904, 1, 1) if hasattr(wb, "epoch") else False
        sheets: list[_Sheet] = []
        for number, ws in enumerate(wb.worksheets, 1):
            rows = _sheet_rows(ws, number)
            hidden = getattr(ws, "sheet_state", "visible") != "visible"
            part = getattr(ws, "_worksheet_path", None)
            sheets.append(_Sheet(number, str(ws.title), hidden, rows, None, part))
    finally:
        wb.close()
    return list_of_sheets(
        sheets,
        known,
        search_rows,
        epoch_1904,
        lambda sheet, table: _sheet_shows(openpyxl, data, sheet, table),
        persons=persons,
    )


def list_of_sheets(
    sheets: list[_Sheet],
    known: set[str],
    search_rows: int,
    epoch_1904: bool,
    shows: Callable[[_Sheet, RawTable], None],
    encoding: str = "xlsx",
    persons: frozenset[str] = frozenset(),
) -> RawTable:
    """The table of the one sheet that holds the list (see _read_workbook), from a
    workbook's sheets however they were read; shows puts in what the sheet shows beyond
    its cells (saved values of formulas, merged cells). persons: the header keys of the
    columns that name a man (a sheet whose header names none is a summary, not the list)."""
    last_error: DeliveryRejected | None = None
    for sh in sheets:
        try:
            sh.header_at = find_header(sh.rows, known, search_rows)
        except DeliveryRejected as exc:
            last_error, sh.header_at = exc, None
    listed = [sh for sh in sheets if sh.header_at is not None]
    with_rows = [sh for sh in listed if sh.data_rows()] or listed[:1]
    summaries = _summaries(with_rows, known, persons)
    with_rows = [sh for sh in with_rows if sh not in summaries]
    if not with_rows and sheets and all(_is_blank(r) for sh in sheets for r in sh.rows):
        raise DeliveryRejected("empty_file", "the workbook is empty: its sheets hold no rows")
    if not with_rows:
        raise last_error or DeliveryRejected(
            "empty_file", "the workbook has no sheet that can be read (none, or their parts are missing)"
        )
    if len(with_rows) > 1:
        where = "; ".join(f"{sh.name}: {sh.data_rows()} rows" for sh in with_rows)
        raise DeliveryRejected(
            "several_sheets",
            f"rows of this list are on {len(with_rows)} sheets ({where}); put them on one sheet "
            "(or delete an old copy) and send the file again, or send one file per sheet",
        )
    sheet = with_rows[0]
    rows, h = sheet.rows, sheet.header_at
    assert h is not None
    cells, top, h, two_rows = header_rows(rows, h, known)
    sheet.header_at = h
    cells, two_languages = _named_by_parts(cells, known)
    header = [storable(str(c)).strip() if c is not None else "" for c in cells]
    _check_header(header, h + 1)
    table = RawTable(header, [], h + 1, encoding, "xlsx", epoch_1904=epoch_1904)
    if h > top:
        table.notes.append(_two_rows_note(top + 1, h + 1, two_rows))
    if two_languages:
        table.notes.append(_parts_note(two_languages))
    shows(sheet, table)
    for i in range(h + 1, len(rows)):
        if _is_blank(rows[i]):
            table.blank_rows += 1
            continue
        table.rows.append((i + 1, rows[i]))
    _set_aside(table, known)
    if len(sheets) > 1 or sheet.hidden:
        table.notes.append(f"read {sheet.name}")
    for other in sheets:
        if other in summaries:
            table.notes.append(
                f"{other.name} not read: {other.data_rows()} rows under a header that names no man "
                "(a summary of the list)"
            )
        elif other is not sheet and (n := other.data_rows()):
            if _continues_list(other, len(header)):
                raise DeliveryRejected(
                    "several_sheets",
                    f"{other.name} holds {n} rows as wide as this list's, with no header: the list "
                    f"continued there ({sheet.name} has its header)? Put them under the list on one "
                    "sheet, or give that sheet the list's header, and send the file again",
                )
            table.notes.append(f"{other.name} not read: {n} rows, no header of this list")
    return table


# a summary groups its counts by a few of the list's columns (province, district, sex)
SUMMARY_MAX_KNOWN = 3


def _summaries(with_rows: list[_Sheet], known: set[str], persons: frozenset[str]) -> list[_Sheet]:
    """Sheets beside the list whose header names no man and at most three of the list's
    columns (counts by province or district): set aside, named in the notes, when exactly
    one sheet with rows names men; otherwise none is (two lists are refused). A second list
    whose name column was renamed still names many of the list's columns: refused."""
    if len(with_rows) < 2 or not persons:
        return []
    named = [sh for sh in with_rows if _header_names(sh, set(persons))]
    if len(named) != 1:
        return []
    return [sh for sh in with_rows if sh not in named and _header_names(sh, known) <= SUMMARY_MAX_KNOWN]


def _header_names(sheet: _Sheet, names: set[str]) -> int:
    """How many of these column names the sheet's header holds (over its two rows, if so)."""
    assert sheet.header_at is not None
    top = max(0, sheet.header_at - 1)
    cells = [c for r in sheet.rows[top : sheet.header_at + 2] for c in r]
    return len({header_key(k) for c in cells if (k := known_part(c, names)) is not None})


def _line_list(lines: list[int]) -> str:
    """Lines as a note names them: the first ten, and how many more."""
    shown = ", ".join(map(str, lines[:10]))
    return shown + (f" and {len(lines) - 10} more" if len(lines) > 10 else "")


def _two_rows_note(first: int, last: int, what: str) -> str:
    return f"the header is written over lines {first}-{last} ({what}): read as one"


def _sheet_shows(openpyxl: Any, data: bytes, sheet: _Sheet, table: RawTable) -> None:
    """The rows as the sheet shows them: formulas by their saved values, merged cells filled
    down (linkage/ingest/sheet_cells.py); each named in the notes."""
    assert sheet.header_at is not None
    rows = sheet.rows
    formulas = formula_cells(rows, sheet.header_at + 1)
    if n := use_saved_values(openpyxl, data, sheet.number - 1, rows, formulas, sheet.part):
        table.notes.append(f"{n} formula cell(s) read as the values Excel saved with them")
    xml = sheet_part(data, sheet.part)  # read once for its merged ranges and hidden rows
    if n := fill_merged_down(rows, merged_ranges(xml), sheet.header_at):
        table.notes.append(f"{n} cell(s) of merged ranges given the value shown at the range's top")
    hidden = [
        r for r in hidden_rows(xml) if sheet.header_at + 1 < r <= len(rows) and not _is_blank(rows[r - 1])
    ]
    del xml
    if hidden:
        table.notes.append(
            f"{len(hidden)} row(s) of the list are hidden in the sheet (by a filter, by hand or in a "
            f"group collapsed): line(s) {_line_list(hidden)}: read like the others; if they were not "
            "meant to be sent, delete them and send the list again"
        )
    if n := pad_by_format(openpyxl, data, sheet.number - 1, rows, sheet.header_at + 1):
        table.notes.append(
            f"{n} number cell(s) show leading zeros by their number format (000000000): read as shown"
        )


def read_table(
    data: bytes,
    known: set[str],
    search_rows: int,
    max_uncompressed: int,
    max_ratio: float,
    persons: frozenset[str] = frozenset(),
) -> RawTable:
    """persons: header keys of the columns that name a man (see list_of_sheets)."""
    kind = sniff_kind(data)
    if kind == "xlsx":
        return read_xlsx(data, known, search_rows, max_uncompressed, max_ratio, persons)
    if kind == "xls":
        return read_xls_table(data, known, search_rows, persons)
    return read_csv(data, known, search_rows)
