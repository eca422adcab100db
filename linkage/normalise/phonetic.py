"""A Khmer-aware phonetic key for romanised names and places.

Why: one Khmer name has many Latin spellings (Sok/Sokh/Sock, Chea/Chia, Keo/Kaev/Kev,
Nguon/Ngoun, Sorn/Son, Vannak/Vanak). The key folds the ways romanisers differ (vowel
letters for one vowel, aspiration marks, doubled and silent letters, an 'r' that only marks
vowel length) so that spellings of one name share a key and string similarity on keys
measures what is left.
"""

from __future__ import annotations

import re
from functools import lru_cache

from linkage.normalise.names import strip_accents

_VOWEL_RUN = re.compile(r"[AEIOUY]+")
# Vowel letter groups that romanisers use for one Khmer vowel -> one class letter.
_VOWEL_CLASS = {
    "A": "A",
    "AA": "A",
    "EA": "A",
    "IA": "A",
    "EAA": "A",
    "E": "E",
    "I": "E",
    "Y": "E",
    "EI": "E",
    "EY": "E",
    "EE": "E",
    "IE": "E",
    "II": "E",
    "AE": "E",
    "EAE": "E",
    "IEA": "E",
    "YE": "E",
    "EYE": "E",
    "OE": "E",
    "EU": "E",
    "OEU": "E",
    "UE": "E",
    "EUE": "E",
    "OEA": "E",
    "UEA": "E",
    "O": "U",
    "U": "U",
    "OU": "U",
    "OO": "U",
    "UO": "U",
    "UA": "U",
    "OUA": "U",
    "UOA": "U",
    "AO": "U",
    "AU": "U",
    "AOU": "U",
    "EO": "U",
    "AEO": "U",
    "IEO": "U",
    "EAO": "U",
    "IO": "U",
    "EOU": "U",
    "UOU": "U",
    "OA": "U",
    "AI": "AI",
    "AY": "AI",
    "AIY": "AI",
    "EAI": "AI",
}


# Compiled once: phonetic_token runs for every distinct name token of every list.
_DOUBLED = re.compile(r"(.)\1+")
_NOT_LETTER = re.compile(r"[^A-Z]")
_DOUBLED_CONSONANT_OR_Y = re.compile(r"([^AEIOUY])\1+")
_FINAL_V = re.compile(r"(?<=[AEIOU])V$")
_R_BEFORE_CONSONANT = re.compile(r"(?<=[AEIOU])R(?=[^AEIOUY]|$)")
_FINAL_H_AFTER_VOWEL = re.compile(r"(?<=[AEIOUY])H$")
_H_AFTER_VOWEL = re.compile(r"(?<=[AEIOUY])H(?=[^AEIOUY])")
_Y_BETWEEN_VOWELS = re.compile(r"(?<=[AEIOUY])Y(?=[AEIOU])")
_DOUBLED_CONSONANT = re.compile(r"([^AEIOU])\1+")
_FINAL_C = re.compile(r"(?<=[AEIOU])C$")
_FINAL_H = re.compile(r"(?<=.)H$")
_TOKEN_BREAK = re.compile(r"[\s\-]+")


def _fold_vowels(match: re.Match[str]) -> str:
    run = _DOUBLED.sub(r"\1", match.group(0))  # a doubled vowel letter is one: Keoo (Keov) is Keo
    return _VOWEL_CLASS.get(run, run[0] if run[0] != "Y" else "E")


@lru_cache(maxsize=500_000)
def phonetic_token(token: str) -> str:
    """Key of one name token (no spaces)."""
    s = _NOT_LETTER.sub("", strip_accents(token).upper())
    if not s:
        return ""
    s = _DOUBLED_CONSONANT_OR_Y.sub(r"\1", s)  # doubled letters first: a typed 'Vathhana' is 'Vathana'
    s = s.replace("W", "V")
    s = _FINAL_V.sub("O", s)  # Kaev -> Kaeo (Keo), Pov -> Poo
    s = _R_BEFORE_CONSONANT.sub("", s)  # Sorn -> Son, Ork -> Ok
    s = _FINAL_H_AFTER_VOWEL.sub("", s)  # Meah -> Mea
    s = _H_AFTER_VOWEL.sub("", s)  # Vannakh..: 'h' after vowel before cons
    s = s.replace("B", "P").replace("D", "T")  # voicing first, so 'Dh' folds like 'Th'
    s = s.replace("TCH", "CH")
    # Aspiration and voicing that romanisers write either way.
    s = s.replace("CHH", "C").replace("CH", "C").replace("KH", "K").replace("PH", "P")
    s = s.replace("TH", "T").replace("NH", "N").replace("CK", "K")
    s = s.replace("Q", "K").replace("X", "K")
    s = _Y_BETWEEN_VOWELS.sub("", s)
    s = _VOWEL_RUN.sub(_fold_vowels, s)
    s = _DOUBLED_CONSONANT.sub(r"\1", s)  # doubled consonants
    s = _FINAL_C.sub("K", s) if s.endswith("AC") else s
    s = _FINAL_H.sub("", s)  # final h: Chanh, Sokh (after the digraphs above)
    return s


@lru_cache(maxsize=500_000)
def phonetic_key(name: str | None) -> str:
    """Key of a whole name: each token keyed, joined by spaces (order kept)."""
    if not name:
        return ""
    return " ".join(k for k in (phonetic_token(t) for t in _TOKEN_BREAK.split(name)) if k)
