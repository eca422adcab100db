"""Fitting the match model on the store's own records, without labels.

Why sessions (as Splink does): EM on all candidate pairs at once mistakes "same return
batch" or "same family" for "same man". So u comes from random pairs; then EM runs on
pairs with the same names and birth year, learning what else agrees for one man
(names and birth ignored: they agree by construction); then on pairs sharing a phone or
an ID, learning how names and birth vary for one man (phone and ID ignored); last, the
prior is fitted on all candidates with every m held.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from linkage.match.blocking import KEY_VERSION, BlockingStats, candidate_pairs
from linkage.match.compare import COMPARE_VERSION, FEATURES, LEVELS, compare
from linkage.match.model import MatchModel, random_pairs
from linkage.settings import Settings

NAME_FEATURES = {"family_name", "given_name"}
ID_FEATURES = {"phone", "id_document"}


def _family_sessions(
    start: MatchModel, shared: pd.DataFrame, levels: pd.DataFrame, stats: BlockingStats, families: bool
) -> MatchModel:
    """The EM sessions after the name session, on a copy of `start`, with or without the
    family class."""
    model = copy.deepcopy(start)
    # Pairs sharing a phone or an ID are one man or brothers (a family shares one phone):
    # the family class learns how brothers' names, births and places compare.
    family = set(FEATURES) - ID_FEATURES if families else None
    model.fit_em(shared, ignore=ID_FEATURES, family=family)
    model.prior = 0.1
    # On every candidate: the shares of the classes, and how often brothers share a phone
    # or a document (which the session above cannot see: there they agree by construction).
    model.fit_em(
        levels, update=set(), unseen_different=stats.refined_away, family=ID_FEATURES if families else None
    )
    return model


def fit_model(
    frame: pd.DataFrame,
    keys: pd.DataFrame,
    settings: Settings,
    candidates: tuple[np.ndarray, np.ndarray, pd.DataFrame, BlockingStats] | None = None,
    same: list[tuple[int, int]] | None = None,
) -> MatchModel:
    """An EM-fitted model for these records (the whole store on a first run or rebuild).

    candidates: (left, right, levels, blocking stats) of all candidate pairs when the
    caller has them, so that no pair is compared twice.
    same: position pairs reviewers called the same man; from `supervised_min_decisions` of
    them on, the m-probabilities learn from them too (a supervised model).
    """
    model = MatchModel(
        records=len(frame),
        sources=sorted(frame["source"].dropna().unique().tolist()),
        key_version=KEY_VERSION,
        compare_version=COMPARE_VERSION,
    )
    n = len(frame)
    if n < 2:  # nothing to learn from: uninformative chance agreement
        model.u = {f: np.full(len(v), 1 / len(v)) for f, v in LEVELS.items()}
        return model
    ra, rb = random_pairs(n, settings.u_sample_pairs, seed=0)
    model.fit_u(compare(frame, ra, rb))
    model.fit_tf(frame)

    if candidates is None:
        left, right, stats = candidate_pairs(keys, max_block=settings.max_block_size)
        candidates = (left, right, compare(frame, left, right), stats)
    _left, _right, levels, stats = candidates

    def session(*passes: str) -> pd.DataFrame:
        return levels[stats.found_by(*passes)]

    by_name = session("name_token_year")  # a name key, the birth year, the other initial
    by_name = by_name[(by_name["family_name"] >= 3) & (by_name["given_name"] >= 3)]  # both names sound alike
    # what else agrees for one man: every feature used here is learned here (one used but
    # held at its starting value would steer what the others learn)
    model.fit_em(
        by_name, ignore=NAME_FEATURES | {"birth"}, update=ID_FEATURES | {"father", "context", "lists"}
    )
    shared = session("phone", "id_or_document")
    fitted = _family_sessions(model, shared, levels, stats, families=True)
    if not fitted.family_is_a_family():  # lists without brothers (FEBRL): two classes, as before
        fitted = _family_sessions(model, shared, levels, stats, families=False)
    model = fitted
    if same and len(same) >= settings.supervised_min_decisions:
        a, b = (np.array(x, dtype=np.int64) for x in zip(*(sorted(p) for p in same), strict=True))
        model.fit_supervised(compare(frame, a, b), settings.supervised_pseudo_pairs)
    return model
