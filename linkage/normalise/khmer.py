"""Khmer script: one string per name however it was typed, Khmer digits, legacy Limon.

Why: the same name typed on two keyboards can differ in invisible ways (zero-width spaces,
coeng-DA vs coeng-TA, split vowels, marks in another order); matching needs one form.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")
KHMER_RE = re.compile(r"[\u1780-\u17FF\u19E0-\u19FF]")
KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")
# Invisible characters that keyboards and word-breakers insert, and the direction marks and
# embeddings (U+200E/200F, U+202A-202E, U+2066-2069) text copied from a web page or a
# right-to-left document carries.
BIDI_CONTROLS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u17b4\u17b5" + BIDI_CONTROLS), None)

COENG = "\u17d2"
RO = "\u179a"
SPLIT_VOWELS = {
    "\u17c1\u17b8": "\u17be",  # េ + ី -> ើ
    "\u17c1\u17b6": "\u17c4",  # េ + ា -> ោ
}
LOOKALIKE = {
    COENG + "\u178a": COENG + "\u178f",  # coeng-DA -> coeng-TA (identical glyphs)
    "\u17a3": "\u17a2",  # deprecated independent vowel QAQ -> QA
    "\u17a4": "\u17a2\u17b6",  # deprecated QAA -> QA + AA
}

# Canonical order of dependent signs after a base (a khnormal-style simplification):
# robat, coeng clusters (coeng-RO last), register shifters, vowels, then final signs.
_ORDER = {
    "\u17cc": 1,  # robat
    "\u17c9": 3,
    "\u17ca": 3,  # muusikatoan, triisap
    "\u17cd": 5,
    "\u17ce": 5,
    "\u17cf": 5,
    "\u17d0": 5,
    "\u17d1": 5,
    "\u17dd": 5,
    "\u17c6": 6,
    "\u17c7": 6,
    "\u17c8": 6,
    "\u17cb": 6,  # nikahit, reahmuk, yuukaleapintu, bantoc
}


def _mark_rank(cluster: str) -> int:
    first = cluster[0]
    if first == COENG:
        return 2 if cluster[1:2] != RO else 2.5  # type: ignore[return-value]
    if "\u17b6" <= first <= "\u17c5":
        return 4
    return _ORDER.get(first, 4)


def _reorder(text: str) -> str:
    """Sort the marks that follow each base consonant into one canonical order."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        out.append(ch)
        i += 1
        if not ("\u1780" <= ch <= "\u17b3"):
            continue
        marks: list[str] = []
        while i < n:
            c = text[i]
            if c == COENG and i + 1 < n and "\u1780" <= text[i + 1] <= "\u17b3":
                marks.append(text[i : i + 2])
                i += 2
            elif "\u17b6" <= c <= "\u17d1" or c == "\u17dd":
                marks.append(c)
                i += 1
            else:
                break
        if len(marks) > 1:
            marks.sort(key=_mark_rank)  # stable: keeps order among equals (two coengs)
        # drop an exact repeat of a vowel sign typed twice
        deduped: list[str] = []
        for m in marks:
            if not deduped or m != deduped[-1] or m.startswith(COENG):
                deduped.append(m)
        out.extend(deduped)
    return "".join(out)


def has_khmer(text: str) -> bool:
    return not text.isascii() and bool(KHMER_RE.search(text))


@lru_cache(maxsize=200_000)
def normalise_khmer(text: str) -> str:
    """One canonical Khmer string: NFC, no invisibles, look-alikes folded, marks reordered."""
    s = unicodedata.normalize("NFC", text).translate(INVISIBLE)
    s = _reorder(s)
    for a, b in SPLIT_VOWELS.items():
        s = s.replace(a, b)
    for a, b in LOOKALIKE.items():
        s = s.replace(a, b)
    return _SPACES.sub(" ", s).strip()


def khmer_digits_to_ascii(text: str) -> str:
    # isascii first: it runs on most cells, and translate walks the string even when all ASCII
    return text if text.isascii() else text.translate(KHMER_DIGITS)


# --- legacy Limon (Khmer typed with ASCII / Latin-1 codes in visual order) ---
_LIMON_SYMBOLS = set("®þñµü¶Ñ³¼½¾§©«»¬¯°±²´·¸¹º¿ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÒÓÔÕÖ×ØÙÚÛÜÝÞßàáâãäåæçèêëìíîïðòóôõö÷øùúûý")
_LIMON_PREBASE = re.compile(r"(?:^|\s)[eEé][kxKXgcqCQjdzDZNtfTFnbpBPmyrlvshLG]")
_LIMON_MIXED_CASE = re.compile(r"[a-z][A-Z]|[A-Z][A-Z][a-z]|^[a-z]+[A-Z]")
_LIMON_PUNCT = re.compile(r"[;:‘]")


