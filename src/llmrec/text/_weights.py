"""Weights of a user's history for text-based user vectors (chapter: *LLM text encoders*)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._interactions import Interactions, rank_from_end

__all__ = ["history_weights", "normalise_rows"]


def history_weights(train: Interactions, rating_weighted: bool = True, half_life: float | None = None) -> sp.csr_matrix:
    """Users x items weights ``w_ui = (r_ui / 5 if rating_weighted else 1) * 2 ** (-age_ui / half_life)``.

    ``age_ui`` counts the user's interactions after this one (0 for the latest, ties broken by file position);
    ``half_life=None`` switches recency weighting off. A film rated twice gets the sum of its weights.
    """
    if half_life is not None and half_life <= 0:
        raise ValueError(f"half_life must be positive or None, got {half_life}")
    chrono = train.chronological()
    users = chrono["user"].to_numpy()
    age = rank_from_end(users, train.n_users)
    weights = chrono["rating"].to_numpy(np.float64) / 5.0 if rating_weighted else np.ones(len(chrono))
    if half_life is not None:
        weights = weights * np.exp2(-age / half_life)
    matrix = sp.csr_matrix((weights, (users, chrono["item"].to_numpy())), shape=(train.n_users, train.n_items))
    matrix.sum_duplicates()
    return matrix


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
