"""Flag exports: one row per open flag, and the records behind each flagged return.

Why two files: a flag is one return of one man, but a case worker tracing him needs every
list row he appears on (source, file, the source's own record id).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from linkage.referral.flags import event_status, flagged, load_event_records
from linkage.report.protect import open_private
from linkage.settings import Settings
from linkage.store.db import audit, session_scope

FLAG_COLUMNS = [
    "event_id",
    "person_id",
    "return_date",
    "return_date_known",
    "days_since_return",
    "band",
    "lists",
    "reason",
    "partial_assistance",
]
FLAG_RECORD_COLUMNS = ["event_id", "person_id", "source", "file", "source_record_id"]


def records_path(out: Path) -> Path:
    return out.with_name(out.stem + "_records" + out.suffix)


def export_flags(settings: Settings, as_of: dt.date, out: Path) -> tuple[int, int]:
    """Write FILE (one row per open flag) and FILE_records (its records); return both counts."""
    with session_scope(settings) as s:
        flags = flagged(event_status(s, settings, as_of))
        records = load_event_records(s)
        rows = records[records["event_id"].isin(set(flags["event_id"]))].sort_values(
            ["event_id", "source", "file", "source_record_id"]
        )
        with open_private(out) as fh:  # 0600; a new folder 0700
            w = csv.writer(fh)
            w.writerow(FLAG_COLUMNS)
            for f in flags.itertuples():
                w.writerow(
                    [
                        f.event_id,
                        f.person_id,
                        f.return_date.date().isoformat(),
                        "yes" if f.return_known else "no (intake date)",
                        f.days_since_return,
                        f.band,
                        f.lists,
                        f.reason,
                        "yes" if f.partial else "no",
                    ]
                )
        with open_private(records_path(out)) as fh:
            w = csv.writer(fh)
            w.writerow(FLAG_RECORD_COLUMNS)
            for r in rows.itertuples():
                w.writerow([r.event_id, r.person_id, r.source, r.file, r.source_record_id])
        audit(s, "export.flags", out.name, as_of=as_of.isoformat(), flags=len(flags), records=len(rows))
    return len(flags), len(rows)
