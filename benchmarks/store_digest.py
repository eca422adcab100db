"""A digest of what linking wrote into a SQLite store, table by table, timestamps aside.

    .venv/bin/python benchmarks/store_digest.py HOME [HOME ...]

Why: a change to how the linker holds or writes its data must not change which persons come
out. Two homes linked from the same records by two versions of the code print the same lines
when persons, aliases, person-record rows (with their events), return events, review pairs
and blocking keys are row for row the same. Prints counts and SHA-256 digests only.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from pathlib import Path

# table -> (columns compared, order); timestamps (created_at, updated_at, linked_at) aside
TABLES = {
    "person": ("person_id, status, merged_into, record_count", "person_id"),
    "person_alias": ("alias_id, person_id", "alias_id"),
    "person_record": ("record_id, person_id, event_id", "record_id"),
    "return_event": (
        "event_id, person_id, return_date, country, point_of_entry, record_count, status",
        "event_id",
    ),
    "candidate_pair": (
        "id, record_a, record_b, probability, weight, band, explanation, status, queue_value",
        "id",
    ),
    "blocking_key": ("key, record_id, probe, place", "key, record_id, probe"),
    "id_counter": ("name, next_value", "name"),
}


def digest(db: Path) -> dict[str, tuple[int, str]]:
    """Rows and SHA-256 of each table's compared columns, in a fixed order."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    out = {}
    for table, (cols, order) in TABLES.items():
        h, n = hashlib.sha256(), 0
        cur = con.execute(f"SELECT {cols} FROM {table} ORDER BY {order}")
        while rows := cur.fetchmany(100_000):
            h.update(repr(rows).encode())
            n += len(rows)
        out[table] = (n, h.hexdigest()[:16])
    con.close()
    return out


def main() -> None:
    for home in sys.argv[1:]:
        print(home)
        for table, (n, sha) in digest(Path(home) / "survivor-link.db").items():
            print(f"  {table:<15}{n:>12,}  {sha}")


if __name__ == "__main__":
    main()
