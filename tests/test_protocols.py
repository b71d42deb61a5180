"""Evaluator options (tie rules, sampled ranking), the beyond-accuracy metrics, and the split tie rule, on
hand-computed cases and on ML-100K."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from llmrec import evaluate, leave_one_out, make_model
from llmrec.beyond import (
    average_popularity,
    catalogue_coverage,
    gini_index,
    intra_list_diversity,
    novelty,
    recommendation_counts,
    short_head_share,
)
from llmrec.evaluation import evaluate_scores, rank_metrics


def csr(rows: list[list[int]], n: int) -> sp.csr_matrix:
    data = [(u, i) for u, items in enumerate(rows) for i in items]
    u, i = zip(*data, strict=True) if data else ([], [])
    return sp.csr_matrix((np.ones(len(data)), (u, i)), shape=(len(rows), n))


SCORES = torch.tensor([[0.1, 0.5, 0.5, 0.2, 0.5]] * 3)
TARGETS = torch.tensor([[False, True, False, False, False], [False, False, True, False, False], [False] * 4 + [True]])
NOTHING_KNOWN = torch.zeros(3, 5, dtype=torch.bool)


@pytest.mark.parametrize(
    ("ties", "ranks"),
    [("stable", [1, 2, 3]), ("pessimistic", [3, 3, 3]), ("optimistic", [1, 1, 1])],
)
def test_tie_rules_hand_computed(ties: str, ranks: list[int]) -> None:
    """Items 1, 2, 4 tie at 0.5; the target is item 1, 2 or 4. Stable puts lower ids first."""
    metrics, _ = rank_metrics(SCORES, NOTHING_KNOWN, TARGETS, 3, ties=ties)
    np.testing.assert_allclose(metrics["MRR"].numpy(), [1 / r for r in ranks], atol=1e-7)


def test_random_ties_are_seeded_and_spread() -> None:
    scores = torch.zeros(3000, 5)  # a constant model: the target's rank is uniform over 1..5
    targets = torch.zeros(3000, 5, dtype=torch.bool)
    targets[:, 0] = True
    known = csr([[]] * 3000, 5)
    first = evaluate_scores(lambda u: scores[u], known, sp.csr_matrix(targets.numpy()), k=5, ties="random", seed=3)
    again = evaluate_scores(lambda u: scores[u], known, sp.csr_matrix(targets.numpy()), k=5, ties="random", seed=3)
    assert first.per_user.equals(again.per_user)
    ranks = np.rint(1 / first.per_user["MRR@5"].to_numpy()).astype(int)
    assert np.bincount(ranks, minlength=6)[1:] / 3000 == pytest.approx(np.full(5, 0.2), abs=0.03)
    with pytest.raises(ValueError, match="ties"):
        evaluate_scores(lambda u: scores[u], known, sp.csr_matrix(targets.numpy()), ties="best")


def test_sampled_ranking_hand_computed() -> None:
    """6 items, item 0 known, target item 5 scored lowest: with 2 negatives its rank is 3 of 3 candidates."""
    scores = torch.tensor([[6.0, 5.0, 4.0, 3.0, 2.0, 1.0]] * 400)
    known, targets = csr([[0]] * 400, 6), csr([[5]] * 400, 6)
    result = evaluate_scores(lambda u: scores[u], known, targets, k=3, n_negatives=2, seed=0)
    assert (result.per_user["MRR@3"] == 1 / 3).all()
    picked = result.top_items[:, :2]
    assert set(np.unique(picked)) <= {1, 2, 3, 4}  # never the known item, never repeated
    assert (picked[:, 0] < picked[:, 1]).all()
    # uniform: each of the 4 candidates is drawn in half of the samples of size 2
    assert np.bincount(picked.ravel(), minlength=5)[1:] / 400 == pytest.approx(np.full(4, 0.5), abs=0.08)
    full = evaluate_scores(lambda u: scores[u], known, targets, k=3, n_negatives=10)  # more than available
    assert (full.per_user["MRR@3"] == 0).all()  # target ranked 5th of 5: all non-known items are candidates
    with pytest.raises(ValueError, match="n_negatives"):
        evaluate_scores(lambda u: scores[u], known, targets, n_negatives=0)


def test_on_ml100k_sampled_never_below_full_and_pessimistic_never_above(ml100k) -> None:
    split = leave_one_out(ml100k.interactions)
    model = make_model("pop").fit(split.fit_data("test"))
    full = evaluate(model, split)
    sampled = evaluate(model, split, n_negatives=100)
    pessimistic = evaluate(model, split, ties="pessimistic")
    # a subset of the candidates keeps their order, so the target's rank can only improve
    assert (sampled.per_user["NDCG@10"] >= full.per_user["NDCG@10"] - 1e-7).all()
    assert (pessimistic.per_user["NDCG@10"] <= full.per_user["NDCG@10"] + 1e-7).all()
    assert full.summary()["NDCG@10"] == pytest.approx(0.04491, abs=1e-5)  # the book's number, unchanged
    assert full.top_items.shape == (943, 10)
    assert catalogue_coverage(full.top_items, ml100k.interactions.n_items) == pytest.approx(full.coverage)


TOP = np.array([[0, 1, 2], [0, 3, -1]])


def test_beyond_accuracy_hand_computed() -> None:
    counts = np.array([10, 5, 3, 1, 0])
    assert recommendation_counts(TOP, 5).tolist() == [2, 1, 1, 1, 0]
    assert catalogue_coverage(TOP, 5) == pytest.approx(4 / 5)
    assert average_popularity(TOP, counts) == pytest.approx((10 + 5 + 3 + 10 + 1) / 5)
    # user counts over 20 users: -log2(p) for items 0,1,2,0,3
    expected = np.mean(-np.log2(np.array([10, 5, 3, 10, 1]) / 20))
    assert novelty(TOP, counts, 20) == pytest.approx(expected)
    # short head holding half of 19 interactions: item 0 alone (10 >= 9.5); slots with item 0: 2 of 5
    assert short_head_share(TOP, counts) == pytest.approx(2 / 5)
    # Gini of [0, 1, 1, 1, 2] (sorted): sum (2i - 6) x_i = (-4*0) + (-2*1) + 0 + 2*1 + 4*2 = 8; / (5 * 5)
    assert gini_index([2, 1, 1, 1, 0]) == pytest.approx(8 / 25)
    assert gini_index([3, 3, 3]) == pytest.approx(0.0)


def test_intra_list_diversity_hand_computed() -> None:
    features = np.array([[1, 0], [0, 1], [1, 1], [1, 0]], dtype=float)
    # list [0, 1, 2]: distances 1 (0-1), 1 - 1/sqrt2 (0-2), 1 - 1/sqrt2 (1-2); list [0, 3]: 0 (identical)
    expected = np.mean([(1 + 2 * (1 - 1 / np.sqrt(2))) / 3, 0.0])
    assert intra_list_diversity(np.array([[0, 1, 2], [0, 3, -1]]), features) == pytest.approx(expected)
    with pytest.raises(ValueError, match="two items"):
        intra_list_diversity(np.array([[0, -1]]), features)


def test_leave_one_out_tie_rules(ml100k) -> None:
    """Two events of one user at the same last timestamp: file order tests the later line, reverse the earlier."""
    import pandas as pd

    from llmrec import Interactions

    frame = pd.DataFrame({"user": [0, 0, 0, 0], "item": [0, 1, 2, 3], "rating": 4.0, "timestamp": [1, 2, 3, 3]})
    data = Interactions(frame, 1, 4)
    assert leave_one_out(data).test.frame["item"].tolist() == [3]
    assert leave_one_out(data).validation.frame["item"].tolist() == [2]
    assert leave_one_out(data, ties="reverse-file-order").test.frame["item"].tolist() == [2]
    with pytest.raises(ValueError, match="ties"):
        leave_one_out(data, ties="latest")
    default = leave_one_out(ml100k.interactions)
    same = leave_one_out(ml100k.interactions, ties="file-order")
    assert default.test.frame.equals(same.test.frame)
    shuffled = leave_one_out(ml100k.interactions, ties="random", seed=1)
    assert len(shuffled.test) == len(default.test) and not shuffled.test.frame.equals(default.test.frame)
