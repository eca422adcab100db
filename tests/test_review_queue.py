"""The review queue (linkage.match.queue) on hand-made persons and pairs: what officers are
shown of the review band, and in which order."""

from __future__ import annotations

import numpy as np
import pytest

from linkage.match.queue import JUDGED_APART, review_queue

T = 14.0  # the link threshold in bits


def queue_of(labels, pairs, weights, refused=(), min_chance=0.2, limit=100):
    left = np.array([a for a, _ in pairs], dtype=np.int64)
    right = np.array([b for _, b in pairs], dtype=np.int64)
    band = np.arange(len(pairs), dtype=np.int64)
    return review_queue(
        np.array(labels, dtype=np.int64),
        left,
        right,
        np.array(weights, dtype=float),
        band,
        list(refused),
        T,
        min_chance,
        limit,
    )


def test_two_persons_are_asked_about_once_by_their_strongest_pair() -> None:
    # records 0-2 are one man (label 0); record 3 was left alone
    q = queue_of([0, 0, 0, 3], [(0, 3), (1, 3), (2, 3)], [12.0, 13.0, 10.0])
    assert q.pairs.tolist() == [1]
    assert q.chance[0] == pytest.approx(0.5 / 1.5)  # 13 bits: half the threshold's odds, against "none"
    assert q.made[0] == 3  # a "same" makes three pairs of records one man's


def test_a_record_between_two_namesakes_is_asked_about_both_and_each_gets_its_share() -> None:
    # persons {0, 1} and {2, 3}; record 4 links as strongly to both
    q = queue_of([0, 0, 2, 2, 4], [(0, 4), (2, 4), (1, 4)], [15.0, 15.0, 14.0])
    assert sorted(q.pairs.tolist()) == [0, 1]
    assert q.chance.tolist() == pytest.approx([2 / 5, 2 / 5])  # odds 2 each, and 1 for "none"
    alone = queue_of([0, 0, 2, 2, 4], [(0, 4)], [15.0])
    assert alone.chance[0] == pytest.approx(2 / 3)  # a rival lowers the chance (2 / 5 above)


@pytest.mark.parametrize("why", sorted(JUDGED_APART))
def test_refusals_the_checks_judged_two_men_wait_in_the_band(why: str) -> None:
    q = queue_of([0, 0, 2, 2], [(1, 2), (0, 3)], [16.0, 15.0], refused=[(1, 2, why)])
    assert q.pairs.tolist() == [1]  # the other pair between the two persons is still asked
    refused_strong = queue_of([0, 0, 2, 2], [(1, 2)], [16.0], refused=[(1, 2, "links as strongly")])
    assert refused_strong.pairs.tolist() == [0]


def test_unlikely_questions_wait_and_the_limit_keeps_the_likeliest() -> None:
    labels = [0, 0, 0, 3, 4, 5, 6, 7]
    pairs = [(0, 3), (4, 5), (6, 7)]  # a record joining a man of three; two lone pairs
    weights = [13.0, 14.0, 8.0]
    q = queue_of(labels, pairs, weights)
    assert q.pairs.tolist() == [1, 0]  # 8 bits: a chance of 1 in 65, left in the band
    assert q.chance.tolist() == pytest.approx([0.5, 1 / 3])  # the likeliest "same" first
    assert queue_of(labels, pairs, weights, limit=1).pairs.tolist() == [1]
    assert len(queue_of(labels, pairs, weights, min_chance=0.0)) == 3
    assert len(queue_of(labels, [], [])) == 0
    # as likely: the one that makes more pairs of records one man's first
    tie = queue_of(labels, [(4, 5), (0, 3)], [13.0, 13.0])
    assert tie.pairs.tolist() == [1, 0] and tie.made.tolist() == [3, 1]


def test_decisions_force_their_pairs_and_no_other() -> None:
    """Reviewers' decisions are found among the candidates all at once: a decided pair scores
    past any the model gives, a pair nobody proposed is ignored."""
    from linkage.match.blocking import BlockingStats
    from linkage.match.engine import Candidates, Decisions, Scores, force

    left, right = np.array([0, 0, 1, 2], dtype=np.int64), np.array([1, 3, 2, 3], dtype=np.int64)
    candidates = Candidates(left, right, None, BlockingStats())  # type: ignore[arg-type]
    scores = Scores(np.full(4, 8.0), np.full(4, 0.995))
    decisions = Decisions(same=[(3, 0)], different=[(1, 2), (1, 3)])  # (1, 3) was never proposed
    force(candidates, scores, decisions, n=4)
    assert scores.prob.tolist() == [0.995, 1.0, 0.0, 0.995]
    assert scores.total.tolist() == [8.0, 100.0, -100.0, 8.0]
    force(candidates, scores, Decisions(), n=4)  # nothing decided: nothing changes
    assert scores.prob.tolist() == [0.995, 1.0, 0.0, 0.995]
