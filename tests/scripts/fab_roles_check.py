"""Run in a fresh Airflow home with the FAB auth manager: import our roles, ask who may do what.

A separate process, because Airflow reads its auth manager once per process. Prints JSON.
"""

import json
import sys
from argparse import Namespace
from pathlib import Path

from airflow.api_fastapi.auth.managers.models.resource_details import (
    ConnectionDetails,
    DagAccessEntity,
    DagDetails,
    VariableDetails,
)
from airflow.providers.fab.auth_manager.cli_commands.role_command import roles_import
from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder
from airflow.providers.fab.auth_manager.fab_auth_manager import FabAuthManager
from airflow.utils.db import initdb

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins"))
from survivor_link_ui import access  # noqa: E402 (the view's own checks, after the plugins path)

initdb()
roles_import(Namespace(file=sys.argv[1], verbose=False))
with get_application_builder() as ab:
    sm = ab.sm
    users = {}
    for name, role in (("admin", "Admin"), ("officer", "DataOfficer"), ("viewer", "Viewer")):
        users[name] = sm.find_user(username=name) or sm.add_user(
            name, name, "test", f"{name}@example.org", sm.find_role(role), password="not-used"
        )
    manager = FabAuthManager()
    report = DagDetails(id="weekly_report")
    checks = {
        "approve_report": lambda u: manager.is_authorized_dag(
            method="PUT", access_entity=DagAccessEntity.HITL_DETAIL, details=report, user=u
        ),
        "see_approvals": lambda u: manager.is_authorized_dag(
            method="GET", access_entity=DagAccessEntity.HITL_DETAIL, details=report, user=u
        ),
        "trigger_run": lambda u: manager.is_authorized_dag(
            method="POST", access_entity=DagAccessEntity.RUN, details=report, user=u
        ),
        "read_logs": lambda u: manager.is_authorized_dag(
            method="GET", access_entity=DagAccessEntity.TASK_LOGS, details=report, user=u
        ),
        "edit_connections": lambda u: manager.is_authorized_connection(
            method="PUT", details=ConnectionDetails(conn_id="smtp_default"), user=u
        ),
        "use_survivor_link_view": lambda u: access.may_use(u, manager),
        "see_survivor_link_values": lambda u: access.may_see_values(u, manager),
        "edit_variables": lambda u: manager.is_authorized_variable(
            method="PUT", details=VariableDetails(key="anything"), user=u
        ),
        # what only an admin should read: connection passwords (SMTP), variables, the config
        "read_connections": lambda u: manager.is_authorized_connection(
            method="GET", details=ConnectionDetails(conn_id="smtp_default"), user=u
        ),
        "read_variables": lambda u: manager.is_authorized_variable(
            method="GET", details=VariableDetails(key="anything"), user=u
        ),
        "read_config": lambda u: manager.is_authorized_configuration(method="GET", user=u),
    }
    print(json.dumps({name: {c: bool(f(u)) for c, f in checks.items()} for name, u in users.items()}))
