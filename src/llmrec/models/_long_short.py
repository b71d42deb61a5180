"""An explicit long-/short-term interest model (chapter: *Sequential interest*).

After position t of a history with item embeddings ``x_0..x_t`` (``x_0`` is ``<bos>``):

    long-term   l_t = (1 / (t + 1)) sum_{j<=t} x_j                       (mean of the history)
    short-term  s_t = sum_{k<n} a_k x_{t-k},  a = softmax_k((W_q x_t) . (W_k x_{t-k} + r_k) / sqrt(d))
                                                                          (attention over the last n items)
    gate        g_t = s(w . [l_t; s_t] + b),     u_t = g_t l_t + (1 - g_t) s_t

``r_k`` is a learned recency vector (k = 0 the latest item). Scores are ``u_t . e_j``. ``mode="long"`` or
``"short"`` uses one part only (the ablation); :meth:`LongShortInterest.gates` returns ``g`` per user.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ._base import register_model
from ._sequential import SequentialRecommender

__all__ = ["LongShortEncoder", "LongShortInterest", "long_short_gate"]

MODES = ("both", "long", "short")


def long_short_gate(
    long: torch.Tensor, short: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``g = s(w . [l; s] + b)`` and ``u = g l + (1 - g) s`` for ``long``/``short`` (..., d), ``weight`` (2d,)."""
    gate = torch.sigmoid(torch.cat([long, short], dim=-1) @ weight + bias)[..., None]
    return gate * long + (1 - gate) * short, gate[..., 0]


class LongShortEncoder(nn.Module):
    """Computes ``u_t`` (or ``l_t`` / ``s_t`` alone) at every position, causally."""

    def __init__(self, embedding_size: int, window: int, dropout: float, mode: str = "both") -> None:
        super().__init__()
        self.window, self.mode = window, mode
        self.dropout = nn.Dropout(dropout)
        self.query = nn.Linear(embedding_size, embedding_size, bias=False)
        self.key = nn.Linear(embedding_size, embedding_size, bias=False)
        self.recency = nn.Parameter(torch.zeros(window, embedding_size))
        self.gate = nn.Linear(2 * embedding_size, 1)

    def parts(self, embedded: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(l, s)``, each (B, T, d)."""
        x = self.dropout(embedded)
        width, n = x.shape[1], self.window
        counts = torch.arange(1, width + 1, dtype=x.dtype)[None, :, None]
        long = x.cumsum(dim=1) / counts
        padded = F.pad(x, (0, 0, n - 1, 0))  # n - 1 zero rows before position 0
        windows = padded.unfold(1, n, 1).permute(0, 1, 3, 2).flip(2)  # (B, T, n, d); k = 0 is position t
        keys = self.key(windows) + self.recency
        logits = (keys @ self.query(x)[..., None])[..., 0] / x.shape[-1] ** 0.5  # (B, T, n)
        before_start = torch.arange(n)[None, :] > torch.arange(width)[:, None]  # t - k < 0
        weights = torch.softmax(logits.masked_fill(before_start, float("-inf")), dim=-1)
        short = (weights[..., None] * windows).sum(2)
        return long, short

    def forward(self, embedded: torch.Tensor, ids: torch.Tensor | None = None) -> torch.Tensor:
        long, short = self.parts(embedded)
        if self.mode == "long":
            return long
        if self.mode == "short":
            return short
        user, _ = long_short_gate(long, short, self.gate.weight[0], self.gate.bias[0])
        return user


@register_model("long-short")
class LongShortInterest(SequentialRecommender):
    """``score(u, j) = u_T . e_j`` with ``u_T`` the gated mix of long- and short-term interest
    (:class:`LongShortEncoder`; ``mode`` "both", "long" or "short", ``window`` = n). Options (losses, text, genre
    head, ``patience``) as in :class:`~llmrec.models.SequentialRecommender`."""

    _desc = "long-short"

    def __init__(self, embedding_size: int = 64, window: int = 5, mode: str = "both", **options: Any) -> None:
        super().__init__(embedding_size=embedding_size, **options)
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.window, self.mode = window, mode

    def _encoder(self) -> nn.Module:
        return LongShortEncoder(self.embedding_size, self.window, self.dropout, self.mode)

    def _uses_text(self) -> bool:
        return self.text_weight != 0.0

    @torch.inference_mode()
    def gates(self, users: torch.Tensor) -> torch.Tensor:
        """``g_T`` per user: the weight of the long-term part after the whole history (needs ``mode="both"``)."""
        if self.mode != "both":
            raise RuntimeError(f"gates need mode='both', the model has mode={self.mode!r}")
        users = torch.as_tensor(users).long()
        lengths = self.lengths_[users]
        inputs = self.sequences_[users, : int(lengths.max())]
        self.network_.eval()
        encoder = self.network_.encoder
        long, short = encoder.parts(self.network_.item_table()[inputs])
        _, gate = long_short_gate(long, short, encoder.gate.weight[0], encoder.gate.bias[0])
        return gate[torch.arange(len(users)), lengths - 1]
