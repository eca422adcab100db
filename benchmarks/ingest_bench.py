"""Ingestion benchmark (not a test): rows per second and peak memory, per format.

Run: make bench   (or .venv/bin/python benchmarks/ingest_bench.py --persons 54000)
About 54,000 synthetic persons give about 100,000 rows across IOM CSV, MoSVY XLSX and NGO CSV.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from linkage.ingest.load import Ingestor
from linkage.ingest.validate import warm_up
from linkage.settings import load_settings
from linkage.store.db import migrate
from linkage.synth.writers import generate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=54_000)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        counts = generate(root / "data", args.persons, args.seed)
        print(f"generated {counts['records']:,} rows in {time.perf_counter() - t0:.1f} s")
        settings = load_settings(home=root / "home", db_url="")
        migrate(settings)
        ingestor = Ingestor(settings)
        warm_up()  # the imports and caches that a long-running worker already holds
        by_kind: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        total_rows, t_all = 0, time.perf_counter()
        with ingestor:  # as `survivor-link ingest`: Data Docs rendered once, at the end
            for f in sorted((root / "data" / "landing").rglob("*.*")):
                t = time.perf_counter()
                r = ingestor.ingest_path(f)
                dt = time.perf_counter() - t
                kind = f.suffix.lstrip(".")
                by_kind[kind][0] += r.rows_read
                by_kind[kind][1] += dt
                total_rows += r.rows_read
                print(f"  {f.name:40s} {r.rows_read:>7,} rows {dt:6.2f} s {r.rows_read / dt:>9,.0f} rows/s")
            t_docs = time.perf_counter()
        docs = time.perf_counter() - t_docs
        elapsed = time.perf_counter() - t_all
        print(f"  Data Docs for all deliveries, rendered once: {docs:.2f} s")
        print("\nformat   rows      seconds   rows/s")
        for kind, (rows, secs) in sorted(by_kind.items()):
            print(f"{kind:6s} {rows:>8,.0f} {secs:9.2f} {rows / secs:>9,.0f}")
        print(f"all    {total_rows:>8,} {elapsed:9.2f} {total_rows / elapsed:>9,.0f}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (max RSS): {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
