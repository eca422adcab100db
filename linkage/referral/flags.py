"""Referral flags: every return not followed by a referral to long-term case management.

Why a pure function of (store, as-of date): a past week must be reproducible exactly, so
nothing here depends on when it runs. Facts dated after the as-of date (returns,
referrals, intakes) do not exist yet for that computation. The flag table only keeps
the history (opened, closed, why) of what these computations found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from linkage.match.events import REGISTERED_LATE_DAYS, SLACK_DAYS
from linkage.referral.rules import ReferralRules
from linkage.settings import Settings
from linkage.store.models import CandidatePair, Delivery, PersonRecord, Record, ReturnEvent
from linkage.store.sealed import read_records_frame

# SLACK_DAYS, REGISTERED_LATE_DAYS: when an NGO intake follows a return (linkage.match.events,
# which groups the records by the same rules).
SOURCE_LABELS = {"iom": "IOM", "mosvy": "MoSVY"}


def source_label(source: str) -> str:
    if source in SOURCE_LABELS:
        return SOURCE_LABELS[source]
    if source.startswith("ngo-"):
        return f"NGO {source[4:]}"
    return source


def days_band(days: int, grace_days: int) -> str:
    """Days since return as the report's bands: 31-90, 91-180, 181-365, over 365."""
    if days <= 90:
        return f"{grace_days + 1}-90"
    if days <= 180:
        return "91-180"
    if days <= 365:
        return "181-365"
    return "over 365"


def band_order(grace_days: int) -> list[str]:
    return [f"{grace_days + 1}-90", "91-180", "181-365", "over 365"]


def load_event_records(session: Session, persons: set[str] | None = None) -> pd.DataFrame:
    """Every linked record (or these persons' only) with its person, event and referral fields.

    Why not one join read by pd.read_sql: the file name is sealed, so each record's row
    opened its delivery's name again (a million opens of a few dozen names); the names are
    opened once per delivery here, and the sealed remarks a column at a time
    (read_records_frame). The frame's values and dtypes are those pd.read_sql gave.
    """
    stmt = (
        select(
            PersonRecord.person_id,
            PersonRecord.event_id,
            Record.id.label("record_id"),
            Record.source,
            Record.delivery_sha256.label("file"),
            Record.source_record_id,
            Record.return_date,
            Record.referred_to,
            Record.referral_date,
            Record.case_status,
            Record.intake_date,
            Record.remarks,
            ReturnEvent.return_date.label("event_return_date"),
            ReturnEvent.country.label("event_country"),
            ReturnEvent.point_of_entry.label("event_point_of_entry"),
        )
        .join(PersonRecord, PersonRecord.record_id == Record.id)
        .join(ReturnEvent, ReturnEvent.event_id == PersonRecord.event_id)
        .where(ReturnEvent.status == "active")
    )
    if persons is not None:
        from linkage.referral.changes import texts_in

        stmt = stmt.where(texts_in(PersonRecord.person_id, persons, session.connection().dialect.name))
    df = read_records_frame(session.connection(), stmt)
    names = dict(session.execute(select(Delivery.sha256, Delivery.file_name)).all())
    df["file"] = df["file"].map(names)  # every record's delivery is in the store
    for col in ("return_date", "referral_date", "intake_date", "event_return_date"):
        df[col] = pd.to_datetime(df[col], errors="coerce")
    return df


def _each_value(cells: pd.Series, read: Callable[[object], object], blank: object) -> pd.Series:
    """A rule read once per distinct value (a list repeats a few statuses a million times)."""
    seen = {v: read(v) for v in cells.dropna().unique()}
    mapped = cells.map(seen).astype(object)  # (where() on it would warn of downcasting)
    mapped[cells.isna().to_numpy()] = blank
    return mapped.astype(type(blank))


def _evidence(rows: pd.DataFrame, kind: str, how: str | pd.Series, date: Any) -> pd.DataFrame:
    """Evidence rows of one kind, one per record of `rows`."""
    return pd.DataFrame({"record_id": rows["record_id"], "kind": kind, "how": how, "date": date})


