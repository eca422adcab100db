"""A workbook's inline-string cells read without building openpyxl's rich-text objects.

Why: openpyxl reads each `<c t="inlineStr"><is><t>text</t></is></c>` cell by building a
`Text` object through its descriptor machinery (`Text.from_tree(child).content`), about a
third of the time of reading a workbook whose text is written inline, as exports from
other tools often are. A cell whose `<is>` holds only `<t>` elements and no attributes is
read here straight from the XML, to exactly what `Text.from_tree(...).content` gives (the
last `<t>`'s text, or ""); any other (rich runs, phonetic text, attributes) goes to
openpyxl's own `Text` as before, so what it accepts or refuses is unchanged.
"""

from __future__ import annotations

from typing import Any


class _Plain:
    """What openpyxl's worksheet reader reads of a Text: its content."""

    __slots__ = ("content",)

    def __init__(self, content: str) -> None:
        self.content = content


class InlineText:
    """Stands in for openpyxl.cell.text.Text in openpyxl's worksheet reader (from_tree only)."""

    def __init__(self, text: Any) -> None:
        self._text = text

    def from_tree(self, node: Any) -> Any:
        if node.attrib:
            return self._text.from_tree(node)
        plain = None
        for el in node:
            tag = el.tag
            if tag.__class__ is not str or tag.rpartition("}")[2] != "t":
                return self._text.from_tree(node)
            plain = el.text
        return _Plain("" if plain is None else plain)


def install() -> None:
    """Make openpyxl's worksheet reader read inline strings through InlineText (idempotent)."""
    from openpyxl.cell.text import Text
    from openpyxl.worksheet import _reader

    if not isinstance(_reader.Text, InlineText):
        _reader.Text = InlineText(Text)
