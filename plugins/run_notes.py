"""A listener that gives each survivor-link run a note saying what it did.

Why a listener: a task cannot write its own run's note (the task SDK has no call for it),
but the scheduler, which tells listeners when a run ends, holds the run in its session. The
tasks push their note as the XCom `note` (file names and counts only, never a value); this
copies it onto the run, where the grid and the runs list show it.
"""

from __future__ import annotations

import contextlib
import json
import logging

from airflow.listeners import hookimpl

log = logging.getLogger(__name__)
NOTE_TASKS = {
    "ingest_pending",
    "no_file_rejected",
    "anything_to_link",
    "link_and_flag",
    "name_ingest_run",
    "replay_deliveries",
}
NOTED_DAGS = ("ingest_", "landing_", "link", "replay")
MAX_NOTE = 1000  # Airflow's dag_run_note.content


def _notes(dag_run, session) -> list[str]:
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    rows = session.execute(
        select(XComModel.task_id, XComModel.value).where(
            XComModel.dag_run_id == dag_run.id, XComModel.key == "note", XComModel.task_id.in_(NOTE_TASKS)
        )
    ).all()
    out = []
    for _task, value in sorted(rows):
        if isinstance(value, str | bytes):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        if value:
            out.append(str(value))
    return out


def _write_note(dag_run, outcome: str) -> None:
    if not str(dag_run.dag_id).startswith(NOTED_DAGS):
        return
    from sqlalchemy.orm import object_session

    try:
        session = object_session(dag_run)
        if session is not None:  # the scheduler's own session: the note commits with the run
            _apply(dag_run, session, outcome)
            return
        from airflow.models.dagrun import DagRun
        from airflow.utils.session import create_session

        with create_session() as own:  # a run handed over detached (dag.test)
            _apply(own.get(DagRun, dag_run.id), own, outcome)
    except Exception:  # a note is a courtesy: never let it break the scheduler
        log.warning("could not write the note of run %s", dag_run.run_id, exc_info=True)


def _apply(dag_run, session, outcome: str) -> None:
    lines = _notes(dag_run, session)
    if outcome == "failed":
        lines.append("Failed: open the failed task's log; the DAG's docs say what to do.")
    if lines:
        dag_run.note = "\n".join(lines)[:MAX_NOTE]


@hookimpl
def on_dag_run_success(dag_run, msg: str) -> None:
    _write_note(dag_run, "success")


@hookimpl
def on_dag_run_failed(dag_run, msg: str) -> None:
    _write_note(dag_run, "failed")
