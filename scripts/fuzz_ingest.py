"""Fuzz the ingest readers: no input may raise, reject with "internal_error", lose a row, or
leave a delivery claimed.

Why a harness of our own: the inputs that matter are lists as officers send them, damaged
in the ways files get damaged (bytes flipped or cut, quotes, NULs, other encodings, numbers
in date cells, hidden sheets), so the mutations start from synthetic lists and change them
in those ways. Three targets: `csv` and `xlsx` ingest whole mutated files into a real
SQLite store; `rows` maps random cells of every type through each source's row mapping.

    .venv/bin/python scripts/fuzz_ingest.py --target all --seconds 600 --seed 1

Prints, per target, the inputs tried, their outcomes, and every finding (an exception, an
internal-error rejection, rows not accounted for, a delivery left claimed) with the seed
and iteration that reproduce it. Exits 1 when there is a finding.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import logging
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TOKENS = [
    b'"',
    b'""',
    b"\x00",
    b"\x00" * 64,
    b"\r",
    b"\n",
    b"\r\n",
    b"\xff",
    b"\xfe\xff",
    b"\xc3",
    b"\xed\xa0\x80",  # an encoded surrogate
    b",",
    b";",
    b"\t",
    b"|",
    b"=SUM(A1)",
    b"+A1",
    b"@x",
    b"[/]",
    b"[bold]",
    b"\xef\xbb\xbf",
    b"\xe2\x80\x8b",
    b"\xe2\x80\xae",
    "១២៣".encode(),
    "ខ្មែរ".encode(),
    b"20250312",
    b"2025-03-12T10:00:00Z",
    b"99/99/9999",
    b"1e308",
    b"-0",
    b"x" * 140_000,
    b'"' + b"\n" * 3,
    b"PK\x03\x04",
    b"%PDF-",
]
ENCODINGS = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "cp1252", "utf-8-sig", "latin-1"]


@dataclass
class Tally:
    tried: int = 0
    outcomes: Counter = field(default_factory=Counter)
    findings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self, target: str) -> str:
        top = ", ".join(f"{k} {v}" for k, v in self.outcomes.most_common(8))
        return (
            f"{target}: {self.tried} inputs in {self.seconds:.0f} s, {len(self.findings)} findings; "
            f"outcomes: {top}"
        )


def seeds(folder: Path) -> dict[str, list[tuple[str, bytes]]]:
    """Synthetic lists of every source, as (source, bytes), by kind."""
    from linkage.synth.writers import generate

    generate(folder, persons=40, seed=5)
    out: dict[str, list[tuple[str, bytes]]] = {"csv": [], "xlsx": []}
    for path in sorted((folder / "landing").rglob("*.*")):
        kind = "xlsx" if path.suffix == ".xlsx" else "csv"
        out[kind].append((path.parent.name, path.read_bytes()))
    return out


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """One to four of: a byte flipped, a token put in, a range cut or doubled, the end cut,
    or the whole text in another encoding."""
    for _ in range(rng.randint(1, 4)):
        if not data:
            data = rng.choice(TOKENS)
            continue
        i = rng.randrange(len(data))
        j = min(len(data), i + rng.randint(1, 400))
        kind = rng.randrange(7)
        if kind == 0:
            data = data[:i] + bytes([rng.randrange(256)]) + data[i + 1 :]
        elif kind in (1, 2):
            data = data[:i] + rng.choice(TOKENS) + data[i:]
        elif kind == 3:
            data = data[:i] + data[j:]
        elif kind == 4:
            data = data[:j] + data[i:j] + data[j:]
        elif kind == 5:
            data = data[:i]
        else:
            text = data.decode("utf-8", "replace")
            data = text.encode(rng.choice(ENCODINGS), "replace")
    return data


def _random_cell(rng: random.Random) -> object:
    kind = rng.randrange(12)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([20250312, 19900101, 45000, 0, -1, 2958466, 10**18, 99999999])
    if kind == 2:
        return rng.choice([1e20, -1e-9, 45000.5, 0.5, 1e300])
    if kind == 3:
        return rng.choice([True, False])
    if kind == 4:
        return dt.datetime(rng.randint(1900, 2100), rng.randint(1, 12), rng.randint(1, 28), rng.randrange(24))
    if kind == 5:
        return dt.time(rng.randrange(24), rng.randrange(60))
    if kind == 6:
        return rng.choice(TOKENS).decode("utf-8", "replace")[:2000]
    if kind == 7:
        letters = [rng.choice([rng.randrange(32, 127), rng.randrange(0x1780, 0x17FF)]) for _ in range(12)]
        return "".join(map(chr, letters))
    if kind == 8:
        return rng.choice(["=1+1", "@SUM(A1)", "+855 12 345 678", "-", "#VALUE!", "#REF!", "n/a"])
    if kind == 9:
        return rng.choice(["12/03/1990", "31/02/2020", "2025-03-12T10:00:00Z", "12 មីនា 2015", "២០២៥"])
    if kind == 10:
        return "x" * rng.choice([40_000, 33_000, 5])
    return dt.timedelta(days=rng.randint(-5, 5)) if rng.random() < 0.5 else dt.date(2020, 1, 1)


def mutate_workbook(data: bytes, rng: random.Random) -> bytes:
    """Cells set to values of every type (some under a date format), rows dropped or
    doubled, sheets hidden or added; now and then the zip's own bytes damaged."""
    import openpyxl

    if rng.random() < 0.1:
        return mutate_bytes(data, rng)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    for _ in range(rng.randint(1, 12)):
        r, c = rng.randint(1, max(ws.max_row, 1) + 2), rng.randint(1, max(ws.max_column, 1) + 1)
        value = _random_cell(rng)
        if isinstance(value, str):
            value = "".join(ch for ch in value if ch >= " " or ch in "\t\n\r")  # what XML can hold
        try:
            cell = ws.cell(row=r, column=c, value=value)
        except (ValueError, TypeError):  # openpyxl refuses what a workbook cannot hold
            continue
        if rng.random() < 0.3:
            cell.number_format = rng.choice(["dd/mm/yyyy", "yyyy-mm-dd hh:mm", "[h]:mm", "0.00", "@"])
    if rng.random() < 0.2 and ws.max_row > 3:
        ws.delete_rows(rng.randint(1, ws.max_row), rng.randint(1, 3))
    if rng.random() < 0.15:
        copy = wb.copy_worksheet(ws)
        copy.sheet_state = rng.choice(["visible", "hidden", "veryHidden"])
    if rng.random() < 0.1:
        ws.sheet_state = "hidden"
        wb.create_sheet("visible")
    if rng.random() < 0.05:
        wb.epoch = dt.datetime(1904, 1, 1)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def check_file(ingestor, settings, source: str, data: bytes, name: str, tally: Tally, where: str) -> None:
    """Ingest one input; anything but an accounted-for result is a finding."""
    from sqlalchemy import select

    from linkage.store.db import session_scope
    from linkage.store.models import Delivery

    tally.tried += 1
    try:
        r = ingestor.ingest_bytes(data, name, source)
    except Exception as exc:  # noqa: BLE001 - what the fuzzer is looking for
        tally.findings.append(f"{where}: uncaught {type(exc).__name__}\n{traceback.format_exc(limit=6)}")
        return
    rule = (r.reason or "").split(":")[0] if r.status == "rejected" else ""
    tally.outcomes[f"{r.status}{' ' + rule[:40] if rule else ''}"] += 1
    failed = ("could not be read", "the store refused")  # our safety net caught a bug
    if r.status == "rejected" and r.reason and r.reason.startswith(failed):
        tally.findings.append(f"{where}: {r.reason}")
    if r.status == "ingested" and r.rows_loaded + r.rows_quarantined != r.rows_read:
        tally.findings.append(f"{where}: read {r.rows_read} != {r.rows_loaded} + {r.rows_quarantined}")
    with session_scope(settings) as s:
        status = s.scalar(select(Delivery.status).where(Delivery.sha256 == r.sha256))
    if status == "claimed":
        tally.findings.append(f"{where}: delivery left claimed")


