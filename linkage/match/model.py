"""Fellegi-Sunter match weights, fitted without labels (EM) or from reviewers' decisions.

Why this shape: u-probabilities (how often two different men agree by chance) come from
random record pairs, where nearly every pair is a non-match; m-probabilities (how often
one man agrees with himself) are learned by EM on the blocked pairs with u held fixed,
which keeps EM from mistaking "same return batch" for "same man".
Agreement on a common surname weighs less than on a rare one (term frequency).
Comparison patterns are packed into integers so that EM runs over the few distinct
patterns, not over millions of pairs.

Why a third class, "same family, other man" (f-probabilities): brothers share what a
family shares (family name, father, village, often one phone and one return batch), so
against random pairs they look like one man many times over. Random pairs cannot stand
for them; a class of their own, learned by EM beside the other two, can: a pair is one
man only when "same man" explains it better than both "other family" and "same family".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from linkage.match.compare import FEATURES, LEVELS, MISSING
from linkage.match.spec import default_spec

# A probability is never taken as 0 or 1: one odd record must not veto or force a match.
_EPS = 1e-4
# One man's name is written past recognition on about one list in a hundred (a nickname,
# another romaniser, a character dropped): EM alone drives its m to nothing, because the
# family class and namesakes take the pairs whose names differ, and then a misspelt name
# could never link however much else agrees.
_NAME_M_FLOOR = 0.01
_FLOORS = {"family_name": _NAME_M_FLOOR, "given_name": _NAME_M_FLOOR}
# levels never evidence for one man (model.yaml's no_evidence_for), by feature: their
# positions. EM still learns their m (what one man's records show); only the weight a pair
# gets from them is held at 0 bits at most. Why not in EM: holding m there moves the
# other features' m as well (same-return pairs then read as other men: recall fell 0.013)
_NO_EVIDENCE_FOR = {
    f.name: [f.levels.index(level) for level in f.no_evidence_for]
    for f in default_spec().features.values()
    if f.no_evidence_for
}


def _floored(feature: str, shares: np.ndarray) -> np.ndarray:
    """m shares with every level at least its floor (renormalised), for the features in
    _FLOORS; the others as EM left them (their rare levels carry their own evidence)."""
    floor = _FLOORS.get(feature)
    if floor is None:
        return shares
    shares = np.maximum(shares, floor)
    return shares / shares.sum()


def in_order(m: np.ndarray, u: np.ndarray, positions: tuple[int, ...]) -> np.ndarray:
    """m with m/u not falling along `positions` (pool adjacent violators): a run of levels
    out of order shares one ratio, its summed m over its summed u, so m still sums to 1 and
    levels already in order keep theirs."""
    u = np.maximum(u, _EPS * _EPS)
    blocks: list[tuple[float, float, list[int]]] = []  # (sum m, sum u, positions)
    for i in positions:
        block = (float(m[i]), float(u[i]), [i])
        while blocks and blocks[-1][0] / blocks[-1][1] > block[0] / block[1]:
            pm, pu, pi = blocks.pop()
            block = (pm + block[0], pu + block[1], pi + block[2])
        blocks.append(block)
    out = np.array(m, dtype=np.float64)
    for sm, su, idx in blocks:
        out[idx] = sm / su * u[idx]
    return out


TF_FEATURES = {"family_name": "fam_key", "given_name": "giv_key"}
_TF_MAX_BITS = 4.0


def _pack(levels: pd.DataFrame) -> np.ndarray:
    """Each comparison row to one integer (mixed radix; missing is digit 0)."""
    code = np.zeros(len(levels), dtype=np.int64)
    for f in FEATURES:
        code = code * (len(LEVELS[f]) + 1) + (levels[f].to_numpy(np.int64) + 1)
    return code


def _unpack(codes: np.ndarray) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    rest = codes.copy()
    for f in reversed(FEATURES):
        base = len(LEVELS[f]) + 1
        out[f] = (rest % base) - 1
        rest //= base
    return out


def _level_shares(levels: np.ndarray, n_levels: int, weights: np.ndarray) -> np.ndarray:
    known = levels != MISSING
    total = weights[known].sum()
    shares = np.bincount(levels[known], weights=weights[known], minlength=n_levels)
    shares = (shares + _EPS) / (total + _EPS * n_levels)
    return shares


def _default_f() -> dict[str, np.ndarray]:
    """A starting point for EM's "same family" class: agreeing on what families share,
    not on given name, birth or document (EM moves every one of these)."""
    f = _default_m()
    f["given_name"] = np.array([0.75, 0.05, 0.1, 0.04, 0.01, 0.03, 0.02])
    f["birth"] = np.array([0.2, 0.4, 0.1, 0.01, 0.16, 0.08, 0.04, 0.01])
    f["id_document"] = np.array([0.99, 0.01])
    f["lists"] = np.array([0.2, 0.2, 0.6])  # brothers often come home in one batch
    return f


# Brothers' given names are chosen apart from each other, though a family may like names
# that rhyme or share a syllable: they agree at most this many times as often as chance.
_SIBLING_NAME_LIKENESS = 2.0
# ... but no family gives two sons one name: that two brothers' given names sound or are
# spelt alike is no likelier than for two men of different families. Held at 2 too, on
# lists where twins are one family in sixteen EM filled the class with one man's pairs up
# to the bound, and recall fell from 0.978 to 0.929 (0.967 with this).
_SIBLING_SAME_NAME_LIKENESS = 1.0


def _brothers_names(f: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The family class's given-name shares, agreeing levels held to a few times chance.

    Why a bound: EM left free gives the class whatever pairs it can explain, and one man
    whose given name two lists romanise apart (same family name, home and return) is such
    a pair; once the class holds some "same consonants" mass, it keeps taking them, and
    such a man could never link. The disagreeing level takes what the bound removes.
    """
    likeness = np.full(len(u) - 1, _SIBLING_NAME_LIKENESS)
    likeness[-2:] = _SIBLING_SAME_NAME_LIKENESS
    top = np.minimum(f[1:], likeness * u[1:])
    return np.concatenate([[max(0.0, 1.0 - top.sum())], top])


