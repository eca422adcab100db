"""Why true pairs are missed (not a test): each missed pair of one man, by its cause.

Why: a recall short of target says how many pairs of one man ended in two persons, not
why. Each missed pair is put in one class: blocking never proposed it; it was proposed and
scored under the link threshold (and which feature cost it most); or it scored over the
threshold and clustering kept the two records apart. Counts by cause, the levels most
often seen, and a few examples, on synthetic lists with a habit (or noise) turned up.

    .venv/bin/python benchmarks/missed_pairs.py --persons 5000 --habit house_names
    .venv/bin/python benchmarks/missed_pairs.py --persons 5000 --habit habits_all
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.linkage_errors import _pairs_within, _records  # noqa: E402
from benchmarks.robustness_bench import HABITS, KINDS  # noqa: E402
from linkage.match import engine  # noqa: E402
from linkage.match.compare import FEATURES, LEVELS, compare  # noqa: E402
from linkage.match.evaluate import pair_scores  # noqa: E402
from linkage.match.frame import RECORD_COLUMNS, build_frame  # noqa: E402
from linkage.match.spec import bits, spec_for  # noqa: E402
from linkage.settings import load_settings  # noqa: E402

SHOWN = ("family_name", "given_name", "birth", "home", "return", "phone", "father", "lists")
HOME = ["lives elsewhere", "other prov", "same prov", "prov, dist?", "dist, oth comm", "dist", "commune"]
RETURN = ["other country", "years", "months", "intake soon", "month", "same"]


def _level_names(levels: pd.DataFrame, k: int) -> dict[str, str]:
    """The levels of pair k in words ('-' where a side is blank)."""
    out = {}
    for f in SHOWN:
        v = int(levels[f].iloc[k])
        names = HOME if f == "home" else RETURN if f == "return" else LEVELS[f]
        out[f] = "-" if v < 0 else names[v]
    return out


def _missed(done: engine.Linked, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = _pairs_within(np.asarray(pd.factorize(truth)[0]))
    keep = done.labels[a] != done.labels[b]
    return a[keep], b[keep]


def _why_unproposed(frame: pd.DataFrame, lv: dict[str, str], x: int, y: int) -> str:
    """A rough reason blocking missed a pair: the first of these the two records show."""
    one = frame["giv_one_syllable"].to_numpy()
    fam_one = frame["fam_one_syllable"].to_numpy()
    year = frame["birth_year"].to_numpy(dtype="float64", na_value=np.nan)
    district = frame["district"].isna().to_numpy()
    house = lv["given_name"] == "a house name" or (lv["family_name"] == "different" and one[x] != one[y])
    if house:
        both_short = (one[x] == 1 and fam_one[x] == 1) or (one[y] == 1 and fam_one[y] == 1)
        if both_short and lv["family_name"] == "different":
            return "house name, the names' order swapped"
        if np.isnan(year[x]) or np.isnan(year[y]):
            return "house name, one side no birth year"
        if district[x] or district[y]:
            return "house name, a district blank"
        return "house name, other"
    if lv["family_name"] == "different" and lv["given_name"] in ("same sound", "same spelling"):
        return "family name replaced"
    if district[x] or district[y]:
        return "a district blank"
    return "other"


def _classify(done: engine.Linked, frame: pd.DataFrame, spec, a: np.ndarray, b: np.ndarray) -> pd.DataFrame:
    """One row per missed pair: its cause, levels, weight and costliest feature."""
    n = len(frame)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    levels = compare(frame, lo, hi, spec)
    total, _prob = done.model.score_levels(levels, frame, spec.limits.family_margin_bits)
    weights = done.model.feature_weights(levels, frame)
    proposed = ~done.candidates.lacks(lo.astype(np.int64) * n + hi, n)
    threshold = bits(spec.limits.link_threshold)
    cause = np.where(
        ~proposed, "not proposed", np.where(total < threshold, "scored low", "refused in clustering")
    )
    rows = []
    for k in range(len(lo)):
        w = weights.iloc[k]
        lv = _level_names(levels, k)
        rows.append(
            {
                "cause": cause[k],
                "why": _why_unproposed(frame, lv, lo[k], hi[k]) if cause[k] == "not proposed" else "",
                "bits": float(total[k]),
                "worst": min(FEATURES, key=lambda f: w[f]),
                **lv,
                "sources": "/".join(sorted((frame["source"].iloc[lo[k]], frame["source"].iloc[hi[k]]))),
                "names": f"{frame['fam_text'].iloc[lo[k]]} {frame['giv_text'].iloc[lo[k]]} | "
                f"{frame['fam_text'].iloc[hi[k]]} {frame['giv_text'].iloc[hi[k]]}",
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--habit", default="house_names", choices=[*KINDS, "all", *HABITS])
    ap.add_argument("--cache", type=Path, default=ROOT / "var" / "bench")
    ap.add_argument("--examples", type=int, default=6)
    args = ap.parse_args()
    recs = _records(args.persons, args.seed, args.habit, args.cache)
    settings = load_settings(home=args.cache / "errors-home", db_url="")
    spec = spec_for(settings)
    frame = build_frame(recs[RECORD_COLUMNS].reset_index(drop=True))
    done = engine.link_frame(frame, spec)
    truth = recs["person_id"].to_numpy()
    s = pair_scores("persons", pd.Series(done.labels), pd.Series(truth))
    print(
        f"{len(recs):,} records: P {s.precision:.4f} R {s.recall:.4f} F1 {s.f1:.4f}, "
        f"{len(done.candidates):,} candidate pairs"
    )
    a, b = _missed(done, truth)
    table = _classify(done, frame, spec, a, b)
    print(f"missed pairs {len(table):,} of {s.true_pairs:,} true pairs")
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 20)
    pd.set_option("display.max_colwidth", 40)
    for cause, part in table.groupby("cause"):
        print(f"\n== {cause}: {len(part):,}")
        for col in ("why", "worst", "given_name", "family_name", "birth", "home", "return", "sources"):
            print(f"  {col}: {dict(Counter(part[col]).most_common(6))}")
        print(part.drop(columns=["cause"]).head(args.examples).to_string(index=False))


if __name__ == "__main__":
    main()
