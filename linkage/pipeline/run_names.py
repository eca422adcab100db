"""Readable Airflow run ids: what a run takes in, named by file label, and when.

Why: Airflow names an asset-triggered run by the time alone (`asset_triggered__2026-...`),
so the runs list says nothing of the file behind a run. The DAGs start ingest and replay
runs under ids built here instead, e.g. `ingest__iom_returns_2025_06__20261202T140916`.

The names come from `linkage.privacy.file_label`, never the file name as sent: a run id is
kept in clear in Airflow's database, its logs' paths and its URLs, and a sender may name a
file after a man ("iom delivery 3fa2c1d9e0b1" then). No Airflow here: the core stays free of
it, and the id is plain text that Airflow's default `allowed_run_id_pattern` accepts.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from linkage.landing import is_candidate, landing_folder, pending
from linkage.privacy import file_label
from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import Delivery

PHNOM_PENH = ZoneInfo("Asia/Phnom_Penh")  # the officers' time, as every page shows it
NAMED = 2  # files named in an id; more are counted ("+3_more")
MAX_NAMES = 180  # Airflow keeps 250 characters; the kind and the time need the rest
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_.~:+-]+")  # Airflow's default allowed_run_id_pattern
_EXTENSION = re.compile(r"\.(csv|tsv|txt|xlsx|xlsm|xls)$", re.I)


def label_part(label: str) -> str:
    """A file label as a piece of a run id: no extension, runs of other characters as "_"."""
    part = _NOT_ALLOWED.sub("_", _EXTENSION.sub("", label.strip()))
    part = re.sub(r"\.{2,}", ".", part)  # Airflow refuses ".." in ids (path traversal)
    return part.strip("_.") or "file"


def run_id(kind: str, labels: list[str], when: dt.datetime) -> str:
    """`<kind>__<first label>+<second label>+<n>_more__<Phnom Penh time to the second>`.

    Seconds, so that two runs for the same file started apart (a drop, then a replay) never
    share an id; a run started twice in one second for the same files is one run.
    """
    parts = [label_part(label) for label in labels[:NAMED]]
    if len(labels) > NAMED:
        parts.append(f"{len(labels) - NAMED}_more")
    names = "+".join(parts)[:MAX_NAMES].rstrip("_.+") or "nothing_named"
    aware = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return f"{kind}__{names}__{aware.astimezone(PHNOM_PENH):%Y%m%dT%H%M%S}"


def waiting_labels(settings: Settings, source: str) -> list[str]:
    """The labels of the files an ingest run of this source would take in now: those claimed
    into its inbox (in the order they were written), then any still in its landing folder."""
    inbox = _by_age(pending(settings, source))
    prefixes = [p.name[:16] for p in inbox]  # <hash 16>.<claim> (older claims: <hash>__<name>)
    labels = {}
    if prefixes:
        with session_scope(settings) as s:
            rows = s.execute(
                select(Delivery.sha256, Delivery.file_name).where(
                    Delivery.source == source, or_(*[Delivery.sha256.startswith(p) for p in set(prefixes)])
                )
            ).all()
        labels = {sha[:16]: file_label(name, source, sha) for sha, name in rows}
    named = [labels.get(p, f"{source} file (name withheld)") for p in prefixes]
    landing = landing_folder(settings, source)
    if landing.is_dir():
        named += [file_label(p.name, source, "") for p in sorted(landing.iterdir()) if is_candidate(p)]
    return named


def _by_age(paths: list[Path]) -> list[Path]:
    """Inbox files by when they were written (a claim's move keeps the time), by name when
    times tie; one gone meanwhile (a running ingest took it) is not named."""
    aged = []
    for p in paths:
        try:
            aged.append((p.stat().st_mtime, p.name, p))
        except FileNotFoundError:
            continue
    return [p for _t, _n, p in sorted(aged)]
