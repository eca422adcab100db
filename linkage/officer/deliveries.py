"""Deliveries as an officer sees them: each file, its state and counts, its quarantined rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from linkage.privacy import file_label
from linkage.settings import Settings
from linkage.store.db import audit, session_scope
from linkage.store.models import Delivery, Quarantine

# What to do about a delivery in each state, in the words of the officer's guide.
NEXT_STEP = {
    "rejected": "Fix the file and drop it again into landing/{source}/, or, when the mapping is at "
    "fault, fix sources/{source}.yaml and press Replay.",
    "landed": "Waiting for its ingest run.",
    "claimed": "Being ingested now.",
}


@dataclass
class DeliveryView:
    """One file as received: who sent it, what became of it, and why."""

    sha256: str
    source: str
    file_name: str
    status: str
    reason: str | None
    received_at: Any
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    open_quarantined: int
    by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def next_step(self) -> str:
        if self.status == "ingested" and self.open_quarantined:
            return (
                "Correct the quarantined rows in the list and send it again, or fix the mapping and Replay."
            )
        return NEXT_STEP.get(self.status, "").format(source=self.source)

    @property
    def label(self) -> str:
        """The file as notes, logs and pages without values name it (its name only when no
        word of it can be a name: linkage.privacy.file_label)."""
        return file_label(self.file_name, self.source, self.sha256)

    def summary(self) -> str:
        """One line for a run note: the file and what became of it (counts, rules, no values)."""
        if self.status == "rejected":
            return f"{self.label}: rejected ({self.reason or 'no reason recorded'})"
        text = f"{self.label}: {self.rows_read} read, {self.rows_loaded} loaded"
        if self.rows_quarantined:
            rules = ", ".join(f"{n} {r}" for r, n in sorted(self.by_rule.items(), key=lambda kv: -kv[1]))
            text += f", {self.rows_quarantined} quarantined ({rules})"
        return text


def list_deliveries(settings: Settings, hashes: list[str] | None = None) -> list[DeliveryView]:
    """Every delivery (or those given), newest first, with quarantined rows counted by rule."""
    with session_scope(settings) as s:
        q = select(Delivery).order_by(Delivery.received_at.desc(), Delivery.sha256)  # file_name is sealed
        if hashes is not None:
            q = q.where(Delivery.sha256.in_(hashes))
        deliveries = list(s.scalars(q))
        counts = s.execute(
            select(Quarantine.delivery_sha256, Quarantine.rule, Quarantine.status, func.count())
            .where(Quarantine.delivery_sha256.in_([d.sha256 for d in deliveries]))
            .group_by(Quarantine.delivery_sha256, Quarantine.rule, Quarantine.status)
        ).all()
    rules: dict[str, Counter[str]] = {}
    still_open: Counter[str] = Counter()
    for sha, rule, status, n in counts:
        rules.setdefault(sha, Counter())[rule] += n
        if status == "open":
            still_open[sha] += n
    return [
        DeliveryView(
            d.sha256,
            d.source,
            d.file_name,
            d.status,
            d.reason,
            d.received_at,
            d.rows_read,
            d.rows_loaded,
            d.rows_quarantined,
            still_open[d.sha256],
            dict(rules.get(d.sha256, {})),
        )
        for d in deliveries
    ]


def rejected_deliveries(settings: Settings, hashes: list[str] | None) -> list[DeliveryView]:
    """The rejected ones among these deliveries; none when no delivery is named."""
    if not hashes:
        return []
    return [d for d in list_deliveries(settings, hashes) if d.status == "rejected"]


# An ingest run takes in everything waiting, so a run woken by a drop that the run before it
# already took finds nothing; Airflow still lists that drop's event as what triggered it.
NOTHING_NEW = (
    "no new file: nothing waited in the landing folder (a drop whose event woke this run "
    "was taken in by the run before it)"
)


def run_note(settings: Settings, hashes: list[str]) -> str:
    """The note of an ingest run: one line per file it took in, or that it found nothing."""
    views = list_deliveries(settings, hashes)
    return "\n".join(v.summary() for v in views) or NOTHING_NEW


def needs_replay(d: DeliveryView) -> bool:
    """Whether a replay reads it again (as Ingestor.replay picks them): rejected or left
    claimed, or loaded with rows still quarantined."""
    return d.status in ("rejected", "claimed") or (d.status == "ingested" and d.open_quarantined > 0)


def replayable(settings: Settings) -> list[DeliveryView]:
    """The deliveries a replay of all would read again, oldest first: what names its run."""
    return [d for d in list_deliveries(settings) if needs_replay(d)][::-1]


def audit_names_shown(settings: Settings, views: list[DeliveryView], subject: str | None = None) -> int:
    """Record that a person was shown these deliveries' file names (who: the actor of
    acting_as; what: the page's delivery, or none for the list; how many): a name is sealed
    like the values, so showing it is a decryption for display. Only names their label
    withholds count (linkage.privacy.file_label): a name of safe words shows everywhere."""
    withheld = sum(1 for v in views if v.label != v.file_name)
    if withheld:
        with session_scope(settings) as s:
            audit(s, "delivery.names_shown", subject, names=withheld)
    return withheld


def find_delivery(settings: Settings, sha_prefix: str) -> DeliveryView | None:
    """A delivery by its hash or the start of it (at least 8 characters)."""
    if len(sha_prefix) < 8:
        return None
    with session_scope(settings) as s:
        shas = list(s.scalars(select(Delivery.sha256).where(Delivery.sha256.startswith(sha_prefix))))
    if len(shas) != 1:
        return None
    return list_deliveries(settings, shas)[0]


def quarantined_rows(settings: Settings, sha256: str, show_values: bool = False) -> list[dict[str, Any]]:
    """A delivery's quarantined rows: line, column, rule, reason; the row as received only when
    asked, and then the showing is audited (who, which delivery, how many rows)."""
    with session_scope(settings) as s:
        rows = list(
            s.scalars(
                select(Quarantine)
                .where(Quarantine.delivery_sha256 == sha256)
                .order_by(Quarantine.line, Quarantine.id)
            )
        )
        if show_values and rows:
            audit(s, "quarantine.values_shown", sha256, rows=len(rows))
        return [
            {
                "line": q.line,
                "column": q.column or "",
                "rule": q.rule,
                "reason": q.reason,
                "status": q.status,
                "values": {k: v for k, v in (q.raw or {}).items() if v} if show_values else None,
            }
            for q in rows
        ]
