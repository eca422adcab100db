"""The report page's state line: what it says while a report is delivered, and when that fails."""

from __future__ import annotations

import pytest
from survivor_link_ui.report_state import _phase


@pytest.mark.parametrize("state", ["failed", "upstream_failed"])
def test_a_failed_delivery_says_so_and_stops_polling(state: str) -> None:
    asked = {"answer": "Approve", "tasks": {"deliver": state}}
    got = _phase({"status": "approved", "decided_by": "officer"}, asked)
    assert got["phase"] == "failed" and not got["polling"]
    assert "delivering the report failed" in got["state_text"] and "clear that task" in got["state_text"]


def test_a_running_delivery_polls() -> None:
    asked = {"answer": "Approve", "by": "officer", "tasks": {"deliver": "running"}}
    got = _phase({"status": "approved"}, asked)
    assert got["phase"] == "delivering" and got["polling"]
    assert got["state_text"] == "approved by officer: delivering… (copying to the outbox)"
