"""SQLAlchemy 2 models of the store. Alembic migrations in linkage/migrations create them.

Why these shapes: a delivery is known by the hash of its bytes, a record by
(source, record_key), and a quarantined row keeps everything needed to replay it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from linkage.seal.types import SealedBytes, SealedDate, SealedJSON, SealedText


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Delivery(Base):
    """One file as received, identified by the SHA-256 of its bytes."""

    __tablename__ = "delivery"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    # sealed: a sender may name a file after a survivor; shown only where values may be
    # (elsewhere linkage.privacy.file_label names the delivery)
    file_name: Mapped[str] = mapped_column(SealedText("delivery.file_name"))
    size_bytes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)  # landed|claimed|ingested|rejected
    reason: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    ingested_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    encoding: Mapped[str | None] = mapped_column(String(32))
    header_line: Mapped[int | None] = mapped_column(Integer)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    blank_rows: Mapped[int] = mapped_column(Integer, default=0)
    unknown_columns: Mapped[list[Any] | None] = mapped_column(JSON)
    mapping_version: Mapped[str | None] = mapped_column(String(64))
    linked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Record(Base):
    """One row of a delivery mapped to the canonical schema."""

    __tablename__ = "record"
    __table_args__ = (
        UniqueConstraint("source", "record_key", name="uq_record_source_key"),
        Index("ix_record_delivery", "delivery_sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    record_key: Mapped[str] = mapped_column(String(128))
    source_record_id: Mapped[str] = mapped_column(String(128))
    delivery_sha256: Mapped[str] = mapped_column(ForeignKey("delivery.sha256"))
    line: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # names
    full_name: Mapped[str | None] = mapped_column(SealedText("record.full_name"))
    family_name: Mapped[str | None] = mapped_column(SealedText("record.family_name"))
    given_name: Mapped[str | None] = mapped_column(SealedText("record.given_name"))
    name_latin: Mapped[str | None] = mapped_column(SealedText("record.name_latin"))
    name_kh: Mapped[str | None] = mapped_column(SealedText("record.name_kh"))
    family_name_kh: Mapped[str | None] = mapped_column(SealedText("record.family_name_kh"))
    given_name_kh: Mapped[str | None] = mapped_column(SealedText("record.given_name_kh"))
    name_order: Mapped[str | None] = mapped_column(String(16))
    sex: Mapped[str | None] = mapped_column(String(1))
    # birth
    birth_date: Mapped[dt.date | None] = mapped_column(SealedDate("record.birth_date"))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    birth_precision: Mapped[str | None] = mapped_column(String(16))
    age: Mapped[int | None] = mapped_column(Integer)
    # home
    province_code: Mapped[str | None] = mapped_column(String(2))
    district_code: Mapped[str | None] = mapped_column(String(4))
    commune_code: Mapped[str | None] = mapped_column(String(6))
    village_code: Mapped[str | None] = mapped_column(String(8))
    province_text: Mapped[str | None] = mapped_column(String(128))
    district_text: Mapped[str | None] = mapped_column(String(128))
    commune_text: Mapped[str | None] = mapped_column(String(128))
    village_text: Mapped[str | None] = mapped_column(String(128))
    # return
    country: Mapped[str | None] = mapped_column(String(2))
    sector: Mapped[str | None] = mapped_column(String(32))
    return_date: Mapped[dt.date | None] = mapped_column(Date)
    point_of_entry: Mapped[str | None] = mapped_column(String(64))
    batch_id: Mapped[str | None] = mapped_column(String(64))
    # identifiers
    phone: Mapped[str | None] = mapped_column(SealedText("record.phone"))
    national_id: Mapped[str | None] = mapped_column(SealedText("record.national_id"))
    travel_doc_no: Mapped[str | None] = mapped_column(SealedText("record.travel_doc_no"))
    father_name: Mapped[str | None] = mapped_column(SealedText("record.father_name"))
    # referral and case
    referred_to: Mapped[str | None] = mapped_column(String(128))
    referral_date: Mapped[dt.date | None] = mapped_column(Date)
    case_status: Mapped[str | None] = mapped_column(String(32))
    intake_date: Mapped[dt.date | None] = mapped_column(Date)
    referral_source: Mapped[str | None] = mapped_column(String(64))
    case_manager: Mapped[str | None] = mapped_column(String(128))
    services: Mapped[str | None] = mapped_column(String(256))
    last_follow_up_date: Mapped[dt.date | None] = mapped_column(Date)
    consent: Mapped[str | None] = mapped_column(String(1))
    remarks: Mapped[str | None] = mapped_column(SealedText("record.remarks"))
    extra: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON("record.extra"))
    raw: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON("record.raw"))


class RecordVersion(Base):
    """An earlier version of a record, kept when a later delivery corrected it.

    Why: a corrected row replaces its record (same key: one man, one record), but what the
    record said before, and which delivery said it, stays on file.
    """

    __tablename__ = "record_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    delivery_sha256: Mapped[str] = mapped_column(String(64))  # the delivery the old values came from
    line: Mapped[int] = mapped_column(Integer)
    replaced_by_sha256: Mapped[str] = mapped_column(String(64))
    replaced_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    changed: Mapped[list[Any]] = mapped_column(JSON)  # the fields that changed
    values: Mapped[dict[str, Any]] = mapped_column(SealedJSON("record_version.values"))  # old values


class Quarantine(Base):
    """A row that failed validation, kept whole with where and why, until replayed."""

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("delivery_sha256", "line", name="uq_quarantine_delivery_line"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_sha256: Mapped[str] = mapped_column(ForeignKey("delivery.sha256"), index=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    line: Mapped[int] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(128))
    rule: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    issues: Mapped[list[Any] | None] = mapped_column(JSON)
    raw: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON("quarantine.raw"))  # as received
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|replayed
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class StoreKey(Base):
    """A data key of the store, wrapped by one master key (linkage/seal/keyring.py).

    Why (key, master) as the key: during a rotation a key is wrapped by the old and the new
    master key at once, so processes with either keep working until the old one is dropped.
    """

    __tablename__ = "store_key"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    master_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(8))  # data|blind
    status: Mapped[str] = mapped_column(String(8))  # current|retiring (a data key being replaced)
    wrapped: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AuditLog(Base):
    """Who did what and when: ingests, replays, exports, decisions. Never personal values."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(256))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Person(Base):
    """One survivor. The id is permanent: never regenerated, never reused."""

    __tablename__ = "person"

    person_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|merged|empty
    merged_into: Mapped[str | None] = mapped_column(String(16))
    record_count: Mapped[int] = mapped_column(Integer, default=0)