def check_rows(mappings, rng: random.Random, tally: Tally, where: str) -> None:
    """Random cells through a source's row mapping: issues, never exceptions."""
    from linkage.ingest.canonical import RowMapper
    from linkage.ingest.readers import RawTable

    source = rng.choice(sorted(mappings))
    mapping = mappings[source]
    header = [rng.choice(aliases) for aliases in mapping.fields.values()]
    rng.shuffle(header)
    if rng.random() < 0.2:
        header.append(rng.choice(TOKENS).decode("utf-8", "surrogateescape")[:50])
    kind = rng.choice(["csv", "xlsx"])
    rows = []
    for line in range(2, 2 + rng.randint(1, 30)):
        width = len(header) + rng.choice([0, 0, 0, -2, 1])
        cells = [_random_cell(rng) for _ in range(max(width, 0))]
        if kind == "csv":
            cells = ["" if c is None else str(c) for c in cells]
        rows.append((line, cells))
    table = RawTable(header, rows, 1, "utf-8", kind)
    tally.tried += 1
    try:
        mapped = RowMapper(mapping, table, dt.date(2026, 12, 2)).map_rows(table.rows)
        assert len(mapped.lines) == len(rows)
        tally.outcomes["mapped"] += 1
    except Exception as exc:  # noqa: BLE001
        tally.findings.append(f"{where}: uncaught {type(exc).__name__}\n{traceback.format_exc(limit=6)}")


