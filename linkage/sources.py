"""Source mappings: one YAML file per source says how its columns map to ours.

Why YAML and no code: onboarding a new NGO means writing one file that names its columns;
the readers, normalisers and checks stay the same for every source.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from linkage.ingest.readers import header_key

CANONICAL_FIELDS: tuple[str, ...] = (
    "source_record_id",
    "full_name",
    "full_name_kh",
    "family_name",
    "given_name",
    "family_name_kh",
    "given_name_kh",
    "sex",
    "birth_date",
    "age",
    "province",
    "district",
    "commune",
    "village",
    "country",
    "sector",
    "return_date",
    "point_of_entry",
    "batch_id",
    "phone",
    "national_id",
    "travel_doc_no",
    "father_name",
    "referred_to",
    "referral_date",
    "case_status",
    "intake_date",
    "referral_source",
    "case_manager",
    "services",
    "last_follow_up_date",
    "consent",
    "remarks",
)
SOURCE_NAME = re.compile(r"^(iom|mosvy|ngo-[a-z0-9][a-z0-9-]*)$")


class MappingError(ValueError):
    """A source mapping file is wrong; says which file and what."""


@dataclass(frozen=True)
class SourceMapping:
    source: str
    title: str
    fields: dict[str, tuple[str, ...]]  # canonical field -> header aliases as written
    required_columns: tuple[str, ...]
    required_values: tuple[str, ...]
    one_of: tuple[tuple[str, ...], ...]
    stable_ids: bool
    name_order: str
    khmer_fields: tuple[str, ...]
    referral_remarks: tuple[str, ...]
    path: Path
    version: str
    options: dict[str, Any] = field(default_factory=dict)
    # record fields whose values identify a row when its id does not (a row number that moves
    # when a list is re-saved): the record key is their hash, so a re-saved list adds nothing
    content_key: tuple[str, ...] = ()
    # remark patterns that say there was no referral (yet): they win over referral_remarks
    non_referral_remarks: tuple[str, ...] = ()
    # whose address the place columns hold: "origin" (the village he left: return lists) or
    # "current" (where he lives now: case files); a current address that differs from a
    # home of origin says nothing against one man
    address: str = "origin"
    # how the source writes numeric dates when a column's own dates cannot tell (05/06/2024,
    # 6052024): day_first (DD/MM/YYYY, every shipped source) or month_first (MM/DD/YYYY)
    date_order: str = "day_first"

    @property
    def known_headers(self) -> set[str]:
        return {header_key(a) for aliases in self.fields.values() for a in aliases}

    def column_for(self, header: list[str]) -> dict[str, int]:
        """Canonical field -> position in this file's header (first alias found)."""
        keys = [header_key(h) for h in header]
        out: dict[str, int] = {}
        for fname, aliases in self.fields.items():
            for alias in aliases:
                k = header_key(alias)
                if k in keys:
                    out[fname] = keys.index(k)
                    break
        return out


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


# keys whose value is true or false; everywhere else a boolean is a word YAML 1.1 turned into one
BOOLEAN_KEYS = frozenset({"stable_ids"})
_BOOLEAN_WORDS = "yes, no, on, off, true or false"


def _booleans(data: Any, where: str = "") -> list[str]:
    """Where (as dotted keys) the mapping holds a boolean that should be text: an unquoted
    `no` under fields (an NGO's column titled No) reads as false and `on` as true (YAML 1.1),
    so the column was matched by the name 'False'. Keys read as booleans are named too."""
    found: list[str] = []
    if isinstance(data, dict):
        for k, v in data.items():
            key = f"{where}.{k}" if where else str(k)
            if isinstance(k, bool):
                found.append(f"a key under {where or 'the top level'} (read as {k})")
            elif isinstance(v, bool) and key not in BOOLEAN_KEYS:
                found.append(f"{key} (read as {v})")
            else:
                found.extend(_booleans(v, key))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            if isinstance(v, bool):
                found.append(f"{where} (its value number {i + 1}, read as {v})")
            else:
                found.extend(_booleans(v, where))
    return found


def _check_booleans(path: Path, data: dict[Any, Any]) -> None:
    """A word YAML made a boolean is refused, naming where; stable_ids must be one."""
    if flagged := _booleans(data):
        raise MappingError(
            f"{path.name}: an unquoted {_BOOLEAN_WORDS} is read by YAML as true or false, not as "
            f"the word, at {'; '.join(flagged)}; put the word in quotes ('no', 'On') and load again"
        )
    if not isinstance(data.get("stable_ids", True), bool):
        raise MappingError(f"{path.name}: stable_ids must be true or false, unquoted")


