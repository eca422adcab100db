"""Poisson log-linear models of a capture-history table, and whether their estimate exists.

Why this shape: the log of the expected count of each pattern is a constant, plus an effect
per list the pattern holds, plus an effect per pair of lists it holds that the model
includes (two lists that refer to each other, or reach the same men). The constant is the
log of the expected number of people on no list, so the estimate of that hidden number is
exp(intercept).

Two lists that share no one cannot carry an interaction in the ordinary way (its estimate
would be minus infinity). Following Chan, Silverman and Vincent (2021), such an
interaction is kept in the model by leaving out every pattern that holds both lists (their
expected count is then zero) and counting the parameter in the AIC.

Before an estimate is given, the linear program of Fienberg and Rinaldo (2012) checks that
the maximum likelihood estimate exists, and a rank check that it is identifiable.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from scipy.optimize import linprog

from linkage.estimate.table import CaptureTable

Pair = tuple[int, int]


@dataclass(frozen=True)
class Design:
    """The patterns a model keeps, its design matrix, and which of its pairs are empty."""

    table: CaptureTable  # full table, less the patterns dropped for empty pairs
    matrix: np.ndarray  # constant, main effects, then one column per non-empty pair
    names: tuple[str, ...]
    pairs: tuple[Pair, ...]  # non-empty pairs, in the order of their columns
    empty: tuple[Pair, ...]  # pairs in the model whose lists share no one


def design(table: CaptureTable, pairs: tuple[Pair, ...] | list[Pair]) -> Design:
    full = table.full()
    pats, counts = full.patterns, full.counts
    empty = tuple(p for p in pairs if full.overlap(*p) == 0)
    keep = np.ones(len(pats), dtype=bool)
    for i, j in empty:
        keep &= ~((pats[:, i] == 1) & (pats[:, j] == 1))
    pats, counts = pats[keep], counts[keep]
    kept_pairs = tuple(p for p in pairs if p not in empty)
    cols = [np.ones(len(pats))] + [pats[:, k].astype(float) for k in range(len(full.lists))]
    cols += [(pats[:, i] * pats[:, j]).astype(float) for i, j in kept_pairs]
    names = ("(intercept)", *full.lists, *(f"{full.lists[i]}:{full.lists[j]}" for i, j in kept_pairs))
    return Design(CaptureTable(full.lists, pats, counts), np.column_stack(cols), names, kept_pairs, empty)


@dataclass(frozen=True)
class Fit:
    """A fitted model: the estimate of people on no list is exp(intercept)."""

    design: Design
    params: np.ndarray
    bse: np.ndarray
    pvalues: np.ndarray
    fitted: np.ndarray
    llf: float
    aic: float  # counts the parameters of empty pairs too

    @property
    def pairs(self) -> tuple[Pair, ...]:
        return tuple(sorted(self.design.pairs + self.design.empty))

    @property
    def on_no_list(self) -> float:
        return float(np.exp(self.params[0]))

    @property
    def listed(self) -> int:
        return self.design.table.listed

    @property
    def total(self) -> float:
        return self.listed + self.on_no_list

    def terms(self) -> list[str]:
        """The model in words a statistician reads: main effects plus each pair, e.g. 'A:B'."""
        lists = self.design.table.lists
        return [f"{lists[i]}:{lists[j]}" for i, j in self.pairs]

    def describe(self) -> str:
        terms = self.terms()
        return "main effects" + (" + " + " + ".join(terms) if terms else " only")


def glm_fit(matrix: np.ndarray, counts: np.ndarray, offset: np.ndarray | None = None):
    """A Poisson GLM by statsmodels, quiet about the boundary warnings sparse tables give."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sm.GLM(counts, matrix, family=sm.families.Poisson(), offset=offset)
        return model.fit(maxiter=200, tol=1e-10)


def fit(table: CaptureTable, pairs: tuple[Pair, ...] | list[Pair] = ()) -> Fit:
    d = design(table, tuple(sorted(pairs)))
    res = glm_fit(d.matrix, d.table.counts.astype(float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bse = np.asarray(res.bse)
        pvalues = np.asarray(res.pvalues)
    return Fit(
        d,
        np.asarray(res.params),
        bse,
        pvalues,
        np.asarray(res.fittedvalues),
        float(res.llf),
        float(res.aic) + 2 * len(d.empty),
    )


def check(table: CaptureTable, pairs: tuple[Pair, ...] | list[Pair]) -> tuple[bool, bool]:
    """(exists, identifiable) for the model with these pairs on this table.

    Fienberg and Rinaldo: the estimate exists when some table with every cell strictly
    positive has the same sufficient statistics (A^T x = A^T n). The linear program finds
    the largest s with x >= s; s = 0 means the estimate runs off to the boundary.
    """
    d = design(table, tuple(sorted(pairs)))
    a = d.matrix
    t = a.T @ d.table.counts
    ncell = a.shape[0]
    a_eq = np.hstack([a.T, np.zeros((a.shape[1], 1))])
    a_ub = np.hstack([-np.eye(ncell), np.ones((ncell, 1))])
    c = np.zeros(ncell + 1)
    c[-1] = -1.0
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(ncell), A_eq=a_eq, b_eq=t, bounds=(0, None), method="highs")
    exists = bool(res.status == 0 and -res.fun > 1e-9)
    identifiable = int(np.linalg.matrix_rank(a)) == a.shape[1]
    return exists, identifiable
