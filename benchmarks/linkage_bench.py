"""Linkage side by side: survivor-link, Splink 5 (DuckDB) and plain recordlinkage.

All three get the same canonical records (after our ingest: romanised Latin names for
Khmer-only lists, gazetteer codes, E.164 phones, parsed dates). Splink is configured as a
competent user of these lists would configure it (benchmarks/splink_config.py: its input
columns built with our normalisers, its comparisons, blocking and training as issue 19
lists them). Each is timed from records in memory to clusters, then scored pairwise
against the synthetic truth. Splink is reported at its best of several thresholds (tuned
on the truth, which no user has) and at 0.9 (a threshold chosen without it); ours at the
configured one.

    .venv/bin/python benchmarks/linkage_bench.py --persons 20000
    .venv/bin/python benchmarks/linkage_bench.py --persons 100000 --only ours,splink
    .venv/bin/python benchmarks/linkage_bench.py --persons 550000 --only ours,splink   # ~1M records

From 500,000 records Splink blocks with its tighter rules (splink_config.prediction_rules
says why); --splink-tight / --no-splink-tight choose them at any size.

The synthetic lists and the ingested store are cached under var/bench/ (the first run
of a size generates and ingests them; that time is not part of any figure).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_data import cache_dir  # noqa: E402
from splink_config import run_splink  # noqa: E402

from linkage.match.evaluate import link_records, pair_scores  # noqa: E402
from linkage.match.frame import RECORD_COLUMNS  # noqa: E402
from linkage.settings import load_settings  # noqa: E402

# Splink is scored at each of these match probabilities; reported at its best and at 0.9
SPLINK_THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)
SPLINK_PLAIN = 0.9


class PeakMemory:
    """Peak resident memory of this process while a block runs (sampled every 50 ms)."""

    def __enter__(self) -> PeakMemory:
        self.proc = psutil.Process(os.getpid())
        self.start = self.proc.memory_info().rss
        self.peak = self.start
        self.running = True
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        return self

    def _watch(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()

    @property
    def peak_mib(self) -> float:
        return self.peak / 2**20


def prepare(persons: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Records (as our ingest stores them) and their true person, cached per size."""
    cache = cache_dir(persons, seed)
    frame_file = cache / "records.pkl"
    if frame_file.exists():
        data = pd.read_pickle(frame_file)
        return data.drop(columns=["truth"]), data["truth"].to_numpy()
    from linkage.ingest.load import Ingestor
    from linkage.store.db import migrate, session_scope
    from linkage.store.models import Delivery, Record
    from linkage.synth.writers import generate

    cache.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    generate(cache / "lists", persons, seed)
    settings = load_settings(home=cache / "store", db_url="")
    migrate(settings)
    ingestor = Ingestor(settings)
    for f in sorted((cache / "lists" / "landing").rglob("*.*")):
        ingestor.ingest_path(f)
    from sqlalchemy import select

    with session_scope(settings) as s:
        cols = [getattr(Record, c) for c in RECORD_COLUMNS]
        stmt = select(*cols, Record.source_record_id, Delivery.file_name).join(
            Delivery, Delivery.sha256 == Record.delivery_sha256
        )
        records = pd.read_sql(stmt, s.connection())
    truth = pd.read_csv(cache / "lists" / "truth" / "records.csv", dtype=str).rename(
        columns={"file": "file_name"}
    )
    records = records.merge(truth, on=["source", "file_name", "source_record_id"], how="inner")
    data = records[RECORD_COLUMNS].assign(truth=records["person_id"].to_numpy())
    data.to_pickle(frame_file)
    print(f"prepared {len(data)} records in {time.perf_counter() - t:.0f} s (cached in {cache})")
    return data.drop(columns=["truth"]), data["truth"].to_numpy()


def run_ours(records: pd.DataFrame) -> np.ndarray:
    done = link_records(records, load_settings())
    share = done.review_queue / max(len(records), 1)
    print(
        f"ours: review queue {done.review_queue:,} pairs ({share:.2%} of the records), "
        f"review band {done.review_band:,}",
        flush=True,
    )
    return done.labels


def _plain_input(records: pd.DataFrame) -> pd.DataFrame:
    def up(col: str) -> pd.Series:
        s = records[col].astype("string").str.upper().str.strip()
        return s.mask(s == "", pd.NA)

    ret = pd.to_datetime(records["return_date"], errors="coerce")
    year = pd.to_numeric(records["birth_year"], errors="coerce")
    year = year.fillna(ret.dt.year - pd.to_numeric(records["age"], errors="coerce"))
    return pd.DataFrame(
        {
            "unique_id": records["id"].astype("int64"),
            "family_name": up("family_name"),
            "given_name": up("given_name"),
            "birth_year": year.astype("Int64"),
            "province": records["province_code"].astype("string"),
            "district": records["district_code"].astype("string"),
            "commune": records["commune_code"].astype("string"),
            "phone": records["phone"].astype("string"),
            "national_id": records["national_id"].astype("string"),
            "return_date": ret.dt.strftime("%Y-%m-%d").astype("string"),
        }
    )


