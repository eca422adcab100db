"""Names as lists write them: tidy Latin, split a full name into family and given name.

Why: IOM writes GIVEN FAMILY ("DARA SOK"), MoSVY splits family and given name in Khmer,
NGOs give a full name in either script. We keep the original and record the order we found.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import NamedTuple

from linkage.normalise.khmer import has_khmer, normalise_khmer
from linkage.normalise.name_tables import (
    given_spellings,
    khmer_given_names,
    khmer_surnames,
    surname_spellings,
)

# Not "KHUN": a Thai honorific, but ឃុន Khun is a Khmer surname (a title that is also a
# known surname is never dropped).
TITLES = {"MR", "MR.", "MRS", "MS", "MISS", "LOK", "NEAK", "BROS", "DR", "DR."}
KHMER_TITLES = ("លោក", "ឈ្មោះ", "អ្នក", "ឧបាសក")
_PUNCT = re.compile(r"[.,;:/\\()\[\]{}\"'`_|*#!?]+")


def strip_accents(text: str) -> str:
    if text.isascii():  # nearly every romanised name: nothing to strip
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=200_000)
def tidy_latin(text: str) -> str:
    """Upper-case, accents and punctuation off, hyphens and spaces single, titles dropped."""
    s = strip_accents(text).upper().replace("-", " ")
    s = _PUNCT.sub(" ", s)
    tokens = [t for t in s.split() if t not in TITLES or t in surname_spellings()]
    return " ".join(tokens)


def _starts_a_syllable(ch: str) -> bool:
    """A Khmer consonant or independent vowel: a new syllable (not a vowel sign or subscript
    that would make the letters before it part of one longer word)."""
    return "\u1780" <= ch <= "\u17b3"


@lru_cache(maxsize=200_000)
def tidy_khmer_name(text: str) -> str:
    """The name without a title before it: លោក សុខ and លោកសុខ alike (Khmer is often written
    without spaces; a glued title left on made a family name no other list gives)."""
    s = normalise_khmer(text)
    for title in KHMER_TITLES:
        if s.startswith(title + " "):
            s = s[len(title) + 1 :]
        elif s.startswith(title) and len(s) > len(title) + 1 and _starts_a_syllable(s[len(title)]):
            s = s[len(title) :]
    return s


class SplitName(NamedTuple):  # a tuple: made once per distinct name of every delivery
    family: str | None
    given: str | None
    order: str  # family_given | given_family | single | unknown


def _is_surname(token: str, khmer: bool) -> bool:
    return token in khmer_surnames() if khmer else token in surname_spellings()


def _is_given(token: str) -> bool:
    return token.replace(" ", "") in given_spellings()


# A Khmer word starts with a consonant or an independent vowel, never with a vowel sign,
# a diacritic or a subscript: a cut before one of those is inside a syllable.
_KHMER_WORD_START = re.compile("[\u1780-\u17b3]")
_MIN_PART = 2  # characters of either part: a one-letter "surname" would split anything


def split_joined(token: str) -> tuple[str, str, str] | None:
    """A full name written as one word: (surname, given name, order), or None.

    Why: Khmer writes words together, and a zero-width space between the names vanishes
    when the text is normalised, so "ខៀវចាន់ណា" is Khiev Channa; Latin lists join too
    (KEOSOPHEAK, or SOPHEAKKEO from a list that writes the given name first). A Khmer word
    must start with a known surname and the rest must be able to start a word; a word that
    is itself a known given name stays whole. Latin, which joins less often and has short
    surnames inside many given names (SOKHA), splits only when the rest is a known given
    name as well.
    """
    khmer = has_khmer(token)
    given = khmer_given_names() if khmer else given_spellings()
    if token in given:
        return None
    best: tuple[str, str, str] | None = None
    for surname in khmer_surnames() if khmer else surname_spellings():
        if len(surname) < _MIN_PART or len(token) - len(surname) < _MIN_PART:
            continue
        if khmer:
            rest = token[len(surname) :]
            if not token.startswith(surname) or not _KHMER_WORD_START.match(rest):
                continue
            if rest in given:
                return surname, rest, "family_given"
            found = (surname, rest, "family_given")
        elif token.startswith(surname) and token[len(surname) :] in given:
            found = (surname, token[len(surname) :], "family_given")
        elif token.endswith(surname) and token[: -len(surname)] in given:
            found = (surname, token[: -len(surname)], "given_family")
        else:
            continue
        if best is None or len(surname) > len(best[0]):
            best = found
    return best if best or khmer else _split_by_sound(token)


@cache
def _keys_of(names: frozenset[str]) -> frozenset[str]:
    from linkage.normalise.phonetic import phonetic_token  # (phonetic imports this module)

    return frozenset(phonetic_token(n) for n in names)


def _split_by_sound(token: str) -> tuple[str, str, str] | None:
    """A Latin full name joined whose parts the tables do not spell (SAUPHALCHHAY for Sophal
    Chhay, OMSOUPHEAHK): cut where one side sounds like a known surname and the other like
    a known given name, if one cut does, or of those the one at the longest surname as the
    tables spell it (else the word stays one name).

    Why by sound: a list that joins the names respells them as often as any other (on lists
    made apart from ours, one joined name in six stayed whole when only spellings in the
    tables could cut it)."""
    from linkage.normalise.phonetic import phonetic_token

    surnames, given = _keys_of(surname_spellings()), _keys_of(given_spellings())
    if phonetic_token(token) in given:
        return None
    cuts: set[tuple[str, str, str]] = set()
    for i in range(_MIN_PART, len(token) - _MIN_PART + 1):
        head, tail = token[:i], token[i:]
        key_head, key_tail = phonetic_token(head), phonetic_token(tail)
        if key_head in surnames and key_tail in given:
            cuts.add((head, tail, "family_given"))
        if key_tail in surnames and key_head in given:
            cuts.add((tail, head, "given_family"))
    if len(cuts) > 1:  # WANNA|KHKIM, WANNAKH|KIM, WANNAKHK|IM: at a surname as spelt, the longest
        spelt = [c for c in cuts if c[0] in surname_spellings()]
        longest = max((len(c[0]) for c in spelt), default=0)
        cuts = {c for c in spelt if len(c[0]) == longest}
    return cuts.pop() if len(cuts) == 1 else None


@lru_cache(maxsize=200_000)
def split_full_name(full: str, default_order: str = "family_given") -> SplitName:
    """Decide which token is the family name: a known surname wins over the list's habit."""
    khmer = has_khmer(full)
    tokens = full.split()
    if not tokens:
        return SplitName(None, None, "unknown")
    if len(tokens) == 1:
        joined = split_joined(tokens[0])
        if joined:
            return SplitName(*joined)
        return SplitName(None, tokens[0], "single")
    first, last = tokens[0], tokens[-1]
    first_is = _is_surname(first, khmer)
    last_is = _is_surname(last, khmer)
    if first_is and not last_is:
        order = "family_given"
    elif last_is and not first_is:
        order = "given_family"
    elif not khmer and _is_given(" ".join(tokens[1:])) and not _is_given(first):
        order = "family_given"
    elif not khmer and _is_given(" ".join(tokens[:-1])) and not _is_given(last):
        order = "given_family"
    else:
        order = default_order
    if order == "family_given":
        return SplitName(first, " ".join(tokens[1:]), order)
    return SplitName(last, " ".join(tokens[:-1]), order)
