"""Where each weekly report's approval stands in Airflow, read from Airflow's own tables.

Why here: the report's approval is Airflow's (a HITL task), so whether one waits, whether it
was answered and whether delivery is under way are Airflow's to say; the store only learns
of the answer when the `deliver` (or `record_rejection`) task runs, two task starts later.
The build task's XCom names the report it built.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

# Why the form waits: the approval task pauses (awaiting_input) and its process exits; the
# executor reports that exit a few seconds later. An answer given before that report has
# been handled makes the scheduler queue the resumed task under the same key as the exited
# process, whose late "finished" then removes the new one from the executor's running set;
# the scheduler takes the resumed task for one killed externally and retries it, which asks
# again and loses the answer (seen under load in `airflow standalone`, 6 s after the pause).
# Nothing in Airflow's tables shows that report, so the form is offered once the question
# has waited this long; until then the page counts down.
SETTLE = dt.timedelta(seconds=30)
RECENT_RUNS = 20


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def approvals(now: dt.datetime | None = None) -> dict[int, dict[str, Any]]:
    """report_id -> where its approval stands: the run, when it was asked, when the form opens
    (ready_in seconds, 0 once settled), the answer and by whom, and the run's task states."""
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    now = now or dt.datetime.now(dt.UTC)
    out: dict[int, dict[str, Any]] = {}
    with create_session() as session:
        asked = session.execute(
            select(TaskInstance.run_id, TaskInstance.state, HITLDetail)
            .join(HITLDetail, HITLDetail.ti_id == TaskInstance.id)
            .where(TaskInstance.dag_id == "weekly_report", TaskInstance.task_id == "approve")
            .order_by(HITLDetail.created_at.desc())
            .limit(RECENT_RUNS)
        ).all()
        for run_id, state, hitl in asked:
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
            if not (isinstance(built, dict) and "report_id" in built):
                continue
            tasks = dict(
                session.execute(
                    select(TaskInstance.task_id, TaskInstance.state).where(
                        TaskInstance.dag_id == "weekly_report", TaskInstance.run_id == run_id
                    )
                ).all()
            )
            created = _utc(hitl.created_at)
            answered = hitl.responded_at is not None
            parked = str(state) in ("awaiting_input", "deferred")
            out[int(built["report_id"])] = {
                "run_id": run_id,
                "asked_at": created,
                "ready_in": max(0, int((created + SETTLE - now).total_seconds() + 0.999)),
                "waiting": parked and not answered,
                "answered_at": _utc(hitl.responded_at),
                "answer": (hitl.chosen_options or [None])[0] if answered else None,
                "by": (hitl.responded_by or {}).get("name") if answered else None,
                "tasks": {k: str(v) if v is not None else "none" for k, v in tasks.items()},
            }
    return out


def waiting_reports(now: dt.datetime | None = None) -> dict[int, str]:
    """report_id -> the weekly_report run id whose approval waits (settled) for an answer."""
    return {
        rid: a["run_id"] for rid, a in approvals(now).items() if a["waiting"] and a["ready_in"] == 0
    }