def run_recordlinkage(records: pd.DataFrame) -> np.ndarray:
    """recordlinkage as its tutorial uses it: blocking, string and exact comparisons, ECM."""
    import recordlinkage as rl
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    df = _plain_input(records).set_index("unique_id")
    for c in df.columns:
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    indexer = rl.Index()
    indexer.block(["family_name", "birth_year"])
    indexer.block(["given_name", "district"])
    indexer.block("phone")
    pairs = indexer.index(df)
    comp = rl.Compare()
    comp.string("family_name", "family_name", method="jarowinkler", threshold=0.85, label="family")
    comp.string("given_name", "given_name", method="jarowinkler", threshold=0.85, label="given")
    comp.exact("birth_year", "birth_year", label="year")
    comp.exact("district", "district", label="district")
    comp.exact("phone", "phone", missing_value=0, label="phone")
    features = comp.compute(pairs, df)
    matches = rl.ECMClassifier(binarize=0.5).fit_predict(features)
    pos = {uid: i for i, uid in enumerate(df.index)}
    a = np.array([pos[x] for x in matches.get_level_values(0)], dtype=np.int64)
    b = np.array([pos[x] for x in matches.get_level_values(1)], dtype=np.int64)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(df), len(df)))
    return connected_components(graph, directed=False)[1]


def _reported(tool: str, scored: list) -> list:
    """The best of a tool's thresholds, and Splink's 0.9 too (a threshold chosen without the truth)."""
    best_key, best = max(scored, key=lambda kv: kv[1].f1)
    rows = [(f"{best_key} (best)" if len(scored) > 1 else best_key, best)]
    if tool == "splink" and best_key != SPLINK_PLAIN:
        rows += [(k, sc) for k, sc in scored if k == SPLINK_PLAIN]
    return rows


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--persons", type=int, default=20000)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--only", default="ours,splink,recordlinkage")
    p.add_argument(
        "--splink-tight",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="Splink's tighter blocking for a million records (default: from 500,000 records)",
    )
    p.add_argument("--prepare-only", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.prepare_only:
        prepare(args.persons, args.seed)
        return
    if not (cache_dir(args.persons, args.seed) / "records.pkl").exists():
        # in a process of its own: what generating and ingesting a million rows leaves
        # allocated must not count in the peak memory of the tools measured here
        cmd = [sys.executable, __file__, "--persons", str(args.persons), "--seed", str(args.seed)]
        subprocess.run([*cmd, "--prepare-only"], check=True)
    records, truth = prepare(args.persons, args.seed)
    print(f"{len(records)} records of {len(set(truth))} persons; cpus: {os.cpu_count()}")
    rows = []
    truth_s = pd.Series(truth)
    for tool in args.only.split(","):
        gc.collect()
        t = time.perf_counter()
        extra = 0.0  # time spent only because several thresholds are scored
        with PeakMemory() as mem:
            if tool == "ours":
                results = {"configured": run_ours(records)}
            elif tool == "splink":
                done = run_splink(records, SPLINK_THRESHOLDS, tight=args.splink_tight)
                results, extra = done.labels, done.extra_seconds
            elif tool == "recordlinkage":
                results = {"ECM": run_recordlinkage(records)}
            else:
                raise SystemExit(f"unknown tool {tool}")
        seconds = time.perf_counter() - t - extra
        scored = [(k, pair_scores(tool, pd.Series(v), truth_s)) for k, v in results.items()]
        for key, sc in scored if len(scored) > 1 else []:
            print(f"  {tool} at {key}: P {sc.precision:.4f}  R {sc.recall:.4f}  F1 {sc.f1:.4f}")
        for key, sc in _reported(tool, scored):
            rows.append((tool, key, seconds, mem.peak_mib, sc))
            print(
                f"{tool:14s} threshold {key!s:10s} {seconds:8.1f} s  peak {mem.peak_mib:7.0f} MiB  "
                f"P {sc.precision:.4f}  R {sc.recall:.4f}  F1 {sc.f1:.4f}",
                flush=True,
            )
    print()
    print("| tool | threshold | records | seconds | peak MiB (process) | precision | recall | F1 |")
    print("|---|---|---|---|---|---|---|---|")
    for tool, key, seconds, peak, sc in rows:
        print(
            f"| {tool} | {key} | {len(records)} | {seconds:.1f} | {peak:.0f} | "
            f"{sc.precision:.4f} | {sc.recall:.4f} | {sc.f1:.4f} |"
        )
    print(f"max RSS of the run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
