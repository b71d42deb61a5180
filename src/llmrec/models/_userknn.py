"""User-based k-nearest-neighbour recommender on implicit feedback (chapter: *Collaborative-filtering formulas*)."""

from __future__ import annotations

import numpy as np
import torch

from .._interactions import Interactions
from ..similarity import pairwise_cosine
from ._base import Recommender, register_model

__all__ = ["UserKNN"]


@register_model("userknn")
class UserKNN(Recommender):
    """``score(u, i) = sum_{v in N_k(u)} s(u, v) x_vi``: the cosine-weighted votes of the ``neighbours`` users most
    similar to u (cosine between rows of the binary user x item matrix ``X``; ``s(u, u) = 0``).

    The neighbour weights form a sparse users x users matrix with at most ``neighbours`` entries per row, so
    scoring a batch is one sparse product ``W[batch] X``; no dense users x users matrix is kept.
    """

    def __init__(self, neighbours: int = 50) -> None:
        if neighbours < 1:
            raise ValueError(f"neighbours must be >= 1, got {neighbours}")
        self.neighbours = neighbours

    def _fit(self, train: Interactions) -> None:
        self.history_ = train.matrix()
        # row v keeps user v's top neighbours (:func:`llmrec.similarity.pairwise_cosine`)
        self.weights_ = pairwise_cosine(self.history_, neighbours=self.neighbours, dtype=np.float32)

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        rows = self.weights_[users.numpy()]
        return torch.from_numpy(np.asarray((rows @ self.history_).todense(), dtype=np.float32))
