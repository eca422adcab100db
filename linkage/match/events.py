"""A person's records grouped into return events.

Why: a man trafficked twice came home twice, and each return needs its own referral.
Records whose return dates lie within a window (and name no other country) are one
return; a record without a return date (an NGO intake) belongs to the latest return
before it, because a referral follows a return.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple


class EventRow(NamedTuple):
    """What grouping needs from a record (no personal fields). A tuple: a first link makes
    a million of them, and a frozen dataclass costs three times as much to make."""

    record_id: int
    return_date: dt.date | None
    country: str | None
    point_of_entry: str | None
    other_date: dt.date | None  # intake or load date, for records without a return date
    previous_event: str | None


@dataclass
class EventGroup:
    record_ids: list[int]
    return_date: dt.date | None
    country: str | None
    point_of_entry: str | None


def _mode(values: list[str | None]) -> str | None:
    known = [v for v in values if v]
    return max(sorted(set(known)), key=known.count) if known else None


def group_returns(rows: list[EventRow], window_days: int) -> list[EventGroup]:
    """Group one person's records into returns, oldest first."""
    if len(rows) == 1:  # most persons of a first link: the general case below gives the same
        r = rows[0]
        return [EventGroup([r.record_id], r.return_date or None, r.country or None, r.point_of_entry or None)]
    dated = sorted((r for r in rows if r.return_date), key=lambda r: (r.return_date, r.record_id))
    groups: list[list[EventRow]] = []
    for r in dated:
        if groups:
            first = groups[-1][0]
            countries = {g.country for g in groups[-1] if g.country}
            same_country = not r.country or not countries or r.country in countries
            if (r.return_date - first.return_date).days <= window_days and same_country:  # type: ignore[operator]
                groups[-1].append(r)
                continue
        groups.append([r])
    undated = [r for r in rows if not r.return_date]
    if not groups:
        groups = [undated] if undated else []
    else:
        for r in undated:
            target = groups[0]
            for g in groups:
                if r.other_date and g[0].return_date and g[0].return_date <= r.other_date:
                    target = g
            target.append(r)
    return [
        EventGroup(
            record_ids=[r.record_id for r in g],
            return_date=min((r.return_date for r in g if r.return_date), default=None),
            country=_mode([r.country for r in g]),
            point_of_entry=_mode([r.point_of_entry for r in g]),
        )
        for g in groups
    ]
