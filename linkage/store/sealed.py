"""Records opened for comparison: the one store function the linker reads personal fields by.

Why one function: the linker is the only step besides exports that needs survivors' values
in clear (to compare candidate pairs); their columns open here, by the store's data key
(linkage/seal/types.py), and nowhere else in linkage/match.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection, LargeBinary, Select, type_coerce

from linkage.seal.types import Sealed

# Rows fetched, opened and interned at once: bounds the stored tokens and driver rows held.
_CHUNK_ROWS = 100_000


def read_records_frame(conn: Connection, stmt: Select, share: bool = True) -> pd.DataFrame:
    """The rows of `stmt` as a frame, sealed columns opened (the keyring of the session);
    with share=False, equal values are not made one object (a read of a few thousand rows,
    whose values die with its frame, where sharing cost a fifth of the read).

    Why not pd.read_sql of `stmt` as it is: SQLAlchemy would open each sealed value through
    its result processor, one call after another; read as stored (bytes, or text sealed
    before migration 0018), each sealed column is opened in one pass (Sealed.open_column),
    the same values at about half the cost.
    Why in chunks, each value once: a million records read at once held every driver row,
    every sealed token and every opened value as its own Python object (2.3 GiB at 981,187
    records); a chunk at a time, with equal texts and dates shared by one object per
    column (names, places, dates and sources repeat), the frame is what is left. The frame
    is built as pd.read_sql builds it (DataFrame.from_records with coerce_float), so its
    values and dtypes are the same.
    """
    sealed = {c.key: c.type for c in stmt.selected_columns if isinstance(c.type, Sealed)}
    as_stored = [
        type_coerce(c, LargeBinary).label(c.key) if c.key in sealed else c for c in stmt.selected_columns
    ]
    query = stmt.with_only_columns(*as_stored, maintain_column_froms=True) if sealed else stmt
    result = conn.execute(query)
    columns = list(result.keys())
    opens = [(columns.index(name), kind) for name, kind in sealed.items()]
    seen: list[dict[Any, Any]] = [{} for _ in columns]
    rows: list[tuple[Any, ...]] = []
    while chunk := result.fetchmany(_CHUNK_ROWS):
        values = [list(v) for v in zip(*chunk, strict=True)]
        del chunk
        for i, kind in opens:
            values[i] = kind.open_column(values[i])
        if share:
            values = [_shared(v, s) for v, s in zip(values, seen, strict=True)]
        rows.extend(zip(*values, strict=True))
    del seen
    return pd.DataFrame.from_records(rows, columns=columns, coerce_float=True)


def _shared(values: list[Any], seen: dict[Any, Any]) -> list[Any]:
    """Equal texts and dates as one object (numbers and None as they are)."""
    keep = seen.setdefault
    return [keep(v, v) if v.__class__ is not float and v is not None else v for v in values]
