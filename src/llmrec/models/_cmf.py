"""Matrix factorisation by alternating least squares over the whole 0/1 matrix, and its collective form across
two domains that share users (chapter: *Interest transfer and cold start*).

Every (user, item) cell counts, with ``r_ui = 1`` for an observed pair and ``0`` otherwise, so each half-step is
one ridge regression in closed form, batched over all users (or items) with one sparse-dense product:

* ``P = R Q (Q^T Q + reg I)^{-1}``, ``Q = R^T P (P^T P + reg I)^{-1}``  (:class:`LeastSquaresMF`);
* with a prior ``Q0`` on item factors and pull ``w`` (the chapter-4 L2 pull toward the source, used to carry item
  factors from another platform): ``Q = (R^T P + w Q0) (P^T P + (reg + w) I)^{-1}`` on the rows that have a prior;
* collective MF (Singh & Gordon, KDD 2008) with source matrix ``S`` on the same users and weight ``a``:
  ``P = (R Q + a S V) (Q^T Q + a V^T V + reg I)^{-1}``, ``V = S^T P (P^T P + (reg / a) I)^{-1}`` (:class:`CMF`).
  With ``a = 0`` the user update ignores the source and CMF is exactly :class:`LeastSquaresMF`.
"""

from __future__ import annotations

import inspect
import time
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from .._interactions import Interactions
from .._seed import numpy_rng
from ..training import TrainingHistory
from ._base import Recommender, register_model

__all__ = ["CMF", "LeastSquaresMF", "ridge_rows", "squared_error"]


def ridge_rows(
    ratings: sp.csr_matrix,
    fixed: np.ndarray,
    reg: float,
    extra_gram: np.ndarray | None = None,
    extra_rhs: np.ndarray | None = None,
) -> np.ndarray:
    """All rows of ``X = argmin ||ratings - X fixed^T||^2 + reg ||X||^2`` at once:
    ``X = (ratings fixed + extra_rhs) (fixed^T fixed + reg I + extra_gram)^{-1}`` (the extras add a second,
    weighted data term or a prior)."""
    gram = fixed.T @ fixed + reg * np.eye(fixed.shape[1])
    rhs = np.asarray(ratings @ fixed)
    if extra_gram is not None:
        gram = gram + extra_gram
    if extra_rhs is not None:
        rhs = rhs + extra_rhs
    return np.linalg.solve(gram, rhs.T).T


def squared_error(ratings: sp.csr_matrix, p: np.ndarray, q: np.ndarray) -> float:
    """``||R - P Q^T||^2`` over *every* cell, without the dense product:
    ``||R||^2 - 2 sum((R Q) * P) + sum((P^T P) * (Q^T Q))``."""
    cross = float(np.sum(np.asarray(ratings @ q) * p))
    return float(ratings.multiply(ratings).sum()) - 2.0 * cross + float(np.sum((p.T @ p) * (q.T @ q)))


