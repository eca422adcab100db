"""`survivor-link model show`: the match model's design and its fitted weights, as tables.

Why: an engineer changing the model, or an officer asking why two men were linked, should
see in one place what is compared, how records meet, what may join into one person, and
how much each level of agreement weighs in the store's fitted model.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from rich.table import Table

from linkage.match.compare import FEATURES, LEVELS
from linkage.match.model import MatchModel
from linkage.match.spec import ModelSpec


def feature_table(spec: ModelSpec) -> Table:
    t = Table(title="Compared features (levels lowest first; a blank side is missing, not weighed)")
    for col in ("feature", "levels", "cut points"):
        t.add_column(col, overflow="fold")
    for f in spec.features.values():
        if f.parts:
            levels = "; ".join(f"{part}: " + ", ".join(v) for part, v in f.parts.items())
        else:
            levels = ", ".join(f.levels)
        if f.ordered and len(f.ordered) < len(f.levels):
            levels += f" (weighed in order: {', '.join(f.ordered)})"
        elif f.ordered:
            levels += " (weighed in order)"
        t.add_row(f.name, levels, ", ".join(f"{k} {v:g}" for k, v in f.cuts.items()))
    return t


def blocking_table(spec: ModelSpec) -> Table:
    t = Table(title=f"Blocking passes (blocks over {spec.refine_above} records split by place)")
    for col in ("pass", "keys (parts hashed together)", "split by", "largest block"):
        t.add_column(col, overflow="fold")
    for p in spec.passes.values():
        keys = "; ".join(f"{k}: {' + '.join(parts)}" for k, parts in p.keys.items())
        if p.probe:
            probe = "; ".join(f"{k}: {' + '.join(parts)}" for k, parts in p.probe.items())
            keys = f"records that have {probe} probe {keys}"
        cap = min(p.max_block or spec.limits.max_block_size, spec.limits.max_block_size)
        t.add_row(p.name, keys, p.split_by or "", str(cap))
    return t


def rules_table(spec: ModelSpec) -> Table:
    t = Table(title="Training, clustering and thresholds")
    for col in ("part", "setting", "value"):
        t.add_column(col, overflow="fold")
    sessions = (("EM name session", spec.name_session), ("EM shared session", spec.shared_session))
    for label, session in sessions:
        for k, v in asdict(session).items():
            if v:
                t.add_row(label, k, _text(v))
    for k, v in asdict(spec.cluster).items():
        t.add_row("cluster", k, _text(v))
    for k, v in asdict(spec.limits).items():
        t.add_row("settings", k, _text(v))
    t.add_row("settings", "family_margin_bits", f"{spec.limits.family_margin_bits:.2f}")
    t.add_row("digests", "weights (features, sessions)", spec.weights_digest())
    t.add_row("digests", "blocking keys", spec.keys_digest())
    return t


def weights_table(model: MatchModel) -> Table:
    """Per level: how often one man agrees so (m), two men by chance (u), brothers (f), and
    the weight log2(m/u) in bits."""
    family = model.prior_family > 0
    t = Table(
        title=(
            f"Fitted weights ({model.kind}, {model.records:,} records, prior {model.prior:.4f}"
            + (f", brothers {model.prior_family:.4f}" if family else ", two classes")
            + ")"
        )
    )
    for col in ("feature", "level", "m", "u", *(["f"] if family else []), "bits"):
        t.add_column(col, justify="right" if col in {"m", "u", "f", "bits"} else "left")
    for feat in FEATURES:
        m, u = model.m.get(feat), model.u.get(feat)
        if m is None or u is None:
            continue
        f = model.f.get(feat)
        for i, name in enumerate(LEVELS[feat]):
            if m[i] < 1e-4 and u[i] < 1e-4:
                continue  # a level this store never saw (most of the joint context's)
            bits = math.log2(max(m[i], 1e-12) / max(u[i], 1e-12))
            row = [feat, name, f"{m[i]:.4f}", f"{u[i]:.4f}"]
            if family:
                row.append(f"{f[i]:.4f}" if f is not None else "")
            t.add_row(*row, f"{bits:+.2f}")
    return t


def _text(v: Any) -> str:
    if isinstance(v, list | tuple):
        return ", ".join(map(str, v))
    if isinstance(v, dict):
        return ", ".join(f"{k} {x}" for k, x in v.items())
    return f"{v:g}" if isinstance(v, float) else str(v)
