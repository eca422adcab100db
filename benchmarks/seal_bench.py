"""What sealing costs (not a test): ingest, reading records for comparison, and a full link
with every store write, in wall and CPU seconds, on lists generated once and kept.

Run it with this tree and with a tree from before sealing (the same script, its own code on
PYTHONPATH), one after the other, several times: on a machine shared with other work the CPU
seconds of the process move less than the wall clock.

    .venv/bin/python benchmarks/seal_bench.py --persons 100000 --lists /tmp/l100k
    PYTHONPATH=/old/tree .venv/bin/python benchmarks/seal_bench.py --persons 100000 --lists /tmp/l100k

Or, without an old tree: `--unsealed` runs this tree with sealing switched off in the bench's
own process (every Sealed column stores its plain text, the archive its plain bytes), so the
difference is the sealing alone and not whatever else changed since. Blind indexes and record
keys are keyed either way (the same hash with another key). A tree before migration 0018 on
PYTHONPATH seals as s1: text; this one as bytes. At a million records, lists of the independent
generator (benchmarks/independent/generate.py --records 1000000 --seed 7 -o DIR) with
SURVIVOR_LINK_DATA_DOCS=0 and --lists DIR.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _unseal() -> None:
    """Sealing off in this process: a Sealed column stores its text as it would be sealed
    (the same serialisation, no cipher; a text column its text as it is, as a plain Text
    column did before sealing), the archive a file's bytes."""
    from linkage.seal import archive, types

    def bind(self: types.Sealed, value: object, dialect: object) -> str | None:
        return None if value is None else self.to_bytes(value).decode("utf-8", "surrogatepass")

    def result(self: types.Sealed, value: str | None, dialect: object) -> object:
        if value is None or isinstance(self, types.SealedText):
            return value
        return self.from_bytes(value.encode("utf-8", "surrogatepass"))

    def column(self: types.Sealed, values: list[object], dialect: object) -> list[object]:
        if isinstance(self, types.SealedText):
            return [v if v is None or v.__class__ is str else str(v) for v in values]
        return [bind(self, v, dialect) for v in values]

    def opened(self: types.Sealed, values: list[str | None]) -> list[object]:
        if isinstance(self, types.SealedText):
            return values
        return [result(self, v, None) for v in values]

    types.Sealed.process_bind_param = bind  # type: ignore[method-assign]
    types.Sealed.seal_column = column  # type: ignore[method-assign]
    types.Sealed.open_column = opened  # type: ignore[method-assign]
    types.Sealed.process_result_value = result  # type: ignore[method-assign]
    archive.seal_blob = lambda _ring, _name, data: data
    archive.open_blob = lambda _ring, _name, blob: blob


def _records_reader():  # type: ignore[no-untyped-def]
    """What the linker reads records by; in a tree from before sealing, pandas' read_sql."""
    try:
        from linkage.store.sealed import read_records_frame
    except ImportError:
        import pandas as pd

        return lambda conn, stmt: pd.read_sql(stmt, conn)
    return read_records_frame


class Lap:
    """Wall and CPU seconds of a block."""

    def __enter__(self) -> Lap:
        self.wall, self.cpu = time.perf_counter(), _cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, _cpu() - self.cpu


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--persons", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--lists", type=Path, required=True, help="where the generated lists are kept")
    p.add_argument("--link", action="store_true", help="also a full link with every store write")
    p.add_argument("--unsealed", action="store_true", help="this tree with sealing switched off")
    args = p.parse_args()
    if args.unsealed:
        _unseal()

    from sqlalchemy import select

    import linkage
    from linkage.ingest.load import Ingestor
    from linkage.ingest.validate import warm_up
    from linkage.match.frame import RECORD_COLUMNS
    from linkage.settings import load_settings
    from linkage.store.db import migrate, session_scope
    from linkage.store.models import Record

    read_records_frame = _records_reader()

    from linkage.synth.writers import generate

    if not (args.lists / "landing").exists():
        generate(args.lists, args.persons, args.seed)
    files = sorted((args.lists / "landing").rglob("*.*"))
    sealed = (Path(linkage.__file__).parent / "seal").exists() and not args.unsealed
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(home=Path(tmp) / "home", db_url="")
        migrate(settings)
        warm_up()
        rows = 0
        with Lap() as ingest, Ingestor(settings) as ingestor:
            for f in files:
                rows += ingestor.ingest_path(f).rows_read
        with Lap() as read, session_scope(settings) as s:
            frame = read_records_frame(s.connection(), select(*(getattr(Record, c) for c in RECORD_COLUMNS)))
        out = {
            "code": "sealed" if sealed else ("sealing off" if args.unsealed else "before sealing"),
            "rows": rows,
            "ingest_s": round(ingest.wall, 2),
            "ingest_cpu_s": round(ingest.cpu, 2),
            "ingest_rows_per_s": round(rows / ingest.wall),
            "ingest_rows_per_cpu_s": round(rows / ingest.cpu),
            "read_records": len(frame),
            "read_s": round(read.wall, 2),
            "read_cpu_s": round(read.cpu, 2),
        }
        if args.link:
            from linkage.match.linker import link

            with Lap() as linked:
                link(settings)
            out.update(link_s=round(linked.wall, 1), link_cpu_s=round(linked.cpu, 1))
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
