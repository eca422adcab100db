"""Ingest one delivery: claim it by hash, archive it, read, map, validate, load atomically.

Why this shape: a delivery is known by its bytes, so the same file twice (under any name)
changes nothing; records, quarantined rows and the delivery's status are written in one
transaction, so a crash leaves either the whole delivery or none of it.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import logging
import os
import re
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select, update

from linkage.ingest.canonical import DATE_FIELDS, Issue, MappedRows, RowMapper
from linkage.ingest.data_docs import publish, strip_values
from linkage.ingest.date_parts import join_date_parts
from linkage.ingest.errors import DeliveryRejected
from linkage.ingest.files import LINK, RefusedFile, read_regular
from linkage.ingest.insert import upsert_records
from linkage.ingest.readers import header_key, read_table
from linkage.ingest.safe_text import label, os_name
from linkage.ingest.shifted_rows import shifted_row_issues
from linkage.ingest.validate import check_frame, warm_up
from linkage.privacy import file_label
from linkage.seal.archive import read_sealed, write_sealed
from linkage.seal.files import private_dir
from linkage.settings import Settings
from linkage.sources import MappingError, SourceMapping, load_mappings
from linkage.store.db import StoreError, audit, session_scope
from linkage.store.locks import ingest_lock_name, store_lock
from linkage.store.models import Delivery, Quarantine, utcnow

log = logging.getLogger(__name__)
PHNOM_PENH = ZoneInfo("Asia/Phnom_Penh")
Progress = Callable[[str, int, int], None]


@dataclass
class DeliveryResult:
    """What happened to one file; holds counts and reasons, never personal values."""

    sha256: str
    file_name: str
    source: str
    status: str  # ingested | rejected | duplicate | refused (a link or non-file: not read)
    reason: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    blank_rows: int = 0
    quarantined_by_rule: dict[str, int] = field(default_factory=dict)
    warnings_by_rule: dict[str, int] = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @property
    def label(self) -> str:
        """The file as output without values names it (linkage.privacy.file_label)."""
        return file_label(self.file_name, self.source, self.sha256)


def today_phnom_penh() -> dt.date:
    return dt.datetime.now(PHNOM_PENH).date()


def safe_file_name(name: str) -> str:
    """The sender's file name for display only: no folders, no control characters, and
    bytes that are not UTF-8 (a name from another system) shown as U+FFFD."""
    base = re.split(r"[\\/]", os_name(name))[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip() or "unnamed"
    return base[:255]


def failure_place(exc: BaseException) -> str:
    """Where in our code an exception was raised (file and line), for a reason or a log."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/linkage/" in f.filename.replace("\\", "/")] or frames
    if not ours:
        return "an unknown place"
    last = ours[-1]
    return f"{Path(last.filename).name} line {last.lineno}"


def source_from_path(path: Path, mappings: dict[str, SourceMapping]) -> str | None:
    """landing/<source>/file -> source, when the folder names a configured source."""
    for parent in path.resolve().parents:
        if parent.name in mappings:
            return parent.name
    return None


def archive_path(settings: Settings, sha: str) -> Path:
    return settings.archive_dir / sha[:2] / sha


def archive_bytes(settings: Settings, sha: str, data: bytes) -> Path:
    """Keep the raw bytes immutably under their hash (never under the sender's name),
    sealed with the store's data key in a 0400 file (linkage/seal/archive.py)."""
    target = archive_path(settings, sha)
    if target.exists():
        return target
    private_dir(settings.archive_dir)
    return write_sealed(settings, target, data)


def read_archived(settings: Settings, sha: str) -> bytes:
    return read_sealed(settings, archive_path(settings, sha))


def _duplicates(columns: dict[str, list[Any]]) -> list[Issue]:
    """Rows that repeat a record id inside one delivery: the repeats are quarantined. An id
    typed again in other case or with spaces inside (KH-IOM-2024-7301, "kh-iom-2024-7301 ")
    is the same id: read as two, two men held one case number without a word."""
    first: dict[str, int] = {}
    raw, lines, ids = columns["raw"], columns["line"], columns["source_record_id"]
    issues: list[Issue] = []
    for r, rid in enumerate(ids):
        if not rid:
            continue
        key = "".join(str(rid).split()).casefold()
        if key in first:
            f = first[key]
            what = "an exact copy of" if raw[f] == raw[r] else "a different row with the same id as"
            written = "" if ids[f] == rid else " (written there in other case or spacing)"
            issues.append(
                Issue(
                    lines[r],
                    "source_record_id",
                    "duplicate_id",
                    f"source_record_id: {what} line {lines[f]}{written}",
                )
            )
        else:
            first[key] = r
    return issues


