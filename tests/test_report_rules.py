"""The weekly report's rules on their own: glossary, suppression, priority, phones."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from linkage.report.details import allows_sharing, each_phone, national_phone
from linkage.report.glossary import glossary, term
from linkage.report.priority import priority, sort_key
from linkage.report.suppression import HIDDEN, protect, shown, shown_flows

REPORT_CODE = Path(__file__).resolve().parent.parent / "linkage" / "report"
KHMER = re.compile("[\u1780-\u17ff]")


def _fields(text: str) -> set[str]:
    return {f for _lit, f, _spec, _conv in string.Formatter().parse(text) if f}


def test_every_glossary_entry_has_khmer_and_english_with_the_same_placeholders() -> None:
    g = glossary()
    assert len(g) > 100
    for key, t in g.items():
        assert KHMER.search(t.km), f"{key}: no Khmer"
        assert t.en.strip() and not KHMER.search(t.en), f"{key}: English missing or mixed"
        assert _fields(t.km) == _fields(t.en), key
    # "open flags" is a case not yet referred, never a national flag (ទង់ជាតិ)
    assert not any("ទង់" in t.km for t in g.values())
    assert term("summary.open_flags").km == "ករណីមិនទាន់បានបញ្ជូន"


def test_every_key_the_report_asks_for_is_in_the_glossary() -> None:
    literal = re.compile(r"""\b(?:term|both|has)\(\s*["']([a-z_][\w.\- ]*)["']""")
    used = set()
    for path in REPORT_CODE.glob("*.py"):
        used |= set(literal.findall(path.read_text(encoding="utf-8")))
    assert len(used) > 60
    missing = sorted(k for k in used if k not in glossary())
    assert missing == []
    # keys named in the column tables, and built at run time
    from linkage.report.contact_sheet import CLOSED_COLUMNS, CONTACT_COLUMNS

    assert all(g in glossary() for _k, g, _w in CONTACT_COLUMNS + CLOSED_COLUMNS)
    for key in ("priority.1", "priority.2", "priority.3", "list.iom", "list.mosvy", "band.91-180"):
        assert key in glossary()


def test_numbers_take_khmer_digits_in_khmer_only() -> None:
    t = term("summary.flagged", days=30)
    assert "៣០" in t.km and "30" in t.en and "30" not in t.km


def _compositions(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in _compositions(total - first, parts - 1):
            yield (first, *rest)


def reconstructions(values: list[int], hidden: list[bool], threshold: int) -> list[set[int]]:
    """What a reader can work out for each hidden cell: he knows the shown cells, the total,
    and that at least one hidden cell is a small count (else nothing would be hidden)."""
    known = sum(v for v, h in zip(values, hidden, strict=True) if not h)
    n = sum(hidden)
    options: list[set[int]] = [set() for _ in range(n)]
    for combo in _compositions(sum(values) - known, n):
        if any(0 < v < threshold for v in combo):
            for k, v in enumerate(combo):
                options[k].add(v)
    return options


@pytest.mark.parametrize(
    "values",
    [[1, 17, 30], [3, 4, 40, 2], [0, 4, 9], [2, 0, 0, 50], [4, 4], [1, 1, 1, 1, 30], [12, 7, 5], [4, 5, 60]],
)
def test_no_hidden_count_follows_from_the_total(values: list[int]) -> None:
    mask = protect(values, 5)
    small = [0 < v < 5 for v in values]
    assert all(m for m, s in zip(mask, small, strict=True) if s)  # every small count hidden
    if any(mask):
        assert sum(mask) >= 2
        for cell_options in reconstructions(values, mask, 5):
            assert len(cell_options) >= 2  # never pinned down by subtraction
    assert shown(values, 5) == [HIDDEN if m else v for v, m in zip(values, mask, strict=True)]


def test_a_small_flow_hides_its_partner_and_last_weeks_count() -> None:
    # the case: closed 1, opened 17, open 48 -> 64 gave closed = 48 + 17 - 64 exactly
    assert shown_flows(opened=17, closed=1, open_before=48, threshold=5) == (HIDDEN, HIDDEN, HIDDEN)
    assert shown_flows(opened=17, closed=9, open_before=48, threshold=5) == (17, 9, 48)
    assert shown_flows(opened=0, closed=0, open_before=3, threshold=5) == (0, 0, HIDDEN)


def test_priority_rule() -> None:
    assert priority(200, 16, 17, ngo_closed=False).level == 1  # a child, however old the return
    assert priority(200, 17, 19, ngo_closed=False).because == ("priority.under_18",)
    assert priority(45, 30, 30, ngo_closed=False).because == ("priority.recent",)
    assert priority(400, 30, 31, ngo_closed=True).level == 2
    assert priority(150, 30, 31, ngo_closed=False).because == ("priority.half_year",)
    assert priority(400, 30, 31, ngo_closed=False).level == 3
    assert priority(400, None, None, ngo_closed=False).level == 3
    rows = [
        ("old", sort_key(3, True, 400, "e1")),
        ("recent unreachable", sort_key(1, False, 40, "e2")),
        ("recent", sort_key(1, True, 60, "e3")),
        ("fresher", sort_key(1, True, 35, "e4")),
        ("closed ngo", sort_key(2, True, 300, "e5")),
    ]
    assert [n for n, _k in sorted(rows, key=lambda r: r[1])] == [
        "fresher",
        "recent",
        "recent unreachable",
        "closed ngo",
        "old",
    ]


def test_phones_in_national_format_and_consent() -> None:
    assert national_phone("+85512345678") == "012 345 678"
    assert national_phone("+855971112233") == "097 111 2233"
    assert national_phone(None) is None
    cells = pd.Series(["+85512345678 +855971112233", None, "+85512345678"])
    assert each_phone(cells).tolist() == ["+85512345678", "+855971112233", "+85512345678"]
    assert allows_sharing("mosvy", None) and allows_sharing("iom", "Y") and allows_sharing("ngo-hagar", " y")
    assert (
        not allows_sharing("iom", "N") and not allows_sharing("iom", None) and not allows_sharing("ngo-x", "")
    )
