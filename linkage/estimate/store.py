"""Capture histories from the linked store: which lists hold each return, by year or province.

Why returns and not persons: a man re-trafficked and home twice is two returns, each on its
own lists, and the report counts returns. A return's lists are the sources of its records
(IOM, MoSVY, each NGO its own list). Its year is the year of its return date, or of the
first NGO intake when no list gave a return date (as the flags do).

Linkage error moves the estimate, so the table is also built with every open review pair
taken as a link and as a non-link, and the interval is widened by how far that moves it.
Relinking the whole store twice for that would be heavy, so it is approximated on event
memberships: as links, the returns of the two records
of a review pair are merged into one return holding both returns' lists; as non-links, a
pair whose records sit in one return loses the later record (the larger record id) into a
return of its own, holding that record's list only. Chains of links the linker would then
have formed or refused are not recomputed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from linkage.estimate.estimate import MIN_LISTED, Estimate, estimate, point
from linkage.estimate.imputation import DRAWS, calibrate, can_merge, event_summary, impute
from linkage.estimate.table import CaptureTable, from_memberships
from linkage.normalise.places import place_name
from linkage.referral.flags import source_label
from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import CandidatePair, MatchDecision, PersonRecord, Record, ReturnEvent

BY = ("year", "province")
# The store's tables are dense (hundreds of returns a year on a few lists), where the
# Chan-Silverman-Vincent rule's 0.02 threshold misses real dependence between IOM and MoSVY
# and the estimate falls short; the AIC rule covered the truth in 12 of 12 synthetic years
# (benchmarks/estimate_bench.py), the p-value rule in 9. Sparse tables (--counts) keep CSV.
STORE_METHOD = "aic"


def event_records(session: Session) -> pd.DataFrame:
    """Every linked record of an active return: record, return, list, home province, dates."""
    stmt = (
        select(
            Record.id.label("record_id"),
            PersonRecord.event_id,
            Record.source,
            Record.province_code,
            Record.intake_date,
            ReturnEvent.return_date,
        )
        .join(PersonRecord, PersonRecord.record_id == Record.id)
        .join(ReturnEvent, ReturnEvent.event_id == PersonRecord.event_id)
        .where(ReturnEvent.status == "active")
    )
    df = pd.read_sql(stmt, session.connection())
    for col in ("intake_date", "return_date"):
        df[col] = pd.to_datetime(df[col], errors="coerce")
    df["event_id"] = df["event_id"].astype(str)
    return df


def review_pairs(session: Session) -> list[tuple[int, int]]:
    """Open review-band pairs: the links nobody has decided yet."""
    rows = session.execute(
        select(CandidatePair.record_a, CandidatePair.record_b).where(
            CandidatePair.band == "review", CandidatePair.status == "open"
        )
    ).all()
    return [(int(a), int(b)) for a, b in rows]


def band_and_decisions(session: Session) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The open review pairs with their weight and stored probability, and the reviewers'
    decisions with the weight of the pair decided (`same`: 1 or 0), for calibration."""
    band = pd.DataFrame(
        session.execute(
            select(
                CandidatePair.record_a,
                CandidatePair.record_b,
                CandidatePair.weight,
                CandidatePair.probability,
            ).where(CandidatePair.band == "review", CandidatePair.status == "open")
        ).all(),
        columns=["record_a", "record_b", "weight", "probability"],
    )
    decided = pd.DataFrame(
        session.execute(
            select(
                MatchDecision.record_a, MatchDecision.record_b, MatchDecision.decision, CandidatePair.weight
            ).join(
                CandidatePair,
                (CandidatePair.record_a == MatchDecision.record_a)
                & (CandidatePair.record_b == MatchDecision.record_b),
            )
        ).all(),
        columns=["record_a", "record_b", "decision", "weight"],
    )
    decided["same"] = (decided["decision"] == "same").astype(int)
    return band, decided.drop(columns="decision")


def as_links(records: pd.DataFrame, pairs: Iterable[tuple[int, int]]) -> pd.DataFrame:
    """Each review pair taken as the same man and the same return: their returns merge."""
    event_of = dict(zip(records["record_id"], records["event_id"], strict=True))
    parent: dict[str, str] = {}

    def root(e: str) -> str:
        while parent.get(e, e) != e:
            e = parent[e]
        return e

    for a, b in pairs:
        ea, eb = event_of.get(a), event_of.get(b)
        if ea is None or eb is None:
            continue
        ra, rb = root(ea), root(eb)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    out = records.copy()
    out["event_id"] = out["event_id"].map(root)
    return out


def as_nonlinks(records: pd.DataFrame, pairs: Iterable[tuple[int, int]]) -> pd.DataFrame:
    """Each review pair taken as two men: a pair inside one return loses its later record."""
    event_of = dict(zip(records["record_id"], records["event_id"], strict=True))
    split = {max(a, b) for a, b in pairs if a in event_of and event_of.get(a) == event_of.get(b)}
    out = records.copy()
    moved = out["record_id"].isin(split)
    out.loc[moved, "event_id"] = "split-" + out.loc[moved, "record_id"].astype(str)
    return out


