"""The report page's state line, apart from the app so it is tested without Airflow."""

from __future__ import annotations

from typing import Any

from linkage.ingest.validation_pages import local_time

_DELIVER_STEP = {
    "none": "the approval task resumes",
    "scheduled": "the deliver task starts",
    "queued": "the deliver task starts",
    "running": "copying to the outbox",
}


_FAILED = ("failed", "upstream_failed")


def _failed_step(tasks: dict[str, str]) -> str | None:
    """The delivering or rejecting task that failed, if one did: the page must not keep
    saying "delivering…" over a task that will not run again by itself."""
    for task, what in (("deliver", "delivering the report"), ("record_rejection", "recording the rejection")):
        if tasks.get(task) in _FAILED:
            return what
    return None


def _phase(r: dict[str, Any], asked: dict[str, Any] | None) -> dict[str, Any]:
    """Where a report stands in words, from the store's status and Airflow's approval task.

    Why both: the store hears of an answer only when `deliver` or `record_rejection` runs (two
    task starts after it), while Airflow knows at once; so the page says "delivering…" from
    the moment the officer approves, and polls until the store says delivered.
    """
    status, a = r["status"], asked or {}
    tasks = a.get("tasks", {})
    waiting = bool(a.get("waiting"))
    ready_in = int(a.get("ready_in", 0)) if waiting else 0
    if status in ("delivered", "rejected"):
        phase, text = status, status
    elif (failed := _failed_step(tasks)) is not None:
        phase = "failed"
        text = f"{failed} failed: clear that task in Airflow (Browse, Task Instances) to try again"
    elif status == "approved" or a.get("answer") == "Approve":
        who = a.get("by") or r.get("decided_by") or "an officer"
        step = _DELIVER_STEP.get(tasks.get("deliver", "none"), "copying to the outbox")
        phase, text = "delivering", f"approved by {who}: delivering… ({step})"
    elif a.get("answer") == "Reject":
        phase, text = "rejecting", f"rejected by {a.get('by') or 'an officer'}: recording why…"
    elif waiting and ready_in:
        asked_at = local_time(a.get("asked_at"))
        phase = "settling"
        text = (
            f"approval asked {asked_at}: the form opens once Airflow is ready for the answer "
            f"({ready_in} s at most)"
        )
    elif waiting:
        phase, text = "waiting", "waiting for your approval"
    else:
        phase, text = "built", status
    return {
        "phase": phase,
        "state_text": text,
        "ready_in": ready_in,
        "waiting": a.get("run_id") if phase == "waiting" else None,
        "polling": phase in ("settling", "delivering", "rejecting"),
    }
