"""Capture-history tables: how many people are on exactly each combination of lists.

Why a table of its own: multiple systems estimation needs nothing else. Every pattern of
lists (IOM only, IOM and MoSVY, ...) is a cell with a count; the cell of people on no list
is the one the model estimates. Patterns nobody has are cells with count zero, and the model
must see them, so `full()` lists every pattern but the empty one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

COUNT_COLUMNS = ("count", "n", "freq", "Freq")


class TableError(ValueError):
    """A capture-history table that cannot be read or used, with why."""


@dataclass(frozen=True)
class CaptureTable:
    """One row per capture pattern: `patterns` is 0/1 (rows x lists), `counts` per row."""

    lists: tuple[str, ...]
    patterns: np.ndarray
    counts: np.ndarray

    @property
    def listed(self) -> int:
        """People on at least one list."""
        return int(self.counts.sum())

    def full(self) -> CaptureTable:
        """Every pattern except the all-zero one, observed or not, in a fixed order."""
        m = len(self.lists)
        order = sorted(itertools.product((0, 1), repeat=m), key=lambda p: (sum(p), p[::-1]))
        allp = np.array([p for p in order if any(p)], dtype=np.int8).reshape(-1, m)
        codes = allp @ (1 << np.arange(m))
        index = {int(c): i for i, c in enumerate(codes)}
        counts = np.zeros(len(allp), dtype=np.int64)
        for row, n in zip(self.patterns @ (1 << np.arange(m)), self.counts, strict=True):
            if int(row) == 0:
                continue
            counts[index[int(row)]] += int(n)
        return CaptureTable(self.lists, allp, counts)

    def observed(self) -> CaptureTable:
        """Only the patterns somebody has (what a bootstrap resamples)."""
        t = self.full()
        keep = t.counts > 0
        return CaptureTable(t.lists, t.patterns[keep], t.counts[keep])

    def with_counts(self, counts: np.ndarray) -> CaptureTable:
        return CaptureTable(self.lists, self.patterns, np.asarray(counts, dtype=np.int64))

    def overlap(self, i: int, j: int) -> int:
        """People on both list i and list j (whatever other lists they are on)."""
        return int((self.patterns[:, i] * self.patterns[:, j] * self.counts).sum())

    def informative(self) -> CaptureTable:
        """Drop lists that hold nobody or everybody, and lists that repeat another list.

        Such a list says nothing about who is missing, and leaves the model unidentifiable.
        """
        t = self.observed()
        keep: list[int] = []
        seen: set[bytes] = set()
        on = t.patterns.T @ t.counts
        for k in range(len(t.lists)):
            col = t.patterns[:, k]
            if on[k] == 0 or on[k] == t.listed or col.tobytes() in seen:
                continue
            seen.add(col.tobytes())
            keep.append(k)
        pats = t.patterns[:, keep]
        on_any = pats.any(axis=1)
        return CaptureTable(tuple(t.lists[k] for k in keep), pats[on_any], t.counts[on_any])

    def to_frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.patterns, columns=list(self.lists))
        df["count"] = self.counts
        return df


def from_frame(df: pd.DataFrame) -> CaptureTable:
    """A table from 0/1 columns and one count column (`count`, `n`, `freq`); else the last column."""
    count_col = next((c for c in COUNT_COLUMNS if c in df.columns), df.columns[-1])
    lists = [c for c in df.columns if c != count_col]
    if not lists:
        raise TableError("the table has no list columns, only a count")
    pats = df[lists].apply(pd.to_numeric, errors="coerce")
    counts = pd.to_numeric(df[count_col], errors="coerce")
    if pats.isna().any().any() or not pats.isin([0, 1]).all().all():
        raise TableError("list columns must hold 0 or 1 in every row")
    if counts.isna().any() or (counts < 0).any() or (counts != counts.round()).any():
        raise TableError(f"the count column '{count_col}' must hold whole numbers of at least 0")
    return CaptureTable(
        tuple(str(c) for c in lists), pats.to_numpy(dtype=np.int8), counts.to_numpy(dtype=np.int64)
    )


def read_counts(path: Path) -> CaptureTable:
    """Read a capture-history CSV (0/1 columns per list, one count column)."""
    try:
        df = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise TableError(f"cannot read {path}: {exc.__class__.__name__}") from None
    return from_frame(df)


def from_memberships(lists_per_return: list[frozenset[str]] | pd.Series, lists: list[str]) -> CaptureTable:
    """A table from the set of lists each return is on (one entry per return)."""
    pats: dict[tuple[int, ...], int] = {}
    for held in lists_per_return:
        key = tuple(int(name in held) for name in lists)
        if any(key):
            pats[key] = pats.get(key, 0) + 1
    if not pats:
        return CaptureTable(tuple(lists), np.zeros((0, len(lists)), dtype=np.int8), np.zeros(0, np.int64))
    rows = sorted(pats)
    return CaptureTable(
        tuple(lists),
        np.array(rows, dtype=np.int8).reshape(-1, len(lists)),
        np.array([pats[r] for r in rows], dtype=np.int64),
    )
