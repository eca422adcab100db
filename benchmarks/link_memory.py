"""Peak memory per phase of one `link` run on a store (issue 19: a million records in 4 GiB).

    .venv/bin/python benchmarks/link_memory.py --home COPY_OF_A_HOME [--db-url URL] [--copy-from HOME]
    .venv/bin/python benchmarks/link_memory.py --home EMPTY_HOME --cli run FOLDER

Links every unlinked record of the home in this process and prints, for each phase the
linker times (reading records, frame and keys, block, compare, fit, score, cluster, persons,
events, pairs, commit, ...), its seconds (wall clock, and this process's CPU seconds, which
move less with what others run on the machine), the peak resident memory while it ran and
the memory still held when it ended. With --cli, runs that survivor-link command instead (in
this process, as the console script would), the link's phases as above, what came before
the link (`before link`: imports and ingest for `run`) and after it (`after link`: flags).
Why the kernel's own peak: Linux resets a process's high-water mark (VmHWM) when "5" is
written to /proc/self/clear_refs, so each phase's peak is exact, not sampled, however
briefly it lasted (and /usr/bin/time's maximum is then only the last phase's). With
--copy-from the home is first copied from that one (a link writes into the store, and the
next trial must meet the same store).
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


def status_mib(field: str) -> int:
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
        self.rows: list[tuple[str, float, float, int, int]] = []
        self.clock, self.cpu = time.perf_counter(), time.process_time()

    def lap(self, name: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self.rows.append((name, now - self.clock, cpu - self.cpu, status_mib("VmHWM"), status_mib("VmRSS")))
        _reset_peak()
        self.clock, self.cpu = time.perf_counter(), time.process_time()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--db-url", default="")
    ap.add_argument("--copy-from", type=Path)
    ap.add_argument("--cli", nargs=argparse.REMAINDER, help="a survivor-link command and its arguments")
    args = ap.parse_args()
    if args.copy_from:
        shutil.rmtree(args.home, ignore_errors=True)
        shutil.copytree(args.copy_from, args.home)
    phases = _Phases()
    original = linker._Laps.__call__

    def lap(self: linker._Laps, name: str) -> None:
        original(self, name)
        phases.lap(name)

    linker._Laps.__call__ = lap  # type: ignore[method-assign]
    start_rss = status_mib("VmRSS")
    _reset_peak()
    phases.clock, phases.cpu = t0, c0 = time.perf_counter(), time.process_time()
    if args.cli:
        _run_cli(args, phases)
    else:
        settings = load_settings(home=args.home, db_url=args.db_url, data_docs=False)
        migrate(settings)
        phases.clock, phases.cpu = t0, c0 = time.perf_counter(), time.process_time()
        summary = linker.link(settings)
        print(f"linked {summary.records_linked:,} records")
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"{total:.1f} s, {cpu:.1f} CPU s (RSS before: {start_rss} MiB)")
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")
    print(f"{'phase':<16}{'seconds':>9}{'CPU s':>8}{'peak MiB':>10}{'held MiB':>10}")
    for name, sec, cpu_s, peak, held in phases.rows:
        print(f"{name:<16}{sec:>9.1f}{cpu_s:>8.1f}{peak:>10}{held:>10}")
    print(f"{'largest':<16}{'':>17}{max(r[3] for r in phases.rows):>10}")


def _run_cli(args: argparse.Namespace, phases: _Phases) -> None:
    """The command as the console script runs it, with the home and store of --home."""
    from linkage import cli

    os.environ["SURVIVOR_LINK_HOME"] = str(args.home)
    os.environ["SURVIVOR_LINK_DATA_DOCS"] = "false"
    if args.db_url:
        os.environ["SURVIVOR_LINK_DB_URL"] = args.db_url
    original = linker._Laps.__init__

    def start(self: linker._Laps, summary: linker.LinkSummary) -> None:
        phases.lap("before link")
        original(self, summary)

    linker._Laps.__init__ = start  # type: ignore[method-assign]
    code = cli.main(args.cli)
    phases.lap("after link")
    print(f"survivor-link {' '.join(args.cli)}: exit {code}")


if __name__ == "__main__":
    main()
