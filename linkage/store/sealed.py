"""Records opened for comparison: the one store function the linker reads personal fields by.

Why one function: the linker is the only step besides exports that needs survivors' values
in clear (to compare candidate pairs); their columns open here, by the store's data key
(linkage/seal/types.py), and nowhere else in linkage/match.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, LargeBinary, Select, type_coerce

from linkage.seal.types import Sealed


def read_records_frame(conn: Connection, stmt: Select) -> pd.DataFrame:
    """The rows of `stmt` as a frame, sealed columns opened (the keyring of the session).

    Why not pd.read_sql of `stmt` as it is: SQLAlchemy would open each sealed value through
    its result processor, one call after another; read as stored (bytes, or text sealed
    before migration 0018), each sealed column is opened in one pass (Sealed.open_column),
    the same values at about half the cost.
    """
    sealed = {c.key: c.type for c in stmt.selected_columns if isinstance(c.type, Sealed)}
    if not sealed:
        return pd.read_sql(stmt, conn)
    columns = stmt.selected_columns
    as_stored = [type_coerce(c, LargeBinary).label(c.key) if c.key in sealed else c for c in columns]
    frame = pd.read_sql(stmt.with_only_columns(*as_stored, maintain_column_froms=True), conn)
    for name, kind in sealed.items():
        frame[name] = pd.Series(kind.open_column(frame[name].tolist()), index=frame.index, dtype=object)
    return frame
