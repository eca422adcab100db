"""The e-mail that tells people a task failed for good, and, for a rejected file, which and why.

Why the core writes it and Airflow sends it: what an alert says (file names, reasons, what to
do; never a value from a row) is ours to test without Airflow; who sends it is the caller's
business (Airflow's smtp_default connection). A rejection's reason is written by the ingest
to hold no cell (an internal error is named by its kind and place), so it may be mailed.
"""

from __future__ import annotations

from html import escape
from typing import Any

from linkage.officer.deliveries import rejected_deliveries
from linkage.settings import Settings


def failure_email(settings: Settings, what: str, hashes: list[str] | None = None) -> dict[str, Any]:
    """The alert for `what` (dag.task run id) that failed; when it failed because files were
    rejected (hashes: the files its run took in), it names each rejected file and why."""
    rejected = rejected_deliveries(settings, hashes)
    if rejected:
        names = ", ".join(d.label for d in rejected[:3]) + (" and more" if len(rejected) > 3 else "")
        subject = f"survivor-link: {len(rejected)} file(s) rejected from {rejected[0].source}: {names}"
        lines = [f"{what} failed: {len(rejected)} file(s) could not be loaded at all."]
        lines += [f"{d.label} ({d.source}) was rejected: {d.reason}. {d.next_step}" for d in rejected]
        lines.append(
            "The other files of the run were loaded. Open survivor-link > Deliveries in Airflow "
            "for each file, its reason and Replay."
        )
    else:
        subject = f"survivor-link: {what} failed"
        lines = [f"{what} failed after its retries. Open its log in the Airflow UI."]
    return {
        "subject": subject[:250],
        "html": "".join(f"<p>{escape(line)}</p>" for line in lines),
        "to": list(settings.alert_email),
        "from": settings.report_from_email,
    }