class PersonAlias(Base):
    """An id that was merged into another person and still resolves to it."""

    __tablename__ = "person_alias"

    alias_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PersonRecord(Base):
    """Which person and return event a record belongs to."""

    __tablename__ = "person_record"

    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(16), index=True)
    event_id: Mapped[str | None] = mapped_column(String(16), index=True)
    linked_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class BlockingKey(Base):
    """A linked record's blocking keys, one row per key: (key, record, side, place).

    Why a table of keys: linking a new delivery looks up stored records by key through the
    primary key's index, so its cost grows with the delivery, not with the store; and a new
    blocking pass in the model spec is new rows, not a new column and a migration. Keys are
    64-bit hashes salted by their pass (one pass's keys never meet another's), so the index
    holds no name, phone or ID in clear. `probe` marks the probing side of an asymmetric
    pass (records with one name); `place` is the hashed place that splits the pass's large
    blocks, where the pass splits them. Without rowid on SQLite: the rows are the index.
    """

    __tablename__ = "blocking_key"
    __table_args__ = {"sqlite_with_rowid": False}

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    record_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    probe: Mapped[bool] = mapped_column(Boolean, primary_key=True, default=False)
    place: Mapped[int | None] = mapped_column(BigInteger)


class RecordFrame(Base):
    """A linked record's finished comparison row, one sealed value (match/frame_cache.py).

    Why: a delivery at a million records meets some 37,000 stored records, and reading and
    opening their fifteen sealed columns, then deriving their frame, was most of its link;
    one value per record is one read and one open. `frame_version` names the frame code and
    layout the row was made by (a row of another is not used); `loaded_at` is the record's
    own, as read when the row was made (a record re-sent since is not what the row says).
    No foreign key: records are never deleted, and a first link's million rows would each
    look their record up.
    """

    __tablename__ = "record_frame"

    record_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    frame_version: Mapped[str] = mapped_column(String(16))
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    row: Mapped[bytes] = mapped_column(SealedBytes("record_frame.row"))


