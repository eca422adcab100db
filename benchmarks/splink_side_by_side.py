"""Issue 19 side by side: the whole first `survivor-link run` against the competent Splink, one run.

Why this and not linkage_bench.py: the issue's target is about the whole first run (ingest,
validation, link, flags, every store write) against Splink on the same records, scored
against a truth neither tool was built beside (benchmarks/independent/generate.py). Each
tool runs in a process of its own, so its peak memory is its own: the kernel's high-water
mark of that process, as `/usr/bin/time` reports it (os.wait4's ru_maxrss).

- ours: `survivor-link run DATA` into an empty home (SQLite, settings as shipped), timed
  wall-clock from start to exit; then `export records` (not timed) gives each record's person.
- Splink: a second process reads the records our ingest stored (the canonical records, so
  Splink gets our romanisation and gazetteer codes; not timed) and runs splink_config's
  competent configuration on DuckDB with its memory capped (`--memory-limit`, `--threads`,
  spilling to `--work`); timed from records in memory to clusters at one threshold
  (clustering at the other thresholds is left out, as no user would run it).

Both are scored pairwise on the same records against truth.csv, Splink at its best threshold
(chosen on the truth, which no user has) and at 0.9.

    .venv/bin/python benchmarks/independent/generate.py --records 180000 --seed 11 -o /tmp/hC/d180
    .venv/bin/python benchmarks/splink_side_by_side.py --data /tmp/hC/d180 --work /tmp/hC/w180
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

KH_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")
CLI = Path(sys.executable).with_name("survivor-link")
SPLINK_THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)
SPLINK_PLAIN = 0.9


class Measured(NamedTuple):
    seconds: float  # wall clock of the process
    cpu_seconds: float  # user + system of the process and its children
    peak_mib: float  # the process's resident high-water mark


def measured_run(cmd: list[str], env: dict[str, str], log: Path) -> Measured:
    """Run a command, its output to `log`; wall time, CPU time and max RSS as /usr/bin/time has them."""
    with log.open("w") as out:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(log.read_text()[-3000:])
        raise SystemExit(f"{cmd[1] if len(cmd) > 1 else cmd[0]} failed with exit code {proc.returncode}")
    return Measured(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def store_env(home: Path) -> dict[str, str]:
    """A scratch store: never var/ or anyone else's, SQLite, the shipped settings otherwise."""
    env = dict(os.environ, SURVIVOR_LINK_HOME=str(home), SURVIVOR_LINK_DB_URL="")
    env.pop("SURVIVOR_LINK_CONFIG", None)
    return env