def refused(path: Path, source: str | None, why: str) -> DeliveryResult:
    """A path that was not read (a link, not a regular file): shown with why, not stored."""
    return DeliveryResult("", safe_file_name(path.name), source or "unknown", "refused", why)


# file-level refusals a list of another source gets; a hint is looked for in files this size
WRONG_SOURCE_RULES = ("no_header", "missing_columns")
WRONG_SOURCE_MAX_BYTES = 20 * 2**20


def wrong_source_hint(other: SourceMapping) -> str:
    return (
        f". Its header is that of the {other.title} ('{other.source}'), not of this source: if "
        f"it is one, put it under landing/{other.source}/ (or pass --source {other.source}), "
        "where it is read again"
    )


# the fields that name a man: a sheet whose header names none of them is no list of men
NAME_FIELDS = ("family_name_kh", "given_name_kh", "full_name", "full_name_kh", "family_name", "given_name")


def person_headers(mapping: SourceMapping) -> frozenset[str]:
    return frozenset(header_key(a) for f in NAME_FIELDS for a in mapping.fields.get(f, ()) if header_key(a))


def _sent_again_as(existing: Delivery, source: str) -> bool:
    """The same bytes, refused before under another source (dropped in the wrong folder, or
    with none), now sent as this one: read again, or the officer who moves the file to the
    right folder, as the refusal told them to, would only hear "duplicate"."""
    return existing.status == "rejected" and existing.source != source


