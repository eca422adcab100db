"""Freed memory handed back to the system between a link's phases (glibc only).

Why: at a million records each phase of a link builds and drops gigabytes (the records'
strings, the key table, comparison arrays a chunk at a time), and glibc's malloc keeps what
Python and numpy free in its heap for reuse, while the next phase's big arrays come from
fresh mappings beside it: the resident memory grew by what earlier phases had dropped. On
the million-record benchmark `malloc_trim` gave back 1.0 GB after reading the stored
records and 1.5 GB after fitting. Arrays of over a megabyte are mapped on their own (a
fixed threshold instead of glibc's, which rises to 32 MB as big arrays are freed), so they
go back to the system the moment they are freed. Elsewhere than glibc both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
MAP_ABOVE = 1 << 20


@cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        libc.malloc_trim, libc.mallopt  # noqa: B018 (both exist only in glibc)
    except (OSError, AttributeError):
        return None
    return libc


def map_big_arrays(threshold: int = MAP_ABOVE) -> None:
    """Allocations over `threshold` bytes get mappings of their own from here on."""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, threshold)


def give_back() -> None:
    """Return the heap's free pages to the system (a few milliseconds)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
