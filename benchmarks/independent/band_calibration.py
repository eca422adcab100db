"""How well the review band's chances say which pairs are one man, on the independent lists.

Why: the estimate's correction for missed links (linkage/estimate/imputation.py) draws each
open review pair as a link with its chance; that is only right if the chances are
calibrated. The truth here says, per pair, whether the two records are one man and one
return. Printed per bin of chance: pairs, mean chance, share one man, share one return;
then how many returns split by linkage have a band pair between their pieces.

    .venv/bin/python benchmarks/independent/band_calibration.py --data /tmp/i40k --home /tmp/i40k-home
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from flags import read_store  # noqa: E402

from linkage.estimate.imputation import calibrate, can_merge, event_summary  # noqa: E402
from linkage.estimate.store import band_and_decisions, event_records  # noqa: E402
from linkage.referral.flags import source_label  # noqa: E402
from linkage.settings import load_settings  # noqa: E402
from linkage.store.db import session_scope  # noqa: E402

BINS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0001)


def truth_of(data: Path) -> tuple[dict, dict]:
    with (data / "truth.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    key = lambda t: (t["source"], t["file"], t["record_id"])  # noqa: E731
    return {key(t): t["person_id"] for t in rows}, {key(t): t["episode_id"] for t in rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--as-of", default="2026-01-01")
    ap.add_argument(
        "--reviewed",
        type=int,
        default=0,
        help="also: this many mergeable pairs, drawn at random, decided by the truth as a reviewer "
        "would (one return or not), calibrate the rest (Platt)",
    )
    a = ap.parse_args(argv)
    settings = load_settings(home=a.home, db_url="", data_docs=False)
    with session_scope(settings) as s:
        band, decided = band_and_decisions(s)
    link_bits = float(np.log2(settings.link_threshold / (1 - settings.link_threshold)))
    cal = calibrate(band, decided, link_bits)
    rec = read_store(a.home, dt.date.fromisoformat(a.as_of)).record
    person, episode = truth_of(a.data)
    rec = rec.assign(person=[person.get(k) for k in rec["key"]], ep=[episode.get(k) for k in rec["key"]])
    by_id = rec.set_index("record_id")
    band = band.assign(
        chance=cal.chance,
        stored=band["probability"],
        man=by_id["person"].reindex(band["record_a"]).to_numpy()
        == by_id["person"].reindex(band["record_b"]).to_numpy(),
        ret=by_id["ep"].reindex(band["record_a"]).to_numpy()
        == by_id["ep"].reindex(band["record_b"]).to_numpy(),
    )
    with session_scope(settings) as s:
        records = event_records(s)
    ev = event_summary(records.assign(label=records["source"].map(source_label)))
    event_of = dict(zip(records["record_id"], records["event_id"], strict=True))
    ea = band["record_a"].map(event_of).to_numpy(dtype=object)
    eb = band["record_b"].map(event_of).to_numpy(dtype=object)
    band = band.assign(mergeable=can_merge(ev, ea, eb, settings.event_window_days))
    print(f"{len(band):,} open review pairs; chance from {cal.source}")
    report(band)
    print(f"of which {int(band['mergeable'].sum()):,} could join two returns (what the correction draws):")
    report(band[band["mergeable"]])
    splits(rec, band)
    if a.reviewed:
        reviewed(band[band["mergeable"]], a.reviewed, link_bits)
    return 0


def reviewed(band: pd.DataFrame, n: int, link_bits: float) -> None:
    """The chance calibrated on n pairs decided by the truth, scored on the others."""
    rng = np.random.default_rng(1)
    pick = rng.permutation(len(band))
    asked, rest = band.iloc[pick[:n]], band.iloc[pick[n:]]
    decided = asked.assign(same=asked["ret"].astype(int))[["record_a", "record_b", "weight", "same"]]
    cal = calibrate(rest, decided, link_bits)
    print(f"with {n} pairs decided by the truth, the other {len(rest):,}; chance from {cal.source}:")
    report(rest.assign(chance=cal.chance))


def report(band: pd.DataFrame) -> None:
    """Calibration per bin of chance."""
    print(f"stored probability: mean {band['stored'].mean():.4f}, one man {band['man'].mean():.1%}")
    print("chance bin | pairs | mean chance | one man | one return")
    for lo, hi in zip(BINS[:-1], BINS[1:], strict=True):
        b = band[(band["chance"] >= lo) & (band["chance"] < hi)]
        if len(b):
            cells = [f"{lo:.2f}-{min(hi, 1):.2f}", f"{len(b):,}", f"{b['chance'].mean():.3f}"]
            print(" | ".join([*cells, f"{b['man'].mean():.1%}", f"{b['ret'].mean():.1%}"]))
    print(
        f"all | {len(band):,} | sum of chances {band['chance'].sum():,.0f} | "
        f"one man {int(band['man'].sum()):,} | one return {int(band['ret'].sum()):,}"
    )


def splits(rec: pd.DataFrame, band: pd.DataFrame) -> None:
    """Returns split by linkage, and how many of them the band holds a pair across."""
    split = rec.groupby("ep")["event_id"].nunique()
    split_eps = set(split[split > 1].index)
    ev_ep = rec.set_index("record_id")[["event_id", "ep"]]
    ea = ev_ep["event_id"].reindex(band["record_a"]).to_numpy()
    eb = ev_ep["event_id"].reindex(band["record_b"]).to_numpy()
    across = {
        ep
        for ep, x, y, r in zip(ev_ep["ep"].reindex(band["record_a"]), ea, eb, band["ret"], strict=True)
        if r and x != y
    }
    print(
        f"returns split by linkage: {len(split_eps):,}; with a band pair between pieces: "
        f"{len(split_eps & across):,}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
