"""A recommender from transferred genre interest (chapter: *Bayesian interest transfer*)."""

from __future__ import annotations

import numpy as np
import torch

from .._interactions import Interactions
from ..data import genre_matrix
from ..interest import genre_profiles, genre_transitions, transfer
from ._base import Recommender, register_model

__all__ = ["BayesTransfer"]


@register_model("bayes-transfer")
class BayesTransfer(Recommender):
    """``score(u, i) = P(i | u) = sum_g P~(g | u) P(i | g)``, where

    * ``P~(g | u) = (1 - lam) P(g | u) + lam sum_h P(h | u) P(g | h)``: the user's posterior genre interest
      (Dirichlet prior of strength ``prior_strength`` on population shares) mixed with its one-step transfer
      through the genre transition matrix, ``lam = transfer_weight``;
    * ``P(i | g) = c_i G[i, g] / sum_k c_k G[k, g]``: popularity within the genre (``c_i`` training count).
    """

    def __init__(self, prior_strength: float = 5.0, transfer_weight: float = 0.5, smoothing: float = 1.0) -> None:
        if not 0.0 <= transfer_weight <= 1.0:
            raise ValueError(f"transfer_weight must be in [0, 1], got {transfer_weight}")
        self.prior_strength, self.transfer_weight, self.smoothing = prior_strength, transfer_weight, smoothing

    def _fit(self, train: Interactions) -> None:
        items = train.require_items(type(self).__name__)
        profiles = genre_profiles(train, self.prior_strength)
        self.transition_ = genre_transitions(train, self.smoothing)
        lam = self.transfer_weight
        self.interest_ = (1 - lam) * profiles + lam * transfer(profiles, self.transition_)
        g = genre_matrix(items)[0].toarray()
        weighted = g * train.item_counts()[:, None]
        self.item_given_genre_ = (weighted / np.maximum(weighted.sum(axis=0, keepdims=True), 1e-12)).T

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy((self.interest_[users.numpy()] @ self.item_given_genre_).astype(np.float32))
