"""What the habit scripts (add_titles.py, join_names.py, shared_phone.py) share: copy a folder generate.py
wrote and change a share of one CSV column's cells in place, the file's BOM, header and line
ends kept, so that truth.csv still names the same records and men."""

from __future__ import annotations

import argparse
import csv
import io
import random
import shutil
from collections.abc import Callable
from pathlib import Path


def copy_lists(src: Path, dst: Path) -> Path:
    """A fresh copy of SRC at DST; returns DST's landing folder."""
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    return dst / "landing"


Change = Callable[[str, str, random.Random], str]  # (column, cell, rng) -> the new cell
RowChange = Callable[[dict[str, str], random.Random], None]  # (row, rng): edit the row in place


def rewrite_csv(path: Path, columns: list[str], change: Change, share: float, rng: random.Random) -> None:
    """Each filled cell of `columns`, at rate `share`, becomes change(column, cell, rng)."""

    def each_row(row: dict[str, str], rng: random.Random) -> None:
        for column in columns:
            if row.get(column) and rng.random() < share:
                row[column] = change(column, row[column], rng)

    rewrite_rows(path, each_row, rng)


def rewrite_rows(path: Path, change: RowChange, rng: random.Random) -> None:
    """change(row, rng) edits each row of the CSV in place (a habit that reads other cells of the row)."""
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        change(row, rng)
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode())


Apply = Callable[[Path, float, random.Random], None]  # (landing folder, share, rng): change it


def run(doc: str, default_share: float, apply: Apply, argv: list[str] | None) -> int:
    """A habit script's command line: SRC DST --share --seed; `apply` changes DST's landing folder."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--share", type=float, default=default_share)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    apply(copy_lists(args.src, args.dst), args.share, random.Random(args.seed))
    return 0
