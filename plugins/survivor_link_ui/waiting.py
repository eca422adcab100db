"""Where each weekly report's approval stands in Airflow, read from Airflow's own tables.

Why here: the report's approval is Airflow's (a HITL task), so whether one waits, whether it
was answered and whether delivery is under way are Airflow's to say; the store only learns
of the answer when the `deliver` (or `record_rejection`) task runs, two task starts later.
The build task's XCom names the report it built.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from survivor_link_ui.settle import SETTLE, WATCH, busy_here

# Why the form waits, and for what: settle.py (a race in Airflow 3.3.2's scheduler).
RECENT_RUNS = 20


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def approvals(now: dt.datetime | None = None) -> dict[int, dict[str, Any]]:
    """report_id -> where its approval stands: the run, when it was asked, when the form opens
    (ready_in seconds, 0 once settled), the answer and by whom, and the run's task states."""
    from airflow.utils.session import create_session

    now = now or dt.datetime.now(dt.UTC)
    out: dict[int, dict[str, Any]] = {}
    with create_session() as session:
        asked = _asked(session)
        WATCH.keep_only({str(row.id) for row in asked})
        for row in asked:
            report_id = _report_of(session, row.run_id)
            if report_id is not None:
                out[report_id] = _standing(session, row, row.HITLDetail, now)
    return out


def _asked(session) -> list[Any]:
    """The newest approval questions of the weekly report, with their task instances."""
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from sqlalchemy import select

    return session.execute(
        select(
            TaskInstance.id,
            TaskInstance.run_id,
            TaskInstance.state,
            TaskInstance.hostname,
            TaskInstance.queued_by_job_id,
            TaskInstance.external_executor_id,
            HITLDetail,
        )
        .join(HITLDetail, HITLDetail.ti_id == TaskInstance.id)
        .where(TaskInstance.dag_id == "weekly_report", TaskInstance.task_id == "approve")
        .order_by(HITLDetail.created_at.desc())
        .limit(RECENT_RUNS)
    ).all()


def _report_of(session, run_id: str) -> int | None:
    """The report a run built (its build task's return value), or None before it has one."""
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    built = session.scalar(
        select(XComModel.value).where(
            XComModel.dag_id == "weekly_report",
            XComModel.run_id == run_id,
            XComModel.task_id == "build",
            XComModel.key == "return_value",
        )
    )
    if isinstance(built, str | bytes):
        built = json.loads(built)
    return int(built["report_id"]) if isinstance(built, dict) and "report_id" in built else None


def _standing(session, ti, hitl, now: dt.datetime) -> dict[str, Any]:
    """Where one question stands: asked, ready or answered, and the run's task states."""
    from airflow.models.taskinstance import TaskInstance
    from sqlalchemy import select

    tasks = dict(
        session.execute(
            select(TaskInstance.task_id, TaskInstance.state).where(
                TaskInstance.dag_id == "weekly_report", TaskInstance.run_id == ti.run_id
            )
        ).all()
    )
    created = _utc(hitl.created_at)
    answered = hitl.responded_at is not None
    waiting = str(ti.state) in ("awaiting_input", "deferred") and not answered
    ready_in = 0
    if waiting:
        ready_in = WATCH.ready_in(str(ti.id), created, _ended(session, ti, now), _beat(session, ti), now)
    return {
        "run_id": ti.run_id,
        "asked_at": created,
        "ready_in": ready_in,
        "waiting": waiting,
        "answered_at": _utc(hitl.responded_at),
        "answer": (hitl.chosen_options or [None])[0] if answered else None,
        "by": (hitl.responded_by or {}).get("name") if answered else None,
        "tasks": {k: str(v) if v is not None else "none" for k, v in tasks.items()},
    }


def _ended(session, ti, now: dt.datetime) -> dt.datetime | None:
    """When the paused try's worker is known to have ended (now, if it is seen ended only now);
    None while it runs or when that cannot be seen from here."""
    from sqlalchemy import text

    if ti.external_executor_id:  # Celery: its result backend, in Airflow's database (compose)
        try:
            with session.begin_nested():
                done = session.execute(
                    text("select status, date_done from celery_taskmeta where task_id = :id"),
                    {"id": ti.external_executor_id},
                ).first()
        except Exception:  # no such table: another backend, or another executor
            done = None
        if done is not None and done[0] in ("SUCCESS", "FAILURE"):
            at = dt.datetime.fromisoformat(done[1]) if isinstance(done[1], str) else done[1]
            return _utc(at) or now
    from airflow.utils.net import get_hostname

    if ti.hostname and ti.hostname == get_hostname() and busy_here(str(ti.id)) is False:
        return now
    return None


def _beat(session, ti) -> dt.datetime | None:
    """The latest heartbeat of the scheduler that queued the try (the one whose executor ran it)."""
    from airflow.jobs.job import Job

    job = session.get(Job, ti.queued_by_job_id) if ti.queued_by_job_id else None
    return _utc(job.latest_heartbeat) if job is not None else None


def ready_to_answer(report_id: int, timeout: dt.timedelta = SETTLE) -> str | None:
    """The run whose approval of this report may be answered now, waiting (polling, up to
    timeout) while it is parked but the scheduler has not yet heard the pause end; None when
    it does not wait for an answer."""
    deadline = time.monotonic() + timeout.total_seconds()
    while True:
        a = approvals().get(report_id)
        if a is None or not a["waiting"]:
            return None
        if a["ready_in"] == 0:
            return a["run_id"]
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.5)
