"""User-based k-nearest-neighbour recommender on implicit feedback (chapter: *Collaborative-filtering formulas*)."""

from __future__ import annotations

import numpy as np
import torch

from .._interactions import Interactions
from ..similarity import pairwise_cosine
from ._base import register_model
from ._itemknn import NeighbourRecommender

__all__ = ["UserKNN"]


@register_model("userknn")
class UserKNN(NeighbourRecommender):
    """``score(u, i) = sum_{v in N_k(u)} s(u, v) x_vi``: the cosine-weighted votes of the ``neighbours`` users most
    similar to u (cosine between rows of the binary user x item matrix ``X``; ``s(u, u) = 0``).

    The neighbour weights form a sparse users x users matrix with at most ``neighbours`` entries per row, so
    scoring a batch is one sparse product ``W[batch] X``; no dense users x users matrix is kept.
    """

    def _fit(self, train: Interactions) -> None:
        self.interactions_ = train.matrix()
        # row v keeps user v's top neighbours (:func:`llmrec.similarity.pairwise_cosine`)
        self.weights_ = pairwise_cosine(self.interactions_, neighbours=self.neighbours, dtype=np.float32)

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        rows = self.weights_[users.numpy()]
        return torch.from_numpy(np.asarray((rows @ self.interactions_).todense(), dtype=np.float32))
