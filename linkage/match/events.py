"""A person's records grouped into return events.

Why: a man trafficked twice came home twice, and each return needs its own referral.
Records whose return dates lie within a window (and name no other country) are one
return. An NGO intake, which gives no return date, follows a return: it joins the latest
return on or before it (a week's slack), or a first return registered soon after it; an
intake that follows none of his dated returns (long before the first, an earlier episode
no other list wrote; or long after the last, a later one) is a return of its own, so that
its referral does not cover a return it did not follow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

# An NGO intake dated a little before the recorded return still follows it (lists disagree
# on the return date by a few days, and a return may be registered a day or two late).
SLACK_DAYS = 7
# An intake dated before his first recorded return follows it when that return was
# registered at most this many days after the intake (a provincial office weeks late).
REGISTERED_LATE_DAYS = 30


class EventRow(NamedTuple):
    """What grouping needs from a record (no personal fields). A tuple: a first link makes
    a million of them, and a frozen dataclass costs three times as much to make."""

    record_id: int
    return_date: dt.date | None
    country: str | None
    point_of_entry: str | None
    other_date: dt.date | None  # intake or load date, for records without a return date
    previous_event: str | None
    intake_date: dt.date | None = None  # the NGO's intake date (a load date says nothing of the return)


@dataclass
class EventGroup:
    record_ids: list[int]
    return_date: dt.date | None
    country: str | None
    point_of_entry: str | None


def _mode(values: list[str | None]) -> str | None:
    known = [v for v in values if v]
    return max(sorted(set(known)), key=known.count) if known else None


def _dated_groups(rows: list[EventRow], window_days: int) -> list[list[EventRow]]:
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
    return groups


def _latest_before(groups: list[list[EventRow]], intake: dt.date) -> int:
    """Index of the latest dated return on or before an intake (a week's slack), or -1."""
    slack = intake + dt.timedelta(days=SLACK_DAYS)
    return max((i for i, g in enumerate(groups) if g[0].return_date <= slack), default=-1)  # type: ignore[operator]


def _followed(groups: list[list[EventRow]], intake: dt.date, follows_days: int) -> list[EventRow] | None:
    """The dated return an intake follows, or None when it follows none of them: the latest
    on or before it (at most follows_days before, unless 0), else the next if it was
    registered at most REGISTERED_LATE_DAYS after the intake."""
    i = _latest_before(groups, intake)
    if i >= 0 and not (follows_days and (intake - groups[i][0].return_date).days > follows_days):  # type: ignore[operator]
        return groups[i]
    if i + 1 < len(groups) and (groups[i + 1][0].return_date - intake).days <= REGISTERED_LATE_DAYS:  # type: ignore[operator]
        return groups[i + 1]
    return None


def group_returns(rows: list[EventRow], window_days: int, follows_days: int = 0) -> list[EventGroup]:
    """Group one person's records into returns, oldest first.

    follows_days: an intake more than this many days after the latest dated return before it
    (or after the first intake of a return known only from intakes) follows a return no list
    dated (0: it follows however late)."""
    if len(rows) == 1:  # most persons of a first link: the general case below gives the same
        r = rows[0]
        return [EventGroup([r.record_id], r.return_date or None, r.country or None, r.point_of_entry or None)]
    groups = _dated_groups(rows, window_days)
    own: list[tuple[int, list[EventRow]]] = []  # intakes that follow no dated return, by the one before
    rest: list[EventRow] = []  # no date that says anything of the return
    undated = [r for r in rows if not r.return_date]
    for r in sorted(undated, key=lambda r: (r.intake_date or dt.date.max, r.record_id)):
        if r.intake_date is None:
            rest.append(r)
            continue
        target = _followed(groups, r.intake_date, follows_days)
        if target is not None:
            target.append(r)
            continue
        after = _latest_before(groups, r.intake_date)
        if (
            own
            and own[-1][0] == after
            and not (
                follows_days and (r.intake_date - own[-1][1][0].intake_date).days > follows_days  # type: ignore[operator]
            )
        ):
            own[-1][1].append(r)
        else:
            own.append((after, [r]))
    groups = sorted(groups + [g for _i, g in own], key=_start)
    for r in rest:  # the latest return on or before its load date, else his first
        if not groups:
            groups = [[r]]
            continue
        on_or_before = [g for g in groups if r.other_date and _start(g) <= r.other_date]
        (on_or_before[-1] if on_or_before else groups[0]).append(r)
    return [
        EventGroup(
            record_ids=[r.record_id for r in g],
            return_date=min((r.return_date for r in g if r.return_date), default=None),
            country=_mode([r.country for r in g]),
            point_of_entry=_mode([r.point_of_entry for r in g]),
        )
        for g in groups
    ]


def _start(g: list[EventRow]) -> dt.date:
    """When a group's return was, or (intakes only) the latest it can have been."""
    return g[0].return_date or g[0].intake_date or dt.date.max
