"""What a case worker needs to find each flagged man, and to cite him to partners.

Why from every record: each list knows something the others do not (IOM the case number,
travel document and often a relative's phone; MoSVY the Khmer name, father and ID card; an
NGO its client id and case manager). Contact details come only from records whose consent
allows sharing (MoSVY's own lists count as MoSVY's), unless a setting says otherwise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from linkage.normalise.places import place_name
from linkage.store.models import Delivery, PersonRecord, Record

SOURCE_RANK = {"mosvy": 0, "iom": 1}  # whose contact details come first; NGOs after


@dataclass
class ListRecord:
    """One list row behind a return: what a partner calls it."""

    source: str
    file: str
    source_record_id: str
    case_manager: str | None


@dataclass
class PersonDetails:
    person_id: str
    family_name: str | None = None
    given_name: str | None = None
    name_kh: str | None = None
    birth_date: dt.date | None = None
    birth_year: int | None = None
    father: str | None = None
    national_ids: list[str] = field(default_factory=list)
    travel_docs: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    village: tuple[str, str] | None = None  # (Khmer, Latin)
    commune: tuple[str, str] | None = None
    district: tuple[str, str] | None = None
    province: tuple[str, str] | None = None
    province_code: str | None = None
    sector: str | None = None
    consent: bool = False  # some record allows sharing
    withheld: bool = False  # contact details were left out for want of consent
    holders: list[str] = field(default_factory=list)  # sources to ask when withheld
    records: dict[str, list[ListRecord]] = field(default_factory=dict)  # by event id


def national_phone(e164: str | None) -> str | None:
    """'+85512345678' -> '012 345 678'; '+855971112233' -> '097 111 2233' (what people dial)."""
    if not e164:
        return None
    digits = e164[4:] if e164.startswith("+855") else e164.lstrip("+")
    local = "0" + digits
    return f"{local[:3]} {local[3:6]} {local[6:]}"


def each_phone(cells: pd.Series) -> pd.Series:
    """One number a row: a stored cell may hold two (his own and a relative's)."""
    return cells.dropna().str.split(" ").explode()


def allows_sharing(source: str, consent: Any) -> bool:
    """A record may be shown in full: MoSVY's own list, or consent given (Y)."""
    return source == "mosvy" or (isinstance(consent, str) and consent.strip().upper() == "Y")


RECORD_COLUMNS = [
    PersonRecord.record_id,
    PersonRecord.person_id,
    PersonRecord.event_id,
    Record.source,
    Delivery.file_name.label("file"),
    Record.source_record_id,
    Record.family_name,
    Record.given_name,
    Record.family_name_kh,
    Record.given_name_kh,
    Record.name_kh,
    Record.birth_date,
    Record.birth_precision,
    Record.birth_year,
    Record.age,
    Record.return_date,
    Record.village_code,
    Record.commune_code,
    Record.district_code,
    Record.province_code,
    Record.village_text,
    Record.commune_text,
    Record.phone,
    Record.national_id,
    Record.travel_doc_no,
    Record.father_name,
    Record.case_manager,
    Record.sector,
    Record.consent,
    Record.loaded_at,
]


def load_person_records(session: Session, person_ids: set[str]) -> pd.DataFrame:
    """Every record of these persons, newest load first."""
    frames = []
    ids = sorted(person_ids)
    for i in range(0, len(ids), 900):
        stmt = (
            select(*RECORD_COLUMNS)
            .join(PersonRecord, PersonRecord.record_id == Record.id)
            .join(Delivery, Delivery.sha256 == Record.delivery_sha256)
            .where(PersonRecord.person_id.in_(ids[i : i + 900]))
        )
        frames.append(pd.read_sql(stmt, session.connection()))
    if not frames:
        return pd.DataFrame(columns=[c.key for c in RECORD_COLUMNS])
    recs = pd.concat(frames, ignore_index=True)
    recs["loaded_at"] = pd.to_datetime(recs["loaded_at"])
    recs["rank"] = recs["source"].map(lambda s: SOURCE_RANK.get(s, 2))
    return recs.sort_values(
        ["person_id", "rank", "loaded_at", "source_record_id"], ascending=[True, True, False, True]
    ).reset_index(drop=True)


def _first(values: pd.Series) -> Any:
    vals = values.dropna()
    vals = vals[vals.astype(str).str.strip() != ""]
    return vals.iloc[0] if len(vals) else None


def _unique(values: pd.Series) -> list[str]:
    out: list[str] = []
    for v in values.dropna().astype(str):
        if v.strip() and v not in out:
            out.append(v)
    return out


def _place(code: Any, text: Any = None) -> tuple[str, str] | None:
    if code:
        en, kh = place_name(str(code))
        if en or kh:
            return kh or en, en or kh
    if isinstance(text, str) and text.strip():
        return text.strip(), text.strip()
    return None


def person_details(recs: pd.DataFrame, show_without_consent: bool = False) -> dict[str, PersonDetails]:
    """One PersonDetails per person in recs (from load_person_records)."""
    out: dict[str, PersonDetails] = {}
    for pid, g in recs.groupby("person_id", sort=True):
        shared = g[[allows_sharing(s, c) for s, c in zip(g["source"], g["consent"], strict=True)]]
        consent = not shared.empty
        contact = g if show_without_consent else shared
        latin = g.sort_values("source", key=lambda s: s.map(lambda x: 0 if x == "iom" else 1), kind="stable")
        kh = g.sort_values("source", key=lambda s: s.map(lambda x: 0 if x == "mosvy" else 1), kind="stable")
        name_kh = _first(kh["name_kh"])
        if not name_kh:
            fam, giv = _first(kh["family_name_kh"]), _first(kh["given_name_kh"])
            name_kh = " ".join(x for x in (fam, giv) if x) or None
        day = g[g["birth_precision"] == "day"]
        birth = _first(day["birth_date"])
        year = _first(g["birth_year"])
        if year is None:  # only an age: the year it implies
            ret_year = pd.to_datetime(g["return_date"], errors="coerce").dt.year
            est = (ret_year - g["age"]).dropna()
            year = int(est.iloc[0]) if len(est) else None
        d = PersonDetails(
            person_id=str(pid),
            family_name=_first(latin["family_name"]),
            given_name=_first(latin["given_name"]),
            name_kh=name_kh,
            birth_date=pd.Timestamp(birth).date() if birth is not None else None,
            birth_year=int(year) if year is not None else None,
            father=_first(contact["father_name"]),
            national_ids=_unique(g["national_id"]),
            travel_docs=_unique(g["travel_doc_no"]),
            phones=[p for p in (national_phone(x) for x in _unique(each_phone(contact["phone"]))) if p],
            village=_place(_first(contact["village_code"]), _first(contact["village_text"])),
            commune=_place(_first(contact["commune_code"]), _first(contact["commune_text"])),
            district=_place(_first(g["district_code"])),
            province=_place(_first(g["province_code"])),
            province_code=_first(g["province_code"]),
            sector=_first(g["sector"]),
            consent=consent,
            withheld=not consent and not show_without_consent,
            holders=_unique(g["source"]),
        )
        for event_id, e in g.groupby("event_id", sort=True):
            d.records[str(event_id)] = [
                ListRecord(r.source, r.file, str(r.source_record_id), r.case_manager or None)
                for r in e.sort_values(["rank", "source", "source_record_id"]).itertuples()
            ]
        out[d.person_id] = d
    return out


def person_provinces(session: Session) -> dict[str, tuple[str, str] | None]:
    """Every linked person's home province (Khmer, Latin), MoSVY's list first, for the summary."""
    stmt = (
        select(PersonRecord.person_id, Record.source, Record.province_code)
        .join(Record, Record.id == PersonRecord.record_id)
        .where(Record.province_code.is_not(None))
    )
    df = pd.read_sql(stmt, session.connection())
    if df.empty:
        return {}
    df["rank"] = df["source"].map(lambda s: SOURCE_RANK.get(s, 2))
    first = df.sort_values(["person_id", "rank", "province_code"]).drop_duplicates("person_id")
    return {str(p): _place(c) for p, c in zip(first["person_id"], first["province_code"], strict=True)}
