"""The ranking losses of the book in one place (chapters: *Collaborative-filtering formulas*, *LLM text encoders*,
*Sequential interest*). Each takes row-aligned vectors or logits and returns a mean over the batch."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["bpr_loss", "in_batch_softmax_loss"]


def bpr_loss(users: torch.Tensor, positives: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
    """``-(1/B) sum_b ln sigma(u_b . v_b+ - u_b . v_b-)`` for row-aligned user, positive and negative vectors."""
    return -F.logsigmoid((users * (positives - negatives)).sum(1)).mean()


def in_batch_softmax_loss(
    users: torch.Tensor,
    items: torch.Tensor,
    targets: torch.Tensor,
    log_q: torch.Tensor | None = None,
    temperature: float = 1.0,
) -> torch.Tensor:
    """Sampled softmax with in-batch negatives (InfoNCE):
    ``-(1/B) sum_b log softmax_j(s_bj)[b]`` with ``s_bj = u_b . v_j / temperature - log q_j``.

    ``targets`` are the item ids of the rows of ``items``: another row with the same item is the user's own
    positive and is masked out of the negatives. ``log_q`` (log of each row's probability of being drawn into a
    batch) corrects the popularity bias of in-batch negatives (Yi et al., RecSys 2019): without it a popular
    item is a negative in many batches and the model learns ``log p(i | u) - log p(i)`` instead of
    ``log p(i | u)``.
    """
    logits = users @ items.T / temperature
    if log_q is not None:
        logits = logits - log_q[None, :]
    duplicate = (targets[:, None] == targets[None, :]) & ~torch.eye(len(targets), dtype=torch.bool)
    logits = logits.masked_fill(duplicate, float("-inf"))
    return F.cross_entropy(logits, torch.arange(len(targets)))
