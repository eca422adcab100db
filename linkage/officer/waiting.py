"""Drops that no run has taken up: received but not ingested, or loaded but not linked.

Why: a drop's asset event does not always start a run (two events merged into one, the
ingest or link DAG paused, the triggerer down), and then nothing in Airflow says that a
file waits. The store does: a `landed` delivery was claimed from its landing folder but no
ingest started on it; an ingested one with unlinked records was never taken by a link run;
a file still in a landing folder long after it stopped changing was never claimed. Counts,
sources, times and hashes only: the landing folder's file names are not read out.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import func, select

from linkage.landing import is_candidate
from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.locks import lock_held
from linkage.store.models import Delivery, PersonRecord, Record

# A run normally takes a drop up within seconds; past this it is said to wait. Longer than a
# scheduler's loop under load, shorter than an officer waits before asking why.
GRACE = dt.timedelta(minutes=5)

NO_INGEST = "waiting: no ingest run started"
NO_LINK = "waiting: loaded, no link run started"


def dag_name(source: str) -> str:
    """A source as its DAGs name it (ingest_<this>, landing_<this>: dags/survivor_link.py)."""
    return re.sub(r"[^0-9a-zA-Z_]+", "_", source)


@dataclass(frozen=True)
class Waiting:
    """One delivery no run has taken up: which, since when, and what to do."""

    sha256: str
    source: str
    since: dt.datetime
    state: str
    unlinked: int = 0

    @property
    def next_step(self) -> str:
        if self.state == NO_INGEST:
            dag = dag_name(self.source)
            return (
                f"Is the landing_{dag} or ingest_{dag} DAG paused, or a run of ingest_{dag} still queued? "
                f"Unpause them, or trigger ingest_{dag}: a run takes in everything waiting."
            )
        return (
            f"{self.unlinked} records wait to be linked. Is the link DAG paused, or a run of it still "
            "queued? Unpause it or trigger it."
        )


@dataclass(frozen=True)
class Unclaimed:
    """Files left in a source's landing folder, settled but never claimed (counted, not named)."""

    source: str
    files: int
    since: dt.datetime

    @property
    def next_step(self) -> str:
        return (
            f"Its watcher has not taken them: is the landing_{dag_name(self.source)} DAG paused, or "
            "Airflow's triggerer down? Unpause the DAG (or start the triggerer); they are claimed within "
            "seconds."
        )


def _naive_utc(now: dt.datetime | None) -> dt.datetime:
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(dt.UTC).replace(tzinfo=None) if now.tzinfo else now


def waiting_deliveries(
    settings: Settings, now: dt.datetime | None = None, grace: dt.timedelta = GRACE
) -> list[Waiting]:
    """Deliveries received but not ingested, or ingested but not linked, for longer than grace.

    Not linked means records of the delivery that belong to no person: a delivery whose
    rows were all already in the store has none, and does not wait for a link. None waits for
    a link while one runs (it holds the store's link lock): a big link takes minutes.
    """
    cutoff = _naive_utc(now) - grace
    linking = lock_held(settings, "link")
    with session_scope(settings) as s:
        landed = s.execute(
            select(Delivery.sha256, Delivery.source, Delivery.received_at).where(
                Delivery.status == "landed", Delivery.received_at <= cutoff
            )
        ).all()
        unlinked = s.execute(
            select(Delivery.sha256, Delivery.source, Delivery.ingested_at, func.count(Record.id))
            .join(Record, Record.delivery_sha256 == Delivery.sha256)
            .outerjoin(PersonRecord, PersonRecord.record_id == Record.id)
            .where(
                Delivery.status == "ingested",
                Delivery.linked_at.is_(None),
                Delivery.ingested_at <= cutoff,
                PersonRecord.record_id.is_(None),
            )
            .group_by(Delivery.sha256, Delivery.source, Delivery.ingested_at)
        ).all()
    out = [Waiting(sha, src, at, NO_INGEST) for sha, src, at in landed]
    out += [] if linking else [Waiting(sha, src, at, NO_LINK, int(n)) for sha, src, at, n in unlinked]
    return sorted(out, key=lambda w: w.since)


def unclaimed_files(
    settings: Settings, now: dt.datetime | None = None, grace: dt.timedelta = GRACE
) -> list[Unclaimed]:
    """Per source, the files in its landing folder unchanged for longer than grace (not claimed)."""
    cutoff = (_naive_utc(now) - grace).replace(tzinfo=dt.UTC).timestamp()
    root = settings.landing_dir
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()) if root.is_dir() else []
    out = []
    for folder in folders:
        times = [p.stat().st_mtime for p in folder.iterdir() if is_candidate(p)]
        old = [t for t in times if t <= cutoff]
        if old:
            since = dt.datetime.fromtimestamp(min(old), dt.UTC).replace(tzinfo=None)
            out.append(Unclaimed(folder.name, len(old), since))
    return out


def waiting_by_delivery(settings: Settings, now: dt.datetime | None = None) -> dict[str, Waiting]:
    """The waiting deliveries by hash, for the Deliveries page to mark their rows."""
    return {w.sha256: w for w in waiting_deliveries(settings, now)}