def run(
    targets: list[str],
    seconds: float,
    seed: int,
    say: Callable[[str], None] = print,
    at_least: int = 0,
) -> dict[str, Tally]:
    """Each target for `seconds` and `at_least` inputs (a busy machine's first file, which
    imports Great Expectations, can take longer than a short run); the tallies by target."""
    logging.disable(logging.ERROR)  # a rejected file logs; the tallies say what happened
    from linkage.ingest.load import Ingestor
    from linkage.settings import load_settings
    from linkage.sources import load_mappings
    from linkage.store.db import dispose_engines, migrate

    tallies: dict[str, Tally] = {}
    with tempfile.TemporaryDirectory(prefix="fuzz-ingest-") as tmp:
        folder = Path(tmp)
        settings = load_settings(home=folder / "home", db_url="", data_docs=False)
        migrate(settings)
        pool = seeds(folder / "seeds")
        mappings = load_mappings(settings.sources_dir)
        ingestor = Ingestor(settings)
        for target in targets:
            rng = random.Random(f"{seed}:{target}")
            tally = tallies[target] = Tally()
            start = time.monotonic()
            i = 0
            while time.monotonic() - start < seconds or i < at_least:
                where = f"--target {target} --seed {seed}, input {i}"
                if target == "rows":
                    check_rows(mappings, rng, tally, where)
                else:
                    source, data = rng.choice(pool[target])
                    mutated = mutate_bytes(data, rng) if target == "csv" else mutate_workbook(data, rng)
                    check_file(ingestor, settings, source, mutated, f"fuzz-{i}.{target}", tally, where)
                i += 1
            tally.seconds = time.monotonic() - start
            say(tally.line(target))
            for finding in tally.findings[:20]:
                say("  " + finding)
        dispose_engines()
    logging.disable(logging.NOTSET)
    return tallies


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", choices=["csv", "xlsx", "rows", "all"], default="all")
    p.add_argument("--seconds", type=float, default=600, help="per target")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    targets = ["csv", "xlsx", "rows"] if args.target == "all" else [args.target]
    tallies = run(targets, args.seconds, args.seed)
    return 1 if any(t.findings for t in tallies.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
