"""Deliveries: each file's state and counts, its validation page, quarantined rows, replay.

Replay goes through linkage.pipeline's `replay`, the one the CLI calls, so the view and
`survivor-link replay` read archived files again the same way.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from survivor_link_ui.access import Officer, may_see_values, may_trigger, user_name, values_allowed
from survivor_link_ui.render import BASE, page, settings

router = APIRouter()


def _checked(s, d, kept: set[str] | None = None) -> dict[str, Any]:
    """A delivery with what became of it in words and the link to its validation page, if any;
    without one, what is true of its checks (kept: linkage.ingest.data_docs.kept_results)."""
    from linkage.ingest.data_docs import page_for
    from linkage.ingest.validation_pages import outcome, page_name, without_page

    link = f"{BASE}/data-docs/{page_name(d.sha256)}" if page_for(s, d.sha256) else None
    said = None if link else without_page(d, d.sha256[:16] in (kept or set()))
    return {"d": d, "outcome": outcome(d), "checks": link, "unchecked": said}


def _all_checked(s, deliveries: list) -> list[dict[str, Any]]:
    """_checked for each, walking GX's kept results once, and only when a page is missing."""
    from linkage.ingest.data_docs import kept_results, page_for

    kept = kept_results(s) if any(page_for(s, d.sha256) is None for d in deliveries) else set()
    return [_checked(s, d, kept) for d in deliveries]


def _replay(user, sha: str | None) -> str:
    """Start a run of the `replay` DAG for the officer, named by the files it will read again
    (labels only), and say so; the run's note says what came of each, and link follows it.

    Why a run and not the replay here: re-reading files is a worker's job (the api-server
    answers pages), and Airflow then keeps who asked, when, and what came of it.
    """
    import datetime as dt

    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.exceptions import DagRunAlreadyExists
    from airflow.utils.types import DagRunTriggeredByType

    from linkage.officer.deliveries import find_delivery, needs_replay, replayable
    from linkage.pipeline.run_names import run_id

    if not may_trigger(user, "replay"):
        raise HTTPException(403, "survivor-link: your role may not start a replay run")
    s = settings()
    one = find_delivery(s, sha) if sha else None
    todo = ([one] if one is not None and needs_replay(one) else []) if sha else replayable(s)
    if not todo:
        return "Nothing to replay: no open quarantined rows or rejected files."
    labels = [d.label for d in todo] if sha else ["all", *[d.label for d in todo]]
    name = run_id("replay", labels, dt.datetime.now(dt.UTC))
    try:
        trigger_dag(
            "replay",
            run_id=name,
            conf={"delivery": one.sha256 if one else None},
            triggered_by=DagRunTriggeredByType.UI,
            triggering_user_name=user.get_name(),
            note="asked from survivor-link > Deliveries: " + ", ".join(d.label for d in todo[:5]),
        )
    except DagRunAlreadyExists:  # pressed twice in one second: that run does it
        return f"Replay already started: run {name} of the replay DAG."
    return (
        f"Replay started: run {name} of the replay DAG ({len(todo)} file(s)). Its note will say "
        "what came of each file; the link DAG runs after it."
    )


@router.get("/")
def home(user: Officer):
    return RedirectResponse(f"{BASE}/deliveries", status_code=303)


@router.get("/deliveries", response_class=HTMLResponse)
def deliveries(user: Officer, message: str | None = None):
    from linkage.officer.deliveries import audit_names_shown, list_deliveries
    from linkage.officer.waiting import unclaimed_files, waiting_by_delivery
    from linkage.store.db import acting_as

    s = settings()
    docs = (s.home / "data_docs" / "index.html").exists()
    views = list_deliveries(s)
    names = may_see_values(user)  # file names: a sender may name a file after a man
    if names:
        with acting_as(user_name(user)):
            audit_names_shown(s, views)
    return page(
        "deliveries.html",
        user,
        title="Deliveries",
        page="deliveries",
        deliveries=_all_checked(s, views),
        waiting=waiting_by_delivery(s),
        unclaimed=unclaimed_files(s),
        data_docs=docs,
        can_see_values=names,
        message=message,
    )


@router.get("/deliveries/{sha256}", response_class=HTMLResponse)
def delivery(sha256: str, user: Officer, show_values: bool = False, message: str | None = None):
    from linkage.officer.deliveries import audit_names_shown, find_delivery, quarantined_rows
    from linkage.store.db import acting_as

    s = settings()
    d = find_delivery(s, sha256)
    if d is None:
        raise HTTPException(404, "no such delivery")
    show = values_allowed(user, show_values)
    names = may_see_values(user)
    with acting_as(user_name(user)):
        rows = quarantined_rows(s, d.sha256, show)
        if names:
            audit_names_shown(s, [d], d.sha256)
    return page(
        "delivery.html",
        user,
        title=d.file_name if names else d.label,
        page="deliveries",
        d=d,
        checks=(checked := _all_checked(s, [d])[0])["checks"],
        unchecked=checked["unchecked"],
        rows=rows,
        show_values=show,
        can_see_values=names,
        message=message,
    )


@router.post("/replay")
def replay_all(user: Officer):
    return RedirectResponse(f"{BASE}/deliveries?message={quote(_replay(user, None))}", status_code=303)


@router.post("/deliveries/{sha256}/replay")
def replay_one(sha256: str, user: Officer):
    from linkage.officer.deliveries import find_delivery

    d = find_delivery(settings(), sha256)
    if d is None:
        raise HTTPException(404, "no such delivery")
    msg = _replay(user, d.sha256)
    return RedirectResponse(f"{BASE}/deliveries/{d.sha256}?message={quote(msg)}", status_code=303)


@router.get("/data-docs/{path:path}")
def data_docs(path: str, user: Officer):
    """A validation page (Great Expectations' data docs), only from under the store's folder."""
    root = (settings().home / "data_docs").resolve()
    target = (root / path).resolve()
    if not target.is_file() or root not in target.parents:
        raise HTTPException(404, "no such page")
    return FileResponse(target, headers={"Cache-Control": "no-store"})
