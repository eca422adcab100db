"""The match model's design as data (linkage/data/model.yaml), validated on load.

Why a spec: levels, cut points, blocking passes, EM sessions and cluster limits were
constants spread through the code, and a change had to be matched by a hand-bumped
version number. Now they live in one file; the digest of what the weights depend on is
saved with them (a change refits) and the digest of the blocking keys with the stored keys
(a change makes them again). Thresholds and caps that are settings join the spec through
`for_settings`, so `survivor-link model show` shows the whole design in one place.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SPEC_FILE = Path(__file__).resolve().parent.parent / "data" / "model.yaml"

# The parts a blocking key can be built from (blocking.key_parts makes each).
# an NGO's intake meets the returns of its month and of this many months before it (30 days
# each: 150 days, the intake window of 120 and a month's boundary)
INTAKE_MONTHS_BACK = 5
KEY_PARTS = frozenset(
    {
        "fam", "giv", "giv_alt", "fam_initial", "giv_initial", "single_name", "fam_of_house_name",
        "fam_of_house_name_no_birth", "giv_of_house_name", "giv_of_house_name_no_birth",
        "fam_no_birth", "names_low", "names_high", "names_low_no_birth", "names_low_home_unsure", "giv_first",
        "names_low_home_unsure_no_birth",
        "year", "birth_date", "birth_bucket", "birth_bucket_next", "return", "return_bucket",
        "return_bucket_next", "return_month",
        *(f"intake_month_back{k}" for k in range(INTAKE_MONTHS_BACK + 1)),
        "province", "province_then", "district", "commune", "phone", "phone_alt",
        "id_or_document", "father",
    }
)  # fmt: skip
PLACES = ("province", "province_then", "district", "commune")


class SpecError(ValueError):
    """The model spec (file or settings) is not usable; the message says where and why."""


@dataclass(frozen=True)
class FeatureSpec:
    """One compared feature: its levels (lowest first) and named cut points."""

    name: str
    levels: tuple[str, ...]
    cuts: Mapping[str, float] = field(default_factory=dict)
    # a joint feature's parts (context: home x return), each lowest first
    parts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # levels that are never evidence for one man, whatever chance agreement says: their
    # m is held at most at their u (0 bits at best)
    no_evidence_for: tuple[str, ...] = ()
    # the joint context feature: where another feature is at one of these levels (feature ->
    # level names), the return part is unknown, as it says nothing there about one man
    return_unknown_when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # levels, lowest first, whose weights (log m/u) must not fall as agreement grows
    ordered: tuple[str, ...] = ()


@dataclass(frozen=True)
class PassSpec:
    """One blocking pass: its keys (name -> parts), and the place that splits big blocks.
    A probe pass pairs records by their `probe` keys with everyone's `keys` (the build side)."""

    name: str
    keys: Mapping[str, tuple[str, ...]]
    split_by: str | None = None
    probe: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # a block of more records than this is no evidence here (None: the max_block_size
    # setting): a pass whose keys hold no place meets every namesake in the country
    max_block: int | None = None


@dataclass(frozen=True)
class SessionSpec:
    """An EM session: on pairs these passes found (and at least these levels), learn m of
    `update` (empty: every feature not ignored), ignoring `ignore`."""

    passes: tuple[str, ...]
    ignore: tuple[str, ...] = ()
    update: tuple[str, ...] = ()
    at_least: Mapping[str, int] = field(default_factory=dict)
    # a feature an earlier session learned from n pairs of one man is pooled with it (not
    # replaced) when this session learns it from fewer than this share of n
    pools_below: float = 0.0
    # with fewer pairs than this, the session learns from the fallback's pairs too
    fallback_below: int = 0
    fallback: SessionSpec | None = None


@dataclass(frozen=True)
class MutualBest:
    """Two lists that each name the other's record first, by a margin, for one return
    (mutual.py): such a pair links from `min_bits`."""

    min_bits: float
    margin_bits: float
    return_at_least: str  # a return level's name: the rule applies from it up
    # a given-name level's name: below it (names that differ outright) the lists' shape is
    # no evidence, as a twin or brother may be the only candidate the other list holds
    given_at_least: str = "different"


