"""What every page of the view shares: where it is mounted, its templates, the store's settings.

Why apart from the pages: each page module renders through the same templates and reads the
same settings, and none of this needs Airflow, so it is importable without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from linkage.ingest.validation_pages import local_time, rules_text
from survivor_link_ui.words import FILTERS

BASE = "/survivor-link"
templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)


templates.filters.update(local=local_time, rules=rules_text, **FILTERS)


def settings():
    """The store's settings, migrated: a page may be the first thing to touch a new store."""
    from linkage.settings import load_settings
    from linkage.store.db import migrate

    loaded = load_settings()
    migrate(loaded)
    return loaded


def page(name: str, user, **context: Any) -> HTMLResponse:
    """A template rendered for the user; never cached, since pages may show values."""
    html = templates.get_template(name).render(base=BASE, user=user.get_name(), **context)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
