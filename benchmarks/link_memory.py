"""Peak memory per phase of one `link` run on a store (issue 19: a million records in 4 GiB).

    .venv/bin/python benchmarks/link_memory.py --home COPY_OF_A_HOME [--db-url URL] [--copy-from HOME]

Links every unlinked record of the home in this process and prints, for each phase the
linker times (reading records, frame and keys, block, compare, fit, score, cluster, persons,
events, pairs, commit, ...), its seconds, the peak resident memory while it ran and the
memory still held when it ended. Why the kernel's own peak: Linux resets a process's
high-water mark (VmHWM) when "5" is written to /proc/self/clear_refs, so each phase's peak is
exact, not sampled, however briefly it lasted. With --copy-from the home is first copied
from that one (a link writes into the store, and the next trial must meet the same store).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from linkage.match import linker  # noqa: E402
from linkage.settings import load_settings  # noqa: E402
from linkage.store.db import migrate  # noqa: E402


def _status(field: str) -> int:
    """A field of /proc/self/status, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    return 0


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


class _Phases:
    """Wraps the linker's lap clock: each lap records its peak and what is left held."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, int, int]] = []
        self.clock = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.rows.append((name, now - self.clock, _status("VmHWM"), _status("VmRSS")))
        _reset_peak()
        self.clock = time.perf_counter()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--db-url", default="")
    ap.add_argument("--copy-from", type=Path)
    args = ap.parse_args()
    if args.copy_from:
        shutil.rmtree(args.home, ignore_errors=True)
        shutil.copytree(args.copy_from, args.home)
    settings = load_settings(home=args.home, db_url=args.db_url, data_docs=False)
    migrate(settings)
    phases = _Phases()
    original = linker._Laps.__call__

    def lap(self: linker._Laps, name: str) -> None:
        original(self, name)
        phases.lap(name)

    linker._Laps.__call__ = lap  # type: ignore[method-assign]
    start_rss = _status("VmRSS")
    _reset_peak()
    phases.clock = t0 = time.perf_counter()
    summary = linker.link(settings)
    total = time.perf_counter() - t0
    print(f"linked {summary.records_linked:,} records in {total:.1f} s (RSS before: {start_rss} MiB)")
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")
    print(f"{'phase':<16}{'seconds':>9}{'peak MiB':>10}{'held MiB':>10}")
    for name, sec, peak, held in phases.rows:
        print(f"{name:<16}{sec:>9.1f}{peak:>10}{held:>10}")
    print(f"{'largest':<16}{'':>9}{max(r[2] for r in phases.rows):>10}")


if __name__ == "__main__":
    main()
