"""Rating-prediction protocol: predictors with one signature, and k-fold cross-validation (chapter:
*Collaborative-filtering formulas*)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from tqdm import tqdm

from .._interactions import Interactions
from ..split import k_fold
from ._factorisation import ALS, baseline_als
from ._neighbours import predict_neighbourhood, similarity

__all__ = ["RatingPredictor", "als_predictor", "baseline_predictor", "cross_validate_ratings", "knn_predictor"]

#: ``predict(train, users, items) -> ratings`` for the given (user, item) pairs.
RatingPredictor = Callable[[Interactions, np.ndarray, np.ndarray], np.ndarray]


def knn_predictor(
    user_based: bool = True, measure: str = "pearson", neighbours: int = 40, centred: bool = True
) -> RatingPredictor:
    """User- or item-based neighbourhood prediction (see :func:`predict_neighbourhood`)."""

    def predict(train: Interactions, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        ratings = train.matrix("rating")
        if not user_based:
            ratings, users, items = sp.csr_matrix(ratings.T), items, users
        sims = similarity(ratings, measure)
        return predict_neighbourhood(ratings, sims, users, items, neighbours=neighbours, centred=centred)

    return predict


def baseline_predictor(reg_items: float = 10.0, reg_users: float = 15.0, epochs: int = 10) -> RatingPredictor:
    """``r_hat = mu + b_u + b_i`` (see :func:`baseline_als`)."""

    def predict(train: Interactions, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        f = train.frame
        mu, b_u, b_i = baseline_als(
            f["user"].to_numpy(),
            f["item"].to_numpy(),
            f["rating"].to_numpy(np.float64),
            train.n_users,
            train.n_items,
            reg_items,
            reg_users,
            epochs,
        )
        return np.clip(mu + b_u[users] + b_i[items], 1.0, 5.0)

    return predict


def als_predictor(embedding_size: int = 50, reg: float = 0.1, epochs: int = 15, seed: int = 42) -> RatingPredictor:
    """Biased matrix factorisation fitted by ALS (see :class:`ALS`)."""

    def predict(train: Interactions, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        f = train.frame
        model = ALS(embedding_size, reg, epochs, seed).fit(
            f["user"].to_numpy(), f["item"].to_numpy(), f["rating"].to_numpy(np.float64), train.n_users, train.n_items
        )
        return model.predict(users, items)

    return predict


def cross_validate_ratings(
    data: Interactions, predictors: dict[str, RatingPredictor], folds: int = 5, seed: int = 42, progress: bool = False
) -> pd.DataFrame:
    """RMSE and MAE of every predictor on every fold of :func:`llmrec.split.k_fold` (same folds for all).

    ``RMSE = sqrt(mean (r_hat - r)^2)``, ``MAE = mean |r_hat - r|`` over the fold's test ratings.
    """
    rows = []
    for fold, split in enumerate(tqdm(list(k_fold(data, folds, seed)), desc="folds", disable=not progress)):
        test = split.test.frame
        users, items = test["user"].to_numpy(), test["item"].to_numpy()
        truth = test["rating"].to_numpy(np.float64)
        for name, predict in predictors.items():
            error = predict(split.train, users, items) - truth
            rows.append(
                {
                    "fold": fold,
                    "model": name,
                    "RMSE": float(np.sqrt(np.mean(error**2))),
                    "MAE": float(np.mean(np.abs(error))),
                }
            )
    return pd.DataFrame(rows)
