"""The linking engine: block, compare, fit, score, cluster and pick the review queue, on
frames and a model spec, with no store.

Why one engine: the incremental linker, `evaluate` and review all run these steps, and
each used to assemble them itself. Here they are once; the linker (linker.py) wraps them
with the store: what to read, which stored persons to start from, what to write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from linkage.match import contact_numbers
from linkage.match.blocking import BlockingStats, block_keys, candidate_pairs
from linkage.match.cluster import AMBIGUOUS, ClusterOutcome, cluster, review_pairs
from linkage.match.coherence import Identity
from linkage.match.compare import (
    CLUSTER_LEVELS,
    LEVELS,
    compare,
    forget_views,
    left_index,
    of_one_list,
    one_list_other_names,
)
from linkage.match.frame import build_frame
from linkage.match.model import MatchModel
from linkage.match.mutual import mutual_best
from linkage.match.pair_codes import pair_codes
from linkage.match.queue import Queue
from linkage.match.queue import review_queue as _queue_of
from linkage.match.spec import ModelSpec, bits
from linkage.match.training import fit_model

# A reviewer's decision forces its pair's score past any the model gives.
_FORCED_BITS = 100.0


@dataclass
class Candidates:
    """The pairs blocking proposed (positions into the frame, left < right, sorted) and
    their comparison levels."""

    left: np.ndarray
    right: np.ndarray
    levels: pd.DataFrame
    stats: BlockingStats
    # per pair: compared after a first clustering (a pair of one person blocking never met)
    added: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.left)

    def as_tuple(self) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, BlockingStats]:
        return self.left, self.right, self.levels, self.stats

    def codes(self, n: int) -> np.ndarray:
        """Each pair as one sorted int64 (left * n + right) of an n-record frame."""
        return pair_codes(self.left, self.right, n)

    def lacks(self, codes: np.ndarray, n: int) -> np.ndarray:
        """Per pair code, whether it is not among these candidates."""
        known = self.codes(n)
        if not len(known):
            return np.ones(len(codes), dtype=bool)
        return known[np.minimum(np.searchsorted(known, codes), len(known) - 1)] != codes

    def find(self, a: int, b: int, n: int) -> int | None:
        """Where the pair (a, b) of an n-record frame is, or None if it was not proposed."""
        codes = self.codes(n)
        lo, hi = min(a, b), max(a, b)
        k = int(np.searchsorted(codes, lo * n + hi))
        return k if k < len(codes) and codes[k] == lo * n + hi else None


@dataclass
class Scores:
    """Per candidate pair: log2 match weight (against chance and a brother) and probability."""

    total: np.ndarray
    prob: np.ndarray
    # pairs linked as two lists' one man for a return (mutual.py), below the link threshold
    one_to_one: np.ndarray | None = None


@dataclass
class Decisions:
    """Reviewers' decisions between records of a frame, as position pairs (low, high)."""

    same: list[tuple[int, int]] = field(default_factory=list)
    different: list[tuple[int, int]] = field(default_factory=list)

    @classmethod
    def at_positions(cls, decided: Mapping[tuple[int, int], str]) -> Decisions:
        out = cls()
        for pair, d in decided.items():
            (out.same if d == "same" else out.different).append(tuple(sorted(pair)))  # type: ignore[arg-type]
        return out

    def items(self) -> list[tuple[tuple[int, int], str]]:
        return [(p, "same") for p in self.same] + [(p, "different") for p in self.different]


@dataclass
class Linked:
    """What the engine made of a frame."""

    candidates: Candidates
    model: MatchModel
    scores: Scores
    outcome: ClusterOutcome
    review: np.ndarray  # positions into the candidate pairs of the queue officers are shown
    band: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # all kept for review
    queue: Queue = field(default_factory=Queue.empty)  # `review`, each question's chance of "same"

    @property
    def labels(self) -> np.ndarray:
        return self.outcome.labels


def propose(
    frame: pd.DataFrame,
    keys: pd.DataFrame,
    spec: ModelSpec,
    is_new: np.ndarray | None = None,
    lap: Callable[[str], None] = lambda _phase: None,
) -> Candidates:
    """Blocking and comparison: the candidate pairs (at least one side new) and their levels."""
    left, right, stats = candidate_pairs(keys, is_new, spec.limits.max_block_size, spec=spec)
    lap("block")
    candidates = Candidates(left, right, compare(frame, left, right, spec, pair_index=False), stats)
    lap("compare")
    return candidates


