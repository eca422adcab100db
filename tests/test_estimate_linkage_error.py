"""The estimate's correction for missed links: the review band's links multiply imputed.

A store whose returns are split by hand (one record moved to a return of its own, a review
pair left between the pieces) must give an estimate that the correction moves back toward
the store's estimate before the split; without the correction it stays high.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select, update

from linkage.estimate.imputation import Combined, calibrate, can_merge, merged_returns, model_chance
from linkage.estimate.store import estimate_store, event_records
from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import CandidatePair, MatchDecision, PersonRecord, ReturnEvent

AS_OF = dt.date(2026, 11, 23)


def link_bits(settings: Settings) -> float:
    return float(np.log2(settings.link_threshold / (1 - settings.link_threshold)))


def split_returns(settings: Settings, year: str, share: float, bits: float) -> int:
    """Move the MoSVY record of `share` of the year's IOM+MoSVY returns into a return of its
    own, with an open review pair of `bits` weight between the pieces; how many were split."""
    with session_scope(settings) as s:
        recs = event_records(s)
        recs = recs[recs["return_date"].dt.year.astype("Int64").astype(str) == year]
        by_event = recs.groupby("event_id")["source"].agg(set)
        both = sorted(e for e, srcs in by_event.items() if srcs == {"iom", "mosvy"})
        chosen = both[: int(len(both) * share)]
        for k, event in enumerate(chosen):
            rows = recs[recs["event_id"] == event]
            iom = int(rows.loc[rows["source"] == "iom", "record_id"].iloc[0])
            mosvy = int(rows.loc[rows["source"] == "mosvy", "record_id"].iloc[0])
            old = s.execute(select(ReturnEvent).where(ReturnEvent.event_id == event)).scalar_one()
            piece = f"SPLIT{k:05d}"
            s.add(
                ReturnEvent(
                    event_id=piece, person_id=f"P{piece}", return_date=old.return_date, record_count=1
                )
            )
            s.execute(
                update(PersonRecord)
                .where(PersonRecord.record_id == mosvy)
                .values(event_id=piece, person_id=f"P{piece}")
            )
            a, b = sorted((iom, mosvy))
            s.add(
                CandidatePair(
                    record_a=a, record_b=b, probability=0.999, weight=bits, band="review", status="open"
                )
            )
    return len(chosen)


def by_period(settings: Settings, draws: int) -> dict[str, object]:
    return {e.period: e for e in estimate_store(settings, AS_OF, "year", draws=draws)}


def test_correction_moves_split_returns_estimate_back_toward_the_unsplit(linked_store: Settings) -> None:
    before = by_period(linked_store, draws=0)
    done = [e for e in before.values() if e.estimate is not None]
    year = max(done, key=lambda e: e.listed).period
    truth = before[year].estimate
    # pairs the model is sure of (32 bits above the link threshold): each piece is one man
    n = split_returns(linked_store, year, 0.3, link_bits(linked_store) + 32)
    assert n >= 10
    uncorrected = by_period(linked_store, draws=0)[year]
    corrected = by_period(linked_store, draws=10)[year]
    assert uncorrected.correction is None and uncorrected.uncorrected is None
    assert uncorrected.estimate > truth  # the pieces read as one-list returns: too many hidden
    assert corrected.uncorrected == pytest.approx(uncorrected.estimate)
    assert abs(corrected.estimate - truth) < 0.1 * abs(uncorrected.estimate - truth)
    assert "Rubin" in corrected.correction and "open review pairs" in corrected.correction
    assert (
        corrected.lower
        <= corrected.imputed[0]
        <= corrected.estimate
        <= corrected.imputed[1]
        <= corrected.upper
    )


def test_unsure_pairs_correct_in_proportion_to_their_chance(linked_store: Settings) -> None:
    """Pairs at the link threshold's weight have chance 1/2: about half the split is undone,
    and the draws' spread widens the imputed interval beyond the moved sampling interval."""
    before = by_period(linked_store, draws=0)
    year = max((e for e in before.values() if e.estimate is not None), key=lambda e: e.listed).period
    truth = before[year].estimate
    split_returns(linked_store, year, 0.3, link_bits(linked_store))
    unc = by_period(linked_store, draws=0)[year]
    cor = by_period(linked_store, draws=20)[year]
    moved = (unc.estimate - cor.estimate) / (unc.estimate - truth)
    assert 0.2 < moved < 0.8, moved
    width = (cor.imputed[1] - cor.imputed[0]) - (unc.sampling[1] - unc.sampling[0])
    assert width > 0