class ReturnEvent(Base):
    """One repatriation of a person; flags hang on it, so its id is stable too."""

    __tablename__ = "return_event"

    event_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(16), index=True)
    return_date: Mapped[dt.date | None] = mapped_column(Date)
    country: Mapped[str | None] = mapped_column(String(2))
    point_of_entry: Mapped[str | None] = mapped_column(String(64))
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|retired
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CandidatePair(Base):
    """A scored pair of records: review-band pairs wait here for a person to decide."""

    __tablename__ = "candidate_pair"
    __table_args__ = (UniqueConstraint("record_a", "record_b", name="uq_candidate_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_a: Mapped[int] = mapped_column(Integer, index=True)
    record_b: Mapped[int] = mapped_column(Integer, index=True)
    probability: Mapped[float] = mapped_column()
    weight: Mapped[float] = mapped_column()
    band: Mapped[str] = mapped_column(String(16), index=True)  # link|review|nonlink
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|decided|superseded
    # In the queue officers are shown (linkage/match/queue.py): the chance a "same" is right,
    # the queue's order; None: kept in the band only (estimate, flags, explain)
    queue_value: Mapped[float | None] = mapped_column(index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class MatchDecision(Base):
    """A reviewer's verdict on a pair; beats the model on every later run."""

    __tablename__ = "match_decision"
    __table_args__ = (UniqueConstraint("record_a", "record_b", name="uq_match_decision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_a: Mapped[int] = mapped_column(Integer, index=True)
    record_b: Mapped[int] = mapped_column(Integer, index=True)
    decision: Mapped[str] = mapped_column(String(16))  # same|different
    decided_by: Mapped[str] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)


class LinkModel(Base):
    """Fitted match weights; incremental runs reuse the newest so scores stay comparable."""

    __tablename__ = "link_model"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))  # em|supervised
    params: Mapped[dict[str, Any]] = mapped_column(JSON)


class IdCounter(Base):
    """Next number per id kind; ids come from here so that none is ever handed out twice."""

    __tablename__ = "id_counter"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_value: Mapped[int] = mapped_column(Integer, default=1)


class Flag(Base):
    """An unreferred return past the grace period: opened, and closed with why, never deleted."""

    __tablename__ = "flag"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(16), index=True)
    person_id: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open|closed
    opened_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    close_reason: Mapped[str | None] = mapped_column(Text)
    return_date: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class FlagPending(Base):
    """A person whose flags may have changed since the last flag run (linkage/referral/changes.py).

    Why a queue written by whoever changes a person (a link, a corrected record, a review
    decision): a flag run recomputes these persons' returns only, and deletes the rows it
    read, so a change committed while it ran stays queued for the next.
    """

    __tablename__ = "flag_pending"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(String(16))


class FlagState(Base):
    """What the last flag run used: its as-of date and a digest of the flag rules and settings.

    No row (a first run, a first link, a rebuild) or another digest: the next run recomputes
    every person's flags."""

    __tablename__ = "flag_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    rules: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class FlagStatus(Base):
    """Each return's status at the last flag run's as-of date, in counts' terms only.

    Why kept: a run that recomputes a few persons still reports counts over every return
    (summary_counts), summed here instead of recomputing the rest."""

    __tablename__ = "flag_status"

    event_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(16), index=True)
    return_known: Mapped[bool] = mapped_column(Boolean)
    dated: Mapped[bool] = mapped_column(Boolean)
    referred: Mapped[bool] = mapped_column(Boolean)
    flagged: Mapped[bool] = mapped_column(Boolean)
    partial: Mapped[bool] = mapped_column(Boolean)
    status_unknown: Mapped[bool] = mapped_column(Boolean)


class Report(Base):
    """A weekly report as built: which week, from which as-of date, its file hash and counts."""

    __tablename__ = "report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    week: Mapped[str] = mapped_column(String(10), index=True)  # ISO week, e.g. 2026-W48
    as_of: Mapped[dt.date] = mapped_column(Date)
    generated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    generated_by: Mapped[str] = mapped_column(String(128))
    path: Mapped[str] = mapped_column(String(512))
    sha256: Mapped[str] = mapped_column(String(64))
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="built")  # built|approved|rejected|delivered
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
