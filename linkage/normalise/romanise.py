"""Khmer script to the Latin spelling Cambodian lists use (Sok, Chea, Nguon, Sambath).

Why our own: no library gives conventional name spellings for every cluster, and none
without heavy native dependencies. Known names come from the name tables; the rest go
through a syllable-based transcription whose small errors the phonetic key absorbs.
"""

from __future__ import annotations

from functools import lru_cache

from linkage.normalise.khmer import COENG, has_khmer, normalise_khmer
from linkage.normalise.name_tables import khmer_to_latin_table

# consonant -> (onset, final, series) ; series "a" or "o"
CONSONANTS: dict[str, tuple[str, str, str]] = {
    "ក": ("k", "k", "a"),
    "ខ": ("kh", "k", "a"),
    "គ": ("k", "k", "o"),
    "ឃ": ("kh", "k", "o"),
    "ង": ("ng", "ng", "o"),
    "ច": ("ch", "ch", "a"),
    "ឆ": ("chh", "ch", "a"),
    "ជ": ("ch", "ch", "o"),
    "ឈ": ("chh", "ch", "o"),
    "ញ": ("nh", "nh", "o"),
    "ដ": ("d", "t", "a"),
    "ឋ": ("th", "th", "a"),
    "ឌ": ("d", "t", "o"),
    "ឍ": ("th", "th", "o"),
    "ណ": ("n", "n", "a"),
    "ត": ("t", "t", "a"),
    "ថ": ("th", "th", "a"),
    "ទ": ("t", "th", "o"),
    "ធ": ("th", "th", "o"),
    "ន": ("n", "n", "o"),
    "ប": ("b", "p", "a"),
    "ផ": ("ph", "p", "a"),
    "ព": ("p", "p", "o"),
    "ភ": ("ph", "p", "o"),
    "ម": ("m", "m", "o"),
    "យ": ("y", "y", "o"),
    "រ": ("r", "", "o"),
    "ល": ("l", "l", "o"),
    "វ": ("v", "v", "o"),
    "ស": ("s", "s", "a"),
    "ហ": ("h", "h", "a"),
    "ឡ": ("l", "l", "a"),
    "អ": ("", "", "a"),
}
INDEPENDENT = {
    "ឥ": "e",
    "ឦ": "ei",
    "ឧ": "o",
    "ឩ": "ou",
    "ឪ": "ov",
    "ឫ": "rue",
    "ឬ": "rue",
    "ឭ": "lue",
    "ឮ": "lue",
    "ឯ": "ae",
    "ឰ": "ai",
    "ឱ": "ao",
    "ឲ": "ao",
    "ឳ": "au",
    "ឣ": "a",
    "ឤ": "a",
}
# vowel sign(s) -> (open a-series, open o-series, before a final a-series, o-series)
VOWELS: dict[str, tuple[str, str, str, str]] = {
    "": ("a", "o", "a", "o"),
    "ា": ("a", "ea", "a", "ea"),
    "ិ": ("e", "i", "e", "i"),
    "ី": ("ei", "i", "ei", "i"),
    "ឹ": ("oe", "i", "oe", "i"),
    "ឺ": ("eu", "eu", "eu", "eu"),
    "ុ": ("o", "u", "o", "u"),
    "ូ": ("ou", "ou", "o", "ou"),
    "ួ": ("uo", "uo", "uo", "uo"),
    "ើ": ("aeu", "eu", "aeu", "eu"),
    "ឿ": ("oeu", "oeu", "oeu", "oeu"),
    "ៀ": ("ie", "ie", "ie", "ie"),
    "េ": ("e", "e", "e", "e"),
    "ែ": ("ae", "e", "ae", "e"),
    "ៃ": ("ai", "ey", "ai", "ey"),
    "ោ": ("ao", "o", "ao", "o"),
    "ៅ": ("au", "ov", "ao", "ov"),
    "ុំ": ("om", "um", "om", "um"),
    "ំ": ("am", "um", "am", "um"),
    "ាំ": ("am", "oam", "am", "oam"),
    "ះ": ("ah", "eah", "ah", "eah"),
    "ុះ": ("oh", "uh", "oh", "uh"),
    "េះ": ("eh", "eh", "eh", "eh"),
    "ោះ": ("aoh", "uoh", "aoh", "uoh"),
    "ាះ": ("ah", "eah", "ah", "eah"),
    "ៈ": ("ak", "eak", "ak", "eak"),
    "័": ("a", "ea", "a", "ea"),
}
SHIFTERS = {"៉": "a", "៊": "o"}  # muusikatoan makes o-series a-series; triisap the reverse
ONSET_SUBS = {"រ", "ល", "យ", "វ"}  # subscripts that form an onset cluster (ប្រ pr, ក្ល kl)
NASALS = {"n", "m", "ng", "nh"}
SILENT = {"៍", "៌", "៎", "៏"}
_BANTOC = "់"


