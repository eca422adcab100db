"""Drops no run took up: claimed but never ingested, loaded but never linked, never claimed.

Why a test of its own: Airflow does not say when an asset event started no run (events
merged, a DAG paused); the Deliveries page says it from the store and the landing folders,
and must neither miss such a drop nor mark one that a run is about to take.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape
from survivor_link_ui.words import FILTERS

from linkage.ingest.validation_pages import local_time, rules_text
from linkage.landing import claim_settled
from linkage.match.linker import link
from linkage.officer.deliveries import NOTHING_NEW, list_deliveries
from linkage.officer.waiting import (
    GRACE,
    NO_INGEST,
    NO_LINK,
    unclaimed_files,
    waiting_by_delivery,
    waiting_deliveries,
)
from linkage.pipeline import ingest_note, ingest_pending
from linkage.settings import Settings
from linkage.store.locks import lock_held, store_lock
from tests.conftest import write
from tests.helpers import iom_csv, iom_row

TEMPLATES = Path(__file__).parents[1] / "plugins" / "survivor_link_ui" / "templates"
LATER = dt.timedelta(minutes=6)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _drop(settings: Settings, name: str, cases: list[str]) -> Path:
    rows = [iom_row(c, name=f"PERSON {c[-4:]}") for c in cases]
    return write(settings.landing_dir / "iom" / name, iom_csv(rows))


def test_a_claimed_drop_no_ingest_took_waits_then_one_no_link_took(settings: Settings) -> None:
    _drop(settings, "iom_returns_2025_06.csv", ["KH-IOM-2024-0001", "KH-IOM-2024-0002"])
    (claimed,) = claim_settled(settings, "iom")  # the watcher's claim; its event started no run
    assert waiting_deliveries(settings) == []  # within the grace a run may still take it
    (w,) = waiting_deliveries(settings, _now() + LATER)
    assert (w.sha256, w.source, w.state) == (claimed.sha256, "iom", NO_INGEST)
    assert "landing_iom or ingest_iom DAG paused" in w.next_step

    counts = ingest_pending(settings, "iom")  # a run at last: ingested, not linked
    assert counts["ingested"] == 1
    (w,) = waiting_deliveries(settings, _now() + LATER)
    assert (w.sha256, w.state, w.unlinked) == (claimed.sha256, NO_LINK, 2)
    assert "link DAG paused" in w.next_step and "2 records" in w.next_step

    with store_lock(settings, "link", "linking"):  # a link under way: nothing said to wait for one
        assert waiting_deliveries(settings, _now() + LATER) == []
    link(settings)
    assert waiting_deliveries(settings, _now() + LATER) == []


def test_two_drops_one_run_the_next_run_says_it_found_them_taken(settings: Settings) -> None:
    """Two drops' events, one run (the second event wakes a run that finds nothing)."""
    # names of safe words only, which a note shows (linkage.privacy.file_label)
    _drop(settings, "iom_returns_1.csv", ["KH-IOM-2024-0001"])
    _drop(settings, "iom_returns_2.csv", ["KH-IOM-2024-0002"])
    claim_settled(settings, "iom")  # the watcher claims both: two asset events
    first = ingest_pending(settings, "iom")
    note = ingest_note(settings, first)
    assert "iom_returns_1.csv: 1 read, 1 loaded" in note and "iom_returns_2.csv: 1 read, 1 loaded" in note
    assert ingest_note(settings, ingest_pending(settings, "iom")) == NOTHING_NEW


def test_a_rejected_drop_or_one_with_nothing_new_does_not_wait_for_link(settings: Settings) -> None:
    write(settings.landing_dir / "iom" / "broken.csv", "no,columns,we,know\n1,2,3,4\n")
    _drop(settings, "first.csv", ["KH-IOM-2024-0001"])
    ingest_pending(settings, "iom")
    link(settings)
    again = _drop(settings, "again.csv", ["KH-IOM-2024-0001"])
    again.write_text(again.read_text() + "\n")  # other bytes, the same row: nothing new to link
    ingest_pending(settings, "iom")
    status = {d.file_name: d.status for d in list_deliveries(settings)}
    assert status == {"broken.csv": "rejected", "first.csv": "ingested", "again.csv": "ingested"}
    assert waiting_deliveries(settings, _now() + LATER) == []


def test_files_left_unclaimed_in_a_landing_folder_are_counted_not_named(settings: Settings) -> None:
    old = (_now() - GRACE - dt.timedelta(minutes=1)).timestamp()
    for name in ("sok_dara.csv", "second.csv"):
        os.utime(_drop(settings, name, ["KH-IOM-2024-0009"]), (old, old))
    os.utime(write(settings.landing_dir / "iom" / "still.csv.part", "x"), (old, old))  # being written
    _drop(settings, "fresh.csv", ["KH-IOM-2024-0010"])  # not settled long enough to say it waits
    (u,) = unclaimed_files(settings)
    assert (u.source, u.files) == ("iom", 2)
    assert abs(u.since.replace(tzinfo=dt.UTC).timestamp() - old) < 0.001  # the oldest file's time
    assert "sok_dara" not in repr(u) + u.next_step and "triggerer" in u.next_step
    assert unclaimed_files(settings, _now() - LATER) == []


def test_the_deliveries_page_marks_the_waiting_drop(settings: Settings) -> None:
    """The page's template with what the route passes it (the route itself needs Airflow)."""
    _drop(settings, "iom_returns_2025_06.csv", ["KH-IOM-2024-0001"])
    (claimed,) = claim_settled(settings, "iom")
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters.update(local=local_time, rules=rules_text, **FILTERS)  # as render.py sets them
    html = env.get_template("deliveries.html").render(
        base="/survivor-link",
        user="officer",
        title="Deliveries",
        page="deliveries",
        deliveries=[{"d": d, "outcome": {}, "checks": None} for d in list_deliveries(settings)],
        waiting=waiting_by_delivery(settings, _now() + LATER),
        unclaimed=unclaimed_files(settings),
        data_docs=False,
        message=None,
    )
    assert f'<li class="waiting" data-sha="{claimed.sha256[:16]}">' in html
    assert f'<td class="status-landed">{NO_INGEST}</td>' in html
    quiet = env.get_template("deliveries.html").render(
        base="", user="o", page="deliveries", deliveries=[], waiting={}, unclaimed=[], data_docs=False
    )
    assert 'id="waiting"' not in quiet


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_held_lock_is_seen_without_waiting_and_left_free(store: str, request) -> None:
    settings = request.getfixturevalue("settings" if store == "sqlite" else "pg_settings")
    assert lock_held(settings, "link") is False
    with store_lock(settings, "link", "linking"):
        assert lock_held(settings, "link") is True
    assert lock_held(settings, "link") is False  # the look took nothing away
    with store_lock(settings, "link", "linking"):  # and left nothing held
        pass
