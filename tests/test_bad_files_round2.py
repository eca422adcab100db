"""Bad input, round two (h15-bad): files that are no list, and lists sent to the wrong place.

Each file is made here, real (a photo's first bytes, a zip of lists, an Outlook message as
an OLE2 container, a list in the wrong landing folder), and ingested into a store of its
own through Ingestor, the path `survivor-link ingest` takes. A refusal must say what the
file is and what to send instead, never a value of it; a list refused under the wrong
source must load, once, when it is sent as the right one.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import AuditLog, Delivery
from tests.helpers import iom_csv, iom_row, mosvy_row, sheet
from tests.store_helpers import ingest, quarantine, quarantined, records

# canary values: a man's name, phone and case number as a sender might put them anywhere
CANARY_NAME, CANARY_PHONE, CANARY_CASE = "VUTHEARA SOKHEANG", "012987654", "KH-IOM-2024-9917"


def _canary_list() -> bytes:
    return iom_csv(
        [iom_row(CANARY_CASE, name=CANARY_NAME, phone=CANARY_PHONE), iom_row("KH-IOM-2024-9918")]
    ).encode()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in members.items():
            z.writestr(name, body)
    return out.getvalue()


def _outlook_message() -> bytes:
    """An OLE2 container as Outlook saves a message (.msg): its streams are __substg1.0_...
    Made from an .xls (xlwt) whose one stream is renamed, so the container itself is real."""
    import xlwt

    wb = xlwt.Workbook()
    wb.add_sheet("Sheet1").write(0, 0, CANARY_NAME)
    buf = io.BytesIO()
    wb.save(buf)
    data = bytearray(buf.getvalue())
    at = data.find("Workbook".encode("utf-16-le") + b"\0\0")
    name = "__substg1.0_0037001F".encode("utf-16-le") + b"\0\0"
    data[at : at + 64] = name.ljust(64, b"\0")
    data[at + 64 : at + 66] = len(name).to_bytes(2, "little")
    return bytes(data)


_MAIL = (
    "Received: from mail.example.org\r\nFrom: dosvy@example.org\r\nTo: data@example.org\r\n"
    f"Subject: list of {CANARY_NAME} {CANARY_PHONE}\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\n"
).encode()

NOT_A_LIST = [
    (
        "photo.jpg",
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8,
        "this is a photo (JPEG), not a list",
    ),
    ("shot.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "this is a picture (PNG), not a list"),
    ("IMG_0042.HEIC", b"\x00\x00\x00\x18ftypheic" + bytes(200), "this is a photo (HEIC or WebP)"),
    ("scan.tif", b"II*\x00" + bytes(300), "this is a scan (TIFF)"),
    (
        "list.gsheet",
        b'{"url": "https://docs.google.com/spreadsheets/d/1x/edit", "doc_id": "1x", "email": "a@b.org"}',
        "this is a Google Drive shortcut (.gsheet), not the sheet itself",
    ),
    (
        "list.url",
        b"[InternetShortcut]\r\nURL=https://example.org/list\r\n",
        "this is an internet shortcut (.url)",
    ),
    ("list.lnk", b"L\x00\x00\x00\x01\x14\x02\x00" + bytes(120), "this is a Windows shortcut (.lnk)"),
    ("list.eml", _MAIL, "this is an e-mail saved as a file (.eml), not a list"),
    ("list.msg", _outlook_message(), "this is an Outlook message (.msg), not a list"),
    (
        "lists.zip",
        _zip({f"{CANARY_NAME}.xlsx": sheet([["x"]]), "June/kampot.csv": _canary_list(), "note.docx": b"x"}),
        "this is a zip archive holding 3 file(s) (1 .csv, 1 .docx, 1 .xlsx), not an Excel workbook; "
        "unpack it and drop each list in it as a file of its own",
    ),
    (
        "photos.zip",
        _zip({f"{CANARY_PHONE}.jpg": b"\xff\xd8\xff", "__MACOSX/._x": b""}),
        "this is a zip archive holding 1 file(s) (1 .jpg), not an Excel workbook and none of them is a list",
    ),
]


@pytest.mark.parametrize(("name", "data", "start"), NOT_A_LIST, ids=[n for n, _, _ in NOT_A_LIST])
def test_a_file_that_is_no_list_is_named_for_what_it_is_and_echoes_nothing(
    store: Settings, name: str, data: bytes, start: str
) -> None:
    r = ingest(store, data, name, "mosvy")
    assert r.status == "rejected"
    assert r.reason.startswith(start), r.reason
    for canary in (CANARY_NAME, CANARY_PHONE, CANARY_CASE, "kampot", "June"):
        assert canary not in r.reason


def test_a_list_dropped_in_the_wrong_folder_says_where_it_belongs_and_loads_once_when_moved(
    store: Settings,
) -> None:
    data = _canary_list()
    wrong = ingest(store, data, "iom_june.csv", "mosvy")
    assert wrong.status == "rejected"
    assert wrong.reason.startswith("no header row found in the first 25 rows")
    assert wrong.reason.endswith(
        "Its header is that of the IOM return list ('iom'), not of this source: if it is one, put "
        "it under landing/iom/ (or pass --source iom), where it is read again"
    )
    assert CANARY_NAME not in wrong.reason and CANARY_CASE not in wrong.reason
    moved = ingest(store, data, "iom_june.csv", "iom")
    assert (moved.status, moved.rows_loaded, moved.rows_quarantined) == ("ingested", 2, 0)
    again = ingest(store, data, "copy of iom_june.csv", "iom")
    assert again.status == "duplicate"
    assert len(records(store)) == 2
    with session_scope(store) as s:
        d = s.get(Delivery, moved.sha256)
        assert (d.source, d.status, d.reason) == ("iom", "ingested", None)
        changed = [a.details for a in s.query(AuditLog).filter_by(action="delivery.source_changed")]
        assert changed == [{"before": "mosvy", "source": "iom"}]


def test_a_workbook_in_the_iom_folder_is_told_it_is_a_mosvy_list(store: Settings) -> None:
    from linkage.synth.writers import MOSVY_HEADER

    r = ingest(store, sheet([MOSVY_HEADER, mosvy_row("1"), mosvy_row("2")]), "dosvy.xlsx", "iom")
    assert r.status == "rejected"
    assert "Its header is that of the MoSVY / DoSVY return list ('mosvy')" in r.reason


def test_a_list_sent_with_no_source_is_told_its_source_and_loads_when_sent_with_it(store: Settings) -> None:
    data = _canary_list()
    r = ingest(store, data, "list.csv", None)
    assert r.status == "rejected"
    assert r.reason.endswith("(its header is that of the IOM return list: --source iom)")
    assert ingest(store, data, "list.csv", "iom").rows_loaded == 2


def test_the_same_bytes_refused_again_under_the_same_source_stay_a_duplicate(store: Settings) -> None:
    data = b"\xff\xd8\xff\xe0" + bytes(64)
    assert ingest(store, data, "a.jpg", "iom").status == "rejected"
    assert ingest(store, data, "b.jpg", "iom").status == "duplicate"


# --- a summary sheet beside the list ---------------------------------------------------------


def _book(sheets: list[tuple[str, list[list[object]]]]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_SUMMARY = [["សង្ខេប"], ["ខេត្ត/រាជធានី", "ស្រុក/ខណ្ឌ", "ចំនួន"], ["ខេត្តកំពង់ធំ", "សណ្ដាន់", 3], ["សរុប", "", 3]]


def _men() -> list[list[object]]:
    from linkage.synth.writers import MOSVY_HEADER

    return [MOSVY_HEADER, mosvy_row("1"), mosvy_row("2", given="វណ្ណា"), mosvy_row("3", given="សម្បត្តិ")]


@pytest.mark.parametrize("summary_first", [True, False])
def test_a_summary_sheet_of_counts_beside_the_list_is_set_aside_and_the_list_read(
    store: Settings, summary_first: bool
) -> None:
    sheets = [("សង្ខេប", _SUMMARY), ("បញ្ជី", _men())]
    r = ingest(store, _book(sheets if summary_first else sheets[::-1]), "dosvy.xlsx", "mosvy")
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 3, 0)
    where = 1 if summary_first else 2
    assert (
        f"sheet {where} ('សង្ខេប') not read: 2 rows under a header that names no man (a summary of the list)"
        in (r.notes)
    )


def test_a_second_list_whose_name_columns_were_renamed_is_no_summary_the_file_is_refused(
    store: Settings,
) -> None:
    other = [list(_men()[0]), *_men()[1:]]
    other[0][1], other[0][2] = "ឈ្មោះ", "នាម"  # the name titles retyped: no man named by the header
    r = ingest(store, _book([("ខែមិថុនា", _men()), ("ខែឧសភា", other)]), "dosvy.xlsx", "mosvy")
    assert r.status == "rejected"
    assert r.reason.startswith("rows of this list are on 2 sheets")


# --- rows shifted one column --------------------------------------------------------------------


def test_a_row_shifted_right_in_a_sheet_is_quarantined_as_shifted_and_loads_once_fixed(
    store: Settings,
) -> None:
    from linkage.synth.writers import MOSVY_HEADER

    good = [mosvy_row("1"), mosvy_row("2", given="វណ្ណា"), mosvy_row("3", given="សម្បត្តិ", dob="12/03/1990")]
    shifted = [*good[:2], [None, *good[2]]]
    r = ingest(store, sheet([MOSVY_HEADER, *shifted]), "dosvy.xlsx", "mosvy")
    assert (r.rows_loaded, quarantined(store)) == (2, {4: "shifted_row"})
    rule, reason = quarantine(store)[4]
    assert reason.startswith("the row's values stand one column right of their titles")
    assert "12/03/1990" not in reason and "សម្បត្តិ" not in reason
    fixed = ingest(store, sheet([MOSVY_HEADER, *good]), "dosvy fixed.xlsx", "mosvy")
    assert (fixed.rows_loaded, fixed.rows_quarantined) == (3, 0)
    assert len(records(store)) == 3  # the two good rows are the same records, the fixed one new


def test_a_row_shifted_left_says_its_first_value_is_missing(store: Settings) -> None:
    from linkage.synth.writers import MOSVY_HEADER

    rows = [mosvy_row("1"), mosvy_row("2", given="វណ្ណា")[1:], mosvy_row("3", given="សម្បត្តិ")]
    r = ingest(store, sheet([MOSVY_HEADER, *rows]), "dosvy.xlsx", "mosvy")
    assert (r.rows_loaded, quarantined(store)) == (2, {3: "shifted_row"})
    assert "but source_record_id is missing" in quarantine(store)[3][1]


def test_a_csv_row_with_an_extra_first_cell_is_shifted_not_a_bad_date(store: Settings) -> None:
    rows = [iom_row("KH-1"), iom_row("KH-2", name="VANNAK KEO"), iom_row("KH-3", name="SAMBATH CHEA")]
    lines = iom_csv(rows).splitlines()
    lines[2] = "," + lines[2]  # one cell inserted before the row: 18 cells, the last one filled
    r = ingest(store, ("\n".join(lines) + "\n").encode(), "list.csv", "iom")
    assert (r.rows_loaded, quarantined(store)) == (2, {3: "shifted_row"})
    assert ingest(store, iom_csv(rows).encode(), "list fixed.csv", "iom").rows_loaded == 3
    assert len(records(store)) == 3


def test_a_row_with_a_bad_date_and_an_empty_first_cell_is_not_called_shifted(store: Settings) -> None:
    rows = [iom_row("KH-1"), iom_row("KH-2", name="VANNAK KEO", dob="31/31/1990")]
    text = iom_csv(rows).replace("KH-2", "", 1)  # no case number and a bad date: two real mistakes
    ingest(store, text.encode(), "list.csv", "iom")
    assert quarantined(store)[3] != "shifted_row"


# --- a covering letter above the list; ages with their word -------------------------------------


def test_a_list_under_a_covering_letter_longer_than_the_header_search_is_read(store: Settings) -> None:
    from linkage.synth.writers import MOSVY_HEADER

    letter: list[list[object]] = [[f"លិខិតបញ្ជូន បន្ទាត់ទី {i + 1}"] for i in range(30)]
    r = ingest(
        store, sheet([*letter, MOSVY_HEADER, mosvy_row("1"), mosvy_row("2", given="វណ្ណា")]), "d.xlsx", "mosvy"
    )
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("ingested", 2, 0)
    text = "".join(f"line {i} of the letter\n" for i in range(40)) + iom_csv([iom_row("KH-1")])
    assert ingest(store, text.encode(), "list.csv", "iom").rows_loaded == 1


def test_a_letter_that_names_a_column_or_two_by_chance_is_still_no_header(store: Settings) -> None:
    text = "".join(f"line {i}\n" for i in range(30)) + "phone,sex\n012 345 678,M\n"
    r = ingest(store, text.encode(), "list.csv", "iom")
    assert r.status == "rejected"
    assert r.reason.startswith("no header row found in the first 25 rows")


def test_an_age_written_with_its_word_is_the_number(store: Settings) -> None:
    from linkage.synth.writers import MOSVY_HEADER

    ages = ["អាយុ ២៨", "Age: 30", "25 ឆ្នាំ", "30yrs"]
    rows = [
        mosvy_row(str(i + 1), given=g, age=a)
        for i, (g, a) in enumerate(zip(["ដារា", "វណ្ណា", "សម្បត្តិ", "សុភា"], ages, strict=True))
    ]
    r = ingest(store, sheet([MOSVY_HEADER, *rows]), "d.xlsx", "mosvy")
    assert r.rows_loaded == 4 and "age_format" not in r.warnings_by_rule
    assert [x.age for x in records(store)] == [28, 30, 25, 30]


# --- quotes escaped with a backslash -----------------------------------------------------------


def test_quotes_escaped_with_a_backslash_are_read_as_quotes_not_kept_in_the_name(store: Settings) -> None:
    rows = [
        iom_row("KH-1"),
        iom_row("KH-2", name='SOKUNTHEA "TOM" CHEA'),
        iom_row("KH-3", name="SAMBATH CHEA"),
    ]
    text = iom_csv(rows).replace('""', '\\"')  # a database export: \" for a quote inside a cell
    r = ingest(store, text.encode(), "export.csv", "iom")
    assert (r.rows_loaded, r.rows_quarantined) == (3, 0)
    assert [x.full_name for x in records(store)][1] == 'SOKUNTHEA "TOM" CHEA'
    assert any("escaped with a backslash" in n for n in r.notes)


def test_a_csv_that_doubles_its_quotes_keeps_a_backslash_before_one(store: Settings) -> None:
    rows = [iom_row("KH-1", name='DARA "BIG" SOK', village_of_origin='Phum \\"3\\"'), iom_row("KH-2")]
    r = ingest(store, iom_csv(rows).encode(), "list.csv", "iom")
    assert r.rows_loaded == 2
    assert records(store)[0].full_name == 'DARA "BIG" SOK'
