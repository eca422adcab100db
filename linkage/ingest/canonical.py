"""Map a raw table to canonical records, field by field, collecting row-level issues.

Why field by field over unique values: lists repeat the same places, dates and names many
times; normalising each distinct value once keeps ingestion fast on large lists.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from linkage.ingest.readers import Cell, RawTable
from linkage.normalise.dates import DateError, parse_date
from linkage.normalise.khmer import (
    has_khmer,
    khmer_digits_to_ascii,
    limon_to_unicode,
    looks_like_limon,
    normalise_khmer,
)
from linkage.normalise.name_tables import khmer_to_latin_table
from linkage.normalise.names import split_full_name, tidy_khmer_name, tidy_latin
from linkage.normalise.phones import PhoneError, normalise_phone
from linkage.normalise.places import resolve_country, resolve_place, resolve_point_of_entry
from linkage.normalise.romanise import romanise
from linkage.sources import SourceMapping

DATE_FIELDS = ("birth_date", "return_date", "referral_date", "intake_date", "last_follow_up_date")
SEX = {
    "m": "M",
    "male": "M",
    "ប្រុស": "M",
    "ប": "M",
    "man": "M",
    "boy": "M",
    "f": "F",
    "female": "F",
    "ស្រី": "F",
    "ស": "F",
    "woman": "F",
    "girl": "F",
}
STATUS = {
    "active": "active",
    "follow-up": "follow-up",
    "follow up": "follow-up",
    "followup": "follow-up",
    "closed": "closed",
    "closed-referred": "closed-referred",
    "closed referred": "closed-referred",
    "closedreferred": "closed-referred",
}
_SURROGATE = re.compile(r"[\udc80-\udcff]")
FORMULA_START = re.compile(r"^\s*[=@]|^\s*[+\-][^\d\s.(]")


@dataclass(frozen=True)
class Issue:
    """One problem with one row. Never holds the offending value."""

    line: int
    column: str | None
    rule: str
    reason: str
    severity: str = "error"  # error: quarantine the row; warning: load, report


def cell_text(value: Cell) -> str:
    """A cell as text: Excel numbers without a trailing '.0', dates ISO, blanks empty."""
    if type(value) is str:  # the common case first: this runs for every cell
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    return str(value).strip()


def _record_id(value: Cell) -> str:
    return khmer_digits_to_ascii(cell_text(value)).strip()


def _ids(value: str) -> str:
    return re.sub(r"[\s\-]", "", khmer_digits_to_ascii(value)).upper()


class RowMapper:
    """Maps the rows of one raw table of one source."""

    def __init__(self, mapping: SourceMapping, table: RawTable, today: dt.date) -> None:
        self.mapping = mapping
        self.table = table
        self.today = today
        self.positions = mapping.column_for(table.header)
        mapped = set(self.positions.values())
        self.unknown_columns = [h for i, h in enumerate(table.header) if i not in mapped and h]
        self._cache: dict[tuple[str, Any], tuple[Any, Issue | None]] = {}

    # -- per-value normalisers: return (value, issue-template or None) --------------------
    def _cached(
        self, field: str, raw: Any, fn: Callable[[Any], tuple[Any, Issue | None]]
    ) -> tuple[Any, Issue | None]:
        key = (field, raw if not isinstance(raw, list) else tuple(raw))
        hit = self._cache.get(key)
        if hit is None:
            hit = fn(raw)
            self._cache[key] = hit
        return hit

    def _date(self, field: str, raw: Cell) -> tuple[Any, Issue | None]:
        try:
            parsed = parse_date(
                raw, placeholder_is_year=(field == "birth_date"), epoch_1904=self.table.epoch_1904
            )
        except DateError as exc:
            severity = "warning" if field == "last_follow_up_date" else "error"
            return None, Issue(0, field, "date_format", f"{field}: {exc}", severity)
        if parsed is not None and not 1900 <= parsed.value.year <= 2100:
            severity = "warning" if field == "last_follow_up_date" else "error"
            return None, Issue(0, field, "date_range", f"{field}: year outside 1900-2100", severity)
        return parsed, None

    def map_row(self, line: int, cells: list[Cell]) -> tuple[dict[str, Any], list[Issue]]:
        issues: list[Issue] = []
        header = self.table.header
        if len(cells) > len(header) and any(cell_text(c) for c in cells[len(header) :]):
            issues.append(
                Issue(
                    line,
                    None,
                    "ragged_row",
                    f"row has {len(cells)} cells but the header has {len(header)}: "
                    "a delimiter inside an unquoted value shifts the columns",
                )
            )
        elif len(cells) < len(header) and self.table.kind == "csv":
            issues.append(
                Issue(
                    line,
                    None,
                    "ragged_row",
                    f"row has {len(cells)} cells but the header has {len(header)}: "
                    "the row is cut short or its columns are shifted",
                )
            )
        raw: dict[str, Cell] = {}
        for i, name in enumerate(header):
            value = cells[i] if i < len(cells) else None
            if name:
                raw[name] = value
            text = value if isinstance(value, str) else None
            if text and _SURROGATE.search(text):
                issues.append(Issue(line, name, "encoding", f"{name}: bytes that are not valid UTF-8"))
                # the exact bytes stay in the archive; the store gets a replacement mark
                value = text = _SURROGATE.sub("\ufffd", text)
                cells = [*cells[:i], value, *cells[i + 1 :]]
                if name:
                    raw[name] = value
            elif text and FORMULA_START.match(text) and not re.match(r"^\s*\+\d", text):
                issues.append(
                    Issue(line, name, "formula", f"{name}: the cell holds a spreadsheet formula, not a value")
                )
        values = {f: (cells[p] if p < len(cells) else None) for f, p in self.positions.items()}
        rec: dict[str, Any] = {"line": line}
        self._names(values, rec, issues, line)
        self._dates(values, rec, issues, line)
        self._place(values, rec, issues, line)
        self._simple(values, rec, issues, line)
        extra = {h: cell_text(raw[h]) for h in self.unknown_columns if h in raw and cell_text(raw[h])}
        rec["extra"] = extra or None
        rec["raw"] = {k: cell_text(v) for k, v in raw.items()}
        for f in self.mapping.required_values:
            blank = f in self.positions and not rec.get(_canonical_target(f))
            if blank and not any(i.column == f for i in issues):
                issues.append(Issue(line, f, "required", f"{f}: required value is blank"))
        for group in self.mapping.one_of:
            if not any(cell_text(values.get(f)) for f in group):
                issues.append(
                    Issue(line, "/".join(group), "required", f"one of {', '.join(group)} must be given")
                )
        return rec, issues

    def _names(self, v: dict[str, Cell], rec: dict[str, Any], issues: list[Issue], line: int) -> None:
        rec["source_record_id"] = _record_id(v.get("source_record_id"))
        for f in self.mapping.khmer_fields:
            text = cell_text(v.get(f))
            if text and looks_like_limon(text):
                converted = limon_to_unicode(text)
                if converted and all(w in khmer_to_latin_table() for w in converted.split()):
                    v[f] = converted  # every word is a known name: the conversion is safe
                    issues.append(
                        Issue(
                            line, f, "limon_converted", f"{f}: legacy Limon-font Khmer converted", "warning"
                        )
                    )
                    continue
                issues.append(
                    Issue(
                        line,
                        f,
                        "limon",
                        f"{f}: legacy Limon-font Khmer (typed in ASCII codes) that could not be read "
                        "safely; convert the sheet to Khmer Unicode and send again",
                    )
                )
        full = cell_text(v.get("full_name"))
        full_kh = cell_text(v.get("full_name_kh"))
        fam_kh = cell_text(v.get("family_name_kh"))
        giv_kh = cell_text(v.get("given_name_kh"))
        fam = cell_text(v.get("family_name"))
        giv = cell_text(v.get("given_name"))
        # A Khmer column holding Latin (not Limon) is a Latin name typed in the wrong column.
        if full_kh and not has_khmer(full_kh) and not full:
            full, full_kh = full_kh, ""
        if full and has_khmer(full) and not full_kh:
            full, full_kh = "", full
        for src in ("fam_kh", "giv_kh"):
            val = locals()[src]
            if val and not has_khmer(val):
                if src == "fam_kh":
                    fam, fam_kh = fam or val, ""
                else:
                    giv, giv_kh = giv or val, ""
        order = None
        if full_kh:
            s = split_full_name(tidy_khmer_name(full_kh), "family_given")
            fam_kh, giv_kh, order = fam_kh or s.family, giv_kh or s.given, s.order
        else:
            fam_kh = tidy_khmer_name(fam_kh) if fam_kh else None
            giv_kh = tidy_khmer_name(giv_kh) if giv_kh else None
        if full:
            s = split_full_name(tidy_latin(full), self.mapping.name_order)
            fam, giv, order = fam or s.family, giv or s.given, s.order
        else:
            fam = tidy_latin(fam) if fam else None
            giv = tidy_latin(giv) if giv else None
        if fam_kh or giv_kh:
            order = order or "family_given"
        rec["full_name"] = full or full_kh or " ".join(x for x in (fam_kh, giv_kh) if x) or None
        rec["family_name_kh"] = fam_kh or None
        rec["given_name_kh"] = giv_kh or None
        rec["name_kh"] = " ".join(x for x in (fam_kh, giv_kh) if x) or None
        # Latin forms: as written when given, else romanised from Khmer
        rec["family_name"] = fam or (romanise(fam_kh).upper() if fam_kh else None)
        rec["given_name"] = giv or (romanise(giv_kh).upper() if giv_kh else None)
        rec["name_latin"] = " ".join(x for x in (rec["family_name"], rec["given_name"]) if x) or None
        rec["name_order"] = order
        father = cell_text(v.get("father_name"))
        rec["father_name"] = (
            (normalise_khmer(father) if has_khmer(father) else tidy_latin(father)) if father else None
        )

    def _dates(self, v: dict[str, Cell], rec: dict[str, Any], issues: list[Issue], line: int) -> None:
        for f in DATE_FIELDS:
            raw = v.get(f)
            if raw is None or cell_text(raw) == "":
                rec[f] = None
                continue
            parsed, issue = self._cached(
                f, raw if not isinstance(raw, str) else raw.strip(), lambda r, f=f: self._date(f, r)
            )
            if issue:
                issues.append(Issue(line, issue.column, issue.rule, issue.reason, issue.severity))
                rec[f] = None
                continue
            rec[f] = parsed.value
            if f == "birth_date":
                rec["birth_precision"] = parsed.precision
        bd = rec.get("birth_date")
        rec["birth_year"] = bd.year if bd else None
        if not bd:
            rec["birth_precision"] = None
        age_text = khmer_digits_to_ascii(cell_text(v.get("age")))
        rec["age"] = None
        if age_text:
            m = re.match(r"^(\d{1,3})(?:\.0+)?(?:\s*(?:years?|yrs?|ឆ្នាំ))?$", age_text.strip())
            if m:
                rec["age"] = int(m[1])
                if not bd:
                    ref = rec.get("return_date") or self.today
                    rec["birth_year"] = ref.year - rec["age"]
                    rec["birth_precision"] = "age"
            else:
                issues.append(Issue(line, "age", "age_format", "age: not a whole number of years", "warning"))

    def _place(self, v: dict[str, Cell], rec: dict[str, Any], issues: list[Issue], line: int) -> None:
        texts = [cell_text(v.get(f)) or None for f in ("province", "district", "commune", "village")]
        place = resolve_place(*texts)
        rec.update(
            province_text=texts[0],
            district_text=texts[1],
            commune_text=texts[2],
            village_text=texts[3],
            province_code=place.province_code,
            district_code=place.district_code,
            commune_code=place.commune_code,
            village_code=place.village_code,
        )
        if texts[0] and not place.province_code:
            issues.append(
                Issue(line, "province", "unknown_place", "province: not found in the gazetteer", "warning")
            )
        elif texts[1] and not place.district_code:
            issues.append(
                Issue(line, "district", "unknown_place", "district: not found in its province", "warning")
            )

    def _simple(self, v: dict[str, Cell], rec: dict[str, Any], issues: list[Issue], line: int) -> None:
        sex = cell_text(v.get("sex"))
        rec["sex"] = SEX.get(sex.lower()) if sex else None
        if sex and rec["sex"] is None:
            issues.append(Issue(line, "sex", "sex_value", "sex: not M/F, Male/Female or ប្រុស/ស្រី", "warning"))
        phone = cell_text(v.get("phone"))
        rec["phone"] = None
        if phone:
            try:
                rec["phone"] = normalise_phone(phone)
            except PhoneError as exc:
                issues.append(Issue(line, "phone", "phone_format", f"phone: {exc}", "warning"))
        nid = _ids(cell_text(v.get("national_id")))
        rec["national_id"] = nid or None
        if nid and not re.fullmatch(r"\d{9,10}", nid):
            issues.append(
                Issue(
                    line,
                    "national_id",
                    "id_format",
                    "national_id: a Cambodian ID card number has 9 digits",
                    "warning",
                )
            )
        rec["travel_doc_no"] = _ids(cell_text(v.get("travel_doc_no"))) or None
        country = cell_text(v.get("country"))
        rec["country"] = resolve_country(country) if country else None
        if country and not rec["country"]:
            issues.append(Issue(line, "country", "unknown_country", "country: not recognised", "warning"))
        poe = cell_text(v.get("point_of_entry"))
        rec["point_of_entry"] = (
            (resolve_point_of_entry(poe) or f"OTHER:{tidy_latin(poe)}"[:64]) if poe else None
        )
        status = cell_text(v.get("case_status"))
        rec["case_status"] = STATUS.get(status.lower().strip(), status.lower() or None) if status else None
        consent = cell_text(v.get("consent")).upper()[:1]
        rec["consent"] = consent if consent in ("Y", "N") else None
        for f in (
            "sector",
            "batch_id",
            "referred_to",
            "referral_source",
            "case_manager",
            "services",
            "remarks",
        ):
            text = cell_text(v.get(f))
            rec[f] = text or None
        if rec.get("sector"):
            rec["sector"] = rec["sector"].lower()


def _canonical_target(field: str) -> str:
    return {
        "full_name_kh": "name_kh",
        "family_name_kh": "family_name_kh",
        "given_name_kh": "given_name_kh",
    }.get(field, field)