def fit(
    frame: pd.DataFrame,
    spec: ModelSpec,
    candidates: Candidates | None = None,
    same: list[tuple[int, int]] | None = None,
) -> MatchModel:
    """Weights learned from these records (their candidates, when the caller has them)."""
    if candidates is None:
        contact_numbers.set_aside(frame)
        return fit_model(frame, block_keys(frame, spec), spec, None, same)
    # (no truth test on candidates: none proposed is still candidates, of length 0)
    return fit_model(frame, pd.DataFrame(), spec, candidates.as_tuple(), same)


def score(model: MatchModel, candidates: Candidates, frame: pd.DataFrame, spec: ModelSpec) -> Scores:
    total, prob = model.score_levels(candidates.levels, frame, spec.limits.family_margin_bits)
    return Scores(total, prob)


def link_one_to_one(
    frame: pd.DataFrame, candidates: Candidates, scores: Scores, spec: ModelSpec, initial: np.ndarray | None
) -> int:
    """Pairs two lists each name as the other's one man for a return link (mutual.py): their
    probability is lifted to the link threshold, their weight kept. Returns how many."""
    rule = spec.cluster.mutual_best
    if len(candidates) == 0:
        return 0
    chosen = mutual_best(
        candidates.left,
        candidates.right,
        scores.total,
        pd.factorize(frame["source"])[0],
        candidates.levels["return"].to_numpy(),
        rule,
        bits(spec.limits.link_threshold),
        initial,
        candidates.levels["given_name"].to_numpy(),
    )
    scores.prob[chosen] = np.maximum(scores.prob[chosen], spec.limits.link_threshold)
    scores.one_to_one = chosen
    return int(chosen.sum())


def link_added_one_to_one(
    frame: pd.DataFrame, candidates: Candidates, scores: Scores, spec: ModelSpec, initial: np.ndarray | None
) -> None:
    """`link_one_to_one` for pairs just added to candidates already judged by it: the rule
    is run on the pairs of the records those pairs touch, and only added pairs are lifted.

    Why that is all: a pair is lifted when it is each record's best across lists by a
    margin; adding pairs only adds rivals, so no earlier pair becomes chosen, and a lift
    once given stays (as `with_pairs` keeps the scores). An added pair's rank needs only
    its two records' pairs. At a million records this is a fraction of the candidates."""
    added = candidates.added
    if added is None or not added.any():
        return
    touched = np.zeros(len(frame), dtype=bool)
    touched[candidates.left[added]] = True
    touched[candidates.right[added]] = True
    near = np.flatnonzero(touched[candidates.left] | touched[candidates.right])
    chosen = mutual_best(
        candidates.left[near],
        candidates.right[near],
        scores.total[near],
        pd.factorize(frame["source"])[0],
        candidates.levels["return"].to_numpy()[near],
        spec.cluster.mutual_best,
        bits(spec.limits.link_threshold),
        initial,
        candidates.levels["given_name"].to_numpy()[near],
    )
    lifted = near[chosen & added[near]]
    scores.prob[lifted] = np.maximum(scores.prob[lifted], spec.limits.link_threshold)
    one = np.zeros(len(candidates), dtype=bool) if scores.one_to_one is None else scores.one_to_one
    one[lifted] = True
    scores.one_to_one = one


def force(candidates: Candidates, scores: Scores, decisions: Decisions, n: int) -> None:
    """Reviewers' decisions override the scores of the pairs they decided.

    The pairs are found by one search of all decisions at once: looking them up one by one
    re-coded every candidate pair per decision (minutes for thousands of decisions at a
    million records)."""
    items = decisions.items()
    if not items or not len(candidates):
        return
    codes = candidates.codes(n)
    asked = np.array([min(a, b) * n + max(a, b) for (a, b), _ in items], dtype=np.int64)
    same = np.array([d == "same" for _, d in items], dtype=bool)
    k = np.minimum(np.searchsorted(codes, asked), len(codes) - 1)
    hit = codes[k] == asked
    k, same = k[hit], same[hit]
    scores.prob[k] = np.where(same, 1.0, 0.0)
    scores.total[k] = np.where(same, _FORCED_BITS, -_FORCED_BITS)


