"""What benchmarks/splink_side_by_side.py scores with: the records it gives Splink are the ones
the truth names, and its pairwise figures are those of the pairs themselves.

Why these and not the whole benchmark: a run of it, even on a tiny drop, is two minutes of
`survivor-link run` and Splink training (and Splink is only in the bench group); a key that
did not map (a Khmer-digit record number, a file name) or a pair counted wrongly would put
wrong figures in its table without failing anything else.
"""

from __future__ import annotations

import random
import sys
from itertools import combinations
from pathlib import Path

from linkage.ingest.load import Ingestor
from linkage.settings import load_settings
from linkage.store.db import dispose_engines, migrate

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "independent"))

from generate import generate  # noqa: E402
from splink_side_by_side import pairwise, read_truth, stored_records  # noqa: E402


def _by_enumeration(predicted: list[str], truth: list[str]) -> tuple[float, float]:
    pairs = list(combinations(range(len(truth)), 2))
    linked = {p for p in pairs if predicted[p[0]] == predicted[p[1]]}
    true = {p for p in pairs if truth[p[0]] == truth[p[1]]}
    return len(linked & true) / len(linked), len(linked & true) / len(true)


def test_pairwise_counts_the_pairs() -> None:
    rng = random.Random(5)
    truth = [f"man{rng.randrange(40)}" for _ in range(200)]
    # a labelling that merges some men and splits others
    predicted = [f"p{int(t[3:]) // 2}" if rng.random() < 0.8 else f"alone{i}" for i, t in enumerate(truth)]
    got = pairwise(predicted, truth)
    precision, recall = _by_enumeration(predicted, truth)
    assert (round(got.precision, 12), round(got.recall, 12)) == (round(precision, 12), round(recall, 12))
    assert 0.3 < got.precision < 0.9 and 0.5 < got.recall < 0.95  # neither side trivially 1
    assert pairwise(truth, truth).f1 == 1.0


def test_stored_records_are_the_truths_records(tmp_path: Path) -> None:
    data = tmp_path / "lists"
    generate(data, records=160, seed=7, by_year=False)
    home = tmp_path / "home"
    settings = load_settings(home=home, db_url="", data_docs=False)
    migrate(settings)
    try:
        with Ingestor(settings) as ingestor:
            for path in sorted((data / "landing").rglob("*.*")):
                ingestor.ingest_path(path)
        records, keys = stored_records(home)
    finally:
        dispose_engines()
    truth = read_truth(data)
    assert len(records) == len(keys) == len(truth)
    assert set(keys) == set(truth)
    assert {k[0] for k in keys} == {"iom", "mosvy", "ngo-hagar", "ngo-lscw"}
    assert records["family_name"].notna().any()  # opened, not sealed bytes
