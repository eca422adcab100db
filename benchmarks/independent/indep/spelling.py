"""How one Khmer name comes out in writing: Latin romanisations, typing slips, Khmer-script slips.

Why: every organisation romanises by ear, and clerks type Khmer on phones and old keyboards.
The rules below are the habits a reader of Cambodian lists sees (Chh/Ch, ea/ia, o/au,
doubled letters, a final h, an r before a final nasal, compound names split or joined),
applied at random so that one man's name has many spellings across lists.
"""

from __future__ import annotations

import random
import re

# (pattern, replacements): each rule fires with the record's per-rule chance.
_LATIN_RULES: list[tuple[str, list[str]]] = [
    (r"^chh", ["ch"]),
    (r"^ch(?!h)", ["chh"]),
    (r"ea", ["ia", "e", "eah"]),
    (r"ia", ["ea"]),
    (r"ou", ["o", "u", "au"]),
    (r"(?<![aeiou])o(?![uer])", ["au", "ou"]),
    (r"(?<![aeiou])u(?![aeior])", ["ou", "o"]),
    (r"uo", ["ou", "ua"]),
    (r"oeu", ["eu", "oe", "oeur"]),
    (r"ae", ["e", "ai"]),
    (r"ey$", ["ei", "y", "i"]),
    (r"y$", ["i", "ey"]),
    (r"i$", ["y"]),
    (r"nn", ["n"]),
    (r"(?<!n)n$", ["nn", "nh"]),
    (r"tt", ["t"]),
    (r"ll", ["l"]),
    (r"(?<=[aeiou])k$", ["kh", "ck", "c"]),
    (r"kh$", ["k"]),
    (r"(?<=[aeiou])th$", ["t"]),
    (r"(?<=[aeiou])t$", ["th", "tt"]),
    (r"(?<=[aeiou])ch$", ["tch", "c"]),
    (r"(?<=[aeo])n$", ["rn"]),
    (r"(?<=[o])m$", ["rm"]),
    (r"rn$", ["n"]),
    (r"^ph", ["p"]),
    (r"^p(?!h)", ["ph"]),
    (r"^th", ["t"]),
    (r"^kh", ["k"]),
    (r"v", ["w"]),
]

_KEYBOARD_NEIGHBOURS = {
    "a": "sq", "s": "adw", "d": "sfe", "f": "dgr", "g": "fht", "h": "gjy", "j": "hku",
    "k": "jli", "l": "ko", "o": "ip", "i": "uo", "u": "yi", "y": "tu", "t": "ry", "r": "et",
    "e": "wr", "n": "bm", "m": "n", "b": "vn", "v": "cb", "c": "xv", "p": "o",
}


def romanise_variant(word: str, rng: random.Random, per_rule: float) -> str:
    """One writer's spelling of a romanised word: each known habit fires with chance per_rule."""
    low = word.lower()
    for pattern, repl in _LATIN_RULES:
        if rng.random() < per_rule and re.search(pattern, low):
            low = re.sub(pattern, rng.choice(repl), low, count=1)
    return low


def latin_typo(word: str, rng: random.Random) -> str:
    """A slip of the fingers: a letter dropped, doubled, swapped with its neighbour or a key off."""
    if len(word) < 3:
        return word + word[-1]
    i = rng.randrange(1, len(word))
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    if kind == 2 and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    ch = word[i].lower()
    near = _KEYBOARD_NEIGHBOURS.get(ch)
    if not near:
        return word[:i] + word[i + 1 :]
    return word[:i] + rng.choice(near) + word[i + 1 :]


def split_compound(given: str, syllables: list[str], rng: random.Random) -> tuple[str, str]:
    """Write a compound given name joined, split by a space, or hyphenated; says which."""
    if len(syllables) < 2:
        return given, "joined"
    how = rng.choice(["space", "hyphen", "space"])
    sep = " " if how == "space" else "-"
    return sep.join(s.capitalize() for s in syllables), how


# Khmer script: what a clerk's slip or another font's encoding does to a name.
COENG = "\u17d2"
_VOWEL_SWAPS = {"\u17bb": "\u17bc", "\u17bc": "\u17bb", "\u17b7": "\u17b8", "\u17b8": "\u17b7",
                "\u17c1": "\u17c2", "\u17c2": "\u17c1", "\u17b9": "\u17ba", "\u17ba": "\u17b9"}
# Letters that sound alike or look alike in common fonts, typed for each other.
_KHMER_LOOKALIKE = {"ត": "ដ", "ដ": "ត", "ព": "ភ", "ភ": "ព", "ទ": "ធ", "ធ": "ទ", "ន": "ណ", "ណ": "ន",
                    "ល": "ឡ", "ឡ": "ល", "ឃ": "ឈ", "ឈ": "ឃ"}
_SHIFTERS = "\u17c9\u17ca"
_ZWSP = "\u200b"


def khmer_typo(text: str, rng: random.Random) -> tuple[str, str]:
    """One slip in a Khmer name, and its kind (for the truth file's tags)."""
    kinds = []
    if COENG + "ដ" in text or COENG + "ត" in text:
        kinds.append("coeng_da_ta")
    if COENG in text:
        kinds.append("subscript_dropped")
    if any(v in text for v in _VOWEL_SWAPS):
        kinds.append("vowel_sign")
    if any(c in text for c in _KHMER_LOOKALIKE):
        kinds.append("lookalike_letter")
    if any(c in text for c in _SHIFTERS):
        kinds.append("shifter_dropped")
    if "\u17c4" in text or "\u17be" in text:
        kinds.append("split_vowel")
    if not kinds or rng.random() < 0.2:
        kinds = ["zero_width_space"]  # invisible, and removed by any careful reader: kept rare
    kind = rng.choice(kinds)
    if kind == "coeng_da_ta":
        return text.replace(COENG + "ដ", COENG + "\x00").replace(COENG + "ត", COENG + "ដ").replace(
            COENG + "\x00", COENG + "ត"
        ), kind
    if kind == "subscript_dropped":
        i = text.index(COENG)
        return text[:i] + text[i + 2 :], kind
    if kind == "vowel_sign":
        idx = [i for i, c in enumerate(text) if c in _VOWEL_SWAPS]
        i = rng.choice(idx)
        return text[:i] + _VOWEL_SWAPS[text[i]] + text[i + 1 :], kind
    if kind == "lookalike_letter":
        idx = [i for i, c in enumerate(text) if c in _KHMER_LOOKALIKE]
        i = rng.choice(idx)
        return text[:i] + _KHMER_LOOKALIKE[text[i]] + text[i + 1 :], kind
    if kind == "shifter_dropped":
        return "".join(c for c in text if c not in _SHIFTERS), kind
    if kind == "split_vowel":
        return text.replace("\u17c4", "\u17c1\u17b6").replace("\u17be", "\u17c1\u17b8"), kind
    i = rng.randrange(1, len(text)) if len(text) > 1 else 1
    return text[:i] + _ZWSP + text[i:], kind


KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")


def khmer_digits(text: str) -> str:
    """The same number in Khmer digits, as ministry clerks often type them."""
    return text.translate(KHMER_DIGITS)
