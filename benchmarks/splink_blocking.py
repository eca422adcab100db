"""What Splink's prediction rules cost and find: pairs and true pairs per rule, standard and tight.

Why: the tight rules (splink_config.prediction_rules) are for a million records, which we
do not run here (Splink needed 21 GiB there). This prints, on a size we can run, each
rule's new pairs and the true pairs among them, for both rule sets, and what the pairs
would be at a million records: a rule's blocks keep their keys (districts, birth years,
initials) as records grow, so pairs between different men grow with the square of the
records and true pairs linearly.

    .venv/bin/python benchmarks/splink_blocking.py --persons 100000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from linkage_bench import prepare  # noqa: E402
from splink_config import prediction_rules, settings, splink_input  # noqa: E402

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


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--persons", type=int, default=100000)
    p.add_argument("--seed", type=int, default=3)
    args = p.parse_args()
    records, truth = prepare(args.persons, args.seed)
    df = splink_input(records)
    by_id = pd.Series(truth, index=df["unique_id"].to_numpy())
    for tight in (False, True):
        report(df, by_id, tight)


if __name__ == "__main__":
    main()
