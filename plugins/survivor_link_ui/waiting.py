"""Which weekly reports wait for an officer's answer in Airflow, read from Airflow's own tables.

Why here: the report's approval is Airflow's (a HITL task), so whether one waits, and in
which run, is Airflow's to say; the build task's XCom names the report it built.
"""

from __future__ import annotations

import datetime as dt
import json

# An answer given while the executor has not yet seen the approval task's pause end is lost:
# the scheduler takes the resumed task for one changed behind its back and retries it, which
# asks again (seen under load in `airflow standalone`, 6 s after the pause). So the form is
# offered once the question has waited this long.
SETTLE = dt.timedelta(seconds=30)


def waiting_reports() -> dict[int, str]:
    """report_id -> the weekly_report run id whose approval waits (settled) for an answer."""
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    out: dict[int, str] = {}
    with create_session() as session:
        runs = session.execute(
            select(TaskInstance.run_id)
            .join(HITLDetail, HITLDetail.ti_id == TaskInstance.id)
            .where(
                TaskInstance.dag_id == "weekly_report",
                TaskInstance.task_id == "approve",
                HITLDetail.responded_at.is_(None),
                TaskInstance.state.in_(("awaiting_input", "deferred")),
                HITLDetail.created_at < dt.datetime.now(dt.UTC) - SETTLE,
            )
        ).scalars()
        for run_id in runs:
            value = session.scalar(
                select(XComModel.value).where(
                    XComModel.dag_id == "weekly_report",
                    XComModel.run_id == run_id,
                    XComModel.task_id == "build",
                    XComModel.key == "return_value",
                )
            )
            if isinstance(value, str | bytes):
                value = json.loads(value)
            if isinstance(value, dict) and "report_id" in value:
                out[int(value["report_id"])] = run_id
    return out
