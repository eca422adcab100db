"""The one list of personal fields, and helpers that keep them out of logs and errors.

Why one list: encryption at rest, redaction in listings and the canary tests all read it,
so a new personal field is protected everywhere by adding it here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Canonical record columns that identify a survivor.
PERSONAL_FIELDS: tuple[str, ...] = (
    "full_name",
    "family_name",
    "given_name",
    "name_kh",
    "family_name_kh",
    "given_name_kh",
    "name_latin",
    "birth_date",
    "phone",
    "national_id",
    "travel_doc_no",
    "father_name",
    "remarks",
)

REDACTED = "«redacted»"


def redact_row(row: Mapping[str, Any], personal_columns: set[str]) -> dict[str, Any]:
    """Copy a raw row with the values of personal columns replaced, for listings and logs."""
    return {k: (REDACTED if k in personal_columns and v not in (None, "") else v) for k, v in row.items()}


class SafeError(Exception):
    """An error whose message is known to hold no personal value: file, line, column, rule."""