def test_reviewers_decisions_calibrate_the_chance(store: Settings) -> None:
    """Reviewers who found "same" for one in ten pairs the model gave 1/2 pull the chance down."""
    bits = link_bits(store)
    rng = np.random.default_rng(3)
    decided = pd.DataFrame(
        {
            "record_a": np.arange(0, 400, 2),
            "record_b": np.arange(1, 400, 2),
            "weight": bits + rng.normal(0, 1, 200),
            "same": (rng.random(200) < 0.1).astype(int),
        }
    )
    band = pd.DataFrame({"record_a": [1000], "record_b": [1001], "weight": [bits]})
    own = calibrate(band, decided.iloc[:0], bits)
    assert own.chance[0] == pytest.approx(0.5) and "model's own" in own.source
    cal = calibrate(band, decided, bits)
    assert cal.chance[0] < 0.25 and "200 reviewers' decisions" in cal.source
    with session_scope(store) as s:  # the store's decisions are read with the pair's weight
        s.add(
            CandidatePair(
                record_a=1, record_b=2, probability=0.99, weight=bits, band="review", status="decided"
            )
        )
        s.add(MatchDecision(record_a=1, record_b=2, decision="same", decided_by="officer"))
    from linkage.estimate.store import band_and_decisions

    with session_scope(store) as s:
        band_rows, decisions = band_and_decisions(s)
    assert band_rows.empty
    assert decisions[["record_a", "record_b", "same"]].values.tolist() == [[1, 2, 1]]


def test_model_chance_shares_among_rivals_and_none() -> None:
    a, b = np.array([1, 1, 5]), np.array([2, 3, 6])
    chance = model_chance(a, b, np.array([10.0, 10.0, 10.0]), 10.0)
    # record 1 has two rivals and "none", all at the threshold's weight; 5-6 only "none"
    assert chance.tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 2])


def test_a_link_joins_returns_only_when_they_can_be_one() -> None:
    ev = pd.DataFrame(
        {
            "return_date": pd.to_datetime(["2024-01-01", "2024-01-20", "2024-09-01", None]),
            "intake_date": pd.to_datetime([None, None, None, "2024-10-01"]),
            "province": ["06", "06", "12", None],
            "lists": [
                frozenset({"IOM"}),
                frozenset({"MoSVY"}),
                frozenset({"MoSVY"}),
                frozenset({"NGO hagar"}),
            ],
        },
        index=pd.Index(["E1", "E2", "E3", "E4"], name="event_id"),
    )
    ea, eb = (
        np.array(["E1", "E1", "E3", "E2"], dtype=object),
        np.array(["E2", "E3", "E4", "E2"], dtype=object),
    )
    assert can_merge(ev, ea, eb, 45).tolist() == [True, False, True, False]
    out = merged_returns(ev, ea[[0, 2]], eb[[0, 2]]).set_index("event_id")
    assert sorted(out.index) == ["E1", "E3"]
    assert out.loc["E1", "lists"] == frozenset({"IOM", "MoSVY"})
    assert out.loc["E3", "lists"] == frozenset({"MoSVY", "NGO hagar"})
    assert out.loc["E3", "date"] == pd.Timestamp("2024-09-01")


def test_rubin_interval_moves_and_widens() -> None:
    still = Combined(mean=110.0, between=0.0, draws=10, listed=90.0)
    assert still.interval(100.0, 95.0, 120.0) == pytest.approx((105.0, 130.0))
    spread = Combined(mean=110.0, between=25.0, draws=10, listed=90.0)
    lo, hi = spread.interval(100.0, 95.0, 120.0)
    extra = 1.959964**2 * 1.1 * 25
    assert (lo, hi) == pytest.approx((110 - math.sqrt(25 + extra), 110 + math.sqrt(400 + extra)), rel=1e-4)
