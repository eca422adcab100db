"""Whether two groups of records can be one man: every pair across them is judged.

Why: links are pairwise, persons are not. Two brothers each link to a third record that
gives no birth date and half a name (an NGO referral, say), and clustering chains them into
one "person" though no one compared the two brothers with each other. So before two groups
merge, each record of one is held against each record of the other on what is a man's
own and is given on both sides: a clearly different given name with births more than
max_birth_gap_years (the spec's cluster part: two, what two age-derived years of one man can
differ by) apart is two men, whatever linked them. So are births more than
max_birth_gap_any_name_years (five) apart whatever the names, on lists where EM learnt that
one man's births never are (a misread family name and one given name chain a father's or an
uncle's records to his), unless the two years differ as a typed year does (one digit wrong,
two swapped). An identity document both give says one man (typing errors do change a name
and a year at once; a phone does not count, a family shares one); a reviewer's "same"
overrides this, as it overrides every check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz.distance import JaroWinkler

from linkage.match.spec import ModelSpec, default_spec

WHY = "two clearly different given names, births over two years apart"
WHY_BIRTHS = "births too far apart for one man"


@dataclass
class Identity:
    """Per position: given and family name (key and letters) and birth year, or None."""

    given_key: list[str | None]
    family_key: list[str | None]
    given_text: list[str | None]
    family_text: list[str | None]
    birth_year: list[int | None]
    documents: list[frozenset[str]]
    # births further apart than this are not one man's; given names less alike than this,
    # by sound key and by letters, are clearly different (the spec's cluster part)
    max_birth_gap: int = 2
    different_below: float = 0.8
    max_gap_any_name: int | None = None  # None: births alone never decide

    @classmethod
    def of(cls, frame: pd.DataFrame, spec: ModelSpec | None = None, births_alone: bool = False) -> Identity:
        def texts(column: str) -> list[str | None]:  # in columns: pd.isna per value took seconds
            values = frame[column]
            return values.astype("string").astype(object).where(values.notna(), None).tolist()

        years = pd.to_numeric(frame["birth_year"], errors="coerce").astype("float64").to_numpy()
        documents = [
            frozenset(f"{kind}:{v}" for kind, v in zip(("N", "D"), values, strict=True) if v is not None)
            for values in zip(texts("national_id"), texts("travel_doc"), strict=True)
        ]
        return cls(
            texts("giv_key"),
            texts("fam_key"),
            texts("giv_text"),
            texts("fam_text"),
            [None if np.isnan(y) else int(y) for y in years],
            documents,
            (spec or default_spec()).cluster.max_birth_gap_years,
            (spec or default_spec()).cluster.different_given_below,
            (spec or default_spec()).cluster.max_birth_gap_any_name_years if births_alone else None,
        )

    def two_men(self, a: int, b: int) -> str | None:
        """Why records a and b clearly are two men (births far apart, or given name and
        birth both say so), or None."""
        ya, yb = self.birth_year[a], self.birth_year[b]
        if ya is None or yb is None or abs(ya - yb) <= self.max_birth_gap:
            return None
        if self.documents[a] & self.documents[b]:  # one ID: one man, mistyped
            return None
        far = self.max_gap_any_name is not None and abs(ya - yb) > self.max_gap_any_name
        if far and not _typed_alike(ya, yb):
            return WHY_BIRTHS
        return WHY if self._given_names_differ(a, b) else None

    def _given_names_differ(self, a: int, b: int) -> bool:
        if self.given_key[a] is None or self.given_key[b] is None:
            return False
        given_a = (self.given_key[a], self.given_text[a])
        if not _different(given_a, (self.given_key[b], self.given_text[b]), self.different_below):
            return False
        # a list may have swapped the order: b's family name may be his given name
        family_b = (self.family_key[b], self.family_text[b])
        return family_b[0] is None or _different(given_a, family_b, self.different_below)

    def apart(self, xs: list[int], ys: list[int], linked: tuple[int, int] | None = None) -> str | None:
        """Why a record of one group clearly is another man than one of the other (but for
        the pair `linked`, which the model has judged itself), or None."""
        skip = {linked, linked[::-1]} if linked else set()
        for x in xs:
            for y in ys:
                why = None if (x, y) in skip else self.two_men(x, y)
                if why:
                    return why
        return None


def _typed_alike(x: int, y: int) -> bool:
    """Two years one typing slip apart: one digit wrong (1987, 1997) or two next to each
    other swapped (1987, 1978)."""
    a, b = str(x), str(y)
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 1 or (
        len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    )


def _different(x: tuple[str | None, str | None], y: tuple[str | None, str | None], below: float) -> bool:
    """Two names (sound key, letters) clearly different: neither is alike enough."""
    for u, v in zip(x, y, strict=True):
        if u is not None and v is not None and JaroWinkler.normalized_similarity(u, v) >= below:
            return False
    return True
