"""Review: the queue's pairs side by side, their waterfall, the rest of both persons, decisions."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from survivor_link_ui.access import Officer, may_see_values, user_name, values_allowed
from survivor_link_ui.render import page, settings
from survivor_link_ui.waterfall import fields

router = APIRouter()


class Decision(BaseModel):
    """A reviewer's verdict on a pair, as the review page posts it."""

    decision: str
    note: str | None = Field(default=None, max_length=500)


def _both_persons(s, user, pair: dict | None, show: bool) -> dict[str, dict | None]:
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
                out[side] = person_context(s, ref.person_id, ref.record_id, show)
    return out


def _current(s, user, i: int, pair: int | None, show: bool) -> tuple[dict | None, int, int]:
    """The pair to show (by position, or by id when given), the position, and how many wait.

    With values asked for, only this one pair is read again with them (audited)."""
    from linkage.match.review import open_pairs
    from linkage.store.db import acting_as

    with acting_as(user_name(user)):
        queue = open_pairs(s, limit=10_000, show_values=False, include=pair)
    waiting = queue[0]["waiting"] if queue else 0
    if pair is not None:
        i = next((n for n, p in enumerate(queue) if p["pair"] == pair), i)
    current = queue[i] if 0 <= i < len(queue) else None
    if current is not None and show:
        with acting_as(user_name(user)):  # values of this one pair only, audited
            current = next(
                (
                    p
                    for p in open_pairs(s, limit=10_000, show_values=True, include=pair)
                    if p["pair"] == current["pair"]
                ),
                current,
            )
    return current, i, waiting


@router.get("/review", response_class=HTMLResponse)
def review(
    user: Officer,
    i: int = 0,
    pair: int | None = None,
    blind: bool = False,
    show_values: bool = False,
    decided: int | None = None,
    undone: int | None = None,
):
    s = settings()
    show = values_allowed(user, show_values)
    current, i, waiting = _current(s, user, i, pair, show)
    bars = fields(current["explanation"], current["a"], current["b"]) if current else []
    persons = _both_persons(s, user, current, show)
    message = f"Pair {decided} recorded; the next link applies it." if decided else None
    if undone:
        message = f"Decision on pair {undone} taken back; it waits again."
    return page(
        "review.html",
        user,
        title="Review",
        page="review",
        pair=current,
        persons=persons,
        index=i,
        waiting=waiting,
        fields=bars,
        total=sum(f["weight"] for f in bars),
        blind=blind,
        show_values=show,
        can_see_values=may_see_values(user),
        message=message,
    )


@router.post("/review/{pair_id}/decide")
def decide(pair_id: int, body: Decision, user: Officer):
    from linkage.match.review import ReviewError
    from linkage.officer.review_desk import decide_pair

    try:
        return decide_pair(settings(), pair_id, body.decision, user_name(user), body.note)
    except ReviewError as exc:
        raise HTTPException(400, str(exc)) from None


@router.post("/review/{pair_id}/undo")
def undo(pair_id: int, user: Officer):
    from linkage.match.review import ReviewError
    from linkage.officer.review_desk import undo_pair

    try:
        return undo_pair(settings(), pair_id, user_name(user))
    except ReviewError as exc:
        raise HTTPException(400, str(exc)) from None
