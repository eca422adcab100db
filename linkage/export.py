"""Exports of stored data to CSV. Each export that holds names is written to the audit log."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select

from linkage.report.protect import open_private
from linkage.settings import Settings
from linkage.store.db import audit, session_scope
from linkage.store.models import Delivery, PersonRecord, Record

RECORD_EXPORT_COLUMNS = [
    "person_id",
    "event_id",
    "source",
    "file",
    "source_record_id",
    "line",
    "delivery_sha256",
    "family_name",
    "given_name",
    "family_name_kh",
    "given_name_kh",
    "name_order",
    "sex",
    "birth_date",
    "birth_precision",
    "birth_year",
    "age",
    "province_code",
    "district_code",
    "commune_code",
    "village_code",
    "province_text",
    "district_text",
    "country",
    "sector",
    "return_date",
    "point_of_entry",
    "batch_id",
    "phone",
    "national_id",
    "travel_doc_no",
    "father_name",
    "referred_to",
    "referral_date",
    "case_status",
    "intake_date",
]


def export_records(settings: Settings, out: Path) -> int:
    """One row per stored record, with its person and return event (blank until linked)."""
    n = 0
    with session_scope(settings) as s, open_private(out) as fh:  # 0600; a new folder 0700
        w = csv.writer(fh)
        w.writerow(RECORD_EXPORT_COLUMNS)
        rows = s.execute(
            select(Record, Delivery.file_name, PersonRecord.person_id, PersonRecord.event_id)
            .join(Delivery, Delivery.sha256 == Record.delivery_sha256)
            .outerjoin(PersonRecord, PersonRecord.record_id == Record.id)
            .order_by(Record.source, Delivery.received_at, Delivery.sha256, Record.line)
        )
        for rec, file_name, person_id, event_id in rows:
            values = {c: getattr(rec, c, None) for c in RECORD_EXPORT_COLUMNS}
            values.update(file=file_name, person_id=person_id, event_id=event_id)
            w.writerow(["" if values[c] is None else values[c] for c in RECORD_EXPORT_COLUMNS])
            n += 1
        audit(s, "export.records", str(out.name), rows=n)
    return n
