"""Khmer-aware comparisons, written as recordlinkage compare features.

Why our own features: recordlinkage's string comparisons strip Khmer, treat two blanks as
agreeing and know nothing of name order. These are vectorised (numpy and rapidfuzz over
whole columns) and return discrete levels, -1 where either side is missing, which the
Fellegi-Sunter model weighs. Levels are ordered: higher means stronger agreement.
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd
import recordlinkage as rl
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist
from recordlinkage.base import BaseCompareFeature

from linkage.match.spec import ModelSpec, SpecError, default_spec

MISSING = -1

_SPEC = default_spec()
# The levels each feature's code below assigns (the spec names them): a spec whose level
# count differs from the code's would weigh pairs under wrong names.
_CODED_LEVELS = {
    "family_name": 5, "given_name": 7, "birth": 8, "context": 56,
    "phone": 3, "id_document": 2, "father": 3, "lists": 3, "village": 2,
}  # fmt: skip
if {f: len(v.levels) for f, v in _SPEC.features.items()} != _CODED_LEVELS:
    raise SpecError(f"model spec: features and their level counts must be {_CODED_LEVELS}")

# model feature -> labels of its levels, lowest (disagree) first. Home and return are one
# joint feature ("context"): men of one village come home in one batch, so agreeing on
# both is far likelier for two different men than the product of the two chances.
LEVELS: dict[str, list[str]] = {f: list(v.levels) for f, v in _SPEC.features.items()}
_GIVEN_SIMILAR = LEVELS["given_name"].index("similar")
# NameFeature's own scales. Family name, the spec's: different, similar, close spelling, same
# sound, same spelling. Given name, before house names split its "different" in two
# (_with_house_names): different, similar, close spelling, same consonants, same sound, same
# spelling (one level more: tried for family names too, EM gave it 0.7 bits, m at its floor)
FAM_SAME_SOUND, GIV_SAME_CONSONANTS, GIV_SAME_SOUND = 3, 3, 4
HOME_LEVELS = list(_SPEC.features["context"].parts["home"])
RETURN_LEVELS = list(_SPEC.features["context"].parts["return"])
FEATURES = list(LEVELS)


# The levels clustering reads (of_one_list, one_list_other_names).
CLUSTER_LEVELS = ("lists", "given_name", "id_document")


def of_one_list(levels: pd.DataFrame) -> np.ndarray:
    """Per compared pair: both rows come from one list (for one return or for two), which
    names one man twice only by a slip or for a second return (for cluster.cluster)."""
    return levels["lists"].to_numpy() <= LEVELS["lists"].index("same list")


def one_list_one_return(levels: pd.DataFrame) -> np.ndarray:
    """Per compared pair: both rows come from one list for one return (one_list_other_names)."""
    return levels["lists"].to_numpy() == LEVELS["lists"].index("same list, same return")


def one_list_other_names(levels: pd.DataFrame) -> np.ndarray:
    """Per compared pair: two rows of one list for one return whose given names do not sound
    alike and whose documents do not agree. A list that names one man twice for one return
    copies him (his name as written, or one slip of it); two given names that differ there
    are two men of one batch: brothers, twins, a namesake's son (on lists made apart from
    ours, 1,895 such pairs of one family name at 40k records were two men, 19 one man)."""
    alike = LEVELS["given_name"].index("same sound")
    given = levels["given_name"].to_numpy()
    one_id = levels["id_document"].to_numpy() == LEVELS["id_document"].index("same")
    return one_list_one_return(levels) & (given >= 0) & (given < alike) & ~one_id


def _s(values: pd.Series | np.ndarray) -> np.ndarray:
    """Strings with '' for missing, or integer codes with -1 for missing (numpy views from
    compare() already are one or the other)."""
    if isinstance(values, np.ndarray) and (values.dtype == object or values.dtype.kind == "i"):
        return values
    return pd.Series(values).fillna("").astype(str).to_numpy()


def _known(values: np.ndarray) -> np.ndarray:
    """Where a value is given: a non-empty string, or a code (missing is -1)."""
    return values >= 0 if values.dtype.kind == "i" else values != ""


def _num(values: pd.Series | np.ndarray) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        return values
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _dates(values: pd.Series | np.ndarray) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        return values
    return pd.to_datetime(pd.Series(values), errors="coerce").to_numpy(dtype="datetime64[ns]")


def _jw(
    a: np.ndarray, b: np.ndarray, ca: np.ndarray | None = None, cb: np.ndarray | None = None
) -> np.ndarray:
    """Jaro-Winkler of each pair; with codes of the strings, once per distinct pair.

    Names repeat (a million records hold a few thousand keys), so scoring distinct code
    pairs and spreading the result back is much cheaper than scoring every pair.
    """
    if len(a) == 0:
        return np.zeros(0)
    if ca is None or cb is None:
        return cpdist(list(a), list(b), scorer=JaroWinkler.normalized_similarity, workers=-1).astype(
            np.float64
        )
    base = int(max(np.nanmax(ca, initial=0), np.nanmax(cb, initial=0))) + 2
    pair = (np.nan_to_num(ca, nan=-1.0).astype(np.int64) + 1) + (
        np.nan_to_num(cb, nan=-1.0).astype(np.int64) + 1
    ) * base
    # distinct pairs by sorting (np.unique hashes wide int64 ranges, far slower)
    order = np.argsort(pair, kind="stable")
    ordered = pair[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    inverse = np.empty(len(pair), dtype=np.int64)
    inverse[order] = np.cumsum(starts) - 1
    first = order[starts]
    scores = cpdist(list(a[first]), list(b[first]), scorer=JaroWinkler.normalized_similarity, workers=-1)
    return scores.astype(np.float64)[inverse]


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

    COLUMNS = [
        "fam_key",
        "giv_key",
        "fam_kh",
        "giv_kh",
        "fam_text",
        "giv_text",
        "fam_skel",
        "giv_skel",
        "fam_consonants",
        "giv_consonants",
        "fam_letters",
        "giv_letters",
        "fam_parts",
        "giv_parts",
    ]
    CODES = ["fam_code", "giv_code", "fam_one_syllable", "giv_one_syllable"]

    def __init__(self, spec: ModelSpec | None = None) -> None:
        cols = self.COLUMNS + self.CODES
        super().__init__(cols, cols, label=["family_name", "given_name", "swapped"])
        spec = spec or _SPEC
        self.fam_cuts = (spec.cut("family_name", "similar"), spec.cut("family_name", "close spelling"))
        self.giv_cuts = (spec.cut("given_name", "similar"), spec.cut("given_name", "close spelling"))

    def _compute_vectorized(self, *args):  # type: ignore[override]
        half = len(args) // 2
        a, b = args[:half], args[half:]
        fa, ga, fka, gka, fta, gta, fsa, gsa, fva, gva, fla, gla, fpa, gpa = (_s(x) for x in a[:14])
        fb, gb, fkb, gkb, ftb, gtb, fsb, gsb, fvb, gvb, flb, glb, fpb, gpb = (_s(x) for x in b[:14])
        fca, gca, f1a, g1a = (_num(x) for x in a[14:])
        fcb, gcb, f1b, g1b = (_num(x) for x in b[14:])
        ff, gg = _jw(fa, fb, fca, fcb), _jw(ga, gb, gca, gcb)
        fg, gf = _jw(fa, gb, fca, gcb), _jw(ga, fb, gca, fcb)
        swapped = self._swapped(ff, gg, fg, gf)
        fam = np.where(swapped, fg, ff)
        giv = np.where(swapped, gf, gg)
        fam_level = _bands(fam, self.fam_cuts)
        giv_level = _bands(giv, self.giv_cuts)
        # _bands gives one key the level above its cuts; for given names that is "same
        # sound", with "same consonants" between it and the cuts
        giv_level[giv_level == len(self.giv_cuts) + 1] = GIV_SAME_SOUND
        # Vowels are where romanisers differ most (Rotana/Ratana, Vesna/Vasna, Skun/Sokun):
        # the same consonants in the same order is close, whatever the similarity says; with
        # each word's last vowel alike too it is how romanisers write one name (Sovann/Sovon,
        # Vireak/Virek), where a last vowel that differs is often another name (Bora, Borey)
        same_skeleton = (gsa != "") & (gsa == np.where(swapped, fsb, gsb))
        giv_level[same_skeleton & (giv_level < 2)] = 2
        same_consonants = (gva != "") & (gva == np.where(swapped, fvb, gvb))
        giv_level[same_consonants & (giv_level < GIV_SAME_CONSONANTS)] = GIV_SAME_CONSONANTS
        # A surname typed without its vowel (Skh, Prk, Bnn) has a key with no vowel: every
        # Khmer surname has one, so compare consonants (Sok, Prak, Bun) rather than letters.
        fb_o, fsb_o = np.where(swapped, gb, fb), np.where(swapped, gsb, fsb)
        vowelless = ((fa == fsa) | (fb_o == fsb_o)) & (fsa != "") & (fsa == fsb_o)
        fam_level[vowelless & (fam_level < 2)] = 2
        fam_lb, giv_lb = np.where(swapped, glb, flb), np.where(swapped, flb, glb)
        self._by_letters(fam_level, giv_level, (fla, fam_lb), (gla, giv_lb))
        # One of his two given names alone (Sokha for Sokha Sophal) is his name, as a
        # spelling of the same sound is: brothers do not share a whole given name.
        gb_o, gpb_o = np.where(swapped, fb, gb), np.where(swapped, fpb, gpb)
        _one_of_two(giv_level, ga, gb_o, gpa, gpb_o)
        # Same spelling, or the same Khmer script (unambiguous about which part is which).
        fam_same = _known(fta) & np.where(swapped, fta == gtb, fta == ftb)
        giv_same = _known(gta) & np.where(swapped, gta == ftb, gta == gtb)
        fam_same |= ~swapped & _known(fka) & (fka == fkb)
        giv_same |= ~swapped & _known(gka) & (gka == gkb)
        fam_level[fam_same] = FAM_SAME_SOUND + 1
        giv_level[giv_same] = GIV_SAME_SOUND + 1
        fam_missing = (fa == "") | (fb == "") | np.where(swapped, gb == "", False)
        giv_missing = (ga == "") | (gb == "") | np.where(swapped, fb == "", False)
        giv_level = _with_house_names(giv_level, g1a == 1, np.where(swapped, f1b, g1b) == 1)
        fam_level[fam_missing] = MISSING
        giv_level[giv_missing] = MISSING
        return pd.DataFrame({"family_name": fam_level, "given_name": giv_level, "swapped": swapped})

    def _swapped(self, ff: np.ndarray, gg: np.ndarray, fg: np.ndarray, gf: np.ndarray) -> np.ndarray:
        """Whether the pair agrees better with one list's names in the other order.

        Why by levels first: similarities of unlike names are noise, and a short name adds
        more of it (MAS SA against MAS PESAL: MAS-SA and PESAL-MAS sum to more than MAS-MAS
        and PESAL-SA, which share no letter). So the order whose names reach the higher
        levels wins; only where the levels tie do the similarities decide.
        """
        kept = _bands(ff, self.fam_cuts).astype(np.int16) + _bands(gg, self.giv_cuts)
        other = _bands(fg, self.fam_cuts).astype(np.int16) + _bands(gf, self.giv_cuts)
        return (other > kept) | ((other == kept) & ((fg + gf) > (ff + gg) + 1e-9))

    def _by_letters(
        self,
        fam_level: np.ndarray,
        giv_level: np.ndarray,
        fam: tuple[np.ndarray, np.ndarray],
        giv: tuple[np.ndarray, np.ndarray],
    ) -> None:
        """Levels raised where the letters say more than the phonetic keys (in place)."""
        # A typing slip (THACH typed THCAH, SOVANN typed SOANN) can move a phonetic key far
        # (TAK, TCA) while the letters stay close: a name is as close as its letters are.
        for level, (ta, tb), cuts in ((fam_level, fam, self.fam_cuts), (giv_level, giv, self.giv_cuts)):
            low = np.flatnonzero((level < 2) & (ta != "") & (tb != ""))
            if len(low):
                by_letters = np.minimum(_bands(_jw(ta[low], tb[low]), cuts), 2)
                level[low] = np.maximum(level[low], by_letters)
        # A typing slip (KEO typed KOE, VANNA typed VSNNA, DARA typed DARQ) leaves the
        # same name: a slip on a keyboard is no other name, however far it moves the key.
        tops = ((fam_level, fam, FAM_SAME_SOUND), (giv_level, giv, GIV_SAME_SOUND))
        for level, (ta, tb), same_sound in tops:
            low = np.flatnonzero((level < same_sound) & (ta != "") & (tb != ""))
            if len(low):
                level[low[_typing_slips(ta[low], tb[low])]] = same_sound


def _with_house_names(giv_level: np.ndarray, short_a: np.ndarray, short_b: np.ndarray) -> np.ndarray:
    """Given levels on the spec's scale, from the scale the code above builds (different,
    similar, close spelling, same consonants, same sound, same spelling): one level more above
    "different", and "different" split in two where one of the names is of one syllable.

    Why: a man is often known by his house name (Pov, the youngest; Touch, small; Khmao,
    dark) and a list may write it for his given name. Those are one syllable, and most
    formal given names are two or more, so a one-syllable name against another given
    name is weaker evidence of two men than two formal names that differ; EM learns how
    much weaker from the lists themselves.
    """
    out = giv_level + (giv_level >= 1)
    out[(giv_level == 0) & (short_a != short_b)] = 1
    return out


def _one_of_two(
    giv_level: np.ndarray, ga: np.ndarray, gb: np.ndarray, pa: np.ndarray, pb: np.ndarray
) -> None:
    """Given levels raised to the same sound where one side's whole given-name key is one
    word of the other's two ("|A|B|" part keys), in place."""
    low = np.flatnonzero((giv_level < GIV_SAME_SOUND) & ((pa != "") | (pb != "")))
    if len(low):
        one = [
            (kb != "" and f"|{kb}|" in qa) or (ka != "" and f"|{ka}|" in qb)
            for ka, kb, qa, qb in zip(ga[low], gb[low], pa[low], pb[low], strict=True)
        ]
        giv_level[low[np.asarray(one, dtype=bool)]] = GIV_SAME_SOUND


