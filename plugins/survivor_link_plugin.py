"""The survivor-link Airflow plugin: the officer's view (a FastAPI app in Airflow's UI) and run notes.

The view is mounted at /survivor-link and shown in Airflow's navigation; every route asks
Airflow's auth manager first (survivor_link_ui/access.py). The listener gives ingest and
link runs a note saying what they did (run_notes.py).
"""

from __future__ import annotations

import run_notes
from airflow.plugins_manager import AirflowPlugin
from survivor_link_ui.app import BASE, create_app


class SurvivorLinkPlugin(AirflowPlugin):
    name = "survivor_link"
    listeners = [run_notes]
    fastapi_apps = [{"app": create_app(), "url_prefix": BASE, "name": "survivor-link"}]
    external_views = [
        {
            "name": "survivor-link",
            "href": f"{BASE}/deliveries",
            "destination": "nav",
            "url_route": "survivor-link",
            "nav_top_level": True,
        }
    ]
