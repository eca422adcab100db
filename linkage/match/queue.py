"""The review queue: of the review band, the questions people can finish, those most likely
to make two records one man first.

Why not the whole band: the band (cluster.review_pairs) is every pair a decision might
change: strong links the checks refused and the uncertain pairs of each record left alone.
On lists made independently of our generator it held 4.7% of the records at 40k and 11.5%
at a million (113,000 pairs), and about a third of them were one man: a queue no one
finishes, whose useful pairs drown among namesakes. The band stays in the store (the
estimate takes it as links and as non-links, flags name the pairs that may close them,
`explain` shows them); the queue is the part officers are shown, in this order:

- One pair per two persons: the strongest. Deciding it settles the question ("is he this
  man?"); the other pairs between the same two persons say the same thing again.
- Not the refusals the checks already judged two men (most compared pairs between the two
  groups say different, one list names both for one return, clearly different given
  names and births): a "same" there was right for 0 of 125 at 40k and 7 of 344 at 180k.
- The chance a "same" is right, per question: a record left alone may be any of the
  persons it links to or none of them. The link threshold is what the linker asks before
  it joins a man without review, so "none of them" counts as one more candidate at the
  threshold's weight, and each candidate gets its share of 2 ** weight. Questions below
  `min_chance` wait in the band: there the model gives the pair about the same weight as
  a namesake of the same block gets (1 in 10 was one man at 40k).
- Ranked by that chance, the likeliest "same" first (ties: the pairs of records it makes one
  man's). Each question settles one record whichever man it joins, so its expected value to
  the officer is its chance; ranking by chance times the pairs made instead put large persons
  with poor chances first: at 981k records the first 5,000 were "same" for 36% against 64%,
  and a perfect reviewer deciding them gained F1 +0.0040 against +0.0043.
  At most `limit` are shown: officers decide pairs by the hundred, not by the hundred
  thousand; what is left waits in the band and is asked again by a later run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linkage.match.cluster import ONE_LIST
from linkage.match.coherence import WHY as TWO_GIVEN_NAMES
from linkage.match.coherence import WHY_BIRTHS

# Refusals whose two groups the checks judged two men (a "same" is rarely right there).
JUDGED_APART = frozenset(
    {
        "most compared pairs between the two say different",
        ONE_LIST,
        TWO_GIVEN_NAMES,
        WHY_BIRTHS,
        "a reviewer said different",
    }
)
# 2 ** weight is computed with weights capped here (a float holds 2 ** 1023).
_MAX_BITS = 200.0


@dataclass
class Queue:
    """Positions into the candidate pairs of the questions shown, likeliest "same" first, and
    per question that chance and the pairs of records a "same" makes one man's."""

    pairs: np.ndarray
    chance: np.ndarray
    made: np.ndarray

    def __len__(self) -> int:
        return len(self.pairs)

    @classmethod
    def empty(cls) -> Queue:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0))


def review_queue(
    labels: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    weight: np.ndarray,
    band: np.ndarray,
    refused: list[tuple[int, int, str]],
    link_bits: float,
    min_chance: float,
    limit: int,
) -> Queue:
    """The questions of the band (positions into the pair arrays) officers are shown.

    labels: the persons the clustering made; weight: log2 match weight per pair; band: the
    pairs kept for review (cluster.review_pairs); refused: the clustering's refusals;
    link_bits: the link threshold in bits.
    """
    open_band = _not_judged(band, left, right, refused, len(labels))
    asked = _one_per_person_pair(labels, left, right, weight, open_band)
    if not len(asked):
        return Queue.empty()
    chance = _chance(labels, left[asked], right[asked], weight[asked], link_bits)
    size = np.bincount(labels, minlength=len(labels))
    made = size[labels[left[asked]]] * size[labels[right[asked]]]
    keep = chance >= min_chance
    asked, chance, made = asked[keep], chance[keep], made[keep]
    order = np.lexsort((asked, -made, -chance))[:limit]  # last ties: pair order, so runs repeat
    return Queue(asked[order], chance[order], made[order])


def _not_judged(
    band: np.ndarray, left: np.ndarray, right: np.ndarray, refused: list[tuple[int, int, str]], n: int
) -> np.ndarray:
    """The band without the refusals the checks judged two men."""
    judged = np.array(
        sorted({min(a, b) * n + max(a, b) for a, b, why in refused if why in JUDGED_APART}), dtype=np.int64
    )
    codes = left[band].astype(np.int64) * n + right[band]
    return band[~np.isin(codes, judged)]


def _one_per_person_pair(
    labels: np.ndarray, left: np.ndarray, right: np.ndarray, weight: np.ndarray, pairs: np.ndarray
) -> np.ndarray:
    """Of the pairs between each two persons, the strongest (ties: the first)."""
    if not len(pairs):
        return pairs
    la, lb = labels[left[pairs]].astype(np.int64), labels[right[pairs]].astype(np.int64)
    key = np.minimum(la, lb) * len(labels) + np.maximum(la, lb)
    order = np.lexsort((pairs, -weight[pairs], key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    return np.sort(pairs[order[first]])


def _chance(
    labels: np.ndarray, left: np.ndarray, right: np.ndarray, weight: np.ndarray, link_bits: float
) -> np.ndarray:
    """Per question, its share of 2 ** weight among the candidates of its record left alone
    and "none of them" (at the link threshold's weight). A question between two persons of
    several records has no rival but "none"; between two records left alone, the larger
    field of rivals of the two counts."""
    n = len(labels)
    size = np.bincount(labels, minlength=n)
    odds = np.exp2(np.minimum(weight, _MAX_BITS) - link_bits)  # against "none of them"
    alone_l, alone_r = size[labels[left]] == 1, size[labels[right]] == 1
    rivals = np.zeros(n)
    np.add.at(rivals, left[alone_l], odds[alone_l])
    np.add.at(rivals, right[alone_r], odds[alone_r])
    field = np.maximum(np.where(alone_l, rivals[left], odds), np.where(alone_r, rivals[right], odds))
    return odds / (1.0 + field)
