"""Inline-string cells read straight from the XML give what openpyxl's Text gives."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile

import pytest
from openpyxl.cell.text import Text

from linkage.ingest.readers import read_table
from linkage.ingest.xlsx_text import InlineText

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PHONETIC = '<rPh sb="0" eb="1"><t>k</t></rPh>'  # a reading aid, not part of the text
SNIPPETS = [
    "<is><t>ខៀវ ចាន់ណា</t></is>",
    '<is><t xml:space="preserve">  Keo  </t></is>',
    "<is><t></t></is>",
    "<is><t/></is>",
    "<is></is>",
    "<is><t>first</t><t>second</t></is>",
    "<is><t>a<x/>b</t></is>",
    "<is><r><t>Sok</t></r><r><rPr><b/></rPr><t> Dara</t></r></is>",
    "<is><t>plain</t><r><t> run</t></r></is>",
    '<is><t>សុខ</t><rPh sb="0" eb="1"><t>so</t></rPh></is>',
    '<is><t>x</t><phoneticPr fontId="1"/></is>',
    "<is><t>x</t><other>y</other></is>",
]


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_same_content_as_openpyxl(snippet: str) -> None:
    node = ET.fromstring(snippet.replace("<is>", f'<is xmlns="{NS}">', 1))
    assert InlineText(Text).from_tree(node).content == Text.from_tree(node).content


def test_attributes_go_to_openpyxl() -> None:
    """An <is> with attributes is openpyxl's to read (it refuses unknown ones)."""
    node = ET.fromstring(f'<is xmlns="{NS}" odd="1"><t>x</t></is>')
    with pytest.raises(TypeError):
        InlineText(Text).from_tree(node)


def _workbook(cells: list[list[str]]) -> bytes:
    """A minimal workbook whose cells are all inline strings (as some tools write them)."""
    rows = "".join(
        f'<row r="{r}">'
        + "".join(f'<c r="{chr(65 + c)}{r}" t="inlineStr">{v}</c>' for c, v in enumerate(row))
        + "</row>"
        for r, row in enumerate(cells, 1)
    )
    sheet = f'<worksheet xmlns="{NS}"><sheetData>{rows}</sheetData></worksheet>'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    rels = "http://schemas.openxmlformats.org/package/2006/relationships"
    doc = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{doc}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{doc}.worksheet+xml"/>'
            "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{rels}">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{NS}" xmlns:r="{rel}"><sheets>'
            '<sheet name="List" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{rels}">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>",
        )
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


def test_workbook_of_inline_strings_reads_each_cell() -> None:
    data = _workbook(
        [
            ["<is><t>ID</t></is>", "<is><t>Name</t></is>"],
            ["<is><t>A-1</t></is>", "<is><r><t>Sok</t></r><r><t> Dara</t></r></is>"],
            [
                "<is><t>A-2</t></is>",
                '<is><t xml:space="preserve"> Keo </t><rPh sb="0" eb="1"><t>k</t></rPh></is>',
            ],
        ]
    )
    table = read_table(data, {"id", "name"}, 10, 100 * 2**20, 200.0)
    assert table.header == ["ID", "Name"]
    assert [list(cells) for _line, cells in table.rows] == [["A-1", "Sok Dara"], ["A-2", " Keo "]]
    from openpyxl.worksheet import _reader

    assert isinstance(_reader.Text, InlineText)  # the cells above went through it
