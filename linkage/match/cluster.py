"""From scored pairs to persons, without chaining weak links into giant clusters.

Why not plain connected components: one wrong link between two brothers would join two
whole families. Links are taken strongest first and a merge is refused when the two
groups would hold a pair a reviewer called different, grow past a cap, hold one compared
pair that is clearly two men (a veto), or when the pairs between them that were compared
mostly say "not the same man". A new record that fits two such groups about equally is
left alone and sent to review. Two rows of one list for one return that are likelier two
men than one are kept apart however strongly a third record links to both: one list
rarely names a man twice for one return, and two namesakes of a batch are the trap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from linkage.match.coherence import Identity
from linkage.match.pair_codes import pair_codes
from linkage.match.spec import ClusterSpec, default_spec

# The spec's cluster part (linkage/data/model.yaml): a compared pair below `against` counts
# against merging its two groups (the model thinks "different" likelier than "same"); one
# pair below `veto` (say birth years ten apart) keeps two groups apart, however many records
# without a birth date link them; a new record whose links to two groups kept apart differ by
# less than `ambiguity_bits` (1: a factor of 2) is ambiguous.
RULES = default_spec().cluster
AMBIGUITY_BITS = RULES.ambiguity_bits
# Why a link is refused when one list names both men (two of its rows whose own pair is
# not likely enough; shown to reviewers).
ONE_LIST = "one list names two men here"
# a new record left alone: it links about as strongly to two persons kept apart
AMBIGUOUS = "links as strongly to another person"
# Pairs at a time when choosing the review band: at a million records every whole-length
# temporary (labels of each side, masks) is 20 million values, and there were a dozen.
_REVIEW_CHUNK = 2_000_000


@dataclass
class ClusterOutcome:
    """Cluster label per position, and the links that were refused (for review)."""

    labels: np.ndarray
    refused: list[tuple[int, int, str]] = field(default_factory=list)


class _Scored:
    """Probabilities of the compared pairs, looked up by pair without a dict of millions."""

    def __init__(self, left: np.ndarray, right: np.ndarray, prob: np.ndarray, n: int) -> None:
        codes = pair_codes(left, right, n)
        # Blocking gives its pairs sorted already: then the (stable) order is the identity,
        # and neither it nor sorted copies of every value array are made (at 17 million
        # pairs each is 136 MB).
        self.order: np.ndarray | None = None
        if len(codes) > 1 and not bool((codes[1:] >= codes[:-1]).all()):
            self.order = np.argsort(codes, kind="stable")
            codes = codes[self.order]
        self.codes, self.prob, self.n = codes, self._ordered(prob), n

    def _ordered(self, values: np.ndarray) -> np.ndarray:
        return values if self.order is None else values[self.order]

    def with_values(self, values: np.ndarray) -> _Scored:
        """The same pairs with other values per pair (weights): the sorting is not redone."""
        other = object.__new__(_Scored)
        other.order, other.codes, other.n = self.order, self.codes, self.n
        other.prob = self._ordered(values)
        return other

    def between(self, xs: list[int], ys: list[int]) -> np.ndarray:
        """Probabilities of the compared pairs between two groups (uncompared ones left out)."""
        return self.prob[self.where_between(xs, ys)]

    def where_between(self, xs: list[int], ys: list[int]) -> np.ndarray:
        """Where the compared pairs between two groups are (the same for `with_values`)."""
        x = np.fromiter(xs, dtype=np.int64, count=len(xs))[:, None]
        y = np.fromiter(ys, dtype=np.int64, count=len(ys))[None, :]
        q = (np.minimum(x, y) * self.n + np.maximum(x, y)).ravel()
        idx = self.codes.searchsorted(q)
        idx[idx == len(self.codes)] = 0
        return idx[self.codes[idx] == q]


class _Groups:
    """Union-find over positions, with each group's members (Python lists: this is a hot loop)."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.members: dict[int, list[int]] = {}

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def group(self, root: int) -> list[int]:
        return self.members.get(root) or [root]

    def labels(self) -> np.ndarray:
        parent = np.asarray(self.parent, dtype=np.int64)
        while True:  # pointer jumping: every position to its root
            up = parent[parent]
            if np.array_equal(up, parent):
                return parent
            parent = up

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        return self.merge(ra, rb, self.group(ra), self.group(rb))

    def merge(self, ra: int, rb: int, ma: list[int], mb: list[int]) -> int:
        """Join two roots whose member lists the caller already holds."""
        if len(ma) < len(mb):
            ra, rb, ma, mb = rb, ra, mb, ma
        self.parent[rb] = ra
        if len(ma) == 1:
            self.members[ra] = ma + mb  # a singleton's list is a temporary: make a real one
        else:
            ma.extend(mb)
        self.members.pop(rb, None)
        return ra


