"""A digest of what linking wrote into a SQLite store, table by table, timestamps aside.

    .venv/bin/python benchmarks/store_digest.py [--ingest] HOME [HOME ...]

Why: a change to how the linker holds or writes its data must not change which persons come
out. Two homes linked from the same records by two versions of the code print the same lines
when persons, aliases, person-record rows (with their events), return events, review pairs
and blocking keys are row for row the same. Prints counts and SHA-256 digests only.
With --ingest, also what ingest and flags wrote: deliveries, records, record versions,
quarantined rows (sealed values opened with each home's own keys, so two homes compare by
their values, not their ciphertexts) and flags. Record and blocking keys are keyed by the
store's blind key: to compare two runs, start both from copies of one fresh home (its keys).
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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


# table -> columns left out (timestamps)
INGEST_TABLES = {
    "delivery": ("received_at", "ingested_at", "linked_at"),
    "record": ("loaded_at",),
    "record_version": ("replaced_at",),
    "quarantine": ("created_at", "resolved_at"),
    "flag": ("updated_at",),
}


def ingest_digest(home: Path) -> dict[str, tuple[int, str]]:
    """Rows and SHA-256 of what ingest and flags wrote, sealed values opened."""
    from sqlalchemy import select

    from linkage.settings import load_settings
    from linkage.store.db import session_scope
    from linkage.store.models import Base
    from linkage.store.sealed import read_records_frame

    out = {}
    with session_scope(load_settings(home=home, db_url="")) as s:
        for name, left_out in INGEST_TABLES.items():
            table = Base.metadata.tables[name]
            cols = [c for c in table.columns if c.name not in left_out]
            key = table.c.get("id", table.c.get("sha256"))
            frame = read_records_frame(s.connection(), select(*cols).order_by(key), share=False)
            h = hashlib.sha256()
            for row in frame.itertuples(index=False, name=None):
                h.update(repr(row).encode())
            out[name] = (len(frame), h.hexdigest()[:16])
    return out


def main() -> None:
    args = sys.argv[1:]
    with_ingest = "--ingest" in args
    for home in (a for a in args if a != "--ingest"):
        print(home)
        for table, (n, sha) in digest(Path(home) / "survivor-link.db").items():
            print(f"  {table:<15}{n:>12,}  {sha}")
        if with_ingest:
            for table, (n, sha) in ingest_digest(Path(home)).items():
                print(f"  {table:<15}{n:>12,}  {sha}")


if __name__ == "__main__":
    main()
