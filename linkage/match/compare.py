"""Khmer-aware comparisons, written as recordlinkage compare features.

Why our own features: recordlinkage's string comparisons strip Khmer, treat two blanks as
agreeing and know nothing of name order. These are vectorised (numpy and rapidfuzz over
whole columns) and return discrete levels, -1 where either side is missing, which the
Fellegi-Sunter model weighs. Levels are ordered: higher means stronger agreement.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import recordlinkage as rl
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist
from recordlinkage.base import BaseCompareFeature

MISSING = -1

HOME_LEVELS = ["other province", "same province", "same district", "same commune"]
RETURN_LEVELS = ["other country", "same country, other date", "same return"]


def _context_labels() -> list[str]:
    home = ["home unknown", *("home: " + h for h in HOME_LEVELS)]
    ret = ["return unknown", *("return: " + r for r in RETURN_LEVELS)]
    return [f"{h}; {r}" for h in home for r in ret]


# model feature -> labels of its levels, lowest (disagree) first. Home and return are one
# joint feature ("context"): men of one village come home in one batch, so agreeing on
# both is far likelier for two different men than the product of the two chances.
LEVELS: dict[str, list[str]] = {
    "family_name": ["different", "similar", "close spelling", "same sound", "same spelling"],
    "given_name": ["different", "similar", "same consonants", "same sound", "same spelling"],
    "birth": ["over 5 years apart", "3-5 years apart", "1-2 years apart", "same year", "same date"],
    "context": _context_labels(),
    "phone": ["different", "same"],
    "id_document": ["different", "same"],
    "father": ["different", "similar", "same"],
    "lists": ["same list", "different lists"],
}
FEATURES = list(LEVELS)


def _s(series: pd.Series) -> np.ndarray:
    return series.fillna("").astype(str).to_numpy()


def _jw(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0:
        return np.zeros(0)
    return cpdist(list(a), list(b), scorer=JaroWinkler.normalized_similarity, workers=-1).astype(np.float64)


_VOWELS = str.maketrans("", "", "AEIOUY")


def _skeleton(keys: np.ndarray) -> np.ndarray:
    return np.array([k.translate(_VOWELS) for k in keys], dtype=object)


def _bands(sim: np.ndarray, cuts: tuple[float, ...]) -> np.ndarray:
    """Level from a similarity: exact (1.0) is the top level, then one level per cut."""
    level = np.zeros(len(sim), dtype=np.int8)
    for i, cut in enumerate(sorted(cuts), start=1):
        level[sim >= cut] = i
    level[sim >= 0.9999] = len(cuts) + 1
    return level


class NameFeature(BaseCompareFeature):
    """Family and given name in the orientation that agrees best (lists swap the order).

    Keys are phonetic (Sok/Sokh, Keo/Kaev, Sorn/Son fold together) and similarity is
    measured on keys; on top, the same spelling (or the same Khmer script) is its own,
    stronger level, because a key also folds some names that differ (Sarin, Saroeun).
    Returns the two levels and the orientation.
    """

    name = "name"

    def __init__(self) -> None:
        cols = ["fam_key", "giv_key", "fam_kh", "giv_kh", "fam_text", "giv_text"]
        super().__init__(cols, cols, label=["family_name", "given_name", "swapped"])

    def _compute_vectorized(self, fa, ga, fka, gka, fta, gta, fb, gb, fkb, gkb, ftb, gtb):  # type: ignore[override]
        fa, ga, fb, gb = _s(fa), _s(ga), _s(fb), _s(gb)
        fka, gka, fkb, gkb = _s(fka), _s(gka), _s(fkb), _s(gkb)
        fta, gta, ftb, gtb = _s(fta), _s(gta), _s(ftb), _s(gtb)
        ff, gg = _jw(fa, fb), _jw(ga, gb)
        fg, gf = _jw(fa, gb), _jw(ga, fb)
        swapped = (fg + gf) > (ff + gg) + 1e-9
        fam = np.where(swapped, fg, ff)
        giv = np.where(swapped, gf, gg)
        fam_level = _bands(fam, (0.7, 0.88))
        giv_level = _bands(giv, (0.8, 0.9))
        # Vowels are where romanisers differ most (Rotana/Ratana, Vesna/Vasna, Skun/Sokun):
        # the same consonants in the same order is close, whatever the similarity says.
        gb_or = np.where(swapped, fb, gb)
        same_consonants = (ga != "") & (_skeleton(ga) == _skeleton(gb_or))
        giv_level[same_consonants & (giv_level < 2)] = 2
        # Same spelling, or the same Khmer script (unambiguous about which part is which).
        fam_same = np.where(swapped, (fta != "") & (fta == gtb), (fta != "") & (fta == ftb))
        giv_same = np.where(swapped, (gta != "") & (gta == ftb), (gta != "") & (gta == gtb))
        fam_same |= ~swapped & (fka != "") & (fka == fkb)
        giv_same |= ~swapped & (gka != "") & (gka == gkb)
        fam_level[fam_same] = 4
        giv_level[giv_same] = 4
        fam_missing = (fa == "") | (fb == "") | np.where(swapped, gb == "", False)
        giv_missing = (ga == "") | (gb == "") | np.where(swapped, fb == "", False)
        fam_level[fam_missing] = MISSING
        giv_level[giv_missing] = MISSING
        return pd.DataFrame({"family_name": fam_level, "given_name": giv_level, "swapped": swapped})


class BirthFeature(BaseCompareFeature):
    """Birth date when both know the day, else birth year (stated or from age at return)."""

    name = "birth"

    def __init__(self) -> None:
        super().__init__(["birth_date", "birth_year"], ["birth_date", "birth_year"], label="birth")

    def _compute_vectorized(self, da, ya, db, yb):  # type: ignore[override]
        ya = pd.to_numeric(ya, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        yb = pd.to_numeric(yb, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        diff = np.abs(ya - yb)
        level = np.full(len(ya), 0, dtype=np.int8)
        level[diff <= 5] = 1
        level[diff <= 2] = 2
        level[diff == 0] = 3
        same_day = (pd.Series(da.to_numpy()) == pd.Series(db.to_numpy())).fillna(False).to_numpy(bool)
        level[same_day] = 4
        level[np.isnan(diff)] = MISSING
        return level


class HomeFeature(BaseCompareFeature):
    """Home place by gazetteer code: commune (or village), district, province."""

    name = "home"

    def __init__(self) -> None:
        cols = ["province", "district", "commune"]
        super().__init__(cols, cols, label="home")

    def _compute_vectorized(self, pa, da, ca, pb, db, cb):  # type: ignore[override]
        pa, da, ca, pb, db, cb = map(_s, (pa, da, ca, pb, db, cb))
        level = np.zeros(len(pa), dtype=np.int8)
        level[pa == pb] = 1
        level[(da != "") & (da == db)] = 2
        level[(ca != "") & (ca == cb)] = 3
        level[(pa == "") | (pb == "")] = MISSING
        return level


class ExactFeature(BaseCompareFeature):
    """Exact agreement where both sides have a value (blank is missing, not a value)."""

    def __init__(self, column: str, label: str) -> None:
        super().__init__(column, column, label=label)

    def _compute_vectorized(self, a, b):  # type: ignore[override]
        a, b = _s(a), _s(b)
        level = (a == b).astype(np.int8)
        level[(a == "") | (b == "")] = MISSING
        return level


class IdentifierFeature(BaseCompareFeature):
    """National ID with national ID, travel document with travel document."""

    name = "id_document"

    def __init__(self) -> None:
        cols = ["national_id", "travel_doc"]
        super().__init__(cols, cols, label="id_document")

    def _compute_vectorized(self, na, ta, nb, tb):  # type: ignore[override]
        na, ta, nb, tb = map(_s, (na, ta, nb, tb))
        n_known = (na != "") & (nb != "")
        t_known = (ta != "") & (tb != "")
        same = (n_known & (na == nb)) | (t_known & (ta == tb))
        level = same.astype(np.int8)
        level[~(n_known | t_known)] = MISSING
        return level


class FatherFeature(BaseCompareFeature):
    """Father's name (phonetic key): a strong tie between two lists of one family."""

    name = "father"

    def __init__(self) -> None:
        super().__init__("father_key", "father_key", label="father")

    def _compute_vectorized(self, a, b):  # type: ignore[override]
        a, b = _s(a), _s(b)
        level = _bands(_jw(a, b), (0.85,))
        level[(a == "") | (b == "")] = MISSING
        return level