def cluster(
    n: int,
    left: np.ndarray,
    right: np.ndarray,
    prob: np.ndarray,
    link_threshold: float,
    max_size: int,
    initial: np.ndarray | None = None,
    same: list[tuple[int, int]] | None = None,
    different: list[tuple[int, int]] | None = None,
    weight: np.ndarray | None = None,
    one_list: np.ndarray | None = None,
    one_list_apart: np.ndarray | None = None,
    identity: Identity | None = None,
    rules: ClusterSpec = RULES,
) -> ClusterOutcome:
    """Greedy, constrained clustering of n positions. (Over 60 lines by its parameters and
    what each means; the body, some thirty lines, calls the helpers below.)

    initial: a starting label per position (stored persons), or -1 for a new record.
    same / different: reviewers' decisions as position pairs; "same" is always applied,
    "different" is never merged across.
    weight: log2 match weights (ranks links past where probabilities round to 1).
    one_list: per pair, whether both rows come from one list (the "lists" levels "same
    list"); such a pair below `rules.one_list_at_least` keeps its groups apart (one list
    names one man twice only by a slip or for a second return, so two of its rows join one
    person on their own evidence, not through a third record that links to both), and so
    does one of `one_list_apart` (one list's two rows for one return that are two men
    by their given names) whatever its probability, even as a link of its own.
    identity: per position, what is a man's own (coherence.Identity): two groups holding
    two records that clearly are two men are kept apart, compared or not.

    A new record that links about as strongly (within rules.ambiguity_bits) to two groups the
    checks keep apart (two namesakes of one district, say) is not given to either: it
    stays alone and both links go to review, because a wrong link hides a man.
    """
    rank = weight if weight is not None else prob
    # Only links are ever merged (greedy filters by probability again: a second pass only
    # lowers some), so only they are sorted, strongest first; the same order as sorting all.
    links = np.flatnonzero(prob >= link_threshold)
    order = links[np.argsort(-rank[links], kind="stable")]
    scored = _Scored(left, right, prob, n)
    listed = _listed(prob, one_list, one_list_apart)
    checks = _MergeChecks(
        scored=scored,
        link_threshold=link_threshold,
        max_size=max_size,
        apart=_apart(different),
        listed=None if listed is None else scored.with_values(listed),
        listed_link=listed,
        identity=identity,
        rules=rules,
    )

    def greedy(p: np.ndarray) -> tuple[_Groups, list[tuple[int, int, str]]]:
        return _greedy(_start(n, initial, same), left, right, p, order, checks)

    groups, refused = greedy(prob)
    if weight is None:
        return ClusterOutcome(labels=groups.labels(), refused=refused)
    ambiguous = _ambiguous(
        groups, left, right, scored.with_values(weight), weight, refused, initial, rules, checks.listed
    )
    if not ambiguous:
        return ClusterOutcome(labels=groups.labels(), refused=refused)
    return _leave_alone(ambiguous, n, left, right, prob, link_threshold, greedy)


