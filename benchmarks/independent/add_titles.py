"""Copy a folder generate.py wrote, with a title before a share of the names: a habit the
generator does not make (Mr./MR/Lok before IOM's and NGOs' romanised names; លោក or ឈ្មោះ,
spaced or glued to the name, before MoSVY's family names and NGOs' Khmer names).

    .venv/bin/python benchmarks/independent/add_titles.py SRC DST --share 0.3 --seed 7

truth.csv and the other files are copied as they are: the same records, the same men.
Not a test: link DST as sweep.py or score.py do and compare with SRC.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import shutil
from pathlib import Path

import openpyxl

KHMER = ["លោក", "លោក ", "ឈ្មោះ ", "ឈ្មោះ"]
LATIN = ["Mr. ", "MR ", "Mr ", "Lok "]
MOSVY_FAMILY = "នាមត្រកូល"


def _csv(path: Path, columns: list[tuple[str, list[str]]], share: float, rng: random.Random) -> None:
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        for column, titles in columns:
            if row.get(column) and rng.random() < share:
                row[column] = rng.choice(titles) + row[column]
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode())


def _workbook(path: Path, share: float, rng: random.Random) -> None:
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        column = None
        for row in ws.iter_rows():
            values = [c.value for c in row]
            if MOSVY_FAMILY in values:
                column = values.index(MOSVY_FAMILY)
            elif column is not None and row[column].value and rng.random() < share:
                row[column].value = rng.choice(KHMER) + str(row[column].value)
    wb.save(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--share", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    shutil.rmtree(args.dst, ignore_errors=True)
    shutil.copytree(args.src, args.dst)
    landing = args.dst / "landing"
    for path in sorted((landing / "iom").glob("*.csv")):
        _csv(path, [("full_name", LATIN)], args.share, rng)
    for path in sorted(landing.glob("ngo-*/*.csv")):
        _csv(path, [("name_kh", KHMER), ("name_en", LATIN)], args.share, rng)
    for path in sorted((landing / "mosvy").glob("*.xlsx")):
        _workbook(path, args.share, rng)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
