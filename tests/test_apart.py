"""A step run apart, in a forked child: its result or its error come back, its memory does not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from linkage.pipeline.apart import IN_PROCESS, StepDied, apart


def _pid_and(value: int) -> tuple[int, int]:
    return os.getpid(), value * 2


def _fails() -> None:
    raise ValueError("a step's own error")


def _dies() -> None:
    os._exit(3)  # as a kill or the kernel's OOM killer would end it: no result


def _rss_mib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no VmRSS")


def _holds_memory() -> tuple[int, int]:
    """The child's resident MiB before and after it holds 300 MiB of its own."""
    start = _rss_mib()
    kept = bytearray(300 * 2**20)  # touched, so resident
    for i in range(0, len(kept), 4096):
        kept[i] = 1
    return start, _rss_mib()


def test_result_comes_from_another_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(IN_PROCESS, raising=False)
    pid, value = apart(_pid_and, 21)
    assert value == 42 and pid != os.getpid()


def test_error_is_raised_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(IN_PROCESS, raising=False)
    with pytest.raises(ValueError, match="a step's own error"):
        apart(_fails)


def test_a_child_that_dies_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(IN_PROCESS, raising=False)
    with pytest.raises(StepDied, match="exit code 3"):
        apart(_dies)


def test_its_memory_goes_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(IN_PROCESS, raising=False)
    before = _rss_mib()
    start, held = apart(_holds_memory)
    assert held >= start + 250  # resident in the child
    assert _rss_mib() < before + 50


def test_in_process_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(IN_PROCESS, "1")
    pid, _ = apart(_pid_and, 1)
    assert pid == os.getpid()
