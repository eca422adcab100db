"""Copy a folder generate.py wrote, with a share of the romanised names typed as one word: a
habit the generator does not make (SAMBATMEAS, Sophekprack, SokSovann Rith: the space
between the two names left out, as a form that takes one name field or a hurried clerk
writes them; only the first space, so a compound given name keeps its own).

    .venv/bin/python benchmarks/independent/join_names.py SRC DST --share 0.2 --seed 7

truth.csv and the other files are copied as they are: the same records, the same men.
Not a test: link DST as sweep.py or score.py do and compare with SRC.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from relist import rewrite_csv, run  # noqa: E402


def _joined(_column: str, name: str, rng: random.Random) -> str:
    family, sep, given = name.strip().partition(" ")
    if not sep:
        return name
    if rng.random() < 0.5:  # title case joined (Sophekprack) or the caps the list uses
        return family + given.lower() if family[:1].isupper() and family[1:2].islower() else family + given
    return family + given


def _apply(landing: Path, share: float, rng: random.Random) -> None:
    for path in sorted((landing / "iom").glob("*.csv")):
        rewrite_csv(path, ["full_name"], _joined, share, rng)
    for path in sorted(landing.glob("ngo-*/*.csv")):
        rewrite_csv(path, ["name_en"], _joined, share, rng)


def main(argv: list[str] | None = None) -> int:
    return run(__doc__, 0.2, _apply, argv)


if __name__ == "__main__":
    raise SystemExit(main())
