"""Fitting the match model on the store's own records, without labels.

Why sessions (as Splink does): EM on all candidate pairs at once mistakes "same return
batch" or "same family" for "same man". So u comes from random pairs; then EM runs on
pairs with the same names and birth year, learning what else agrees for one man
(names and birth ignored: they agree by construction); then on pairs sharing a phone or
an ID, learning how names and birth vary for one man (phone and ID ignored); last, the
prior is fitted on all candidates with every m held. Where few records give a phone or an
ID, the second session's few pairs are pooled with what the first learned (not put in its
place), and under a few dozen of them the pairs of one birth date and district join them.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pandas as pd

from linkage.match.blocking import BlockingStats, candidate_pairs, keys_fingerprint
from linkage.match.compare import FEATURES, LEVELS, MISSING, compare, village_chance
from linkage.match.model import MatchModel, random_pairs
from linkage.match.spec import ModelSpec, SessionSpec


def _session_pairs(levels: pd.DataFrame, stats: BlockingStats, session: SessionSpec) -> pd.DataFrame:
    """The candidate pairs a session learns from: found by its passes, at its least levels."""
    chosen = levels[stats.found_by(*session.passes)]
    for feature, level in session.at_least.items():
        chosen = chosen[chosen[feature] >= level]
    return chosen


def _with_fallback(
    levels: pd.DataFrame, stats: BlockingStats, session: SessionSpec
) -> tuple[pd.DataFrame, SessionSpec]:
    """The session's pairs and its fallback's as one session: each pair with the features
    its own passes make agree left out (missing), so that none is learned where it agrees
    by construction and every other is learned from both."""
    fallback = session.fallback
    assert fallback is not None
    own, other = stats.found_by(*session.passes), stats.found_by(*fallback.passes)
    chosen = own | other
    pairs = levels[chosen].copy()
    for found, ignored in ((own[chosen], session.ignore), (other[chosen], fallback.ignore)):
        for f in ignored:
            col = pairs[f].to_numpy().copy()
            col[found] = MISSING
            pairs[f] = col
    joined = replace(session, passes=(*session.passes, *fallback.passes), ignore=(), fallback=None)
    return pairs, joined


def _shared_session(
    levels: pd.DataFrame, stats: BlockingStats, session: SessionSpec
) -> tuple[pd.DataFrame, SessionSpec, frozenset[str]]:
    """The pairs the shared session learns from, the session they make, and what those
    pairs share by construction; on lists with few phones and IDs, the fallback's pairs
    (where births agree) join them."""
    pairs = _session_pairs(levels, stats, session)
    if session.fallback is None or len(pairs) >= session.fallback_below:
        return pairs, session, frozenset(session.ignore)
    joined, joined_session = _with_fallback(levels, stats, session)
    return joined, joined_session, frozenset(session.ignore) | frozenset(session.fallback.ignore)


def _family_sessions(
    start: MatchModel,
    shared: pd.DataFrame,
    levels: pd.DataFrame,
    stats: BlockingStats,
    session: SessionSpec,
    families: bool,
    learned: dict[str, float],
    shared_by_construction: frozenset[str] = frozenset(),
) -> MatchModel:
    """The EM sessions after the name session, on a copy of `start`, with or without the
    family class; `learned`: the pairs of one man the name session learned each m from
    (this session adds its own to them); `shared_by_construction`: what the session's
    pairs share because of how they were found (phone, ID), which brothers' sharing is
    learned for on every candidate (default: the session's ignored features)."""
    model = copy.deepcopy(start)
    ignored = set(session.ignore)
    # Pairs sharing a phone or an ID are one man or brothers (a family shares one phone):
    # the family class learns how brothers' names, births and places compare.
    family = set(FEATURES) - ignored if families else None
    session_learned = model.fit_em(shared, ignore=ignored, family=family)
    # a session on few pairs (lists that give few phones or IDs) adds to what the name
    # session learned of a feature instead of replacing it
    thin = {
        f: n
        for f, n in learned.items()
        if f not in ignored and session_learned.get(f, 0.0) < session.pools_below * n
    }
    if thin:
        model = copy.deepcopy(start)
        session_learned = model.fit_em(shared, ignore=ignored, family=family, learned_from=thin)
    model.prior = 0.1
    # On every candidate: the shares of the classes, and how often brothers share a phone
    # or a document (which the session above cannot see: there they agree by construction).
    model.fit_em(
        levels,
        update=set(),
        unseen_different=stats.refined_away,
        family=(shared_by_construction or ignored) if families else None,
    )
    return model


def fit_model(
    frame: pd.DataFrame,
    keys: pd.DataFrame,
    spec: ModelSpec,
    candidates: tuple[np.ndarray, np.ndarray, pd.DataFrame, BlockingStats] | None = None,
    same: list[tuple[int, int]] | None = None,
) -> MatchModel:
    """An EM-fitted model for these records (the whole store on a first run or rebuild).

    candidates: (left, right, levels, blocking stats) of all candidate pairs when the
    caller has them, so that no pair is compared twice.
    same: position pairs reviewers called the same man; from `supervised_min_decisions` of
    them on, the m-probabilities learn from them too (a supervised model).
    """
    limits = spec.limits
    model = MatchModel(
        records=len(frame),
        sources=sorted(frame["source"].dropna().unique().tolist()),
        keys_digest=keys_fingerprint(spec),
        weights_digest=spec.weights_digest(),
        spec=spec.as_dict(),
    )
    n = len(frame)
    if n < 2:  # nothing to learn from: uninformative chance agreement
        model.u = {f: np.full(len(v), 1 / len(v)) for f, v in LEVELS.items()}
        return model
    ra, rb = random_pairs(n, limits.u_sample_pairs, seed=0)
    model.fit_u(compare(frame, ra, rb, spec))
    if "village" in model.u:
        model.u["village"] = village_chance(frame)
    model.fit_tf(frame)

    if candidates is None:
        left, right, stats = candidate_pairs(keys, max_block=limits.max_block_size, spec=spec)
        candidates = (left, right, compare(frame, left, right, spec), stats)
    _left, _right, levels, stats = candidates

    # what else agrees for one man: every feature used here is learned here (one used but
    # held at its starting value would steer what the others learn)
    names = spec.name_session
    learned = model.fit_em(
        _session_pairs(levels, stats, names), ignore=set(names.ignore), update=set(names.update) or None
    )
    shared, shared_session, by_construction = _shared_session(levels, stats, spec.shared_session)
    fitted = _family_sessions(model, shared, levels, stats, shared_session, True, learned, by_construction)
    if not fitted.family_is_a_family():  # lists without brothers (FEBRL): two classes, as before
        fitted = _family_sessions(
            model, shared, levels, stats, shared_session, False, learned, by_construction
        )
    model = fitted
    if same and len(same) >= limits.supervised_min_decisions:
        a, b = (np.array(x, dtype=np.int64) for x in zip(*(sorted(p) for p in same), strict=True))
        model.fit_supervised(compare(frame, a, b, spec), limits.supervised_pseudo_pairs)
    model.keep_levels_in_order(spec.ordered_levels())
    return model