def _leave_alone(
    ambiguous: set[int],
    n: int,
    left: np.ndarray,
    right: np.ndarray,
    prob: np.ndarray,
    link_threshold: float,
    greedy: Callable[[np.ndarray], tuple[_Groups, list[tuple[int, int, str]]]],
) -> ClusterOutcome:
    """Cluster again with every link of the ambiguous records dropped; their strong links
    are refused (for review) instead, so neither namesake's person takes them."""
    alone = np.zeros(n, dtype=bool)
    alone[list(ambiguous)] = True
    keep = ~(alone[left] | alone[right])
    groups, refused = greedy(np.where(keep, prob, 0.0))
    extra = [
        (int(left[k]), int(right[k]), AMBIGUOUS) for k in np.flatnonzero(~keep & (prob >= link_threshold))
    ]
    return ClusterOutcome(labels=groups.labels(), refused=refused + extra)


def review_pairs(
    outcome: ClusterOutcome,
    left: np.ndarray,
    right: np.ndarray,
    prob: np.ndarray,
    weight: np.ndarray,
    review_threshold: float,
    link_threshold: float,
    bits: float = AMBIGUITY_BITS,
) -> np.ndarray:
    """Positions (into the pair arrays) of the pairs people are asked to decide.

    Those whose decision would change a person: strong links the cluster checks refused,
    and uncertain pairs of a record left alone, its best candidates (within `bits` of the
    best). An uncertain pair of two records each linked into a person is left out: at a
    million records those are namesakes of two settled men (485 of 102,000 were one man),
    and a queue of them is one no one finishes.
    """
    labels = outcome.labels
    n = len(labels)
    refused_codes = np.array(
        sorted({min(a, b) * n + max(a, b) for a, b, _ in outcome.refused}), dtype=np.int64
    )
    alone = (np.bincount(labels, minlength=n) == 1)[labels]  # per record: a person of one
    best = np.full(n, -np.inf)
    chunks = [slice(lo, lo + _REVIEW_CHUNK) for lo in range(0, len(left), _REVIEW_CHUNK)]
    for at in chunks:  # each record's best uncertain weight, over all pairs first
        a, b, w = left[at], right[at], weight[at]
        uncertain = (labels[a] != labels[b]) & _between(prob[at], review_threshold, link_threshold)
        for side in (a, b):
            mine = uncertain & alone[side]
            np.maximum.at(best, side[mine], w[mine])
    picked = []
    for at in chunks:
        a, b, w = left[at], right[at], weight[at]
        apart = labels[a] != labels[b]
        refused = _among(pair_codes(a, b, n), refused_codes)
        uncertain = apart & _between(prob[at], review_threshold, link_threshold)
        close = (alone[a] & (w >= best[a] - bits)) | (alone[b] & (w >= best[b] - bits))
        picked.append(at.start + np.flatnonzero((apart & refused) | (uncertain & close)))
    return np.concatenate(picked) if picked else np.empty(0, dtype=np.int64)


def _between(prob: np.ndarray, review: float, link: float) -> np.ndarray:
    """Pairs at or above the review threshold and below the link threshold."""
    return (prob >= review) & (prob < link)


def _among(codes: np.ndarray, few: np.ndarray) -> np.ndarray:
    """np.isin(codes, few) for few sorted codes: when `codes` are sorted too (blocking gives
    them so), each of the few is looked up in them, instead of sorting all of them again
    (three arrays of 17 million at a million records)."""
    if len(codes) < 2 or not bool((codes[1:] >= codes[:-1]).all()):
        return np.isin(codes, few)
    out = np.zeros(len(codes), dtype=bool)
    if len(few) == 0:
        return out
    lo = np.searchsorted(codes, few, side="left")
    hi = np.searchsorted(codes, few, side="right")
    for a, b in zip(lo[hi > lo].tolist(), hi[hi > lo].tolist(), strict=True):
        out[a:b] = True
    return out


