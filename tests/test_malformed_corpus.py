"""A corpus of malformed lists, each built here from a good one, each with its exact outcome.

Every case is ingested into a store of its own and checked whole: the delivery's status and
reason, rows read, loaded and quarantined, the rule of every quarantined line, and that
the store holds those rows and nothing else (loaded + quarantined = read).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from linkage.ingest.load import Ingestor
from linkage.settings import Settings, load_settings
from linkage.store.db import dispose_engines, session_scope
from linkage.store.models import Delivery, Quarantine, Record
from linkage.synth.writers import IOM_HEADER, MOSVY_HEADER
from tests.helpers import iom_row, mosvy_row


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[], bytes]
    source: str | None = "iom"
    status: str = "ingested"
    reason: str | None = None  # exact, or a prefix when it ends with "..."
    read: int = 0
    loaded: int = 0
    quarantined: dict[int, str] = field(default_factory=dict)  # line -> rule
    file_name: str = "list.csv"
    stored_name: str | None = None


# --- CSV lists: three good IOM rows (lines 2-4), one made bad on line 3 -------------------


def _rows() -> list[dict[str, str]]:
    # a Khmer name on line 2 keeps the file recognisably UTF-8 when one byte is broken
    return [
        iom_row("KH-1", name="សុខ ដារា"),
        iom_row("KH-2", name="VANNAK KEO", dob="01/02/1985"),
        iom_row("KH-3", name="SAMBATH CHEA", dob="03/04/1992"),
    ]


@dataclass(frozen=True)
class Container:
    delimiter: str
    newline: str
    encoding: str


CONTAINERS = {
    "utf8-comma": Container(",", "\n", "utf-8"),
    "bom-semicolon-crlf": Container(";", "\r\n", "utf-8-sig"),
    "utf16-tab": Container("\t", "\n", "utf-16"),
    "utf32-pipe": Container("|", "\r\n", "utf-32"),
}


def _csv_text(rows: list[dict[str, str]], c: Container, header: list[str] | None = None) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(
        buf, header or IOM_HEADER, delimiter=c.delimiter, extrasaction="ignore", lineterminator=c.newline
    )
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


RowEdit = Callable[[list[dict[str, str]]], None]
LineEdit = Callable[[list[str], Container], None]


def _set(**values: str) -> RowEdit:
    def edit(rows: list[dict[str, str]]) -> None:
        rows[1].update(values)

    return edit


def _month_above_12(rows: list[dict[str, str]]) -> None:
    rows[0]["date_of_return"], rows[1]["date_of_return"] = "20/06/2024", "05/13/2024"
    rows[2]["date_of_return"] = "21/06/2024"


def _cut_short(lines: list[str], c: Container) -> None:
    lines[2] = c.delimiter.join(lines[2].split(c.delimiter)[:5])


def _overlong(lines: list[str], c: Container) -> None:
    lines[2] += f"{c.delimiter}extra{c.delimiter}cells"


def _open_quote(lines: list[str], c: Container) -> None:
    lines[2] = lines[2].replace("VANNAK KEO", '"VANNAK KEO', 1)


def _same_id(rows: list[dict[str, str]]) -> None:
    rows[1]["iom_case_no"] = rows[0]["iom_case_no"]


# (id, row edit, line edit, rule on line 3 or None when every row loads, utf-8 only)
ROW_DEFECTS: list[tuple[str, RowEdit | None, LineEdit | None, str | None, bool]] = [
    ("not-a-calendar-date", _set(date_of_return="31/02/2024"), None, "date_format", False),
    # the other returns day-first past the 12th: 05/13 is the column's slip, not its way of writing
    # (with 05/06/2024 beside it, either way round, see test_bad_files_round4.py)
    ("month-above-12", _month_above_12, None, "date_format", False),
    ("future-birth", _set(dob="12/03/2099"), None, "future_date", False),
    ("future-return", _set(date_of_return="05/06/2099"), None, "future_date", False),
    (
        "return-before-birth",
        _set(dob="12/03/2010", date_of_return="05/06/2005"),
        None,
        "return_before_birth",
        False,
    ),
    ("age-out-of-range", _set(dob="", age_at_return="150"), None, "age_range", False),
    ("formula-equals", _set(full_name='=HYPERLINK("x")'), None, "formula", False),
    ("formula-at", _set(phone="@SUM(A1)"), None, "formula", False),
    ("formula-plus-cell", _set(full_name="+A1"), None, "formula", False),
    ("cut-short-row", None, _cut_short, "ragged_row", False),
    ("overlong-row", None, _overlong, "ragged_row", False),
    ("unclosed-quote", None, _open_quote, "unclosed_quote", False),
    ("repeated-id", _same_id, None, "duplicate_id", False),
    ("blank-name", _set(full_name=""), None, "required", False),
    ("blank-record-id", _set(iom_case_no=""), None, "required", False),
    ("blank-return-date", _set(date_of_return=""), None, "required", False),
    ("nul-character", _set(full_name="VANNAK\x00 KEO"), None, "nul_character", False),
    ("cell-too-long", _set(full_name="VANNAK " + "K" * 40_000), None, "cell_too_long", False),
    ("bytes-not-utf8", _set(full_name="VANNAK KEO\udcff"), None, "encoding", True),
    ("khmer-digit-date", _set(date_of_return="០៥/០៦/២០២៤"), None, None, False),
    ("iso-timestamp", _set(date_of_return="2024-06-05T10:00:00Z"), None, None, False),
    ("yyyymmdd-text", _set(date_of_return="20240605"), None, None, False),
    ("phone-plus-855-kept", _set(phone="+855 12 345 678"), None, None, False),
]


def _row_case(defect: tuple, container: str) -> Case:
    name, row_edit, line_edit, rule, _ = defect
    c = CONTAINERS[container]

    def build() -> bytes:
        rows = _rows()
        if row_edit:
            row_edit(rows)
        text = _csv_text(rows, c)
        if line_edit:
            lines = text.split(c.newline)
            line_edit(lines, c)
            text = c.newline.join(lines)
        return text.encode(c.encoding, "surrogateescape" if c.encoding == "utf-8" else "strict")

    return Case(
        f"{name}-{container}",
        build,
        read=3,
        loaded=2 if rule else 3,
        quarantined={3: rule} if rule else {},
    )


ROW_CASES = [
    _row_case(d, container)
    for d in ROW_DEFECTS
    for container in CONTAINERS
    if not (d[4] and CONTAINERS[container].encoding != "utf-8")
]


# --- whole files -------------------------------------------------------------------------


def _good(c: str = "utf8-comma") -> bytes:
    cont = CONTAINERS[c]
    return _csv_text(_rows(), cont).encode(cont.encoding)


def _zip(names: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, b in names.items():
            z.writestr(n, b)
    return buf.getvalue()


def _workbook(sheets: list[tuple[str, str, list[list[object]]]], epoch_1904: bool = False) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if epoch_1904:
        wb.epoch = dt.datetime(1904, 1, 1)
    for title, state, rows in sheets:
        ws = wb.create_sheet(title)
        ws.sheet_state = state
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _mosvy(rows: list[list[object]], date_format_at: tuple[int, int] | None = None) -> bytes:
    """A MoSVY sheet, header on row 1; a cell (row, field column) may get a date format."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(MOSVY_HEADER)
    for row in rows:
        ws.append(row)
    if date_format_at:
        ws.cell(*date_format_at).number_format = "dd/mm/yyyy"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


