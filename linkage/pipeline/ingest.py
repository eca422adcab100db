"""Ingest steps: files or folders given by path (the CLI), and a source's landing folder (Airflow).

Why both here: they differ only in where the bytes come from (a path left in place, or a
file claimed from landing/ into the inbox and removed once archived); what each file
becomes, and the counts that go to the console, XCom and the run's note, are one thing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linkage.ingest.files import RefusedFile, files_under, read_regular
from linkage.landing import claim_settled, original_name, pending, refuse_links
from linkage.pipeline.observer import QUIET, Observer
from linkage.settings import Settings

if TYPE_CHECKING:
    from linkage.ingest.load import DeliveryResult


class NoSuchPath(FileNotFoundError):
    """A path given to ingest that is neither a file nor a folder (nothing was ingested)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no such file or folder: {path}")


@dataclass
class IngestRun:
    """What one ingest did, file by file: names, statuses, counts and reasons, never values."""

    results: list[DeliveryResult] = field(default_factory=list)
    source: str | None = None
    claimed: int = 0  # files claimed from the landing folder by this run
    links_moved: int = 0  # links moved aside, unread, from the landing folder

    @property
    def any_rejected(self) -> bool:
        return any(r.status in ("rejected", "refused") for r in self.results)

    def counts(self) -> dict[str, Any]:
        """The run in counts and file hashes: what an ingest task returns and logs."""
        status = Counter(r.status for r in self.results)
        stored = [r for r in self.results if r.status != "refused"]
        by_rule: Counter[str] = Counter()
        for r in self.results:
            by_rule.update(r.quarantined_by_rule)
        return {
            "source": self.source,
            "claimed": self.claimed,
            "refused": self.links_moved + status["refused"],
            "deliveries": len(stored),
            "ingested": status["ingested"],
            "rejected": status["rejected"],
            "duplicate": status["duplicate"],
            "rows_read": sum(r.rows_read for r in self.results),
            "rows_loaded": sum(r.rows_loaded for r in self.results),
            "rows_quarantined": sum(r.rows_quarantined for r in self.results),
            "quarantined_by_rule": dict(by_rule),
            "sha256": [r.sha256 for r in stored],
        }


def files_to_ingest(paths: list[Path]) -> tuple[list[Path], list]:
    """The files under the paths given, and what was refused unread (links, non-files) with why."""
    out: list[Path] = []
    refused: list = []
    for p in paths:
        if p.is_dir() and not p.is_symlink():
            found, not_read = files_under(p)
            out.extend(found)
            refused.extend(not_read)
        elif p.exists() or p.is_symlink():
            out.append(p)  # a link given by name is refused when it is ingested
        else:
            raise NoSuchPath(p)
    return out, refused


def ingest_paths(
    settings: Settings, paths: list[Path], source: str | None = None, observer: Observer = QUIET
) -> IngestRun:
    """Ingest files and folders where they lie (`survivor-link ingest`, and `run`'s first step).

    The source is the one given, else the landing/<source>/ folder a file sits in.
    """
    from linkage.ingest.load import Ingestor, refused, safe_file_name, source_from_path
    from linkage.privacy import file_label

    files, not_read = files_to_ingest(paths)
    run = IngestRun([refused(r.path, source, r.reason) for r in not_read], source)
    observer.ingest_started(len(files))
    with Ingestor(settings, progress=observer.rows_mapped) as ingestor:
        for f in files:
            # not read yet, so no hash: a name that may name a man is withheld until its rows show
            where = source or source_from_path(f, ingestor.mappings) or "unknown"
            observer.file_started(file_label(safe_file_name(f.name), where, ""))
            run.results.append(ingestor.ingest_path(f, source))
            observer.file_done(run.results[-1])
        observer.docs_started()  # rendered as the batch closes
    observer.ingest_done(run)
    return run


def ingest_landing(settings: Settings, source: str, observer: Observer = QUIET) -> IngestRun:
    """Claim what has settled in the source's landing folder, then ingest everything in its inbox.

    A claimed file is removed from the inbox once ingested: the archive keeps its bytes,
    under their hash. Links are moved aside unread, never followed.
    """
    from linkage.ingest.load import Ingestor, refused
    from linkage.privacy import file_label

    links = refuse_links(settings, source)
    run = IngestRun(source=source, claimed=len(claim_settled(settings, source)), links_moved=len(links))
    todo = pending(settings, source)
    observer.ingest_started(len(todo))
    with Ingestor(settings, progress=observer.rows_mapped) as ingestor:
        for path in todo:
            name = original_name(settings, path)
            observer.file_started(file_label(name, source, path.name[:16]))  # named by its hash
            try:
                data = read_regular(path)
            except RefusedFile as exc:  # not ours to read (a link, a pipe): left where it is
                run.results.append(refused(path, source, str(exc)))
            else:
                run.results.append(ingestor.ingest_bytes(data, name, source))
                path.unlink()  # the archive keeps the bytes, under their hash
            observer.file_done(run.results[-1])
        observer.docs_started()
    observer.ingest_done(run)
    return run


def ingest_pending(settings: Settings, source: str) -> dict[str, Any]:
    """The ingest task's step: the source's landing folder taken in, as counts and hashes."""
    return ingest_landing(settings, source).counts()


def replay(settings: Settings, delivery: str | None = None) -> IngestRun:
    """Read archived deliveries again with today's mappings (all, or one by hash prefix)."""
    from linkage.ingest.load import Ingestor

    with Ingestor(settings) as ingestor:
        return IngestRun(ingestor.replay(delivery))


def ingest_note(settings: Settings, counts: dict[str, Any]) -> str:
    """The ingest run's note: one line per file it took in (names and counts), or none."""
    from linkage.officer.deliveries import run_note

    return run_note(settings, counts["sha256"])


def records_event(counts: dict[str, Any], note: str) -> dict[str, Any]:
    """The records asset event's extra: the delivery ledger's line, counts and file lines only."""
    keys = ("source", "deliveries", "ingested", "rejected", "duplicate", "rows_loaded", "rows_quarantined")
    return {k: counts[k] for k in keys} | {"files": note.splitlines()[:20]}


@dataclass(frozen=True)
class Rejections:
    """Files of a run that were rejected: one log line each, and the run's failure message."""

    lines: list[str]
    message: str


def rejections(settings: Settings, hashes: list[str]) -> Rejections | None:
    """Which of these deliveries were rejected, why, and what to do; None when none was."""
    from linkage.officer.deliveries import rejected_deliveries

    rejected = rejected_deliveries(settings, hashes)
    if not rejected:
        return None
    return Rejections(
        [f"{d.label} was rejected: {d.reason}. {d.next_step}" for d in rejected],
        f"{len(rejected)} file(s) rejected: "
        + "; ".join(f"{d.label}: {d.reason}" for d in rejected)
        + ". The other files were loaded. "
        + rejected[0].next_step,
    )
