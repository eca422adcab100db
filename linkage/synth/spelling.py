"""How list-keepers spell a man differently: variants, order, joins, digits, invisibles."""

from __future__ import annotations

import datetime as dt
import random

KH_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")


def latin_variant(rng: random.Random, name: dict, p_variant: float = 0.5) -> str:
    """A Latin spelling of a name: usually the conventional one, often a variant."""
    spelling = name["latin"]
    if name.get("variants") and rng.random() < p_variant:
        spelling = rng.choice(name["variants"])
    r = rng.random()
    if r < 0.06 and len(spelling) > 3:  # doubled or dropped letter
        i = rng.randrange(1, len(spelling) - 1)
        spelling = (
            spelling[:i] + spelling[i] + spelling[i:]
            if rng.random() < 0.5
            else spelling[:i] + spelling[i + 1 :]
        )
    elif r < 0.12 and spelling.lower().endswith(("k", "n", "t")):
        spelling += "h"
    if " " in spelling and rng.random() < 0.5:
        spelling = spelling.replace(" ", "")  # Chan Thou -> Chanthou
    elif " " not in spelling and len(spelling) >= 7 and rng.random() < 0.15:
        cut = rng.randrange(3, len(spelling) - 2)
        spelling = spelling[:cut] + " " + spelling[cut:].lower()  # Sovannarith -> Sovann rith
    return spelling


def khmer_variant(rng: random.Random, text: str) -> str:
    """The same Khmer string typed another way: zero-width spaces, coeng-DA, split vowels."""
    out = text
    if rng.random() < 0.1:
        out = out.replace("\u17d2\u178f", "\u17d2\u178a")  # coeng-TA -> coeng-DA
    if rng.random() < 0.08:
        out = out.replace("\u17be", "\u17c1\u17b8").replace("\u17c4", "\u17c1\u17b6")
    if rng.random() < 0.12 and len(out) > 2:
        i = rng.randrange(1, len(out))
        out = out[:i] + "\u200b" + out[i:]
    return out


def khmer_digits(text: str) -> str:
    return text.translate(KH_DIGITS)


def phone_format(rng: random.Random, phone: str) -> str:
    local = phone[1:]
    style = rng.random()
    if style < 0.4:
        return f"{phone[:3]} {phone[3:6]} {phone[6:]}"
    if style < 0.6:
        return f"+855 {local[:2]} {local[2:5]} {local[5:]}"
    if style < 0.75:
        return "855" + local
    if style < 0.85:
        return f"(+855) {local[:2]}-{local[2:5]}-{local[5:]}"
    return phone


def dob_text(
    rng: random.Random, birth: dt.date, return_date: dt.date, style: str = "dmy", off_by_one: float = 0.4
) -> tuple[str, str]:
    """(dob, age) as a list writes them: blank with an age, a 01/01 placeholder, or a day.

    An age is often a year off (asked at the border, rounded, or counted the Khmer way)."""
    age = return_date.year - birth.year - ((return_date.month, return_date.day) < (birth.month, birth.day))
    r = rng.random()
    if r < 0.35:
        jitter = rng.choice([1, -1]) if rng.random() < off_by_one else 0
        return "", str(age + jitter)
    if r < 0.5:
        return (f"01/01/{birth.year}" if style == "dmy" else f"{birth.year}-01-01"), ""
    if style == "iso":
        return birth.isoformat(), ""
    return f"{birth:%d/%m/%Y}", (str(age) if rng.random() < 0.3 else "")
