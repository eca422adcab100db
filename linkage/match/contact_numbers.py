"""Numbers many men give: a contact number, not a man's own.

A man with no phone of his own is written down with a number to reach him through: the
escort of his return group (the same for the whole group), the NGO's office line, the
village chief's. Such a number says nothing about who he is, and comparing it says worse
than nothing: two men of one group "share a phone", and his own number on another list
"differs" from it. A family's phone is shared too, by two or
three brothers, whose records the family class (model.yaml) already reads: every one of
them carries the family name. A number given for three or more men (their names in either
order, as consonant forms: Sovann and Sovon are one) where no name is on every record is
set aside as unknown before blocking and comparison.

The counts are over
the frame being linked: a first link sees every record; a delivery sees its own records
and the stored ones its keys met (all those sharing a number, where the number's block is
not skipped as too large).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def set_aside(frame: pd.DataFrame) -> int:
    """Blank the contact numbers of a frame in place (a second number moves up where the
    first was one); returns how many numbers were set aside. Idempotent: once blanked, a
    number is counted no more."""
    numbers = contact_numbers(frame)
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
