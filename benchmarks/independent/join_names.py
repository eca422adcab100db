"""Copy a folder generate.py wrote, with a share of the romanised names typed as one word: a
habit the generator does not make (SAMBATMEAS, Sophekprack, SokSovann Rith: the space
between the two names left out, as a form that takes one name field or a hurried clerk
writes them; only the first space, so a compound given name keeps its own).

    .venv/bin/python benchmarks/independent/join_names.py SRC DST --share 0.2 --seed 7

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


def _joined(name: str, rng: random.Random) -> str:
    family, sep, given = name.strip().partition(" ")
    if not sep:
        return name
    if rng.random() < 0.5:  # title case joined (Sophekprack) or the caps the list uses
        return family + given.lower() if family[:1].isupper() and family[1:2].islower() else family + given
    return family + given


def _csv(path: Path, columns: list[str], share: float, rng: random.Random) -> None:
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        for column in columns:
            if row.get(column) and rng.random() < share:
                row[column] = _joined(row[column], rng)
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--share", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    shutil.rmtree(args.dst, ignore_errors=True)
    shutil.copytree(args.src, args.dst)
    landing = args.dst / "landing"
    for path in sorted((landing / "iom").glob("*.csv")):
        _csv(path, ["full_name"], args.share, rng)
    for path in sorted(landing.glob("ngo-*/*.csv")):
        _csv(path, ["name_en"], args.share, rng)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
