"""Bayesian interest over genres: the article's example, hand-computed profiles and transitions, SciPy
agreement for Jensen-Shannon, and the transfer recommender through the contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon

from llmrec import Interactions
from llmrec.interest import (
    early_late,
    fine_tune,
    genre_counts,
    genre_log_likelihood,
    genre_profiles,
    genre_transitions,
    js_divergence,
    posterior,
    ridge_toward,
    transfer,
)
from llmrec.models import BayesTransfer
from llmrec.testing import RecommenderContract


def small() -> Interactions:
    """Items: 0 = Action, 1 = Comedy, 2 = Action|Comedy. User 0 watches 0, 2, 1 in time; user 1 watches 1, 1->0."""
    items = pd.DataFrame(
        {
            "raw_id": ["a", "b", "c"],
            "title": ["A", "B", "C"],
            "year": pd.array([2000] * 3, dtype="Int64"),
            "genres": [["Action"], ["Comedy"], ["Action", "Comedy"]],
        }
    ).rename_axis("item")
    frame = pd.DataFrame(
        {"user": [0, 0, 0, 1, 1], "item": [0, 2, 1, 1, 0], "rating": 4.0, "timestamp": [1, 2, 3, 1, 2]}
    )
    return Interactions(frame.astype({"rating": np.float32}), 2, 3, items)


def test_article_example() -> None:
    np.testing.assert_allclose(posterior([0.8, 0.2], [0.6, 0.4]), [0.48 / 0.56, 0.08 / 0.56])
    interest = posterior([0.8, 0.2], [0.6, 0.4])
    # P(I2|U) = P(I2|I1) P(I1|U) + P(I2|I2) P(I2|U); the article keeps only the first term (0.429)
    assert transfer(interest, [[0.5, 0.5], [0.0, 1.0]])[1] == pytest.approx(0.5 * 0.48 / 0.56 + 0.08 / 0.56)


def test_profiles_by_hand() -> None:
    data = small()
    counts = genre_counts(data)  # user 0: Action 1 + 0.5, Comedy 0.5 + 1; user 1: 1 and 1
    np.testing.assert_allclose(counts, [[1.5, 1.5], [1.0, 1.0]])
    profiles = genre_profiles(data, prior_strength=2.0)  # population shares (2.5/5, 2.5/5)
    np.testing.assert_allclose(profiles, [[(1.5 + 1) / 5, (1.5 + 1) / 5], [0.5, 0.5]])


def test_transitions_by_hand() -> None:
    # pairs: (0 -> 2), (2 -> 1), (1 -> 0); G rows: [1, 0], [0, 1], [.5, .5]
    # counts: A->A .5, A->C .5 (from 0->2); A->C .5, C->C .5 (2->1); C->A 1 (1->0)
    expected = np.array([[0.5, 1.0], [1.0, 0.5]])
    np.testing.assert_allclose(genre_transitions(small(), smoothing=0.0), expected / expected.sum(1, keepdims=True))


def test_js_divergence_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(6), size=20), rng.dirichlet(np.ones(6), size=20)
    expected = np.array([jensenshannon(a, b, base=2) ** 2 for a, b in zip(p, q, strict=True)])
    np.testing.assert_allclose(js_divergence(p, q), expected, atol=1e-12)
    assert js_divergence([1.0, 0.0], [0.0, 1.0]) == pytest.approx(1.0)


def test_early_late_and_log_likelihood() -> None:
    early, late = early_late(small(), late_fraction=0.34)  # ceil(0.34 * 3) = 2 late for user 0, 1 for user 1
    assert sorted(late.frame.index) == [1, 2, 4]
    uniform = np.full((2, 2), 0.5)
    assert genre_log_likelihood(uniform, late) == pytest.approx(np.log(0.5))


class TestBayesTransfer(RecommenderContract):
    def make_model(self) -> BayesTransfer:
        return BayesTransfer(prior_strength=2.0, transfer_weight=0.5)


def test_transfer_weight_is_validated() -> None:
    with pytest.raises(ValueError, match="transfer_weight"):
        BayesTransfer(transfer_weight=1.5)


def test_ridge_toward_source_by_hand_and_against_sklearn() -> None:
    from sklearn.linear_model import Ridge

    x, y, source = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([3.0, 4.0]), np.array([1.0, 1.0])
    # (X^T X + I)^{-1} (X^T y + theta_s) with X^T X = diag(1, 4), X^T y = (3, 8): ((3 + 1) / 2, (8 + 1) / 5)
    np.testing.assert_allclose(ridge_toward(x, y, source, 1.0), [2.0, 1.8], atol=1e-12)
    np.testing.assert_allclose(ridge_toward(x, y, source, 0.0), [3.0, 2.0], atol=1e-12)  # least squares
    np.testing.assert_allclose(ridge_toward(x, y, source, 1e12), source, atol=1e-9)  # the source itself
    rng = np.random.default_rng(0)
    x, y, source = rng.normal(size=(15, 4)), rng.normal(size=15), rng.normal(size=4)
    reference = source + Ridge(alpha=5.0, fit_intercept=False).fit(x, y - x @ source).coef_
    np.testing.assert_allclose(ridge_toward(x, y, source, 5.0), reference, atol=1e-10)
    with pytest.raises(ValueError, match="lam must be >= 0"):
        ridge_toward(x, y, source, -1.0)


def test_fine_tune_steps_by_hand_and_converges_to_least_squares() -> None:
    x, y, source = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([3.0, 4.0]), np.array([1.0, 1.0])
    path = fine_tune(x, y, source, learning_rate=0.1, steps=400)
    # step 1: gradient (2/2) X^T (X theta - y) = X^T ((1, 2) - (3, 4)) = (-2, -4); theta = (1.2, 1.4)
    np.testing.assert_allclose(path[1], [1.2, 1.4], atol=1e-12)
    np.testing.assert_array_equal(path[0], source)
    np.testing.assert_allclose(path[-1], ridge_toward(x, y, source, 0.0), atol=1e-9)