def _already_seen(existing: Delivery, file_name: str) -> DeliveryResult:
    """The same bytes came before: say when and under what name; change nothing."""
    return DeliveryResult(
        existing.sha256,
        file_name,
        existing.source,
        "duplicate",
        f"same bytes as {file_label(existing.file_name, existing.source, existing.sha256)}, "
        f"already {existing.status} "
        f"on {existing.received_at:%Y-%m-%d %H:%M}",
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector waits while a delivery is read, mapped and loaded
    (used as a decorator of Ingestor._process).

    Why: a delivery allocates a few objects per cell and frees almost none until it is done,
    so the collector walks the growing heap again and again for nothing; a raised threshold
    still let a full collection (every object of GX and pandas too) start inside a delivery
    now and then, a tenth of its time. Objects freed by reference counting (nearly all) are
    freed as ever; the collector is switched back on when the delivery ends, even on error.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _unmapped_hint(header: list[str], positions: dict[str, int], source: str) -> str:
    """The header's columns no field is read from, so the officer can see a column renamed
    by its sender (Status for case_status) and name it in the source's mapping."""
    used = set(positions.values())
    names = [f"'{label(h, 30)}'" for i, h in enumerate(header) if i not in used and h.strip()]
    if not names:
        return ""
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    return (
        f"; columns of the file not read: {shown}. If one of them is the missing column "
        f"renamed, add its name to sources/{source}.yaml and replay, or rename it in the file"
    )


class Ingestor:
    """Ingests files for one store; holds the mappings and settings.

    Used in a `with` block (a batch), the Data Docs of all its deliveries are rendered once
    when the block ends (rendering costs about as much as validating one file), and what
    every delivery needs is loaded and frozen out of the collector's walks before the first
    (validate.warm_up); used bare, the Data Docs are rendered after each delivery.
    """

    def __init__(self, settings: Settings, progress: Progress | None = None) -> None:
        self.settings = settings
        self.mappings = load_mappings(settings.sources_dir)
        self.progress = progress
        self._batched = False
        self._docs: list[tuple[list[Any], str, str]] = []

    def __enter__(self) -> Ingestor:
        self._batched = True
        return self

    def __exit__(self, *exc: object) -> None:
        self._batched = False
        self.publish_docs()

    def publish_docs(self) -> None:
        """Render the validations held back so far into the Data Docs, in one build."""
        held, self._docs = self._docs, []
        if held:
            publish(self.settings, held)

    def ingest_path(self, path: Path, source: str | None = None) -> DeliveryResult:
        """Ingest a file by its path. A link is refused, never followed; a file that cannot
        be opened is refused by name (neither has bytes to keep, so nothing is stored)."""
        name = safe_file_name(path.name)
        source = source or source_from_path(path, self.mappings)
        if path.is_symlink():
            return refused(path, source, LINK)
        try:
            size = path.stat().st_size
        except OSError as exc:
            return refused(path, source, f"cannot be read ({exc.strerror or type(exc).__name__})")
        if size > self.settings.max_file_bytes:
            digest = hashlib.sha256()
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            sha = digest.hexdigest()
            return self._reject_new(
                sha,
                name,
                source or "unknown",
                size,
                DeliveryRejected(
                    "too_large",
                    f"file is {size / 2**20:,.0f} MiB; limit {self.settings.max_file_bytes / 2**20:,.0f} MiB",
                ),
            )
        try:
            data = read_regular(path)
        except RefusedFile as exc:
            return refused(path, source, str(exc))
        return self.ingest_bytes(data, name, source)

    def ingest_bytes(
        self, data: bytes, file_name: str, source: str | None, today: dt.date | None = None
    ) -> DeliveryResult:
        """Ingest one file's bytes, once: a second process given the same bytes meanwhile
        waits for the first (a lock in the store), then finds them done and says duplicate."""
        sha = hashlib.sha256(data).hexdigest()
        file_name = safe_file_name(file_name)
        lock = ingest_lock_name(self.settings, sha)
        with store_lock(
            self.settings, lock, "ingesting the same file (or one whose hash begins alike)", log.info
        ):
            return self._ingest_locked(sha, data, file_name, source, today)

    def _ingest_locked(
        self, sha: str, data: bytes, file_name: str, source: str | None, today: dt.date | None
    ) -> DeliveryResult:
        if source is None or source not in self.mappings:
            why = (
                f"no mapping for source '{source}'"
                if source
                else "source unknown: put the file under landing/<source>/ or pass --source"
            )
            if source is None and (guess := self._source_it_reads_as(data, None)):
                why += f" (its header is that of the {guess.title}: --source {guess.source})"
            archive_bytes(self.settings, sha, data)  # kept, so it can be replayed once mapped
            return self._reject_new(
                sha, file_name, source or "unknown", len(data), DeliveryRejected("unknown_source", why)
            )
        with session_scope(self.settings) as s:
            existing = s.get(Delivery, sha)
            if existing is not None and _sent_again_as(existing, source):
                # refused under another source (a wrong folder, none): read it as this one
                audit(s, "delivery.source_changed", sha, before=existing.source, source=source)
                existing.source, existing.status, existing.reason = source, "claimed", None
                existing.file_name = file_name
            elif existing is not None and existing.status in ("ingested", "rejected"):
                return _already_seen(existing, file_name)
            if existing is None:
                s.add(
                    Delivery(
                        sha256=sha, source=source, file_name=file_name, size_bytes=len(data), status="claimed"
                    )
                )
                audit(s, "delivery.claimed", sha, source=source, size=len(data))
            elif existing.status == "landed":  # claimed from a landing folder; ingest starts now
                existing.status = "claimed"
        archive_bytes(self.settings, sha, data)
        return self._process(sha, data, file_name, self.mappings[source], today)

    def _reject_new(
        self, sha: str, file_name: str, source: str, size: int, exc: DeliveryRejected
    ) -> DeliveryResult:
        with session_scope(self.settings) as s:
            existing = s.get(Delivery, sha)
            if existing is not None and existing.status in ("ingested", "rejected"):
                return _already_seen(existing, file_name)
            if existing is None:
                s.add(
                    Delivery(
                        sha256=sha,
                        source=source,
                        file_name=file_name,
                        size_bytes=size,
                        status="rejected",
                        reason=exc.reason,
                    )
                )
            else:
                existing.status, existing.reason = "rejected", exc.reason
            audit(s, "delivery.rejected", sha, rule=exc.rule)
        return DeliveryResult(sha, file_name, source, "rejected", exc.reason)

    @collector_paused()
    def _process(
        self,
        sha: str,
        data: bytes,
        file_name: str,
        mapping: SourceMapping,
        today: dt.date | None,
        only_lines: set[int] | None = None,
    ) -> DeliveryResult:
        """Read, map, check and load one delivery; any failure rejects it with a reason.

        Why catch everything here: one file must never stop the files after it, nor stay
        `claimed` for ever. What failed is named by its kind and place in our code, never by
        the exception's message (it may quote a cell). The bytes stay in the archive, so the
        delivery is replayed once the cause is fixed.
        """
        try:
            return self._read_and_load(sha, data, file_name, mapping, today, only_lines)
        except StoreError as exc:
            why = f"{exc}; nothing of it was stored. Fix the cause and run `survivor-link replay`"
            return self._failed(sha, file_name, mapping.source, "store_refused", why, only_lines)
        except Exception as exc:  # noqa: BLE001 - the safety net: a file is rejected, not the run
            where = failure_place(exc)
            log.error("delivery %s could not be read: %s at %s", sha[:12], type(exc).__name__, where)
            why = (
                f"could not be read: an internal error ({type(exc).__name__} at {where}); the file is "
                "kept and can be replayed once fixed (`survivor-link replay`)"
            )
            return self._failed(sha, file_name, mapping.source, "internal_error", why, only_lines)

    def _failed(
        self, sha: str, file_name: str, source: str, rule: str, why: str, only_lines: set[int] | None
    ) -> DeliveryResult:
        """A delivery that failed part-way: rejected with why (a replay of some of its rows
        leaves the delivery as it was, and says why the replay failed)."""
        if only_lines is None:
            self._mark_rejected(sha, DeliveryRejected(rule, why))
        return DeliveryResult(sha, file_name, source, "rejected", why)

    def _read_and_load(
        self,
        sha: str,
        data: bytes,
        file_name: str,
        mapping: SourceMapping,
        today: dt.date | None,
        only_lines: set[int] | None,
    ) -> DeliveryResult:
        if self._batched:
            warm_up()  # once per process: what every delivery of a batch needs, loaded and frozen
        today = today or today_phnom_penh()
        result = DeliveryResult(sha, file_name, mapping.source, "ingested")
        try:
            table = self._read_table(data, mapping)
        except DeliveryRejected as exc:
            if exc.rule in WRONG_SOURCE_RULES and (other := self._source_it_reads_as(data, mapping)):
                exc = DeliveryRejected(exc.rule, exc.reason + wrong_source_hint(other))
            self._mark_rejected(sha, exc)
            result.status, result.reason = "rejected", exc.reason
            return result
        mapper = RowMapper(mapping, table, today)
        total = len(table.rows)
        progress, label = self.progress, result.label  # a bar shows the label, never the name
        mapped = mapper.map_rows(table.rows, (lambda n: progress(label, n, total)) if progress else None)
        issues = mapped.issues
        bad_lines = {i.line for i in issues if i.severity == "error"}
        issues[:0] = shifted_row_issues(mapping, table, today, bad_lines)  # first: names the row's rule
        gx_results: list[Any] | None = [] if self.settings.data_docs else None
        where = self.settings.expectations_dir
        issues.extend(check_frame(mapped.columns, mapping.source, where, pd.Timestamp(today), gx_results))
        issues.extend(_duplicates(mapped.columns))
        errors, warnings = _by_severity(issues)
        wanted = [
            (r, line) for r, line in enumerate(mapped.lines) if only_lines is None or line in only_lines
        ]
        good = [r for r, line in wanted if line not in errors]
        bad = [r for r, line in wanted if line in errors]
        result.rows_read = total
        result.blank_rows = table.blank_rows
        result.unknown_columns = mapper.unknown_columns
        result.notes = table.notes
        if total == 0 and only_lines is None:  # ingested, but an officer should know it held no one
            result.notes.append(
                f"the list has its header (line {table.header_line}) but no rows under it: nothing "
                "was loaded; if men were meant to be on it, fill them in under the header and send it again"
            )
        result.warnings_by_rule = dict(warnings)
        for r in bad:
            rule = errors[mapped.lines[r]][0].rule
            result.quarantined_by_rule[rule] = result.quarantined_by_rule.get(rule, 0) + 1
        self._load(sha, mapping, table, mapped, good, bad, errors, result, replay=only_lines is not None)
        if gx_results:
            # stripped now: a result held for later must not hold the failing values either
            self._docs.append(([strip_values(r) for r in gx_results], mapping.source, sha))
            if not self._batched:
                self.publish_docs()
        return result

    def _read_table(self, data: bytes, mapping: SourceMapping) -> Any:
        """The file's table, found under its header; rejected when a required column is missing."""
        table = read_table(
            data,
            mapping.known_headers,
            self.settings.header_search_rows,
            self.settings.xlsx_max_uncompressed_bytes,
            self.settings.xlsx_max_ratio,
            person_headers(mapping),
        )
        # a date written in parts (day, month, year columns) becomes one column
        notes, table.folded = join_date_parts(
            table.header, table.rows, mapping.fields, header_key, DATE_FIELDS
        )
        table.notes.extend(notes)
        positions = mapping.column_for(table.header)
        missing = [f for f in mapping.required_columns if f not in positions]
        if missing:
            wanted = "; ".join(f"{f} (one of: {', '.join(mapping.fields[f])})" for f in missing)
            raise DeliveryRejected(
                "missing_columns",
                f"required column(s) missing from the header on line {table.header_line}: {wanted}"
                + _unmapped_hint(table.header, positions, mapping.source),
            )
        return table

    def _source_it_reads_as(self, data: bytes, mapping: SourceMapping | None) -> SourceMapping | None:
        """Another source whose list this file is (its header and required columns): a
        file dropped into the wrong landing folder is told where it belongs, not "no header"."""
        if len(data) > WRONG_SOURCE_MAX_BYTES:
            return None
        for other in self.mappings.values():
            if mapping is not None and other.source == mapping.source:
                continue
            try:
                self._read_table(data, other)
            except DeliveryRejected:
                continue
            except Exception:  # noqa: BLE001 - a hint only: the file is refused either way
                continue
            return other
        return None

    def _mark_rejected(self, sha: str, exc: DeliveryRejected) -> None:
        with session_scope(self.settings) as s:
            d = s.get(Delivery, sha)
            d.status, d.reason = "rejected", exc.reason
            audit(s, "delivery.rejected", sha, rule=exc.rule)

    def _load(
        self,
        sha: str,
        mapping: SourceMapping,
        table: Any,
        mapped: MappedRows,
        good: list[int],
        bad: list[int],
        errors: dict[int, list[Issue]],
        result: DeliveryResult,
        replay: bool,
    ) -> None:
        """Records, quarantined rows and the delivery's new status, in one transaction."""
        lines = mapped.lines
        with session_scope(self.settings) as s:
            corrected = upsert_records(s, sha, mapping, mapped.columns, good)
            if replay and good:
                s.execute(
                    update(Quarantine)
                    .where(Quarantine.delivery_sha256 == sha, Quarantine.line.in_([lines[r] for r in good]))
                    .values(status="replayed", resolved_at=utcnow())
                )
            _hold_back(s, sha, mapping.source, mapped, bad, errors)
            if os.environ.get("SURVIVOR_LINK_TEST_CRASH_POINT") == "before_commit":
                s.flush()
                os._exit(70)  # fault injection for the crash test: die with the transaction open
            _mark_ingested(s, sha, mapping, table, result, len(good), len(bad), replay)
            audit(
                s,
                "delivery.replayed" if replay else "delivery.ingested",
                sha,
                loaded=len(good),
                quarantined=len(bad),
                rules=result.quarantined_by_rule,
                notes=result.notes or None,  # sheets read or left out, lines not UTF-8
                corrected=corrected,  # records replaced by a changed row (old values kept)
            )
        result.rows_loaded = len(good)
        result.rows_quarantined = len(bad)

    # -- replay ----------------------------------------------------------------------------
    def replay(self, sha: str | None = None) -> list[DeliveryResult]:
        """Re-read archived deliveries with today's mappings and load rows that now pass."""
        with session_scope(self.settings) as s:
            q = select(Delivery.sha256).where(Delivery.status.in_(("rejected", "claimed", "ingested")))
            if sha:
                q = q.where(Delivery.sha256.startswith(sha))
            hashes = list(s.scalars(q))
        results = []
        for digest in hashes:
            path = archive_path(self.settings, digest)
            if not path.exists():
                continue
            with store_lock(self.settings, ingest_lock_name(self.settings, digest), "ingesting it", log.info):
                result = self._replay_one(digest, path)
            if result is not None:
                results.append(result)
        return results

    def _replay_one(self, sha: str, path: Path) -> DeliveryResult | None:
        """One delivery again, as it stands now that its lock is held (another process may
        have finished it meanwhile): a whole file when it was never loaded, else its open rows."""
        with session_scope(self.settings) as s:
            d = s.get(Delivery, sha)
            open_lines = set(
                s.scalars(
                    select(Quarantine.line).where(
                        Quarantine.delivery_sha256 == sha, Quarantine.status == "open"
                    )
                )
            )
        if d is None or d.source not in self.mappings:
            return None
        mapping = self.mappings[d.source]
        if d.status in ("rejected", "claimed"):
            return self._process(sha, read_sealed(self.settings, path), d.file_name, mapping, None)
        if d.status == "ingested" and open_lines:
            data = read_sealed(self.settings, path)
            return self._process(sha, data, d.file_name, mapping, None, only_lines=open_lines)
        return None


# rows that are no man (or not one the first header can read): a totals row, a heading, a
# sign-off, a second list's header and its rows
NOT_A_MAN_RULES = frozenset(("totals_row", "heading_row", "sign_off_row", "other_header"))


def _by_severity(issues: list[Issue]) -> tuple[dict[int, list[Issue]], Counter[str]]:
    """Errors by line (the row is quarantined), warnings counted by rule (the row loads), once
    per cell: a cell the mapper and an expectation both warn of is one warning.

    A row that is no man (NOT_A_MAN_RULES) is only that: its cells read as a man's (a signer's
    date as a bad return date, a total as a phone) add no warning to the file's counts and no
    issue to its quarantine row (they did: a sign-off counted date_format and phone warnings)."""
    errors: dict[int, list[Issue]] = {}
    not_a_man = {i.line for i in issues if i.rule in NOT_A_MAN_RULES}
    warned: set[tuple[str, int, str | None]] = set()
    for i in issues:
        if i.line in not_a_man and i.rule not in NOT_A_MAN_RULES:
            continue
        if i.severity == "error":
            errors.setdefault(i.line, []).append(i)
        else:
            warned.add((i.rule, i.line, i.column))
    return errors, Counter(rule for rule, _, _ in warned)


def _hold_back(
    s: Any, sha: str, source: str, mapped: MappedRows, bad: list[int], errors: dict[int, list[Issue]]
) -> None:
    """Quarantine the bad rows, whole and with why; a row quarantined before is updated in place."""
    lines, raw = mapped.lines, mapped.columns["raw"]
    held = {q.line: q for q in s.scalars(select(Quarantine).where(Quarantine.delivery_sha256 == sha))}
    for r in bad:
        row_errors = errors[lines[r]]
        payload = dict(
            delivery_sha256=sha,
            source=source,
            line=lines[r],
            column=row_errors[0].column,
            rule=row_errors[0].rule,
            reason=row_errors[0].reason,
            issues=[{"column": i.column, "rule": i.rule, "reason": i.reason} for i in row_errors],
            raw=raw[r],
            status="open",
        )
        existing = held.get(lines[r])
        if existing is None:
            s.add(Quarantine(**payload))
        else:
            for k, v in payload.items():
                setattr(existing, k, v)


def _mark_ingested(
    s: Any,
    sha: str,
    mapping: SourceMapping,
    table: Any,
    result: DeliveryResult,
    loaded: int,
    quarantined: int,
    replay: bool,
) -> None:
    """The delivery's row: ingested, with its counts (a replay adds to what was loaded before)."""
    d = s.get(Delivery, sha)
    if replay:
        d.rows_loaded += loaded
        d.rows_quarantined = s.query(Quarantine).filter_by(delivery_sha256=sha, status="open").count()
    else:
        d.rows_loaded, d.rows_quarantined = loaded, quarantined
    d.status = "ingested"
    d.reason = None
    d.ingested_at = utcnow()
    d.encoding, d.header_line = table.encoding, table.header_line
    d.rows_read, d.blank_rows = result.rows_read, result.blank_rows
    d.unknown_columns = result.unknown_columns or None
    d.mapping_version = mapping.version
    d.linked_at = None


def pending_mapping_errors(settings: Settings) -> str | None:
    try:
        load_mappings(settings.sources_dir)
    except MappingError as exc:
        return str(exc)
    return None
