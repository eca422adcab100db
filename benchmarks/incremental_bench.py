"""Incremental linkage: a delivery of about 1,000 records linked against a large store.

Two ways to run it.

    .venv/bin/python benchmarks/incremental_bench.py --persons 100000

Uses the store that linkage_bench.py prepared for the same size (ingested, not linked):
copies it, links everything once (timed, with all store writes), then ingests a new
synthetic IOM-style delivery of --new records and links it (timed).

    .venv/bin/python benchmarks/incremental_bench.py --store /tmp/h3/home \\
        --delivery /tmp/h3/iom_returns_2026_01.csv --source iom --repeat 3 [--drop-cache] \\
        [--db-url postgresql+psycopg://postgres@127.0.0.1/h3_scale]

Takes an existing home whose records are all linked (a million, say), and for each trial
copies it (SQLite: the home folder; PostgreSQL: the database, by `createdb -T`, and the
home for its keys), optionally drops the page cache, then ingests the delivery and links
it, printing the seconds of every phase. Why a copy per trial: a trial writes the
delivery into the store, and the next must meet the same store. Warm means right after the
copy (which leaves the store in the page cache); --drop-cache writes back and drops the
page cache first (root only), so the store is read from disk. Either way the copy is
written back (sync) before the trial starts. --cli runs the two steps as
`survivor-link ingest` and `survivor-link link` processes instead, as an officer would,
Python's imports included.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
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


def _synthetic(args: argparse.Namespace) -> None:
    """The first way: our own synthetic store, linked whole, then a delivery of --new rows."""
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
    print(f"full link of {full.records_linked} records: {full_s:.1f} s ({_laps(full.seconds)})", flush=True)

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
        f"against {full.records_linked} stored: {inc_s:.2f} s ({_laps(inc.seconds)})"
    )
    print()
    print("| store records | full link (s) | new records | incremental link (s) |")
    print("|---|---|---|---|")
    print(f"| {full.records_linked} | {full_s:.1f} | {inc.records_linked} | {inc_s:.2f} |")
    dispose_engines()


def _laps(seconds: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in seconds.items())


def _drop_page_cache() -> None:
    """Dirty pages written back, then every clean page dropped (root; the whole machine's)."""
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def _pg_copy(url: str, template: str, trial: str) -> str:
    """A fresh copy of the template database under the trial's name; its URL."""
    base = url.rsplit("/", 1)[0]
    host = ["-h", "127.0.0.1", "-U", "postgres"]
    dispose_engines()  # no connection may stay open on the template
    subprocess.run(["dropdb", *host, "--if-exists", trial], check=True)
    subprocess.run(["createdb", *host, "-T", template, trial], check=True)
    return f"{base}/{trial}"


def _prepare(args: argparse.Namespace, trial: int) -> tuple[Path, str]:
    """This trial's home (a copy) and database URL ('' for the home's SQLite file)."""
    home = Path(args.work) / f"trial{trial}"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(args.store, home, ignore=shutil.ignore_patterns("archive", "data_docs", "landing"))
    url = ""
    if args.db_url:
        template = args.db_url.rsplit("/", 1)[1]  # trials named after it: two benches never share one
        url = _pg_copy(args.db_url, template, f"{template}_trial{trial}")
    if args.drop_cache:
        _drop_page_cache()
    else:
        # the copy's gigabytes are still dirty pages being written back; a link's commit
        # (an fsync) would wait behind them (2.4 s instead of 0.7 at a million records),
        # a cost of the benchmark's copy that a store in service does not have
        os.sync()
    return home, url


def _in_process(home: Path, url: str, args: argparse.Namespace) -> dict[str, float]:
    """Ingest and link in this process; seconds per phase."""
    from linkage.pipeline import ingest_paths

    settings = load_settings(home=home, db_url=url, data_docs=False)
    c0, t0 = time.process_time(), time.perf_counter()
    run = ingest_paths(settings, [Path(args.delivery)], args.source)
    c1, t1 = time.process_time(), time.perf_counter()
    summary = link(settings)
    c2, t2 = time.process_time(), time.perf_counter()
    dispose_engines()
    loaded = sum(r.rows_loaded for r in run.results)
    print(
        f"  ingest {t1 - t0:.2f} s ({c1 - c0:.2f} CPU s; {loaded} rows), link {t2 - t1:.2f} s "
        f"({c2 - c1:.2f} CPU s; {summary.records_linked} records, "
        f"{summary.pairs_compared} pairs; {_laps(summary.seconds)})"
    )
    return {"ingest": t1 - t0, "link": t2 - t1}


def _children_cpu() -> float:
    """CPU seconds (user + system) of every child process waited for so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _as_processes(home: Path, url: str, args: argparse.Namespace) -> dict[str, float]:
    """`survivor-link ingest FILE` then `survivor-link link`, each its own process."""
    env = os.environ | {
        "SURVIVOR_LINK_HOME": str(home),
        "SURVIVOR_LINK_DB_URL": url,
        "SURVIVOR_LINK_DATA_DOCS": "0",
    }
    cli = str(Path(sys.executable).parent / "survivor-link")
    out, cpu = {}, {}
    steps = [("ingest", ["ingest", "--source", args.source, args.delivery]), ("link", ["link"])]
    if args.run:  # the whole `survivor-link run` of a folder holding the delivery: ingest, link, flags
        folder = home.parent / f"{home.name}-landing"
        shutil.rmtree(folder, ignore_errors=True)
        (folder / args.source).mkdir(parents=True)
        shutil.copy(args.delivery, folder / args.source)
        steps = [("run", ["run", "--as-of", "2026-01-01", str(folder)])]
    for name, argv in steps:
        c, t = _children_cpu(), time.perf_counter()
        subprocess.run([cli, *argv], env=env, check=True, stdout=subprocess.DEVNULL)
        out[name], cpu[name] = time.perf_counter() - t, _children_cpu() - c
    print("  " + ", ".join(f"{k} {out[k]:.2f} s ({cpu[k]:.2f} CPU s)" for k in out) + " (processes)")
    return out


def _existing(args: argparse.Namespace) -> None:
    """The second way: trials on copies of an existing, linked store."""
    rows = []
    for trial in range(args.repeat):
        home, url = _prepare(args, trial)
        kind = f"{'cold' if args.drop_cache else 'warm'}, {'PostgreSQL' if url else 'SQLite'}"
        print(f"trial {trial + 1} ({kind}):")
        times = (_as_processes if args.cli else _in_process)(home, url, args)
        rows.append(sum(times.values()))
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(home.parent / f"{home.name}-landing", ignore_errors=True)
        if url:
            dispose_engines()
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", url.rsplit("/", 1)[1]], check=True)
    each = ", ".join(f"{r:.2f}" for r in rows)
    print(f"{' + '.join(times)}, each trial: {each} s; median {sorted(rows)[len(rows) // 2]:.2f} s")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--persons", type=int, default=100000)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--new", type=int, default=1000, help="records in the new delivery")
    p.add_argument("--store", help="an existing home whose records are linked (the second way)")
    p.add_argument("--db-url", default="", help="the store's PostgreSQL database (a template for copies)")
    p.add_argument("--delivery", help="the file to ingest and link")
    p.add_argument("--source", default="iom")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--drop-cache", action="store_true", help="drop the page cache before each trial")
    p.add_argument("--cli", action="store_true", help="run ingest and link as survivor-link processes")
    p.add_argument("--run", action="store_true", help="with --cli: one `survivor-link run` of the delivery")
    p.add_argument("--work", default="/tmp/incremental-bench")
    args = p.parse_args()
    if args.store:
        if not args.delivery:
            raise SystemExit("--store needs --delivery")
        _existing(args)
    else:
        _synthetic(args)


if __name__ == "__main__":
    main()
