"""A pair of frame positions as one int64 (left * n + right), for sorting and searching.

Why a function: at a million records there are twenty million candidate pairs, and the
plain expression `left.astype(np.int64) * n + right` holds two 166 MB temporaries at once;
this one is made in place, so coding the pairs costs only the codes themselves.
"""

from __future__ import annotations

import numpy as np


def pair_codes(left: np.ndarray, right: np.ndarray, n: int) -> np.ndarray:
    """Each (left, right) pair of an n-record frame as left * n + right (int64)."""
    codes = np.array(left, dtype=np.int64, copy=True)
    codes *= n
    codes += right
    return codes