def _ambiguous(
    groups: _Groups,
    left: np.ndarray,
    right: np.ndarray,
    weights: _Scored,
    weight: np.ndarray,
    refused: list[tuple[int, int, str]],
    initial: np.ndarray | None,
    rules: ClusterSpec,
    listed: _Scored | None = None,
) -> set[int]:
    """New records whose place inside their group barely beats a refused link outside.

    A link (x, b) refused because b's group holds one man x cannot be with (his rival: the
    other namesake of x's list and return, say) is weighed as the swap it asks for: x into
    b's group and the rival into x's, against things as they are. Why: two namesakes of one
    batch, both on the ministry's list too, each link about as strongly to both ministry
    rows, but one pairing of the four is much likelier than the other; judged one record at
    a time both looked ambiguous, were left alone, and the weaker rival took the person.
    """
    labels = groups.labels()
    inside = labels[left] == labels[right]
    best = np.full(len(labels), -np.inf)
    np.maximum.at(best, left[inside], weight[inside])
    np.maximum.at(best, right[inside], weight[inside])
    out = set()
    for a, b, why in refused:
        if why != ONE_LIST and not why.startswith("most compared"):
            continue
        found = weights.between([a], [b])
        if not len(found):
            continue
        w = float(found[0])
        for x, y in ((a, b), (b, a)):
            if initial is not None and initial[x] >= 0:
                continue  # stored records stay where they are
            swap = _swap_cost(x, y, groups, weights, best, rules, listed)
            if (best[x] - w if swap is None else swap) < rules.ambiguity_bits:
                out.add(x)
    return out


def _swap_cost(
    x: int,
    y: int,
    groups: _Groups,
    weights: _Scored,
    best: np.ndarray,
    rules: ClusterSpec,
    listed: _Scored | None,
) -> float | None:
    """Bits by which things as they are beat x moving to y's group and its one rival there
    (the member one list names beside x, `listed`) moving to x's; None when y's group
    holds no such single rival. Each side counts its best link in its group (0 alone)."""
    if listed is None:
        return None
    mx, my = groups.group(groups.find(x)), groups.group(groups.find(y))
    others = [m for m in my if m != y]
    if x in my or not others:
        return None
    at = weights.where_between([x], others)
    apart = listed.prob[at] < rules.against
    if int(apart.sum()) != 1:
        return None
    pair = int(weights.codes[at[apart][0]])
    rival = pair // weights.n if pair % weights.n == x else pair % weights.n
    rest = [m for m in my if m != rival]
    there = [m for m in mx if m != x]
    x_there = weights.between([x], rest)
    rival_here = weights.between([rival], there) if there else np.zeros(0)
    now = float(best[x]) + float(best[rival])
    swapped = (float(x_there.max()) if len(x_there) else 0.0) + (
        float(rival_here.max()) if len(rival_here) else 0.0
    )
    return now - swapped


@dataclass(frozen=True)
class _MergeChecks:
    """Why two groups may not merge: one method per check, each the refusal reason or None.

    Why a class: the checks share the scored pairs and the spec's limits, and `_greedy`'s
    hot loop then reads as "for each link: why not? else merge".
    """

    scored: _Scored
    link_threshold: float
    max_size: int
    apart: dict[int, set[int]]  # reviewers' "different", both ways
    listed: _Scored | None = None  # per pair: its probability if one list for one return, else 1
    listed_link: np.ndarray | None = None  # the same values in the pairs' own order
    identity: Identity | None = None
    rules: ClusterSpec = RULES

    def why_not(self, a: int, b: int, ma: list[int], mb: list[int], k: int) -> str | None:
        """The first check that refuses merging groups ma and mb over link k, (a, b), if any."""
        why = self.reviewer(ma, mb) or self.size(ma, mb)
        if why or (len(ma) == 1 and len(mb) == 1):  # the only pair between them is this link
            return why or self.one_list_link(k)
        if why := self.coherence(a, b, ma, mb):
            return why
        at = self.scored.where_between(ma, mb)  # looked up once for both checks
        return self.compared(self.scored.prob[at]) or self.one_list(at)

    def reviewer(self, ma: list[int], mb: list[int]) -> str | None:
        apart = self.apart
        if apart and any(x in apart and apart[x].intersection(mb) for x in ma):
            return "a reviewer said different"
        return None

    def size(self, ma: list[int], mb: list[int]) -> str | None:
        if len(ma) + len(mb) > self.max_size:
            return "person would grow past the size cap"
        return None

    def coherence(self, a: int, b: int, ma: list[int], mb: list[int]) -> str | None:
        return self.identity.apart(ma, mb, linked=(a, b)) if self.identity is not None else None

    def compared(self, q: np.ndarray) -> str | None:
        """q: the probabilities of the compared pairs between the two groups."""
        links = int((q >= self.link_threshold).sum())
        against = int((q < self.rules.against).sum())
        if against >= links or bool((q < self.rules.veto).any()):  # a veto: one pair clearly two men
            return "most compared pairs between the two say different"
        return None

    def one_list(self, at: np.ndarray) -> str | None:
        """at: where the compared pairs between the two groups are (`where_between`)."""
        if self.listed is not None and bool((self.listed.prob[at] < self.rules.one_list_at_least).any()):
            return ONE_LIST
        return None

    def one_list_link(self, k: int) -> str | None:
        """`one_list` of two single records, whose one pair is link k."""
        if self.listed_link is not None and self.listed_link[k] < self.rules.one_list_at_least:
            return ONE_LIST
        return None


