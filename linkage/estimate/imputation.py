"""The estimate corrected for missed links: the review band's pairs multiply imputed.

Why: a return split by a missed link is counted as two returns, each on fewer lists, and
the pieces read as men the other lists seldom catch, so the estimate of men on no list runs
high (on the independent lists +3-4% on the total through the store, 0% on the true links).
Taking every open review pair as a link and as a non-link gives a range, not a correction:
most of the band's pairs are two men. Instead each pair is drawn as a link with its chance
of being one man, the returns' capture histories are formed again, the estimate is made
from each draw, and the draws are combined as multiple imputations (Rubin 1987): the point
is their mean, and the interval adds the spread between draws to the sampling interval.

The chance is not the stored probability: every band pair has one of at least the review
threshold (0.99), yet at 40k about four in five are two men. It is calibrated:

- on reviewers' decisions when there are enough of them (a logistic fit of "same" on the
  model's log-odds, Platt scaling), since a decision is the only truth the store holds;
- otherwise the model's own chance, the review queue's: a record's band pairs are rival
  explanations of it, and "none of them" is one more at the link threshold's weight, so
  each pair gets its share of 2 ** weight (linkage/match/queue.py).

A drawn link merges the two records' returns only when they can be one return: both dated
by a return within the event window, or either dated by an NGO intake alone (which follows
a return). Otherwise it is one man's two returns and the table does not change. Missed
links the band does not hold (no pair above the review threshold between the pieces) and
false links (links are not stored with their chance) are not corrected.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

# Draws of the band's links; the between-draw spread is read from them (Rubin's B).
DRAWS = 10
# Reviewers' decisions needed before they, not the model, calibrate the chance.
MIN_DECISIONS = 30
MIN_EACH = 5
_MAX_BITS = 200.0
_Z = float(norm.ppf(0.975))


@dataclass(frozen=True)
class Calibration:
    """How the band's chances were made, in words for the output."""

    chance: np.ndarray
    source: str


def model_chance(a: np.ndarray, b: np.ndarray, weight: np.ndarray, link_bits: float) -> np.ndarray:
    """Each pair's share of 2 ** weight among its records' band pairs and "none of them".

    Per record, its band pairs are its rival explanations; of the two records the one with
    the larger field of rivals decides (as the review queue does for a record left alone).
    """
    odds = np.exp2(np.minimum(np.asarray(weight, dtype=float), _MAX_BITS) - link_bits)
    ids, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
    rivals = np.zeros(len(ids))
    np.add.at(rivals, inv, np.concatenate([odds, odds]))
    ia, ib = inv[: len(a)], inv[len(a) :]
    return odds / (1.0 + np.maximum(rivals[ia], rivals[ib]))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def platt(model: np.ndarray, same: np.ndarray) -> tuple[float, float] | None:
    """Intercept and slope of P(same) on the model's log-odds, from reviewers' decisions;
    None when there are too few decisions, or too few of either verdict, to fit."""
    same = np.asarray(same, dtype=float)
    if len(same) < MIN_DECISIONS or min(same.sum(), len(same) - same.sum()) < MIN_EACH:
        return None
    import statsmodels.api as sm

    x = sm.add_constant(_logit(np.asarray(model, dtype=float)), has_constant="add")
    res = sm.GLM(same, x, family=sm.families.Binomial()).fit()
    a, b = (float(v) for v in res.params)
    return (a, b) if math.isfinite(a) and math.isfinite(b) else None


def calibrate(band: pd.DataFrame, decided: pd.DataFrame, link_bits: float) -> Calibration:
    """The band's chance of one man per pair (columns record_a, record_b, weight); decided
    holds reviewers' verdicts with the same columns and `same` (1/0). The model's chance of
    a decided pair is read among the band's pairs too (they were its rivals)."""
    cols = ["record_a", "record_b", "weight"]
    both = pd.concat([band[cols], decided[cols]]) if len(decided) else band[cols]
    own = model_chance(
        both["record_a"].to_numpy(), both["record_b"].to_numpy(), both["weight"].to_numpy(), link_bits
    )
    chance, own_decided = own[: len(band)], own[len(band) :]
    source = "the model's own chance (share of 2**weight among a record's band pairs and none)"
    fit = platt(own_decided, decided["same"].to_numpy()) if len(decided) else None
    if fit is not None:
        a, b = fit
        chance = 1.0 / (1.0 + np.exp(-(a + b * _logit(chance))))
        source = f"the model's chance calibrated on {len(decided)} reviewers' decisions (Platt)"
    return Calibration(chance, source)


