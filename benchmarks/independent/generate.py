"""Independent generator of survivor lists (IOM CSV, MoSVY Excel in Khmer, NGO exports) with truth.

Why: our own generator (linkage/synth/) and the linker were built side by side, so scores on
its lists flatter us. This one was written apart from both, from the source mappings and the
domain notes only, to be a test bed we did not tune against (issue 18).

    .venv/bin/python benchmarks/independent/generate.py --records 4000 --seed 1 -o /tmp/indep4k
    .venv/bin/python benchmarks/independent/generate.py --records 40000 --rate brothers=0.3 -o ...

Writes <out>/landing/<source>/* (ready for `survivor-link run <out>`), <out>/truth.csv (record
-> true person, return, family, batch, the habits that shaped the row and the referral it
shows), <out>/persons.csv, <out>/episodes.csv (each return: referred or not, from its rows)
and <out>/returns.csv (every return, those on no list included).
Seeded and deterministic: the same arguments give the same rows (CSV files byte for byte;
a workbook's zip entries carry the time they were written).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from indep.lists import write_episodes, write_lists, write_persons, write_returns, write_truth  # noqa: E402
from indep.people import generate_population  # noqa: E402
from indep.rates import DEFAULT_RATES, parse_rates  # noqa: E402


def records_per_person(r: dict[str, float]) -> float:
    """About how many records one man leaves, to size the population for a record target."""
    per_return = r["on_iom"] * (1 + r["dup_iom"]) + r["on_mosvy"] * (1 + r["dup_mosvy"]) + r["on_ngo"]
    return per_return * (1 + 0.85 * r["retrafficked"] * 1.15)


def generate(out: Path, records: int, seed: int, rates: dict[str, float] | None = None,
             by_year: bool = True) -> dict[str, object]:
    """Write the lists and truth for about `records` records; returns counts by source.

    by_year: one file per list and year of return (as lists are sent); else one per list."""
    r = dict(DEFAULT_RATES if rates is None else rates)
    rng = random.Random(seed)
    if (out / "landing").exists():
        shutil.rmtree(out / "landing")
    out.mkdir(parents=True, exist_ok=True)
    pop = generate_population(max(1, round(records / records_per_person(r))), r, rng)
    written = write_lists(pop, out, rng, r, by_year)
    write_truth(written, out)
    write_persons(pop, out)
    write_episodes(pop, written, out)
    write_returns(pop, written, out)
    return {
        "records": len(written),
        "persons": len({w.episode.person.pid for w in written}),
        "by_source": dict(Counter(w.source for w in written)),
        "files": sum(1 for _ in (out / "landing").rglob("*.*")),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=4000, help="about this many records in all")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate", action="append", default=[], metavar="NAME=VALUE",
                    help="set one habit's rate (see indep/rates.py); repeatable")
    ap.add_argument("-o", "--out", type=Path, required=True)
    a = ap.parse_args(argv)
    t = time.perf_counter()
    info = generate(a.out, a.records, a.seed, parse_rates(a.rate))
    print(f"wrote {info['records']:,} records of {info['persons']:,} men in {info['files']} files "
          f"to {a.out} in {time.perf_counter() - t:.1f} s; by source: {info['by_source']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
