"""Multiple systems estimation benchmark (not a test): published figures, and synthetic truth.

Why both: the published tables show the method is the published one (to the person where
the papers give a figure); the synthetic lists, whose truth knows every return including
those no list holds, show whether the interval covers the truth once linkage has done its
part. The synthetic part estimates twice: from the true capture histories (the truth's own
links, so only the model is judged) and from the linked store (model and linkage together).

    .venv/bin/python benchmarks/estimate_bench.py --resamples 500 --persons 5000 --seed 7
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from linkage.estimate.estimate import estimate  # noqa: E402
from linkage.estimate.interval import profile_interval  # noqa: E402
from linkage.estimate.select import select  # noqa: E402
from linkage.estimate.store import STORE_METHOD, estimate_store  # noqa: E402
from linkage.estimate.table import from_memberships, read_counts  # noqa: E402
from linkage.referral.flags import source_label  # noqa: E402

MSE = ROOT / "tests" / "data" / "mse"
# (file, what the sources published; tests/data/mse/README.md names them)
PUBLISHED = [
    ("NewOrl", "1,184 (CSV stepwise)"),
    ("NewOrl_5", "1,034 (CSV stepwise); bootstrap 981 [397, 1,564]"),
    ("Western", "2,483 (CSV stepwise)"),
    ("UKdat", "10,000-13,000 (Home Office 2014)"),
    ("UKdat_5", "10,000-13,000; bootstrap 12,262 [9,330, 32,115]"),
]


def n(x: float | None) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:,.0f}"


def published(resamples: int) -> None:
    print(f"Published tables (bootstrap: {resamples} resamples, BCa 95%, model chosen again in each)")
    head = ("table", "listed", "published", "CSV", "AIC", "profile 95% (CSV)", "bootstrap 95% (CSV)", "s")
    print(" | ".join(head))
    for name, figure in PUBLISHED:
        t0 = time.perf_counter()
        table = read_counts(MSE / f"{name}.csv")
        csv_fit, aic_fit = select(table, "chan-silverman-vincent"), select(table, "aic")
        lo, hi = profile_interval(csv_fit)
        boot = estimate(table, name, resamples=resamples)
        row = (
            name,
            str(table.listed),
            figure,
            n(csv_fit.total),
            n(aic_fit.total),
            f"[{n(lo)}, {n(hi)}]",
            f"[{n(boot.lower)}, {n(boot.upper)}]",
            f"{time.perf_counter() - t0:.1f}",
        )
        print(" | ".join(row))


def synthetic(persons: int, seed: int, resamples: int, as_of: dt.date, independent: bool) -> None:
    from linkage.ingest.load import Ingestor
    from linkage.match.linker import link
    from linkage.settings import load_settings
    from linkage.store.db import dispose_engines, migrate
    from linkage.synth.routes import Routes
    from linkage.synth.writers import generate

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "synth"
        routes = Routes.independent() if independent else Routes()
        generate(out, persons=persons, seed=seed, as_of=as_of, routes=routes)
        truth = pd.read_csv(out / "truth" / "events.csv", dtype=str)
        recs = pd.read_csv(out / "truth" / "records.csv", dtype=str)
        truth["year"] = truth["return_date"].str[:4]
        held = recs.groupby("event_id")["source"].agg(lambda s: frozenset(source_label(x) for x in s))
        truth["lists"] = truth["event_id"].map(held)
        lists = sorted({x for v in held for x in v})
        settings = load_settings(home=Path(tmp) / "home", db_url="")
        migrate(settings)
        ingestor = Ingestor(settings)
        for f in sorted((out / "landing").rglob("*.*")):
            ingestor.ingest_path(f)
        link(settings)
        stored = {e.period: e for e in estimate_store(settings, as_of, "year", resamples=resamples)}
        dispose_engines()
    kind = "independent lists" if independent else "lists dependent through how men came home"
    print(
        f"\nSynthetic {kind}: {persons} persons, seed {seed}, as of {as_of}, "
        f"{resamples} resamples, rule {STORE_METHOD}"
    )
    head = ("year", "true returns", "on no list (true)", "true links: estimate [95%]", "store: listed")
    print(" | ".join((*head, "store: estimate [95%]", "uncorrected", "review band range", "covered")))
    for year, g in truth.groupby("year"):
        true_n, hidden = len(g), int(g["lists"].isna().sum())
        on_lists = [v for v in g["lists"] if isinstance(v, frozenset)]
        ideal = estimate(from_memberships(on_lists, lists), year, STORE_METHOD, resamples=resamples)
        s = stored.get(year)
        if s is None or s.estimate is None:
            print(f"{year} | {true_n} | {hidden} | {n(ideal.estimate)} | - | {s.reason if s else 'none'}")
            continue
        covered = "yes" if s.lower <= true_n <= s.upper else "no"
        band = f"[{n(s.linkage_range[0])}, {n(s.linkage_range[1])}]" if s.linkage_range else "-"
        print(
            f"{year} | {true_n} | {hidden} | {n(ideal.estimate)} [{n(ideal.lower)}, {n(ideal.upper)}] | "
            f"{s.listed} | {n(s.estimate)} [{n(s.lower)}, {n(s.upper)}] | {n(s.uncorrected)} | {band} | "
            f"{covered}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resamples", type=int, default=500)
    ap.add_argument("--persons", type=int, default=5000, help="0: published tables only")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--as-of", default="2026-11-23")
    ap.add_argument("--no-published", dest="published", action="store_false", help="synthetic part only")
    ap.add_argument("--independent", action="store_true", help="the old independent lists, no routes")
    args = ap.parse_args()
    if args.published:
        published(args.resamples)
    if args.persons:
        as_of = dt.date.fromisoformat(args.as_of)
        synthetic(args.persons, args.seed, args.resamples, as_of, args.independent)


if __name__ == "__main__":
    main()
