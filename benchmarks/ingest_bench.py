"""Ingestion benchmark (not a test): rows per second and peak memory, per format.

Run: make bench   (or .venv/bin/python benchmarks/ingest_bench.py --persons 54000 --repeat 3)
About 54,000 synthetic persons give about 100,000 rows across IOM CSV, MoSVY XLSX and NGO CSV.
The same files are ingested --repeat times, each time into a new store; the median and the
best run are printed, since one run on a shared machine can be a tenth off either way.
"""

from __future__ import annotations

import argparse
import functools
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from linkage.ingest.load import Ingestor
from linkage.ingest.validate import warm_up
from linkage.settings import load_settings
from linkage.store.db import dispose_engines, migrate
from linkage.synth.writers import generate


def forget_values() -> None:
    """Empty the bounded caches of normalised values (names, places, dates), so that a run
    after the first does not find the names of the same files already done. The unbounded
    caches (tables, gazetteer, GX context) stay: a worker holds those."""
    for module in list(sys.modules.values()):
        if not module or not module.__name__.startswith("linkage."):
            continue
        for value in vars(module).values():
            if isinstance(value, functools._lru_cache_wrapper) and value.cache_info().maxsize is not None:
                value.cache_clear()


def ingest_once(files: list[Path], home: Path, verbose: bool) -> tuple[dict[str, list[float]], float]:
    """Rows and seconds per format for one ingest of `files` into a new store; and Data Docs."""
    settings = load_settings(home=home, db_url="")
    migrate(settings)
    by_kind: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    with Ingestor(settings) as ingestor:  # as `survivor-link ingest`: Data Docs rendered once, at the end
        for f in files:
            t = time.perf_counter()
            r = ingestor.ingest_path(f)
            dt = time.perf_counter() - t
            kind = f.suffix.lstrip(".")
            by_kind[kind][0] += r.rows_read
            by_kind[kind][1] += dt
            if verbose:
                print(f"  {f.name:40s} {r.rows_read:>7,} rows {dt:6.2f} s {r.rows_read / dt:>9,.0f} rows/s")
        t_docs = time.perf_counter()
    docs = time.perf_counter() - t_docs
    dispose_engines()
    return dict(by_kind), docs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=54_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3, help="ingest the same files this many times")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        counts = generate(root / "data", args.persons, args.seed)
        print(f"generated {counts['records']:,} rows in {time.perf_counter() - t0:.1f} s")
        files = sorted((root / "data" / "landing").rglob("*.*"))
        warm_up()  # the imports and caches that a long-running worker already holds
        runs: list[dict[str, list[float]]] = []
        for i in range(args.repeat):
            forget_values()
            by_kind, docs = ingest_once(files, root / f"home{i}", verbose=i == 0)
            runs.append(by_kind)
            line = ", ".join(f"{k} {rows / secs:,.0f} rows/s" for k, (rows, secs) in sorted(by_kind.items()))
            print(f"run {i + 1}: {line}; Data Docs for all deliveries, rendered once: {docs:.2f} s")
        print(f"\n{len(runs)} run(s)   rows    median s   rows/s (median)   best s   rows/s (best)")
        kinds = sorted(runs[0])
        totals = {"all": [sum(r[k][1] for k in kinds) for r in runs]}
        rows = {k: runs[0][k][0] for k in kinds} | {"all": sum(runs[0][k][0] for k in kinds)}
        for kind in [*kinds, "all"]:
            secs = totals[kind] if kind == "all" else [r[kind][1] for r in runs]
            med, best = statistics.median(secs), min(secs)
            n = rows[kind]
            print(f"{kind:6s} {n:>14,.0f} {med:10.2f} {n / med:>18,.0f} {best:8.2f} {n / best:>15,.0f}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (max RSS): {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