def _clusters(word: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    i, n = 0, len(word)
    while i < n:
        ch = word[i]
        if ch in CONSONANTS or ch in INDEPENDENT:
            c = {"base": ch, "subs": "", "vowel": "", "shift": "", "bantoc": "", "silent": ""}
            i += 1
            while i < n:
                x = word[i]
                if x == COENG and i + 1 < n:
                    c["subs"] += word[i + 1]
                    i += 2
                elif x in SHIFTERS:
                    c["shift"] = x
                    i += 1
                elif x == _BANTOC:
                    c["bantoc"] = x
                    i += 1
                elif x in SILENT:
                    c["silent"] += x
                    i += 1
                elif "\u17b6" <= x <= "\u17c8" or x == "័":
                    c["vowel"] += x
                    i += 1
                else:
                    break
            out.append(c)
        else:
            i += 1
    return out


def _series(c: dict[str, str]) -> str:
    base = CONSONANTS.get(c["base"], ("", "", "a"))[2]
    if c["shift"]:
        return SHIFTERS[c["shift"]]
    for s in c["subs"]:  # a subscript o-series sonorant after an a-series base keeps a-series
        if s in CONSONANTS and base == "a":
            break
    return base


def _has_vowel(c: dict[str, str]) -> bool:
    return c["base"] in INDEPENDENT or bool(c["vowel"])


def _onset(c: dict[str, str], with_base: bool = True) -> str:
    base = c["base"]
    head = ""
    if with_base:
        head = "p" if base == "ប" and c["shift"] == "៉" else CONSONANTS[base][0]
    return head + "".join(CONSONANTS.get(s, ("", "", ""))[0] for s in c["subs"] if s != base)


def _roles(clusters: list[dict[str, str]]) -> list[str]:
    """Right to left: is each cluster a syllable head, a final, or a final+new head (split)?"""
    n = len(clusters)
    roles = ["syl"] * n
    for i in range(n - 1, -1, -1):
        c = clusters[i]
        distinct_subs = any(s != c["base"] for s in c["subs"])
        if i > 0 and distinct_subs and not set(c["subs"]) & ONSET_SUBS and _has_vowel(c):
            roles[i] = "split"  # ភក្តី: ក closes the syllable before, ត opens the next
            continue
        if _has_vowel(c) or i == 0 or c["base"] == "អ":
            continue
        if distinct_subs and i < n - 1:
            roles[i] = "split"
        elif i == n - 1 or roles[i + 1] == "syl" and _has_vowel(clusters[i - 1]):
            roles[i] = "final"
    return roles


def _transcribe(word: str) -> str:
    clusters = [c for c in _clusters(word) if "៍" not in c["silent"] and "៌" not in c["silent"]]
    if len(clusters) > 1 and clusters[-1]["vowel"] == "ិ" and clusters[-1]["base"] in CONSONANTS:
        clusters[-1]["vowel"] = ""  # Pali final -i is not pronounced: សម្បត្តិ Sambath
    roles = _roles(clusters)
    syllables: list[list[str]] = []  # [onset, vowel key, series, final]
    for c, role in zip(clusters, roles, strict=True):
        if c["base"] in INDEPENDENT:
            syllables.append(["", "=" + INDEPENDENT[c["base"]], "a", ""])
            continue
        key = c["vowel"] if c["vowel"] in VOWELS else c["vowel"][:1]
        if role in ("final", "split") and syllables:
            syllables[-1][3] = CONSONANTS[c["base"]][1]
            if role == "split":
                syllables.append([_onset(c, with_base=False), key, _series(c), ""])
            continue
        if c["base"] in c["subs"] and syllables and not syllables[-1][3]:
            syllables[-1][3] = CONSONANTS[c["base"]][1]  # a doubled consonant closes the syllable
        syllables.append([_onset(c), key, _series(c), ""])
    out = []
    for onset, key, series, final in syllables:
        if key.startswith("="):
            vowel = key[1:]
        else:
            forms = VOWELS.get(key, VOWELS[""])
            vowel = forms[(0 if series == "a" else 1) + (2 if final else 0)]
            if not key and final in NASALS:
                vowel = "o"  # សន Son/Sorn, ខន Khon/Khorn
        out.append(onset + vowel + final)
    text = "".join(out)
    for a, b in (("thth", "th"), ("chch", "ch"), ("nhnh", "nh"), ("tth", "th"), ("dth", "th"), ("kk", "k")):
        text = text.replace(a, b)
    return text


@lru_cache(maxsize=100_000)
def romanise_word(word: str) -> str:
    """One Khmer word (no spaces) to its conventional Latin spelling, title-cased."""
    word = normalise_khmer(word)
    known = khmer_to_latin_table().get(word)
    if known:
        return known
    latin = _transcribe(word)
    return latin[:1].upper() + latin[1:] if latin else ""


def romanise(text: str | None) -> str | None:
    """Romanise a Khmer name (words separated by spaces); Latin text passes through."""
    if not text:
        return text
    if not has_khmer(text):
        return text
    return " ".join(w for w in (romanise_word(t) for t in normalise_khmer(text).split()) if w)