def _listed(prob: np.ndarray, one_list: np.ndarray | None, apart: np.ndarray | None) -> np.ndarray | None:
    """Per pair: its probability if both rows are one list's (0 where they are two men of
    one return by their names), else 1."""
    if one_list is None:
        return None
    values = np.where(one_list, prob, 1.0)
    if apart is not None:
        values[apart] = 0.0
    return values


def _start(n: int, initial: np.ndarray | None, same: list[tuple[int, int]] | None) -> _Groups:
    """Groups before any link: stored persons as they are, reviewers' "same" applied."""
    groups = _Groups(n)
    if initial is not None:
        _start_persons(groups, np.asarray(initial, dtype=np.int64))
    for a, b in same or []:
        groups.union(a, b)
    return groups


def _start_persons(groups: _Groups, initial: np.ndarray) -> None:
    """Each stored person's positions as one group, rooted at his first position with his
    positions in order: what a union of each with the first gives, made at once (a
    delivery's frame holds some 60,000 stored records, a union each cost 0.05-0.1 s)."""
    at = np.flatnonzero(initial >= 0)
    if not len(at):
        return
    order = np.argsort(initial[at], kind="stable")  # by person, positions ascending within
    pos, lab = at[order], initial[at][order]
    starts = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]])
    sizes = np.diff(np.r_[starts, len(pos)])
    roots = np.repeat(pos[starts], sizes)
    parent = np.asarray(groups.parent, dtype=np.int64)
    parent[pos] = roots
    groups.parent = parent.tolist()
    members = groups.members
    for start, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist(), strict=True):
        members[int(pos[start])] = pos[start : start + size].tolist()


def _apart(different: list[tuple[int, int]] | None) -> dict[int, set[int]]:
    """Reviewers' "different" pairs as each position's set of positions it is not."""
    apart: dict[int, set[int]] = {}
    for a, b in different or []:
        apart.setdefault(a, set()).add(b)
        apart.setdefault(b, set()).add(a)
    return apart


def _greedy(
    groups: _Groups,
    left: np.ndarray,
    right: np.ndarray,
    prob: np.ndarray,
    order: np.ndarray,
    checks: _MergeChecks,
) -> tuple[_Groups, list[tuple[int, int, str]]]:
    """Links at or above the link threshold, strongest first, merged unless a check refuses."""
    refused: list[tuple[int, int, str]] = []
    links_in_order = order[prob[order] >= checks.link_threshold]
    pairs = zip(
        links_in_order.tolist(), left[links_in_order].tolist(), right[links_in_order].tolist(), strict=True
    )
    for k, a, b in pairs:
        ra, rb = groups.find(a), groups.find(b)
        if ra == rb:
            continue
        ma, mb = groups.group(ra), groups.group(rb)
        why = checks.why_not(a, b, ma, mb, k)
        if why is None:
            groups.merge(ra, rb, ma, mb)
        else:
            refused.append((a, b, why))
    return groups, refused
