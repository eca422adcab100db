"""Numbers many men give: a contact number, not a man's own.

A man with no phone of his own is written down with a number to reach him through: the
escort of his return group (the same for the whole group), the NGO's office line, the
village chief's. Such a number says nothing about who he is, and comparing it says worse
than nothing: two men of one group "share a phone", and his own number on another list
"differs" from it. A family's phone is shared too, by two or three brothers, whose
records the family class (model.yaml) already reads: every one of them carries the family
name. A number given for three or more men (their names in either order, as consonant
forms: Sovann and Sovon are one) where no name is on every record is set aside as unknown
before blocking and comparison.

The counts are over the frame being linked: a first link sees every record; a delivery
sees its own records and the stored ones its keys met (all those sharing a number, where
the number's block is not skipped as too large); an explanation reads the stored records
that give the number (set_aside_with_store).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from linkage.match.blocking import block_keys, salted
from linkage.match.spec import ModelSpec
from linkage.store.models import BlockingKey

# Men (their names, either order) on one number from which it is nobody's own, where no
# name is on every record giving it: brothers' records all carry the family name, and one
# man's own records carry his names; three men of as many names share no family's phone.
MANY_MEN = 3

_SLOTS = ("phone", "phone_alt")


def contact_numbers(frame: pd.DataFrame) -> set[str]:
    """The numbers this frame's records give for men of more than one family."""
    parts = [
        frame[[slot, "fam_consonants", "giv_consonants"]].set_axis(["number", "fam", "giv"], axis=1)
        for slot in _SLOTS
        if slot in frame
    ]
    if not parts:
        return set()
    given = pd.concat(parts).reset_index(names="row")
    given = given[given["number"].notna()].drop_duplicates(["row", "number"])
    if given.empty:
        return set()
    fam, giv = given["fam"].fillna("").astype(str), given["giv"].fillna("").astype(str)
    given["names"] = np.where(fam <= giv, fam + "|" + giv, giv + "|" + fam)  # either order: one man
    per_number = given.groupby("number", sort=False).agg(records=("row", "size"), men=("names", "nunique"))
    forms = pd.concat([given[["number", "row", "fam"]].rename(columns={"fam": "form"}),
                       given[["number", "row", "giv"]].rename(columns={"giv": "form"})])  # fmt: skip
    forms = forms[forms["form"].notna()].drop_duplicates()
    widest = forms.groupby(["number", "form"], sort=False).size().groupby(level="number").max()
    shared = widest.reindex(per_number.index, fill_value=0) >= per_number["records"]
    many = (per_number["men"] >= MANY_MEN) & ~shared
    return set(per_number.index[many].astype(str))


def phone_passes(spec: ModelSpec) -> set[str]:
    """The blocking passes whose keys are built on a phone number."""
    return {
        p.name
        for p in spec.passes.values()
        if any(part in _SLOTS for parts in {**p.probe, **p.keys}.values() for part in parts)
    }


def set_aside(frame: pd.DataFrame) -> int:
    """Blank the frame's contact numbers in place; returns how many numbers were set aside.
    Idempotent: once blanked, a number is counted no more."""
    return blank(frame, contact_numbers(frame))


def blank(frame: pd.DataFrame, numbers: set[str]) -> int:
    """Blank these numbers in the frame, in place (a second number moves up where the first
    was one of them); returns how many numbers were given."""
    if not numbers:
        return 0
    first = frame["phone"].isin(numbers).to_numpy()
    second = frame["phone_alt"].isin(numbers).to_numpy()
    for col, mask in (("phone", first), ("phone_alt", second)):
        frame.loc[mask, col] = pd.NA
        if f"{col}_number" in frame:
            frame.loc[mask, f"{col}_number"] = np.nan
    up = frame["phone"].isna().to_numpy() & frame["phone_alt"].notna().to_numpy()
    if up.any():
        for a, b in (("phone", "phone_alt"), ("phone_number", "phone_alt_number")):
            if a in frame and b in frame:
                frame.loc[up, a] = frame.loc[up, b].to_numpy()
                frame.loc[up, b] = pd.NA if a == "phone" else np.nan
    return len(numbers)


# Records read per number to count its men where only a few records are at hand: a number
# past this is a contact number by any count (brothers are two or three).
STORED_PER_NUMBER = 50


def set_aside_with_store(session: Session, frame: pd.DataFrame, spec: ModelSpec) -> int:
    """Blank the contact numbers of a few records (a person's, a pair's) counting the men
    on each number over every stored record that gives it, as the link that scored them
    did: a person's own records alone would show one man on an escort's number."""
    from linkage.match.frame import build_frame
    from linkage.match.stored import read_records

    passes = [spec.passes[name] for name in phone_passes(spec)]
    if not passes or frame[["phone", "phone_alt"]].isna().all(axis=None):
        return 0
    keys = block_keys(frame, spec, {p.name for p in passes})
    salted_keys = {
        int(k)
        for p in passes
        for column in {**p.probe, **p.keys}
        for k in salted(pd.array(keys[column]).dropna().to_numpy(dtype=np.int64), p.name)
    }
    ids: set[int] = set()
    for key in salted_keys:
        rows = session.scalars(
            select(BlockingKey.record_id).where(BlockingKey.key == key).limit(STORED_PER_NUMBER + 1)
        ).all()
        ids.update(int(r) for r in rows)
    ids -= set(frame["record_id"].astype(int).tolist())
    around = build_frame(read_records(session, sorted(ids))) if ids else frame.iloc[:0]
    return blank(frame, contact_numbers(pd.concat([frame, around], ignore_index=True)))
