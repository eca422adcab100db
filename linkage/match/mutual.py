"""Pairs two lists each name as the other's one man: linked from fewer bits.

Why: every return reaches IOM's list and, days later, the ministry's (and often an NGO's),
so a man on one list for a return is, most likely, on the other list for it once. When two
records of two lists each rank the other first among that list's candidates, by a clear
margin over the second, the one-to-one shape of the lists is evidence the feature weights
do not hold (they judge each pair alone). Such a pair links from `min_bits` instead of the
link threshold; namesakes and brothers of one batch compete for the first rank, and then
the margin is not there. Measured on lists made apart from our generator: 91% (40k records)
and 88% (180k) of the pairs this links are one man, and F1 gains 0.003 to 0.006 from 40k
to a million records.
"""

from __future__ import annotations

import numpy as np

from linkage.match.compare import LEVELS, RETURN_LEVELS
from linkage.match.spec import MutualBest


def _rank_ends(me: np.ndarray, other: np.ndarray, neg_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each end (a record and the other side's list): whether it is that record's first
    candidate on that list, and the margin to its second (inf where it has none).

    neg_w: the pairs' weights negated (negation is exact, so the order and the margins are
    those of the weights); taken so that one copy of 28 million floats is made, not two."""
    order = np.lexsort((neg_w, other, me))
    me_s, other_s = me[order], other[order]
    first = np.r_[True, (me_s[1:] != me_s[:-1]) | (other_s[1:] != other_s[:-1])]
    del me_s, other_s
    w_s = np.negative(neg_w[order])
    starts = np.flatnonzero(first)
    nxt = starts + 1
    has_second = (nxt < len(w_s)) & ~np.r_[first, True][nxt]
    margin_at_start = np.where(has_second, w_s[starts] - w_s[np.minimum(nxt, len(w_s) - 1)], np.inf)
    del w_s
    is_first = np.zeros(len(neg_w), dtype=bool)
    margin = np.full(len(neg_w), -np.inf)
    is_first[order[starts]] = True
    margin[order[starts]] = margin_at_start
    return is_first, margin


def mutual_best(
    left: np.ndarray,
    right: np.ndarray,
    total: np.ndarray,
    lists: np.ndarray,
    returns: np.ndarray,
    rule: MutualBest,
    link_bits: float,
    initial: np.ndarray | None = None,
    given: np.ndarray | None = None,
) -> np.ndarray:
    """Which candidate pairs the rule links (a boolean per pair).

    lists: a code per record for the list it came from (its source); returns: the pair's
    return level (index); initial: stored persons (-1 a new record), whose records of a
    list count as that list's answer already given; given: the pair's given-name level
    (index), None to ignore it. A pair below `rule.given_at_least` still ranks (it is a
    rival) but is not linked.

    Positions and list codes are held in the narrowest integer type that holds them: each
    pair is seen from both ends, 28 million ends at a million records, and at int64 the
    ranking took 2.3 GiB at once (the values, and so the ranks, are the same).
    """
    every = np.flatnonzero(lists[left] != lists[right])
    if len(every) == 0:
        return np.zeros(len(left), dtype=bool)
    every = every.astype(_narrow(len(left)))
    # every pair across two lists, seen from each of its two records
    k = np.concatenate([every, every])
    at = _narrow(max(len(lists), int(lists.max(initial=0)) + 1))
    me = np.concatenate([left[every], right[every]]).astype(at)
    other = np.concatenate([lists[right[every]], lists[left[every]]]).astype(at)
    neg_w = np.concatenate([total[every], total[every]])
    del every
    np.negative(neg_w, out=neg_w)
    first, margin = _rank_ends(me, other, neg_w)
    del me, other, neg_w
    firsts = np.bincount(k[first], minlength=len(left))
    worst_margin = np.full(len(left), np.inf)
    np.minimum.at(worst_margin, k, np.where(first, margin, -np.inf))
    del k, first, margin
    chosen = (
        (firsts == 2)
        & (worst_margin >= rule.margin_bits)
        & (total >= rule.min_bits)
        & (total < link_bits)
        & (returns >= RETURN_LEVELS.index(rule.return_at_least))
    )
    if given is not None:
        chosen &= given >= LEVELS["given_name"].index(rule.given_at_least)
    if initial is not None:
        chosen &= ~_list_answered(left, right, lists, initial)
    return chosen


def _narrow(bound: int) -> type[np.signedinteger]:
    """int32 for indexes below 2**31, else int64."""
    return np.int32 if bound < 2**31 else np.int64


def _list_answered(left: np.ndarray, right: np.ndarray, lists: np.ndarray, initial: np.ndarray) -> np.ndarray:
    """Pairs where a stored side's person already holds a record of the other side's list.

    As codes (person, list) looked up in the sorted codes held: a delivery's pairs meet
    some 60,000 stored records, and a Python test per pair cost 0.05-0.1 s."""
    stored = initial >= 0
    if not stored.any() or not len(left):
        return np.zeros(len(left), dtype=bool)
    _, kind = np.unique(lists, return_inverse=True)  # lists as 0..k-1
    k = int(kind.max()) + 1
    person = initial.astype(np.int64)
    held = np.unique(person[stored] * k + kind[stored])

    def holds(side: np.ndarray, other: np.ndarray) -> np.ndarray:
        mine = person[side]
        codes = np.where(mine >= 0, mine * k + kind[other], -1)
        at = np.minimum(np.searchsorted(held, codes), len(held) - 1)
        return (mine >= 0) & (held[at] == codes)

    return holds(left, right) | holds(right, left)
