"""The "same family, other man" class: brothers' given names are bounded by chance.

Why: on lists where twins are common, EM filled the class with one man's pairs (same
name, same birth) up to the bound, and recall fell from 0.978 to 0.929.
"""

from __future__ import annotations

import numpy as np

from linkage.match.compare import LEVELS
from linkage.match.model import MatchModel, _brothers_names

GIVEN = LEVELS["given_name"]


def test_brothers_names_agree_no_more_than_chance_and_rhyme_at_most_twice_as_often() -> None:
    u = np.array([0.55, 0.35, 0.04, 0.015, 0.005, 0.015, 0.02])
    greedy = np.array([0.5, 0.05, 0.1, 0.05, 0.05, 0.1, 0.15])  # what EM would take
    f = _brothers_names(greedy, u)
    assert f[GIVEN.index("same spelling")] == u[GIVEN.index("same spelling")]
    assert f[GIVEN.index("same sound")] == u[GIVEN.index("same sound")]
    assert f[GIVEN.index("similar")] == 2 * u[GIVEN.index("similar")]
    assert f[GIVEN.index("close spelling")] == 2 * u[GIVEN.index("close spelling")]
    assert f[GIVEN.index("same consonants")] == 2 * u[GIVEN.index("same consonants")]
    assert f[GIVEN.index("a house name")] == greedy[GIVEN.index("a house name")]
    assert np.isclose(f.sum(), 1.0)
    # what the bounds take goes to "different"
    assert f[GIVEN.index("different")] > greedy[GIVEN.index("different")]


def test_a_class_below_the_bounds_is_left_as_em_found_it() -> None:
    u = np.array([0.55, 0.35, 0.04, 0.015, 0.005, 0.015, 0.02])
    modest = np.array([0.8, 0.1, 0.05, 0.02, 0.01, 0.01, 0.01])
    assert np.allclose(_brothers_names(modest, u), modest)


def _model(m_birth: list[float], f_birth: list[float]) -> MatchModel:
    """A fitted three-class model whose names look like brothers'; births as given."""
    model = MatchModel(prior=0.37, prior_family=0.1)
    model.m["given_name"] = np.array([0.01, 0.01, 0.02, 0.02, 0.01, 0.4, 0.53])
    model.f["family_name"] = np.array([0.02, 0.02, 0.04, 0.32, 0.6])
    model.f["given_name"] = np.array([0.8, 0.07, 0.08, 0.02, 0.01, 0.01, 0.01])
    model.m["birth"], model.f["birth"] = np.array(m_birth), np.array(f_birth)
    return model


def test_brothers_born_years_apart_are_a_family_even_where_one_mans_dates_seldom_agree() -> None:
    """Where phones are IOM's alone, the pairs sharing one are IOM's two rows of a man (ages,
    seldom a date to the day) and brothers: "same date" is rare in both classes, and the
    class was dropped (precision 0.89); births years apart tell brothers."""
    ages = _model(
        [0, 0, 0, 0.024, 0.017, 0.367, 0.515, 0.077], [0.3, 0.3, 0.049, 0, 0.102, 0.049, 0.13, 0.07]
    )
    assert ages.family_is_a_family()


def test_a_class_of_one_man_with_his_name_changed_is_no_family() -> None:
    """Births that agree as one man's do, and seldom years apart: not brothers."""
    typos = _model(
        [0.02, 0.02, 0.05, 0.05, 0.06, 0.2, 0.3, 0.3], [0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.25, 0.25]
    )
    assert not typos.family_is_a_family()
