"""The whole job on a folder: ingest its lists, link, flag (`survivor-link run`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from linkage.pipeline.apart import apart
from linkage.pipeline.ingest import IngestRun, ingest_paths
from linkage.pipeline.link import Linked, link_then_flag
from linkage.pipeline.observer import QUIET, InChild, Observer
from linkage.settings import Settings


@dataclass(frozen=True)
class RunResult:
    """Each step's result, in order: files, then linkage and flags."""

    ingest: IngestRun
    linked: Linked


def landing_of(folder: Path) -> Path:
    """The folder's landing/ when it has one (a synth output, a service home), else itself."""
    return folder / "landing" if (folder / "landing").is_dir() else folder


def run_folder(
    settings: Settings, folder: Path, as_of: dt.date | None = None, observer: Observer = QUIET
) -> RunResult:
    """Ingest every list under the folder's landing/<source>/ (left in place), link, then flag.

    A rejected file does not stop the run: the other files load, and linkage and flags follow,
    as in the ingest and link DAGs (which take files from the landing folder instead).
    The ingest runs in a child process (apart.py): what it leaves in memory is not under
    the link's peak.
    """
    ingested = apart(ingest_paths, settings, [landing_of(folder)], None, InChild(observer))
    observer.ingest_done(ingested)
    return RunResult(ingested, link_then_flag(settings, as_of, observer))
