"""Item-based k-nearest-neighbour recommender on implicit feedback (chapter: *Data and evaluation*)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from .._interactions import Interactions
from ..similarity import pairwise_cosine
from ._base import Recommender, register_model

__all__ = ["ItemKNN", "NeighbourRecommender"]


class NeighbourRecommender(Recommender):
    """Base of item-kNN and user-kNN: ``neighbours``, the number of most similar items (users) each keeps. Nothing
    is trained: ``interactions_`` is the binary user x item matrix of ``train`` (not a training ``history_``)."""

    def __init__(self, neighbours: int = 50) -> None:
        if neighbours < 1:
            raise ValueError(f"neighbours must be >= 1, got {neighbours}")
        self.neighbours = neighbours


@register_model("itemknn")
class ItemKNN(NeighbourRecommender):
    """score(u, j) = sum over items i in u's history of s(i, j), where s keeps j's ``neighbours`` most similar
    items by cosine (:func:`llmrec.similarity.pairwise_cosine`) on the binary user x item matrix."""

    def _fit(self, train: Interactions) -> None:
        self.interactions_ = train.matrix()
        # row j of pairwise_cosine(X^T) keeps item j's neighbours; transposed, column j does (s is symmetric)
        by_item = pairwise_cosine(self.interactions_.T, neighbours=self.neighbours, dtype=np.float32)
        self.similarity_ = sp.csr_matrix(by_item.T)

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        rows = self.interactions_[users.numpy()]
        return torch.from_numpy(np.asarray((rows @ self.similarity_).todense(), dtype=np.float32))