def group(
    frame: pd.DataFrame,
    candidates: Candidates,
    scores: Scores,
    spec: ModelSpec,
    initial: np.ndarray | None = None,
    decisions: Decisions | None = None,
    model: MatchModel | None = None,
) -> ClusterOutcome:
    """Persons: the constrained clustering of the scored pairs (stored persons as `initial`).
    With the model, births far apart keep two groups apart whatever the names where the
    lists show one man's births are never that far apart (coherence.py)."""
    decisions = decisions or Decisions()
    return cluster(
        len(frame),
        candidates.left,
        candidates.right,
        scores.prob,
        spec.limits.link_threshold,
        spec.limits.max_cluster_size,
        initial=initial,
        same=decisions.same,
        different=decisions.different,
        weight=scores.total,
        one_list=of_one_list(candidates.levels),
        one_list_apart=one_list_other_names(candidates.levels),
        identity=Identity.of(frame, spec, births_alone=model is not None and births_decide(model, spec)),
        rules=spec.cluster,
    )


def births_decide(model: MatchModel, spec: ModelSpec) -> bool:
    """Whether births "over 5 years apart" alone are a veto on these lists: EM learnt that
    one man's records almost never say so (our lists and the independent ones: -25 bits). On
    lists whose dates are corrupted at random (FEBRL: -4 bits) they are not, and a person
    held together by everything else stays whole."""
    far = LEVELS["birth"].index("over 5 years apart")
    return bool(model.level_bits("birth", far) <= bits(spec.cluster.veto))


def review_band(
    outcome: ClusterOutcome, candidates: Candidates, scores: Scores, spec: ModelSpec
) -> np.ndarray:
    """The candidate pairs whose decision could change a person (cluster.review_pairs): all
    of them are kept in the store."""
    return review_pairs(
        outcome,
        candidates.left,
        candidates.right,
        scores.prob,
        scores.total,
        spec.limits.review_threshold,
        spec.limits.link_threshold,
        spec.cluster.ambiguity_bits,
    )


def review_queue(
    outcome: ClusterOutcome,
    candidates: Candidates,
    scores: Scores,
    spec: ModelSpec,
    band: np.ndarray | None = None,
) -> Queue:
    """Of the band, the questions officers are shown, most valuable first (queue.py)."""
    band = review_band(outcome, candidates, scores, spec) if band is None else band
    lim = spec.limits
    return _queue_of(
        outcome.labels,
        candidates.left,
        candidates.right,
        scores.total,
        band,
        outcome.refused,
        float(np.log2(lim.link_threshold / (1.0 - lim.link_threshold))),
        lim.review_min_chance,
        lim.review_queue_max,
    )


