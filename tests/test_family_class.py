"""The "same family, other man" class: brothers' given names are bounded by chance.

Why: on lists where twins are common, EM filled the class with one man's pairs (same
name, same birth) up to the bound, and recall fell from 0.978 to 0.929.
"""

from __future__ import annotations

import numpy as np

from linkage.match.compare import LEVELS
from linkage.match.model import _brothers_names

GIVEN = LEVELS["given_name"]


def test_brothers_names_agree_no_more_than_chance_and_rhyme_at_most_twice_as_often() -> None:
    u = np.array([0.55, 0.35, 0.04, 0.02, 0.015, 0.02])
    greedy = np.array([0.5, 0.05, 0.1, 0.1, 0.1, 0.15])  # what EM would take
    f = _brothers_names(greedy, u)
    assert f[GIVEN.index("same spelling")] == u[GIVEN.index("same spelling")]
    assert f[GIVEN.index("same sound")] == u[GIVEN.index("same sound")]
    assert f[GIVEN.index("similar")] == 2 * u[GIVEN.index("similar")]
    assert f[GIVEN.index("same consonants")] == 2 * u[GIVEN.index("same consonants")]
    assert f[GIVEN.index("a house name")] == greedy[GIVEN.index("a house name")]
    assert np.isclose(f.sum(), 1.0)
    # what the bounds take goes to "different"
    assert f[GIVEN.index("different")] > greedy[GIVEN.index("different")]


def test_a_class_below_the_bounds_is_left_as_em_found_it() -> None:
    u = np.array([0.55, 0.35, 0.04, 0.02, 0.015, 0.02])
    modest = np.array([0.8, 0.1, 0.05, 0.03, 0.01, 0.01])
    assert np.allclose(_brothers_names(modest, u), modest)
