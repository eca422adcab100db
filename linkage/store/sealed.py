"""Records opened for comparison: the one store function the linker reads personal fields by.

Why one function: the linker is the only step besides exports that needs survivors' values
in clear (to compare candidate pairs); their columns open here, by the store's data key
(linkage/seal/types.py), and nowhere else in linkage/match.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, Select


def read_records_frame(conn: Connection, stmt: Select) -> pd.DataFrame:
    """The rows of `stmt` as a frame, sealed columns opened (the keyring of the session)."""
    return pd.read_sql(stmt, conn)
