"""How complete the data behind the report is: which lists arrived, and what is still pending.

Why: a case lead who sees few flags in a province must know whether the men were referred
or the province's list simply has not arrived; rows waiting in quarantine and record pairs
waiting for a reviewer are men the report may be missing or counting twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from linkage.report.cells import put
from linkage.report.contacts import list_term
from linkage.report.glossary import both, has, term
from linkage.store.models import CandidatePair, Delivery, Quarantine, Record

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


@dataclass
class SourceCompleteness:
    source: str
    deliveries: int
    rejected: int
    rows_loaded: int
    quarantined: int
    last_arrived: dt.date | None
    latest_return: dt.date | None


@dataclass
class DeliveryLine:
    """One file as received (its name, never its content)."""

    source: str
    file_name: str
    received: dt.date | None
    status: str
    rows_loaded: int
    rows_quarantined: int


@dataclass
class Completeness:
    sources: list[SourceCompleteness]
    review_open: int
    review_touching_flags: int
    deliveries: list[DeliveryLine]


def completeness(session: Session, flagged_records: set[int]) -> Completeness:
    """Per source: deliveries, rows, quarantine, last arrival; and the open review queue."""
    deliveries = session.execute(
        select(
            Delivery.source,
            func.sum(case((Delivery.status == "ingested", 1), else_=0)),
            func.sum(case((Delivery.status == "rejected", 1), else_=0)),
            func.sum(Delivery.rows_loaded),
            func.max(Delivery.received_at),
        ).group_by(Delivery.source)
    ).all()
    quarantined = dict(
        session.execute(
            select(Quarantine.source, func.count())
            .where(Quarantine.status == "open")
            .group_by(Quarantine.source)
        ).all()
    )
    latest = dict(
        session.execute(select(Record.source, func.max(Record.return_date)).group_by(Record.source)).all()
    )
    sources = [
        SourceCompleteness(
            source=src,
            deliveries=int(ok or 0),
            rejected=int(bad or 0),
            rows_loaded=int(rows or 0),
            quarantined=int(quarantined.get(src, 0)),
            last_arrived=arrived.date() if isinstance(arrived, dt.datetime) else None,
            latest_return=latest.get(src),
        )
        for src, ok, bad, rows, arrived in sorted(deliveries, key=lambda r: r[0])
    ]
    pairs = session.execute(
        select(CandidatePair.record_a, CandidatePair.record_b).where(
            CandidatePair.band == "review", CandidatePair.status == "open"
        )
    ).all()
    touching = sum(1 for a, b in pairs if a in flagged_records or b in flagged_records)
    files = [
        DeliveryLine(
            source=d.source,
            file_name=d.file_name,
            received=d.received_at.date() if isinstance(d.received_at, dt.datetime) else None,
            status=d.status,
            rows_loaded=int(d.rows_loaded or 0),
            rows_quarantined=int(d.rows_quarantined or 0),
        )
        for d in sorted(  # in Python: the file name is sealed, SQL would order its ciphertext
            session.scalars(select(Delivery)),
            key=lambda d: (d.source, d.received_at, d.file_name, d.sha256),
        )
    ]
    return Completeness(sources, len(pairs), touching, files)


def write_completeness(ws: Worksheet, c: Completeness) -> None:
    """The data-completeness panel, one row per list."""
    put(ws.cell(1, 1), both("complete.title", "  /  ")).font = Font(bold=True, size=13)
    r = _sources_table(ws, c.sources)
    r = _review_and_note(ws, c, r + 1)
    _files_table(ws, c.deliveries, r + 2)
    for col, width in zip("ABCDEFG", (26, 16, 16, 14, 20, 18, 18), strict=True):
        ws.column_dimensions[col].width = width


def _heads(ws: Worksheet, row: int, columns: Iterable[int], keys: list[str]) -> None:
    """A table's bold, filled, wrapped header cells in both languages."""
    for j, key in zip(columns, keys, strict=True):
        cell = put(ws.cell(row, j), both(key))
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _sources_table(ws: Worksheet, sources: list[SourceCompleteness]) -> int:
    """One row per list from row 3 on (its header); returns the row after the last."""
    heads = [
        "complete.source",
        "complete.deliveries",
        "complete.rejected",
        "complete.rows",
        "complete.quarantined",
        "complete.last_arrived",
        "complete.latest_return",
    ]
    _heads(ws, 3, range(1, len(heads) + 1), heads)
    ws.row_dimensions[3].height = 62
    r = 4
    for s in sources:
        put(ws.cell(r, 1), list_term(s.source).both(" / "))
        for j, v in enumerate((s.deliveries, s.rejected, s.rows_loaded, s.quarantined), start=2):
            put(ws.cell(r, j), v)
        for j, d in ((6, s.last_arrived), (7, s.latest_return)):
            cell = ws.cell(r, j, d)
            cell.number_format = "DD/MM/YYYY"
        r += 1
    return r


def _review_and_note(ws: Worksheet, c: Completeness, r: int) -> int:
    """The review counts from row r, then the panel's note; returns the note's row."""
    for key, value in (
        ("complete.review", c.review_open),
        ("complete.review_flagged", c.review_touching_flags),
    ):
        cell = put(ws.cell(r, 1), both(key, " / "))
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=4)
        ws.row_dimensions[r].height = 30
        put(ws.cell(r, 5), value)
        r += 1
    r += 1
    note = term("complete.note")
    put(ws.cell(r, 1), f"{note.km}\n{note.en}").alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=7)
    ws.row_dimensions[r].height = 30
    return r


def _files_table(ws: Worksheet, deliveries: list[DeliveryLine], r: int) -> None:
    """The files of the period from row r: its title, header, then one row per file."""
    put(ws.cell(r, 1), both("complete.files", "  /  ")).font = Font(bold=True)
    r += 1
    heads = ["complete.source", "complete.file", "complete.received", "complete.status", "complete.rows"]
    heads.append("complete.file_quarantined")
    _heads(ws, r, (1, 2, 4, 5, 6, 7), heads)  # the file name spans B:C
    ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=3)
    ws.row_dimensions[r].height = 32
    for d in deliveries:
        r += 1
        put(ws.cell(r, 1), list_term(d.source).both(" / "))
        put(ws.cell(r, 2), d.file_name)
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=3)
        ws.cell(r, 4, d.received).number_format = "DD/MM/YYYY"
        key = f"status.{d.status}"
        put(ws.cell(r, 5), both(key, " / ") if has(key) else d.status)
        put(ws.cell(r, 6), d.rows_loaded)
        put(ws.cell(r, 7), d.rows_quarantined)