class LeastSquaresMF(Recommender):
    """``score(u, i) = p_u . q_i`` minimising ``sum_{u,i} (r_ui - p_u . q_i)^2 + reg (||P||^2 + ||Q||^2)
    + w ||Q - Q0||^2`` (the last term only on items with a prior row) by ``epochs`` alternating least-squares
    sweeps (users, then items) from ``Q ~ N(0, 0.1^2)``, or from ``Q0`` where it is given.

    ``item_prior`` is an ``(n_items, embedding_size)`` array with NaN rows for items without a prior (for instance
    item factors learned on another platform, matched by title); ``prior_weight`` is ``w``. The objective after
    every sweep and the sweep's seconds are kept as ``history_`` (a :class:`~llmrec.training.TrainingHistory`;
    alternating exact minimisation never increases it)."""

    def __init__(
        self,
        embedding_size: int = 64,
        reg: float = 10.0,
        epochs: int = 10,
        item_prior: np.ndarray | None = None,
        prior_weight: float = 0.0,
        seed: int = 42,
    ) -> None:
        if embedding_size < 1 or epochs < 1:
            raise ValueError(f"embedding_size and epochs must be >= 1, got {embedding_size} and {epochs}")
        if reg <= 0 or prior_weight < 0:
            raise ValueError(f"reg must be > 0 and prior_weight >= 0, got {reg} and {prior_weight}")
        if item_prior is not None and np.asarray(item_prior).shape[1:] != (embedding_size,):
            raise ValueError(f"item_prior must have {embedding_size} columns, got shape {np.shape(item_prior)}")
        self.embedding_size, self.reg, self.epochs, self.seed = embedding_size, reg, epochs, seed
        self.item_prior, self.prior_weight = item_prior, prior_weight

    def _initial_items(self, n_items: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        q = 0.1 * rng.standard_normal((n_items, self.embedding_size))
        prior = np.zeros_like(q)
        has_prior = np.zeros(n_items, dtype=bool)
        if self.item_prior is not None:
            given = np.asarray(self.item_prior, dtype=np.float64)
            if len(given) != n_items:
                raise ValueError(f"item_prior has {len(given)} rows, the training data {n_items} items")
            has_prior = ~np.isnan(given).any(axis=1)
            prior[has_prior] = given[has_prior]
            q[has_prior] = given[has_prior]
        return q, prior, has_prior

    def _item_step(self, ratings: sp.csr_matrix, p: np.ndarray, prior: np.ndarray, has_prior: np.ndarray) -> np.ndarray:
        q = ridge_rows(ratings.T.tocsr(), p, self.reg)
        if self.prior_weight > 0 and has_prior.any():
            w = self.prior_weight
            pulled = ridge_rows(ratings.T.tocsr()[has_prior], p, self.reg + w, extra_rhs=w * prior[has_prior])
            q[has_prior] = pulled
        return q

    def _objective(
        self, ratings: sp.csr_matrix, p: np.ndarray, q: np.ndarray, prior: np.ndarray, has_prior: np.ndarray
    ) -> float:
        """The objective of the class docstring at ``(P, Q)``."""
        value = squared_error(ratings, p, q) + self.reg * (float(np.sum(p**2)) + float(np.sum(q**2)))
        if self.prior_weight > 0:
            value += self.prior_weight * float(np.sum((q[has_prior] - prior[has_prior]) ** 2))
        return value

    def _fit(self, train: Interactions) -> None:
        rng = numpy_rng(self.seed)
        ratings = train.matrix().astype(np.float64)
        q, prior, has_prior = self._initial_items(train.n_items, rng)
        self.history_ = TrainingHistory()
        for _ in range(self.epochs):
            start = time.perf_counter()
            p = ridge_rows(ratings, q, self.reg)
            q = self._item_step(ratings, p, prior, has_prior)
            self.history_.seconds.append(time.perf_counter() - start)
            self.history_.loss.append(self._objective(ratings, p, q, prior, has_prior))
        self.history_.best_epoch = self.epochs
        self.user_factors_, self.item_factors_ = p, q

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.user_factors_[users.numpy()] @ self.item_factors_.T)


register_model("mf")(LeastSquaresMF)


@register_model("cmf")
class CMF(LeastSquaresMF):
    """Collective matrix factorisation: user factors shared between the target (``train``) and a ``source``
    domain over the same user ids; minimises ``sum (r_ui - p_u . q_i)^2 + a sum (s_uj - p_u . v_j)^2
    + reg (||P||^2 + ||Q||^2 + ||V||^2)`` with ``a = source_weight`` (see the module docstring; the V step's
    ridge ``reg / a`` is this objective divided by ``a``). ``history_`` as in :class:`LeastSquaresMF`.

    Users with no target history get their factor from the source alone: that is the transfer."""

    def __init__(self, source: Interactions | None = None, source_weight: float = 1.0, **factorisation: Any) -> None:
        """``factorisation``: the parameters of :class:`LeastSquaresMF` by keyword (``embedding_size``, ``reg``,
        ``epochs``, ``item_prior``, ``prior_weight``, ``seed``); ``inspect.signature(CMF)`` lists them all."""
        super().__init__(**factorisation)
        if source_weight < 0:
            raise ValueError(f"source_weight must be >= 0, got {source_weight}")
        self.source, self.source_weight = source, source_weight

    def _fit(self, train: Interactions) -> None:
        a = self.source_weight
        if self.source is None or a == 0:
            super()._fit(train)
            return
        if self.source.n_users != train.n_users:
            raise ValueError(f"source has {self.source.n_users} users, the target {train.n_users}: ids must agree")
        rng = numpy_rng(self.seed)
        ratings = train.matrix().astype(np.float64)
        source = self.source.matrix().astype(np.float64)
        q, prior, has_prior = self._initial_items(train.n_items, rng)
        v = 0.1 * rng.standard_normal((self.source.n_items, self.embedding_size))
        self.history_ = TrainingHistory()
        for _ in range(self.epochs):
            start = time.perf_counter()
            p = ridge_rows(ratings, q, self.reg, extra_gram=a * v.T @ v, extra_rhs=a * np.asarray(source @ v))
            q = self._item_step(ratings, p, prior, has_prior)
            v = ridge_rows(source.T.tocsr(), p, self.reg / a)
            self.history_.seconds.append(time.perf_counter() - start)
            objective = self._objective(ratings, p, q, prior, has_prior)
            objective += a * squared_error(source, p, v) + self.reg * float(np.sum(v**2))
            self.history_.loss.append(objective)
        self.history_.best_epoch = self.epochs
        self.user_factors_, self.item_factors_, self.source_item_factors_ = p, q, v


# the whole parameter list for help() and for the pipeline, which passes ``seed`` to every model whose signature has it
CMF.__signature__ = inspect.Signature(
    [
        *list(inspect.signature(CMF.__init__).parameters.values())[1:3],
        *(
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in inspect.signature(LeastSquaresMF).parameters.values()
        ),
    ]
)
