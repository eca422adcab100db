"""The survivor-link pages: deliveries, review queue, person, weekly report.

A thin layer: each route asks Airflow whether the user may (access.py), calls one function
of linkage.officer or linkage.match.review, and renders the answer. Pages show ids, counts,
rules and reasons; values only when the role may see them and the officer asks, and the
asking is audited in the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field

from linkage.ingest.validation_pages import local_time, rules_text
from survivor_link_ui.access import Officer, may_see_values, user_name, values_allowed
from survivor_link_ui.report_state import _phase

BASE = "/survivor-link"
templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)


templates.filters.update(local=local_time, rules=rules_text)


def _settings():
    from linkage.settings import load_settings
    from linkage.store.db import migrate

    settings = load_settings()
    migrate(settings)
    return settings


def _page(name: str, user, **context: Any) -> HTMLResponse:
    html = templates.get_template(name).render(base=BASE, user=user.get_name(), **context)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def _fields(explanation: dict, a=None, b=None) -> list[dict[str, Any]]:
    """Each compared field: level, agree/disagree/missing, weight, and its waterfall bar."""
    out, running = [], 0.0
    scale = 6.0  # pixels per bit
    for name, v in explanation.items():
        if not isinstance(v, dict):
            continue
        w = float(v.get("weight", 0.0))
        kind = (
            "missing"
            if v.get("level") == "missing"
            else "agree"
            if w > 0
            else "disagree"
            if w < 0
            else "missing"
        )
        start = running if w >= 0 else running + w
        running += w
        out.append(
            {
                "name": name,
                "level": v.get("level"),
                "kind": kind,
                "weight": w,
                "start": int(max(0.0, start + 40) * scale),  # 40 bits of headroom for negatives
                "width": max(1, int(abs(w) * scale)),
                "a": _value_for(name, a),
                "b": _value_for(name, b),
            }
        )
    return out


# Which of a record's shown values goes beside which compared field.
_VALUE_OF = {
    "family_name": "name",
    "given_name": "name",
    "birth": "birth",
    "context": "home",
    "phone": "phone",
}


def _value_for(field: str, ref) -> str:
    if ref is None or not ref.values:
        return ""
    key = _VALUE_OF.get(field)
    return "" if key is None else str(ref.values.get(key) or "")


def _checked(settings, d) -> dict[str, Any]:
    """A delivery with what became of it in words and the link to its validation page, if any."""
    from linkage.ingest.data_docs import page_for
    from linkage.ingest.validation_pages import outcome, page_name

    link = f"{BASE}/data-docs/{page_name(d.sha256)}" if page_for(settings, d.sha256) else None
    return {"d": d, "outcome": outcome(d), "checks": link}


def _both_persons(settings, user, pair: dict | None, show: bool) -> dict[str, dict | None]:
    """The rest of each side's person (other records, returns, flags); one lookup when both
    records are already one person."""
    from linkage.officer.person import person_context
    from linkage.store.db import acting_as

    out: dict[str, dict | None] = {}
    if pair is None:
        return out
    for side in ("a", "b"):
        ref = pair[side]
        if ref is None or not ref.person_id:
            out[side] = None
        elif side == "b" and out.get("a") and out["a"]["person_id"] == ref.person_id:
            out[side] = out["a"] | {"same_as_a": True}
        else:
            with acting_as(user_name(user)):
                out[side] = person_context(settings, ref.person_id, ref.record_id, show)
    return out


# Where delivery is, by the state of the run's `deliver` task.
class Decision(BaseModel):
    """A reviewer's verdict on a pair, as the review page posts it."""

    decision: str
    note: str | None = Field(default=None, max_length=500)


