"""Full-ranking evaluation of top-K recommendation (chapter: *Data and evaluation*).

Protocol (the exact rule, quoted in the book)
---------------------------------------------
For every user with at least one target in the evaluated stage, the model scores **all** items. The
candidates are all items except the user's *known* items, i.e. the items of the data the model was fitted on
for that stage (``train`` at validation time; ``train`` and the validation item at test time); a target item is
never removed, even if it is also known. Items are ranked by descending score; equal scores are ordered by
ascending item id (a stable sort), so results are deterministic. The top-K list contains only candidates.

Two options change the protocol (chapter: *Evaluation methodology* measures both; the defaults are the book's):

* ``ties`` -- the order among equal scores: ``"stable"`` (ascending id, the default), ``"pessimistic"`` (targets
  after every non-target with the same score, so a constant model gets no credit for ties), ``"optimistic"``
  (targets first) or ``"random"`` (a seeded random order);
* ``n_negatives`` -- *sampled* ranking: each user's candidates are the targets plus ``n_negatives`` items drawn
  uniformly without replacement (seeded) from the items that are neither known nor targets. Numbers computed this
  way are not comparable with full-ranking ones (Krichene & Rendle, KDD 2020).

Metrics per user, with ``rel_i`` = 1 when the item at rank ``i`` (1-based) is a target, ``T`` the targets:

* ``HR@K`` = 1 if any ``rel_i`` = 1 for i <= K
* ``Precision@K`` = sum_{i<=K} rel_i / K;  ``Recall@K`` = sum_{i<=K} rel_i / |T|
* ``F1@K`` = 2 P R / (P + R) (0 when P + R = 0), per user, then averaged
* ``NDCG@K`` = DCG / IDCG, DCG = sum_{i<=K} rel_i / log2(i + 1), IDCG = sum_{i<=min(|T|,K)} 1 / log2(i + 1)
* ``MRR@K`` = 1 / (rank of the first target) if it is <= K, else 0

and one list-level metric: ``Coverage@K`` = |union of all users' top-K lists| / n_items.
With one target per user (leave-one-out) HR@K = Recall@K and Precision@K = HR@K / K.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from tqdm import tqdm

from ._seed import DEFAULT_SEED, torch_generator

if TYPE_CHECKING:
    from .models import Recommender
    from .split import Split

__all__ = [
    "METRICS",
    "EvaluationResult",
    "check_scores",
    "evaluate",
    "evaluate_scores",
    "f1_score",
    "rank_metrics",
    "stable_top_k",
]

METRICS = ("HR", "NDCG", "MRR", "Recall", "Precision", "F1", "Coverage")
PER_USER_METRICS = METRICS[:-1]
TIE_RULES = ("stable", "pessimistic", "optimistic", "random")


@dataclass(frozen=True)
class EvaluationResult:
    """Per-user metric values (for significance tests), the list-level coverage and each evaluated user's top-K
    items (``top_items[i]`` for ``per_user.index[i]``; -1 where a user has fewer than K candidates)."""

    k: int
    per_user: pd.DataFrame
    coverage: float
    top_items: np.ndarray | None = None

    def summary(self) -> dict[str, float]:
        """Mean of each per-user metric over evaluated users, plus ``Coverage@K``."""
        out = {column: float(self.per_user[column].to_numpy(np.float64).mean()) for column in self.per_user.columns}
        out[f"Coverage@{self.k}"] = float(self.coverage)
        return out


def f1_score(precision: float, recall: float) -> float:
    """F1 = 2 P R / (P + R), the harmonic mean of precision and recall (0 when both are 0)."""
    return 0.0 if precision + recall == 0 else 2.0 * precision * recall / (precision + recall)


def check_scores(scores: torch.Tensor, expected_shape: tuple[int, int], who: str = "model") -> None:
    """Refuse scores of the wrong shape, dtype or with NaN/inf.

    NaN compares False with everything, so a NaN score would silently change ranks (a left-padded sequence
    under a key-padding mask produces exactly that); infinities collide with the mask value.
    """
    if not isinstance(scores, torch.Tensor):
        raise TypeError(f"{who}.score must return a torch.Tensor, got {type(scores).__name__}")
    if tuple(scores.shape) != tuple(expected_shape):
        raise ValueError(f"{who}.score returned shape {tuple(scores.shape)}, expected {tuple(expected_shape)}")
    if not torch.is_floating_point(scores):
        raise TypeError(f"{who}.score must return floating-point scores, got {scores.dtype}")
    finite = torch.isfinite(scores)
    if not bool(finite.all()):
        bad_rows = torch.nonzero(~finite.all(dim=1)).flatten()[:5].tolist()
        raise ValueError(
            f"{who}.score returned {int((~finite).sum())} non-finite scores (NaN or inf), first in batch rows "
            f"{bad_rows}; the evaluator refuses them because a NaN compares False with everything and would "
            f"silently change the ranking"
        )


def _tie_order(targets: torch.Tensor, ties: str, generator: torch.Generator | None) -> torch.Tensor | None:
    """The column order a stable sort by score starts from, which decides the order among equal scores."""
    if ties == "stable":
        return None
    if ties == "random":
        return torch.argsort(torch.rand(targets.shape, generator=generator), dim=1)
    if ties in ("pessimistic", "optimistic"):
        key = targets.to(torch.int8) if ties == "pessimistic" else (~targets).to(torch.int8)
        return torch.argsort(key, dim=1, stable=True)  # targets last (first), otherwise ascending id
    raise ValueError(f"ties must be one of {TIE_RULES}, got {ties!r}")


def stable_top_k(values: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``k`` columns of ``torch.sort(values, dim=1, descending=True, stable=True)`` (equal values in
    ascending column order), without sorting whole rows: ``torch.topk`` finds the k largest values (exact; only
    its order among equal values is unspecified), two stable sorts of those k put them in the stable order, and
    a row where values equal to the k-th largest continue past position k (so which of them are kept is decided
    by column order) is sorted in full."""
    top_values, top_columns = torch.topk(values, k, dim=1)
    kth = top_values[:, -1:]
    boundary_tie = (values == kth).sum(dim=1) != (top_values == kth).sum(dim=1)
    top_columns, by_column = torch.sort(top_columns, dim=1)
    top_values = top_values.gather(1, by_column)
    top_values, by_value = torch.sort(top_values, dim=1, descending=True, stable=True)
    top_columns = top_columns.gather(1, by_value)
    if bool(boundary_tie.any()):
        rows = boundary_tie.nonzero().squeeze(1)
        full_values, full_columns = torch.sort(values[rows], dim=1, descending=True, stable=True)
        top_values[rows], top_columns[rows] = full_values[:, :k], full_columns[:, :k]
    return top_values, top_columns


