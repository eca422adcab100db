"""The weekly lists as CSV: one field per column, for machines and other tools.

Why flat: the workbook's wrapped cells are for reading on paper; a CSV is re-sorted and
joined, so every field (each list's record number, each phone) has its own column. Phones
are in national format (012 345 678), which no spreadsheet reads as a formula, so they
need no apostrophe; other risky cells still get one (see cells.csv_safe).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from linkage.normalise.places import point_of_entry_name
from linkage.report.cells import csv_safe
from linkage.report.contact_sheet import why_terms
from linkage.report.contacts import ContactRow
from linkage.report.glossary import Term
from linkage.report.protect import open_private


def _ids(r: ContactRow, source: Callable[[str], bool]) -> str:
    return "; ".join(x.source_record_id for x in r.records if source(x.source))


CONTACT_FIELDS: list[tuple[str, Callable[[ContactRow], Any]]] = [
    ("priority", lambda r: r.priority.level),
    ("person_id", lambda r: r.person_id),
    ("event_id", lambda r: r.event_id),
    ("family_name", lambda r: r.details.family_name),
    ("given_name", lambda r: r.details.given_name),
    ("name_kh", lambda r: r.details.name_kh),
    ("birth_date", lambda r: r.details.birth_date.isoformat() if r.details.birth_date else None),
    ("birth_year", lambda r: r.details.birth_year),
    ("age", lambda r: r.age_now),
    ("age_at_return", lambda r: r.age_at_return),
    ("father_name", lambda r: r.details.father),
    ("national_id", lambda r: "; ".join(r.details.national_ids)),
    ("travel_doc_no", lambda r: "; ".join(r.details.travel_docs)),
    ("phones", lambda r: "; ".join(r.details.phones)),
    ("village", lambda r: r.details.village[1] if r.details.village else None),
    ("commune", lambda r: r.details.commune[1] if r.details.commune else None),
    ("district", lambda r: r.details.district[1] if r.details.district else None),
    ("province", lambda r: r.details.province[1] if r.details.province else None),
    ("return_date", lambda r: r.return_date.isoformat() if r.return_date else None),
    ("days_since_return", lambda r: r.days_since_return),
    ("band", lambda r: r.band),
    ("country", lambda r: r.country),
    ("sector", lambda r: r.details.sector),
    ("point_of_entry", lambda r: point_of_entry_name(r.point_of_entry) if r.point_of_entry else None),
    ("iom_case_no", lambda r: _ids(r, lambda s: s == "iom")),
    (
        "mosvy_row_no",
        lambda r: "; ".join(f"{x.source_record_id} ({x.file})" for x in r.records if x.source == "mosvy"),
    ),
    (
        "ngo_client_id",
        lambda r: "; ".join(
            f"{x.source} {x.source_record_id}" for x in r.records if x.source.startswith("ngo-")
        ),
    ),
    ("case_manager", lambda r: "; ".join(sorted({x.case_manager for x in r.records if x.case_manager}))),
    ("consent_to_share", lambda r: "yes" if r.details.consent else "no"),
    ("contact_details_withheld", lambda r: "yes" if r.details.withheld else "no"),
    ("possible_duplicate_of", lambda r: "; ".join(r.duplicates)),
    ("why_en", lambda r: "; ".join(t.en for t in why_terms(r))),
    ("why_km", lambda r: "; ".join(t.km for t in why_terms(r))),
]


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with open_private(path) as fh:  # 0600: the list names survivors
        w = csv.writer(fh)
        w.writerow(header)
        for row in rows:
            w.writerow(["" if v is None else csv_safe(v) for v in row])


def write_contacts_csv(path: Path, rows: list[ContactRow]) -> None:
    _write(path, [k for k, _f in CONTACT_FIELDS], [[f(r) for _k, f in CONTACT_FIELDS] for r in rows])


def write_closed_csv(path: Path, rows: list[tuple[ContactRow, Term]]) -> None:
    header = [
        "person_id",
        "event_id",
        "return_date",
        "days_since_return",
        "lists",
        "why_closed_en",
        "why_closed_km",
    ]
    out = [
        [
            r.person_id,
            r.event_id,
            r.return_date.isoformat() if r.return_date else None,
            r.days_since_return,
            "; ".join(f"{x.source} {x.source_record_id}" for x in r.records),
            why.en,
            why.km,
        ]
        for r, why in rows
    ]
    _write(path, header, out)


def write_summary_csv(path: Path, tables: list[tuple[str, str, Any]]) -> None:
    """(table, group, value as shown in the workbook, suppression included)."""
    _write(path, ["table", "group", "value"], [list(t) for t in tables])
