"""Ranking a small candidate set: the LLMRank protocol's evaluator (chapter: *Generative LLMs*).

For each evaluated user ``u`` the candidate set is the held-out test item plus ``n - 1`` items drawn uniformly
without replacement from the items ``u`` never interacted with (LLMRank: ``n = 20``). Every model scores the same
candidates, and the rank ``r`` of the target among them gives

    NDCG@K = 1 / log2(r + 1) if r <= K else 0        (one relevant item, so the ideal DCG is 1).

Ties are broken in expectation: with ``g`` candidates scored strictly higher than the target and ``e`` others
scored equal to it, the target's rank is uniform on ``g+1..g+e+1`` and :func:`candidate_ndcg` returns the mean
NDCG over those ranks (a model that scores every candidate alike gets the random-ranking value, not 1).

This is a *sampled* metric: its values are not comparable with the book's full-ranking NDCG (Krichene & Rendle,
KDD 2020); the chapter compares models only on the same candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
import torch

from .._seed import numpy_rng

__all__ = [
    "auc_interval",
    "bootstrap_interval",
    "candidate_ndcg",
    "candidate_orders",
    "model_candidate_scores",
    "move_to_slot",
    "sample_candidates",
    "target_columns",
]


def sample_candidates(
    known: sp.csr_matrix, users: Sequence[int], targets: Sequence[int], n_candidates: int = 20, seed: int = 42
) -> np.ndarray:
    """``(U, n_candidates)`` item ids: column 0 the target, then ``n_candidates - 1`` uniform negatives per user.

    Negatives are items the user has not interacted with in ``known`` (nor the target), drawn without
    replacement by rejection with a seeded generator; the display order is set separately (:func:`candidate_orders`).
    """
    users, targets = np.asarray(users, dtype=np.int64), np.asarray(targets, dtype=np.int64)
    if users.shape != targets.shape:
        raise ValueError(f"users {users.shape} and targets {targets.shape} must have the same shape")
    n_items = known.shape[1]
    if n_candidates < 2 or n_candidates > n_items:
        raise ValueError(f"n_candidates must lie in [2, {n_items}], got {n_candidates}")
    rng = numpy_rng(seed)
    out = np.empty((len(users), n_candidates), dtype=np.int64)
    out[:, 0] = targets
    for row, (user, target) in enumerate(zip(users, targets, strict=True)):
        seen = set(known.indices[known.indptr[user] : known.indptr[user + 1]].tolist()) | {int(target)}
        if n_items - len(seen) < n_candidates - 1:
            raise ValueError(f"user {user} has only {n_items - len(seen)} unseen items, fewer than n_candidates - 1")
        chosen: list[int] = []
        while len(chosen) < n_candidates - 1:
            for item in rng.integers(0, n_items, size=2 * n_candidates).tolist():
                if item not in seen:
                    seen.add(item)
                    chosen.append(item)
                    if len(chosen) == n_candidates - 1:
                        break
        out[row, 1:] = chosen
    return out


def candidate_orders(n_users: int, n_candidates: int, seed: int = 42) -> np.ndarray:
    """``(U, n)`` display orders: row ``u`` is a seeded random permutation of ``0..n-1``."""
    rng = numpy_rng(seed)
    return np.argsort(rng.random((n_users, n_candidates)), axis=1)


def move_to_slot(order: np.ndarray, slot: int, item_column: int = 0) -> np.ndarray:
    """The display orders with column ``item_column`` (the target) moved to position ``slot``, the others keeping
    their relative order."""
    order = np.asarray(order)
    if not 0 <= slot < order.shape[1]:
        raise ValueError(f"slot must lie in [0, {order.shape[1]}), got {slot}")
    rest = order[order != item_column].reshape(order.shape[0], -1)
    return np.concatenate([rest[:, :slot], np.full((order.shape[0], 1), item_column), rest[:, slot:]], axis=1)


def candidate_ndcg(scores: np.ndarray, target_column: int | np.ndarray = 0, k: int = 10) -> np.ndarray:
    """Per-user NDCG@K of the target among the candidates, ties broken in expectation (module docstring); a
    ``target_column`` of ``-1`` (the target is not a candidate) gives 0."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError(f"scores must be (users, candidates), got shape {scores.shape}")
    if not np.isfinite(scores).all():
        raise ValueError("scores contain NaN or inf")
    rows = np.arange(scores.shape[0])
    columns = np.broadcast_to(np.asarray(target_column), rows.shape)
    present = columns >= 0
    target = scores[rows, np.where(present, columns, 0)][:, None]
    greater = (scores > target).sum(axis=1)
    equal = (scores == target).sum(axis=1)  # includes the target itself
    gains = np.where(np.arange(1, scores.shape[1] + 1) <= k, 1.0 / np.log2(np.arange(2, scores.shape[1] + 2)), 0.0)
    cumulative = np.concatenate([[0.0], np.cumsum(gains)])
    return np.where(present, (cumulative[greater + equal] - cumulative[greater]) / equal, 0.0)


def target_columns(candidates: np.ndarray, targets: Sequence[int]) -> np.ndarray:
    """The column of each user's target in ``candidates`` (U, n), or ``-1`` where it is not among them (a
    retriever's top-n that missed it: :func:`candidate_ndcg` then gives 0)."""
    hit = np.asarray(candidates) == np.asarray(targets)[:, None]
    return np.where(hit.any(axis=1), hit.argmax(axis=1), -1)


def bootstrap_interval(
    values: np.ndarray, n_resamples: int = 1000, level: float = 0.95, seed: int = 42
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (users resampled with replacement)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError("values must be a non-empty 1-D array")
    rng = numpy_rng(seed)
    means = values[rng.integers(0, len(values), size=(n_resamples, len(values)))].mean(axis=1)
    alpha = (1 - level) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def model_candidate_scores(
    score: Callable[[torch.Tensor], torch.Tensor], users: Sequence[int], candidates: np.ndarray
) -> np.ndarray:
    """A full-ranking model's scores of each user's candidates: ``score(users)`` gathered at ``candidates``."""
    full = score(torch.as_tensor(np.asarray(users, dtype=np.int64)))
    return full.gather(1, torch.as_tensor(candidates, dtype=torch.long)).double().numpy()


def auc_interval(
    labels: np.ndarray, scores: np.ndarray, n_resamples: int = 1000, level: float = 0.95, seed: int = 42
) -> tuple[float, float]:
    """Percentile bootstrap interval of the ROC AUC (examples resampled with replacement; resamples with one
    class only are skipped). AUC = P(score of a random positive > score of a random negative), ties count 1/2."""
    from sklearn.metrics import roc_auc_score

    labels, scores = np.asarray(labels, dtype=bool), np.asarray(scores, dtype=np.float64)
    rng = numpy_rng(seed)
    values = []
    for rows in rng.integers(0, len(labels), size=(n_resamples, len(labels))):
        if labels[rows].any() and not labels[rows].all():
            values.append(roc_auc_score(labels[rows], scores[rows]))
    alpha = (1 - level) / 2
    return float(np.quantile(values, alpha)), float(np.quantile(values, 1 - alpha))
