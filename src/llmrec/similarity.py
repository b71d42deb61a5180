"""The one cosine similarity between the rows of a sparse matrix (chapters: *Data and evaluation* for item-kNN,
*Collaborative-filtering formulas* for user-kNN and the rating-prediction neighbourhoods).

For rows ``x_a`` of a sparse matrix ``X`` (users of a ratings matrix, or items of its transpose)::

    s(a, b) = x_a . x_b / (||x_a|| ||x_b||),    s(a, a) = 0,    s(a, b) = 0 when either row is all zeros,

missing entries counting as 0. The rows are scaled to unit length first and the products taken in blocks of
``block`` rows, so the working memory is ``n x block`` numbers beside the result. One function serves both
uses in the book: the dense float64 matrix of the rating-prediction formulas (``neighbours=None``) and the
sparse float32 matrix of item-kNN and user-kNN that keeps each row's ``neighbours`` largest similarities.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["pairwise_cosine"]


def pairwise_cosine(
    matrix: sp.spmatrix | np.ndarray,
    *,
    neighbours: int | None = None,
    dtype: type = np.float64,
    block: int = 2048,
) -> np.ndarray | sp.csr_matrix:
    """Cosine similarity between the rows of ``matrix`` (module docstring), with a zero diagonal.

    ``neighbours=None``: the dense ``n x n`` array. ``neighbours=k``: a sparse ``n x n`` CSR matrix whose row ``a``
    keeps the ``k`` largest *positive* similarities of ``a`` (ties at the k-th value broken by ``torch.topk``).
    ``dtype``: the precision of every step (``np.float64`` for the rating formulas, ``np.float32`` for the kNN
    recommenders). ``block``: how many rows' similarities are held densely at once.
    """
    if neighbours is not None and (isinstance(neighbours, bool) or int(neighbours) != neighbours or neighbours < 1):
        raise ValueError(f"neighbours must be a positive integer or None, got {neighbours!r}")
    if block < 1:
        raise ValueError(f"block must be >= 1, got {block!r}")
    if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    # Internally the rows of `matrix` are the columns of x (CSC); each row's products are summed in the order of
    # its stored entries, so the float64 result equals the direct product R_n R_n^T entry for entry.
    x = sp.csc_matrix(sp.csr_matrix(matrix).T, dtype=dtype)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
    xn = x @ sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0))
    xn_t = sp.csr_matrix(xn.T)
    n = x.shape[1]
    dense_out = np.empty((n, n), dtype=dtype) if neighbours is None else None
    parts = []
    for start in range(0, n, block):
        stop = min(start + block, n)
        sims = torch.from_numpy((xn_t @ xn[:, start:stop]).toarray())  # column j: s(., start + j)
        sims[torch.arange(start, stop), torch.arange(stop - start)] = 0.0  # no self-similarity
        if dense_out is not None:
            dense_out[:, start:stop] = sims.numpy()
        elif neighbours < n:
            values, others = torch.topk(sims, int(neighbours), dim=0)
            keep = values > 0
            owners = torch.arange(start, stop).expand_as(others)
            parts.append((values[keep].numpy(), owners[keep].numpy(), others[keep].numpy()))
        else:
            others, owners = torch.nonzero(sims > 0, as_tuple=True)
            parts.append((sims[others, owners].numpy(), (owners + start).numpy(), others.numpy()))
    if dense_out is not None:
        return dense_out
    if not parts:
        return sp.csr_matrix((n, n), dtype=dtype)
    data, owners, others = (np.concatenate(p) for p in zip(*parts, strict=True))
    return sp.csr_matrix((data, (owners, others)), shape=(n, n))