def rank_metrics(
    scores: torch.Tensor,
    known: torch.Tensor,
    targets: torch.Tensor,
    k: int,
    ties: str = "stable",
    generator: torch.Generator | None = None,
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Per-user metrics for one batch; returns ``(metrics, topk_items)``.

    ``scores`` (B, n) float; ``known`` and ``targets`` (B, n) bool. ``topk_items`` holds -1 where a user has
    fewer than K candidates. ``ties`` orders equal scores (see the module docstring; ``generator`` is used by
    ``"random"``).
    """
    masked = scores.float().masked_fill(known & ~targets, float("-inf"))
    k_eff = min(k, masked.shape[1])
    start = _tie_order(targets, ties, generator)
    if start is None:
        values, order = stable_top_k(masked, k_eff)
    else:
        values, position = stable_top_k(masked.gather(1, start), k_eff)
        order = start.gather(1, position)
    valid = values > float("-inf")
    rel = targets.gather(1, order) & valid
    relf = rel.float()
    hits = relf.sum(dim=1)
    n_targets = targets.sum(dim=1).float()
    discounts = 1.0 / torch.log2(torch.arange(2, k_eff + 2, dtype=torch.float32))
    dcg = (relf * discounts).sum(dim=1)
    ideal_cut = torch.clamp(n_targets, max=k_eff).long()
    idcg = torch.cat([torch.zeros(1), torch.cumsum(discounts, 0)])[ideal_cut]
    first = torch.where(rel.any(dim=1), relf.argmax(dim=1) + 1, torch.zeros_like(hits, dtype=torch.long))
    precision = hits / k
    recall = hits / n_targets.clamp(min=1)
    pr = precision + recall
    f1 = torch.where(pr > 0, 2 * precision * recall / torch.where(pr > 0, pr, torch.ones_like(pr)), 0.0)
    metrics = {
        "HR": (hits > 0).float(),
        "NDCG": torch.where(idcg > 0, dcg / idcg.clamp(min=1e-12), torch.zeros_like(dcg)),
        "MRR": torch.where(first > 0, 1.0 / first.clamp(min=1).float(), torch.zeros_like(hits)),
        "Recall": recall,
        "Precision": precision,
        "F1": f1,
    }
    return metrics, torch.where(valid, order, torch.full_like(order, -1))


def _dense_rows(matrix: sp.csr_matrix, rows: np.ndarray) -> torch.Tensor:
    """Rows of a CSR matrix as a dense bool tensor (batched, no Python loop over users)."""
    block = matrix[rows]
    dense = torch.zeros(len(rows), matrix.shape[1], dtype=torch.bool)
    counts = np.diff(block.indptr)
    row_index = torch.from_numpy(np.repeat(np.arange(len(rows)), counts))
    dense[row_index, torch.from_numpy(block.indices.astype(np.int64))] = True
    return dense


def evaluate_scores(
    score_batch,
    known: sp.csr_matrix,
    targets: sp.csr_matrix,
    k: int = 10,
    batch_size: int = 1024,
    progress: bool = False,
    who: str = "model",
    ties: str = "stable",
    n_negatives: int | None = None,
    seed: int = DEFAULT_SEED,
) -> EvaluationResult:
    """Evaluate ``score_batch(users: LongTensor) -> (B, n_items) scores`` on every user that has a target.

    ``ties`` and ``n_negatives`` (sampled ranking) are described in the module docstring; ``seed`` seeds the
    random tie order and the negative samples (drawn batch after batch from one generator).
    """
    if k < 1:
        raise ValueError(f"k must be a positive integer, got {k}")
    if ties not in TIE_RULES:
        raise ValueError(f"ties must be one of {TIE_RULES}, got {ties!r}")
    if n_negatives is not None and (isinstance(n_negatives, bool) or n_negatives < 1):
        raise ValueError(f"n_negatives must be a positive integer or None, got {n_negatives!r}")
    generator = torch_generator(seed)
    n_users, n_items = targets.shape
    if known.shape != targets.shape:
        raise ValueError(f"known {known.shape} and targets {targets.shape} must have the same shape")
    users = np.flatnonzero(np.diff(targets.indptr) > 0)
    if len(users) == 0:
        raise ValueError(f"evaluating {who}: no user has a target, so every metric would be undefined (NaN)")
    columns = {f"{m}@{k}": [] for m in PER_USER_METRICS}
    tops = []
    recommended = torch.zeros(n_items + 1, dtype=torch.bool)  # last slot absorbs -1 (no candidate)
    batches = range(0, len(users), batch_size)
    for start in tqdm(batches, desc=f"evaluate {who}", disable=not progress, leave=False):
        batch = users[start : start + batch_size]
        user_tensor = torch.from_numpy(batch.astype(np.int64))
        scores = score_batch(user_tensor)
        check_scores(scores, (len(batch), n_items), who)
        known_batch, target_batch = _dense_rows(known, batch), _dense_rows(targets, batch)
        if n_negatives is not None:
            known_batch = ~(_sample_negatives(known_batch | target_batch, n_negatives, generator) | target_batch)
        metrics, top = rank_metrics(scores, known_batch, target_batch, k, ties=ties, generator=generator)
        for name, values in metrics.items():
            columns[f"{name}@{k}"].append(values.numpy())
        tops.append(top.numpy())
        recommended[top.flatten()] = True
    per_user = pd.DataFrame(
        {name: np.concatenate(parts) if parts else np.array([], np.float32) for name, parts in columns.items()},
        index=pd.Index(users, name="user"),
    )
    coverage = float(recommended[:n_items].sum()) / n_items
    top_items = np.concatenate(tops) if tops else np.empty((0, min(k, n_items)), dtype=np.int64)
    return EvaluationResult(k, per_user, coverage, top_items)


def _sample_negatives(excluded: torch.Tensor, n_negatives: int, generator: torch.Generator) -> torch.Tensor:
    """(B, n) bool: ``n_negatives`` items per row drawn uniformly without replacement among the non-excluded
    ones (all of them when fewer remain): the ``n_negatives`` smallest of i.i.d. uniform keys."""
    keys = torch.rand(excluded.shape, generator=generator).masked_fill(excluded, 2.0)
    picked = torch.topk(keys, min(n_negatives, keys.shape[1]), dim=1, largest=False).indices
    chosen = torch.zeros_like(excluded)
    chosen.scatter_(1, picked, True)
    return chosen & ~excluded


def evaluate(
    model: Recommender,
    split: Split,
    stage: str = "test",
    k: int = 10,
    batch_size: int = 1024,
    progress: bool = False,
    ties: str = "stable",
    n_negatives: int | None = None,
    seed: int = DEFAULT_SEED,
) -> EvaluationResult:
    """Full-ranking evaluation of a model fitted on ``split.fit_data(stage)`` against ``split.targets(stage)``.

    The defaults are the book's protocol; ``ties="pessimistic"`` or ``n_negatives=100`` (sampled ranking) are
    the variants chapter *Evaluation methodology* measures. Raises ``ValueError`` when no user has a target in
    that stage (every metric would be NaN).
    """
    known = split.fit_data(stage).matrix()
    targets = split.targets(stage).matrix()
    if targets.nnz == 0:
        raise ValueError(
            f"no user has a target in the {stage!r} stage of split {split.name!r}: nothing to evaluate "
            "(with leave-one-out, only users with 3 or more events have a validation target)"
        )
    return evaluate_scores(
        model.score,
        known,
        targets,
        k=k,
        batch_size=batch_size,
        progress=progress,
        who=type(model).__name__,
        ties=ties,
        n_negatives=n_negatives,
        seed=seed,
    )
