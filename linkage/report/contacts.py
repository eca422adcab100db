"""One row per flagged return, as a field officer reads it: who, how to reach him, why, how urgent.

Why cells of several lines: a DoSVY office prints this list on A4 and carries it; one row
must hold a man's names, his birth and father, every phone any list gave, his village,
what each partner calls him and why he is on the list, and still fit one page wide.
The CSV keeps every field in its own column for machines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from linkage.referral.flags import source_label
from linkage.report.details import ListRecord, PersonDetails
from linkage.report.glossary import Term, term
from linkage.report.priority import Priority, priority, sort_key
from linkage.store.models import CandidatePair


@dataclass
class ContactRow:
    event_id: str
    person_id: str
    return_date: dt.date | None
    days_since_return: int
    band: str
    details: PersonDetails
    records: list[ListRecord]
    priority: Priority
    reasons: list[Term]
    country: str | None = None
    point_of_entry: str | None = None
    age_now: int | None = None
    age_at_return: int | None = None
    duplicates: list[str] = field(default_factory=list)

    @property
    def reachable(self) -> bool:
        return bool(self.details.phones or self.details.village)

    @property
    def province_code(self) -> str | None:
        return self.details.province_code


def list_term(source: str) -> Term:
    if source.startswith("ngo-"):
        return term("list.ngo", code=source[4:])
    if source in {"iom", "mosvy"}:
        return term(f"list.{source}")
    return Term(source_label(source), source_label(source))


def _joined(words: list[str], last: str) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {last} " + words[-1]


def reason_terms(status: pd.Series, duplicates: list[tuple[str, int]]) -> list[Term]:
    """Why one return is flagged, as glossary sentences (Khmer and English)."""
    lists = [list_term(s) for s in status["sources"]]
    key = "reason.on_list" if len(lists) == 1 else "reason.on_lists"
    on = term(key)
    out = [
        Term(
            on.km.replace("{lists}", _joined([t.km for t in lists], "និង")),
            on.en.replace("{lists}", _joined([t.en for t in lists], "and")),
        )
    ]
    if bool(status["partial"]):
        out.append(term("reason.partial"))
    elif bool(status.get("referred_before", False)) or bool(status.get("referral_dated_before", False)):
        # (a referral dated long before this return on its row is an earlier return's, too)
        out.append(term("reason.referred_before"))
    else:
        out.append(term("reason.no_referral"))
    if not bool(status["return_known"]):
        out.append(term("reason.intake_date"))
    pairs = list(status["review_pairs"] or [])
    if pairs:
        out.append(term("reason.review", pairs=", ".join(str(p) for p in pairs)))
    if duplicates:
        out.append(
            term(
                "reason.duplicate",
                persons=", ".join(sorted({p for p, _ in duplicates})),
                pairs=", ".join(str(n) for n in sorted({n for _, n in duplicates})),
            )
        )
    return out


def possible_duplicates(session: Session, person_of: dict[int, str]) -> dict[str, list[tuple[str, int]]]:
    """Person -> (other flagged person, review pair) for open review pairs between two of them.

    person_of maps the record ids of the flagged men to their person ids.
    """
    if not person_of:
        return {}
    pairs = session.execute(
        select(CandidatePair.id, CandidatePair.record_a, CandidatePair.record_b).where(
            CandidatePair.band == "review", CandidatePair.status == "open"
        )
    ).all()
    out: dict[str, list[tuple[str, int]]] = {}
    for pair, a, b in pairs:
        pa, pb = person_of.get(a), person_of.get(b)
        if pa is None or pb is None or pa == pb:
            continue
        out.setdefault(pa, []).append((pb, int(pair)))
        out.setdefault(pb, []).append((pa, int(pair)))
    return {p: sorted(set(v)) for p, v in out.items()}


def _age(birth: PersonDetails, on: dt.date | None) -> int | None:
    if on is None:
        return None
    if birth.birth_date:
        b = birth.birth_date
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))
    if birth.birth_year:
        return on.year - birth.birth_year
    return None


def contact_rows(
    flags: pd.DataFrame,
    details: dict[str, PersonDetails],
    duplicates: dict[str, list[tuple[str, int]]],
    as_of: dt.date,
) -> list[ContactRow]:
    """The flagged returns (rows of event_status), ordered by priority."""
    rows = []
    for _, st in flags.iterrows():
        pid = str(st["person_id"])
        d = details.get(pid) or PersonDetails(person_id=pid)
        ret = pd.Timestamp(st["return_date"]).date() if pd.notna(st["return_date"]) else None
        days = int(st["days_since_return"])
        age_now, age_ret = _age(d, as_of), _age(d, ret)
        dups = duplicates.get(pid, [])
        rows.append(
            ContactRow(
                event_id=str(st["event_id"]),
                person_id=pid,
                return_date=ret,
                days_since_return=days,
                band=str(st["band"]),
                details=d,
                records=d.records.get(str(st["event_id"]), []),
                priority=priority(days, age_ret, age_now, bool(st["partial"])),
                reasons=reason_terms(st, dups),
                country=st["country"] if isinstance(st["country"], str) else None,
                point_of_entry=st["point_of_entry"] if isinstance(st["point_of_entry"], str) else None,
                age_now=age_now,
                age_at_return=age_ret,
                duplicates=sorted({p for p, _ in dups}),
            )
        )
    rows.sort(key=lambda r: sort_key(r.priority.level, r.reachable, r.days_since_return, r.event_id))
    return rows


def close_term(row: pd.Series | None) -> Term:
    """Why a flag ended, in both languages (see flags.close_reason for the stored English)."""
    if row is None:
        return term("close.gone")
    if not bool(row["referred"]):
        return term("close.grace")
    when = row["referral_date"]
    dated = (
        term("close.dated", date=when.date()) if isinstance(when, pd.Timestamp) and pd.notna(when) else None
    )
    how = str(row["referral_how"])
    if how.startswith("referred to "):
        t = term("close.referred_to", org=how.removeprefix("referred to "), dated="{dated}")
    elif how.startswith("NGO case "):
        t = term("close.ngo_case", status=how.removeprefix("NGO case "), dated="{dated}")
    else:
        return term("close.remark")
    return Term(
        t.km.replace("{dated}", dated.km if dated else ""), t.en.replace("{dated}", dated.en if dated else "")
    )
