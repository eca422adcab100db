"""Rows whose values stand one column off their titles, told apart from rows with a bad value.

Why: a clerk who inserts or deletes one cell (not the whole column) moves the rest of that
row one column right or left. Each value then sits under the wrong title, and the row was
quarantined for whatever that did first ("birth_date: not a date"), which sends the officer
to look at a date that is fine. The evidence here is the row itself: read one cell back, it
passes every check a row can fail. It is quarantined still (which way is right is for the
sender to say), with the reason that tells them what to move; once moved, replay loads it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from linkage.ingest.canonical import Cell, Issue, RowMapper, cell_text
from linkage.ingest.readers import RawTable
from linkage.sources import SourceMapping

# rows tried at most: each is mapped again twice, and a list of thousands of bad rows is
# bad in some other way
MAX_TRIED = 2000

RIGHT = (
    "the row's values stand one column right of their titles (its first cell is empty; read "
    "one cell to the left, the row is whole): move them back one cell, then send the list again"
)
LEFT = (
    "the row's values stand one column left of their titles (read one cell to the right, the "
    "row is whole, but {first} is missing): move them one cell right, fill in {first}, then "
    "send the list again"
)


def shifted_row_issues(
    mapping: SourceMapping, table: RawTable, today: dt.date, bad_lines: set[int]
) -> list[Issue]:
    """A shifted_row issue for each row with an error that reads whole one cell over."""
    tried = [(line, cells) for line, cells in table.rows if line in bad_lines][:MAX_TRIED]
    if not tried:
        return []
    mapper = RowMapper(mapping, table, today)
    first = mapper.labels[0] if mapper.labels else "the first column"
    width = len(table.header)
    found: dict[int, Issue] = {}
    for step, reason in ((1, RIGHT), (-1, LEFT.format(first=first))):
        moved = [(line, m) for line, cells in tried if (m := _moved(cells, step, width)) is not None]
        if not moved:
            continue
        # moved right, the first column is empty: its own blank is not held against the row
        still_bad = {
            i.line
            for i in mapper.map_rows(moved).issues
            if i.severity == "error" and not (step == -1 and i.column == first)
        }
        for line, _ in moved:
            if line not in still_bad and line not in found:
                found[line] = Issue(line, None, "shifted_row", reason)
    return [found[line] for line in sorted(found)]


def _moved(cells: Sequence[Cell], step: int, width: int) -> list[Cell] | None:
    """The row read one cell to the left (step 1) or right (step -1); None when it cannot be."""
    values = list(cells)
    if step == 1:
        if not values or cell_text(values[0]) or not any(cell_text(c) for c in values[1:]):
            return None
        return [*values[1:], None]
    if len(values) >= width and cell_text(values[width - 1]):
        return None  # the last value would fall off the list
    return [None, *values][: max(width, len(values))]
