"""Where the whole first `survivor-link run` spends its time (issue 19): a table of phases.

    SURVIVOR_LINK_HOME=EMPTY .venv/bin/python benchmarks/run_phases.py DATA [--profile OUT.prof]

Runs `survivor-link run DATA` in this process, as the console script does (settings from the
environment as shipped: Data Docs on unless SURVIVOR_LINK_DATA_DOCS says otherwise), and
prints per phase its wall seconds, this process's CPU seconds (which move less with what
others run on the machine), the exact peak RSS while it ran (the kernel's high-water mark,
reset per phase through /proc/self/clear_refs) and what was still held at its end. Phases
are the pipeline's own steps, seen through the console's observer (start, each source's
files, Data Docs, each of the linker's laps, flags), then the ingest's parts summed over
files (reading, mapping, Great Expectations, loading). The ingest runs in a child process
(linkage/pipeline/apart.py): its files and parts are seen only with
SURVIVOR_LINK_STEP_IN_PROCESS=1; else it is one phase, the child's CPU and peak. With
--profile, cProfile's stats of the whole run (of this process) are written to OUT.prof as
well (slower: read the shares, not the seconds).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import os
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from link_memory import status_mib  # noqa: E402  (a field of /proc/self/status, in MiB)


def _cpu() -> float:
    """CPU seconds of this process and of its children that ended (the ingest's, apart.py)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _child_peak() -> int:
    """The largest peak RSS of a child that ended, in MiB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024


class Phases:
    """A lap clock: each lap records wall, CPU, peak RSS since the last lap, and RSS held."""

    def __init__(self) -> None:
        self.rows: list[list[Any]] = []
        self.parts: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
        self._reset()

    def _reset(self) -> None:
        Path("/proc/self/clear_refs").write_text("5")
        self.clock, self.cpu, self.child_peak = time.perf_counter(), _cpu(), _child_peak()

    def lap(self, name: str) -> None:
        now, cpu, child_peak = time.perf_counter(), _cpu(), _child_peak()
        peak = max(status_mib("VmHWM"), child_peak if child_peak > self.child_peak else 0)
        row = [name, now - self.clock, cpu - self.cpu, peak, status_mib("VmRSS")]
        if self.rows and self.rows[-1][0] == name:  # files of one source: one row
            last = self.rows[-1]
            last[1] += row[1]
            last[2] += row[2]
            last[3] = max(last[3], row[3])
            last[4] = row[4]
        else:
            self.rows.append(row)
        self._reset()

    def timed(self, owner: Any, attr: str, part: str) -> None:
        """Sum the wall and CPU seconds of owner.attr's calls under part (not a lap)."""
        fn = getattr(owner, attr)

        @functools.wraps(fn)
        def wrapper(*a: Any, **k: Any) -> Any:
            t, c = time.perf_counter(), time.process_time()
            try:
                return fn(*a, **k)
            finally:
                p = self.parts[part]
                p[0] += time.perf_counter() - t
                p[1] += time.process_time() - c
                p[2] += 1

        setattr(owner, attr, wrapper)


def _watch(phases: Phases) -> None:
    """Lap at every step the console's observer sees, at every linker lap; time ingest's parts."""
    from linkage import cli_view
    from linkage.ingest import data_docs, load
    from linkage.match import linker

    view = cli_view.ConsoleView

    def hook(name: str, label: Any) -> None:
        original = getattr(view, name)

        def wrapped(self: Any, *a: Any) -> Any:
            out = original(self, *a)
            where = label(*a) if callable(label) else label
            if where:
                phases.lap(where)
            return out

        setattr(view, name, wrapped)

    hook("ingest_started", "start (imports, migrate, mappings)")
    hook("file_done", lambda r: f"ingest {r.source}")
    hook("docs_started", None)
    hook("ingest_done", "Data Docs build, ingest table")
    from linkage.pipeline import run

    in_child = run.apart

    def apart(*a: Any) -> Any:
        phases.lap("start (imports, migrate, mappings)")
        out = in_child(*a)
        phases.lap("ingest, in a child process (its CPU and peak)")
        return out

    run.apart = apart
    hook("link_started", None)
    hook("flag_started", None)
    hook("flag_done", "flags")
    original_lap = linker._Laps.__call__

    def lap(self: Any, name: str) -> None:
        original_lap(self, name)
        phases.lap(f"link: {name}")

    linker._Laps.__call__ = lap
    phases.timed(load, "read_table", "ingest: read_table")
    phases.timed(load.RowMapper, "map_rows", "ingest: map_rows")
    phases.timed(load, "check_frame", "ingest: check_frame (GX)")
    phases.timed(load, "upsert_records", "ingest: upsert_records")
    phases.timed(load, "_hold_back", "ingest: quarantine rows")
    phases.timed(load, "archive_bytes", "ingest: archive (sealed)")
    phases.timed(load, "strip_values", "ingest: strip GX values")
    phases.timed(data_docs, "publish", "ingest: Data Docs publish")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, help="a folder with landing/<source>/ lists")
    ap.add_argument("--profile", type=Path, help="write cProfile stats of the whole run here")
    ap.add_argument("--as-of", default="2026-01-01")
    args = ap.parse_args()
    phases = Phases()
    t0, c0 = phases.clock, phases.cpu
    from linkage import cli

    _watch(phases)
    argv = ["run", str(args.data), "--as-of", args.as_of]
    if args.profile:
        prof = cProfile.Profile()
        code = prof.runcall(cli.main, argv)
        prof.dump_stats(args.profile)
    else:
        code = cli.main(argv)
    phases.lap("end")
    total, cpu = time.perf_counter() - t0, _cpu() - c0
    la = os.getloadavg()
    print(f"exit {code}; {total:.1f} s, {cpu:.1f} CPU s; load average {la[0]:.1f} {la[1]:.1f} {la[2]:.1f}")
    print(f"{'phase':<40}{'seconds':>9}{'CPU s':>8}{'peak MiB':>10}{'held MiB':>10}")
    for name, sec, cpu_s, peak, held in phases.rows:
        print(f"{name:<40}{sec:>9.1f}{cpu_s:>8.1f}{peak:>10}{held:>10}")
    print(f"{'largest peak':<40}{'':>17}{max(r[3] for r in phases.rows):>10}")
    print(f"{'part (summed over calls)':<40}{'seconds':>9}{'CPU s':>8}{'calls':>10}")
    for name, (sec, cpu_s, calls) in phases.parts.items():
        print(f"{name:<40}{sec:>9.1f}{cpu_s:>8.1f}{calls:>10}")


if __name__ == "__main__":
    main()
