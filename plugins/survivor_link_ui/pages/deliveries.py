"""Deliveries: each file's state and counts, its validation page, quarantined rows, replay.

Replay goes through linkage.pipeline's `replay`, the one the CLI calls, so the view and
`survivor-link replay` read archived files again the same way.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from survivor_link_ui.access import Officer, may_see_values, user_name, values_allowed
from survivor_link_ui.render import BASE, page, settings

router = APIRouter()


def _checked(s, d) -> dict[str, Any]:
    """A delivery with what became of it in words and the link to its validation page, if any."""
    from linkage.ingest.data_docs import page_for
    from linkage.ingest.validation_pages import outcome, page_name

    link = f"{BASE}/data-docs/{page_name(d.sha256)}" if page_for(s, d.sha256) else None
    return {"d": d, "outcome": outcome(d), "checks": link}


def _replay(user, sha: str | None) -> str:
    """Replay as the officer (audited under their login), and say what came of it."""
    from linkage.pipeline import replay
    from linkage.store.db import acting_as

    s = settings()
    with acting_as(user_name(user)):
        results = replay(s, sha).results
    if not results:
        return "Nothing to replay: no open quarantined rows or rejected files."
    loaded = sum(r.rows_loaded for r in results)
    still = sum(r.rows_quarantined for r in results)
    return (
        f"Replayed {len(results)} file(s): {loaded} rows loaded, {still} still quarantined. "
        "Run the link DAG (or wait for the next delivery) to link them."
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
        deliveries=[_checked(s, d) for d in views],
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
        checks=_checked(s, d)["checks"],
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
