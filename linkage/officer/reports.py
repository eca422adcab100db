"""Weekly reports for the officer's page: their summaries, and the workbook handed out audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from linkage.settings import Settings
from linkage.store.db import audit, session_scope
from linkage.store.models import Report


def list_reports(settings: Settings, limit: int = 12) -> list[dict[str, Any]]:
    """The latest reports, newest first: week, state, counts (no names), who decided and why."""
    with session_scope(settings) as s:
        reports = s.scalars(select(Report).order_by(Report.id.desc()).limit(limit))
        return [
            {
                "report_id": r.id,
                "week": r.week,
                "as_of": r.as_of,
                "generated_at": r.generated_at,
                "status": r.status,
                "counts": dict(r.counts or {}),
                "decided_by": r.decided_by,
                "decided_at": r.decided_at,
                "note": r.decision_note,
                "file_name": Path(r.path).name,
            }
            for r in reports
        ]


def workbook_for_download(settings: Settings, report_id: int) -> Path:
    """The report's workbook, with the download audited (the workbook names the men)."""
    with session_scope(settings) as s:
        report = s.get(Report, report_id)
        if report is None or not Path(report.path).is_file():
            raise LookupError(f"no workbook for report {report_id}")
        audit(s, "report.downloaded", report.week, report_id=report_id)
        return Path(report.path)
