"""Weekly report: its summary and state, the audited download, and the officer's answer.

The answer goes through Airflow's own HITL API with the officer's token, so Airflow checks
who may answer and records who did; the page polls the state route while it settles.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from survivor_link_ui.access import Officer, may_see_values, user_name, values_allowed
from survivor_link_ui.render import BASE, page, settings
from survivor_link_ui.report_state import _phase

router = APIRouter()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/report", response_class=HTMLResponse)
def report(user: Officer, message: str | None = None, error: str | None = None):
    from linkage.officer.reports import list_reports
    from survivor_link_ui.waiting import approvals

    asked = approvals()
    reports = [r | _phase(r, asked.get(r["report_id"])) for r in list_reports(settings())]
    return page(
        "report.html",
        user,
        title="Weekly report",
        page="report",
        reports=reports,
        can_see_values=may_see_values(user),
        message=error or message,
        message_kind="error" if error else "ok",
    )


def _hitl_answer(request: Request, run_id: str, option: str, note: str):
    """PATCH the approval's HITL detail in Airflow as the officer (their cookie or bearer token)."""
    import httpx

    token = request.cookies.get("_token") or request.headers.get("authorization", "").removeprefix("Bearer ")
    return httpx.patch(
        f"{request.url.scheme}://{request.url.netloc}/api/v2/dags/weekly_report/dagRuns/"
        f"{quote(run_id, safe='')}/taskInstances/approve/-1/hitlDetails",
        json={"chosen_options": [option], "params_input": {"note": note or None}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


@router.post("/report/{report_id}/answer")
def answer(
    report_id: int,
    request: Request,
    user: Officer,
    option: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=500)] = "",
):
    """Answer the report's approval as the officer: through Airflow's own HITL API, with the
    officer's own token, so Airflow checks who may answer and records who did."""
    from survivor_link_ui.waiting import ready_to_answer

    back = f"{BASE}/report?"
    note = note.strip()
    if option not in ("Approve", "Reject"):
        raise HTTPException(400, "option must be Approve or Reject")
    if option == "Reject" and not note:
        return RedirectResponse(back + "error=" + quote("Say why you reject it: the note is required."), 303)
    run_id = ready_to_answer(report_id)  # waits while Airflow settles the pause (settle.py)
    if run_id is None:
        return RedirectResponse(back + "error=" + quote("This report no longer waits for an answer."), 303)
    reply = _hitl_answer(request, run_id, option, note)
    if reply.status_code != 200:
        failed = f"Airflow refused the answer ({reply.status_code})."
        return RedirectResponse(back + "error=" + quote(failed), 303)
    said = (
        "Approved: it is being delivered." if option == "Approve" else "Rejected: it will not be delivered."
    )
    return RedirectResponse(back + "message=" + quote(said), 303)


@router.get("/report/{report_id}/state")
def report_state(report_id: int, user: Officer) -> dict[str, Any]:
    """Where the report stands, for the page to poll while it settles or is delivered."""
    from linkage.officer.reports import list_reports
    from survivor_link_ui.waiting import approvals

    r = next((r for r in list_reports(settings()) if r["report_id"] == report_id), None)
    if r is None:
        raise HTTPException(404, "no such report")
    phase = _phase(r, approvals().get(report_id))
    return {"report_id": report_id, "status": r["status"]} | {
        k: phase[k] for k in ("phase", "state_text", "ready_in", "polling")
    }


@router.get("/report/{report_id}/workbook")
def workbook(report_id: int, user: Officer):
    from linkage.officer.reports import workbook_for_download
    from linkage.store.db import acting_as

    values_allowed(user, True)
    try:
        with acting_as(user_name(user)):
            path = workbook_for_download(settings(), report_id)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    return FileResponse(path, filename=path.name, media_type=XLSX, headers={"Cache-Control": "no-store"})