def looks_like_limon(text: str) -> bool:
    """True when a value that should be Khmer is Limon-font ASCII (e.g. 'sux' for សុខ).

    Why a heuristic: the font name is lost in CSV exports; what remains is ASCII or Latin-1 in
    visual order, with pre-base vowels (e, E, é) before consonants and Latin-1 subscripts.
    """
    if not text or has_khmer(text) or not any(c.isalpha() for c in text):
        return False
    if any(c in _LIMON_SYMBOLS for c in text):
        return True
    if _LIMON_PUNCT.search(text):
        return True
    tokens = text.split()
    if all(
        t[:1].isupper() and (t[1:].islower() or t[1:] == "") for t in tokens if t.isalpha()
    ) and not _LIMON_PREBASE.search(text):
        return False  # "Sok Dara": a romanised name typed in a Khmer column
    if text.isupper() and not _LIMON_PREBASE.search(text):
        return False
    return bool(_LIMON_PREBASE.search(text) or _LIMON_MIXED_CASE.search(text) or text.islower())


# Limon (S1/F1 family) codes -> Unicode, after the danhhong/limon_unicode_converter table.
_LIMON_CONSONANTS = dict(
    zip(
        "kxKXgcqCQjdzDZNtfTFnbpBPmyrlvshLG",
        "កខគឃងចឆជឈញដឋឌឍណតថទធនបផពភមយរលវសហឡអ",
        strict=True,
    )
)
_LIMON_SIGNS = {
    "a": "\u17b6", "i": "\u17b7", "I": "\u17b8", "w": "\u17b9", "W": "\u17ba", "u": "\u17bb",
    "U": "\u17bc", "Y": "\u17bd", "M": "\u17c6", "H": "\u17c7", ";": "\u17cb", "‘": "\u17ca",
    ":": "\u17c9", "³": "\u17c8",
}  # fmt: skip
_LIMON_PREBASE_VOWELS = {"e": "\u17c1", "E": "\u17c2", "é": "\u17c3"}
_LIMON_SUBSCRIPTS = {
    "þ": "\u17d2ត", "ñ": "\u17d2ន", "µ": "\u17d2ម", "ü": "\u17d2យ", "®": "\u17d2រ", "Ñ": "\u17d2ណ",
    "¶": "\u17d2ដ", "§": "\u17d2ក", "©": "\u17d2ស", "«": "\u17d2ល", "¬": "\u17d2ច", "¾": "\u17d2ប",
}  # fmt: skip


def limon_to_unicode(text: str) -> str | None:
    """Convert Limon-typed Khmer (visual order) to normalised Unicode; None if unreadable.

    Pre-base vowels (e, E, é) and a coeng-RO typed as a leading 'R' come before the
    consonant they belong to; they are moved after its cluster. Limon variants differ, so
    callers check the result against known names before trusting it.
    """
    out: list[str] = []
    for word in text.split():
        chars = list(word)
        res: list[str] = []
        pre: list[str] = []
        ro = False
        i = 0
        while i < len(chars):
            ch = chars[i]
            if ch in _LIMON_PREBASE_VOWELS:
                pre.append(_LIMON_PREBASE_VOWELS[ch])
            elif ch == "R" and i + 1 < len(chars) and chars[i + 1] in _LIMON_CONSONANTS:
                ro = True
            elif ch in _LIMON_CONSONANTS:
                cluster = [_LIMON_CONSONANTS[ch]]
                while i + 1 < len(chars) and chars[i + 1] in _LIMON_SUBSCRIPTS:
                    i += 1
                    cluster.append(_LIMON_SUBSCRIPTS[chars[i]])
                if ro:
                    cluster.append("\u17d2រ")
                    ro = False
                res.extend(cluster + pre)
                pre = []
            elif ch in _LIMON_SIGNS:
                res.append(_LIMON_SIGNS[ch])
            elif ch in _LIMON_SUBSCRIPTS:
                res.append(_LIMON_SUBSCRIPTS[ch])
            else:
                return None
            i += 1
        if pre or ro:
            return None
        out.append("".join(res))
    converted = normalise_khmer(" ".join(out))
    return converted or None
