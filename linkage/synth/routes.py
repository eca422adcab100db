"""How a man came home, and how likely each list is to hold him because of it.

Why: lists are not independent views of the returns. A man repatriated by IOM with an
escort is on IOM's list and very likely the ministry's; a man deported and handed to
DoSVY at the border is likely on MoSVY's; a man who came home on his own reaches few
lists, and most such returns reach none. Drawing the lists from the route makes the lists
dependent the way real ones are, and makes returns that no list holds, which multiple
systems estimation exists to count; the truth records each return's route and lists.

`Routes.independent()` (the default of `generate`) keeps the old constant shares for every
route, so lists are written exactly as before; `Routes()` gives the dependent lists.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from linkage.synth.people import Population

# route -> (share of returns, chance IOM lists him, chance MoSVY lists him)
DEPENDENT = {
    "assisted": (0.50, 0.95, 0.85),  # repatriated by IOM, who hands his case to MoSVY
    "handed_over": (0.30, 0.25, 0.90),  # deported and received by MoSVY / DoSVY at the border
    "alone": (0.20, 0.05, 0.08),  # came home on his own
}
OLD_SHARES = {"iom": 0.75, "mosvy": 0.6}


@dataclass(frozen=True)
class Routes:
    """Route shares and per-route list coverage (NGO lists follow referrals, not routes)."""

    table: dict[str, tuple[float, float, float]] = field(default_factory=lambda: dict(DEPENDENT))

    @classmethod
    def independent(cls) -> Routes:
        """Every route covered at the old constant shares: lists as before, independent."""
        return cls(
            {r: (share, OLD_SHARES["iom"], OLD_SHARES["mosvy"]) for r, (share, _i, _m) in DEPENDENT.items()}
        )

    def coverage(self, route: str, source: str) -> float:
        _share, iom, mosvy = self.table[route]
        return {"iom": iom, "mosvy": mosvy}[source]

    def assign(self, pop: Population, seed: int) -> None:
        """Give every return a route, from its own random stream (the population is unchanged)."""
        rng = random.Random(seed + 3)
        names = list(self.table)
        weights = [self.table[r][0] for r in names]
        for p in pop.persons:
            for e in p.events:
                e.route = rng.choices(names, weights=weights)[0]
