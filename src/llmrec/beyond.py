"""Beyond accuracy: what the recommended lists look like (chapter: *Evaluation methodology*).

All functions take ``top_items`` (U, K) int item ids, one row per user (-1 = empty slot, ignored), as kept in
:attr:`llmrec.evaluation.EvaluationResult.top_items`.

* catalogue coverage = |union of the lists| / n_items;
* intra-list diversity ``ILD(L) = 2 / (|L| (|L| - 1)) sum_{i<j in L} (1 - cos(f_i, f_j))`` over item feature vectors
  ``f`` (genres, embeddings), averaged over users (lists with fewer than 2 items are skipped);
* novelty ``= mean over recommended items of -log2(p_i)``, ``p_i = (#users who interacted with i) / n_users``
  (self-information; unseen items get ``p_i = 1 / n_users``);
* average recommendation popularity ``ARP = mean over recommended items of count_i`` (interactions in the
  fitted data); ``short_head_share`` = share of recommended slots filled by the most popular items that make up
  ``head_fraction`` of all interactions;
* Gini index of how often each item is recommended, ``G = sum_i (2 i - n - 1) x_(i) / (n sum x)`` over the counts
  sorted ascending (0 = every item equally often, -> 1 = one item always).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "average_popularity",
    "catalogue_coverage",
    "gini_index",
    "intra_list_diversity",
    "novelty",
    "recommendation_counts",
    "short_head_share",
]


def _slots(top_items: np.ndarray) -> np.ndarray:
    top = np.asarray(top_items)
    if top.ndim != 2:
        raise ValueError(f"top_items must be a (users, K) array, got shape {top.shape}")
    return top[top >= 0]


def recommendation_counts(top_items: np.ndarray, n_items: int) -> np.ndarray:
    """How many lists each item appears in, shape ``(n_items,)``."""
    return np.bincount(_slots(top_items), minlength=n_items)


def catalogue_coverage(top_items: np.ndarray, n_items: int) -> float:
    """|union of the top-K lists| / n_items."""
    return float((recommendation_counts(top_items, n_items) > 0).sum() / n_items)


def intra_list_diversity(top_items: np.ndarray, features: np.ndarray) -> float:
    """Mean over users of the average pairwise cosine *distance* ``1 - cos(f_i, f_j)`` within each list.

    Items with an all-zero feature vector have cosine 0 with everything (distance 1). Batched: one
    ``(U, K, K)`` product of the lists' normalised feature rows.
    """
    top = np.asarray(top_items)
    features = np.asarray(features, dtype=np.float64)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    unit = np.divide(features, norms, out=np.zeros_like(features), where=norms > 0)
    valid = top >= 0
    vectors = unit[np.where(valid, top, 0)] * valid[..., None]  # (U, K, d); empty slots are zero vectors
    cosine = np.einsum("ukd,uld->ukl", vectors, vectors)
    pair = valid[:, :, None] & valid[:, None, :] & ~np.eye(top.shape[1], dtype=bool)[None]
    n_pairs = pair.sum(axis=(1, 2))
    distance = np.where(pair, 1.0 - cosine, 0.0).sum(axis=(1, 2))
    keep = n_pairs > 0
    if not keep.any():
        raise ValueError("no list has two items; intra-list diversity is undefined")
    return float((distance[keep] / n_pairs[keep]).mean())


def novelty(top_items: np.ndarray, user_counts: np.ndarray, n_users: int) -> float:
    """Mean self-information ``-log2(p_i)`` of recommended items, ``p_i = max(user_counts_i, 1) / n_users``."""
    slots = _slots(top_items)
    p = np.maximum(np.asarray(user_counts, dtype=np.float64)[slots], 1.0) / n_users
    return float(np.mean(-np.log2(p)))


def average_popularity(top_items: np.ndarray, item_counts: np.ndarray) -> float:
    """ARP: mean interaction count (in the fitted data) of the recommended items."""
    return float(np.mean(np.asarray(item_counts, dtype=np.float64)[_slots(top_items)]))


def short_head_share(top_items: np.ndarray, item_counts: np.ndarray, head_fraction: float = 0.5) -> float:
    """Share of recommended slots taken by the *short head*: the fewest most-popular items that together hold
    ``head_fraction`` of all interactions (ties in count broken by ascending id)."""
    if not 0 < head_fraction < 1:
        raise ValueError(f"head_fraction must be in (0, 1), got {head_fraction}")
    counts = np.asarray(item_counts, dtype=np.float64)
    order = np.lexsort((np.arange(len(counts)), -counts))
    cumulative = np.cumsum(counts[order])
    n_head = int(np.searchsorted(cumulative, head_fraction * cumulative[-1]) + 1)
    head = np.zeros(len(counts), dtype=bool)
    head[order[:n_head]] = True
    return float(head[_slots(top_items)].mean())


def gini_index(counts: np.ndarray) -> float:
    """Gini index of non-negative counts: ``sum_i (2 i - n - 1) x_(i) / (n sum x)``, ``x`` sorted ascending."""
    x = np.sort(np.asarray(counts, dtype=np.float64))
    n = len(x)
    if n == 0 or x.sum() == 0:
        raise ValueError("the Gini index needs at least one positive count")
    i = np.arange(1, n + 1)
    return float(np.sum((2 * i - n - 1) * x) / (n * x.sum()))