def referral_evidence(records: pd.DataFrame, rules: ReferralRules) -> pd.DataFrame:
    """One row per piece of evidence: kind (referral or partial), date, where it came from."""
    iom = records[_each_value(records["referred_to"], rules.counts_as_referral, False)]
    how = "referred to " + iom["referred_to"].astype(str).str.strip()
    rows = [_evidence(iom, "referral", how, iom["referral_date"])]
    status = _each_value(records["case_status"], rules.status_kind, "")
    case = records[status.eq("referral")]
    how = "NGO case " + case["case_status"].astype(str)
    rows.append(_evidence(case, "referral", how, case["intake_date"].fillna(case["referral_date"])))
    partial = records[status.eq("partial")]
    rows.append(_evidence(partial, "partial", "NGO case closed without referral", partial["intake_date"]))
    # A status no setting names ('On hold', 'Monitoring', a new NGO's words) counts for nothing,
    # and says so: a list we did not make must not turn its referrals into flags unseen.
    unknown = records[status.eq("unknown")]
    how = "NGO case status the settings do not name"
    rows.append(_evidence(unknown, "unknown_status", how, unknown["intake_date"]))
    for source, (yes, no) in rules.remark_regexes().items():
        remarks = records.loc[records["source"] == source, "remarks"].dropna()
        said = remarks.map(lambda t, yes=yes, no=no: bool(yes.search(t)) and not (no and no.search(t)))
        remarked = records.loc[said.index[said.astype(bool)]]
        rows.append(_evidence(remarked, "referral", "remark on the list", pd.NaT))
    ev = pd.concat(rows, ignore_index=True)
    ev["date"] = pd.to_datetime(ev["date"], errors="coerce")
    return ev


def _assign_to_events(
    evidence: pd.DataFrame, records: pd.DataFrame, events: pd.DataFrame, follows_days: int = 0
) -> pd.DataFrame:
    """Evidence counts for the return it follows.

    A referral on a return's own row (IOM's referred_to beside its date of return, a remark
    on the ministry's row) is that return's, a referral dated days before it being a slip in
    one of the two dates; dated more than REGISTERED_LATE_DAYS before it, it is an earlier
    return's carried onto this row, and counts for the earlier return it follows (by the
    rules of an intake below), or for none when none does (carried_from names its row's
    return: an earlier return no list wrote, or one linkage did not join). An NGO intake,
    which gives no return date, counts for the latest dated return on or before its date (at most
    follows_days before it, unless 0), else for the next if it was registered at most
    REGISTERED_LATE_DAYS later; in a return of its own (an intake that follows none of his
    dated returns), for that return; undated, for the return its record belongs to. These are
    the rules events.py groups the records by, so an intake counts for its record's return.
    """
    ev = evidence.merge(
        records[["record_id", "person_id", "event_id", "return_date"]], on="record_id", how="left"
    )
    undated_return = set(events.loc[~events["return_known"].astype(bool), "event_id"])
    # A referral dated well before the return on its own row (the desk carried an earlier
    # return's referral onto this one) is looked for among his earlier returns first.
    carried = ev["return_date"].notna() & (
        ev["date"] < ev["return_date"] - pd.Timedelta(days=REGISTERED_LATE_DAYS)
    )
    own = (ev["date"].isna() | ev["return_date"].notna() | ev["event_id"].isin(undated_return)) & ~carried
    dated = ev[~own].drop(columns=["return_date"]).copy()
    dated["own_event"] = dated["event_id"].where(carried[~own])
    at_own = ev[own].drop(columns=["return_date"])
    returns = events.loc[events["return_known"].astype(bool), ["person_id", "event_id", "return_date"]]
    returns = returns.dropna(subset=["return_date"])
    returns = returns.assign(start=returns["return_date"] - pd.Timedelta(days=SLACK_DAYS))
    # Two returns of one man on one date: by event id, so that which one an intake follows
    # does not hang on where the sort left them (it did: a man's flag then depended on the
    # other men in the frame, and a run over some persons differed from one over all).
    returns = returns.sort_values(["start", "event_id"], kind="stable")[["person_id", "event_id", "start"]]
    dated = dated.sort_values("date").drop(columns=["event_id"])
    by_date = dict(left_on="date", right_on="start", by="person_id")
    late = pd.Timedelta(days=follows_days + SLACK_DAYS) if follows_days else None
    matched = pd.merge_asof(dated, returns, direction="backward", tolerance=late, **by_date)
    # Before his first return, or too long after the one before: the next return was
    # registered late (a provincial office weeks after the border); the intake follows it
    # if it comes soon enough.
    early = matched["event_id"].isna()
    if early.any():
        first = pd.merge_asof(
            matched[early].drop(columns=["event_id"]),
            returns,
            direction="forward",
            tolerance=pd.Timedelta(days=REGISTERED_LATE_DAYS - SLACK_DAYS),
            **by_date,
        )
        matched = pd.concat([matched[~early], first], ignore_index=True)
    matched = matched.drop(columns=["start"])
    # ... and when none of his earlier returns fits it, it counts for none: it cannot be the
    # referral of a return he was still abroad for (its row's return says so, carried_from).
    matched["carried_from"] = matched["own_event"].where(matched["event_id"].isna())
    return pd.concat([matched.drop(columns=["own_event"]), at_own], ignore_index=True)