def unseen_pairs(
    labels: np.ndarray, candidates: Candidates, is_new: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of records one person holds that blocking never proposed (persons of three or
    more records, at least one side new): a chain of links made them one man's without
    anyone comparing them."""
    n = len(labels)
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    sizes = np.diff(np.r_[starts, n])
    lefts, rights = [], []
    for size in np.unique(sizes[sizes >= 3]):  # persons of one size at a time, as a matrix
        first = starts[sizes == size]
        members = np.sort(order[first[:, None] + np.arange(size)], axis=1)
        a, b = np.triu_indices(size, 1)
        lefts.append(members[:, a].ravel())
        rights.append(members[:, b].ravel())
    if not lefts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    left, right = np.concatenate(lefts).astype(np.int64), np.concatenate(rights).astype(np.int64)
    if is_new is not None:
        keep = is_new[left] | is_new[right]
        left, right = left[keep], right[keep]
    fresh = candidates.lacks(left * n + right, n)
    return left[fresh], right[fresh]


def with_pairs(
    frame: pd.DataFrame,
    candidates: Candidates,
    scores: Scores,
    left: np.ndarray,
    right: np.ndarray,
    spec: ModelSpec,
    model: MatchModel,
) -> tuple[Candidates, Scores]:
    """The candidates and these pairs (none of them candidates already), compared and
    scored, in the candidates' order (left, right). Only the new pairs are scored; the
    others keep their scores (lifts by `link_one_to_one` and reviewers' decisions included,
    which the caller applies again)."""
    n = len(frame)
    codes = pair_codes(left, right, n)
    first = np.argsort(codes, kind="stable")
    left, right, codes = left[first], right[first], codes[first]
    levels = _compare_few(frame, left, right, spec)
    total, prob = model.score_levels(levels, frame, spec.limits.family_margin_bits)
    added = _merge_slots(candidates.codes(n), codes)
    stats = candidates.stats
    if stats.pass_mask is not None and len(stats.pass_mask) == len(candidates):
        stats.pass_mask = _merged(stats.pass_mask, np.zeros(len(left), np.int32), added)
    merged_left = _merged(candidates.left, left.astype(candidates.left.dtype), added)
    merged_right = _merged(candidates.right, right.astype(candidates.right.dtype), added)
    columns = {
        c: _merged(candidates.levels[c].to_numpy(), levels[c].to_numpy(), added) for c in levels.columns
    }
    merged_levels = pd.DataFrame(columns, index=left_index(merged_left), copy=False)
    merged = Candidates(merged_left, merged_right, merged_levels, stats, added=added)
    one = None if scores.one_to_one is None else _merged(scores.one_to_one, np.zeros(len(left), bool), added)
    return merged, Scores(_merged(scores.total, total, added), _merged(scores.prob, prob, added), one)


def _compare_few(frame: pd.DataFrame, left: np.ndarray, right: np.ndarray, spec: ModelSpec) -> pd.DataFrame:
    """`compare` of pairs that touch a small part of the frame, on those rows only. Why:
    comparing builds numpy views of every column it is given, and the frame's own were
    dropped after fitting; for the second look's pairs (a few percent of the records) the
    views of the whole frame cost more than the comparisons. Levels are the same: no
    comparison reads rows other than its pair's."""
    rows = np.unique(np.concatenate([left, right]))
    if len(rows) * 2 > len(frame):
        return compare(frame, left, right, spec, pair_index=False)
    levels = compare(frame.iloc[rows], np.searchsorted(rows, left), np.searchsorted(rows, right), spec, False)
    levels.index = left_index(left)
    return levels


def _merge_slots(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Where the new (sorted, disjoint) pair codes go among the old sorted ones: a mask
    over the merged pairs, True at the new ones. Why not argsort both: a merge is one pass,
    and each column is then written once instead of concatenated and gathered (at a million
    records the candidates' levels are hundreds of MB)."""
    slots = np.zeros(len(old) + len(new), dtype=bool)
    slots[np.searchsorted(old, new) + np.arange(len(new))] = True
    return slots


def _merged(old: np.ndarray, new: np.ndarray, added: np.ndarray) -> np.ndarray:
    """One column of the merged pairs: `new` where `added`, `old` elsewhere, in order."""
    out = np.empty(len(added), dtype=np.result_type(old.dtype, new.dtype))
    out[added] = new
    out[~added] = old
    return out


def _compare_more(
    frame: pd.DataFrame,
    candidates: Candidates,
    scores: Scores,
    left: np.ndarray,
    right: np.ndarray,
    spec: ModelSpec,
    model: MatchModel,
    initial: np.ndarray | None,
    decisions: Decisions | None,
) -> tuple[Candidates, Scores, np.ndarray]:
    """`with_pairs`, then the one-to-one links and reviewers' decisions again; also which
    pairs are new or changed score (what must be clustered again)."""
    before = scores.prob
    candidates, scores = with_pairs(frame, candidates, scores, left, right, spec, model)
    link_added_one_to_one(frame, candidates, scores, spec, initial)
    if decisions is not None:
        force(candidates, scores, decisions, len(frame))
    added = candidates.added if candidates.added is not None else np.zeros(len(candidates), dtype=bool)
    changed = added.copy()
    changed[~added] = scores.prob[~added] != before
    return candidates, scores, changed


def judge_every_pair(
    frame: pd.DataFrame,
    candidates: Candidates,
    scores: Scores,
    spec: ModelSpec,
    outcome: ClusterOutcome,
    model: MatchModel,
    initial: np.ndarray | None = None,
    decisions: Decisions | None = None,
    is_new: np.ndarray | None = None,
) -> tuple[Candidates, Scores, ClusterOutcome]:
    """The pairs of each person that blocking never proposed, compared and scored, and the
    persons they touch clustered again (once is enough: the persons judged again hold no
    pair unseen). Why: links chain records, and a chain can join two men whose own records,
    never compared, say so."""
    unseen = unseen_pairs(outcome.labels, candidates, is_new)
    if not len(unseen[0]):
        return candidates, scores, outcome
    candidates, scores, changed = _compare_more(
        frame, candidates, scores, *unseen, spec, model, initial, decisions
    )
    return (
        candidates,
        scores,
        regroup(frame, candidates, scores, spec, outcome, changed, initial, decisions, model),
    )


def _linked_components(
    n: int,
    candidates: Candidates,
    scores: Scores,
    spec: ModelSpec,
    initial: np.ndarray | None,
    decisions: Decisions,
) -> np.ndarray:
    """Per position, its component of the graph of links (pairs at the link threshold,
    reviewers' "same", one stored person): clustering never joins two components, so each
    can be clustered alone."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    links = scores.prob >= spec.limits.link_threshold
    lefts, rights = [candidates.left[links].astype(np.int64)], [candidates.right[links].astype(np.int64)]
    if decisions.same:
        same = np.asarray(decisions.same, dtype=np.int64)
        lefts.append(same[:, 0])
        rights.append(same[:, 1])
    if initial is not None and (initial >= 0).any():
        stored = np.flatnonzero(initial >= 0)
        stored = stored[np.argsort(initial[stored], kind="stable")]
        chain = initial[stored][1:] == initial[stored][:-1]  # each to the next of his person
        lefts.append(stored[:-1][chain])
        rights.append(stored[1:][chain])
    left, right = np.concatenate(lefts), np.concatenate(rights)
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def regroup(
    frame: pd.DataFrame,
    candidates: Candidates,
    scores: Scores,
    spec: ModelSpec,
    outcome: ClusterOutcome,
    changed: np.ndarray,
    initial: np.ndarray | None = None,
    decisions: Decisions | None = None,
    model: MatchModel | None = None,
) -> ClusterOutcome:
    """`group` again, only where pairs were added or their scores changed: the components of
    links those pairs touch are clustered anew, every other person stays as `outcome` has it.
    The same persons as clustering the whole frame again, at a fraction of its cost."""
    decisions = decisions or Decisions()
    n = len(frame)
    component = _linked_components(n, candidates, scores, spec, initial, decisions)
    dirty = np.zeros(component.max() + 1, dtype=bool)
    dirty[component[candidates.left[changed]]] = True
    dirty[component[candidates.right[changed]]] = True
    inside = dirty[component]
    sub = np.flatnonzero(inside)
    at = np.full(n, -1, dtype=np.int64)
    at[sub] = np.arange(len(sub))
    keep = inside[candidates.left] & inside[candidates.right]

    def within(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
        return [(int(at[a]), int(at[b])) for a, b in pairs if inside[a] and inside[b]]

    part = group(
        frame.iloc[sub],
        Candidates(
            at[candidates.left[keep]],
            at[candidates.right[keep]],
            # what `group` reads, not every level, and no index (a copy of two code arrays)
            pd.DataFrame({c: candidates.levels[c].to_numpy()[keep] for c in CLUSTER_LEVELS}),
            candidates.stats,
        ),
        Scores(scores.total[keep], scores.prob[keep]),
        spec,
        None if initial is None else initial[sub],
        Decisions(within(decisions.same), within(decisions.different)),
        model,
    )
    labels = outcome.labels.copy()
    labels[sub] = sub[part.labels]
    refused = [r for r in outcome.refused if not (inside[r[0]] or inside[r[1]])]
    refused += [(int(sub[a]), int(sub[b]), why) for a, b, why in part.refused]
    return ClusterOutcome(labels=labels, refused=refused)


def _ambiguous_records(outcome: ClusterOutcome, initial: np.ndarray | None) -> dict[int, set[int]]:
    """New records clustering left alone because they link about as strongly to two
    persons, each with the persons (labels) it links to."""
    labels = outcome.labels
    alone = np.bincount(labels, minlength=len(labels))[labels] == 1
    partners: dict[int, set[int]] = {}
    for a, b, why in outcome.refused:
        if why != AMBIGUOUS:
            continue
        for x, y in ((a, b), (b, a)):
            if alone[x] and not alone[y] and (initial is None or initial[x] < 0):
                partners.setdefault(x, set()).add(int(labels[y]))
    return {x: groups for x, groups in partners.items() if len(groups) >= 2}


def _positions(known: np.ndarray, x: int, members: np.ndarray, n: int) -> np.ndarray:
    """Where the pairs of record x with each of `members` are among the sorted pair codes."""
    return np.searchsorted(known, np.minimum(members, x) * n + np.maximum(members, x))


def settle_ambiguous(
    frame: pd.DataFrame,
    candidates: Candidates,
    scores: Scores,
    spec: ModelSpec,
    outcome: ClusterOutcome,
    model: MatchModel,
    initial: np.ndarray | None = None,
    decisions: Decisions | None = None,
) -> tuple[Candidates, Scores, ClusterOutcome]:
    """A record left alone because it links about as strongly to two persons is compared
    with every record of both; when its mean weight with one person's records beats the
    other's by the ambiguity margin, its links to the other are set aside (for clustering
    only: they keep their scores, and stay in review) and it joins the one it agrees with.

    Why: one strong link says little when the man's other records are at hand; a namesake's
    person holds records that disagree with him, his own person records that agree."""
    partners = _ambiguous_records(outcome, initial)
    if not partners:
        return candidates, scores, outcome
    n = len(frame)
    order = np.argsort(outcome.labels, kind="stable")
    sorted_labels = outcome.labels[order]

    def members(label: int) -> np.ndarray:
        lo, hi = np.searchsorted(sorted_labels, [label, label + 1])
        return order[lo:hi].astype(np.int64)

    wanted = np.unique(
        np.concatenate(
            [np.minimum(m, x) * n + np.maximum(m, x) for x, gs in partners.items() for m in map(members, gs)]
        )
    )
    fresh = wanted[candidates.lacks(wanted, n)]
    changed = np.zeros(len(candidates), dtype=bool)
    if len(fresh):
        candidates, scores, changed = _compare_more(
            frame, candidates, scores, fresh // n, fresh % n, spec, model, initial, decisions
        )
    known = candidates.codes(n)
    pruned = scores.prob.copy()
    for x, groups in partners.items():
        at = {g: _positions(known, x, members(g), n) for g in groups}
        mean = {g: float(scores.total[k].mean()) for g, k in at.items()}
        ranked = sorted(mean, key=lambda g: mean[g], reverse=True)
        if mean[ranked[0]] - mean[ranked[1]] < spec.cluster.ambiguity_bits:
            continue  # still as likely one as the other: left alone, for review
        for g in ranked:
            changed[at[g]] = True
        for g in ranked[1:]:
            pruned[at[g]] = 0.0
    if not changed.any():
        return candidates, scores, outcome
    settled = regroup(
        frame, candidates, Scores(scores.total, pruned), spec, outcome, changed, initial, decisions, model
    )
    return candidates, scores, settled


def link_frame(
    frame: pd.DataFrame,
    spec: ModelSpec,
    keys: pd.DataFrame | None = None,
    model: MatchModel | None = None,
    is_new: np.ndarray | None = None,
    initial: np.ndarray | None = None,
    decisions: Decisions | None = None,
    same_for_fit: list[tuple[int, int]] | None = None,
    lap: Callable[[str], None] = lambda _phase: None,
) -> Linked:
    """Every step on one frame. Without a model, the weights are fitted on this frame's
    own candidates (no pair is compared twice); `same_for_fit` are reviewers' "same" pairs
    the weights may learn from. `lap` is told when each phase ends (for timings). Numbers
    many men give are blanked in the frame first (contact_numbers.py), and their phone
    keys with them, so that no pass finds pairs by them and no session learns from those."""
    if contact_numbers.set_aside(frame) and keys is not None:
        keys = _phone_keys_again(frame, keys, spec)
    keys = block_keys(frame, spec) if keys is None else keys
    candidates = propose(frame, keys, spec, is_new, lap)
    del keys  # not needed past blocking (a caller that handed them over lets them go)
    if model is None:
        model = fit(frame, spec, candidates, same_for_fit)
    forget_views(frame)
    lap("fit")
    scores = score(model, candidates, frame, spec)
    link_one_to_one(frame, candidates, scores, spec, initial)
    if decisions is not None:
        force(candidates, scores, decisions, len(frame))
    lap("score")
    outcome = group(frame, candidates, scores, spec, initial, decisions, model)
    if len(frame) <= spec.cluster.second_look_max_records:
        candidates, scores, outcome = judge_every_pair(
            frame, candidates, scores, spec, outcome, model, initial, decisions, is_new
        )
        candidates, scores, outcome = settle_ambiguous(
            frame, candidates, scores, spec, outcome, model, initial, decisions
        )
    band = review_band(outcome, candidates, scores, spec)
    queue = review_queue(outcome, candidates, scores, spec, band)
    lap("cluster")
    return Linked(candidates, model, scores, outcome, queue.pairs, band, queue)


def _phone_keys_again(frame: pd.DataFrame, keys: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    """The keys of the passes built on a phone made again from the frame (whose contact
    numbers were set aside); the others as they came."""
    again = block_keys(frame, spec, contact_numbers.phone_passes(spec))
    keys = keys.copy(deep=False)
    for column in again.columns:
        keys[column] = again[column].array  # .array: exact 64-bit keys (block_keys says why)
    return keys


def link_records(records: pd.DataFrame, spec: ModelSpec) -> Linked:
    """The engine on a DataFrame of record columns (evaluation, benchmarks)."""
    return link_frame(build_frame(records.reset_index(drop=True)), spec)
