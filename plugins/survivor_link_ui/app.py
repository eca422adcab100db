"""The survivor-link pages: deliveries, review queue, person, weekly report.

A thin layer: each route asks Airflow whether the user may (access.py), calls one function
of linkage.officer, linkage.match.review or linkage.pipeline, and renders the answer. Pages
show ids, counts, rules and reasons; values only when the role may see them and the officer
asks, and the asking is audited in the store. One module per page under pages/.
"""

from __future__ import annotations

from fastapi import FastAPI

from survivor_link_ui.pages import deliveries, person, report, review
from survivor_link_ui.render import BASE

__all__ = ["BASE", "create_app"]


def create_app() -> FastAPI:
    """The view's app, mounted by the plugin at BASE."""
    app = FastAPI(title="survivor-link", docs_url=None, redoc_url=None, openapi_url=None)
    for page in (deliveries, review, person, report):
        app.include_router(page.router)
    return app