def read_truth(data: Path) -> dict[tuple[str, str, str], str]:
    """The true man of each written record, by (source, file, record id)."""
    with (data / "truth.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {(t["source"], t["file"], t["record_id"]): t["person_id"] for t in csv.DictReader(fh)}


def read_ours(path: Path) -> dict[tuple[str, str, str], str]:
    """Each stored record's person from `export records` (a blank person is a man alone)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        out = {}
        for r in csv.DictReader(fh):
            key = (r["source"], r["file"], r["source_record_id"].translate(KH_DIGITS))
            out[key] = r["person_id"] or f"alone:{key}"
        return out


class Scores(NamedTuple):
    precision: float
    recall: float
    f1: float
    records: int


def _pairs(labels: np.ndarray) -> int:
    _, counts = np.unique(labels, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def pairwise(predicted: list[str], truth: list[str]) -> Scores:
    """Pairwise precision, recall and F1 of one labelling against the truth (no pair listing)."""
    _, p = np.unique(np.asarray(predicted, dtype=object), return_inverse=True)
    _, t = np.unique(np.asarray(truth, dtype=object), return_inverse=True)
    both = p.astype(np.int64) * (int(t.max(initial=0)) + 1) + t
    tp, pp, tq = _pairs(both), _pairs(p), _pairs(t)
    precision = tp / pp if pp else 1.0
    recall = tp / tq if tq else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, len(p))


# --- the Splink process -------------------------------------------------------------------


def stored_records(home: Path) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """Every stored record as the linker reads it, and its (source, file, record id)."""
    from sqlalchemy import select

    from linkage.match.frame import RECORD_COLUMNS
    from linkage.match.stored import in_content_order
    from linkage.settings import load_settings
    from linkage.store.db import session_scope
    from linkage.store.models import Delivery, Record
    from linkage.store.sealed import read_records_frame

    with session_scope(load_settings(home=home, db_url="")) as s:
        conn = s.connection()
        records = in_content_order(
            read_records_frame(conn, select(*[getattr(Record, c) for c in RECORD_COLUMNS]))
        )
        names = dict(
            (i, (src, f, rid.translate(KH_DIGITS)))
            for i, src, f, rid in s.execute(
                select(Record.id, Record.source, Delivery.file_name, Record.source_record_id).join(
                    Delivery, Delivery.sha256 == Record.delivery_sha256
                )
            )
        )
    return records, [names[i] for i in records["id"]]


def splink_worker(args: argparse.Namespace) -> None:
    """Splink on the store's records; labels per threshold and phase times to `args.out`."""
    from splink_config import DuckDBCaps, run_splink

    records, keys = stored_records(args.home)
    caps = DuckDBCaps(args.memory_limit, args.threads, str(args.work / "duckdb-temp"))
    t = time.perf_counter()
    run = run_splink(records, SPLINK_THRESHOLDS, tight=args.tight, caps=caps)
    seconds = time.perf_counter() - t - run.extra_seconds
    with args.out.open("wb") as fh:
        pickle.dump({"keys": keys, "labels": run.labels, "seconds": seconds, "steps": run.steps}, fh)


# --- the run ------------------------------------------------------------------------------


class Row(NamedTuple):
    tool: str
    threshold: str
    seconds: float
    cpu_seconds: float
    peak_mib: float
    scores: Scores


def run_ours(data: Path, work: Path) -> tuple[Measured, dict[tuple[str, str, str], str]]:
    home = work / "home"
    if (home / "survivor-link.db").exists():
        raise SystemExit(f"{home} already holds a store; give a new --work")
    home.mkdir(parents=True, exist_ok=True)
    env = store_env(home)
    ours = measured_run([str(CLI), "run", str(data)], env, work / "ours.log")
    print(
        f"ours: survivor-link run {ours.seconds:.1f} s, CPU {ours.cpu_seconds:.1f} s, "
        f"peak {ours.peak_mib:,.0f} MiB",
        flush=True,
    )
    measured_run([str(CLI), "export", "records", "-o", str(work / "records.csv")], env, work / "export.log")
    return ours, read_ours(work / "records.csv")


def run_splink_process(args: argparse.Namespace) -> tuple[Measured, dict]:
    out = args.work / "splink.pkl"
    cmd = [
        sys.executable,
        __file__,
        "--splink-worker",
        "--home",
        str(args.work / "home"),
        "--work",
        str(args.work),
        "--out",
        str(out),
        "--memory-limit",
        args.memory_limit,
        "--threads",
        str(args.threads),
    ]
    if args.tight is not None:
        cmd.append("--tight" if args.tight else "--no-tight")
    proc = measured_run(cmd, store_env(args.work / "home"), args.work / "splink.log")
    with out.open("rb") as fh:
        got = pickle.load(fh)
    print(
        f"splink process: {proc.seconds:.1f} s wall (store read included), peak {proc.peak_mib:,.0f} MiB; "
        + ", ".join(got["steps"]),
        flush=True,
    )
    return proc, got


def side_by_side(args: argparse.Namespace) -> list[Row]:
    truth = read_truth(args.data)
    args.work.mkdir(parents=True, exist_ok=True)
    ours, persons = run_ours(args.data, args.work)
    rows: list[Row] = []
    keys = [k for k in persons if k in truth]
    true_men = [truth[k] for k in keys]
    rows.append(
        Row(
            "survivor-link run",
            "configured",
            ours.seconds,
            ours.cpu_seconds,
            ours.peak_mib,
            pairwise([persons[k] for k in keys], true_men),
        )
    )
    if not args.only_ours:
        proc, got = run_splink_process(args)
        at = dict(zip(got["keys"], range(len(got["keys"])), strict=True))
        pos = np.array([at[k] for k in keys])  # the same records, in the same order
        scored = {t: pairwise(list(lab[pos]), true_men) for t, lab in got["labels"].items()}
        for t, sc in scored.items():
            print(f"  splink at {t}: P {sc.precision:.4f}  R {sc.recall:.4f}  F1 {sc.f1:.4f}", flush=True)
        best = max(scored, key=lambda t: scored[t].f1)
        for t in dict.fromkeys([best, SPLINK_PLAIN]):
            label = f"{t} (best)" if t == best else str(t)
            rows.append(
                Row("Splink 5 (DuckDB)", label, got["seconds"], float("nan"), proc.peak_mib, scored[t])
            )
    return rows


def print_table(rows: list[Row], args: argparse.Namespace) -> None:
    print(
        f"\nrecords scored {rows[0].scores.records:,}; load average {os.getloadavg()[0]:.1f} at the end; "
        f"DuckDB memory_limit {args.memory_limit}, threads {args.threads}"
    )
    print("| tool | threshold | seconds | peak MiB | precision | recall | F1 |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        sc = r.scores
        print(
            f"| {r.tool} | {r.threshold} | {r.seconds:,.1f} | {r.peak_mib:,.0f} | "
            f"{sc.precision:.4f} | {sc.recall:.4f} | {sc.f1:.4f} |"
        )
    if len(rows) > 1:
        ours, splink = rows[0], rows[1]
        print(
            f"ours' whole run takes {ours.seconds / splink.seconds:.1%} of Splink's time from records "
            f"in memory (target under 25%); F1 {ours.scores.f1:.4f}, Splink's best {splink.scores.f1:.4f}"
        )
    summary = [dict(r._asdict(), scores=r.scores._asdict()) for r in rows]
    (args.work / "table.json").write_text(json.dumps(summary, indent=1))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, help="a folder generate.py wrote (landing/ and truth.csv)")
    p.add_argument(
        "--work", type=Path, required=True, help="an empty folder for the store, logs and DuckDB's spill"
    )
    p.add_argument("--memory-limit", default="7GB", help="DuckDB's memory_limit for Splink")
    p.add_argument("--threads", type=int, default=2, help="DuckDB's threads for Splink")
    p.add_argument(
        "--tight",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="Splink's tighter prediction rules (default: from splink_config.TIGHT_FROM_RECORDS)",
    )
    p.add_argument("--only-ours", action="store_true", help="skip Splink")
    p.add_argument("--splink-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.splink_worker:
        splink_worker(args)
        return 0
    if args.data is None:
        p.error("--data is required")
    print_table(side_by_side(args), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