class ReturnFeature(BaseCompareFeature):
    """The return: same date (a week's slack) and country; or only the country."""

    name = "return"

    def __init__(self, window_days: int = 7) -> None:
        cols = ["return_date", "country"]
        super().__init__(cols, cols, label="return")
        self.window_days = window_days

    def _compute_vectorized(self, ra, ca, rb, cb):  # type: ignore[override]
        ca, cb = _s(ca), _s(cb)
        days = np.abs((pd.Series(ra.to_numpy()) - pd.Series(rb.to_numpy())).dt.days.to_numpy(dtype="float64"))
        country_known = (ca != "") & (cb != "")
        level = np.where(country_known & (ca == cb), 1, 0).astype(np.int8)
        same_return = (days <= self.window_days) & ~(country_known & (ca != cb))
        level[same_return] = 2
        level[np.isnan(days) & ~country_known] = MISSING
        return level


class ListFeature(BaseCompareFeature):
    """Whether both records come from one list: one list rarely names a man twice."""

    name = "lists"

    def __init__(self) -> None:
        super().__init__("delivery", "delivery", label="lists")

    def _compute_vectorized(self, a, b):  # type: ignore[override]
        return (_s(a) != _s(b)).astype(np.int8)


def comparator() -> rl.Compare:
    """The recordlinkage Compare object with every feature of the model."""
    c = rl.Compare(n_jobs=1)
    c.add(NameFeature())
    c.add(BirthFeature())
    c.add(HomeFeature())
    c.add(ExactFeature("phone", "phone"))
    c.add(IdentifierFeature())
    c.add(FatherFeature())
    c.add(ReturnFeature())
    c.add(ListFeature())
    return c


def compare(frame: pd.DataFrame, left: np.ndarray, right: np.ndarray) -> pd.DataFrame:
    """Levels of every feature for the pairs (positions into frame)."""
    pairs = pd.MultiIndex.from_arrays([left, right], names=["left", "right"])
    if len(pairs) == 0:
        return pd.DataFrame(
            {
                **{f: pd.Series(dtype=np.int8) for f in [*FEATURES, "home", "return"]},
                "swapped": pd.Series(dtype=bool),
            },
            index=pairs,
        )
    out = comparator().compute(pairs, frame)
    out["context"] = (out["home"].astype(np.int64) + 1) * (len(RETURN_LEVELS) + 1) + out["return"] + 1
    for f in [*FEATURES, "home", "return"]:
        out[f] = out[f].astype(np.int8)
    out["swapped"] = out["swapped"].astype(bool)
    return out
