"""Intervals for the total: profile likelihood for one model, and a bootstrap over selection.

Why both: the profile-likelihood interval (the Home Office's) takes the chosen model as
given, so it is too narrow when another model could as well have been chosen. The
bootstrap of Silverman, Chan and Vincent (2024) resamples the listed people, chooses the
model again in every resample, and reads a BCa interval from the spread; it is the honest
one, and it is slower.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.stats import chi2, norm

from linkage.estimate.loglinear import Fit, glm_fit
from linkage.estimate.table import CaptureTable

LEVEL = 0.95


def profile_interval(model: Fit, level: float = LEVEL) -> tuple[float, float]:
    """Totals whose log-likelihood (others maximised) is within chi2(1)/2 of the best.

    The intercept is fixed at a value b by an offset and the other parameters refitted;
    the ends are where twice the drop in log-likelihood reaches the chi-squared quantile.
    A lower end that the profile never reaches is the number listed (nobody missing).
    """
    d = model.design
    y = d.table.counts.astype(float)
    rest = d.matrix[:, 1:]
    b0, llmax = float(model.params[0]), model.llf
    crit = float(chi2.ppf(level, 1)) / 2

    def drop(b: float) -> float:
        res = glm_fit(rest, y, offset=np.full(len(y), b))
        return llmax - float(res.llf) - crit

    se = float(model.bse[0]) if np.isfinite(model.bse[0]) and model.bse[0] > 0 else 0.5
    ends = []
    for sign in (-1.0, 1.0):
        step, edge = max(se, 0.05), None
        for _ in range(40):
            b = b0 + sign * step
            if drop(b) > 0:
                edge = b
                break
            step *= 2
            if b0 + sign * step < -30 or b0 + sign * step > 30:
                break
        if edge is None:
            ends.append(-np.inf if sign < 0 else np.inf)
        else:
            lo, hi = sorted((b0, edge))
            ends.append(brentq(drop, lo, hi, xtol=1e-8))
    listed = model.listed
    return listed + float(np.exp(ends[0])), listed + float(np.exp(ends[1]))


@dataclass(frozen=True)
class Bootstrap:
    """Totals from each resample and the BCa interval read from them."""

    estimates: np.ndarray  # NaN where a resample had no estimate
    lower: float
    upper: float
    acceleration: float

    @property
    def failed(self) -> int:
        return int(np.isnan(self.estimates).sum())


def bca(estimates: np.ndarray, point: float, acceleration: float, alpha: tuple[float, ...]) -> np.ndarray:
    """Bias-corrected and accelerated percentiles (Efron 1987), as SparseMSE reads them."""
    reps = estimates[~np.isnan(estimates)]
    share = float(np.mean(reps < point))
    z0 = norm.ppf(min(max(share, 1e-6), 1 - 1e-6))
    za = norm.ppf(np.asarray(alpha))
    za0 = za + z0
    q = norm.cdf(z0 + za0 / (1 - acceleration * za0))
    return np.quantile(reps, q, method="median_unbiased")


def bootstrap(
    table: CaptureTable,
    estimator: Callable[[CaptureTable], float],
    resamples: int,
    seed: int = 1234,
    level: float = LEVEL,
) -> Bootstrap:
    """Multinomial resamples of the listed people, each estimated by `estimator` afresh.

    `estimator` runs the whole model selection and returns the total (NaN if none exists).
    The acceleration comes from a jackknife that removes one person of each pattern.
    """
    obs = table.observed()
    n = obs.listed
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, obs.counts / n, size=resamples)
    reps = np.array([estimator(obs.with_counts(c)) for c in draws], dtype=float)
    point = estimator(obs)
    jack = np.empty(len(obs.counts))
    for k in range(len(obs.counts)):
        c = obs.counts.copy()
        c[k] -= 1
        jack[k] = estimator(obs.with_counts(c))
    w = obs.counts.astype(float)
    ok = ~np.isnan(jack)
    resid = np.sum(w[ok] * jack[ok]) / np.sum(w[ok]) - jack[ok]
    denom = 6 * np.sum(w[ok] * resid**2) ** 1.5
    accel = float(np.sum(w[ok] * resid**3) / denom) if denom > 0 else 0.0
    tail = (1 - level) / 2
    if np.isnan(point) or np.isnan(reps).all():
        return Bootstrap(reps, float("nan"), float("nan"), accel)
    lo, hi = bca(reps, point, accel, (tail, 1 - tail))
    return Bootstrap(reps, float(lo), float(hi), accel)
