"""Baselines and alternating least squares for explicit ratings (chapter: *Collaborative-filtering formulas*)."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from .._seed import numpy_rng
from ..training import TrainingHistory

__all__ = ["ALS", "baseline_als", "ridge_per_owner"]


def baseline_als(
    users: np.ndarray,
    items: np.ndarray,
    ratings: np.ndarray,
    n_users: int,
    n_items: int,
    reg_items: float = 10.0,
    reg_users: float = 15.0,
    epochs: int = 10,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Biases of ``r_hat = mu + b_u + b_i`` by alternating ridge solves (as Surprise's ``BaselineOnly``, ALS):

    ``b_i = sum_{u in U_i} (r_ui - mu - b_u) / (reg_items + |U_i|)``, then
    ``b_u = sum_{i in I_u} (r_ui - mu - b_i) / (reg_users + |I_u|)``, ``epochs`` times from zero.
    """
    mu = float(ratings.mean())
    b_u, b_i = np.zeros(n_users), np.zeros(n_items)
    count_i = np.bincount(items, minlength=n_items)
    count_u = np.bincount(users, minlength=n_users)
    for _ in range(epochs):
        b_i = np.bincount(items, ratings - mu - b_u[users], minlength=n_items) / (reg_items + count_i)
        b_u = np.bincount(users, ratings - mu - b_i[items], minlength=n_users) / (reg_users + count_u)
    return mu, b_u, b_i


def ridge_per_owner(
    owners: np.ndarray, others: np.ndarray, targets: np.ndarray, features: np.ndarray, n_owners: int, reg: float
) -> np.ndarray:
    """Solve one ridge regression per owner (a user, or an item), all at once:

    ``x_o = (sum_{k in K_o} z_k z_k^T + reg |K_o| I)^{-1} sum_{k in K_o} t_k z_k``,

    where ``K_o`` are the ratings of owner ``o``, ``z_k = features[others[k]]`` and ``t_k = targets[k]``. The
    Gram matrices are one sparse product, ``G = A (Z (x) Z)`` with ``A`` the owners x others count matrix and
    ``Z (x) Z`` each row's outer product flattened (``n_others x f^2``); the solves are one batched call. An owner
    without ratings gets ``x_o = 0``.
    """
    n_others, f = features.shape
    shape = (n_owners, n_others)
    counts = sp.csr_matrix((np.ones(len(owners)), (owners, others)), shape=shape)
    weighted = sp.csr_matrix((targets, (owners, others)), shape=shape)
    outer = (features[:, :, None] * features[:, None, :]).reshape(n_others, f * f)
    gram = np.asarray(counts @ outer).reshape(n_owners, f, f)
    n_ratings = np.maximum(np.bincount(owners, minlength=n_owners), 1)
    gram += reg * n_ratings[:, None, None] * np.eye(f)
    return np.linalg.solve(gram, np.asarray(weighted @ features)[:, :, None])[:, :, 0]


class ALS:
    """``r_hat_ui = mu + b_u + b_i + p_u . q_i``, fitted by alternating least squares.

    Biases start from :func:`baseline_als` and are then learnt jointly with the factors. The user step solves,
    for every user at once (:func:`ridge_per_owner`), the ridge problem in ``x_u = (p_u, b_u)`` with features
    ``z_i = (q_i, 1)`` and targets ``r_ui - mu - b_i``,

    ``x_u = (sum_{i in I_u} z_i z_i^T + reg |I_u| I)^{-1} sum_{i in I_u} (r_ui - mu - b_i) z_i``,

    and the item step is symmetric (weighted-lambda regularisation: the penalty grows with the number of ratings).
    Item factors start as ``N(0, 0.1^2)`` draws from ``seed``. After ``fit``: ``losses_``, the training MSE after
    every sweep, and ``history_`` (a :class:`~llmrec.training.TrainingHistory` with those losses and the seconds).
    """

    def __init__(self, embedding_size: int = 50, reg: float = 0.1, epochs: int = 15, seed: int = 42) -> None:
        if embedding_size < 1 or epochs < 1 or reg <= 0:
            raise ValueError(
                f"embedding_size and epochs must be >= 1 and reg > 0, got {embedding_size}, {epochs}, {reg}"
            )
        self.embedding_size, self.reg, self.epochs, self.seed = embedding_size, reg, epochs, seed

    def fit(self, users: np.ndarray, items: np.ndarray, ratings: np.ndarray, n_users: int, n_items: int) -> ALS:
        ratings = np.asarray(ratings, dtype=np.float64)
        self.mu_, b_u, b_i = baseline_als(users, items, ratings, n_users, n_items)
        target = ratings - self.mu_
        q = 0.1 * numpy_rng(self.seed).standard_normal((n_items, self.embedding_size))
        self.losses_: list[float] = []
        self.history_ = TrainingHistory()  # losses_ (training MSE) and seconds of every sweep
        for _ in range(self.epochs):
            start = time.perf_counter()
            x = ridge_per_owner(
                users, items, target - b_i[items], np.hstack([q, np.ones((n_items, 1))]), n_users, self.reg
            )
            p, b_u = x[:, :-1], x[:, -1]
            y = ridge_per_owner(
                items, users, target - b_u[users], np.hstack([p, np.ones((n_users, 1))]), n_items, self.reg
            )
            q, b_i = y[:, :-1], y[:, -1]
            residual = target - b_u[users] - b_i[items] - (p[users] * q[items]).sum(1)
            self.losses_.append(float(np.mean(residual**2)))
            self.history_.seconds.append(time.perf_counter() - start)
        self.history_.loss, self.history_.best_epoch = self.losses_, self.epochs
        self.p_, self.q_, self.b_u_, self.b_i_ = p, q, b_u, b_i
        return self

    def predict(self, users: np.ndarray, items: np.ndarray, clip: tuple[float, float] = (1.0, 5.0)) -> np.ndarray:
        """Predicted ratings for (user, item) pairs, clipped to the rating scale."""
        dot = (self.p_[users] * self.q_[items]).sum(1)
        return np.clip(self.mu_ + self.b_u_[users] + self.b_i_[items] + dot, *clip)
