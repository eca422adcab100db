"""linkage/memory.py: freed memory goes back to the system (glibc), and nothing breaks
where there is no glibc. The heap is looked at in a fresh interpreter: malloc's settings
and heap are the process's own."""

from __future__ import annotations

import subprocess
import sys

from linkage import memory

_RSS = """
from pathlib import Path
def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
"""

_SMALL = _RSS + """
from linkage import memory
before = rss()
texts = ["x" * 1000 + str(i) for i in range(200_000)]  # over pymalloc's 512 bytes: malloc's heap
held = rss()
keep = texts.pop()  # the heap's top still in use: freeing the rest leaves a hole glibc keeps
del texts
kept = rss()
if GIVE:
    memory.give_back()
print(round(held - before), round(kept - before), round(rss() - before))
"""


def _run(code: str, **flags: bool) -> list[int]:
    head = "".join(f"{k} = {v}\n" for k, v in flags.items())
    out = subprocess.run([sys.executable, "-c", head + code], capture_output=True, text=True, check=True)
    return [int(x) for x in out.stdout.split()]


def test_give_back_returns_the_heaps_free_pages() -> None:
    """200 MB of texts freed under one still in use stay resident until given back.
    (map_big_arrays is not checked here: glibc released freed big arrays in a fresh
    interpreter either way; its effect is the benchmark's, benchmarks/link_memory.py.)"""
    assert memory._glibc() is not None  # this machine's Python runs on glibc
    held, kept, left = _run(_SMALL, GIVE=False)
    assert held > 100 and kept > 100  # freed, but still resident
    held, kept, left = _run(_SMALL, GIVE=True)
    assert held > 100 and left < held / 2


def test_without_glibc_both_do_nothing(monkeypatch) -> None:
    monkeypatch.setattr(memory, "_glibc", lambda: None)
    memory.map_big_arrays()
    memory.give_back()
