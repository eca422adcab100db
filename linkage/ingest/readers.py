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
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from charset_normalizer import from_bytes

from linkage.ingest.errors import DeliveryRejected
from linkage.ingest.safe_text import storable
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


def header_key(text: Any) -> str:
    """Compare headers loosely: case, spaces, BOM, underscores and Khmer encodings ignored."""
    s = normalise_khmer(unicodedata.normalize("NFKC", str(text or ""))).replace("\ufeff", "")
    return re.sub(r"[\s_\-]+", " ", s).strip().lower()


def sniff_kind(data: bytes) -> str:
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise DeliveryRejected(
            "old_excel", "this is an Excel 97-2003 (.xls) workbook; save it as .xlsx and send again"
        )
    if data[:5] in (b"%PDF-",):
        raise DeliveryRejected("not_a_list", "this is a PDF, not a CSV or Excel list")
    return "csv"


# --- text decoding -----------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str, list[int]]:
    """Return (text, encoding, lines with undecodable bytes). Refuses what it cannot tell."""
    if data.startswith(codecs.BOM_UTF8):
        return _utf8(data[3:], "utf-8-sig")
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: same start
        return _wide(data, "utf-32", "UTF-32")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError as exc:
            raise DeliveryRejected("encoding", "the file says UTF-16 but its bytes are not") from exc
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


def _wide(data: bytes, encoding: str, label: str) -> tuple[str, str, list[int]]:
    try:
        return data.decode(encoding), encoding, []
    except UnicodeDecodeError as exc:
        raise DeliveryRejected(
            "encoding", f"the file looks like {label} text but its bytes are not valid {label}"
        ) from exc


def _utf8(data: bytes, name: str) -> tuple[str, str, list[int]]:
    text = data.decode("utf-8", errors="surrogateescape")
    bad = [i + 1 for i, line in enumerate(text.splitlines()) if re.search(r"[\udc80-\udcff]", line)]
    return text, name, bad


# --- header detection ----------------------------------------------------------------------


def find_header(rows: list[list[Cell]], known: set[str], search_rows: int) -> int:
    """Index of the row that names the most known columns (title rows above are skipped)."""
    best, best_hits = -1, 0
    for i, row in enumerate(rows[:search_rows]):
        hits = len({header_key(c) for c in row if c not in (None, "")} & known)
        if hits > best_hits:
            best, best_hits = i, hits
    if best < 0 or best_hits < 2:
        raise DeliveryRejected(
            "no_header",
            f"no header row found in the first {search_rows} rows: none names at "
            "least two of this source's known columns",
        )
    return best


def _check_header(header: list[str], line: int) -> None:
    keys = [header_key(h) for h in header]
    seen: dict[str, int] = {}
    for pos, k in enumerate(keys, 1):
        if not k:
            continue
        if k in seen:
            raise DeliveryRejected(
                "duplicate_header",
                f"columns {seen[k]} and {pos} of the header on line {line} have the same "
                "name; rename or remove one and send the file again",
            )
        seen[k] = pos


def _is_blank(row: Iterable[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in row)


# --- CSV -------------------------------------------------------------------------------------


def read_csv(data: bytes, known: set[str], search_rows: int) -> RawTable:
    if not data.strip():
        raise DeliveryRejected("empty_file", "the file is empty")
    text, encoding, bad_lines = decode(data)
    delimiter = _sniff_delimiter(_first_lines(text, search_rows), known)
    rows: list[list[Cell]] = []
    line_numbers: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            rows.append(row)
            line_numbers.append(reader.line_num)
    except csv.Error as exc:
        raise DeliveryRejected(
            "csv_syntax",
            f"CSV syntax error near line {reader.line_num}: an unclosed quote or a stray character",
        ) from exc
    h = find_header(rows, known, search_rows)
    header = [storable(str(c)).strip() for c in rows[h]]
    header_line = line_numbers[h]
    _check_header(header, header_line)
    table = RawTable(header, [], header_line, encoding, "csv", delimiter=delimiter)
    # csv.reader's line_num is the line where a record ends; a record starts after the previous
    starts = [1] + [n + 1 for n in line_numbers]
    for i in range(h + 1, len(rows)):
        if not "".join(rows[i]).strip():  # every cell blank (CSV cells are all text)
            table.blank_rows += 1
            continue
        table.rows.append((starts[i], rows[i]))
    if bad_lines:
        table.notes.append(f"{len(bad_lines)} line(s) hold bytes that are not valid UTF-8")
    return table


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
            hits = len({header_key(c) for c in cells} & known)
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
            raise DeliveryRejected("not_excel", "a zip file, but not an Excel workbook")
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


def read_xlsx(
    data: bytes, known: set[str], search_rows: int, max_uncompressed: int, max_ratio: float
) -> RawTable:
    import openpyxl  # slow import, only for Excel deliveries

    check_zip(data, max_uncompressed, max_ratio)
    with warnings.catch_warnings():
        # openpyxl warns with a cell's value ("the serial value 19900312 is outside ..."): a
        # birth date in a log. The cell comes through as #VALUE!, which the row's checks name.
        warnings.simplefilter("ignore")
        return _read_workbook(openpyxl, data, known, search_rows)


def _read_workbook(openpyxl: Any, data: bytes, known: set[str], search_rows: int) -> RawTable:
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise DeliveryRejected("not_excel", f"the workbook cannot be opened: {type(exc).__name__}") from exc
    try:
        epoch_1904 = wb.epoch == dt.datetime(1904, 1, 1) if hasattr(wb, "epoch") else False
        last_error: DeliveryRejected | None = None
        for ws in wb.worksheets:
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            try:
                h = find_header(rows, known, search_rows)
            except DeliveryRejected as exc:
                last_error = exc
                continue
            header = [storable(str(c)).strip() if c is not None else "" for c in rows[h]]
            _check_header(header, h + 1)
            table = RawTable(header, [], h + 1, "xlsx", "xlsx", epoch_1904=epoch_1904)
            for i in range(h + 1, len(rows)):
                if _is_blank(rows[i]):
                    table.blank_rows += 1
                    continue
                table.rows.append((i + 1, rows[i]))
            if len(wb.worksheets) > 1:
                table.notes.append(f"read sheet '{ws.title}'")
            return table
        raise last_error or DeliveryRejected("empty_file", "the workbook has no sheets")
    finally:
        wb.close()


def read_table(
    data: bytes, known: set[str], search_rows: int, max_uncompressed: int, max_ratio: float
) -> RawTable:
    kind = sniff_kind(data)
    if kind == "xlsx":
        return read_xlsx(data, known, search_rows, max_uncompressed, max_ratio)
    return read_csv(data, known, search_rows)