def event_summary(records: pd.DataFrame) -> pd.DataFrame:
    """Per return: earliest return date, earliest intake, home province, set of lists
    (source labels already applied to `label`)."""
    g = records.groupby("event_id", sort=True)
    return pd.DataFrame(
        {
            "return_date": g["return_date"].min(),
            "intake_date": g["intake_date"].min(),
            "province": g["province_code"].agg(lambda s: s.mode().iloc[0] if s.notna().any() else None),
            "lists": g["label"].agg(frozenset),
        }
    )


def can_merge(ev: pd.DataFrame, ea: np.ndarray, eb: np.ndarray, window_days: int) -> np.ndarray:
    """Whether a link between returns ea and eb makes them one return (events.py's rule,
    simplified): both dated by a return within the window, or either by an intake alone."""
    ra = ev["return_date"].reindex(ea).to_numpy()
    rb = ev["return_date"].reindex(eb).to_numpy()
    undated = pd.isna(ra) | pd.isna(rb)
    gap = np.abs((pd.to_datetime(ra) - pd.to_datetime(rb)).days.to_numpy(dtype=float))
    return (ea != eb) & (undated | (gap <= window_days))


def merged_returns(ev: pd.DataFrame, ea: np.ndarray, eb: np.ndarray) -> pd.DataFrame:
    """The returns with each pair (ea[k], eb[k]) made one: date, province, lists, as
    store.returns gives them (a return's date: its earliest return date, else intake)."""
    parent: dict[str, str] = {}

    def root(e: str) -> str:
        while parent.get(e, e) != e:
            e = parent[e]
        return e

    for x, y in zip(ea.tolist(), eb.tolist(), strict=True):
        rx, ry = root(x), root(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    touched = {e for e in parent} | {root(e) for e in parent}
    keep = ev[~ev.index.isin(touched)]
    part = ev[ev.index.isin(touched)]
    if len(part):
        g = part.groupby(part.index.map(root))
        part = pd.DataFrame(
            {
                "return_date": g["return_date"].min(),
                "intake_date": g["intake_date"].min(),
                "province": g["province"].first(),
                "lists": g["lists"].agg(lambda s: frozenset().union(*s)),
            }
        )
        keep = pd.concat([keep, part])
    out = keep.rename_axis("event_id").reset_index()
    out["date"] = out["return_date"].fillna(out["intake_date"])
    return out


@dataclass(frozen=True)
class Combined:
    """The draws' estimates of one period combined (Rubin): their mean and between-draw variance."""

    mean: float
    between: float
    draws: int
    listed: float  # the draws' mean number of returns listed (merged returns are fewer)

    def interval(self, estimate: float, lower: float, upper: float) -> tuple[float, float]:
        """The sampling interval (lower, upper about `estimate`) moved to the mean and
        widened by the between-draw variance: each side's half-width h becomes
        sqrt(h**2 + z**2 (1 + 1/M) B), which keeps the bootstrap's asymmetry."""
        extra = _Z**2 * (1 + 1 / self.draws) * self.between
        lo = self.mean - math.sqrt(max(estimate - lower, 0.0) ** 2 + extra)
        hi = self.mean + math.sqrt(max(upper - estimate, 0.0) ** 2 + extra)
        return lo, hi


def combine(values: list[tuple[float, float]]) -> Combined | None:
    """Rubin's combination of the draws' (estimate, listed); None when fewer than half have
    an estimate."""
    ok = [(v, n) for v, n in values if math.isfinite(v)]
    if len(ok) < max(2, len(values) / 2):
        return None
    est = np.array([v for v, _ in ok])
    return Combined(float(est.mean()), float(est.var(ddof=1)), len(ok), float(np.mean([n for _, n in ok])))


def draw_links(chance: np.ndarray, draws: int, seed: int) -> list[np.ndarray]:
    """Which band pairs are links in each draw (independent Bernoulli, each with its chance)."""
    rng = np.random.default_rng(seed)
    return [rng.random(len(chance)) < chance for _ in range(draws)]


def impute(
    ev: pd.DataFrame,
    ea: np.ndarray,
    eb: np.ndarray,
    chance: np.ndarray,
    per_draw: Callable[[pd.DataFrame], dict[str, tuple[float, float]]],
    draws: int = DRAWS,
    seed: int = 1234,
) -> dict[str, Combined | None]:
    """Each period's estimate over `draws` link configurations, combined. per_draw turns one
    draw's returns into (point estimate, returns listed) per period (NaN: no estimate)."""
    values: dict[str, list[tuple[float, float]]] = {}
    for linked in draw_links(chance, draws, seed):
        for period, v in per_draw(merged_returns(ev, ea[linked], eb[linked])).items():
            values.setdefault(period, []).append(v)
    return {period: combine(v) for period, v in values.items()}
