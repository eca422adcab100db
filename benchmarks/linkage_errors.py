"""Where linkage goes wrong (not a test): false links and missed links by kind, as tables.

Why: a pairwise F1 says how much is wrong, not what. This links synthetic lists in memory
(the pure steps `evaluate` uses) and sorts every wrong pair into the classes that issue
reports name: false links between brothers (the truth's households) or other men, missed
links where a record has no district, where births or returns differ, or that blocking
never proposed. Habits can be turned up, or noise added, as in the robustness benchmark.

    .venv/bin/python benchmarks/linkage_errors.py --persons 5000
    .venv/bin/python benchmarks/linkage_errors.py --persons 5000 --habit brothers
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_data import data_version  # noqa: E402
from benchmarks.robustness_bench import HABITS, KINDS, noisy_copy  # noqa: E402
from linkage.ingest.load import Ingestor  # noqa: E402
from linkage.match.evaluate import link_records, pair_scores  # noqa: E402
from linkage.match.frame import RECORD_COLUMNS  # noqa: E402
from linkage.settings import load_settings  # noqa: E402
from linkage.store.db import dispose_engines, migrate, session_scope  # noqa: E402
from linkage.synth.habits import Habits  # noqa: E402
from linkage.synth.writers import generate  # noqa: E402


def _records(persons: int, seed: int, habit: str, cache: Path) -> pd.DataFrame:
    """Stored records of a synthetic population, with each record's true person and household."""
    from sqlalchemy import select

    from linkage.store.models import Delivery, Record

    tag = hashlib.sha256(f"{persons}-{seed}-{habit}-{data_version()}".encode()).hexdigest()[:12]
    cached = cache / f"errors-{tag}.pkl"
    if cached.exists():
        return pickle.loads(cached.read_bytes())
    work = cache / f"errors-{tag}"
    if habit in HABITS:
        generate(work / "lists", persons, seed, habits=Habits().scaled(**HABITS[habit]))
    else:  # the default habits, then noise of one kind (or all) on the written lists
        generate(work / "clean", persons, seed)
        kinds = set(KINDS) if habit == "all" else {habit}
        noisy_copy(work / "clean", work / "lists", kinds, seed)
    settings = load_settings(home=work / "home", db_url="")
    migrate(settings)
    with Ingestor(settings) as ingestor:
        for f in sorted((work / "lists" / "landing").rglob("*.*")):
            ingestor.ingest_path(f)
    with session_scope(settings) as s:
        stmt = select(
            *[getattr(Record, c) for c in RECORD_COLUMNS], Delivery.file_name, Record.source_record_id
        ).join(Delivery, Delivery.sha256 == Record.delivery_sha256)
        stored = pd.read_sql(stmt, s.connection())
    dispose_engines()
    truth_dir = work / "lists" / "truth"
    truth = pd.read_csv(truth_dir / "records.csv", dtype=str).rename(columns={"file": "file_name"})
    households = pd.read_csv(truth_dir / "persons.csv", dtype=str)
    merged = stored.merge(truth, on=["source", "file_name", "source_record_id"])
    merged = merged.merge(households, on="person_id")
    cache.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(pickle.dumps(merged))
    return merged


def _pairs_within(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of positions sharing a label."""
    order = np.argsort(labels, kind="stable")
    lefts, rights = [], []
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    for s, e in zip(starts, np.r_[starts[1:], len(order)], strict=True):
        members = order[s:e]
        if len(members) > 1:
            a, b = np.triu_indices(len(members), 1)
            lefts.append(members[a])
            rights.append(members[b])
    if not lefts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(lefts), np.concatenate(rights)


def _table(title: str, counts: dict[str, int], total: int) -> Table:
    t = Table(title=title)
    t.add_column("kind")
    t.add_column("pairs", justify="right")
    t.add_column("share", justify="right")
    for kind, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        t.add_row(kind, f"{n:,}", f"{n / total:.0%}" if total else "-")
    return t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--habit", default="none", choices=[*KINDS, "all", *HABITS], help="habit or noise kind")
    ap.add_argument("--cache", type=Path, default=ROOT / "var" / "bench")
    args = ap.parse_args()
    console = Console()
    with console.status("generating and ingesting the lists (cached after the first run)"):
        recs = _records(args.persons, args.seed, args.habit, args.cache)
    settings = load_settings(home=args.cache / "errors-home", db_url="")
    t = time.perf_counter()
    done = link_records(recs[RECORD_COLUMNS], settings)
    labels = done.labels
    took = time.perf_counter() - t
    truth = recs["person_id"].to_numpy()
    score = pair_scores("persons", pd.Series(labels), pd.Series(truth))
    console.print(
        f"{len(recs):,} records linked in {took:.1f} s: precision {score.precision:.4f}, "
        f"recall {score.recall:.4f}, F1 {score.f1:.4f}; {done.review_queue:,} pairs for review "
        f"({done.review_queue / len(recs):.2%} of the records)"
    )
    house = recs["household"].to_numpy()
    district = recs["district_code"].fillna("").to_numpy()
    year = pd.to_numeric(recs["birth_year"], errors="coerce").to_numpy()
    ret = pd.to_datetime(recs["return_date"], errors="coerce")

    a, b = _pairs_within(labels)
    wrong = truth[a] != truth[b]
    a, b = a[wrong], b[wrong]
    false_kinds = {
        "brothers": int((house[a] == house[b]).sum()),
        "other men": int((house[a] != house[b]).sum()),
    }
    console.print(_table("False links (two men in one person)", false_kinds, len(a)))

    a, b = _pairs_within(np.asarray(pd.factorize(truth)[0]))
    missed = labels[a] != labels[b]
    a, b = a[missed], b[missed]
    blank = (district[a] == "") | (district[b] == "")
    gap = np.abs(year[a] - year[b])
    days = np.abs((ret.iloc[a].to_numpy() - ret.iloc[b].to_numpy()) / np.timedelta64(1, "D"))
    missed_kinds = {
        "a district blank": int(blank.sum()),
        "births over a year apart": int((~blank & (gap > 1)).sum()),
        "returns over a week apart": int((~blank & ~(gap > 1) & (days > 7)).sum()),
        "other": int((~blank & ~(gap > 1) & ~(days > 7)).sum()),
    }
    console.print(_table("Missed links (one man in two persons)", missed_kinds, len(a)))


if __name__ == "__main__":
    main()
