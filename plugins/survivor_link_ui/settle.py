"""When the report's approval may be answered: once Airflow's scheduler has heard the pause end.

The race (Airflow 3.3.2; apache/airflow#72716 and its family, open): the approval task parks
(awaiting_input) and its worker process then ends; the executor reports that end (the try's
"success") a moment later, and the scheduler reads the report in its next loop. An answer
given before that makes the scheduler queue the resumed task under the same key; the late
report then drops the new one from the executor's running set, the scheduler takes it for a
task killed externally and retries it, which asks again and loses the answer.

So the answer waits for two things it can see, not for a fixed time:
1. The paused try's worker has ended: no process on this host is named after the task
   instance (the LocalExecutor's worker and Airflow's supervisor take its id as their title
   while they run it), or the Celery result backend has the try's task as done.
2. The scheduler that queued it has since run a whole loop, which reads the executor's
   reports: two of its heartbeats after the end (it writes one at the end of a loop, at most
   every scheduler_heartbeat_sec), since the first of them may close the loop the end fell in.
When the end cannot be seen from here (a worker on another host, no Celery result), the old
fixed wait, SETTLE, is the timeout. Measured under `airflow standalone` (3.3.2): the worker
ends within a second of the pause and the form opens about 15 s after the question (the job
row shows each heartbeat's time only with the next beat, 5 s on). Without Airflow, so it is
tested on its own.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

SETTLE = dt.timedelta(seconds=30)  # the timeout: the answer is taken then, whatever is seen
CLOCK_SKEW = dt.timedelta(seconds=1)  # a worker's clock (Celery's date_done) against the scheduler's


def busy_here(ti_id: str, proc: Path = Path("/proc")) -> bool | None:
    """Whether a process on this host is named after the task instance (its worker still runs
    it); None when this host's processes cannot be read."""
    if not proc.is_dir():
        return None
    needle = ti_id.encode()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "cmdline").read_bytes():
                return True
        except OSError:  # ended while listed, or not ours to read
            continue
    return False


class Watch:
    """What this process has seen of each paused try: when its end was first known, and the
    scheduler's first heartbeat after that end.

    Why kept in memory: Airflow keeps neither (the executor's report is read in the
    scheduler's memory, and the job row holds the latest heartbeat only). A restarted API
    server, or another of its workers, sees them anew: it waits longer, never less.
    """

    def __init__(self) -> None:
        self._ended: dict[str, dt.datetime] = {}
        self._beat: dict[str, dt.datetime] = {}

    def ready_in(
        self,
        ti_id: str,
        asked_at: dt.datetime,
        ended: dt.datetime | None,
        heartbeat: dt.datetime | None,
        now: dt.datetime,
    ) -> int:
        """Seconds until the answer may be given: 0 once the scheduler has heard the pause end,
        else at most what is left of SETTLE since the question was asked."""
        if ended is not None:
            end = self._ended.setdefault(ti_id, ended)
            if heartbeat is not None and heartbeat > end + CLOCK_SKEW:
                first = self._beat.setdefault(ti_id, heartbeat)
                if heartbeat > first:
                    return 0
        return max(0, math.ceil((asked_at + SETTLE - now).total_seconds()))

    def keep_only(self, ti_ids: set[str]) -> None:
        """Forget the tries no longer asked about."""
        for seen in (self._ended, self._beat):
            for gone in set(seen) - ti_ids:
                del seen[gone]


WATCH = Watch()