def _default_m() -> dict[str, np.ndarray]:
    """A starting point for EM: the same man mostly agrees, at the top level."""
    m = {}
    for f, labels in LEVELS.items():
        k = len(labels)
        start = np.full(k, 0.1 / max(k - 1, 1))
        start[-1] = 0.9
        m[f] = start / start.sum()
    m["lists"] = np.array([0.02, 0.2, 0.78])  # one list naming one man twice for one return: rare
    return m


@dataclass
class MatchModel:
    """m and u per feature level, the prior match rate among candidates, term frequencies."""

    m: dict[str, np.ndarray] = field(default_factory=_default_m)
    u: dict[str, np.ndarray] = field(default_factory=dict)
    f: dict[str, np.ndarray] = field(default_factory=_default_f)
    prior: float = 0.05
    prior_family: float = 0.0  # share of candidate pairs that are brothers (0: two classes)
    tf: dict[str, dict[str, float]] = field(default_factory=dict)
    kind: str = "em"
    iterations: int = 0
    records: int = 0  # how many records the weights were fitted on
    sources: list[str] = field(default_factory=list)
    keys_digest: str = ""  # the spec's blocking keys the stored keys were made with
    weights_digest: str = ""  # the spec's features and sessions the weights were fitted under
    spec: dict[str, Any] = field(default_factory=dict)  # the whole spec they were fitted under
    decisions: int = 0  # reviewers' "same" decisions the m-probabilities learned from

    # ---- fitting -------------------------------------------------------------------
    def fit_u(self, random_levels: pd.DataFrame) -> None:
        """Chance agreement from random pairs (almost all of them different men)."""
        ones = np.ones(len(random_levels))
        self.u = {
            f: _level_shares(random_levels[f].to_numpy(np.int64), len(LEVELS[f]), ones) for f in FEATURES
        }

    def fit_tf(self, frame: pd.DataFrame) -> None:
        """Share of records with each name key: the chance that a random man has it."""
        self.tf = {}
        for feature, col in TF_FEATURES.items():
            shares = frame[col].dropna().value_counts(normalize=True)
            self.tf[feature] = {str(k): float(v) for k, v in shares.items() if v >= 1e-5}

    def fit_em(
        self,
        levels: pd.DataFrame,
        ignore: frozenset[str] | set[str] = frozenset(),
        update: frozenset[str] | set[str] | None = None,
        max_iter: int = 200,
        tol: float = 1e-7,
        unseen_different: float = 0.0,
        family: frozenset[str] | set[str] | None = None,
        learned_from: Mapping[str, float] | None = None,
    ) -> dict[str, float]:
        """m-probabilities and prior by expectation-maximisation on candidate pairs.

        A session of pairs blocked on exact names must `ignore` names (they agree by
        construction) and learns what else agrees; only features in `update` (default:
        every feature not ignored) get new m. With update=set(), only the prior is fitted.
        unseen_different: pairs not in `levels` known to be different men (blocks split
        for size); they count in the prior, so splitting blocks does not raise it.
        family: features whose "same family" f-probabilities this session learns, with the
        share of brothers among the pairs; None leaves that class as it is (a session
        with no brothers in it, such as pairs that agree on both names, has nothing to
        teach about them).
        learned_from: per feature, how many pairs of one man an earlier session learned
        its m from; this session's pairs are added to those (the earlier m counted as
        that many pairs), not put in their place. Returns the same count after this
        session, for the features it updated.

        Why pooled: a session on few pairs (lists that give few phones make few pairs
        that share one) would otherwise replace what a session on many pairs learned of
        the same feature; on such lists "different lists" fell to -1 bit for every pair
        and recall from 0.978 to 0.912.
        """
        if levels.empty:
            return dict(learned_from or {})
        earlier = {f: (n, self.m[f].copy()) for f, n in (learned_from or {}).items() if n > 0}
        # a feature missing from every pair here has nothing to learn from: it keeps its m
        used = [f for f in FEATURES if f not in ignore and (levels[f].to_numpy() != MISSING).any()]
        update = set(used) if update is None else set(update) & set(used)
        codes, counts = np.unique(_pack(levels), return_counts=True)
        pattern = _unpack(codes)
        counts = counts.astype(np.float64)
        log_u = self._log_table(self.u, pattern, used)
        self.prior = 0.5 if ignore else self.prior
        if family is not None and self.prior_family <= 0:
            self.prior_family = min(0.2, 1 - self.prior - _EPS)
        total = counts.sum() + unseen_different
        for it in range(1, max_iter + 1):
            post_m, post_f = self._posteriors(pattern, used, log_u)
            w, wf = post_m * counts, post_f * counts
            new_prior = float(np.clip(w.sum() / total, _EPS, 1 - _EPS))
            self.m = {
                f: _floored(f, self._pooled(f, pattern[f], w, earlier)) if f in update else self.m[f]
                for f in FEATURES
            }
            moved = abs(new_prior - self.prior)
            if family is not None:
                new_family = float(np.clip(wf.sum() / total, _EPS, 1 - new_prior - _EPS))
                self.f = {
                    f: _level_shares(pattern[f], len(LEVELS[f]), wf)
                    if f in family and f in used
                    else self.f[f]
                    for f in FEATURES
                }
                self.f["given_name"] = _brothers_names(self.f["given_name"], self.u["given_name"])
                moved = max(moved, abs(new_family - self.prior_family))
                self.prior_family = new_family
            self.prior = new_prior
            self.iterations = it
            if moved < tol:
                break
        learned = dict(learned_from or {})
        for f in update:
            known = pattern[f] != MISSING
            learned[f] = learned.get(f, 0.0) + float((post_m[known] * counts[known]).sum())
        return learned

    @staticmethod
    def _pooled(
        f: str, levels: np.ndarray, weights: np.ndarray, earlier: Mapping[str, tuple[float, np.ndarray]]
    ) -> np.ndarray:
        """One feature's m: this session's weighted level counts, plus an earlier session's
        m counted as the pairs it was learned from."""
        if f not in earlier:
            return _level_shares(levels, len(LEVELS[f]), weights)
        n, m0 = earlier[f]
        known = levels != MISSING
        counts = np.bincount(levels[known], weights=weights[known], minlength=len(LEVELS[f]))
        return (counts + n * m0 + _EPS) / (counts.sum() + n + _EPS * len(m0))

    def family_is_a_family(self) -> bool:
        """Whether EM's third class is what it is meant to be: other men who share a family
        name (mostly), with given names that mostly differ where one man's mostly agree.
        On lists without brothers EM fills it with whatever else it finds, true pairs with
        typing errors say, and the class would then hide matches (FEBRL 4 does this)."""
        if self.prior_family <= 0:
            return False
        fam, giv = self.f["family_name"], self.f["given_name"]
        # brothers' given names differ ("different" or "a house name"); one man's are
        # "different" rarely, though a list that writes his house name makes them differ
        # as often as it does (that is the house-name level's, not this test's)
        differ = LEVELS["given_name"].index("similar")
        names = fam[-2:].sum() >= 0.5 and giv[:differ].sum() >= 0.5 and self.m["given_name"][0] <= 0.1
        # brothers are born years apart (twins are few of them): a class whose pairs share
        # a birth date about as often as one man's do holds one man with his name changed,
        # unless its births are years apart far more often than his (where one man's records
        # seldom give a date to the day, IOM's ages, "same date" is rare for both)
        births = self.f["birth"][-1] < 0.5 * self.m["birth"][-1]
        far = [LEVELS["birth"].index(x) for x in ("over 5 years apart", "3-5 years apart", "2 years apart")]
        f_far, m_far = self.f["birth"][far].sum(), self.m["birth"][far].sum()
        births = births or (f_far >= 0.3 and f_far > 3 * m_far)
        return bool(names and births)

    def _posteriors(
        self, pattern: Mapping[str, np.ndarray], used: list[str], log_u: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """P(same man) and P(same family, other man) of each pattern."""
        lm = np.log(self.prior) + self._log_table(self.m, pattern, used)
        lu = np.log(max(1 - self.prior - self.prior_family, _EPS)) + log_u
        if self.prior_family <= 0:
            return 1.0 / (1.0 + np.exp(np.clip(lu - lm, -700, 700))), np.zeros(len(lm))
        lf = np.log(self.prior_family) + self._log_table(self.f, pattern, used)
        top = np.maximum(np.maximum(lm, lf), lu)
        em, ef, eu = np.exp(lm - top), np.exp(lf - top), np.exp(lu - top)
        return em / (em + ef + eu), ef / (em + ef + eu)

    def keep_levels_in_order(self, ordered: Mapping[str, tuple[int, ...]]) -> None:
        """m such that each feature's ordered levels weigh no less as they agree more.

        Why: a session learns a feature's m from the pairs its passes find, and a level those
        pairs seldom show keeps an m near nothing: on lists without phones whose IDs are the
        ministry's alone (its rows give ages), "same date" came out at -3.6 bits beside +4.8
        for "same year", and more than half of the missed pairs were missed for it.
        """
        for f, positions in ordered.items():
            if f in self.m and f in self.u and len(positions) > 1:
                self.m[f] = in_order(self.m[f], self.u[f], positions)

    def fit_supervised(self, levels: pd.DataFrame, pseudo_pairs: float) -> None:
        """m learned from pairs reviewers called the same man, on top of what EM learned.

        Each feature's m is the EM estimate taken as `pseudo_pairs` pairs of prior evidence,
        updated with the levels of the decided pairs (missing levels count for nothing): a
        few decisions nudge the weights, many decisions decide them. u stays from random
        pairs (decided "different" pairs are hard cases, not a sample of different men),
        and the prior from EM.
        """
        if levels.empty:
            return
        for f in FEATURES:
            values = levels[f].to_numpy(np.int64)
            counts = np.bincount(values[values >= 0], minlength=len(LEVELS[f])).astype(np.float64)
            m = np.clip(counts + pseudo_pairs * self.m[f], _EPS, None)
            self.m[f] = m / m.sum()
        self.kind = "supervised"
        self.decisions = len(levels)

    @staticmethod
    def _log_table(
        table: Mapping[str, np.ndarray], pattern: Mapping[str, np.ndarray], used: list[str]
    ) -> np.ndarray:
        total = np.zeros(len(next(iter(pattern.values()))))
        for f in used:
            lv = pattern[f]
            probs = np.log(table[f])
            total += np.where(lv == MISSING, 0.0, probs[np.clip(lv, 0, None)])
        return total

    # ---- scoring -------------------------------------------------------------------
    def feature_weights(
        self,
        levels: pd.DataFrame,
        frame: pd.DataFrame | None = None,
        features: tuple[str, ...] = tuple(FEATURES),
    ) -> pd.DataFrame:
        """log2 Bayes factor of each feature for each pair; 0 where a side is missing."""
        return pd.DataFrame({f: self._weight(f, levels, frame) for f in features}, index=levels.index)

    def _weight(self, f: str, levels: pd.DataFrame, frame: pd.DataFrame | None) -> np.ndarray:
        """One feature's log2 Bayes factor per pair (term frequency included), a new array.

        Why levels as they are stored (int8) and the missing ones zeroed in place: at 17
        million pairs each int64 or float64 temporary is 136 MB, and scoring made eight."""
        lv = _small_levels(levels[f])
        bf = np.log2(self.m[f]) - np.log2(self.u[f])
        if f in _NO_EVIDENCE_FOR:
            bf[_NO_EVIDENCE_FOR[f]] = np.minimum(bf[_NO_EVIDENCE_FOR[f]], 0.0)
        w = bf[np.clip(lv, 0, None)]
        w[lv == MISSING] = 0.0
        if f in TF_FEATURES and frame is not None and f in self.tf:
            w = self._tf_adjust(f, lv, w, levels, frame)
        return w

    def _tf_adjust(
        self, f: str, lv: np.ndarray, w: np.ndarray, levels: pd.DataFrame, frame: pd.DataFrame
    ) -> np.ndarray:
        """Agreeing on a rare name says more than agreeing on Sok or Chea (w changed in place).

        If value v has share t_v, chance agreement on v is u * t_v^2 / sum(t^2), so the
        weight moves by log2(sum(t^2) / t_v): up for rare names, down for common ones.
        """
        agree = lv >= len(LEVELS[f]) - 2  # same sound or same spelling
        table = self.tf.get(f)
        if not agree.any() or not table:
            return w
        where = np.flatnonzero(agree)
        shares = self._agreeing_shares(f, levels, frame, agree)
        sum_sq = float(sum(v * v for v in table.values()))
        adjust = np.log2(sum_sq / np.maximum(shares, 1e-5))
        w[where] += np.clip(adjust, -_TF_MAX_BITS, _TF_MAX_BITS)
        return w

    def _agreeing_shares(
        self, f: str, levels: pd.DataFrame, frame: pd.DataFrame, agree: np.ndarray
    ) -> np.ndarray:
        """Per agreeing pair, the share of the name it agrees on, in the part `f` names.

        The name is read from the left record: its family name meets the right record's
        family name, or, where one list swapped the order, its given name. But then one
        of the two lists wrote the names the other way round, and if it is the left one,
        its "family name" is his given name: looked up as a family name it is rare (a
        given name seldom is one), and the pair would gain bits for agreeing on, say, Sok.
        So for a swapped pair the two readings of the left record's names (X Y: family X,
        given Y, or family Y, given X) are weighed by how often each name plays each part,
        and the likelier reading decides which name the feature agrees on.
        """
        left = _left_positions(levels.index, agree)
        fam, giv = self.tf.get("family_name", {}), self.tf.get("given_name", {})
        table = fam if f == "family_name" else giv
        written = _shares(frame[TF_FEATURES[f]], table)  # per record, not per pair
        share = written[left]
        if "swapped" not in levels.columns or not (fam and giv):
            return share
        at = np.flatnonzero(levels["swapped"].to_numpy(dtype=bool)[agree])
        if not len(at):
            return share
        x, y = frame["fam_key"], frame["giv_key"]
        as_written = np.log(_shares(x, fam) + 1e-5) + np.log(_shares(y, giv) + 1e-5)
        reversed_ = np.log(_shares(y, fam) + 1e-5) + np.log(_shares(x, giv) + 1e-5)
        other = _shares(y if f == "family_name" else x, table)  # the name in part f, reversed
        flip = (reversed_ > as_written)[left[at]]
        share[at[flip]] = other[left[at[flip]]]
        return share

    def score_levels(
        self, levels: pd.DataFrame, frame: pd.DataFrame, family_margin: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """log2 odds of "same man" against both other classes, and its probability, per pair.

        The weights against other families are the features' log2 m/u (term frequency
        included); the family class adds its own odds, log2 m/f, where brothers are at all
        likely. Summed one feature at a time (no pairs x features table), and the sums
        turned into odds in place (the same operations in the same order, so the same bits).

        family_margin (bits): the odds against brothers count this much more than the odds
        against chance. Why two scales: the link threshold is set high against chance
        because chance agreement grows with the store (namesakes pile up in every block)
        and the model's independence assumptions overstate it; the family class models its
        alternative directly, and what tells one man from his brother (given name, birth,
        document) can give only so many bits. With a margin of the link threshold's bits
        less the family link threshold's, a pair links when it clears each on its own.
        """
        against_u = np.zeros(len(levels))
        against_f = np.zeros(len(levels))
        for f in FEATURES:
            against_u += self._weight(f, levels, frame)
            if self.prior_family > 0:
                against_f += self.family_weights(levels, f)
        lm = np.log2(self.prior)
        # total = lm - lu, lu = log2(P(other family)) - against_u
        total = np.subtract(np.log2(max(1 - self.prior - self.prior_family, _EPS)), against_u, out=against_u)
        np.subtract(lm, total, out=total)
        if self.prior_family > 0:
            # and at most lm - lf + margin, lf = log2(P(same family)) - against_f
            lf = np.subtract(np.log2(self.prior_family), against_f, out=against_f)
            np.add(np.subtract(lm, lf, out=lf), family_margin, out=lf)
            np.minimum(total, lf, out=total)
        del against_f
        prob = np.clip(total, -60, 60)
        np.negative(prob, out=prob)
        np.exp2(prob, out=prob)
        np.add(1.0, prob, out=prob)
        np.divide(1.0, prob, out=prob)
        return total, prob

    def level_bits(self, feature: str, level: int) -> float:
        """log2 m/u of one level of one feature (its weight before term frequencies)."""
        return float(np.log2(self.m[feature][level]) - np.log2(self.u[feature][level]))

    def family_weights(self, levels: pd.DataFrame, feature: str) -> np.ndarray:
        """log2 m/f of one feature per pair (0 where a side is missing): how much likelier
        one man than two brothers makes this agreement."""
        lv = _small_levels(levels[feature])
        bf = np.log2(self.m[feature]) - np.log2(self.f[feature])
        w = bf[np.clip(lv, 0, None)]
        w[lv == MISSING] = 0.0
        return w

    def family_odds(self, levels: pd.DataFrame) -> np.ndarray:
        """log2 odds of "same family, other man" against "same man" per pair (-inf without
        the class): positive where brothers explain a pair better than one man."""
        if self.prior_family <= 0:
            return np.full(len(levels), -np.inf)
        against_f = sum(self.family_weights(levels, f) for f in FEATURES)
        return np.log2(self.prior_family / self.prior) - np.asarray(against_f)

    # ---- storage -------------------------------------------------------------------
    def to_params(self) -> dict[str, Any]:
        return {
            "m": {f: v.tolist() for f, v in self.m.items()},
            "u": {f: v.tolist() for f, v in self.u.items()},
            "f": {f: v.tolist() for f, v in self.f.items()},
            "prior": self.prior,
            "prior_family": self.prior_family,
            "tf": self.tf,
            "kind": self.kind,
            "iterations": self.iterations,
            "records": self.records,
            "sources": self.sources,
            "keys_digest": self.keys_digest,
            "weights_digest": self.weights_digest,
            "spec": self.spec,
            "decisions": self.decisions,
        }

    @classmethod
    def from_params(cls, p: Mapping[str, Any]) -> MatchModel:
        return cls(
            m={f: np.asarray(v) for f, v in p["m"].items()},
            u={f: np.asarray(v) for f, v in p["u"].items()},
            f={f: np.asarray(v) for f, v in p["f"].items()} if "f" in p else _default_f(),
            prior=float(p["prior"]),
            prior_family=float(p.get("prior_family", 0.0)),
            tf={k: dict(v) for k, v in p.get("tf", {}).items()},
            kind=p.get("kind", "em"),
            iterations=int(p.get("iterations", 0)),
            records=int(p.get("records", 0)),
            sources=list(p.get("sources", [])),
            # weights from before the spec (numbered versions) are fitted and keyed again
            keys_digest=str(p.get("keys_digest", "")),
            weights_digest=str(p.get("weights_digest", "")),
            spec=dict(p.get("spec") or {}),
            decisions=int(p.get("decisions", 0)),
        )


def _small_levels(values: pd.Series) -> np.ndarray:
    """A level column as an integer array, int8 as stored (any other integer type as int64)."""
    lv = values.to_numpy()
    return lv if lv.dtype.kind == "i" else values.to_numpy(np.int64)


def _shares(keys: pd.Series, table: dict[str, float]) -> np.ndarray:
    """Each record's key's share in a term-frequency table (0 where it is not there)."""
    return keys.map(table).fillna(0.0).to_numpy(dtype=np.float64)


def _left_positions(index: pd.Index, where: np.ndarray) -> np.ndarray:
    """The left positions of the pairs `where` picks: compare's levels are indexed by them
    (compare.left_index); a (left, right) MultiIndex, as recordlinkage makes, holds them
    as codes into its first level."""
    if isinstance(index, pd.MultiIndex):
        return index.levels[0].to_numpy()[index.codes[0][where]]
    return index.get_level_values(0).to_numpy()[where]


def random_pairs(n: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Distinct random position pairs (left < right) for estimating u."""
    rng = np.random.default_rng(seed)
    size = min(size, n * (n - 1) // 2)
    a = rng.integers(0, n, size=size * 2)
    b = rng.integers(0, n, size=size * 2)
    keep = a != b
    a, b = a[keep][:size], b[keep][:size]
    return np.minimum(a, b), np.maximum(a, b)
