"""What a pipeline step says while it runs, to whoever watches: the CLI's bars, or no one.

Why an observer and not return values alone: `survivor-link run` shows each step's table as
the step ends (a million-record ingest should not wait for linkage to show its files), yet
the sequence of steps lives in the pipeline only. The default observer says nothing;
Airflow tasks log the counts the steps return.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from linkage.ingest.load import DeliveryResult
    from linkage.match.linker import LinkSummary
    from linkage.pipeline.ingest import IngestRun
    from linkage.referral.history import FlagRun


class Observer:
    """Hooks called by the pipeline's steps, in order; each does nothing unless overridden.

    They receive labels of files (linkage.privacy.file_label: a sender's file name may name
    the man it is about), counts and the steps' results (dataclasses of counts), never a
    record's values.
    """

    def ingest_started(self, files: int) -> None:
        """An ingest of this many files begins."""

    def file_started(self, label: str) -> None:
        """One file (its label, without the hash when it is not read yet) is being read."""

    def rows_mapped(self, label: str, done: int, total: int) -> None:
        """Rows of the file (its label, with the hash) mapped so far."""

    def file_done(self, result: DeliveryResult) -> None:
        """One file is done."""

    def docs_started(self) -> None:
        """The validation pages (Data Docs) of the batch are being rendered."""

    def ingest_done(self, run: IngestRun) -> None:
        """The ingest is over."""

    def ingest_done_apart(self) -> None:
        """The ingest is over in a child process (pipeline/apart.py); ingest_done follows
        in this one, with the run."""

    def link_started(self) -> None:
        """Linking begins."""

    def link_progress(self, message: str) -> None:
        """What linking is doing now (a phase, or that it waits for another link's lock)."""

    def link_done(self, summary: LinkSummary) -> None:
        """Linking is over."""

    def flag_started(self) -> None:
        """Every return is being checked for a referral."""

    def flag_done(self, run: FlagRun) -> None:
        """Flags are up to date."""


class InChild(Observer):
    """What a child running the ingest tells the observer: its progress, not its end, which
    the parent tells (its output is the parent's: a console captured in the parent, as a
    test's is, would not see what the child printed)."""

    def __init__(self, observer: Observer) -> None:
        self.observer = observer

    def ingest_started(self, files: int) -> None:
        self.observer.ingest_started(files)

    def file_started(self, label: str) -> None:
        self.observer.file_started(label)

    def rows_mapped(self, label: str, done: int, total: int) -> None:
        self.observer.rows_mapped(label, done, total)

    def file_done(self, result: DeliveryResult) -> None:
        self.observer.file_done(result)

    def docs_started(self) -> None:
        self.observer.docs_started()

    def ingest_done(self, run: IngestRun) -> None:
        self.observer.ingest_done_apart()


QUIET = Observer()