def load_mapping(path: Path) -> SourceMapping:
    raw_bytes = path.read_bytes()
    try:
        data = yaml.safe_load(raw_bytes.decode("utf-8"))
    except yaml.YAMLError as exc:
        raise MappingError(f"{path.name}: not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(data, dict):
        raise MappingError(f"{path.name}: must be a mapping")
    _check_booleans(path, data)
    source = str(data.get("source", path.stem))
    if not SOURCE_NAME.match(source):
        raise MappingError(f"{path.name}: source '{source}' must be iom, mosvy or ngo-<code>")
    fields_raw = data.get("fields") or {}
    unknown = sorted(set(fields_raw) - set(CANONICAL_FIELDS))
    if unknown:
        raise MappingError(
            f"{path.name}: unknown canonical fields {unknown}; known: {', '.join(CANONICAL_FIELDS)}"
        )
    fields = {k: _as_tuple(v) for k, v in fields_raw.items()}
    if "source_record_id" not in fields:
        raise MappingError(f"{path.name}: 'fields' must map source_record_id")
    for key in ("required_columns", "required_values", "khmer_fields"):
        missing = sorted(set(_as_tuple(data.get(key))) - set(fields))
        if missing:
            raise MappingError(f"{path.name}: {key} names fields not mapped: {missing}")
    for key in ("referral_remarks", "non_referral_remarks"):
        for pattern in _as_tuple(data.get(key)):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise MappingError(
                    f"{path.name}: {key} holds a pattern that is no regular expression ({exc.msg})"
                ) from exc
    content_key = _as_tuple(data.get("content_key"))
    from linkage.store.models import Record  # the fields a key can use are the record's

    not_fields = sorted(set(content_key) - set(Record.__table__.columns.keys()))
    if not_fields:
        raise MappingError(f"{path.name}: content_key names fields a record does not have: {not_fields}")
    order = data.get("name_order", "family_given")
    if order not in ("family_given", "given_family"):
        raise MappingError(f"{path.name}: name_order must be family_given or given_family")
    address = str(data.get("address", "origin"))
    if address not in ("origin", "current"):
        raise MappingError(f"{path.name}: address must be origin or current")
    date_order = str(data.get("date_order", "day_first"))
    if date_order not in ("day_first", "month_first"):
        raise MappingError(f"{path.name}: date_order must be day_first or month_first")
    return SourceMapping(
        source=source,
        title=str(data.get("title", source)),
        fields=fields,
        required_columns=_as_tuple(data.get("required_columns")),
        required_values=_as_tuple(data.get("required_values")),
        one_of=tuple(_as_tuple(g) for g in data.get("one_of_values", []) or []),
        stable_ids=bool(data.get("stable_ids", True)),
        name_order=order,
        khmer_fields=_as_tuple(data.get("khmer_fields")),
        referral_remarks=_as_tuple(data.get("referral_remarks")),
        non_referral_remarks=_as_tuple(data.get("non_referral_remarks")),
        path=path,
        version=hashlib.sha256(raw_bytes).hexdigest()[:12],
        options=dict(data.get("options") or {}),
        content_key=content_key,
        address=address,
        date_order=date_order,
    )


def load_mappings(sources_dir: Path) -> dict[str, SourceMapping]:
    mappings: dict[str, SourceMapping] = {}
    for path in sorted(sources_dir.glob("*.yaml")):
        m = load_mapping(path)
        if m.source in mappings:
            raise MappingError(f"{path.name}: source '{m.source}' is mapped twice")
        mappings[m.source] = m
    return mappings


@cache
def current_address_sources(sources_dir: Path | None = None) -> frozenset[str]:
    """Sources whose place columns hold a current address (the shipped mappings by default)."""
    from linkage.settings import PROJECT_ROOT

    folder = sources_dir or PROJECT_ROOT / "sources"
    found = set()
    for path in sorted(folder.glob("*.yaml")):
        try:
            m = load_mapping(path)
        except MappingError:  # a broken mapping is reported where it is loaded to ingest
            continue
        if m.address == "current":
            found.add(m.source)
    return frozenset(found)
