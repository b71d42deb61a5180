"""SASRec: a causal self-attention encoder over item sequences (chapter: *Sequential interest*).

The encoder (Kang & McAuley, ICDM 2018, with the pre-LayerNorm blocks of current implementations):

    x_t = sqrt(d) e_{i_t} + p_t,    h^(0) = dropout(x)
    a   = h + MHA(LN_1(h))  (causal: position t attends to 0..t),    h' = a + FFN(LN_2(a))
    h_t = LN(h^(L))_t,             FFN(z) = W_2 act(W_1 z + b_1) + b_2

Each block is :class:`torch.nn.TransformerEncoderLayer` (``norm_first=True``), so attention runs through
PyTorch's fused ``scaled_dot_product_attention``. ``block="original"`` uses the block of the released SASRec code
instead (:class:`OriginalSASRecBlock`: the query normalised, keys and values not, and the residual stream
normalised before the feed-forward layer), which SASRec+'s published numbers were measured with. With
``loss="ce"`` this is SASRec+ (full softmax at every position; Klenitskiy & Vasilev, RecSys 2023);
``loss="bce"`` is the original one-negative objective; ``loss="unseen"`` with ``num_negatives=3000`` is
SASRec+'s sampled variant (negatives drawn among the films outside each user's history).
``text_weight`` > 0 (or :class:`TextSASRec`) adds adapted all-MiniLM-L6-v2 item vectors to the id embeddings.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._base import register_model
from ._sequential import SequentialRecommender

__all__ = ["ATTENTION_INITS", "BLOCKS", "OriginalSASRecBlock", "SASRec", "SASRecEncoder", "TextSASRec"]

BLOCKS = ("pre-ln", "original")
#: With ``init_std``: the query/key/value projection drawn from N(0, init_std^2) too, or left at PyTorch's
#: Xavier-uniform draw as SASRec+'s code leaves it (:func:`~llmrec.models.normal_init`).
ATTENTION_INITS = ("normal", "xavier")


class OriginalSASRecBlock(nn.Module):
    """The block of the released SASRec (Kang & McAuley's code; its PyTorch port is the one SASRec+ trains):

        q = LN_1(h),   a = q + MHA(q, h, h)   (causal; keys and values are the raw h),
        b = LN_2(a),   h' = b + dropout(W_2 dropout(act(W_1 b + b_1)) + b_2)

    Unlike a pre-LN block the residual stream is re-normalised in every block. Attribute names follow
    :class:`torch.nn.TransformerEncoderLayer` (``norm1``, ``self_attn``, ``norm2``, ``linear1``, ``linear2``)."""

    def __init__(
        self,
        embedding_size: int,
        num_heads: int,
        feedforward_size: int,
        dropout: float,
        activation: str,
        attention_dropout: float,
    ) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(embedding_size), nn.LayerNorm(embedding_size)
        self.self_attn = nn.MultiheadAttention(embedding_size, num_heads, dropout=attention_dropout, batch_first=True)
        self.linear1 = nn.Linear(embedding_size, feedforward_size)
        self.linear2 = nn.Linear(feedforward_size, embedding_size)
        self.dropout = nn.Dropout(dropout)
        self.activation = nn.ReLU() if activation == "relu" else nn.GELU()

    def forward(self, h: torch.Tensor, src_mask: torch.Tensor | None = None, is_causal: bool = True) -> torch.Tensor:
        q = self.norm1(h)
        a = q + self.self_attn(q, h, h, attn_mask=src_mask, need_weights=False, is_causal=is_causal)[0]
        b = self.norm2(a)
        return b + self.dropout(self.linear2(self.dropout(self.activation(self.linear1(b)))))


class SASRecEncoder(nn.Module):
    """Scaled item embeddings + learned positions, ``num_layers`` pre-LN Transformer blocks, final LayerNorm."""

    def __init__(
        self,
        embedding_size: int,
        num_layers: int,
        num_heads: int,
        feedforward_size: int,
        max_len: int,
        dropout: float,
        activation: str = "relu",
        attention_dropout: float | None = None,
        block: str = "pre-ln",
    ) -> None:
        super().__init__()
        self.scale = embedding_size**0.5
        self.positions = nn.Embedding(max_len, embedding_size)
        self.dropout = nn.Dropout(dropout)
        self.block = block
        if block == "original":
            self.layers = nn.ModuleList(
                OriginalSASRecBlock(
                    embedding_size,
                    num_heads,
                    feedforward_size,
                    dropout,
                    activation,
                    dropout if attention_dropout is None else attention_dropout,
                )
                for _ in range(num_layers)
            )
        else:
            self.layers = nn.ModuleList(
                nn.TransformerEncoderLayer(
                    embedding_size,
                    num_heads,
                    dim_feedforward=feedforward_size,
                    dropout=dropout,
                    activation=activation,
                    batch_first=True,
                    norm_first=True,
                )
                for _ in range(num_layers)
            )
        if attention_dropout is not None and block != "original":
            for layer in self.layers:  # dropout on the attention weights (0 allows the fused flash kernel)
                layer.self_attn.dropout = attention_dropout
        self.norm = nn.LayerNorm(embedding_size)

    def forward(self, embedded: torch.Tensor, ids: torch.Tensor | None = None) -> torch.Tensor:
        width = embedded.shape[1]
        h = self.dropout(embedded * self.scale + self.positions.weight[:width])
        mask = nn.Transformer.generate_square_subsequent_mask(width, dtype=h.dtype)
        for layer in self.layers:
            h = layer(h, src_mask=mask, is_causal=True)
        return self.norm(h)

    @torch.inference_mode()
    def attention_maps(self, embedded: torch.Tensor) -> torch.Tensor:
        """Attention weights ``(layers, heads, T, T)`` for one sequence ``embedded`` (1, T, d), in eval mode."""
        width = embedded.shape[1]
        h = embedded * self.scale + self.positions.weight[:width]
        mask = nn.Transformer.generate_square_subsequent_mask(width, dtype=h.dtype)
        maps = []
        for layer in self.layers:
            z = layer.norm1(h)
            keys = h if self.block == "original" else z
            _, weights = layer.self_attn(z, keys, keys, attn_mask=mask, need_weights=True, average_attn_weights=False)
            maps.append(weights[0])
            h = layer(h, src_mask=mask, is_causal=True)
        return torch.stack(maps)


@register_model("sasrec")
class SASRec(SequentialRecommender):
    """``score(u, j) = h_T(u) . e_j`` with ``h`` the :class:`SASRecEncoder` state after u's history.

    Defaults follow the SASRec+ recipe on ML-1M (2 blocks, 1 head, d = 64, dropout 0.1, max length 200, Adam
    1e-3, batch 128, full-softmax CE); ``feedforward_size`` defaults to d as in SASRec's point-wise FFN;
    ``attention_dropout`` (default: ``dropout``) = 0 lets attention run in PyTorch's fused flash kernel;
    ``block="original"`` selects :class:`OriginalSASRecBlock`; ``init_std=0.02`` with ``attention_init="xavier"``
    is SASRec+'s initialisation (``"normal"`` also draws the query/key/value projection from N(0, 0.02^2)).
    See :class:`~llmrec.models.SequentialRecommender` for the losses, text and genre options and ``patience``.
    """

    _desc = "SASRec"

    def __init__(
        self,
        embedding_size: int = 64,
        num_layers: int = 2,
        num_heads: int = 1,
        feedforward_size: int | None = None,
        activation: str = "relu",
        attention_dropout: float | None = None,
        block: str = "pre-ln",
        attention_init: str = "normal",
        **options: Any,
    ) -> None:
        super().__init__(embedding_size=embedding_size, **options)
        if block not in BLOCKS:
            raise ValueError(f"block must be one of {BLOCKS}, got {block!r}")
        if attention_init not in ATTENTION_INITS:
            raise ValueError(f"attention_init must be one of {ATTENTION_INITS}, got {attention_init!r}")
        self.block, self.attention_init = block, attention_init
        if num_layers < 1 or num_heads < 1 or embedding_size % num_heads:
            raise ValueError(
                f"num_layers and num_heads must be >= 1 and num_heads must divide embedding_size, got "
                f"{num_layers}, {num_heads}, {embedding_size}"
            )
        if activation not in ("relu", "gelu"):
            raise ValueError(f"activation must be 'relu' or 'gelu', got {activation!r}")
        if feedforward_size is not None and feedforward_size < 1:
            raise ValueError(f"feedforward_size must be None or >= 1, got {feedforward_size}")
        self.num_layers, self.num_heads, self.feedforward_size = num_layers, num_heads, feedforward_size
        if attention_dropout is not None and not 0.0 <= attention_dropout < 1.0:
            raise ValueError(f"attention_dropout must be None or lie in [0, 1), got {attention_dropout}")
        self.activation, self.attention_dropout = activation, attention_dropout

    def _encoder(self) -> nn.Module:
        return SASRecEncoder(
            self.embedding_size,
            self.num_layers,
            self.num_heads,
            self.feedforward_size or self.embedding_size,
            self.max_len,
            self.dropout,
            self.activation,
            self.attention_dropout,
            self.block,
        )

    def _uses_text(self) -> bool:
        return self.text_weight != 0.0

    def _xavier_attention_inputs(self) -> bool:
        return self.attention_init == "xavier"

    def attention_maps(self, user: int) -> torch.Tensor:
        """Attention weights ``(layers, heads, T, T)`` over the user's (truncated) history, ``<bos>`` first."""
        length = int(self.lengths_[user])
        inputs = self.sequences_[user : user + 1, :length]
        self.network_.eval()
        with torch.inference_mode():
            return self.network_.encoder.attention_maps(self.network_.item_table()[inputs])


@register_model("sasrec-text")
class TextSASRec(SASRec):
    """SASRec over text-enhanced items ``e_j = id_j + text_weight * A(x_j)``: ``x_j`` the all-MiniLM-L6-v2
    vector of the item's text (:func:`~llmrec.text.item_texts`, cached on disk), ``A`` a trainable
    :class:`~llmrec.models.TextAdapter` (linear, or ``text_experts`` > 1 linear experts with a softmax gate as in
    UniSRec). The adapter is built even when ``text_weight`` = 0, and after the id parameters, so that case
    reproduces :class:`SASRec` exactly."""

    _desc = "SASRec+text"

    def __init__(self, text_weight: float = 1.0, **options: Any) -> None:
        super().__init__(text_weight=text_weight, **options)

    def _uses_text(self) -> bool:
        return True
