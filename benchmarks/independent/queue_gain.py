"""What deciding the review queue is worth: its size, how often "same" is right, and the
pairwise F1 a perfect reviewer deciding it would reach, against the whole review band.

Why: a queue's size alone says nothing of whether it holds the decisions that matter. This
links a store's records in-process with the engine, then forces the truth on the queued
pairs (and, for comparison, on the whole band) as reviewers' decisions and clusters again.

    .venv/bin/python benchmarks/independent/queue_gain.py HOME [--no-band]

HOME holds recs.pkl (the store's records as a DataFrame of linkage.match.frame's
RECORD_COLUMNS, in the store's content order) and truth.npy (the true man of each row).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from linkage.match import engine
from linkage.match.frame import build_frame
from linkage.match.spec import default_spec


def _pairs(labels: np.ndarray) -> int:
    _, counts = np.unique(labels, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def pairwise_f1(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    both = pred.astype(np.int64) * (int(truth.max()) - int(truth.min()) + 1) + (truth - truth.min())
    tp, pp, tt = _pairs(both), _pairs(pred), _pairs(truth)
    p, r = tp / max(pp, 1), tp / max(tt, 1)
    return p, r, 2 * p * r / max(p + r, 1e-12)


def perfect_reviewer(
    frame: pd.DataFrame, done: engine.Linked, asked: np.ndarray, truth: np.ndarray
) -> np.ndarray:
    """Persons after a reviewer who is never wrong decided the pairs `asked`."""
    left, right = done.candidates.left[asked], done.candidates.right[asked]
    same = truth[left] == truth[right]
    decisions = engine.Decisions(
        same=list(zip(left[same].tolist(), right[same].tolist(), strict=True)),
        different=list(zip(left[~same].tolist(), right[~same].tolist(), strict=True)),
    )
    scores = engine.Scores(done.scores.total.copy(), done.scores.prob.copy())
    engine.force(done.candidates, scores, decisions, len(frame))
    return engine.group(frame, done.candidates, scores, default_spec(), None, decisions).labels


def report(name: str, frame: pd.DataFrame, done: engine.Linked, asked: np.ndarray, truth: np.ndarray) -> None:
    n = len(frame)
    _, _, before = pairwise_f1(done.labels, truth)
    same = truth[done.candidates.left[asked]] == truth[done.candidates.right[asked]]
    p, r, f = pairwise_f1(perfect_reviewer(frame, done, asked, truth), truth)
    print(
        f"{name}: {len(asked):,} pairs ({len(asked) / n:.2%} of the records), 'same' right "
        f"{same.mean() if len(asked) else 0:.1%}; a perfect reviewer: P {p:.4f} R {r:.4f} F1 {f:.4f} "
        f"({f - before:+.4f})",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("home", type=Path)
    ap.add_argument("--no-band", action="store_true", help="skip the whole band (slow at a million)")
    a = ap.parse_args()
    records = pd.read_pickle(a.home / "recs.pkl").reset_index(drop=True)
    truth = np.load(a.home / "truth.npy")
    frame = build_frame(records)
    t = time.perf_counter()
    done = engine.link_frame(frame, default_spec())
    p, r, f = pairwise_f1(done.labels, truth)
    print(
        f"{a.home}: {len(frame):,} records, P {p:.4f} R {r:.4f} F1 {f:.4f}, {time.perf_counter() - t:.0f} s"
    )
    refused = {(min(x, y), max(x, y)): why for x, y, why in done.outcome.refused}
    left, right = done.candidates.left, done.candidates.right
    kinds = Counter(
        refused.get((int(left[k]), int(right[k])), "uncertain pair of a record left alone")
        for k in done.review.tolist()
    )
    print("queue by kind: " + "; ".join(f"{k} {v:,}" for k, v in kinds.most_common()))
    report("queue", frame, done, done.review, truth)
    if not a.no_band:
        report("band", frame, done, done.band, truth)


if __name__ == "__main__":
    main()
