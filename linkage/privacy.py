"""The one list of personal fields, and helpers that keep them out of logs and errors.

Why one list: encryption at rest, redaction in listings and the canary tests all read it,
so a new personal field is protected everywhere by adding it here.
"""

from __future__ import annotations

import re
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

# Every stored column that holds personal values, by table. Sealed at rest (the models give
# each a Sealed type) and re-sealed by a key rotation (linkage/seal/reseal.py reads this).
PERSONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "record": (*PERSONAL_FIELDS, "extra", "raw"),  # extra: unmapped columns; raw: the row as received
    "record_version": ("values",),  # a corrected record's old values
    "quarantine": ("raw",),  # a failed row as received
    "delivery": ("file_name",),  # a sender may name a file after the man it is about
    "record_frame": ("row",),  # a linked record's comparison row: keys and spellings of his names
}

REDACTED = "«redacted»"

# Words a delivery's file name may consist of (with digits and punctuation) and still be
# shown where values are not: logs, run notes, alerts, audit entries, validation pages.
# Why a list of words known not to be names, and not a list of names: a sender may name a
# file after anyone ("sok_dara_intake.xlsx"), and only a word we know is no name is safe.
_SAFE_WORDS = (
    "iom mosvy dosvy ngo hagar lscw kh khm returns return returned returnees returnee list lists",
    "intake intakes case cases caseload data delivery deliveries export exports import report",
    "reports weekly monthly daily quarterly annual batch batches final draft copy new old update",
    "updated updates rev revised v version part page sheet file records record survivors",
    "referral referrals referred follow up followup services province provincial office",
    "dept department ministry partner partners and of the to from for",
    "client clients beneficiary beneficiaries register registry registration repatriation",
    "repatriated repatriates shelter workers migrants fishermen",
    "q w wk week month year jan feb mar apr may jun jul aug sep sept oct nov dec january",
    "february march april june july august september october november december",
    "csv tsv txt xls xlsx xlsm ods",
)
SAFE_FILE_WORDS = frozenset(" ".join(_SAFE_WORDS).split())


def file_label(file_name: str, source: str, sha256: str) -> str:
    """A delivery as it is named where no value may show: its file name when every word of
    it is in SAFE_FILE_WORDS ("iom_returns_2025_06.csv"), else its source and the first 12
    hex digits of its hash ("mosvy delivery 3fa2c1d9e0b1"). The name itself is sealed in the
    store and shown only to a role that may see values."""
    words = re.findall(r"[^\W\d_]+", file_name.casefold())
    if file_name and all(w in SAFE_FILE_WORDS for w in words):
        return file_name
    return f"{source} delivery {sha256[:12]}" if sha256 else f"{source} file (name withheld)"


def redact_row(row: Mapping[str, Any], personal_columns: set[str]) -> dict[str, Any]:
    """Copy a raw row with the values of personal columns replaced, for listings and logs."""
    return {k: (REDACTED if k in personal_columns and v not in (None, "") else v) for k, v in row.items()}


class SafeError(Exception):
    """An error whose message is known to hold no personal value: file, line, column, rule."""
