"""A causal Transformer over item ids built from Hugging Face ``transformers`` (chapter: *Attention and
Transformers*): GPT-2's blocks (``GPT2Model``) in a small configuration, trained from scratch on users' item
sequences (no pretrained weights; nothing is downloaded).

It is one of the book's next-item sequence models (:class:`~llmrec.models.SequentialRecommender`): the same
right-padded ``[<bos>, i_1, ..., i_T]`` histories, tied item embeddings ``score(u, j) = h_T(u) . e_j``,
full-softmax cross-entropy at every position, early stopping and transfer options, and the same trainer as
chapter 7's SASRec. Only the encoder differs: GPT-2's (learned positions added to the item embeddings without
scaling, GELU feed-forward of width 4d, pre-LayerNorm blocks, a final LayerNorm).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._base import register_model
from ._sequential import SequentialRecommender, right_padded_sequences

__all__ = ["GPT2Encoder", "GPTRecommender", "right_padded_sequences"]


class GPT2Encoder(nn.Module):
    """``GPT2Model`` run on given item embeddings (``inputs_embeds``): ``h = LN_f(blocks(x + p))``.

    Histories are right-padded, so under the causal mask no real position attends to padding and no attention
    mask is needed. GPT-2's own token table is not used (the item table lives in the shared network); it is
    built with a vocabulary of one.
    """

    def __init__(self, embedding_size: int, num_layers: int, num_heads: int, max_len: int, dropout: float) -> None:
        super().__init__()
        from transformers import GPT2Config, GPT2Model

        config = GPT2Config(
            vocab_size=1,
            bos_token_id=0,  # GPT-2's own token table (a vocabulary of one) is not used
            eos_token_id=0,
            n_positions=max_len,
            n_embd=embedding_size,
            n_layer=num_layers,
            n_head=num_heads,
            resid_pdrop=dropout,
            embd_pdrop=dropout,
            attn_pdrop=dropout,
            attn_implementation="eager",  # the plain softmax(QK^T/sqrt(d))V path, which can return its weights
        )
        self.model = GPT2Model(config)

    def forward(self, embedded: torch.Tensor, ids: torch.Tensor | None = None) -> torch.Tensor:
        return self.model(inputs_embeds=embedded).last_hidden_state

    @torch.inference_mode()
    def attention_maps(self, embedded: torch.Tensor) -> torch.Tensor:
        """Attention weights ``(layers, heads, T, T)`` for one sequence ``embedded`` (1, T, d)."""
        out = self.model(inputs_embeds=embedded, output_attentions=True)
        return torch.stack([a[0] for a in out.attentions])


@register_model("gpt")
class GPTRecommender(SequentialRecommender):
    """``score(u, j) = h_T(u) . e_j`` with ``h`` the :class:`GPT2Encoder` state after u's history.

    Defaults are chapter 3's: 2 blocks of 2 heads, d = 64, histories of 49 items, dropout 0.2, AdamW with weight
    decay 0.01 at 3e-3, batches of 64, 20 epochs. Every :class:`~llmrec.models.SequentialRecommender` option
    applies (``patience``, ``loss``, ``text_weight``, ``init_from``, ...).
    """

    _desc = "gpt"

    def __init__(
        self,
        embedding_size: int = 64,
        num_layers: int = 2,
        num_heads: int = 2,
        max_len: int = 50,
        dropout: float = 0.2,
        epochs: int = 20,
        batch_size: int = 64,
        learning_rate: float = 3e-3,
        reg: float = 0.01,
        optimizer: str = "adamw",
        **options: Any,
    ) -> None:
        super().__init__(
            embedding_size=embedding_size,
            max_len=max_len,
            dropout=dropout,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            reg=reg,
            optimizer=optimizer,
            **options,
        )
        if num_layers < 1 or num_heads < 1:
            raise ValueError(f"num_layers and num_heads must be >= 1, got {num_layers} and {num_heads}")
        if embedding_size % num_heads:
            raise ValueError(f"embedding_size ({embedding_size}) must be divisible by num_heads ({num_heads})")
        self.num_layers, self.num_heads = num_layers, num_heads

    def _encoder(self) -> nn.Module:
        return GPT2Encoder(self.embedding_size, self.num_layers, self.num_heads, self.max_len, self.dropout)

    def _uses_text(self) -> bool:
        return self.text_weight != 0.0

    def attention_maps(self, user: int) -> torch.Tensor:
        """Attention weights ``(layers, heads, T, T)`` over the user's (truncated) history, ``<bos>`` first."""
        length = int(self.lengths_[user])
        inputs = self.sequences_[user : user + 1, :length]
        self.network_.eval()
        with torch.inference_mode():
            return self.network_.encoder.attention_maps(self.network_.item_table()[inputs])