def _awaiting_review(session: Session, records: pd.DataFrame, evidence: pd.DataFrame) -> dict[str, list[int]]:
    """Person -> open review pairs that would give him a record carrying a referral.

    Why: a referral on an NGO list that matched two namesakes of one batch equally is left
    for a reviewer, so both men are flagged meanwhile; the case lead should see that one
    flag may close once the pair is decided, and which pair to decide.
    """
    referral_records = set(evidence.loc[evidence["kind"] == "referral", "record_id"].tolist())
    if not referral_records:
        return {}
    person_of = dict(zip(records["record_id"].tolist(), records["person_id"].tolist(), strict=True))
    pairs = session.execute(
        select(CandidatePair.id, CandidatePair.record_a, CandidatePair.record_b).where(
            CandidatePair.band == "review", CandidatePair.status == "open"
        )
    ).all()
    out: dict[str, list[int]] = {}
    for pair, a, b in pairs:
        pa, pb = person_of.get(a), person_of.get(b)
        if pa is None or pb is None or pa == pb:
            continue
        for person, other in ((pa, b), (pb, a)):
            if other in referral_records:
                out.setdefault(person, []).append(int(pair))
    return out


def event_status(
    session: Session, settings: Settings, as_of: dt.date, records: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Every return on or before as_of: referred or not, flagged or not, and why.

    `records` (from load_event_records) may be passed to compute several dates at once.
    """
    rules = ReferralRules.from_settings(settings)
    if records is None:
        records = load_event_records(session)
    if records.empty:
        empty = pd.DataFrame(columns=STATUS_COLUMNS)
        flags = ("flagged", "referred", "partial", "status_unknown", "referred_before", "referred_later")
        flags += ("referral_dated_before",)
        return empty.astype(dict.fromkeys(flags, bool))
    cutoff = pd.Timestamp(as_of)
    events = _returns_until(records, cutoff)
    evidence = referral_evidence(records, rules)
    evidence = evidence[evidence["date"].isna() | (evidence["date"] <= cutoff)]
    events = _with_referrals(events, evidence, records, settings.intake_follows_days)
    events = _with_flags(events, cutoff, settings.grace_days)
    waiting = _awaiting_review(session, records, evidence)
    events["review_pairs"] = [sorted(waiting.get(p, [])) for p in events["person_id"]]
    events["reason"] = [
        _reason(src, part, bool(before), pairs if flagged else [], bool(unknown), bool(later), bool(dated))
        for src, part, before, pairs, flagged, unknown, later, dated in zip(
            events["sources"],
            events["partial"],
            events["referred_before"],
            events["review_pairs"],
            events["flagged"],
            events["status_unknown"],
            events["referred_later"],
            events["referral_dated_before"],
            strict=True,
        )
    ]
    return events.sort_values(["flagged", "days_since_return"], ascending=[False, False], ignore_index=True)


def _returns_until(records: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """One row per return event on or before the cutoff (or with no date at all)."""
    events = (
        records.groupby("event_id")
        .agg(
            person_id=("person_id", "first"),
            return_date=("event_return_date", "first"),
            first_intake=("intake_date", "min"),
            country=("event_country", "first"),
            point_of_entry=("event_point_of_entry", "first"),
        )
        .reset_index()
    )
    events["sources"] = _sources_of(records, events["event_id"])
    # A man known only from an NGO intake came home before that intake: the intake date
    # stands in for the return date (marked as not known), so a closed case still flags.
    events["return_known"] = events["return_date"].notna()
    events["return_date"] = events["return_date"].fillna(events["first_intake"])
    return events[events["return_date"].isna() | (events["return_date"] <= cutoff)]


def _sources_of(records: pd.DataFrame, event_ids: pd.Series) -> list[list[str]]:
    """Each event's sources, sorted: a set of events per source (a handful of sources), not
    a call per group."""
    present = records.drop_duplicates(["event_id", "source"])
    by_source = {src: set(g.tolist()) for src, g in present.groupby("source")["event_id"]}
    order = sorted(by_source)
    return [[src for src in order if e in by_source[src]] for e in event_ids.tolist()]


def _with_referrals(
    events: pd.DataFrame, evidence: pd.DataFrame, records: pd.DataFrame, follows_days: int = 0
) -> pd.DataFrame:
    """Each return's first referral (how, when), whether an NGO case closed without one, and
    whether the man was referred for an earlier return (or a later one)."""
    assigned = _assign_to_events(evidence, records, events, follows_days)
    referred = assigned[assigned["kind"] == "referral"]
    referred = referred.sort_values(["date", "record_id", "how"], kind="stable")  # a total order: see above
    first_ref = (
        referred.dropna(subset=["event_id"])
        .groupby("event_id")
        .agg(referral_how=("how", "first"), referral_date=("date", "first"))
    )
    carried = set(referred["carried_from"].dropna()) if "carried_from" in referred else set()
    partial = set(assigned.loc[assigned["kind"] == "partial", "event_id"].dropna())
    unknown = set(assigned.loc[assigned["kind"] == "unknown_status", "event_id"].dropna())
    events = events.merge(first_ref, left_on="event_id", right_index=True, how="left")
    events["referred"] = events["referral_how"].notna()
    first_referred = events[events["referred"]].groupby("person_id")["return_date"].min()
    earlier = events["person_id"].map(first_referred) < events["return_date"]
    events["partial"] = events["event_id"].isin(partial) & ~events["referred"]
    events["status_unknown"] = events["event_id"].isin(unknown) & ~events["referred"]
    events["referred_before"] = earlier.fillna(False).astype(bool)
    events["referral_dated_before"] = events["event_id"].isin(carried) & ~events["referred"]
    # Referred in a later return known only from an NGO intake (one that came too long after
    # this return to follow it: events.py): the officer should hear that an NGO has him.
    later = events[events["referred"] & ~events["return_known"]].groupby("person_id")["return_date"].max()
    referred_later = events["person_id"].map(later) > events["return_date"]
    events["referred_later"] = referred_later.fillna(False).astype(bool)
    return events


def _with_flags(events: pd.DataFrame, cutoff: pd.Timestamp, grace_days: int) -> pd.DataFrame:
    """Days since return, flagged when unreferred past the grace period, its band and lists."""
    days = (cutoff - events["return_date"]).dt.days
    events["days_since_return"] = days.astype("Int64")
    events["flagged"] = ~events["referred"] & days.gt(grace_days).fillna(False)
    events["band"] = [
        days_band(int(d), grace_days) if f else ""
        for d, f in zip(days.fillna(0), events["flagged"], strict=True)
    ]
    label = cache(lambda s: ", ".join(source_label(x) for x in s))
    events["lists"] = [label(tuple(s)) for s in events["sources"]]
    return events


STATUS_COLUMNS = [
    "event_id",
    "person_id",
    "return_date",
    "first_intake",
    "country",
    "point_of_entry",
    "sources",
    "return_known",
    "referral_how",
    "referral_date",
    "referred",
    "partial",
    "status_unknown",
    "referred_before",
    "referred_later",
    "referral_dated_before",
    "days_since_return",
    "flagged",
    "band",
    "lists",
    "reason",
    "review_pairs",
]


def _lists_phrase(sources: list[str]) -> str:
    labels = [source_label(s) for s in sources]
    if len(labels) == 1:
        return f"on the {labels[0]} list"
    return "on " + ", ".join(labels[:-1]) + f" and {labels[-1]} lists"


def _reason(
    sources: list[str],
    partial: bool,
    referred_before: bool,
    review_pairs: list[int],
    status_unknown: bool = False,
    referred_later: bool = False,
    referral_dated_before: bool = False,
) -> str:
    where = _lists_phrase(sources)
    if partial:
        why = f"{where}; NGO case closed without referral"
    elif referred_before:
        why = f"{where}; referred after an earlier return, not after this one"
    else:
        why = f"{where}; no referral found in any list"
    if referred_later:
        why += "; an NGO took him on long after this return (intake_follows_days): counted for a later return"
    if referral_dated_before:
        why += (
            f"; the referral on his row is dated over {REGISTERED_LATE_DAYS} days before this return:"
            " an earlier return's, not counted for this one"
        )
    if status_unknown:
        why += "; an NGO case status here is none the settings name (referral_statuses, partial_statuses)"
    if review_pairs:
        which = ", ".join(str(p) for p in review_pairs)
        why += f"; a referral on another record may be his: review pair {which} awaits a decision"
    return why


def close_reason(row: pd.Series | None) -> str:
    """Why a flag ended, from the return's status now (None: the return is gone)."""
    if row is None:
        return "the return is no longer on record (merged into another return or person)"
    if bool(row["referred"]):
        when = row["referral_date"]
        dated = f" dated {when:%d/%m/%Y}" if isinstance(when, pd.Timestamp) and not pd.isna(when) else ""
        return f"referral found: {row['referral_how']}{dated}"
    return "no longer past the grace period on this as-of date"


def flagged(status: pd.DataFrame) -> pd.DataFrame:
    return status[status["flagged"]].reset_index(drop=True)


def summary_counts(status: pd.DataFrame) -> dict[str, int]:
    """Counts only: for the CLI, logs and XCom."""
    return {
        "returns": int(len(status)),
        "returns_referred": int(status["referred"].sum()),
        "returns_within_grace": int(
            (~status["referred"] & ~status["flagged"] & status["return_date"].notna()).sum()
        ),
        "returns_without_date": int((~status["return_known"]).sum()),
        "flagged": int(status["flagged"].sum()),
        "flagged_partial_assistance": int((status["flagged"] & status["partial"]).sum()),
        "flagged_status_unknown": int((status["flagged"] & status["status_unknown"]).sum()),
        "persons_flagged": int(status.loc[status["flagged"], "person_id"].nunique()),
    }
