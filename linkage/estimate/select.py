"""Choosing which pairs of lists interact: the two published stepwise rules.

Why two: the Home Office's 2013 estimate (Silverman 2014) added interactions by AIC; Chan,
Silverman and Vincent (2021) showed that AIC misbehaves on sparse tables with lists that
share no one, and add instead the interaction whose Poisson p-value is smallest while it is
below 0.02. Both start from main effects and add one pair at a time, and neither adds a pair
whose model has no estimate (Fienberg-Rinaldo check).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.stats import poisson

from linkage.estimate.loglinear import Fit, Pair, check, fit
from linkage.estimate.table import CaptureTable

METHODS = ("chan-silverman-vincent", "aic")
CSV_PTHRESH = 0.02
AIC_PTHRESH = 0.05


def all_pairs(table: CaptureTable) -> list[Pair]:
    return list(itertools.combinations(range(len(table.lists)), 2))


def _usable(table: CaptureTable, pairs: list[Pair]) -> bool:
    exists, identifiable = check(table, pairs)
    return exists and identifiable


def overlap_pvalue(current: Fit, pair: Pair, observed: int) -> float:
    """Poisson p-value of the people on both lists, under the current model (either tail)."""
    pats = current.design.table.patterns
    both = (pats[:, pair[0]] == 1) & (pats[:, pair[1]] == 1)
    lam = float(current.fitted[both].sum())
    return float(min(poisson.cdf(observed, lam), poisson.sf(observed - 1, lam)))


def chan_silverman_vincent(table: CaptureTable, pthresh: float = CSV_PTHRESH) -> Fit:
    """Add the pair with the smallest Poisson p-value while it is below pthresh.

    A pair of lists that share no one may enter (its patterns are left out of the model).
    Of candidates with equal p-values the first in list order wins, as in SparseMSE; the
    existence check runs on candidates from the smallest p-value up, so that only the
    candidate about to be added is checked, which gives the same model as checking all.
    """
    full = table.full()
    pairs = all_pairs(full)
    observed = {p: full.overlap(*p) for p in pairs}
    chosen: list[Pair] = []
    current = fit(full, chosen)
    while len(chosen) < len(pairs):
        ranked = sorted(
            ((overlap_pvalue(current, p, observed[p]), k, p) for k, p in enumerate(pairs) if p not in chosen)
        )
        pick = next((p for pv, _k, p in ranked if pv < pthresh and _usable(full, [*chosen, p])), None)
        if pick is None:
            break
        chosen.append(pick)
        current = fit(full, chosen)
    return current


def aic_stepwise(table: CaptureTable, pthresh: float = AIC_PTHRESH) -> Fit:
    """Add the pair that lowers AIC most; stop when AIC no longer falls or its p-value > pthresh.

    The Home Office rule. A pair of lists that share no one is handled as Chan, Silverman and
    Vincent do (its patterns left out, its parameter counted in the AIC); its p-value is the
    Poisson chance of an empty overlap under the model without it.
    """
    full = table.full()
    pairs = all_pairs(full)
    observed = {p: full.overlap(*p) for p in pairs}
    chosen: list[Pair] = []
    current = fit(full, chosen)
    while True:
        # fit every candidate, then check existence from the lowest AIC up: the first that
        # exists is the one a check of every candidate would have chosen
        fits = sorted(
            (
                (f.aic, k, f, p)
                for k, p in enumerate(pairs)
                if p not in chosen
                for f in [fit(full, [*chosen, p])]
            ),
            key=lambda row: (row[0], row[1]),
        )
        best = next(
            ((f, p) for aic, _k, f, p in fits if aic < current.aic and _usable(full, [*chosen, p])), None
        )
        if best is None:
            return current
        cand, added = best
        if observed[added] == 0:
            pvalue = overlap_pvalue(current, added, 0)
        else:
            pvalue = cand.pvalues[cand.design.pairs.index(added) + 1 + len(full.lists)]
        if not np.isfinite(pvalue) or pvalue > pthresh:
            return current
        chosen.append(added)
        current = cand


def select(table: CaptureTable, method: str = "chan-silverman-vincent") -> Fit:
    if method == "chan-silverman-vincent":
        return chan_silverman_vincent(table)
    if method == "aic":
        return aic_stepwise(table)
    raise ValueError(f"method must be one of {', '.join(METHODS)}, not '{method}'")
