"""Text that can be stored and shown whatever bytes a sender's file held.

Why: a header or file name decoded with surrogateescape keeps lone surrogates, which
neither SQLite's driver nor PostgreSQL can store and a terminal cannot print; a NUL
character cannot be stored in a PostgreSQL text column. The exact bytes stay in the archive;
what we store and show gets a visible replacement mark instead.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile(r"[\ud800-\udfff\x00]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
LABEL_MAX = 60


def has_unstorable(text: str) -> bool:
    """Lone surrogates (bytes that were not UTF-8) or NUL characters in text."""
    return bool(_UNSTORABLE.search(text))


def storable(text: str) -> str:
    """Lone surrogates and NUL characters replaced by U+FFFD; other text unchanged."""
    return _UNSTORABLE.sub(REPLACEMENT, text) if not text.isascii() or "\x00" in text else text


def os_name(name: str) -> str:
    """A file name as the OS gave it (undecodable bytes as surrogates) made storable:
    bytes that are not UTF-8 become U+FFFD."""
    try:
        raw = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # surrogates that do not stand for bytes
        return storable(name)
    return storable(raw.decode("utf-8", "replace"))


def label(text: str, limit: int = LABEL_MAX) -> str:
    """One line of text for a table or a reason: storable, no control or direction
    characters, runs of space collapsed, at most `limit` characters."""
    s = _CONTROL.sub(" ", storable(text))
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"