@dataclass(frozen=True)
class ClusterSpec:
    """What may join into one person (see cluster.py, coherence.py and mutual.py)."""

    against: float
    veto: float
    ambiguity_bits: float
    max_birth_gap_years: int
    different_given_below: float
    mutual_best: MutualBest
    # two rows of one list join one person only when their own pair is at least this likely
    one_list_at_least: float = 0.99
    # births further apart than this are two men whatever their names say (coherence.py)
    max_birth_gap_any_name_years: int = 5
    # frames of more records than this skip the second look (engine.judge_every_pair and
    # settle_ambiguous): at 981,187 records it takes 7 s and 0.25 GB more, for +0.003 F1
    second_look_max_records: int = 1_500_000


@dataclass(frozen=True)
class Limits:
    """The thresholds and caps that are settings (they apply without a refit)."""

    link_threshold: float = 0.99997
    family_link_threshold: float = 0.95
    review_threshold: float = 0.99
    # the review queue (queue.py): a question below this chance of "same" waits in the band;
    # at most this many are shown after a run
    review_min_chance: float = 0.2
    review_queue_max: int = 5000
    max_block_size: int = 400
    max_cluster_size: int = 30
    u_sample_pairs: int = 300_000
    supervised_min_decisions: int = 20
    supervised_pseudo_pairs: float = 50.0

    @property
    def family_margin_bits(self) -> float:
        """How many more bits the link threshold asks against chance than against a brother."""
        return max(0.0, bits(self.link_threshold) - bits(self.family_link_threshold))


def bits(p: float) -> float:
    """A probability as log2 odds (the scale weights and thresholds are compared on)."""
    return math.log2(p / (1 - p))


@dataclass(frozen=True)
class ModelSpec:
    """The whole design of the match model."""

    features: Mapping[str, FeatureSpec]
    passes: Mapping[str, PassSpec]
    refine_above: int
    birth_bucket_years: int
    return_bucket_days: int
    name_session: SessionSpec
    shared_session: SessionSpec
    cluster: ClusterSpec
    limits: Limits = field(default_factory=Limits)

    def as_dict(self) -> dict[str, Any]:
        """The spec as plain data (JSON-ready), as it is saved with the weights fitted under it."""
        return json.loads(json.dumps(asdict(self), default=list))

    def ordered_levels(self) -> dict[str, tuple[int, ...]]:
        """Per feature, the positions of its `ordered` levels (lowest first)."""
        return {
            f.name: tuple(f.levels.index(x) for x in f.ordered) for f in self.features.values() if f.ordered
        }

    def cut(self, feature: str, name: str) -> float:
        return float(self.features[feature].cuts[name])

    def key_columns(self) -> list[str]:
        """Every stored key column, in pass order (probe keys, then build keys)."""
        out: list[str] = []
        for p in self.passes.values():
            out += [*p.probe, *p.keys]
        return out

    def split_places(self) -> list[str]:
        return sorted({p.split_by for p in self.passes.values() if p.split_by})

    def _digest(self, part: Any) -> str:
        text = json.dumps(part, sort_keys=True, default=list)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def weights_digest(self) -> str:
        """What fitted weights depend on: the features and the training sessions."""
        d = asdict(self)
        return self._digest({k: d[k] for k in ("features", "name_session", "shared_session")})

    def keys_digest(self) -> str:
        """What stored blocking keys depend on: the passes' keys and bucket widths."""
        d = asdict(self)
        return self._digest({k: d[k] for k in ("passes", "birth_bucket_years", "return_bucket_days")})

    def for_settings(self, settings: Any) -> ModelSpec:
        """This spec with the thresholds and caps of these settings, validated."""
        limits = Limits(**{f: getattr(settings, f) for f in asdict(Limits()) if hasattr(settings, f)})
        spec = replace(self, limits=limits)
        spec.validate()
        return spec

    def validate(self) -> None:
        """Raise SpecError naming the first thing that makes this spec unusable."""
        _check_limits(self.limits)
        for f in self.features.values():
            values = [float(v) for v in f.cuts.values()]
            if any(not v > 0 for v in values):
                raise SpecError(f"model spec: feature {f.name}: cut points must be positive")
        known = set(self.features)
        for p in self.passes.values():
            if not p.keys:
                raise SpecError(f"model spec: blocking pass {p.name} has no keys")
            for key, parts in {**p.keys, **p.probe}.items():
                bad = set(parts) - KEY_PARTS
                if bad or not parts:
                    raise SpecError(
                        f"model spec: blocking pass {p.name}, key {key}: unknown parts {sorted(bad)}"
                        f" (known: {', '.join(sorted(KEY_PARTS))})"
                    )
            if p.max_block is not None and p.max_block < 2:
                raise SpecError(f"model spec: blocking pass {p.name}: max_block must be at least 2")
            if p.split_by is not None and p.split_by not in PLACES:
                raise SpecError(f"model spec: blocking pass {p.name}: split_by must be one of {PLACES}")
        columns = self.key_columns()
        if len(columns) != len(set(columns)):
            raise SpecError("model spec: two blocking keys share a name")
        sessions = [("name_session", self.name_session), ("shared_session", self.shared_session)]
        if self.shared_session.fallback is not None:
            sessions.append(("shared_session fallback", self.shared_session.fallback))
        for label, s in sessions:
            missing = set(s.passes) - set(self.passes)
            unknown = (set(s.ignore) | set(s.update) | set(s.at_least)) - known
            if missing or unknown:
                raise SpecError(
                    f"model spec: training {label}: unknown passes {sorted(missing)}"
                    f" or features {sorted(unknown)}"
                )
        if self.refine_above < 2 or self.birth_bucket_years < 1 or self.return_bucket_days < 1:
            raise SpecError("model spec: refine_above must be >= 2 and bucket widths >= 1")