_KEYBOARD = ("QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM")


def _keyboard_neighbours() -> dict[str, set[str]]:
    """Letters one key apart on a QWERTY keyboard: the same row, and the rows above and below."""
    near: dict[str, set[str]] = {}
    for r, row in enumerate(_KEYBOARD):
        for c, ch in enumerate(row):
            rows = [_KEYBOARD[k] for k in (r - 1, r + 1) if 0 <= k < len(_KEYBOARD)]
            near[ch] = {row[j] for j in (c - 1, c + 1) if 0 <= j < len(row)}
            near[ch] |= {other[j] for other in rows for j in (c - 1, c, c + 1) if 0 <= j < len(other)}
    return near


_NEIGHBOURS = _keyboard_neighbours()


def _typing_slip(a: str, b: str) -> bool:
    """Whether one name is the other typed with one slip: a key beside the right one, two neighbouring
    letters swapped, or a key beside its neighbour pressed too. Names under three letters
    are too short to tell a slip from another name."""
    if a == b or min(len(a), len(b)) < 3:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return b[diff[0]] in _NEIGHBOURS.get(a[diff[0]], ())
        i = diff[0]
        return len(diff) == 2 and diff[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    if len(long_) - len(short) != 1:
        return False
    i = next((k for k, (x, y) in enumerate(zip(short, long_, strict=False)) if x != y), len(short))
    if short[i:] != long_[i + 1 :]:
        return False
    extra, near = long_[i], _NEIGHBOURS.get(long_[i], set())
    return any(0 <= j < len(long_) and long_[j] in near | {extra} for j in (i - 1, i + 1))


def _typing_slips(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """_typing_slip per pair, once per distinct pair of spellings."""
    seen: dict[tuple[str, str], bool] = {}
    out = np.zeros(len(a), dtype=bool)
    for k, pair in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        hit = seen.get(pair)
        if hit is None:
            hit = seen[pair] = _typing_slip(*pair)
        out[k] = hit
    return out


class BirthFeature(BaseCompareFeature):
    """Birth date when both know the day, else birth year (stated or from age at return).

    Two dates known to the day that differ are told apart by how: one man's two dates
    differ by a typing slip (one digit, two digits swapped, day and month swapped, the
    year alone), two men's dates differ anyhow. So a slip is its own level, whatever the
    years say (1985 typed 1995 is one digit), and dates within two years that differ
    otherwise are another, which namesakes of one age fall in. A year from an age is a
    guess to a year either way; a stated date is not. Years a year apart are their own
    level, apart from two years: an age makes the first for one man all the time, while
    brothers are seldom born a year apart.
    """

    name = "birth"

    def __init__(self, spec: ModelSpec | None = None) -> None:
        super().__init__(["birth_date", "birth_year"], ["birth_date", "birth_year"], label="birth")
        spec = spec or _SPEC
        self.near, self.far = spec.cut("birth", "near_years"), spec.cut("birth", "far_years")

    def _compute_vectorized(self, da, ya, db, yb):  # type: ignore[override]
        ya, yb = _num(ya), _num(yb)
        diff = np.abs(ya - yb)
        level = np.full(len(ya), 0, dtype=np.int8)
        level[diff <= self.far] = 1
        level[diff <= self.near] = 4
        level[diff == 1] = 5
        level[diff == 0] = 6
        da, db = _dates(da), _dates(db)
        both_days = ~np.isnat(da) & ~np.isnat(db)
        level[both_days & (diff <= self.near)] = 2
        if both_days.any():
            at = np.flatnonzero(both_days)
            level[at[_slips(da[at], db[at])]] = 3
        level[both_days & (da == db)] = 7
        level[np.isnan(diff)] = MISSING
        return level


def _slips(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each pair of different dates is one date mistyped: one digit of YYYYMMDD
    changed, two neighbouring digits swapped, the day and month swapped, or the year alone
    other."""
    da, db = _digits(a), _digits(b)
    differ = da != db
    one_digit = differ.sum(axis=1) == 1
    j = np.argmax(differ, axis=1).clip(max=6)
    rows = np.arange(len(da))
    neighbours = (
        (differ.sum(axis=1) == 2)
        & differ[rows, j + 1]
        & (da[rows, j] == db[rows, j + 1])
        & (da[rows, j + 1] == db[rows, j])
    )
    month_day = (
        (da[:, :4] == db[:, :4]).all(axis=1)
        & (da[:, 4:6] == db[:, 6:8]).all(axis=1)
        & (da[:, 6:8] == db[:, 4:6]).all(axis=1)
    )
    year_alone = (da[:, 4:] == db[:, 4:]).all(axis=1)
    return (one_digit | neighbours | month_day | year_alone) & differ.any(axis=1)


def _digits(dates: np.ndarray) -> np.ndarray:
    """The eight digits of each date as written YYYYMMDD (one row per date)."""
    days = dates.astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    number = year * 10_000 + month * 100 + day
    return (number[:, None] // 10 ** np.arange(7, -1, -1)) % 10


class HomeFeature(BaseCompareFeature):
    """Home place by gazetteer code: commune (or village), district, province.

    Same district with both communes known and different is its own, weaker level: men of
    one name in one district are common, in one commune far less so, and a stated other
    commune is evidence against, where a missing one is not. Likewise a blank district is
    unknown, not another district: the same province with a district unknown on one side
    is its own level, above "same province" (where both districts are given and differ).
    A province made from part of another (Tboung Khmum from Kampong Cham) is the same
    province as the old one here: lists still give the old one. A case file's address is
    where he lives now: where it agrees with a home it counts, where it lies in another
    district it is its own level, "lives elsewhere now" (a man who moved, or another man:
    how often each is learnt, not assumed). A province alone that is the one his point
    of entry lies in says nothing (a reception desk writes where he crossed: Poipet's).
    """

    name = "home"

    def __init__(self) -> None:
        cols = ["province", "province_then", "district", "commune", "address_now", "home_at_entry"]
        super().__init__(cols, cols, label="home")

    def _compute_vectorized(self, pa, ta, da, ca, na, ea, pb, tb, db, cb, nb, eb):  # type: ignore[override]
        pa, ta, da, ca, pb, tb, db, cb = map(_s, (pa, ta, da, ca, pb, tb, db, cb))
        level = np.ones(len(pa), dtype=np.int8)
        one_province = (pa == pb) | (_known(ta) & (ta == tb))
        level[one_province] = 2
        level[one_province & ~(_known(da) & _known(db))] = 3
        same_district = _known(da) & (da == db)
        level[same_district] = 5
        level[same_district & _known(ca) & _known(cb) & (ca != cb)] = 4
        level[_known(ca) & (ca == cb)] = 6
        level[~(_known(pa) & _known(pb))] = MISSING
        # the entry point's province for a home says nothing; a current address in another
        # district than his home is its own level
        vague = (level >= 1) & (level <= 3)
        level[vague & ((_num(na) > 0) | (_num(nb) > 0)) & (level <= 2)] = 0
        level[vague & ((_num(ea) > 0) | (_num(eb) > 0))] = MISSING
        return level


class VillageFeature(BaseCompareFeature):
    """The village, between two records of one commune that both give it.

    Why apart from home: a commune holds a dozen villages, and namesakes of one commune
    and age are most often of two villages, where one man's lists give one village. Known
    only where both village codes name the same commune (the code's first six digits), so
    the weight is "same village" against "another village of his commune" and adds to what
    the commune already said; a current address that differs says nothing (he moved).
    """

    name = "village"

    def __init__(self) -> None:
        cols = ["village", "village_commune", "address_now"]
        super().__init__(cols, cols, label="village")

    def _compute_vectorized(self, va, ca, na, vb, cb, nb):  # type: ignore[override]
        va, ca, vb, cb = map(_s, (va, ca, vb, cb))
        level = (va == vb).astype(np.int8)
        one_commune = _known(va) & _known(vb) & (ca == cb)
        moved = (_num(na) > 0) | (_num(nb) > 0)
        level[~one_commune | (moved & (level == 0))] = MISSING
        return level


def village_chance(frame: pd.DataFrame) -> np.ndarray:
    """u of the village feature: how often two records of one commune (both giving the
    village) name one village. Random pairs rarely share a commune (a few hundred of
    300,000), so this counts it over every such pair of the records instead."""
    given = frame["village"].notna()
    by_commune = frame.loc[given, "village_commune"].value_counts().to_numpy(np.float64)
    by_village = frame.loc[given, "village"].value_counts().to_numpy(np.float64)
    pairs = (by_commune * (by_commune - 1)).sum()
    same = (by_village * (by_village - 1)).sum()
    share = same / pairs if pairs > 0 else 0.5
    share = min(max(share, 1e-3), 1 - 1e-3)
    return np.array([1 - share, share])


class PhoneFeature(BaseCompareFeature):
    """One number in common: a cell may give his own and a relative's, and the other list
    only one of them. A number one slip of the fingers from the other's (a digit another,
    two neighbours swapped) is its own level: a clerk typing ten digits slips now and then,
    while two men's numbers (even two of one family) almost never sit one slip apart."""

    name = "phone"

    def __init__(self) -> None:
        cols = ["phone", "phone_alt", "phone_number", "phone_alt_number"]
        super().__init__(cols, cols, label="phone")

    def _compute_vectorized(self, pa, qa, na, ma, pb, qb, nb, mb):  # type: ignore[override]
        pa, qa, pb, qb = map(_s, (pa, qa, pb, qb))
        same = pa == pb
        for x, y in ((pa, qb), (qa, pb), (qa, qb)):
            same |= _known(x) & _known(y) & (x == y)
        level = np.where(same, 2, 0).astype(np.int8)
        rest = np.flatnonzero(~same & _known(pa) & _known(pb))
        if len(rest):
            na, ma, nb, mb = (_num(v)[rest] for v in (na, ma, nb, mb))
            slip = np.zeros(len(rest), dtype=bool)
            for x, y in ((na, nb), (na, mb), (ma, nb), (ma, mb)):
                slip |= _number_slips(x, y)
            level[rest[slip]] = 1
        level[~(_known(pa) & _known(pb))] = MISSING
        return level


_NUMBER_DIGITS = 12  # +855 and 8 or 9 digits: 11 or 12, read without the plus


def _number_slips(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each pair of numbers (NaN: none) of one length differs by one digit, or by
    two neighbouring digits swapped.

    Why the difference first: one digit changed moves a number by d * 10^k (d 1-9), two
    neighbours swapped by 9 * d * 10^k, so only pairs whose difference is such are looked
    at digit by digit (a few of the millions of pairs with two numbers that differ)."""
    known = ~np.isnan(a) & ~np.isnan(b)
    out = np.zeros(len(a), dtype=bool)
    at = np.flatnonzero(known & (a != b))
    x, y = a[at].astype(np.int64), b[at].astype(np.int64)
    step = np.abs(x - y)
    for _ in range(_NUMBER_DIGITS):
        tens = step % 10 == 0
        if not tens.any():
            break
        step[tens] //= 10
    maybe = (step <= 9) | ((step % 9 == 0) & (step <= 81))
    at, x, y = at[maybe], x[maybe], y[maybe]
    if not len(at):
        return out
    powers = 10 ** np.arange(_NUMBER_DIGITS - 1, -1, -1, dtype=np.int64)
    dx, dy = (x[:, None] // powers) % 10, (y[:, None] // powers) % 10
    same_length = (x >= 10**10) == (y >= 10**10)  # 11 or 12 digits
    differ = dx != dy
    count = differ.sum(axis=1)
    j = np.argmax(differ, axis=1).clip(max=_NUMBER_DIGITS - 2)
    rows = np.arange(len(at))
    crossed = (dx[rows, j] == dy[rows, j + 1]) & (dx[rows, j + 1] == dy[rows, j])
    swapped = (count == 2) & differ[rows, j + 1] & crossed
    out[at] = same_length & ((count == 1) | swapped)
    return out


class IdentifierFeature(BaseCompareFeature):
    """National ID with national ID, travel document with travel document."""

    name = "id_document"

    def __init__(self) -> None:
        cols = ["national_id", "travel_doc"]
        super().__init__(cols, cols, label="id_document")

    def _compute_vectorized(self, na, ta, nb, tb):  # type: ignore[override]
        na, ta, nb, tb = map(_s, (na, ta, nb, tb))
        n_known = _known(na) & _known(nb)
        t_known = _known(ta) & _known(tb)
        same = (n_known & (na == nb)) | (t_known & (ta == tb))
        level = same.astype(np.int8)
        level[~(n_known | t_known)] = MISSING
        return level


class FatherFeature(BaseCompareFeature):
    """Father's name (phonetic key): a strong tie between two lists of one family."""

    name = "father"

    def __init__(self, spec: ModelSpec | None = None) -> None:
        super().__init__("father_key", "father_key", label="father")
        self.similar = (spec or _SPEC).cut("father", "similar")

    def _compute_vectorized(self, a, b):  # type: ignore[override]
        a, b = _s(a), _s(b)
        level = _bands(_jw(a, b), (self.similar,))
        level[(a == "") | (b == "")] = MISSING
        return level


class ReturnFeature(BaseCompareFeature):
    """The return: same date (a week's slack) or within a month, and country; an NGO's intake
    soon after the other record's return; else how far apart the two returns are.

    Why the intake: an NGO takes a man into case management weeks after he came home, so
    an intake list says nothing of the return itself but dates it. Two namesakes of one
    district rarely both came home in the months before one intake; an intake long after,
    or before, a return says nothing (he may have come home twice), so it is no evidence.
    Why months apart is its own level: one man comes home twice only when trafficked again,
    which takes longer than the months that often part two namesakes' returns. Why within a
    month: a province registers a man days after the border did, sometimes over a week.
    """

    name = "return"

    def __init__(self, spec: ModelSpec | None = None) -> None:
        cols = ["return_date", "country", "intake_date"]
        super().__init__(cols, cols, label="return")
        spec = spec or _SPEC
        self.window_days = spec.cut("context", "same_return_days")
        self.month_days = spec.cut("context", "same_month_days")
        self.year_days = spec.cut("context", "same_year_days")
        self.intake_days = spec.cut("context", "intake_days")

    def _compute_vectorized(self, ra, ca, ia, rb, cb, ib):  # type: ignore[override]
        ca, cb = _s(ca), _s(cb)
        ra, rb, ia, ib = _dates(ra), _dates(rb), _dates(ia), _dates(ib)
        day = np.timedelta64(1, "D")
        days = np.abs((ra - rb) / day)
        country_known = _known(ca) & _known(cb)
        other_country = country_known & (ca != cb)
        level = np.full(len(ca), MISSING, dtype=np.int8)
        level[days > self.year_days] = 1
        level[days <= self.year_days] = 2
        soon = _within((ia - rb) / day, self.intake_days) | _within((ib - ra) / day, self.intake_days)
        level[soon] = 3
        level[days <= self.month_days] = 4
        level[days <= self.window_days] = 5
        level[other_country] = 0
        return level


def _within(gap_days: np.ndarray, limit: int) -> np.ndarray:
    """Where a gap is known and 0 to limit days (an unknown gap is NaN: never within)."""
    return (gap_days >= 0) & (gap_days <= limit)


class ListFeature(BaseCompareFeature):
    """Whether both records come from one list, and if so whether for one return.

    One list rarely names a man twice, and hardly ever twice for one return: two such rows
    are most often namesakes who came home together (the trap of a return batch). A man
    named twice for two returns (re-trafficked) is the kind of repeat a list does hold.
    """

    name = "lists"

    def __init__(self, spec: ModelSpec | None = None) -> None:
        cols = ["delivery", "return_date", "intake_date"]
        super().__init__(cols, cols, label="lists")
        self.window_days = (spec or _SPEC).cut("lists", "together_days")

    def _compute_vectorized(self, da, ra, ia, db, rb, ib):  # type: ignore[override]
        level = np.where(_s(da) != _s(db), 2, 1).astype(np.int8)
        day = np.timedelta64(1, "D")
        when_a, when_b = _dates(ra), _dates(rb)
        when_a = np.where(np.isnat(when_a), _dates(ia), when_a)  # an intake list's date
        when_b = np.where(np.isnat(when_b), _dates(ib), when_b)
        together = np.abs((when_a - when_b) / day) <= self.window_days  # NaN (unknown) is False
        level[(level == 1) & together] = 0
        return level


def comparator(spec: ModelSpec | None = None) -> rl.Compare:
    """The recordlinkage Compare object with every feature of the model, cut as the spec says."""
    c = rl.Compare(n_jobs=1)
    c.add(NameFeature(spec))
    c.add(BirthFeature(spec))
    c.add(HomeFeature())
    c.add(PhoneFeature())
    c.add(IdentifierFeature())
    c.add(FatherFeature(spec))
    c.add(ReturnFeature(spec))
    c.add(ListFeature(spec))
    c.add(VillageFeature())
    return c


# Text columns compared only for equality (groups: compared with each other), as codes.
_CODED = (
    ("fam_text", "giv_text"),
    ("fam_kh", "giv_kh"),
    ("province", "province_then"),
    ("district",),
    ("commune",),
    ("village",),
    ("village_commune",),
    ("phone", "phone_alt"),
    ("national_id",),
    ("travel_doc",),
    ("country",),
    ("delivery",),
)

# Pairs compared at once: the per-pair strings of a chunk are freed before the next.
CHUNK = 1_000_000
# Numpy views of frames being compared, until the frame itself goes away.
_VIEWS: dict[int, tuple[weakref.ref, int, dict[str, np.ndarray]]] = {}


def _view(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each frame column once as a numpy array: '' for missing text, NaN, NaT."""
    cached = _VIEWS.get(id(frame))
    if cached is not None and cached[0]() is frame and cached[1] == len(frame):
        return cached[2]
    view: dict[str, np.ndarray] = {}
    coded = {c for group in _CODED for c in group}
    for col in frame.columns:
        if col in coded:
            continue
        series = frame[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            view[col] = series.to_numpy(dtype="datetime64[ns]")
        elif pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            view[col] = series.to_numpy(dtype="float64", na_value=np.nan)
        else:
            view[col] = series.astype("string").fillna("").to_numpy(dtype=object)
    # Columns only ever tested for equality become integer codes (-1 missing): comparing
    # and indexing integers is several times cheaper than Python strings. Columns compared
    # with each other share one code table.
    for group in _CODED:
        values = pd.concat([frame[c].astype("string").fillna("") for c in group], ignore_index=True)
        codes, _ = pd.factorize(values.mask(values == ""), use_na_sentinel=True)
        for i, c in enumerate(group):
            view[c] = codes[i * len(frame) : (i + 1) * len(frame)].astype(np.int64)
    # One code per distinct name key, shared by family and given names, for _jw.
    codes, _uniques = pd.factorize(pd.concat([frame["fam_key"], frame["giv_key"]], ignore_index=True))
    view["fam_code"] = codes[: len(frame)].astype("float64")
    view["giv_code"] = codes[len(frame) :].astype("float64")
    key = id(frame)
    _VIEWS[key] = (weakref.ref(frame, lambda _r: _VIEWS.pop(key, None)), len(frame), view)
    return view


def forget_views(frame: pd.DataFrame) -> None:
    """Drop the numpy views of a frame that will not be compared again (a few hundred MB at
    a million records, held otherwise until the frame itself goes)."""
    _VIEWS.pop(id(frame), None)


def _empty_levels(pairs: pd.Index) -> pd.DataFrame:
    return pd.DataFrame(
        {
            **{f: pd.Series(dtype=np.int8) for f in [*FEATURES, "home", "return"]},
            "swapped": pd.Series(dtype=bool),
        },
        index=pairs,
    )


def _return_unknown(out: pd.DataFrame, spec: ModelSpec) -> np.ndarray:
    """Per pair: whether the context's return part says nothing of one man here. Two rows
    of one list for one return share it because the list was made that way (a batch's
    rows): counted, namesakes of one batch read as one man (at 176,940 records, 17% of such
    pairs linked were two men, against 2% of pairs across lists)."""
    unknown = np.zeros(len(out), dtype=bool)
    for other, names in spec.features["context"].return_unknown_when.items():
        at = [LEVELS[other].index(name) for name in names]
        unknown |= np.isin(out[other].to_numpy(), at)
    return unknown


def _finish(out: pd.DataFrame, spec: ModelSpec | None = None) -> pd.DataFrame:
    ret = np.where(_return_unknown(out, spec or _SPEC), MISSING, out["return"].to_numpy(np.int64))
    out["context"] = (out["home"].astype(np.int64) + 1) * (len(RETURN_LEVELS) + 1) + ret + 1
    # One father and two given names are brothers, not one man: a shared father counts only
    # when the given names agree at least closely (else it is left out, neither for nor against).
    brothers = (out["given_name"].to_numpy() <= _GIVEN_SIMILAR) & (out["given_name"].to_numpy() != MISSING)
    out.loc[brothers & (out["father"].to_numpy() > 0), "father"] = MISSING
    for f in [*FEATURES, "home", "return"]:
        out[f] = out[f].astype(np.int8)
    out["swapped"] = out["swapped"].astype(bool)
    return out


def left_index(left: np.ndarray) -> pd.Index:
    """The index of a table of pair levels: each pair's left position (the caller holds
    both sides as arrays). Why not a (left, right) MultiIndex: at twenty million pairs it
    held 190 MB of codes and levels, and building it peaked 430 MB higher; this one is a
    view of the left array."""
    return pd.Index(left, name="left", copy=False)


def compare(
    frame: pd.DataFrame,
    left: np.ndarray,
    right: np.ndarray,
    spec: ModelSpec | None = None,
    pair_index: bool = True,
) -> pd.DataFrame:
    """Levels of every feature for the pairs (positions into frame), indexed by the pairs
    (a (left, right) MultiIndex, to look a pair up) or, without `pair_index`, by the left
    positions alone (`left_index`: the engine, which holds both sides as arrays).

    Runs the comparator's recordlinkage features on numpy views of the frame: the same
    features Compare.compute would run, without pandas indexing every column per pair
    (about half of recordlinkage's comparison time). compare_with_recordlinkage() is
    the library path, and the tests check that both give the same levels.
    """
    if pair_index:
        pairs: pd.Index = pd.MultiIndex.from_arrays([left, right], names=["left", "right"])
    else:
        pairs = left_index(left)
    if len(pairs) == 0:
        return _empty_levels(pairs)
    view = _view(frame)
    features = comparator(spec).features
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(left), CHUNK):  # bounded memory: only levels outlive a chunk
        lo, ro = left[start : start + CHUNK], right[start : start + CHUNK]
        chunk: dict[str, np.ndarray] = {}
        for feat in features:
            lefts = [view[c][lo] for c in _labels(feat.labels_left)]
            rights = [view[c][ro] for c in _labels(feat.labels_right)]
            result = feat._compute_vectorized(*lefts, *rights)
            if isinstance(result, pd.DataFrame):
                for c in result.columns:
                    chunk[c] = _small(result[c].to_numpy())
            else:
                chunk[feat.label] = _small(np.asarray(result))
        # finished a chunk at a time (each pair's levels are its own): finishing all twenty
        # million pairs at once made int64 temporaries of 166 MB each
        for c, values in _finish(pd.DataFrame(chunk), spec).items():
            parts.setdefault(str(c), []).append(values.to_numpy())
    # each column joined and its pieces let go, and the columns kept apart (copy=False): a
    # frame built of them would otherwise copy them all into one block, twice the levels
    columns = {c: np.concatenate(parts.pop(c)) for c in list(parts)}
    return pd.DataFrame(columns, index=pairs, copy=False)


def _small(values: np.ndarray) -> np.ndarray:
    return values if values.dtype == bool else values.astype(np.int8)


def compare_with_recordlinkage(
    frame: pd.DataFrame, left: np.ndarray, right: np.ndarray, spec: ModelSpec | None = None
) -> pd.DataFrame:
    """The same levels through recordlinkage's Compare.compute (slower; for checking)."""
    pairs = pd.MultiIndex.from_arrays([left, right], names=["left", "right"])
    if len(pairs) == 0:
        return _empty_levels(pairs)
    with_codes = frame.copy()
    view = _view(frame)
    with_codes["fam_code"], with_codes["giv_code"] = view["fam_code"], view["giv_code"]
    return _finish(comparator(spec).compute(pairs, with_codes), spec)


def _labels(labels: str | list[str]) -> list[str]:
    return [labels] if isinstance(labels, str) else list(labels)
