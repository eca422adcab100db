"""Which flagged returns a case lead should act on first.

Why a rule and not "oldest first": the men who came home weeks ago are the ones still
reachable at the number they gave, and children come before everyone. The rule (also in
the Read me, from the glossary):

1. under 18 (at return or now), or returned within 90 days;
2. an NGO case closed without referral, or returned within 180 days;
3. the rest.

Within a level, a man with a phone or village known comes before one without; then the
most recent return. "May be the same man as another row" does not change the level; it
is shown so that one visit serves both rows.
"""

from __future__ import annotations

from dataclasses import dataclass

RECENT_DAYS = 90
HALF_YEAR_DAYS = 180
ADULT_AGE = 18


@dataclass(frozen=True)
class Priority:
    level: int
    because: tuple[str, ...]  # glossary keys, e.g. ("priority.under_18", "priority.recent")


def priority(
    days_since_return: int, age_at_return: int | None, age_now: int | None, ngo_closed: bool
) -> Priority:
    """The level of one flagged return, and the glossary keys of why."""
    child = any(a is not None and a < ADULT_AGE for a in (age_at_return, age_now))
    first = [
        k
        for k, on in (("priority.under_18", child), ("priority.recent", days_since_return <= RECENT_DAYS))
        if on
    ]
    if first:
        return Priority(1, tuple(first))
    second = [
        k
        for k, on in (
            ("priority.ngo_closed", ngo_closed),
            ("priority.half_year", days_since_return <= HALF_YEAR_DAYS),
        )
        if on
    ]
    if second:
        return Priority(2, tuple(second))
    return Priority(3, ())


def sort_key(level: int, reachable: bool, days_since_return: int, event_id: str) -> tuple:
    """Most urgent first; within a level the reachable, then the most recent returns."""
    return (level, not reachable, days_since_return, event_id)