def returns(records: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """One row per return on or before as_of: its year, home province and set of lists."""
    if records.empty:
        return pd.DataFrame(columns=["event_id", "date", "year", "province", "lists"])
    g = records.groupby("event_id")
    ev = pd.DataFrame(
        {
            "date": g["return_date"].min().fillna(g["intake_date"].min()),
            "province": g["province_code"].agg(lambda s: s.mode().iloc[0] if s.notna().any() else None),
            "lists": g["source"].agg(lambda s: frozenset(source_label(x) for x in s)),
        }
    ).reset_index()
    return dated(ev, as_of)


def dated(ev: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The returns dated on or before as_of, with their year."""
    ev = ev[ev["date"].notna() & (ev["date"] <= pd.Timestamp(as_of))].copy()
    ev["year"] = ev["date"].dt.year.astype(int).astype(str)
    return ev


def province_label(code: str | None) -> str:
    if not code:
        return "unknown"
    en, kh = place_name(str(code))
    return en or kh or str(code)


def tables(ev: pd.DataFrame, by: str) -> dict[str, CaptureTable]:
    """A capture-history table per period (years in order; provinces largest first)."""
    if by not in BY:
        raise ValueError(f"--by must be one of {', '.join(BY)}, not '{by}'")
    lists = sorted({name for held in ev["lists"] for name in held})
    if by == "year":
        keys = sorted(ev["year"].unique())
        groups = {k: ev.loc[ev["year"] == k, "lists"] for k in keys}
    else:
        labels = ev["province"].map(province_label)
        order = labels.value_counts().index
        groups = {k: ev.loc[labels == k, "lists"] for k in order}
    return {k: from_memberships(list(v), lists) for k, v in groups.items()}


def estimate_store(
    settings: Settings,
    as_of: dt.date,
    by: str = "year",
    method: str = STORE_METHOD,
    resamples: int = 0,
    seed: int = 1234,
    draws: int = DRAWS,
) -> list[Estimate]:
    """An estimate per period from the store, corrected for missed links by imputing the
    review band's links `draws` times (0: uncorrected), and the band's range as links and
    as non-links."""
    with session_scope(settings) as s:
        records = event_records(s)
        band, decided = band_and_decisions(s)
    pairs = list(zip(band["record_a"].astype(int), band["record_b"].astype(int), strict=True))
    base = tables(returns(records, as_of), by)
    linked = tables(returns(as_links(records, pairs), as_of), by) if pairs else base
    unlinked = tables(returns(as_nonlinks(records, pairs), as_of), by) if pairs else base
    out = []
    for period, table in base.items():
        if by == "province" and table.listed < MIN_LISTED:
            out.append(estimate(table, period, method))  # refused with its reason, cheaply
            continue
        est = estimate(table, period, method, resamples=resamples, seed=seed)
        if est.estimate is not None:
            ends = [
                e.estimate
                for alt in (linked, unlinked)
                if period in alt
                for e in [estimate(alt[period], period, method)]
                if e.estimate is not None
            ]
            est.allow_for_linkage(min(ends, default=est.estimate), max(ends, default=est.estimate))
        out.append(est)
    if draws > 0 and len(band):
        correct_for_missed_links(out, records, band, decided, settings, as_of, by, method, draws, seed)
    return out


def correct_for_missed_links(
    results: list[Estimate],
    records: pd.DataFrame,
    band: pd.DataFrame,
    decided: pd.DataFrame,
    settings: Settings,
    as_of: dt.date,
    by: str,
    method: str,
    draws: int,
    seed: int,
) -> None:
    """Each estimate replaced by the mean over imputed links of the review band (Rubin),
    its interval moved and widened by the draws' spread (linkage/estimate/imputation.py)."""
    link_bits = float(np.log2(settings.link_threshold / (1 - settings.link_threshold)))
    cal = calibrate(band, decided, link_bits)
    ev = event_summary(records.assign(label=records["source"].map(source_label)))
    event_of = dict(zip(records["record_id"], records["event_id"], strict=True))
    ea = band["record_a"].map(event_of).to_numpy(dtype=object)
    eb = band["record_b"].map(event_of).to_numpy(dtype=object)
    known = pd.notna(ea) & pd.notna(eb)
    ea, eb, chance = ea[known], eb[known], cal.chance[known]
    mergeable = can_merge(ev, ea, eb, settings.event_window_days)
    ea, eb, chance = ea[mergeable], eb[mergeable], chance[mergeable]
    wanted = {r.period for r in results if r.estimate is not None}

    def per_draw(merged: pd.DataFrame) -> dict[str, tuple[float, float]]:
        tabs = tables(dated(merged, as_of), by)
        return {p: (point(t, method), float(t.listed)) for p, t in tabs.items() if p in wanted}

    combined = impute(ev, ea, eb, chance, per_draw, draws=draws, seed=seed)
    words = (
        f"missed links: {len(chance):,} open review pairs that could join two returns drawn as "
        f"links {draws} times with their chance of one man (expected {chance.sum():,.0f} links; "
        f"{cal.source}), estimates combined as multiple imputations (Rubin)"
    )
    for r in results:
        c = combined.get(r.period)
        if r.estimate is not None and c is not None:
            r.correct(c, words)
