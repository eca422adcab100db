"""Copy a folder generate.py wrote, with one contact number written for many men: a habit
the generator does not make. A man with no phone of his own is given a number to reach him
through: at the border, the number of whoever escorts his return group (the same for all of
them); at an NGO, the office's or the case worker's line. On IOM's lists, in a share of the
return groups (one batch, else one day and point of entry) every man with a blank phone gets
the group's number; on each NGO's, a share of its clients with a blank phone get the NGO's.

    .venv/bin/python benchmarks/independent/shared_phone.py SRC DST --share 0.5 --seed 7

truth.csv and the other files are copied as they are: the same records, the same men.
Not a test: link DST as sweep.py or score.py do and compare with SRC.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from relist import rewrite_rows, run  # noqa: E402

_PREFIXES = ("012", "017", "092", "097", "010", "015", "016", "069", "070", "077", "078", "085", "093", "096")


def _number(rng: random.Random) -> str:
    return rng.choice(_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(6))


def _apply(landing: Path, share: float, rng: random.Random) -> None:
    groups: dict[tuple[str, ...], str | None] = {}  # a return group -> its escort's number (or none)

    def iom_row(row: dict[str, str], rng: random.Random) -> None:
        group = (row["batch_id"],) if row.get("batch_id") else (row["date_of_return"], row["point_of_entry"])
        if group not in groups:
            groups[group] = _number(rng) if rng.random() < share else None
        if not row.get("phone") and groups[group]:
            row["phone"] = groups[group] or ""

    for path in sorted((landing / "iom").glob("*.csv")):
        rewrite_rows(path, iom_row, rng)
    for folder in sorted(landing.glob("ngo-*")):
        office = _number(rng)

        def ngo_row(row: dict[str, str], rng: random.Random, office: str = office) -> None:
            if not row.get("phone") and rng.random() < share:
                row["phone"] = office

        for path in sorted(folder.glob("*.csv")):
            rewrite_rows(path, ngo_row, rng)


def main(argv: list[str] | None = None) -> int:
    return run(__doc__, 0.5, _apply, argv)


if __name__ == "__main__":
    raise SystemExit(main())
