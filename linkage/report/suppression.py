"""Small-count suppression that cannot be undone by subtraction.

Why complementary suppression and not rounding: case leads check that the summary adds
up (returns = referred + flagged + inside the grace period), so the figures shown stay
exact. A count from 1 to threshold-1 is hidden (primary); where its group has a published
total, further counts are hidden until at least two are hidden and the hidden ones sum to
at least the threshold (complementary), so no hidden count is the total minus the others.
All hidden counts show the same mark, so a reader cannot tell primary from complementary.
"""

from __future__ import annotations

from collections.abc import Sequence

HIDDEN = "x"


def is_small(n: int, threshold: int) -> bool:
    return 0 < n < threshold


def protect(values: Sequence[int], threshold: int) -> list[bool]:
    """Which counts of one group with a published total to hide (True = hidden)."""
    hidden = [is_small(v, threshold) for v in values]
    if not any(hidden):
        return hidden

    def done() -> bool:
        shown = [v for v, h in zip(values, hidden, strict=True) if h]
        return len(shown) >= 2 and sum(shown) >= threshold

    while not done():
        candidates = [(v, i) for i, (v, h) in enumerate(zip(values, hidden, strict=True)) if not h]
        if not candidates:
            break
        # the smallest count that is not zero (a hidden zero protects nothing), else any
        nonzero = [c for c in candidates if c[0] > 0]
        _, i = min(nonzero or candidates)
        hidden[i] = True
    return hidden


def shown(values: Sequence[int], threshold: int, with_total: bool = True) -> list[int | str]:
    """The values as printed: exact, or HIDDEN. Without a published total only small ones hide."""
    mask = protect(values, threshold) if with_total else [is_small(v, threshold) for v in values]
    return [HIDDEN if h else v for v, h in zip(values, mask, strict=True)]


def total_shown(values: Sequence[int], threshold: int) -> int | str:
    """A group's total, hidden only when the whole group is one small count."""
    total = sum(values)
    return HIDDEN if is_small(total, threshold) else total


def shown_flows(
    opened: int, closed: int, open_before: int, threshold: int
) -> tuple[int | str, int | str, int | str]:
    """This week's opened and closed, and last week's open count, as printed.

    open now = open last week + opened - closed, and open now is always shown; so if either
    flow is small, both flows and last week's count are hidden (else one follows from the rest).
    """
    if is_small(opened, threshold) or is_small(closed, threshold):
        return HIDDEN, HIDDEN, HIDDEN
    return opened, closed, (HIDDEN if is_small(open_before, threshold) else open_before)
