"""Intervals for the total: profile likelihood for one model, and a bootstrap over selection.

Why both: the profile-likelihood interval (the Home Office's) takes the chosen model as
given, so it is too narrow when another model could as well have been chosen. The
bootstrap of Silverman, Chan and Vincent (2024) chooses the model again in every resample
and reads a BCa interval from the spread; it is the honest one, and it is slower.

Both are intervals for the number of returns, not for the mean of the hidden cell: the
profile is the multinomial one with N a parameter (Cormack 1992, Rcapture's), and the
bootstrap resamples the estimated population, the men on no list included (Buckland and
Garthwaite 1991), so that each resample's listed total varies as a real year's would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize_scalar
from scipy.special import gammaln
from scipy.stats import chi2, norm

from linkage.estimate.loglinear import Fit, glm_fit
from linkage.estimate.table import CaptureTable

LEVEL = 0.95


def poisson_profile_interval(model: Fit, level: float = LEVEL) -> tuple[float, float]:
    """Listed plus the profile interval of the *expected* count on no list (exp(intercept)).

    The intercept is fixed at a value b by an offset and the other parameters refitted. This
    is an interval for the mean of the hidden cell, not for the number of returns: it leaves
    out how the hidden count itself varies around its mean, which matters when the lists
    catch most men (kept for comparison; `profile_interval` is the one used).
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


def multinomial_loglik(model: Fit, hidden: float) -> float:
    """Log-likelihood of N = listed + hidden people, the model's other parameters maximised.

    Cormack (1992), as Rcapture's closedpCI computes it: the table completed with `hidden`
    people in the empty pattern is fitted by the same log-linear model, and the multinomial
    likelihood of N people over all patterns (the empty one included) is read from the fit:
    log N! - log hidden! + sum of count * log(fitted / N). N is a parameter here, so the
    interval is for the number of returns, not for the mean of the hidden cell.
    """
    d = model.design
    counts = d.table.counts.astype(float)
    n = float(counts.sum())
    total = n + hidden
    matrix = np.vstack([np.eye(1, d.matrix.shape[1]), d.matrix])
    y = np.concatenate([[hidden], counts])
    mu = np.asarray(glm_fit(matrix, y).fittedvalues)
    seen = y > 0
    return float(gammaln(total + 1) - gammaln(hidden + 1) + np.sum(y[seen] * np.log(mu[seen] / total)))


def profile_interval(model: Fit, level: float = LEVEL) -> tuple[float, float]:
    """The multinomial profile-likelihood interval for the total (Cormack 1992).

    Why not the Poisson intercept's profile: that bounds the expected count on no list; the
    number on no list also varies around it (about its square root), which is as large as
    the estimation error when the lists catch most returns. On independent lists that catch
    95% of returns, with the true links and the AIC rule's model, the intercept's interval
    covered the true total in 25 of 33 years, this one in 32 (benchmarks/independent/
    estimate.py). The ends are the totals where twice the drop in log-likelihood reaches
    the chi-squared quantile; a lower end the drop never reaches is the number listed
    (nobody missing), an upper end past 1,000 times the number listed is infinite.
    """
    n = float(model.listed)
    crit = float(chi2.ppf(level, 1)) / 2
    cap = 1000.0 * max(n, 1.0)
    guess = max(model.on_no_list, 1e-6)
    best = minimize_scalar(
        lambda t: -multinomial_loglik(model, float(np.expm1(t))),
        bounds=(0.0, float(np.log1p(min(cap, 100 * guess + 100)))),
        method="bounded",
        options={"xatol": 1e-7},
    )
    t_hat = float(best.x)
    llmax = -float(best.fun)

    def drop(t: float) -> float:
        return llmax - multinomial_loglik(model, float(np.expm1(t))) - crit

    low = 0.0 if drop(0.0) <= 0 else brentq(drop, 0.0, t_hat, xtol=1e-9)
    high, edge = float("inf"), t_hat
    while edge < np.log1p(cap):
        edge = min(edge + max(0.25, 0.5 * edge), float(np.log1p(cap)))
        if drop(edge) > 0:
            high = brentq(drop, t_hat, edge, xtol=1e-9)
            break
    return n + float(np.expm1(low)), n + (float(np.expm1(high)) if np.isfinite(high) else high)


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
    """Multinomial resamples of the estimated population, each estimated by `estimator` afresh.

    The estimated total N is drawn again over the observed patterns and the empty one (in
    the shares the estimate gives them), and those drawn onto no list are dropped: a
    resample of the listed people alone holds their number fixed, which leaves out how
    the number on no list varies and made the interval too narrow where lists catch most
    men (benchmarks/independent/estimate.py). `estimator` runs the whole model selection
    and returns the total (NaN if none exists). The acceleration comes from a jackknife
    that removes one person of each pattern.
    """
    obs = table.observed()
    n = obs.listed
    rng = np.random.default_rng(seed)
    point = estimator(obs)
    if np.isfinite(point) and point > n:
        total = int(round(point))
        shares = np.append(obs.counts / total, max(0.0, 1.0 - n / total))
        draws = rng.multinomial(total, shares / shares.sum(), size=resamples)[:, :-1]
    else:
        draws = rng.multinomial(n, obs.counts / n, size=resamples)
    reps = np.array([estimator(obs.with_counts(c)) for c in draws], dtype=float)
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
    # a resample may list fewer men than were listed; the total is never below those listed
    return Bootstrap(reps, max(float(lo), float(n)), max(float(hi), float(n)), accel)
