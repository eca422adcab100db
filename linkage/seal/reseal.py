"""Rewrite every sealed value of a store: seal what is clear, re-seal under a new data key,
or open everything (a downgrade). In batches by primary key, each batch committed on its own
when asked, so an interrupted rotation goes on where it stopped: what is done is known from
the values themselves (each names its data key).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from linkage.privacy import PERSONAL_COLUMNS
from linkage.seal import cipher

# (table -> columns): every personal column of linkage/privacy.py, which the models seal
SEALED_COLUMNS: dict[str, tuple[str, ...]] = PERSONAL_COLUMNS
# a table's primary key, where it is not `id`
_KEYS = {"delivery": "sha256", "record_frame": "record_id"}
BATCH = 2_000

# A value transform: (table, column, value as stored) -> the new stored value, or None to
# leave it. As stored: text (clear, or sealed before 0018) or bytes (sealed since 0018;
# on PostgreSQL since 0018 also the bytes of s1: text)
Transform = Callable[[str, str, Any], Any]


@dataclass
class Counts:
    rows: int = 0
    values: int = 0


def _batches(conn: Connection, table: str, columns: tuple[str, ...]) -> Iterator[list[sa.Row]]:
    key = _KEYS.get(table, "id")
    cols = ", ".join(f'"{c}"' for c in columns)
    last = None
    while True:
        after = "" if last is None else f'WHERE "{key}" > :last '
        rows = list(
            conn.execute(
                sa.text(f'SELECT "{key}", {cols} FROM "{table}" {after}ORDER BY "{key}" LIMIT {BATCH}'),
                {"last": last},
            )
        )
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def rewrite(
    conn: Connection,
    transform: Transform,
    commit: Callable[[], None] | None = None,
    tables: dict[str, tuple[str, ...]] | None = None,
) -> Counts:
    """Apply `transform` to every sealed column's value (or only `tables`' columns: what a
    migration seals is frozen in it); `commit` after each batch, if given."""
    counts = Counts()
    for table, columns in (SEALED_COLUMNS if tables is None else tables).items():
        key = _KEYS.get(table, "id")
        for rows in _batches(conn, table, columns):
            updates = []
            for row in rows:
                new = {}
                for column, value in zip(columns, row[1:], strict=True):
                    if value is None:
                        continue
                    if not isinstance(value, str | bytes):  # a number SQLite kept in a text column
                        value = bytes(value) if isinstance(value, memoryview) else str(value)
                    changed = transform(table, column, value)
                    if changed is not None:
                        new[column] = changed
                if new:
                    updates.append((row[0], new))
            for row_id, new in updates:
                sets = ", ".join(f'"{c}" = :{c}' for c in new)
                conn.execute(
                    sa.text(f'UPDATE "{table}" SET {sets} WHERE "{key}" = :_id'), {"_id": row_id, **new}
                )
                counts.rows += 1
                counts.values += len(new)
            if commit is not None:
                commit()
    return counts


def is_sealed(value: cipher.Stored) -> bool:
    return cipher.key_id_of(value) is not None