RET = MOSVY_HEADER.index("ថ្ងៃខែឆ្នាំត្រឡប់មកវិញ")
DOB = MOSVY_HEADER.index("ថ្ងៃខែឆ្នាំកំណើត")


def _mosvy_rows(**line3: object) -> list[list[object]]:
    rows = [mosvy_row("1"), mosvy_row("2", given="វណ្ណា"), mosvy_row("3", given="សម្បត្តិ")]
    for key, value in line3.items():
        if key == "ret":
            rows[1][RET] = value
        elif key == "dob":
            rows[1][DOB] = value
        elif key == "family":
            rows[1][1] = value
        elif key == "no":
            rows[1][0] = value
    return rows


def _csv_lines(*lines: str) -> Callable[[], bytes]:
    return lambda: "\n".join(lines).encode()


HEADER = ",".join(IOM_HEADER)
ONE_ROW = _csv_text([iom_row("KH-1")], CONTAINERS["utf8-comma"]).split("\n")[1]
NO_HEADER = "no header row found in the first 25 rows: none names at least two of this source's known columns"
SHEETS = "rows of this list are on 2 sheets ("

FILE_CASES = [
    Case("empty", lambda: b"", status="rejected", reason="the file is empty"),
    Case("blank-lines-only", lambda: b"\n \r\n\t\n", status="rejected", reason="the file is empty"),
    Case("header-only", _csv_lines(HEADER, ""), read=0),
    Case(
        "prose-not-a-list",
        _csv_lines("Dear colleague,", "please find the list attached."),
        status="rejected",
        reason=NO_HEADER,
    ),
    Case("unknown-delimiter", lambda: _good().replace(b",", b":"), status="rejected", reason=NO_HEADER),
    Case(
        "duplicate-header",
        _csv_lines(HEADER + ",full_name", ONE_ROW + ",x"),
        status="rejected",
        reason="columns 2 and 20 of the header on line 1 have the same name; rename or remove one and "
        "send the file again",
    ),
    Case(
        "missing-required-column",
        lambda: _csv_text(
            _rows(), CONTAINERS["utf8-comma"], [h for h in IOM_HEADER if h != "date_of_return"]
        ).encode(),
        status="rejected",
        reason="required column(s) missing from the header on line 1: return_date (one of: ...",
    ),
    Case("pdf", lambda: b"%PDF-1.7\n...", status="rejected", reason="this is a PDF, not a CSV or Excel list"),
    Case(
        "old-excel",
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500,
        status="rejected",
        reason="this is an Excel 97-2003 (.xls) workbook; save it as .xlsx and send again",
    ),
    Case(
        "zip-not-excel",
        lambda: _zip({"a.txt": b"x"}),
        status="rejected",
        reason=(
            "this is a zip archive holding 1 file(s) (1 .txt), not an Excel workbook; unpack it "
            "and drop each list in it as a file of its own"
        ),
    ),
    Case(
        "damaged-zip",
        lambda: b"PK\x03\x04" + b"garbage" * 50,
        status="rejected",
        reason="named like an Excel file but it is not a valid workbook (the zip container is damaged)",
    ),
    Case(
        "xlsx-parts-missing",
        lambda: _zip({"[Content_Types].xml": b"<Types/>"}),
        status="rejected",
        reason="the workbook cannot be opened: ...",
    ),
    Case(
        "zero-bytes",
        lambda: b"\x00" * 3000 + b"abc,def\n" * 137,
        status="rejected",
        reason="73% of the file's first bytes are zero bytes (NUL), in no text encoding's pattern: the "
        "file is damaged or is not a CSV or Excel list; export it again",
    ),
    Case(
        "utf16-bom-broken",
        lambda: b"\xff\xfe" + b"a\x00" * 10 + b"\x00\xd8" * 3,
        status="rejected",
        reason="the file says UTF-16 but 3 of its characters are not valid UTF-16",
    ),
    Case(
        "utf16-no-bom",
        lambda: _csv_text(_rows(), CONTAINERS["utf8-comma"]).encode("utf-16-le"),
        read=3,
        loaded=3,
    ),
    Case(
        "utf32-no-bom",
        lambda: _csv_text(_rows(), CONTAINERS["utf8-comma"]).encode("utf-32-be"),
        read=3,
        loaded=3,
    ),
    Case(
        "cp1252",
        lambda: _csv_text(_rows()[1:], CONTAINERS["utf8-comma"]).replace("KEO", "KÉO").encode("cp1252"),
        read=2,
        loaded=2,
    ),
    Case("cr-line-endings", lambda: _good().replace(b"\n", b"\r"), read=3, loaded=3),
    Case(
        "blank-lines-between",
        lambda: _good().replace(b"\nKH-2", b"\n\n,,,\nKH-2"),
        read=3,
        loaded=3,
    ),
    Case("title-rows-above", lambda: b"IOM returns\n\n" + _good(), read=3, loaded=3),
    Case(
        "unknown-source",
        _good,
        source=None,
        status="rejected",
        reason=(
            "source unknown: put the file under landing/<source>/ or pass --source "
            "(its header is that of the IOM return list: --source iom)"
        ),
    ),
    Case(
        "traversal-name", _good, read=3, loaded=3, file_name="../../etc/passwd.csv", stored_name="passwd.csv"
    ),
    Case("control-in-name", _good, read=3, loaded=3, file_name="li\x1bst\n.csv", stored_name="list.csv"),
    Case("name-not-utf8", _good, read=3, loaded=3, file_name="l\udce9st.csv", stored_name="l\ufffdst.csv"),
    Case("markup-header", lambda: _good().replace(b"batch_id", b"[/]", 1), read=3, loaded=3),
    Case(
        "quote-open-at-end",
        lambda: _good() + b'KH-9,"SOK',
        read=4,
        loaded=3,
        quarantined={5: "unclosed_quote"},
    ),
    # MoSVY workbooks
    Case("xlsx-good", lambda: _mosvy(_mosvy_rows()), "mosvy", read=3, loaded=3, file_name="m.xlsx"),
    Case(
        "xlsx-bad-date-text",
        lambda: _mosvy(_mosvy_rows(ret="32/13/2024")),
        "mosvy",
        read=3,
        loaded=2,
        quarantined={3: "date_format"},
        file_name="m.xlsx",
    ),
    Case(
        "xlsx-yyyymmdd-number",
        lambda: _mosvy(_mosvy_rows(ret=20240605)),
        "mosvy",
        read=3,
        loaded=3,
        file_name="m.xlsx",
    ),
    Case(
        "xlsx-number-past-excel",
        lambda: _mosvy(_mosvy_rows(ret=99999999)),
        "mosvy",
        read=3,
        loaded=2,
        quarantined={3: "date_format"},
        file_name="m.xlsx",
    ),
    Case(
        "xlsx-huge-float-date",
        lambda: _mosvy(_mosvy_rows(ret=1e300)),
        "mosvy",
        read=3,
        loaded=2,
        quarantined={3: "date_format"},
        file_name="m.xlsx",
    ),
    Case(
        "xlsx-number-in-date-format",
        lambda: _mosvy(_mosvy_rows(ret=19900312), date_format_at=(3, RET + 1)),
        "mosvy",
        read=3,
        loaded=2,
        quarantined={3: "date_format"},
        file_name="m.xlsx",
    ),
    Case(
        "xlsx-boolean-date",
        lambda: _mosvy(_mosvy_rows(ret=True)),
        "mosvy",
        read=3,
        loaded=2,
        quarantined={3: "date_format"},
        file_name="m.xlsx",
    ),
    Case(
        "xlsx-datetime-dob",
        lambda: _mosvy(_mosvy_rows(dob=dt.datetime(1990, 3, 12, 8, 0))),
        "mosvy",
        read=3,
        loaded=3,
        file_name="m.xlsx",
    ),
    Case(
        "xlsx-formula",
        lambda: _mosvy(_mosvy_rows(family="=A1&B1")),
        "mosvy",
        read=3,
        loaded=2,
        quarantined={3: "formula"},
        file_name="m.xlsx",
    ),
    Case(
        "xlsx-limon",
        lambda: _mosvy(_mosvy_rows(family="sux", ret="05/06/2024")),
        "mosvy",
        read=3,
        loaded=3,
        file_name="m.xlsx",
    ),
    Case(
        "xlsx-repeated-no",
        lambda: _mosvy(_mosvy_rows(no="1")),
        "mosvy",
        read=3,
        loaded=2,
        quarantined={3: "duplicate_id"},
        file_name="m.xlsx",
    ),
    Case(
        "xlsx-blank-return",
        lambda: _mosvy(_mosvy_rows(ret=None)),
        "mosvy",
        read=3,
        loaded=2,
        quarantined={3: "required"},
        file_name="m.xlsx",
    ),
    Case(
        "xlsx-long-text",
        lambda: _mosvy(_mosvy_rows(family="ក" * 33_000)),
        "mosvy",
        read=3,
        loaded=2,
        quarantined={3: "cell_too_long"},
        file_name="m.xlsx",
    ),
    Case(
        "xlsx-two-sheets",
        lambda: _workbook(
            [
                ("A", "visible", [MOSVY_HEADER, *_mosvy_rows()[:2]]),
                ("B", "visible", [MOSVY_HEADER, _mosvy_rows()[2]]),
            ]
        ),
        "mosvy",
        status="rejected",
        reason=SHEETS
        + "sheet 1 ('A'): 2 rows; sheet 2 ('B'): 1 rows); put them on one sheet (or delete an old "
        "copy) and send the file again, or send one file per sheet",
        file_name="m.xlsx",
    ),
    Case(
        "xlsx-hidden-copy",
        lambda: _workbook(
            [
                ("Old", "hidden", [MOSVY_HEADER, *_mosvy_rows()]),
                ("New", "visible", [MOSVY_HEADER, *_mosvy_rows()]),
            ]
        ),
        "mosvy",
        status="rejected",
        reason=SHEETS + "...",
        file_name="m.xlsx",
    ),
    Case(
        "xlsx-very-hidden-list",
        lambda: _workbook(
            [("Cover", "visible", [["Return list"]]), ("Data", "veryHidden", [MOSVY_HEADER, *_mosvy_rows()])]
        ),
        "mosvy",
        read=3,
        loaded=3,
        file_name="m.xlsx",
    ),
    Case(
        "xlsx-header-only",
        lambda: _workbook([("S", "visible", [MOSVY_HEADER])]),
        "mosvy",
        read=0,
        file_name="m.xlsx",
    ),
    Case(
        "xlsx-no-header",
        lambda: _workbook([("S", "visible", [["a", "b"], [1, 2]])]),
        "mosvy",
        status="rejected",
        reason=NO_HEADER,
        file_name="m.xlsx",
    ),
    Case(
        "xlsx-1904",
        lambda: _workbook(
            [("S", "visible", [MOSVY_HEADER, *_mosvy_rows(ret=dt.datetime(2024, 6, 5))])], epoch_1904=True
        ),
        "mosvy",
        read=3,
        loaded=3,
        file_name="m.xlsx",
    ),
    Case("xlsx-as-csv-name", lambda: _mosvy(_mosvy_rows()), "mosvy", read=3, loaded=3, file_name="m.csv"),
    Case("csv-as-xlsx-name", _good, read=3, loaded=3, file_name="list.xlsx"),
]

CASES = ROW_CASES + FILE_CASES


def test_the_corpus_is_large_and_every_id_unique() -> None:
    assert len(CASES) >= 100
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_malformed_file(case: Case, template: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(template, home)
    settings: Settings = load_settings(home=home, db_url="", data_docs=False)
    try:
        r = Ingestor(settings).ingest_bytes(case.build(), case.file_name, case.source)
        assert r.status == case.status
        if case.reason and case.reason.endswith("..."):
            assert r.reason and r.reason.startswith(case.reason[:-3]), r.reason
        else:
            assert r.reason == case.reason
        assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (
            case.read,
            case.loaded,
            len(case.quarantined),
        )
        with session_scope(settings) as s:
            d = s.scalars(select(Delivery)).one()  # this delivery and no other
            assert (d.status, d.reason, d.file_name) == (r.status, r.reason, case.stored_name or r.file_name)
            assert {q.line: q.rule for q in s.scalars(select(Quarantine))} == case.quarantined
            assert s.scalar(select(func.count()).select_from(Record)) == case.loaded
        assert (settings.archive_dir / d.sha256[:2] / d.sha256).exists()  # kept, for replay
    finally:
        dispose_engines()
