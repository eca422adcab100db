"""How long the officer's pages take to gather what they show, on a store of any size.

Why: the officer's view answers in the API server; on a 40k store a page that reads the whole
queue or every delivery on each click is where slowness would show. This times the same
functions the pages call (linkage.officer and linkage.match.review), without Airflow.

    SURVIVOR_LINK_HOME=/tmp/big/home SURVIVOR_LINK_DB_URL= .venv/bin/python benchmarks/officer_pages.py
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from linkage.match.review import open_pairs
from linkage.officer.deliveries import list_deliveries
from linkage.officer.person import person_page
from linkage.officer.reports import list_reports
from linkage.officer.waiting import waiting_by_delivery
from linkage.settings import load_settings
from linkage.store.db import session_scope
from linkage.store.models import Flag, Record


def timed(what: str, call: Callable[[], Any], repeat: int = 3) -> Any:
    """Best of `repeat` runs (the first also warms caches), printed in milliseconds."""
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = call()
        best = min(best, time.perf_counter() - start)
    print(f"{what:<38} {best * 1000:8.0f} ms")
    return out


def main() -> None:
    s = load_settings()
    with session_scope(s) as db:
        records = db.scalar(select(func.count()).select_from(Record))
        flagged = db.scalar(select(Flag.person_id).where(Flag.status == "open").limit(1))
    print(f"store: {records} records")
    timed("deliveries (list_deliveries)", lambda: list_deliveries(s))
    timed("deliveries (waiting_by_delivery)", lambda: waiting_by_delivery(s))
    queue = timed("review queue (open_pairs, 10000)", lambda: open_pairs(s, limit=10_000, show_values=False))
    print(f"  {len(queue)} pairs in the queue")
    if flagged:
        timed("person page (person_page)", lambda: person_page(s, flagged, False))
    timed("weekly report page (list_reports)", lambda: list_reports(s))


if __name__ == "__main__":
    main()
