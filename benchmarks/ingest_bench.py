"""Ingestion benchmark (not a test): rows per second and peak memory, per format.

Run: make bench   (or .venv/bin/python benchmarks/ingest_bench.py --persons 56000 --repeat 3)
About 56,000 synthetic persons give just over 100,000 rows across IOM CSV, MoSVY XLSX and NGO CSV.
The same files are ingested --repeat times, each time by a new process into a new store, as
an Airflow task would (later runs inside one process were up to a tenth slower: memory
reused, not code); the median and the best run are printed.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from linkage.ingest.load import Ingestor
from linkage.ingest.validate import warm_up
from linkage.settings import load_settings
from linkage.store.db import migrate
from linkage.synth.writers import generate


def ingest_once(files: list[Path], home: Path, verbose: bool) -> dict[str, object]:
    """Rows and seconds per format for one ingest of `files` into a new store; and Data Docs."""
    settings = load_settings(home=home, db_url="")
    migrate(settings)
    warm_up()  # the imports and caches that a worker holds before its first delivery
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
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"by_kind": dict(by_kind), "docs": docs, "peak_mib": peak}


def run_in_new_process(data: Path, home: Path, verbose: bool) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--one-run", str(data), "--home", str(home)]
    out = subprocess.run(cmd + (["--verbose"] if verbose else []), check=True, capture_output=True, text=True)
    *shown, result = out.stdout.splitlines()
    for line in shown:
        print(line)
    return json.loads(result)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=56_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3, help="ingest the same files this many times")
    ap.add_argument("--one-run", type=Path, help=argparse.SUPPRESS)  # a child: ingest this data once
    ap.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--verbose", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one_run:
        files = sorted((args.one_run / "landing").rglob("*.*"))
        print(json.dumps(ingest_once(files, args.home, args.verbose)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        counts = generate(root / "data", args.persons, args.seed)
        print(f"generated {counts['records']:,} rows in {time.perf_counter() - t0:.1f} s")
        runs = []
        for i in range(args.repeat):
            run = run_in_new_process(root / "data", root / f"home{i}", verbose=i == 0)
            runs.append(run)
            by_kind = run["by_kind"]
            line = ", ".join(f"{k} {rows / secs:,.0f} rows/s" for k, (rows, secs) in sorted(by_kind.items()))
            print(f"run {i + 1}: {line}; Data Docs for all deliveries, rendered once: {run['docs']:.2f} s")
        print(f"\n{len(runs)} run(s)   rows    median s   rows/s (median)   best s   rows/s (best)")
        kinds = sorted(runs[0]["by_kind"])
        for kind in [*kinds, "all"]:
            use = kinds if kind == "all" else [kind]
            n = sum(runs[0]["by_kind"][k][0] for k in use)
            secs = [sum(r["by_kind"][k][1] for k in use) for r in runs]
            med, best = statistics.median(secs), min(secs)
            print(f"{kind:6s} {n:>14,.0f} {med:10.2f} {n / med:>18,.0f} {best:8.2f} {n / best:>15,.0f}")
        print(f"peak memory of an ingest process (max RSS): {max(r['peak_mib'] for r in runs):,.0f} MiB")


if __name__ == "__main__":
    main()
