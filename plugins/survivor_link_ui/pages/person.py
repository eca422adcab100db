"""Person: `survivor-link explain` as a page, found by id, with the pairs that made him."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from survivor_link_ui.access import Officer, may_see_values, user_name, values_allowed
from survivor_link_ui.render import page, settings
from survivor_link_ui.waterfall import fields

router = APIRouter()


@router.get("/person", response_class=HTMLResponse)
def person_search(user: Officer, id: str | None = None, show_values: bool = False):
    if id:
        return person(id.strip().upper(), user, show_values)
    return page("person.html", user, title="Person", page="person", info=None)


@router.get("/person/{person_id}", response_class=HTMLResponse)
def person(person_id: str, user: Officer, show_values: bool = False):
    from linkage.match.review import ReviewError
    from linkage.officer.person import person_page
    from linkage.store.db import acting_as

    show = values_allowed(user, show_values)
    try:
        with acting_as(user_name(user)):
            info = person_page(settings(), person_id, show)
    except ReviewError as exc:
        return page("person.html", user, title="Person", page="person", info=None, error=str(exc))
    pairs = [p | {"fields": fields(p["explanation"])} for p in info["pairs"]]
    return page(
        "person.html",
        user,
        title=f"Person {info['person_id']}",
        page="person",
        info=info,
        pairs=pairs,
        show_values=show,
        can_see_values=may_see_values(user),
    )
