"""Copy a folder generate.py wrote, with a title before a share of the names: a habit the
generator does not make (Mr./MR/Lok before IOM's and NGOs' romanised names; លោក or ឈ្មោះ,
spaced or glued to the name, before MoSVY's family names and NGOs' Khmer names).

    .venv/bin/python benchmarks/independent/add_titles.py SRC DST --share 0.3 --seed 7

truth.csv and the other files are copied as they are: the same records, the same men.
Not a test: link DST as sweep.py or score.py do and compare with SRC.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import openpyxl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from relist import rewrite_csv, run  # noqa: E402

KHMER = ["លោក", "លោក ", "ឈ្មោះ ", "ឈ្មោះ"]
LATIN = ["Mr. ", "MR ", "Mr ", "Lok "]
MOSVY_FAMILY = "នាមត្រកូល"



def _titled(column: str, name: str, rng: random.Random) -> str:
    return rng.choice(KHMER if column == "name_kh" else LATIN) + name


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


def _apply(landing: Path, share: float, rng: random.Random) -> None:
    for path in sorted((landing / "iom").glob("*.csv")):
        rewrite_csv(path, ["full_name"], _titled, share, rng)
    for path in sorted(landing.glob("ngo-*/*.csv")):
        rewrite_csv(path, ["name_kh", "name_en"], _titled, share, rng)
    for path in sorted((landing / "mosvy").glob("*.xlsx")):
        _workbook(path, share, rng)


def main(argv: list[str] | None = None) -> int:
    return run(__doc__, 0.3, _apply, argv)


if __name__ == "__main__":
    raise SystemExit(main())
