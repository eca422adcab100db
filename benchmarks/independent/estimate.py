"""Score the estimate of returns on no list on the independent lists, per year of return.

Why: the estimate was only ever tested on lists from our own generator (linkage/synth),
built beside it. The independent generator knows every return, those no list reached too
(returns.csv), so the store's estimate and its interval can be held against the truth. The
estimate is also made from the true capture histories (truth.csv's returns), which
separates the model's error from linkage's.

    .venv/bin/python benchmarks/independent/generate.py --records 40000 --seed 1 -o /tmp/i40k
    .venv/bin/python benchmarks/independent/estimate.py --data /tmp/i40k --home /tmp/i40k-home

The home must be empty (then `survivor-link run` ingests, links and flags into it) or hold a
store linked from these lists (then only `survivor-link estimate` runs, with today's code).
Without --data, lists of --records and --seed are generated into a temporary folder.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from generate import generate  # noqa: E402

from linkage.estimate.estimate import Estimate, estimate  # noqa: E402
from linkage.estimate.store import STORE_METHOD  # noqa: E402
from linkage.estimate.table import from_memberships  # noqa: E402
from linkage.referral.flags import source_label  # noqa: E402

CLI = Path(sys.executable).with_name("survivor-link")
AS_OF = dt.date(2026, 1, 1)  # after every return and intake the generator writes


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, SURVIVOR_LINK_HOME=str(home), SURVIVOR_LINK_DATA_DOCS="0", SURVIVOR_LINK_DB_URL="")
    env.pop("SURVIVOR_LINK_CONFIG", None)
    return env


def _cli(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args], env=_env(home), capture_output=True, text=True)


def run_pipeline(data: Path, home: Path, as_of: dt.date) -> float:
    """`survivor-link run` into an empty home; seconds (0 when the home holds a store)."""
    if home.exists() and any(home.iterdir()):
        return 0.0
    home.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    done = _cli(["run", str(data), "--as-of", as_of.isoformat()], home)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"survivor-link run failed with exit code {done.returncode}")
    return time.perf_counter() - t


def store_estimates(home: Path, as_of: dt.date, resamples: int) -> dict[str, dict]:
    """`survivor-link estimate --json` per year, as a user runs it."""
    args = ["estimate", "--as-of", as_of.isoformat(), "--bootstrap", str(resamples), "--json"]
    done = _cli(args, home)
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit(f"survivor-link estimate failed with exit code {done.returncode}")
    return {e["period"]: e for e in json.loads(done.stdout)}


@dataclass
class Truth:
    """Per year: every true return, those on no list, and the true returns' sets of lists."""

    returns: dict[str, int]
    hidden: dict[str, int]
    held: dict[str, list[frozenset[str]]]
    lists: list[str]


def read_truth(data: Path) -> Truth:
    """returns.csv (the generator's truth of every return) by year of return."""
    returns: dict[str, int] = defaultdict(int)
    hidden: dict[str, int] = defaultdict(int)
    held: dict[str, list[frozenset[str]]] = defaultdict(list)
    with (data / "returns.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            year = r["return_date"][:4]
            returns[year] += 1
            on = frozenset(source_label(s) for s in r["lists"].split(";") if s)
            if on:
                held[year].append(on)
            else:
                hidden[year] += 1
    lists = sorted({x for v in held.values() for sets in v for x in sets})
    return Truth(dict(returns), dict(hidden), dict(held), lists)


def true_links(truth: Truth, resamples: int) -> dict[str, Estimate]:
    """The estimate from the true capture histories: the model judged alone."""
    return {
        y: estimate(from_memberships(truth.held[y], truth.lists), y, STORE_METHOD, resamples=resamples)
        for y in sorted(truth.returns)
        if y in truth.held
    }


def linkage_errors(data: Path, home: Path, as_of: dt.date) -> dict[str, tuple[int, int]]:
    """Per year of true return: store events beyond one per true return (a return split by a
    missed link) and true returns joined into another's event (a false link or a second
    return merged), the two ways linkage moves the table."""
    from flags import read_store

    rec = read_store(home, as_of).record
    with (data / "truth.csv").open(encoding="utf-8", newline="") as fh:
        episode = {(t["source"], t["file"], t["record_id"]): t["episode_id"] for t in csv.DictReader(fh)}
    with (data / "returns.csv").open(encoding="utf-8", newline="") as fh:
        year = {r["episode_id"]: r["return_date"][:4] for r in csv.DictReader(fh)}
    rec = rec.assign(ep=[episode.get(k) for k in rec["key"]])
    splits: dict[str, int] = defaultdict(int)
    joined: dict[str, int] = defaultdict(int)
    for ep, n in rec.groupby("ep")["event_id"].nunique().items():
        splits[year[ep]] += int(n) - 1
    for _ev, eps in rec.groupby("event_id")["ep"].agg(lambda s: sorted(set(s))).items():
        for ep in eps[1:]:
            joined[year[ep]] += 1
    return {y: (splits.get(y, 0), joined.get(y, 0)) for y in sorted(year.values())}


def _n(x: float | None) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:,.0f}"


def _covers(lo: float | None, hi: float | None, true: int) -> str:
    if lo is None or hi is None:
        return "-"
    return "yes" if lo <= true <= hi else "no"


