"""The pipeline's steps as functions that return counts: what Airflow tasks call.

Why here and not in the DAGs: every step runs from the command line too, the DAG files
stay a picture of the flow, and what a task returns (and so what lands in XCom and the
run's log) is ids, hashes and counts, never a name, phone, ID or birth date.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from linkage.ingest.files import RefusedFile, read_regular
from linkage.landing import claim_settled, original_name, pending, refuse_links
from linkage.seal.files import private_dir
from linkage.settings import Settings
from linkage.store.db import audit, current_actor, session_scope
from linkage.store.models import Delivery, Report, utcnow


def ingest_pending(settings: Settings, source: str) -> dict[str, Any]:
    """Claim what sits in the source's landing folder, then ingest everything in its inbox."""
    from linkage.ingest.load import Ingestor

    links = refuse_links(settings, source)  # moved aside unread, never followed
    claimed = claim_settled(settings, source)
    status: Counter[str] = Counter()
    by_rule: Counter[str] = Counter()
    rows = Counter()
    hashes = []
    with Ingestor(settings) as ingestor:
        for path in pending(settings, source):
            try:
                data = read_regular(path)
            except RefusedFile:  # not ours to read (a link, a pipe): left where it is
                status["refused"] += 1
                continue
            result = ingestor.ingest_bytes(data, original_name(path), source)
            path.unlink()  # the archive keeps the bytes, under their hash
            status[result.status] += 1
            by_rule.update(result.quarantined_by_rule)
            rows.update(read=result.rows_read, loaded=result.rows_loaded, quarantined=result.rows_quarantined)
            hashes.append(result.sha256)
    return {
        "source": source,
        "claimed": len(claimed),
        "refused": len(links) + status["refused"],
        "deliveries": sum(n for k, n in status.items() if k != "refused"),
        "ingested": status["ingested"],
        "rejected": status["rejected"],
        "duplicate": status["duplicate"],
        "rows_read": rows["read"],
        "rows_loaded": rows["loaded"],
        "rows_quarantined": rows["quarantined"],
        "quarantined_by_rule": dict(by_rule),
        "sha256": hashes,
    }


def deliveries_in_flight(settings: Settings) -> int:
    """Deliveries claimed from a landing folder but not yet ingested (another task has them).

    Linking waits for these, so that lists dropped together are linked together: one pass,
    the same persons as `survivor-link run` on the same folder.
    """
    with session_scope(settings) as s:
        return int(s.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "landed")))


def link_and_flag(settings: Settings, as_of: dt.date | None = None) -> dict[str, Any]:
    """Link the new records, then bring the flags up to date."""
    from linkage.match.linker import link
    from linkage.referral.history import update_flags

    summary = link(settings)
    run = update_flags(settings, as_of or dt.date.today())
    return {
        "records_linked": summary.records_linked,
        "persons_created": summary.persons_created,
        "persons_merged": summary.persons_merged,
        "pairs_for_review": summary.pairs_for_review,
        "events_created": summary.events_created,
        "flags_opened": run.opened,
        "flags_closed": run.closed,
        "flags_open": run.open,
    }


def build_report(settings: Settings, as_of: dt.date) -> dict[str, Any]:
    from linkage.report.weekly import build_weekly_report

    report = build_weekly_report(settings, as_of, settings.home / "reports" / as_of.isoformat())
    return {"report_id": report.report_id, "week": report.week, "sha256": report.sha256, **report.counts}


def decide_report(
    settings: Settings, report_id: int, approved: bool, by: str | None, note: str | None
) -> None:
    """Record an officer's approval or rejection (with why) of a built report."""
    with session_scope(settings) as s:
        report = s.get(Report, report_id)
        if report is None:
            raise ValueError(f"no report {report_id}")
        report.status = "approved" if approved else "rejected"
        report.decided_by = by or current_actor()
        report.decided_at = utcnow()
        report.decision_note = note
        audit(s, "report.approved" if approved else "report.rejected", report.week, report_id=report_id)


def deliver_report(settings: Settings, report_id: int) -> dict[str, Any]:
    """Copy an approved report's workbook and CSVs into the outbox folder."""
    with session_scope(settings) as s:
        report = s.get(Report, report_id)
        if report is None or report.status not in ("approved", "delivered"):
            raise ValueError(f"report {report_id} is not approved; nothing delivered")
        workbook = Path(report.path)
        outbox = settings.home / "outbox"
        private_dir(outbox)
        extra = [
            *workbook.parent.glob(workbook.stem + "_*.csv"),
            *workbook.parent.glob(workbook.stem + "_csv.zip"),
        ]
        files = [workbook, *sorted(extra)]
        for f in files:
            shutil.copy2(f, outbox / f.name)
        report.status = "delivered"
        audit(s, "report.delivered", report.week, report_id=report_id, files=len(files))
        return {"report_id": report_id, "week": report.week, "files": len(files), "outbox": str(outbox)}


def report_email(settings: Settings, report_id: int) -> dict[str, Any]:
    """The e-mail that carries a delivered report: counts in the body, names only in the workbook.

    Who sends it is the caller's business (Airflow's SMTP connection); this says what is sent.
    """
    with session_scope(settings) as s:
        report = s.get(Report, report_id)
        if report is None or report.status != "delivered":
            raise ValueError(f"report {report_id} is not delivered; nothing to e-mail")
        counts = report.counts or {}
        outbox = settings.home / "outbox"
        workbook = outbox / Path(report.path).name
        lines = [
            f"Weekly report of unreferred survivors, week {report.week} "
            f"(as of {report.as_of:%d/%m/%Y}), approved by {report.decided_by or 'a data officer'}.",
            f"Open flags: {counts.get('open_flags', '?')}; opened this week: "
            f"{counts.get('new_this_week', '?')}; closed this week: {counts.get('closed_this_week', '?')}.",
            "The named list is in the attached workbook. It holds personal data: keep it within "
            "case management and do not forward it.",
        ]
        return {
            "subject": f"survivor-link weekly report {report.week}",
            "html": "".join(f"<p>{line}</p>" for line in lines),
            "files": [str(workbook)],
            "to": list(settings.report_email),
            "from": settings.report_from_email,
        }
