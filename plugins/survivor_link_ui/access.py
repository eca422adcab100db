"""Who may use the survivor-link view, and who may see personal values in it.

Why Airflow's checks and not our own: plugin apps get no authentication from Airflow, so
every route asks Airflow's auth manager (simple in standalone, FAB in production) about
the user behind the request's token. Two levels, both stated as Airflow permissions so
that roles set them (deploy/airflow-roles.json):

- use the view (counts, rules, reasons, review and replay): may edit the survivor-link
  DAGs (the `link` DAG), as a data officer may. A viewer role is refused (403), a request
  without a token too (401).
- see values (names, phones, birth dates as received, the workbook): may answer the
  weekly report's approval (HITL detail of `weekly_report`), who reads the named list anyway.
"""

from __future__ import annotations

from typing import Annotated

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, HTTPException, status


def may_use(user, manager=None) -> bool:
    """May use the view: may edit the link DAG (manager: the process's auth manager by default)."""
    manager = manager or get_auth_manager()
    return bool(manager.is_authorized_dag(method="PUT", details=DagDetails(id="link"), user=user))


def may_trigger(user, dag_id: str, manager=None) -> bool:
    """May start a run of this DAG (Replay starts one of `replay`): Airflow's own right to
    create its runs, checked here since the view starts it for the officer."""
    return bool(
        (manager or get_auth_manager()).is_authorized_dag(
            method="POST", access_entity=DagAccessEntity.RUN, details=DagDetails(id=dag_id), user=user
        )
    )


def may_see_values(user, manager=None) -> bool:
    """May see values: may answer the weekly report's approval."""
    return bool(
        (manager or get_auth_manager()).is_authorized_dag(
            method="PUT",
            access_entity=DagAccessEntity.HITL_DETAIL,
            details=DagDetails(id="weekly_report"),
            user=user,
        )
    )


async def officer(user=Depends(get_user)):  # noqa: B008 (FastAPI's way)
    """Every route's dependency: the user, when Airflow says they may use the view."""
    if not may_use(user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "survivor-link: your role may not use this view")
    return user


Officer = Annotated[object, Depends(officer)]


def values_allowed(user, asked: bool) -> bool:
    """Values were asked for: allowed, or refused with 403 (never silently shown or hidden)."""
    if asked and not may_see_values(user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "survivor-link: your role may not see personal values")
    return asked


def user_name(user) -> str:
    return f"airflow:{user.get_name()}"
