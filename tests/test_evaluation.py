"""Metrics on hand-computed cases, the masking rule, NaN refusal, and pop on ML-100K computed a second way."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

from llmrec import Interactions, evaluate, leave_one_out, make_model
from llmrec.evaluation import check_scores, evaluate_scores, rank_metrics, stable_top_k


def csr(rows: list[list[int]], n: int) -> sp.csr_matrix:
    data = [(u, i) for u, items in enumerate(rows) for i in items]
    u, i = zip(*data, strict=True) if data else ([], [])
    return sp.csr_matrix((np.ones(len(data)), (u, i)), shape=(len(rows), n))


SCORES = torch.tensor([[0.9, 0.8, 0.7, 0.6, 0.5], [0.1, 0.5, 0.5, 0.2, 0.5]])
KNOWN = [[0], []]
TARGETS = [[2, 4], [4]]


def test_hand_computed_metrics() -> None:
    """User 0: item 0 known and masked; top-3 = [1, 2, 3], one of two targets at rank 2.
    User 1: three-way tie at 0.5 broken by item id, top-3 = [1, 2, 4], the target at rank 3."""
    result = evaluate_scores(lambda users: SCORES[users], csr(KNOWN, 5), csr(TARGETS, 5), k=3)
    got = result.per_user
    expected = {
        "HR@3": [1.0, 1.0],
        "Precision@3": [1 / 3, 1 / 3],
        "Recall@3": [1 / 2, 1.0],
        "F1@3": [2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2), 2 * (1 / 3) * 1 / (1 / 3 + 1)],
        "NDCG@3": [(1 / math.log2(3)) / (1 + 1 / math.log2(3)), (1 / math.log2(4)) / 1.0],
        "MRR@3": [1 / 2, 1 / 3],
    }
    for column, values in expected.items():
        np.testing.assert_allclose(got[column].to_numpy(), values, rtol=0, atol=1e-6, err_msg=column)
    assert result.coverage == pytest.approx(4 / 5)  # items 1, 2, 3, 4 recommended
    assert result.summary()["NDCG@3"] == pytest.approx(np.mean(expected["NDCG@3"]), abs=1e-6)


def test_misses_and_no_candidates() -> None:
    scores = torch.tensor([[0.9, 0.8, 0.1], [0.3, 0.2, 0.1]])
    # user 0: target item 2 ranked 2nd of 2 candidates, K=1 -> miss; user 1: everything known but the target
    metrics, top = rank_metrics(
        scores, torch.tensor([[True, False, False], [True, True, False]]), torch.tensor([[False, False, True]] * 2), 1
    )
    assert metrics["HR"].tolist() == [0.0, 1.0] and metrics["NDCG"].tolist() == [0.0, 1.0]
    assert metrics["MRR"].tolist() == [0.0, 1.0] and metrics["F1"].tolist() == [0.0, 1.0]
    assert top.tolist() == [[1], [2]]
    _, top = rank_metrics(scores[:1], torch.tensor([[True, True, False]]), torch.tensor([[False, False, True]]), 3)
    assert top.tolist() == [[2, -1, -1]]  # fewer candidates than K: padded with -1, never a known item


def test_stable_top_k_is_the_head_of_a_stable_sort() -> None:
    """Top-k by topk must equal the first k columns of the stable full sort, ties and -inf included."""
    hand = torch.tensor([[1.0, 3.0, 3.0, 2.0, 3.0], [0.0, 0.0, 0.0, 0.0, 0.0], [5.0, -np.inf, -np.inf, 4.0, 1.0]])
    values, columns = stable_top_k(hand, 2)
    assert columns.tolist() == [[1, 2], [0, 1], [0, 3]]  # ties at the boundary kept in ascending column order
    assert values.tolist() == [[3.0, 3.0], [0.0, 0.0], [5.0, 4.0]]
    generator = torch.Generator().manual_seed(0)
    for trial in range(200):
        n = int(torch.randint(1, 40, (1,), generator=generator))
        k = int(torch.randint(1, n + 1, (1,), generator=generator))
        scores = torch.randint(-3, 4, (16, n), generator=generator).float()  # many ties
        scores[torch.rand(16, n, generator=generator) < 0.3] = -np.inf
        if trial % 2:
            scores = torch.randn(16, n, generator=generator)
        values, columns = stable_top_k(scores, k)
        full_values, full_columns = torch.sort(scores, dim=1, descending=True, stable=True)
        assert torch.equal(columns, full_columns[:, :k]) and torch.equal(values, full_values[:, :k]), trial


def test_target_is_never_masked_even_if_known() -> None:
    metrics, _ = rank_metrics(
        torch.tensor([[0.1, 0.9]]), torch.tensor([[False, True]]), torch.tensor([[False, True]]), 1
    )
    assert metrics["HR"].item() == 1.0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_scores_are_refused(bad: float) -> None:
    scores = torch.tensor([[0.1, bad, 0.3]])
    with pytest.raises(ValueError, match="non-finite scores"):
        check_scores(scores, (1, 3))
    with pytest.raises(ValueError, match="NaN compares False"):
        evaluate_scores(lambda users: scores, csr([[]], 3), csr([[0]], 3), k=2)


def test_shape_and_type_are_checked() -> None:
    with pytest.raises(ValueError, match="shape"):
        check_scores(torch.zeros(2, 3), (2, 4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        check_scores(np.zeros((2, 3)), (2, 3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive integer"):
        evaluate_scores(lambda u: torch.zeros(len(u), 3), csr([[]], 3), csr([[0]], 3), k=0)


def test_test_stage_masks_train_and_validation() -> None:
    """A model that scores the validation item highest must not get it recommended at test time."""
    frame = pd.DataFrame(
        {"user": [0, 0, 0], "item": [0, 1, 2], "rating": [5.0, 4.0, 3.0], "timestamp": [1, 2, 3]}
    ).astype({"rating": np.float32})
    split = leave_one_out(Interactions(frame, 1, 4))

    class Fixed:
        def score(self, users: torch.Tensor) -> torch.Tensor:
            return torch.tensor([[9.0, 8.0, 1.0, 2.0]]).expand(len(users), -1)

    result = evaluate(Fixed(), split, stage="test", k=1)  # type: ignore[arg-type]
    assert result.per_user["HR@1"].tolist() == [0.0]  # top-1 is item 3 (items 0, 1 are known)
    result = evaluate(Fixed(), split, stage="test", k=2)  # type: ignore[arg-type]
    assert result.per_user["HR@2"].tolist() == [1.0] and result.per_user["MRR@2"].tolist() == [0.5]
    result = evaluate(Fixed(), split, stage="validation", k=1)  # type: ignore[arg-type]
    assert result.per_user["HR@1"].tolist() == [1.0]  # validation target item 1 ranks first behind masked 0


def test_no_user_with_a_target_is_an_error() -> None:
    """Users with two events have a test target but no validation target: validation has nothing to evaluate."""
    frame = pd.DataFrame(
        {"user": [0, 0, 1, 1], "item": [0, 1, 1, 2], "rating": [5.0, 4.0, 3.0, 1.0], "timestamp": [1, 2, 3, 4]}
    ).astype({"rating": np.float32})
    split = leave_one_out(Interactions(frame, 2, 3))
    model = make_model("pop").fit(split.fit_data("validation"))
    with pytest.raises(ValueError, match=r"no user has a target in the 'validation' stage of split 'leave-one-out'"):
        evaluate(model, split, stage="validation")
    empty = sp.csr_matrix((2, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="no user has a target"):
        evaluate_scores(lambda users: torch.zeros(len(users), 3), empty, empty)
    assert evaluate(model.fit(split.fit_data("test")), split, stage="test").per_user.shape[0] == 2


@pytest.mark.slow
def test_pop_on_ml100k_agrees_with_independent_computation(ml100k) -> None:
    """Most-popular HR@10 and NDCG@10 under leave-one-out, computed a second, simple way (a loop over users)."""
    split = leave_one_out(ml100k.interactions)
    summary = evaluate(make_model("pop").fit(split.fit_data("test")), split, k=10).summary()

    frame = ml100k.interactions.frame.reset_index()
    frame = frame.sort_values(["user", "timestamp", "position"], kind="stable")
    last = frame.groupby("user").tail(1)
    history = frame.drop(last.index)
    counts = history["item"].value_counts().reindex(range(ml100k.n_items), fill_value=0).to_numpy()
    seen = history.groupby("user")["item"].apply(set)
    hr, ndcg = [], []
    for user, target in zip(last["user"], last["item"], strict=True):
        candidates = np.array([i for i in range(ml100k.n_items) if i not in seen[user] or i == target])
        better = (counts[candidates] > counts[target]) | (
            (counts[candidates] == counts[target]) & (candidates < target)
        )
        rank = int(better.sum()) + 1
        hr.append(1.0 if rank <= 10 else 0.0)
        ndcg.append(1 / math.log2(rank + 1) if rank <= 10 else 0.0)
    assert summary["HR@10"] == pytest.approx(np.mean(hr), abs=1e-9)
    assert summary["NDCG@10"] == pytest.approx(np.mean(ndcg), abs=1e-6)
    assert summary["HR@10"] == pytest.approx(0.0859, abs=5e-5)


def test_f1_score() -> None:
    from llmrec.evaluation import f1_score

    assert f1_score(0.65, 0.60) == pytest.approx(0.624, abs=1e-12)  # not the 0.63 of article 000
    assert f1_score(0.75, 0.70) == pytest.approx(0.72413793, abs=1e-8)
    assert f1_score(0.0, 0.0) == 0.0
