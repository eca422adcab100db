"""What Splink's prediction rules cost and find: pairs and true pairs per rule, standard and tight.

Why: the tight rules (splink_config.prediction_rules) are for a million records, where the
uncapped standard rules needed 21 GiB. This prints, on a size we can run, each
rule's new pairs and the true pairs among them, for both rule sets, and what the pairs
would be at a million records: a rule's blocks keep their keys (districts, birth years,
initials) as records grow, so pairs between different men grow with the square of the
records and true pairs linearly.

    .venv/bin/python benchmarks/splink_blocking.py --persons 100000

On a store an independent drop was ingested into (benchmarks/splink_side_by_side.py makes
one), pairs are counted the way a Splink user counts them, with Splink's own
`count_comparisons_from_blocking_rules` (on a sample of records at a million, as its
documentation advises; --sample 1 for exact counts), and true pairs from truth.csv:

    .venv/bin/python benchmarks/splink_blocking.py --home /tmp/hC/w180/home --data /tmp/hC/d180
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from linkage_bench import prepare  # noqa: E402
from splink_config import duckdb_api, prediction_rules, rule_columns, settings, splink_input  # noqa: E402

MILLION = 989_082  # records of --persons 550000, the README's million


def blocked_pairs(df: pd.DataFrame, tight: bool) -> pd.DataFrame:
    """Every pair the prediction rules propose, with the rule (match_key) that found it first."""
    from splink import Linker
    from splink.backends.duckdb import DuckDBAPI

    linker = Linker(DuckDBAPI().register(df), settings(tight), log_level=40)
    pairs = linker.inference.compute_blocked_pairs_for_predict()
    out = pairs.as_pandas_dataframe()
    # the blocked-pairs table names its ids join_key_l/_r (the unique ids, in a dedupe)
    return out.rename(columns={"join_key_l": "unique_id_l", "join_key_r": "unique_id_r"})[
        ["unique_id_l", "unique_id_r", "match_key"]
    ]


def report(df: pd.DataFrame, truth: pd.Series, tight: bool) -> None:
    pairs = blocked_pairs(df, tight)
    same = truth.loc[pairs["unique_id_l"]].to_numpy() == truth.loc[pairs["unique_id_r"]].to_numpy()
    sizes = truth.value_counts()
    all_true = int((sizes * (sizes - 1) // 2).sum())
    grow = MILLION / len(df)
    rules = prediction_rules(tight)
    print(f"\n{'tight' if tight else 'standard'} rules on {len(df):,} records ({all_true:,} true pairs)")
    print("| rule | new pairs | true among them | pairs at a million (estimated) |")
    print("|---|---|---|---|")
    total_m = 0.0
    for key, rule in enumerate(rules):
        mine = pairs["match_key"].astype(int).to_numpy() == key
        n, t = int(mine.sum()), int(same[mine].sum())
        at_m = (n - t) * grow**2 + t * grow
        total_m += at_m
        sql = rule.get_blocking_rule("duckdb").blocking_rule_sql
        print(f"| `{sql}` | {n:,} | {t:,} | {at_m / 1e6:,.1f} M |")
    found = int(same.sum())
    print(
        f"| all | {len(pairs):,} | {found:,} (blocking recall {found / all_true:.4f}) | "
        f"{total_m / 1e6:,.1f} M |"
    )


def true_pairs(truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of rows of one true man (positions), without listing other pairs."""
    order = np.argsort(truth, kind="stable")
    _, starts, counts = np.unique(truth[order], return_index=True, return_counts=True)
    left, right = [], []
    for start, n in zip(starts[counts > 1], counts[counts > 1], strict=True):
        rows = order[start : start + n]
        i, j = np.triu_indices(n, 1)
        left.append(rows[i])
        right.append(rows[j])
    if not left:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(left), np.concatenate(right)


def counted_report(df: pd.DataFrame, truth: np.ndarray, tight: bool, sample: float) -> None:
    """Per rule: Splink's count of the new pairs it makes, and the true pairs it finds first."""
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    cols = rule_columns(tight)
    counted = count_comparisons_from_blocking_rules(
        duckdb_api(None).register(df),
        blocking_rules=prediction_rules(tight),
        link_type="dedupe_only",
        record_sample_proportion=sample,
    )
    left, right = true_pairs(truth)
    codes = {c: pd.factorize(df[c], use_na_sentinel=True)[0] for c in {c for r in cols for c in r}}
    unfound = np.ones(len(left), dtype=bool)
    print(
        f"\n{'tight' if tight else 'standard'} rules on {len(df):,} records ({len(left):,} true pairs; "
        f"pairs {'counted exactly' if sample >= 1 else f'estimated from a {sample:.0%} sample of records'})"
    )
    print("| rule | new pairs | cumulative | true pairs it finds first | blocking recall so far |")
    print("|---|---|---|---|---|")
    for rule, rec in zip(cols, counted, strict=True):
        hit = np.ones(len(left), dtype=bool)
        for c in rule:
            a, b = codes[c][left], codes[c][right]
            hit &= (a == b) & (a >= 0)
        first = int((hit & unfound).sum())
        unfound &= ~hit
        print(
            f"| {' + '.join(rule)} | {rec['marginal_comparison_count']:,} | "
            f"{rec['cumulative_comparison_count']:,} | {first:,} | "
            f"{1 - unfound.sum() / max(1, len(left)):.4f} |"
        )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--persons", type=int, default=100000)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--home", type=Path, help="a store an independent drop was ingested into")
    p.add_argument("--data", type=Path, help="the drop's folder (truth.csv), with --home")
    p.add_argument("--sample", type=float, default=None, help="share of records Splink counts pairs on")
    args = p.parse_args()
    if args.home:
        from splink_side_by_side import read_truth, stored_records

        records, keys = stored_records(args.home)
        truth_of = read_truth(args.data)
        truth = np.array([truth_of.get(k, f"?{k}") for k in keys], dtype=object)
        df = splink_input(records)
        sample = args.sample if args.sample is not None else (1.0 if len(df) < 300_000 else 0.2)
        for tight in (False, True):
            counted_report(df, truth, tight, sample)
        return
    records, truth = prepare(args.persons, args.seed)
    df = splink_input(records)
    by_id = pd.Series(truth, index=df["unique_id"].to_numpy())
    for tight in (False, True):
        report(df, by_id, tight)


if __name__ == "__main__":
    main()
