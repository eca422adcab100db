"""One estimate for one period, or the plain reason there is none.

Why refusals are first-class: a number printed from three returns, from lists that never
share a man, or from a model whose estimate runs off to infinity would be read as a fact
about men nobody has found. So every path that cannot honestly give a number gives a
sentence instead, and nothing else.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from linkage.estimate.imputation import Combined
from linkage.estimate.interval import bootstrap, profile_interval
from linkage.estimate.loglinear import check
from linkage.estimate.select import select
from linkage.estimate.table import CaptureTable

MIN_LISTS = 3
MIN_LISTED = 20
# an estimate more than this many times the number listed says the lists barely overlap
MAX_RATIO = 50

ASSUMPTIONS = (
    "The estimate assumes that: the men who came home in the period are one fixed group, each "
    "return counted once; records were linked correctly (a missed link counts one man twice and "
    "pushes the estimate up, a false link pushes it down); and the ways lists depend on each "
    "other, such as one organisation referring men to another or two lists working at the same "
    "border crossing, are caught by the pairs of lists the model lets interact, and work the same "
    "way for men on no list as for men on some. Men who could never be on any list, for example "
    "because no organisation works where and how they came home, are beyond what the lists can "
    "tell."
)
ASSUMPTIONS_KH = (
    "ការប៉ាន់ស្មាននេះសន្មតថា៖ អ្នកដែលត្រឡប់មកវិញក្នុងរយៈពេលនោះ អាចមានឈ្មោះក្នុងបញ្ជីនីមួយៗ "
    "ការត្រឡប់នីមួយៗរាប់តែម្តង កំណត់ត្រាត្រូវបានភ្ជាប់ត្រឹមត្រូវ "
    "ហើយការពឹងពាក់គ្នារវាងបញ្ជី (ដូចជាការបញ្ជូនពីអង្គការមួយទៅអង្គការមួយទៀត) "
    "មើលឃើញក្នុងចំណោមអ្នកដែលមានឈ្មោះក្នុងបញ្ជី។ "
    "បុរសដែលគ្មានបញ្ជីណាមួយអាចទៅដល់បាន មិនត្រូវបានរាប់បញ្ចូលទេ។"
)


@dataclass
class Estimate:
    """What `--json` prints for a period; `reason` is set, and the numbers None, when refused."""

    period: str
    listed: int
    estimate: float | None = None
    lower: float | None = None
    upper: float | None = None
    on_no_list: float | None = None
    lists: list[str] = field(default_factory=list)
    model: str | None = None
    method: str = "chan-silverman-vincent"
    interval: str | None = None
    profile: tuple[float, float] | None = None
    sampling: tuple[float, float] | None = None  # the interval before linkage error is allowed for
    linkage_range: tuple[float, float] | None = None
    reason: str | None = None
    uncorrected: float | None = None  # the estimate before the correction for missed links
    imputed: tuple[float, float] | None = None  # the corrected interval before the band's range
    correction: str | None = None  # what correction for linkage error was applied, in words

    def allow_for_linkage(self, low: float, high: float) -> None:
        """Widen the interval by how far linkage error moves the estimate.

        The two values are the estimates with the review band taken as links and as non-links,
        in either order. The sampling interval is stretched down by the drop to the
        low estimate and up by the rise to the high one: an approximation (a bootstrap of
        each linkage would be exact, and three times as slow), so both parts are kept.
        """
        assert self.estimate is not None and self.lower is not None and self.upper is not None
        low, high = min(low, high, self.estimate), max(low, high, self.estimate)
        self.linkage_range = (low, high)
        self.lower = max(self.lower - (self.estimate - low), float(self.listed))
        self.upper = self.upper + (high - self.estimate)

    def correct(self, combined: Combined, words: str) -> None:
        """Take the multiply imputed estimate (imputation.py): its mean, and the sampling
        interval moved to it and widened by the draws' spread (Rubin), kept as `imputed`.

        The interval shown is that one joined with the interval widened by the review band's
        range (allow_for_linkage, called first): the draws correct only the missed links the
        band holds a pair across (at 40k on the independent lists 190 of 430 split returns),
        so the rest of linkage's error still needs the range's allowance.
        """
        assert self.estimate is not None and self.sampling is not None
        assert self.lower is not None and self.upper is not None
        self.uncorrected = self.estimate
        lo, hi = combined.interval(self.estimate, *self.sampling)
        self.imputed = (max(lo, combined.listed), hi)
        self.estimate = combined.mean
        self.on_no_list = combined.mean - combined.listed
        self.lower, self.upper = min(self.lower, self.imputed[0]), max(self.upper, self.imputed[1])
        self.correction = words

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("estimate", "lower", "upper", "on_no_list", "uncorrected"):
            if out[key] is not None:
                out[key] = round(out[key], 1) if math.isfinite(out[key]) else None
        for key in ("profile", "sampling", "linkage_range", "imputed"):
            if out[key] is not None:
                out[key] = [round(v, 1) if math.isfinite(v) else None for v in out[key]]
        return out


def refusal(table: CaptureTable) -> str | None:
    """Why this table cannot give an estimate, in words; None when it can be tried."""
    usable = table.informative()
    if table.listed < MIN_LISTED:
        return f"only {table.listed} returns are listed; an estimate needs at least {MIN_LISTED}"
    if len(usable.lists) < MIN_LISTS:
        held = ", ".join(usable.lists) or "none"
        return (
            f"only {len(usable.lists)} list(s) hold some but not all of these returns ({held}); "
            f"an estimate needs at least {MIN_LISTS}, so that how lists depend on each other can be seen"
        )
    m = len(usable.lists)
    if all(usable.overlap(i, j) == 0 for i in range(m) for j in range(i + 1, m)):
        return (
            "no return is on two lists: without overlap the lists say nothing about how many men are on none"
        )
    exists, identifiable = check(usable, [])
    if not (exists and identifiable):
        return (
            "the estimate does not exist for this table (the linear-programming check of "
            "Fienberg and Rinaldo fails even for the model without interactions)"
        )
    return None


def point(table: CaptureTable, method: str) -> float:
    """The total for a table, or NaN when it has none (used inside the bootstrap too)."""
    if refusal(table) is not None:
        return float("nan")
    total = select(table.informative(), method).total
    return total if math.isfinite(total) and total < MAX_RATIO * table.listed else float("nan")


def estimate(
    table: CaptureTable,
    period: str = "all",
    method: str = "chan-silverman-vincent",
    resamples: int = 0,
    seed: int = 1234,
) -> Estimate:
    """Select a model, give the total, people on no list, and an interval (bootstrap if asked)."""
    out = Estimate(period=period, listed=table.listed, method=method)
    why = refusal(table)
    if why is not None:
        out.reason = why
        out.lists = list(table.informative().lists)
        return out
    usable = table.informative()
    model = select(usable, method)
    out.lists = list(usable.lists)
    if not math.isfinite(model.total) or model.total >= MAX_RATIO * table.listed:
        out.reason = (
            f"the chosen model ({model.describe()}) gives no finite estimate below "
            f"{MAX_RATIO} times the number listed: the lists overlap too little"
        )
        return out
    out.estimate, out.on_no_list, out.model = model.total, model.on_no_list, model.describe()
    out.profile = profile_interval(model)
    out.lower, out.upper = out.profile
    out.interval = "profile likelihood 95% (model taken as given)"
    if resamples > 0:
        boot = bootstrap(usable, lambda t: point(t, method), resamples, seed=seed)
        if np.isfinite(boot.lower) and np.isfinite(boot.upper):
            out.lower, out.upper = boot.lower, boot.upper
            out.interval = f"bootstrap BCa 95% over {resamples} resamples, model chosen again in each"
    out.sampling = (out.lower, out.upper)
    return out
