"""`survivor-link estimate`: the estimate from the store or from a capture-history CSV.

Why apart from linkage/cli.py: the CLI module stays a list of subcommands; what the
estimate command prints, and how it says why a period has no number, lives here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from linkage.estimate.estimate import ASSUMPTIONS, Estimate, estimate
from linkage.estimate.imputation import DRAWS
from linkage.estimate.table import TableError, read_counts
from linkage.settings import Settings


def run(
    console: Console,
    *,
    counts: str | None,
    settings_factory: Callable[[], Settings],
    as_of: dt.date,
    by: str,
    method: str | None,
    resamples: int,
    seed: int,
    as_json: bool,
    draws: int = DRAWS,
) -> int:
    """Estimate and print; exit 1 when no period has a number (each says why)."""
    if counts:
        try:
            table = read_counts(Path(counts))
        except TableError as exc:
            console.print(f"[red]{exc}[/]")
            return 2
        method = method or "chan-silverman-vincent"
        results = [estimate(table, Path(counts).stem, method, resamples=resamples, seed=seed)]
    else:
        from linkage.estimate.store import STORE_METHOD, estimate_store

        method = method or STORE_METHOD
        results = estimate_store(
            settings_factory(), as_of, by, method, resamples=resamples, seed=seed, draws=draws
        )
    if as_json:
        print(json.dumps([r.as_json() for r in results], ensure_ascii=False, indent=1))
    else:
        print_table(console, results, by if not counts else "table")
    if not results:
        console.print("no returns on record: nothing to estimate")
    return 0 if any(r.estimate is not None for r in results) else 1


NO_CORRECTION = (
    "none (no open review pair could join two returns, or --draws 0); the review band's range "
    "widens the interval"
)


def _n(x: float | None) -> str:
    return "" if x is None else f"{x:,.0f}"


def print_table(console: Console, results: list[Estimate], by: str) -> None:
    t = Table(title="Returns listed and estimated in all (multiple systems estimation)")
    cols = (
        by,
        "listed",
        "estimated in all",
        "95% interval",
        "sampling only",
        "on no list",
        "review band",
        "model",
    )
    for col in cols:
        t.add_column(col, overflow="fold")
    for r in results:
        if r.estimate is None:
            t.add_row(r.period, str(r.listed), "-", "", "", "", "", f"[yellow]no estimate: {r.reason}[/]")
            continue
        span = f"{_n(r.lower)} - {_n(r.upper)}"
        band = f"{_n(r.linkage_range[0])} - {_n(r.linkage_range[1])}" if r.linkage_range else ""
        sampling = f"{_n(r.sampling[0])} - {_n(r.sampling[1])}" if r.sampling else ""
        t.add_row(
            r.period, str(r.listed), _n(r.estimate), span, sampling, _n(r.on_no_list), band, r.model or ""
        )
    console.print(t)
    done = [r for r in results if r.estimate is not None]
    if done:
        console.print(
            f"lists: {', '.join(done[0].lists)}; method: {done[0].method}; interval: {done[0].interval}"
        )
        console.print(f"linkage correction: {done[0].correction or NO_CORRECTION}")
        console.print(ASSUMPTIONS)
