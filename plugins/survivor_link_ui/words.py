"""Codes turned into the words an officer reads: dates as Cambodia writes them, country and
list names, field names and delivery states.

Why: the store keeps ISO dates, country codes (TH) and source codes (ngo-hagar); an officer
reading a page next to the printed report should see 03/12/2026, Thailand and NGO hagar, as
the report says. Nothing here needs Airflow.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from linkage.normalise.places import country_name
from linkage.report.contacts import list_term
from linkage.report.glossary import has, term


def day(value: Any) -> str:
    """A date (or an ISO date string) as dd/mm/yyyy; anything else as it is."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else str(value)


def country(code: Any) -> str:
    """A country code in English words ("TH" -> "Thailand"); an unknown code as given."""
    if not code:
        return ""
    return country_name(str(code)).split(" / ")[0]


def list_name(source: Any) -> str:
    """A source code as the report names its list ("ngo-hagar" -> "NGO hagar")."""
    return list_term(str(source)).en if source else ""


def field_name(name: Any) -> str:
    """A compared field's name in words ("family_name" -> "family name")."""
    return str(name).replace("_", " ")


def delivery_state(status: Any) -> str:
    """A delivery's stored status in the report's words ("ingested" -> "loaded")."""
    key = f"status.{status}"
    return term(key).en if has(key) else str(status)


FILTERS = {
    "day": day,
    "country": country,
    "list_name": list_name,
    "field_name": field_name,
    "delivery_state": delivery_state,
}
