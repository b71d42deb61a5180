"""Full-ranking evaluation of top-K recommendation (chapter: *Data and evaluation*).

Protocol (the exact rule, quoted in the book)
---------------------------------------------
For every user with at least one target in the evaluated stage, the model scores **all** items. The
candidates are all items except the user's *known* items, i.e. the items of the data the model was fitted on
for that stage (``train`` at validation time; ``train`` and the validation item at test time); a target item is
never removed, even if it is also known. Items are ranked by descending score; equal scores are ordered by
ascending item id (a stable sort), so results are deterministic. The top-K list contains only candidates.

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

if TYPE_CHECKING:
    from .models import Recommender
    from .split import Split

__all__ = ["METRICS", "EvaluationResult", "check_scores", "evaluate", "evaluate_scores", "f1_score", "rank_metrics"]

METRICS = ("HR", "NDCG", "MRR", "Recall", "Precision", "F1", "Coverage")
PER_USER_METRICS = METRICS[:-1]


@dataclass(frozen=True)
class EvaluationResult:
    """Per-user metric values (for significance tests) and the list-level coverage."""

    k: int
    per_user: pd.DataFrame
    coverage: float

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


def rank_metrics(
    scores: torch.Tensor, known: torch.Tensor, targets: torch.Tensor, k: int
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Per-user metrics for one batch; returns ``(metrics, topk_items)``.

    ``scores`` (B, n) float; ``known`` and ``targets`` (B, n) bool. ``topk_items`` holds -1 where a user has
    fewer than K candidates.
    """
    masked = scores.float().masked_fill(known & ~targets, float("-inf"))
    k_eff = min(k, masked.shape[1])
    values, order = torch.sort(masked, dim=1, descending=True, stable=True)
    values, order = values[:, :k_eff], order[:, :k_eff]
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
) -> EvaluationResult:
    """Evaluate ``score_batch(users: LongTensor) -> (B, n_items) scores`` on every user that has a target."""
    if k < 1:
        raise ValueError(f"k must be a positive integer, got {k}")
    n_users, n_items = targets.shape
    if known.shape != targets.shape:
        raise ValueError(f"known {known.shape} and targets {targets.shape} must have the same shape")
    users = np.flatnonzero(np.diff(targets.indptr) > 0)
    if len(users) == 0:
        raise ValueError(f"evaluating {who}: no user has a target, so every metric would be undefined (NaN)")
    columns = {f"{m}@{k}": [] for m in PER_USER_METRICS}
    recommended = torch.zeros(n_items + 1, dtype=torch.bool)  # last slot absorbs -1 (no candidate)
    batches = range(0, len(users), batch_size)
    for start in tqdm(batches, desc=f"evaluate {who}", disable=not progress, leave=False):
        batch = users[start : start + batch_size]
        user_tensor = torch.from_numpy(batch.astype(np.int64))
        scores = score_batch(user_tensor)
        check_scores(scores, (len(batch), n_items), who)
        metrics, top = rank_metrics(scores, _dense_rows(known, batch), _dense_rows(targets, batch), k)
        for name, values in metrics.items():
            columns[f"{name}@{k}"].append(values.numpy())
        recommended[top.flatten()] = True
    per_user = pd.DataFrame(
        {name: np.concatenate(parts) if parts else np.array([], np.float32) for name, parts in columns.items()},
        index=pd.Index(users, name="user"),
    )
    coverage = float(recommended[:n_items].sum()) / n_items
    return EvaluationResult(k, per_user, coverage)


def evaluate(
    model: Recommender,
    split: Split,
    stage: str = "test",
    k: int = 10,
    batch_size: int = 1024,
    progress: bool = False,
) -> EvaluationResult:
    """Full-ranking evaluation of a model fitted on ``split.fit_data(stage)`` against ``split.targets(stage)``.

    Raises ``ValueError`` when no user has a target in that stage (every metric would be NaN).
    """
    known = split.fit_data(stage).matrix()
    targets = split.targets(stage).matrix()
    if targets.nnz == 0:
        raise ValueError(
            f"no user has a target in the {stage!r} stage of split {split.name!r}: nothing to evaluate "
            "(with leave-one-out, only users with 3 or more events have a validation target)"
        )
    return evaluate_scores(
        model.score, known, targets, k=k, batch_size=batch_size, progress=progress, who=type(model).__name__
    )
