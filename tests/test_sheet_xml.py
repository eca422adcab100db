"""The fast sheet reader (linkage/ingest/sheet_xml.py) gives exactly openpyxl's rows, or None."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl

from linkage.ingest.sheet_xml import sheet_values
from linkage.ingest.xlsx_text import install


def _workbook(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    ws.cell(row=9, column=2, value="after a gap")  # rows 5-8 missing from the XML
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _both(data: bytes) -> tuple[list[list[object]] | None, list[list[object]]]:
    install()
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    ws = wb.worksheets[0]
    fast = sheet_values(ws)
    ws.reset_dimensions()
    slow = [list(r) for r in ws.iter_rows(values_only=True)]
    wb.close()
    return fast, slow


ROWS = [
    ["ល.រ", "នាមត្រកូល", "ថ្ងៃខែឆ្នាំកំណើត", "amount", "flag"],
    [1, "សុខ & <ដារា>", dt.datetime(1990, 3, 12), 12.5, True],
    [2, None, None, -3, False],
    ["x\ny", "  spaced  ", dt.date(2020, 1, 1), 1e20, None],
]


def test_a_workbook_of_shared_strings_numbers_dates_and_gaps_reads_as_openpyxl_reads_it() -> None:
    fast, slow = _both(_workbook(ROWS))
    assert fast is not None  # the plain shape: read by the fast path
    assert fast == slow
    assert [[type(v) for v in r] for r in fast] == [[type(v) for v in r] for r in slow]


def _with_sheet(data: bytes, edit) -> bytes:  # noqa: ANN001 - a str -> str function
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = edit(body.decode("utf-8")).encode("utf-8")
            z.writestr(info.filename, body)
    return out.getvalue()


def test_inline_strings_line_ends_and_references_read_as_openpyxl_reads_them() -> None:
    inline = '<c r="A2" t="inlineStr"><is><t xml:space="preserve">a\r\nb &amp;&#x17A0; </t></is></c>'

    def edit(xml: str) -> str:
        return xml.replace('<c r="A2" t="n"><v>1</v></c>', inline, 1)

    fast, slow = _both(_with_sheet(_workbook(ROWS), edit))
    assert fast is not None and fast == slow
    assert fast[1][0] == "a\nb &\u17a0 "


def test_a_sheet_not_of_the_plain_shape_is_left_to_openpyxl() -> None:
    formula = _workbook([["a", "b"], [1, "=SUM(A1:A2)"]])
    comment = _with_sheet(_workbook(ROWS), lambda x: x.replace("<sheetData>", "<sheetData><!-- note -->"))
    rich = _with_sheet(
        _workbook(ROWS),
        lambda x: x.replace(
            '<c r="A2" t="n"><v>1</v></c>', '<c r="A2" t="inlineStr"><is><r><t>a</t></r></is></c>'
        ),
    )
    broken = _with_sheet(_workbook(ROWS), lambda x: x.replace("</sheetData>", "</sheetData><oops>"))
    install()
    for data in (formula, comment, rich, broken):
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        assert sheet_values(wb.worksheets[0]) is None
        wb.close()
