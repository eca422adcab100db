"""What the CLI shows while the pipeline runs: progress bars, spinners and each step's table.

Why apart from linkage/cli.py: the CLI parses arguments and calls the pipeline; how a step
looks on a console (Rich bars, tables, escaping of text from senders' files) is one
concern, kept here, and the pipeline never imports it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.status import Status
from rich.table import Table

from linkage.pipeline.observer import Observer

# Tables wider than a pipe's default 80 columns stay readable when output goes to a file or CI log.
console = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160)


def delivery_table(results: list) -> Table:
    t = Table(title="Deliveries", show_lines=False)
    for col in ("file", "source", "status", "read", "loaded", "quarantined", "why / by reason", "warnings"):
        t.add_column(col, overflow="fold")
    for r in results:
        why = r.reason or ", ".join(f"{k}: {v}" for k, v in sorted(r.quarantined_by_rule.items()))
        if r.unknown_columns:
            why += ("; " if why else "") + f"unknown columns kept: {', '.join(r.unknown_columns)}"
        warn = ", ".join(f"{k}: {v}" for k, v in sorted(r.warnings_by_rule.items()))
        if r.notes:
            warn += ("; " if warn else "") + "; ".join(r.notes)
        style = {"rejected": "red", "refused": "red", "duplicate": "dim"}.get(r.status, "")
        t.add_row(  # text from a sender's file is escaped: "[/]" in a header is not markup
            escape(r.label),  # the name only when it names no one (linkage.privacy.file_label)
            escape(r.source),
            f"[{style}]{r.status}[/]" if style else r.status,
            str(r.rows_read),
            str(r.rows_loaded),
            str(r.rows_quarantined),
            escape(why),
            escape(warn),
        )
    return t


def _counts_table(title: str, rows: tuple[tuple[str, Any], ...], value: str = "count") -> Table:
    t = Table(title=title, show_header=False)
    t.add_column("what")
    if value == "count":
        t.add_column(value, justify="right")
    else:
        t.add_column(value, overflow="fold")
    for label, v in rows:
        t.add_row(label, str(v))
    return t


def flag_table(run) -> Table:
    c = run.counts
    return _counts_table(
        f"Referral flags as of {run.as_of:%d/%m/%Y}",
        (
            ("returns on record", c["returns"]),
            ("referred to case management", c["returns_referred"]),
            ("unreferred, still within the grace period", c["returns_within_grace"]),
            ("[bold]unreferred past the grace period (open flags)[/]", run.open),
            ("  of which an NGO case closed without referral", c["flagged_partial_assistance"]),
            ("  of which an NGO case status no setting names", c["flagged_status_unknown"]),
            ("flags opened by this run", run.opened),
            ("flags closed by this run", run.closed),
            ("returns known only from an NGO intake date", c["returns_without_date"]),
        ),
    )


def link_table(summary) -> Table:
    return _counts_table(
        "Linkage",
        (
            ("records linked", summary.records_linked),
            ("persons created", summary.persons_created),
            ("persons grown", summary.persons_grown),
            ("persons merged (old ids kept as aliases)", summary.persons_merged),
            ("return events created", summary.events_created),
            ("candidate pairs compared", summary.pairs_compared),
            ("pairs sent to review", summary.pairs_for_review),
            ("links refused by the cluster checks", summary.links_refused),
            ("pairs linked one to one (two lists name each other first)", summary.links_one_to_one),
            ("match weights", summary.model),
        ),
    )


def report_table(report) -> Table:
    return _counts_table(
        f"Weekly report {report.week} (as of {report.as_of:%d/%m/%Y})",
        (
            ("workbook (for MoSVY only: names survivors)", str(report.workbook)),
            ("the same lists as CSV", ", ".join(p.name for p in report.csv_files)),
            ("SHA-256 of the workbook", report.sha256),
            ("returns on record", report.counts["returns"]),
            ("referred to case management", report.counts["returns_referred"]),
            ("open flags", report.counts["open_flags"]),
            ("opened this week", report.counts["new_this_week"]),
            ("closed this week", report.counts["closed_this_week"]),
        ),
        value="value",
    )


class ConsoleView(Observer):
    """The pipeline watched from a console: a bar per ingest, a spinner per step, then its table.

    Used in a `with` block, so that a bar or spinner still live when a step fails is stopped
    before the error is printed.
    """

    def __init__(self, out: Console = console) -> None:
        self.console = out
        self._bar: Progress | None = None
        self._status: Status | None = None
        self._files = self._rows = 0

    def __enter__(self) -> ConsoleView:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        if self._status is not None:
            self._status.stop()
            self._status = None

    def _spin(self, message: str) -> None:
        self._stop()
        self._status = self.console.status(message)
        self._status.start()

    # -- ingest ------------------------------------------------------------------------------
    def ingest_started(self, files: int) -> None:
        self._stop()
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self._files = self._bar.add_task("files", total=files)
        self._rows = self._bar.add_task("rows", total=None)
        self._bar.start()

    def file_started(self, label: str) -> None:
        if self._bar is not None:
            self._bar.update(self._files, description=f"ingesting {escape(label)}")

    def rows_mapped(self, label: str, done: int, total: int) -> None:
        if self._bar is not None:
            self._bar.update(self._rows, description=f"rows of {escape(label)}", completed=done, total=total)

    def file_done(self, result: Any) -> None:
        if self._bar is not None:
            self._bar.advance(self._files)

    def docs_started(self) -> None:
        if self._bar is not None:
            self._bar.update(self._files, description="rendering the validation pages (Data Docs)")

    def ingest_done_apart(self) -> None:
        self._stop()  # the bar; the parent prints the table

    def ingest_done(self, run: Any) -> None:
        self._stop()
        self.console.print(delivery_table(run.results))

    # -- link and flag -----------------------------------------------------------------------
    def link_started(self) -> None:
        self._spin("linking")

    def link_progress(self, message: str) -> None:
        from linkage.store.locks import WAITING

        if message.startswith(WAITING):  # another link holds the store's lock: say so, then wait
            self.console.print(message)
        if self._status is not None:
            self._status.update(message)

    def link_done(self, summary: Any) -> None:
        self._stop()
        self.console.print(link_table(summary))

    def flag_started(self) -> None:
        self._spin("checking every return for a referral")

    def flag_done(self, run: Any) -> None:
        self._stop()
        self.console.print(flag_table(run))
