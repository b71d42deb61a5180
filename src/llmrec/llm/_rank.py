"""Zero-shot candidate ranking with a causal LM, the LLMRank protocol (chapter: *Generative LLMs*).

For user ``u`` with candidate titles ``c_1..c_n`` shown in the order ``pi`` (a permutation), the prompt
``x_u(pi)`` is :func:`~llmrec.llm.ranking_prompt` in the chat template, the assistant's answer opened with
:data:`~llmrec.llm.SCORING_LEAD`, and candidate ``j`` scores

    s_uj(pi) = (1 / L_j) log p(c_j, eos | x_u(pi))         (:func:`~llmrec.llm.score_texts`, reduction "mean").

The score depends on ``pi``: a candidate listed in a different slot gets a different score (*position bias*).
LLMRank's remedy, *bootstrapping*, ranks the same candidates under ``B`` random orders and aggregates; here the
aggregate is the mean score ``(1/B) sum_b s_uj(pi_b)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ._candidates import candidate_orders
from ._prompts import SCORING_LEAD, chat_prompt, ranking_prompt
from ._scoring import score_texts

__all__ = ["bootstrap_scores", "zero_shot_scores"]


def zero_shot_scores(
    model: torch.nn.Module,
    tokenizer: Any,
    histories: Sequence[Sequence[str]],
    titles: np.ndarray,
    orders: np.ndarray,
    style: str = "sequential",
    reduction: str = "mean",
    progress: bool = False,
    desc: str = "zero-shot",
) -> np.ndarray:
    """``(U, n)`` scores, column ``j`` for candidate ``titles[u, j]``, the candidates shown in order ``orders[u]``."""
    titles, orders = np.asarray(titles, dtype=object), np.asarray(orders)
    if titles.shape != orders.shape or titles.ndim != 2 or len(histories) != titles.shape[0]:
        raise ValueError(
            f"titles {titles.shape} and orders {orders.shape} must both be (users, candidates), one row per history "
            f"({len(histories)})"
        )
    shown = np.take_along_axis(titles, orders, axis=1)
    prompts = [
        chat_prompt(tokenizer, ranking_prompt(list(h), list(row), style), SCORING_LEAD)
        for h, row in zip(histories, shown, strict=True)
    ]
    in_shown_order = score_texts(
        model, tokenizer, prompts, shown.tolist(), reduction=reduction, progress=progress, desc=desc
    )
    out = np.empty_like(in_shown_order)
    np.put_along_axis(out, orders, in_shown_order, axis=1)
    return out


def bootstrap_scores(
    model: torch.nn.Module,
    tokenizer: Any,
    histories: Sequence[Sequence[str]],
    titles: np.ndarray,
    n_orders: int = 3,
    style: str = "sequential",
    seed: int = 42,
    first: np.ndarray | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Mean of :func:`zero_shot_scores` over ``n_orders`` seeded random display orders (LLMRank's bootstrapping):
    order ``b`` is ``candidate_orders(U, n, seed + b)``. ``first``: the scores under order 0 if already computed
    (the same style and ``candidate_orders(U, n, seed)``), so they are not computed again."""
    if n_orders < 1:
        raise ValueError(f"n_orders must be >= 1, got {n_orders}")
    total = np.zeros(np.shape(titles)) if first is None else np.array(first, dtype=np.float64)
    for b in range(0 if first is None else 1, n_orders):
        orders = candidate_orders(len(histories), np.shape(titles)[1], seed=seed + b)
        total += zero_shot_scores(
            model, tokenizer, histories, titles, orders, style, progress=progress, desc=f"order {b + 1}"
        )
    return total / n_orders
