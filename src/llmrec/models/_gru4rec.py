"""GRU4Rec with full cross-entropy (chapter: *Sequential interest*).

A gated recurrent unit reads the history one item at a time (Hidasi et al., ICLR 2016; ``torch.nn.GRU``):

    z_t = s(W_z x_t + U_z h_{t-1}),  r_t = s(W_r x_t + U_r h_{t-1})
    h~_t = tanh(W_h x_t + U_h (r_t * h_{t-1})),   h_t = (1 - z_t) * h_{t-1} + z_t * h~_t

with ``x_t`` the (dropped-out) embedding of the t-th item, and scores ``h_t . e_j`` over all items, trained with
full-softmax cross-entropy at every position (``loss="ce"``, "GRU4Rec-CE" of the SASRec+ comparison).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._base import register_model
from ._sequential import SequentialRecommender

__all__ = ["GRU4Rec", "GRUEncoder"]


class GRUEncoder(nn.Module):
    """Embedding dropout, then a ``num_layers`` GRU of width d (causal by construction)."""

    def __init__(self, embedding_size: int, num_layers: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(
            embedding_size, embedding_size, num_layers, batch_first=True, dropout=dropout if num_layers > 1 else 0.0
        )

    def forward(self, embedded: torch.Tensor, ids: torch.Tensor | None = None) -> torch.Tensor:
        return self.gru(self.dropout(embedded))[0]


@register_model("gru4rec")
class GRU4Rec(SequentialRecommender):
    """``score(u, j) = h_T(u) . e_j`` with ``h`` a GRU over u's history (:class:`GRUEncoder`); the options
    (losses, text, genre head, ``patience``) are those of :class:`~llmrec.models.SequentialRecommender`."""

    _desc = "GRU4Rec"

    def __init__(self, embedding_size: int = 64, num_layers: int = 1, **options: Any) -> None:
        super().__init__(embedding_size=embedding_size, **options)
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.num_layers = num_layers

    def _encoder(self) -> nn.Module:
        return GRUEncoder(self.embedding_size, self.num_layers, self.dropout)

    def _uses_text(self) -> bool:
        return self.text_weight != 0.0