def report(
    truth: Truth, ideal: dict[str, Estimate], stored: dict[str, dict], errors: dict[str, tuple[int, int]]
) -> list[dict]:
    """Print one row per year and return the rows (for --json and the README)."""
    head = (
        "year | true returns | on no list | true links: listed, estimate [95%], covered | "
        "store: listed, estimate [95%] (sampling only) | covered (sampling only) | error | "
        "returns split, joined"
    )
    print(head)
    rows = []
    for year in sorted(truth.returns):
        true, i, s = truth.returns[year], ideal.get(year), stored.get(year, {})
        row = {
            "year": year,
            "true_returns": true,
            "on_no_list": truth.hidden.get(year, 0),
            "true_listed": i.listed if i else 0,
            "true_links": [i.estimate, i.lower, i.upper] if i and i.estimate else None,
            "store_listed": s.get("listed"),
            "store": [s.get("estimate"), s.get("lower"), s.get("upper")] if s.get("estimate") else None,
            "sampling": s.get("sampling"),
            "uncorrected": s.get("uncorrected"),
            "imputed": s.get("imputed"),
            "model": s.get("model"),
            "reason": s.get("reason"),
            "split_joined": errors.get(year),
        }
        rows.append(row)
        ic = _covers(i.lower, i.upper, true) if i and i.estimate else "-"
        ideal_txt = f"{_n(i.estimate)} [{_n(i.lower)}, {_n(i.upper)}], {ic}" if i else "-"
        samp = s.get("sampling") or [None, None]
        store_txt = (
            f"{_n(s.get('listed'))}, {_n(s.get('estimate'))} [{_n(s.get('lower'))}, {_n(s.get('upper'))}]"
            f" ({_n(samp[0])}, {_n(samp[1])})"
        )
        covered = f"{_covers(s.get('lower'), s.get('upper'), true)} ({_covers(samp[0], samp[1], true)})"
        err = f"{(s['estimate'] - true) / true:+.1%}" if s.get("estimate") else "-"
        if s.get("uncorrected"):
            imp = s.get("imputed") or [None, None]
            err += f" (uncorrected {(s['uncorrected'] - true) / true:+.1%}, imputed covers"
            err += f" {_covers(imp[0], imp[1], true)})"
        split, joined = errors.get(year, (0, 0))
        cells = [year, f"{true:,}", f"{row['on_no_list']:,}", f"{row['true_listed']:,}, {ideal_txt}"]
        cells += [store_txt, covered, err, f"{split}, {joined}"]
        print(" | ".join(cells) + (f" | {s['reason']}" if s.get("reason") else ""))
    return rows


def _errors(rows: list[dict], key: str) -> str:
    errs = sorted(
        (r[key][0] if isinstance(r[key], list) else r[key]) / r["true_returns"] - 1
        for r in rows
        if r.get(key)
    )
    if not errs:
        return "-"
    mid = errs[len(errs) // 2] if len(errs) % 2 else (errs[len(errs) // 2 - 1] + errs[len(errs) // 2]) / 2
    return f"{mid:+.1%} [{errs[0]:+.1%}, {errs[-1]:+.1%}]"


def _covered(rows: list[dict], key: str) -> str:
    """Years whose interval (the last two of the row's values) holds the true count."""
    ends = [(r[key][-2:], r["true_returns"]) for r in rows if r.get(key)]
    return f"{sum(lo <= t <= hi for (lo, hi), t in ends)} of {len(ends)}"


def summary(rows: list[dict]) -> None:
    """Per source of histories: years covered, and the error's median [range]."""
    print(f"true links: covered {_covered(rows, 'true_links')}, error {_errors(rows, 'true_links')}")
    print(
        f"store: covered {_covered(rows, 'store')} (sampling only {_covered(rows, 'sampling')}, "
        f"imputed {_covered(rows, 'imputed')}), error {_errors(rows, 'store')}; "
        f"uncorrected {_errors(rows, 'uncorrected')}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="lists from generate.py (else generated here)")
    ap.add_argument("--records", type=int, default=40000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--home", type=Path, help="empty, or a store linked from these lists")
    ap.add_argument("--as-of", default=AS_OF.isoformat())
    ap.add_argument("--resamples", type=int, default=100, help="bootstrap resamples (0: profile only)")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    a = ap.parse_args(argv)
    as_of = dt.date.fromisoformat(a.as_of)
    with tempfile.TemporaryDirectory() as tmp:
        data = a.data or Path(tmp) / "lists"
        if a.data is None:
            generate(data, a.records, a.seed)
        home = a.home or Path(tmp) / "home"
        secs = run_pipeline(data, home, as_of)
        t = time.perf_counter()
        stored = store_estimates(home, as_of, a.resamples)
        est_secs = time.perf_counter() - t
        truth = read_truth(data)
        ideal = true_links(truth, a.resamples)
        errors = linkage_errors(data, home, as_of)
    print(
        f"{data}: run {secs:.0f} s, estimate {est_secs:.0f} s; rule {STORE_METHOD}, "
        f"{a.resamples} resamples; lists {', '.join(truth.lists)}"
    )
    rows = report(truth, ideal, stored, errors)
    summary(rows)
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
