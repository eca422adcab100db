"""Multiple systems estimation: published figures reproduced from the published tables."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from linkage.estimate.interval import bootstrap, profile_interval
from linkage.estimate.loglinear import check, fit
from linkage.estimate.select import select
from linkage.estimate.table import CaptureTable, TableError, read_counts

MSE = Path(__file__).parent / "data" / "mse"


def table(name: str) -> CaptureTable:
    return read_counts(MSE / f"{name}.csv")


@pytest.mark.parametrize(
    ("name", "listed", "published"),
    [("NewOrl", 185, 1184), ("NewOrl_5", 185, 1034), ("Western", 345, 2483)],
)
def test_chan_silverman_vincent_reproduces_published_totals(name: str, listed: int, published: int) -> None:
    t = table(name)
    assert t.listed == listed
    model = select(t, "chan-silverman-vincent")
    assert round(model.total) == published


@pytest.mark.parametrize("name", ["UKdat", "UKdat_5"])
@pytest.mark.parametrize("method", ["aic", "chan-silverman-vincent"])
def test_uk_2013_inside_home_office_range(name: str, method: str) -> None:
    t = table(name)
    assert t.listed == 2744
    model = select(t, method)
    assert 10_000 <= model.total <= 13_000
    lo, hi = profile_interval(model)
    assert lo < model.total < hi
    assert lo > 9_000 and hi < 14_000


def test_main_effects_model_makes_lists_independent() -> None:
    t = CaptureTable(
        ("A", "B", "C"),
        np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]]),
        np.array([60, 40, 30, 20, 15, 10, 5]),
    )
    model = fit(t)
    # independence of A and B (C absent): fitted(A only) * fitted(B only) = none * fitted(A and B),
    # and the fitted cells add up to the people listed
    d = model.design.table.patterns
    mu = dict(zip(map(tuple, d), model.fitted, strict=True))
    assert math.isclose(mu[(1, 0, 0)] * mu[(0, 1, 0)], model.on_no_list * mu[(1, 1, 0)], rel_tol=1e-6)
    assert math.isclose(sum(model.fitted), t.listed, rel_tol=1e-8)


def test_existence_check_finds_an_estimate_that_runs_off() -> None:
    # A and B share no one and nobody is on all three: the A:B interaction with the A:C and
    # B:C interactions saturates what the table can say
    t = CaptureTable(
        ("A", "B", "C"),
        np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 1]]),
        np.array([10, 12, 9, 3, 4]),
    )
    assert check(t, []) == (True, True)
    exists, identifiable = check(t, [(0, 1), (0, 2), (1, 2)])
    assert not (exists and identifiable)


def test_bootstrap_reselects_and_brackets_the_point() -> None:
    t = table("NewOrl_5")
    est = select(t).total
    b = bootstrap(t, lambda x: select(x).total, resamples=25, seed=3)
    assert b.failed == 0
    assert len(set(np.round(b.estimates))) > 5
    assert b.lower < est < b.upper


def test_unreadable_table_says_why(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("A,B,C,count\n1,0,2,5\n")
    with pytest.raises(TableError, match="0 or 1"):
        read_counts(bad)