def create_app() -> FastAPI:
    app = FastAPI(title="survivor-link", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/")
    def home(user: Officer):
        return RedirectResponse(f"{BASE}/deliveries", status_code=303)

    @app.get("/deliveries", response_class=HTMLResponse)
    def deliveries(user: Officer, message: str | None = None):
        from linkage.officer.deliveries import list_deliveries
        from linkage.officer.waiting import unclaimed_files, waiting_by_delivery

        settings = _settings()
        docs = (settings.home / "data_docs" / "index.html").exists()
        return _page(
            "deliveries.html",
            user,
            title="Deliveries",
            page="deliveries",
            deliveries=[_checked(settings, d) for d in list_deliveries(settings)],
            waiting=waiting_by_delivery(settings),
            unclaimed=unclaimed_files(settings),
            data_docs=docs,
            message=message,
        )

    @app.get("/deliveries/{sha256}", response_class=HTMLResponse)
    def delivery(sha256: str, user: Officer, show_values: bool = False, message: str | None = None):
        from linkage.officer.deliveries import find_delivery, quarantined_rows

        settings = _settings()
        d = find_delivery(settings, sha256)
        if d is None:
            raise HTTPException(404, "no such delivery")
        show = values_allowed(user, show_values)
        from linkage.store.db import acting_as

        with acting_as(user_name(user)):
            rows = quarantined_rows(settings, d.sha256, show)
        return _page(
            "delivery.html",
            user,
            title=d.file_name,
            page="deliveries",
            d=d,
            checks=_checked(settings, d)["checks"],
            rows=rows,
            show_values=show,
            can_see_values=may_see_values(user),
            message=message,
        )

    def _replay(user, sha: str | None) -> str:
        from linkage.ingest.load import Ingestor
        from linkage.store.db import acting_as

        settings = _settings()
        with acting_as(user_name(user)), Ingestor(settings) as ingestor:
            results = ingestor.replay(sha)
        if not results:
            return "Nothing to replay: no open quarantined rows or rejected files."
        loaded = sum(r.rows_loaded for r in results)
        still = sum(r.rows_quarantined for r in results)
        return (
            f"Replayed {len(results)} file(s): {loaded} rows loaded, {still} still quarantined. "
            "Run the link DAG (or wait for the next delivery) to link them."
        )

    @app.post("/replay")
    def replay_all(user: Officer):
        from urllib.parse import quote

        return RedirectResponse(f"{BASE}/deliveries?message={quote(_replay(user, None))}", status_code=303)

    @app.post("/deliveries/{sha256}/replay")
    def replay_one(sha256: str, user: Officer):
        from urllib.parse import quote

        from linkage.officer.deliveries import find_delivery

        d = find_delivery(_settings(), sha256)
        if d is None:
            raise HTTPException(404, "no such delivery")
        msg = _replay(user, d.sha256)
        return RedirectResponse(f"{BASE}/deliveries/{d.sha256}?message={quote(msg)}", status_code=303)

    @app.get("/review", response_class=HTMLResponse)
    def review(
        user: Officer,
        i: int = 0,
        pair: int | None = None,
        blind: bool = False,
        show_values: bool = False,
        decided: int | None = None,
        undone: int | None = None,
    ):
        from linkage.match.review import open_pairs
        from linkage.store.db import acting_as

        settings = _settings()
        show = values_allowed(user, show_values)
        with acting_as(user_name(user)):
            queue = open_pairs(settings, limit=10_000, show_values=False)
        waiting = queue[0]["waiting"] if queue else 0
        if pair is not None:
            i = next((n for n, p in enumerate(queue) if p["pair"] == pair), i)
        current = queue[i] if 0 <= i < len(queue) else None
        if current is not None and show:
            with acting_as(user_name(user)):  # values of this one pair only, audited
                current = next(
                    (
                        p
                        for p in open_pairs(settings, limit=10_000, show_values=True)
                        if p["pair"] == current["pair"]
                    ),
                    current,
                )
        fields = _fields(current["explanation"], current["a"], current["b"]) if current else []
        persons = _both_persons(settings, user, current, show)
        message = f"Pair {decided} recorded; the next link applies it." if decided else None
        if undone:
            message = f"Decision on pair {undone} taken back; it waits again."
        return _page(
            "review.html",
            user,
            title="Review",
            page="review",
            pair=current,
            persons=persons,
            index=i,
            waiting=waiting,
            fields=fields,
            total=sum(f["weight"] for f in fields),
            blind=blind,
            show_values=show,
            can_see_values=may_see_values(user),
            message=message,
        )

    @app.post("/review/{pair_id}/decide")
    def decide(pair_id: int, body: Decision, user: Officer):
        from linkage.match.review import ReviewError
        from linkage.officer.review_desk import decide_pair

        try:
            return decide_pair(_settings(), pair_id, body.decision, user_name(user), body.note)
        except ReviewError as exc:
            raise HTTPException(400, str(exc)) from None

    @app.post("/review/{pair_id}/undo")
    def undo(pair_id: int, user: Officer):
        from linkage.match.review import ReviewError
        from linkage.officer.review_desk import undo_pair

        try:
            return undo_pair(_settings(), pair_id, user_name(user))
        except ReviewError as exc:
            raise HTTPException(400, str(exc)) from None

    @app.get("/person", response_class=HTMLResponse)
    def person_search(user: Officer, id: str | None = None, show_values: bool = False):
        if id:
            return person(id.strip().upper(), user, show_values)
        return _page("person.html", user, title="Person", page="person", info=None)

    @app.get("/person/{person_id}", response_class=HTMLResponse)
    def person(person_id: str, user: Officer, show_values: bool = False):
        from linkage.match.review import ReviewError
        from linkage.officer.person import person_page
        from linkage.store.db import acting_as

        show = values_allowed(user, show_values)
        try:
            with acting_as(user_name(user)):
                info = person_page(_settings(), person_id, show)
        except ReviewError as exc:
            return _page("person.html", user, title="Person", page="person", info=None, error=str(exc))
        pairs = [p | {"fields": _fields(p["explanation"])} for p in info["pairs"]]
        return _page(
            "person.html",
            user,
            title=f"Person {info['person_id']}",
            page="person",
            info=info,
            pairs=pairs,
            show_values=show,
            can_see_values=may_see_values(user),
        )

    @app.get("/report", response_class=HTMLResponse)
    def report(user: Officer, message: str | None = None, error: str | None = None):
        from linkage.officer.reports import list_reports
        from survivor_link_ui.waiting import approvals

        asked = approvals()
        reports = [r | _phase(r, asked.get(r["report_id"])) for r in list_reports(_settings())]
        return _page(
            "report.html",
            user,
            title="Weekly report",
            page="report",
            reports=reports,
            can_see_values=may_see_values(user),
            message=error or message,
            message_kind="error" if error else "ok",
        )

    @app.post("/report/{report_id}/answer")
    def answer(
        report_id: int,
        request: Request,
        user: Officer,
        option: Annotated[str, Form()],
        note: Annotated[str, Form(max_length=500)] = "",
    ):
        """Answer the report's approval as the officer: through Airflow's own HITL API, with the
        officer's own token, so Airflow checks who may answer and records who did."""
        from urllib.parse import quote

        import httpx

        from survivor_link_ui.waiting import ready_to_answer

        back = f"{BASE}/report?"
        note = note.strip()
        if option not in ("Approve", "Reject"):
            raise HTTPException(400, "option must be Approve or Reject")
        if option == "Reject" and not note:
            return RedirectResponse(
                back + "error=" + quote("Say why you reject it: the note is required."), 303
            )
        run_id = ready_to_answer(report_id)  # waits while Airflow settles the pause (settle.py)
        if run_id is None:
            return RedirectResponse(
                back + "error=" + quote("This report no longer waits for an answer."), 303
            )
        token = request.cookies.get("_token") or request.headers.get("authorization", "").removeprefix(
            "Bearer "
        )
        reply = httpx.patch(
            f"{request.url.scheme}://{request.url.netloc}/api/v2/dags/weekly_report/dagRuns/"
            f"{quote(run_id, safe='')}/taskInstances/approve/-1/hitlDetails",
            json={"chosen_options": [option], "params_input": {"note": note or None}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        if reply.status_code != 200:
            failed = f"Airflow refused the answer ({reply.status_code})."
            return RedirectResponse(back + "error=" + quote(failed), 303)
        said = (
            "Approved: it is being delivered."
            if option == "Approve"
            else "Rejected: it will not be delivered."
        )
        return RedirectResponse(back + "message=" + quote(said), 303)

    @app.get("/report/{report_id}/state")
    def report_state(report_id: int, user: Officer) -> dict[str, Any]:
        """Where the report stands, for the page to poll while it settles or is delivered."""
        from linkage.officer.reports import list_reports
        from survivor_link_ui.waiting import approvals

        r = next((r for r in list_reports(_settings()) if r["report_id"] == report_id), None)
        if r is None:
            raise HTTPException(404, "no such report")
        phase = _phase(r, approvals().get(report_id))
        return {"report_id": report_id, "status": r["status"]} | {
            k: phase[k] for k in ("phase", "state_text", "ready_in", "polling")
        }

    @app.get("/report/{report_id}/workbook")
    def workbook(report_id: int, user: Officer):
        from linkage.officer.reports import workbook_for_download
        from linkage.store.db import acting_as

        values_allowed(user, True)
        try:
            with acting_as(user_name(user)):
                path = workbook_for_download(_settings(), report_id)
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from None
        return FileResponse(
            path,
            filename=path.name,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Cache-Control": "no-store"},
        )

    @app.get("/data-docs/{path:path}")
    def data_docs(path: str, user: Officer):
        root = (_settings().home / "data_docs").resolve()
        target = (root / path).resolve()
        if not target.is_file() or root not in target.parents:
            raise HTTPException(404, "no such page")
        return FileResponse(target, headers={"Cache-Control": "no-store"})

    return app
