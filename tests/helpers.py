"""Small builders of delivery files for tests."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import openpyxl

from linkage.synth.writers import IOM_HEADER, MOSVY_HEADER, ExcelSheet


def iom_row(
    case: str = "KH-IOM-2024-0001",
    name: str = "DARA SOK",
    dob: str = "12/03/1990",
    ret: str = "05/06/2024",
    **extra: Any,
) -> dict[str, str]:
    row = {
        "iom_case_no": case,
        "full_name": name,
        "sex": "M",
        "dob": dob,
        "age_at_return": "",
        "province_of_origin": "Kampong Thom",
        "district_of_origin": "Sandan",
        "country_of_exploitation": "Indonesia",
        "sector": "fishing",
        "date_of_return": ret,
        "point_of_entry": "Phnom Penh Airport",
        "travel_doc_no": "",
        "phone": "012 345 678",
        "referred_to": "",
        "referral_date": "",
        "consent_to_share": "Y",
        "batch_id": "B1",
    }
    row.update(extra)
    return row


def iom_csv(rows: list[dict[str, str]], header: list[str] | None = None, delimiter: str = ",") -> str:
    header = header or IOM_HEADER
    buf = io.StringIO()
    w = csv.DictWriter(buf, header, delimiter=delimiter, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def mosvy_xlsx(
    path: Path,
    rows: list[list[Any]],
    titles: int = 2,
    epoch_1904: bool = False,
    header: list[str] | None = None,
    shared_strings: bool = False,
) -> Path:
    """A MoSVY workbook as openpyxl writes it (text inline in each cell), or with
    shared_strings as Excel writes it (text in one table the cells point into)."""
    import openpyxl

    path.parent.mkdir(parents=True, exist_ok=True)
    if shared_strings:
        sheet = ExcelSheet(path, "Sheet1")
        for i in range(titles):
            sheet.append(["បញ្ជីឈ្មោះជនរងគ្រោះ" if i == 0 else None])
        for r in [header or MOSVY_HEADER, *rows]:
            sheet.append(r)
        sheet.close()
        return path
    wb = openpyxl.Workbook()
    if epoch_1904:
        import datetime as dt

        wb.epoch = dt.datetime(1904, 1, 1)
    ws = wb.active
    for i in range(titles):
        ws.append(["បញ្ជីឈ្មោះជនរងគ្រោះ" if i == 0 else None])
    ws.append(header or MOSVY_HEADER)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def mosvy_row(
    no: str = "១", family: str = "សុខ", given: str = "ដារា", ret: Any = "០៥/០៦/២០២៤", **kw: Any
) -> list[Any]:
    values = {
        "age": "៣៤",
        "dob": "",
        "village": "",
        "commune": "",
        "district": "សណ្ដាន់",
        "province": "ខេត្តកំពង់ធំ",
        "country": "ឥណ្ឌូនេស៊ី",
        "entry": "ព្រលានយន្តហោះអន្តរជាតិភ្នំពេញ",
        "father": "សុខ",
        "nid": "",
        "phone": "",
        "remarks": "",
    }
    values.update(kw)
    return [
        no,
        family,
        given,
        "ប្រុស",
        values["age"],
        values["dob"],
        values["village"],
        values["commune"],
        values["district"],
        values["province"],
        values["country"],
        ret,
        values["entry"],
        values["father"],
        values["nid"],
        values["phone"],
        values["remarks"],
    ]


def ngo_row(client: str, name_en: str, dob: str, intake: str, status: str, **extra: str) -> dict[str, str]:
    row = {
        "client_id": client,
        "name_kh": "",
        "name_en": name_en,
        "dob": dob,
        "sex": "M",
        "province": "Kampong Thom",
        "district": "Sandan",
        "commune": "",
        "village": "",
        "phone": "012 345 678",
        "intake_date": intake,
        "referral_source": "IOM",
        "case_manager": "staff",
        "case_status": status,
        "services": "medical",
        "last_follow_up_date": "",
        "consent_form_signed": "Y",
    }
    row.update(extra)
    return row


def ngo_csv(rows: list[dict[str, str]]) -> str:
    from linkage.synth.writers import NGO_HEADER

    return iom_csv(rows, header=NGO_HEADER)


def sheet(rows: list[list[object]], merges: tuple[str, ...] = ()) -> bytes:
    """An .xlsx of these rows as they are (no header added), with these cells merged."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    for m in merges:
        ws.merge_cells(m)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
