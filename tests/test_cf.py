"""Collaborative-filtering formulas: hand-computed similarities and predictions, agreement with Surprise, ALS,
the top-N neighbourhood and BPR models through the contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from llmrec import Interactions, k_fold
from llmrec.cf import (
    ALS,
    baseline_als,
    baseline_predictor,
    cross_validate_ratings,
    knn_predictor,
    predict_neighbourhood,
    ridge_per_owner,
    similarity,
    weighted_average,
)
from llmrec.models import UserKNN
from llmrec.testing import RecommenderContract

# the chapter's tiny matrix: 4 users x 3 items, 0 = unrated
TINY = np.array([[5, 3, 0], [4, 2, 4], [1, 5, 2], [5, 1, 5]], dtype=np.float64)


def random_ratings(n_users: int = 30, n_items: int = 25, per_user: int = 10, seed: int = 0) -> Interactions:
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), per_user)
    items = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    frame = pd.DataFrame(
        {
            "user": users.astype(np.int64),
            "item": items.astype(np.int64),
            "rating": rng.integers(1, 6, len(users)).astype(np.float32),
            "timestamp": np.arange(len(users), dtype=np.int64),
        }
    )
    return Interactions(frame, n_users, n_items)


def test_articles_second_example() -> None:
    # (4*0.6 + 3*0.5 + 2*0.4) / (0.6 + 0.5 + 0.4) = 4.7 / 1.5, not 4.7 / 2.4
    assert weighted_average([4, 3, 2], [0.6, 0.5, 0.4]) == pytest.approx(4.7 / 1.5, abs=1e-12)


def test_similarities_by_hand() -> None:
    tiny = sp.csr_matrix(TINY)
    cosine = similarity(tiny, "cosine")
    assert cosine[0, 1] == pytest.approx(26 / np.sqrt(34 * 36), abs=1e-12)
    assert cosine[0, 0] == 0.0 and np.allclose(cosine, cosine.T)
    # Pearson: u1 centred (1, -1, .), u2 centred (2/3, -4/3, 2/3)
    pearson = similarity(tiny, "pearson")
    assert pearson[0, 1] == pytest.approx(2 / (np.sqrt(2) * np.sqrt(24 / 9)), abs=1e-12)
    # u1 (1, -1, .) and u3 centred on 8/3: (-5/3, 7/3, -2/3)
    assert pearson[0, 2] == pytest.approx((-5 / 3 - 7 / 3) / (np.sqrt(2) * np.sqrt(78 / 9)), abs=1e-12)
    # MSD over co-rated items: u1, u2 differ by (1, 1) -> msd 1 -> 1 / 2; u2, u4 by (1, 1, 1) -> 1 / 2
    msd = similarity(tiny, "msd")
    assert msd[0, 1] == pytest.approx(0.5, abs=1e-12)
    assert msd[0, 2] == pytest.approx(1 / ((16 + 4) / 2 + 1), abs=1e-12)
    # adjusted cosine between items: subtract each user's mean, cosine of the item columns
    means = np.array([4, 10 / 3, 8 / 3, 11 / 3])
    centred = np.where(TINY > 0, TINY - means[:, None], 0.0)
    expected = centred[:, 0] @ centred[:, 2] / (np.linalg.norm(centred[:, 0]) * np.linalg.norm(centred[:, 2]))
    assert similarity(sp.csr_matrix(TINY.T), "adjusted-cosine")[0, 2] == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ValueError, match="unknown similarity 'jaccard'"):
        similarity(tiny, "jaccard")


def test_mean_centred_prediction_by_hand() -> None:
    tiny = sp.csr_matrix(TINY)
    sims = np.array([[0, 0.9, -0.6, 0.3], [0.9, 0, 0, 0], [-0.6, 0, 0, 0], [0.3, 0, 0, 0]])
    means = np.array([4, 10 / 3, 8 / 3, 11 / 3])
    # u1 on i3 with k = 2: neighbours u2 (0.9) and u4 (0.3); u3 (-0.6) is third
    expected = means[0] + (0.9 * (4 - means[1]) + 0.3 * (5 - means[3])) / (0.9 + 0.3)
    got = predict_neighbourhood(tiny, sims, np.array([0]), np.array([2]), neighbours=2)[0]
    assert got == pytest.approx(expected, abs=1e-12)
    # k = 3 takes u3 too, with |s| in the denominator: a dissimilar neighbour pushes the other way
    expected = means[0] + (0.9 * (4 - means[1]) - 0.6 * (2 - means[2]) + 0.3 * (5 - means[3])) / 1.8
    got = predict_neighbourhood(tiny, sims, np.array([0]), np.array([2]), neighbours=3)[0]
    assert got == pytest.approx(expected, abs=1e-12)
    # plain weighted average (Surprise's KNNBasic) keeps positive similarities only
    got = predict_neighbourhood(tiny, sims, np.array([0]), np.array([2]), neighbours=3, centred=False)[0]
    assert got == pytest.approx((0.9 * 4 + 0.3 * 5) / 1.2, abs=1e-12)
    # no usable neighbour -> the default
    lonely = predict_neighbourhood(tiny, np.zeros((4, 4)), np.array([0]), np.array([2]), centred=False, default=3.5)
    assert lonely[0] == 3.5


def test_batching_does_not_change_predictions() -> None:
    data = random_ratings()
    ratings = data.matrix("rating")
    sims = similarity(ratings, "pearson")
    rows, cols = np.arange(30), np.arange(30) % 25
    whole = predict_neighbourhood(ratings, sims, rows, cols, neighbours=5)
    pieces = predict_neighbourhood(ratings, sims, rows, cols, neighbours=5, batch_size=7)
    np.testing.assert_array_equal(whole, pieces)


def _surprise_folds(data: Interactions, folds: int, seed: int):
    from surprise import Dataset, Reader

    frame = data.frame
    dataset = Dataset.load_from_df(frame[["user", "item", "rating"]], Reader(rating_scale=(1, 5)))
    for split in k_fold(data, folds, seed):
        # Surprise breaks ties between equally similar neighbours by training order: rows sorted by user make
        # that the lower user id first, our rule
        train, test = split.train.frame.sort_values("user", kind="stable"), split.test.frame
        rows = zip(train.user, train.item, train.rating, [None] * len(train), strict=True)
        yield split, dataset.construct_trainset(list(rows)), list(zip(test.user, test.item, test.rating, strict=True))


def test_knn_basic_msd_matches_surprise() -> None:
    from surprise import KNNBasic

    data = random_ratings()
    for split, trainset, testset in _surprise_folds(data, 3, 0):
        users, items = np.array([t[0] for t in testset]), np.array([t[1] for t in testset])
        ours = knn_predictor(True, "msd", neighbours=5, centred=False)(split.train, users, items)
        algorithm = KNNBasic(k=5, sim_options={"name": "msd", "user_based": True}, verbose=False).fit(trainset)
        theirs = np.array([p.est for p in algorithm.test(testset)])
        np.testing.assert_allclose(ours, theirs, atol=1e-9)


def test_baseline_matches_surprise() -> None:
    from surprise import BaselineOnly

    data = random_ratings()
    for split, trainset, testset in _surprise_folds(data, 3, 1):
        users, items = np.array([t[0] for t in testset]), np.array([t[1] for t in testset])
        ours = baseline_predictor()(split.train, users, items)
        theirs = np.array([p.est for p in BaselineOnly(verbose=False).fit(trainset).test(testset)])
        np.testing.assert_allclose(ours, theirs, atol=1e-9)


def test_baseline_als_by_hand() -> None:
    # one epoch from zero: b_i = sum (r - mu) / (reg_i + n_i), then b_u = sum (r - mu - b_i) / (reg_u + n_u)
    users, items, ratings = np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([5.0, 3.0, 4.0])
    mu, b_u, b_i = baseline_als(users, items, ratings, 2, 2, reg_items=1.0, reg_users=1.0, epochs=1)
    assert mu == 4.0
    np.testing.assert_allclose(b_i, [(1 + 0) / 3, -1 / 2])
    np.testing.assert_allclose(b_u, [(1 - 1 / 3 + (-1 + 1 / 2)) / 3, (0 - 1 / 3) / 2])


def test_ridge_per_owner_equals_one_solve_per_owner() -> None:
    rng = np.random.default_rng(0)
    owners, others = rng.integers(0, 5, 40), rng.integers(0, 7, 40)
    owners[owners == 4] = 3  # owner 4 has no ratings
    targets, features = rng.normal(size=40), rng.normal(size=(7, 3))
    got = ridge_per_owner(owners, others, targets, features, 5, reg=0.5)
    for o in range(5):
        z, t = features[others[owners == o]], targets[owners == o]
        expected = np.linalg.solve(z.T @ z + 0.5 * max(len(t), 1) * np.eye(3), z.T @ t)
        np.testing.assert_allclose(got[o], expected, atol=1e-10)
    assert np.all(got[4] == 0)


def test_als_loss_decreases_and_beats_the_baseline_on_training_data() -> None:
    data = random_ratings(n_users=40, n_items=30, per_user=15)
    f = data.frame
    users, items, ratings = f.user.to_numpy(), f.item.to_numpy(), f.rating.to_numpy(np.float64)
    model = ALS(embedding_size=4, reg=0.05, epochs=8, seed=0).fit(users, items, ratings, 40, 30)
    # each half-step solves its regularised least squares exactly, so the data term plateaus, never jumps
    assert model.losses_[-1] <= model.losses_[0]
    assert model.history_.loss == model.losses_ and len(model.history_.seconds) == model.history_.epochs == 8
    mu, b_u, b_i = baseline_als(users, items, ratings, 40, 30)
    baseline_mse = np.mean((np.clip(mu + b_u[users] + b_i[items], 1, 5) - ratings) ** 2)
    assert np.mean((model.predict(users, items) - ratings) ** 2) < baseline_mse
    again = ALS(embedding_size=4, reg=0.05, epochs=8, seed=0).fit(users, items, ratings, 40, 30)
    np.testing.assert_array_equal(model.predict(users, items), again.predict(users, items))
    with pytest.raises(ValueError, match="reg > 0"):
        ALS(reg=0.0)


def test_cross_validation_uses_every_rating_once() -> None:
    data = random_ratings()
    seen = []

    def record_pairs(train: Interactions, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        seen.append(len(users))
        return np.full(len(users), 3.0)

    scores = cross_validate_ratings(data, {"three": record_pairs}, folds=4, seed=0)
    assert sum(seen) == len(data) and len(scores) == 4
    truth = data.frame.rating.to_numpy(np.float64)
    assert scores.RMSE.pow(2).mul(seen).sum() / len(data) == pytest.approx(np.mean((truth - 3) ** 2))


class TestUserKNN(RecommenderContract):
    def make_model(self) -> UserKNN:
        return UserKNN(neighbours=3)


def test_userknn_score_by_hand() -> None:
    x = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 1, 1], [1, 1, 1, 0]], dtype=np.float32)
    rows, cols = np.nonzero(x)
    frame = pd.DataFrame({"user": rows, "item": cols, "rating": 1.0, "timestamp": 0}).astype({"rating": np.float32})
    scores = UserKNN(neighbours=2).fit(Interactions(frame, 4, 4)).score([0, 1, 3]).numpy()
    # cos(u0, u3) = 2 / (sqrt 2 sqrt 3), cos(u0, u1) = 1 / 2, cos(u0, u2) = 1 / sqrt 6: u0's two neighbours are u3, u1
    s03, s01 = 2 / np.sqrt(6), 0.5
    np.testing.assert_allclose(scores[0], s03 * x[3] + s01 * x[1], atol=1e-6)
    np.testing.assert_allclose(scores[1], s03 * x[3] + s01 * x[0], atol=1e-6)  # cos(u1, u3) = cos(u0, u3)
    np.testing.assert_allclose(scores[2], s03 * x[0] + s03 * x[1], atol=1e-6)  # u3: u0 and u1 (u2: 2/3)
