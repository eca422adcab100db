"""When the report's approval may be answered: after the pause's worker ended and the scheduler
ran a whole loop since (two heartbeats), or after the old fixed wait when that cannot be seen."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
import uuid
from pathlib import Path

from survivor_link_ui.settle import CLOCK_SKEW, SETTLE, Watch, busy_here

ASKED = dt.datetime(2026, 12, 7, 0, 0, 0, tzinfo=dt.UTC)


def _at(seconds: float) -> dt.datetime:
    return ASKED + dt.timedelta(seconds=seconds)


def test_a_process_named_after_the_task_instance_is_seen_until_it_ends() -> None:
    ti_id = str(uuid.uuid4())
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", f"worker: {ti_id}"])
    try:
        deadline = time.monotonic() + 10
        while not busy_here(ti_id) and time.monotonic() < deadline:  # its cmdline once exec'd
            time.sleep(0.05)
        assert busy_here(ti_id) is True
        assert busy_here(str(uuid.uuid4())) is False
    finally:
        worker.kill()
        worker.wait()
    assert busy_here(ti_id) is False


def test_no_process_table_means_it_cannot_be_told(tmp_path: Path) -> None:
    assert busy_here("anything", tmp_path / "no-proc") is None


def test_the_answer_waits_for_two_heartbeats_after_the_end() -> None:
    w = Watch()
    assert w.ready_in("ti", ASKED, None, _at(1), _at(1)) == 29  # the worker still runs
    end = _at(2)
    assert w.ready_in("ti", ASKED, end, end - dt.timedelta(seconds=3), _at(2)) == 28  # beat before
    assert w.ready_in("ti", ASKED, end, end + CLOCK_SKEW / 2, _at(2.5)) == 28  # within the skew
    first = end + dt.timedelta(seconds=4)
    assert w.ready_in("ti", ASKED, _at(6), first, _at(6)) == 24  # the end first seen at 2 is kept
    assert w.ready_in("ti", ASKED, _at(7), first, _at(7)) == 23  # the same heartbeat again
    assert w.ready_in("ti", ASKED, _at(11), first + dt.timedelta(seconds=5), _at(11)) == 0


def test_the_end_seen_late_is_not_taken_for_an_earlier_one() -> None:
    """A first heartbeat noted before the end was seen does not count: only beats after it."""
    w = Watch()
    assert w.ready_in("ti", ASKED, _at(10), _at(9), _at(10)) == 20
    assert w.ready_in("ti", ASKED, _at(10), _at(12), _at(12)) == 18  # first beat after the end
    assert w.ready_in("ti", ASKED, _at(10), _at(17), _at(17)) == 0


def test_when_the_end_cannot_be_seen_the_old_wait_is_the_timeout() -> None:
    w = Watch()
    assert w.ready_in("ti", ASKED, None, _at(25), _at(29.2)) == 1
    assert w.ready_in("ti", ASKED, None, None, ASKED + SETTLE) == 0


def test_each_try_is_watched_apart_and_forgotten_once_not_asked() -> None:
    w = Watch()
    w.ready_in("a", ASKED, _at(1), _at(3), _at(3))
    assert w.ready_in("b", ASKED, None, _at(9), _at(9)) == 21  # b's end is not a's
    w.keep_only({"b"})
    assert w.ready_in("a", ASKED, _at(10), _at(9), _at(10)) == 20  # a anew: the beat at 3 forgotten
