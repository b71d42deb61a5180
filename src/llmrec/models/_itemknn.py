"""Item-based k-nearest-neighbour recommender on implicit feedback (chapter: *Data and evaluation*)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from .._interactions import Interactions
from ._base import Recommender, register_model

__all__ = ["ItemKNN", "cosine_column_similarity"]


def cosine_column_similarity(matrix: sp.csr_matrix, neighbours: int | None = None, block: int = 2048) -> sp.csc_matrix:
    """Cosine similarity between item columns of a user x item matrix, keeping each item's top neighbours.

    s(i, j) = x_i . x_j / (||x_i|| ||x_j||), s(j, j) = 0. Column j keeps its ``neighbours`` largest entries
    (all when ``None``); computed in column blocks so memory stays at ``n_items x block`` floats.
    """
    x = sp.csc_matrix(matrix, dtype=np.float32)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
    xn = x @ sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0))
    xn_t = sp.csr_matrix(xn.T)
    n_items = x.shape[1]
    parts = []
    for start in range(0, n_items, block):
        stop = min(start + block, n_items)
        dense = torch.from_numpy((xn_t @ xn[:, start:stop]).toarray())
        dense[torch.arange(start, stop), torch.arange(stop - start)] = 0.0  # no self-similarity
        if neighbours is not None and neighbours < n_items:
            values, rows = torch.topk(dense, neighbours, dim=0)
            keep = values > 0
            cols = torch.arange(start, stop).expand_as(rows)
            parts.append((values[keep].numpy(), rows[keep].numpy(), cols[keep].numpy()))
        else:
            rows, cols = torch.nonzero(dense, as_tuple=True)
            parts.append((dense[rows, cols].numpy(), rows.numpy(), (cols + start).numpy()))
    data, rows, cols = (np.concatenate(p) for p in zip(*parts, strict=True))
    return sp.csc_matrix((data, (rows, cols)), shape=(n_items, n_items))


@register_model("itemknn")
class ItemKNN(Recommender):
    """score(u, j) = sum over items i in u's history of s(i, j), where s keeps j's ``neighbours`` most similar
    items by cosine on the binary user x item matrix."""

    def __init__(self, neighbours: int = 50) -> None:
        if neighbours < 1:
            raise ValueError(f"neighbours must be >= 1, got {neighbours}")
        self.neighbours = neighbours

    def _fit(self, train: Interactions) -> None:
        self.history_ = train.matrix()
        self.similarity_ = sp.csr_matrix(cosine_column_similarity(self.history_, self.neighbours))

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        rows = self.history_[users.numpy()]
        return torch.from_numpy(np.asarray((rows @ self.similarity_).todense(), dtype=np.float32))
