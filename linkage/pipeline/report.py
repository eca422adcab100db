"""Weekly report steps: build, record the officer's decision, deliver, say what to e-mail.

Why here and not in the DAG: `survivor-link report weekly` builds the same report, and the
decision and delivery are the store's business; the DAG only waits for the officer.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linkage.seal.files import private_dir
from linkage.settings import Settings
from linkage.store.db import audit, current_actor, session_scope
from linkage.store.models import Report, utcnow

if TYPE_CHECKING:
    from linkage.report.weekly import WeeklyReport


def write_report(settings: Settings, as_of: dt.date, out_dir: Path | None = None) -> WeeklyReport:
    """Write the week's workbook and CSVs (into <home>/reports/<as_of>/ unless told) and record it."""
    from linkage.report.weekly import build_weekly_report

    return build_weekly_report(settings, as_of, out_dir or settings.home / "reports" / as_of.isoformat())


def build_report(settings: Settings, as_of: dt.date) -> dict[str, Any]:
    """The report task's build step, as ids and counts."""
    report = write_report(settings, as_of)
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


def deliver_decided(
    settings: Settings, report_id: int, approved: bool, by: str | None, note: str | None
) -> dict[str, Any]:
    """Record the officer's answer, then deliver; a report not approved is refused, not delivered."""
    decide_report(settings, report_id, approved, by, note)
    return deliver_report(settings, report_id)


def record_rejection(
    settings: Settings, report_id: int, approved: bool, by: str | None, note: str | None
) -> dict[str, Any]:
    """A rejection, or no answer in time, is recorded with why; an approval was recorded already."""
    if not approved:
        decide_report(settings, report_id, False, by, note or "no approval given")
    return {"report_id": report_id, "approved": approved}


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
