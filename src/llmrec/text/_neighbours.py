"""Nearest neighbours in a space of unit text vectors (chapter: *LLM text encoders*).

For L2-normalised vectors the cosine similarity is the dot product, ``cos(e_i, e_j) = e_i . e_j``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["nearest_items"]


def nearest_items(vectors: np.ndarray, item: int, count: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` rows of ``vectors`` most similar to row ``item``: ``(indices, cosines)``, best first.

    ``vectors`` must hold unit rows (as :meth:`~llmrec.text.TextEncoder.encode` returns). The item itself is
    left out, not merely the first hit: two films with the same text have cosine 1, and either may come first.
    Equal similarities are ordered by ascending index, so the result is deterministic.
    """
    n_rows = len(vectors)
    if not 0 <= item < n_rows:
        raise IndexError(f"item {item} is not a row of vectors (0..{n_rows - 1})")
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    similarity = vectors @ vectors[item]
    order = np.argsort(-similarity, kind="stable")
    order = order[order != item][:count]
    return order, similarity[order]
