"""Quarantined rows and rejected files, as `survivor-link quarantine` lists them.

Why apart from the CLI: reading the store, and writing the audit entry when values are shown,
is the store's business; the CLI only prints what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from linkage.privacy import file_label
from linkage.settings import Settings
from linkage.store.db import audit, session_scope
from linkage.store.models import Delivery, Quarantine


@dataclass(frozen=True)
class QuarantinedRow:
    """Where and why a row was held back; `values` (the row as received) only when asked for."""

    file_name: str
    source: str
    line: int
    column: str
    rule: str
    reason: str
    status: str
    values: str | None = None
    sha256: str = ""

    @property
    def label(self) -> str:
        return file_label(self.file_name, self.source, self.sha256)


@dataclass(frozen=True)
class RejectedFile:
    file_name: str
    source: str
    sha256: str
    reason: str

    @property
    def label(self) -> str:
        return file_label(self.file_name, self.source, self.sha256)


def quarantine_listing(
    settings: Settings, include_replayed: bool = False, show_values: bool = False
) -> tuple[list[QuarantinedRow], list[RejectedFile]]:
    """Open (or all) quarantined rows by delivery and line, and every rejected delivery.

    Showing the rows as received is personal data: it is written to the audit log. (A file
    name is given whole too; without values, the listing shows each file's label.)
    """
    with session_scope(settings) as s:
        q = (
            select(Quarantine, Delivery.file_name)
            .join(Delivery, Delivery.sha256 == Quarantine.delivery_sha256)
            .order_by(Delivery.received_at, Delivery.sha256, Quarantine.line)  # file_name is sealed
        )
        if not include_replayed:
            q = q.where(Quarantine.status == "open")
        found = s.execute(q).all()
        if show_values:
            audit(s, "quarantine.values_shown", None, rows=len(found))
        rows = [
            QuarantinedRow(
                file_name,
                qr.source,
                qr.line,
                qr.column or "",
                qr.rule,
                qr.reason,
                qr.status,
                "; ".join(f"{k}={v}" for k, v in (qr.raw or {}).items() if v) if show_values else None,
                qr.delivery_sha256,
            )
            for qr, file_name in found
        ]
        rejected = [
            RejectedFile(d.file_name, d.source, d.sha256, d.reason or "")
            for d in s.scalars(select(Delivery).where(Delivery.status == "rejected"))
        ]
    return rows, rejected