def _check_limits(lim: Limits) -> None:
    for name in ("link_threshold", "family_link_threshold", "review_threshold"):
        v = getattr(lim, name)
        if not 0.0 < v < 1.0:
            raise SpecError(f"{name} must lie strictly between 0 and 1 (it is {v})")
    if lim.link_threshold < lim.review_threshold:
        raise SpecError(
            f"link_threshold ({lim.link_threshold}) is below review_threshold ({lim.review_threshold}):"
            " pairs would link before anyone could review them;"
            " raise link_threshold or lower review_threshold"
        )
    if not 0.0 <= lim.review_min_chance < 1.0:
        raise SpecError(f"review_min_chance must lie in [0, 1) (it is {lim.review_min_chance})")
    if lim.review_queue_max < 0:
        raise SpecError(f"review_queue_max must not be negative (it is {lim.review_queue_max})")
    for name in ("max_block_size", "max_cluster_size", "u_sample_pairs"):
        if getattr(lim, name) < 2:
            raise SpecError(f"{name} must be at least 2 (it is {getattr(lim, name)})")


def _parts(raw: Mapping[str, Any], where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        raise SpecError(f"model spec: {where}: expected key name -> list of parts")
    return {str(k): tuple(str(p) for p in v) for k, v in raw.items()}


def _session(raw: Mapping[str, Any], where: str) -> SessionSpec:
    try:
        return SessionSpec(
            passes=tuple(raw["passes"]),
            ignore=tuple(raw.get("ignore", ())),
            update=tuple(raw.get("update", ())),
            at_least={str(k): int(v) for k, v in (raw.get("at_least") or {}).items()},
            pools_below=float(raw.get("pools_below", 0.0)),
            fallback_below=int((raw.get("fallback") or {}).get("below_pairs", 0)),
            fallback=_session(raw["fallback"], f"{where} fallback") if raw.get("fallback") else None,
        )
    except (KeyError, TypeError) as e:
        raise SpecError(f"model spec: training {where}: {e}") from e


def _check_unknown_when(features: Mapping[str, FeatureSpec], where: str) -> None:
    for f in features.values():
        for other, levels in f.return_unknown_when.items():
            if not f.parts:
                raise SpecError(f"{where}: feature {f.name}: return_unknown_when needs a joint feature")
            if other not in features or set(levels) - set(features[other].levels):
                raise SpecError(
                    f"{where}: feature {f.name}: return_unknown_when names no level of a feature"
                    f" ({other}: {', '.join(levels)})"
                )


def _cluster(raw: Mapping[str, Any], features: Mapping[str, FeatureSpec]) -> ClusterSpec:
    c = dict(raw)
    mutual = MutualBest(**c.pop("mutual_best"))
    if mutual.return_at_least not in features["context"].parts["return"]:
        raise SpecError(f"cluster.mutual_best: {mutual.return_at_least!r} is no return level")
    if mutual.given_at_least not in features["given_name"].levels:
        raise SpecError(f"cluster.mutual_best: {mutual.given_at_least!r} is no given-name level")
    spec = ClusterSpec(**c, mutual_best=mutual)
    for name in ("against", "veto", "one_list_at_least"):
        if not 0.0 < getattr(spec, name) < 1.0:
            raise SpecError(f"cluster.{name} must lie strictly between 0 and 1 (it is {getattr(spec, name)})")
    return spec


def parse_spec(raw: Mapping[str, Any], where: str = "model spec") -> ModelSpec:
    """A ModelSpec from the YAML's mapping, validated."""
    try:
        features: dict[str, FeatureSpec] = {}
        for name, f in raw["features"].items():
            parts: dict[str, tuple[str, ...]] = {}
            if "levels" in f:
                levels = tuple(f["levels"])
            else:  # the joint context feature: every home level (or unknown) x every return level
                parts = {"home": tuple(f["home_levels"]), "return": tuple(f["return_levels"])}
                home = ["home unknown", *("home: " + h for h in parts["home"])]
                ret = ["return unknown", *("return: " + r for r in parts["return"])]
                levels = tuple(f"{h}; {r}" for h in home for r in ret)
            capped = tuple(f.get("no_evidence_for") or ())
            if set(capped) - set(levels):
                raise SpecError(f"{where}: feature {name}: no_evidence_for names no level of it")
            unknown = {str(k): tuple(v) for k, v in (f.get("return_unknown_when") or {}).items()}
            ordered = tuple(f.get("ordered") or ())
            if set(ordered) - set(levels) or len(set(ordered)) != len(ordered):
                raise SpecError(f"{where}: feature {name}: ordered names a level twice or no level of it")
            if [levels.index(x) for x in ordered] != sorted(levels.index(x) for x in ordered):
                raise SpecError(f"{where}: feature {name}: ordered lists its levels out of their order")
            features[name] = FeatureSpec(
                name, levels, dict(f.get("cuts") or {}), parts, capped, unknown, ordered
            )
        _check_unknown_when(features, where)
        b = raw["blocking"]
        passes = {
            name: PassSpec(name, _parts(p["keys"], f"pass {name}"), p.get("split_by"))
            for name, p in b["passes"].items()
        }
        for name, p in (b.get("probe_passes") or {}).items():
            cap = p.get("max_block")
            build, probe = _parts(p["build"], f"pass {name}"), _parts(p["probe"], f"pass {name}")
            passes[name] = PassSpec(name, build, None, probe, None if cap is None else int(cap))
        t, c = raw["training"], raw["cluster"]
        spec = ModelSpec(
            features=features,
            passes=passes,
            refine_above=int(b["refine_above"]),
            birth_bucket_years=int(b["birth_bucket_years"]),
            return_bucket_days=int(b["return_bucket_days"]),
            name_session=_session(t["name_session"], "name_session"),
            shared_session=_session(t["shared_session"], "shared_session"),
            cluster=_cluster(c, features),
        )
    except (KeyError, TypeError, AttributeError) as e:
        raise SpecError(f"{where}: missing or malformed entry ({e})") from e
    spec.validate()
    return spec


@cache
def default_spec() -> ModelSpec:
    """The spec of linkage/data/model.yaml (read once)."""
    try:
        raw = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise SpecError(f"{SPEC_FILE}: not valid YAML ({e})") from e
    return parse_spec(raw, str(SPEC_FILE))


def spec_for(settings: Any) -> ModelSpec:
    """The default spec with these settings' thresholds and caps (SpecError if they clash)."""
    return default_spec().for_settings(settings)
