"""Incremental linkage: a delivery of about 1,000 records linked against a large store.

    .venv/bin/python benchmarks/incremental_bench.py --persons 100000

Uses the store that linkage_bench.py prepared for the same size (ingested, not linked):
copies it, links everything once (timed, with all store writes), then ingests a new
synthetic IOM-style delivery of --new records and links it (timed). The second figure is
the one that must stay small as the store grows.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_data import cache_dir  # noqa: E402

from linkage.ingest.load import Ingestor  # noqa: E402
from linkage.match.linker import link  # noqa: E402
from linkage.settings import load_settings  # noqa: E402
from linkage.store.db import dispose_engines, migrate  # noqa: E402
from linkage.synth.writers import generate  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--persons", type=int, default=100000)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--new", type=int, default=1000, help="records in the new delivery")
    args = p.parse_args()
    cache = cache_dir(args.persons, args.seed)
    if not (cache / "store").exists():
        raise SystemExit(f"run benchmarks/linkage_bench.py --persons {args.persons} first")
    work = ROOT / "var" / "bench" / f"incremental-p{args.persons}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(cache / "store", work / "store")
    settings = load_settings(home=work / "store", db_url="")
    migrate(settings)

    t = time.perf_counter()
    full = link(settings)
    full_s = time.perf_counter() - t
    print(f"full link of {full.records_linked} records: {full_s:.1f} s ({full.seconds})", flush=True)

    # A new delivery: a fresh synthetic population's first IOM list, cut to --new rows.
    generate(work / "new", args.new * 3, args.seed + 1000)
    iom = sorted((work / "new" / "landing" / "iom").glob("*.csv"))[0]
    lines = iom.read_text(encoding="utf-8-sig").splitlines()
    delivery = work / "delivery.csv"
    delivery.write_text("\n".join(lines[: args.new + 1]) + "\n", encoding="utf-8")
    result = Ingestor(settings).ingest_path(delivery, "iom")
    t = time.perf_counter()
    inc = link(settings)
    inc_s = time.perf_counter() - t
    print(
        f"incremental link of {inc.records_linked} new records (delivery of {result.rows_loaded} rows) "
        f"against {full.records_linked} stored: {inc_s:.2f} s ({inc.seconds})"
    )
    print()
    print("| store records | full link (s) | new records | incremental link (s) |")
    print("|---|---|---|---|")
    print(f"| {full.records_linked} | {full_s:.1f} | {inc.records_linked} | {inc_s:.2f} |")
    dispose_engines()


if __name__ == "__main__":
    main()
