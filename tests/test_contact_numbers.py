"""A number many men give (an escort's, an NGO office's) is nobody's own: it neither joins
the men who give it nor counts against a man whose own number another list has."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from linkage.match import contact_numbers
from linkage.match.evaluate import evaluate_store
from linkage.match.frame import build_frame
from linkage.match.linker import link
from linkage.match.review import explain_person
from linkage.match.stored import read_records
from linkage.settings import Settings, load_settings
from linkage.store.db import dispose_engines, migrate, session_scope
from linkage.store.models import PersonRecord
from tests.test_linkage import ingest, lists
from tests.test_match_units import records

ESCORT = "012345678"


def _frame(*men: tuple[str, str, str]) -> pd.DataFrame:
    """One record per (family name, given name, phone)."""
    return build_frame(
        records(*({"source": "iom", "family_name": f, "given_name": g, "phone": p} for f, g, p in men))
    )


def test_a_number_given_for_men_of_several_families_is_a_contact_number() -> None:
    frame = _frame(
        ("Sok", "Dara", ESCORT),
        ("Chan", "Vuthy", ESCORT),
        ("Keo", "Rith", ESCORT),
        ("Lim", "Sopheak", "0979990001"),
    )
    assert contact_numbers.contact_numbers(frame) == {frame.loc[0, "phone"]}
    assert contact_numbers.set_aside(frame) == 1
    assert frame["phone"].isna().tolist() == [True, True, True, False]
    assert contact_numbers.set_aside(frame) == 0  # once blanked, counted no more


def test_a_familys_phone_and_one_mans_spellings_stay_his() -> None:
    brothers = _frame(
        ("Sok", "Dara", ESCORT), ("Sok", "Vuthy", ESCORT), ("Sok", "Rith", ESCORT), ("Sok", "Bora", ESCORT)
    )
    assert contact_numbers.contact_numbers(brothers) == set()  # every record carries the family name
    one_man = _frame(("Sok", "Sovann", ESCORT), ("Sokh", "Sovon", ESCORT), ("Sovann", "Sok", ESCORT))
    assert contact_numbers.contact_numbers(one_man) == set()
    two_men = _frame(("Sok", "Dara", ESCORT), ("Chan", "Vuthy", ESCORT), ("Chan", "Vuthy", ESCORT))
    assert (
        contact_numbers.contact_numbers(two_men) == set()
    )  # two men: as a family's, the family class reads it


def test_a_second_number_moves_up_where_the_first_was_a_contact_number() -> None:
    frame = _frame(
        ("Sok", "Dara", f"{ESCORT} 0979990001"), ("Chan", "Vuthy", ESCORT), ("Keo", "Rith", ESCORT)
    )
    own = frame.loc[0, "phone_alt"]
    contact_numbers.set_aside(frame)
    assert frame.loc[0, "phone"] == own and pd.isna(frame.loc[0, "phone_alt"])
    assert frame.loc[0, "phone_number"] == float(own.lstrip("+"))


def _with_contact_numbers(src: Path, dst: Path) -> Path:
    """A copy of the synthetic lists where every blank phone of IOM's and the NGOs' CSVs
    holds one number per source: the escort's or the office's."""
    shutil.copytree(src, dst)
    folders = sorted({p.parent for p in (dst / "landing").rglob("*.csv")})
    for path in sorted((dst / "landing").rglob("*.csv")):
        n = folders.index(path.parent)
        text = path.read_text(encoding="utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        number = f"0{12 + n}55566{n % 10}"
        filled = 0
        for row in rows:
            if "phone" in row and not row["phone"]:
                row["phone"], filled = number, filled + 1
        assert filled >= 10, path.name  # else the test tests nothing
        out = io.StringIO()
        writer = csv.DictWriter(out, list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8")
    return dst


def _f1(home: Path, data: Path) -> float:
    settings: Settings = load_settings(home=home, db_url="")
    migrate(settings)
    ingest(settings, lists(data))
    link(settings)
    persons, _events = evaluate_store(settings, data / "truth")
    dispose_engines()
    return persons.f1


def test_lists_giving_a_contact_number_for_men_without_a_phone_link_as_well(
    tmp_path: Path, synth_dir: Path
) -> None:
    plain = _f1(tmp_path / "plain", synth_dir)
    contact = _f1(tmp_path / "contact", _with_contact_numbers(synth_dir, tmp_path / "lists"))
    print(f"\nF1 {plain:.4f} as generated, {contact:.4f} with contact numbers")
    assert contact >= plain - 0.01


def test_a_delivery_giving_the_stored_contact_number_sets_it_aside_too(
    tmp_path: Path, synth_dir: Path
) -> None:
    """The later IOM list gives the escort number the stored one gave: its phone key meets
    the stored records giving it, so the delivery counts the same men on it as one link of
    everything does, and links as well as the lists without contact numbers."""
    plain = _f1(tmp_path / "plain", synth_dir)
    data = _with_contact_numbers(synth_dir, tmp_path / "lists")
    later = sorted((data / "landing" / "iom").glob("*.csv"))[-1]
    whole = _f1(tmp_path / "whole", data)
    settings: Settings = load_settings(home=tmp_path / "step", db_url="")
    migrate(settings)
    ingest(settings, [p for p in lists(data) if p != later])
    link(settings)
    ingest(settings, [later])
    link(settings)
    persons, _events = evaluate_store(settings, data / "truth")
    dispose_engines()
    print(f"\nF1 {plain:.4f} without, {whole:.4f} linked at once, {persons.f1:.4f} delivered later")
    assert min(whole, persons.f1) >= plain - 0.01


def test_a_persons_explanation_reads_a_contact_number_as_the_link_did(
    tmp_path: Path, synth_dir: Path
) -> None:
    """A man whose IOM row gives the escort's number and whose other row gives his own: his
    explanation says the phone is missing, not that it differs (his records alone show one
    man on the escort's number; the store shows the group)."""
    settings: Settings = load_settings(home=tmp_path / "home", db_url="")
    migrate(settings)
    data = _with_contact_numbers(synth_dir, tmp_path / "lists")
    ingest(settings, lists(data))
    link(settings)
    with session_scope(settings) as s:
        persons = dict(s.execute(select(PersonRecord.record_id, PersonRecord.person_id)).all())
        frame = build_frame(read_records(s, sorted(persons)))
    numbers = contact_numbers.contact_numbers(frame)
    assert numbers
    frame["person"] = frame["record_id"].map(persons)
    escorted = frame["phone"].isin(numbers)
    own = frame["phone"].notna() & ~escorted
    both = sorted(set(frame.loc[escorted, "person"]) & set(frame.loc[own, "person"]))
    assert both  # men with the escort's number on one row and their own on another
    checked = 0
    for person in both[:5]:
        rows = frame[frame["person"] == person]
        contact_rows = set(rows.loc[rows["phone"].isin(numbers), "record_id"])
        for pair in explain_person(settings, person)["pairs"]:
            if pair.get("inside") and pair["band"] == "scored now" and {pair["a"], pair["b"]} & contact_rows:
                assert pair["explanation"]["phone"]["level"] == "missing", pair["explanation"]["phone"]
                checked += 1
    dispose_engines()
    assert checked
