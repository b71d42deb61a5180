"""Attention and a Transformer decoder block, from scratch in torch (chapter: *Attention and Transformers*).

Each function is checked in the tests against the library that does the same:
``torch.nn.functional.scaled_dot_product_attention``, ``torch.nn.MultiheadAttention`` and the attention and block
of Hugging Face's GPT-2.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = [
    "DecoderBlock",
    "MultiHeadAttention",
    "causal_mask",
    "scaled_dot_product_attention",
    "sinusoidal_positional_encoding",
]


def causal_mask(length: int) -> torch.Tensor:
    """``M[i, j] = True`` where position ``i`` may attend to ``j``, i.e. ``j <= i`` (lower triangle)."""
    return torch.ones(length, length, dtype=torch.bool).tril()


def scaled_dot_product_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None, causal: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """``Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V``; returns ``(output, weights)``.

    ``q``: (..., T_q, d_k), ``k``: (..., T_k, d_k), ``v``: (..., T_k, d_v). ``mask`` is boolean, True where
    attention is allowed (broadcast to (..., T_q, T_k)); disallowed scores get ``-inf`` before the softmax.
    ``causal=True`` adds the lower-triangular mask. A row with no allowed key would be all ``-inf`` and give
    NaN; such rows are returned as zeros (and zero weights) instead.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    allowed = torch.ones_like(scores, dtype=torch.bool)
    if mask is not None:
        allowed = allowed & mask
    if causal:
        allowed = allowed & causal_mask(scores.shape[-1])[-scores.shape[-2] :]
    scores = scores.masked_fill(~allowed, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    weights = torch.where(allowed.any(dim=-1, keepdim=True), weights, torch.zeros_like(weights))
    return weights @ v, weights


def sinusoidal_positional_encoding(length: int, d_model: int) -> torch.Tensor:
    """``PE[p, 2i] = sin(p / 10000^(2i/d))``, ``PE[p, 2i+1] = cos(p / 10000^(2i/d))``; shape (length, d_model)."""
    position = torch.arange(length, dtype=torch.float64)[:, None]
    frequency = torch.exp(-math.log(10000.0) * torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    pe = torch.zeros(length, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * frequency)
    pe[:, 1::2] = torch.cos(position * frequency)[:, : d_model // 2]
    return pe.float()


class MultiHeadAttention(nn.Module):
    """``MultiHead(X) = Concat(head_1..head_h) W_O``, ``head_j = Attention(X W_Q^j, X W_K^j, X W_V^j)``.

    ``W_Q``, ``W_K``, ``W_V``, ``W_O`` are ``d x d`` linear maps (with bias); head ``j`` uses columns
    ``j d/h .. (j+1) d/h - 1`` of each projection.
    """

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.num_heads, self.embed_dim // self.num_heads).transpose(1, 2)

    def forward(
        self, x: torch.Tensor, causal: bool = False, key_padding_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x``: (B, T, d). ``key_padding_mask``: (B, T) True at padding (as in ``nn.MultiheadAttention``).
        Returns the output (B, T, d) and the attention weights (B, h, T, T)."""
        mask = None if key_padding_mask is None else ~key_padding_mask[:, None, None, :]
        out, weights = scaled_dot_product_attention(
            self._heads(self.q_proj(x)), self._heads(self.k_proj(x)), self._heads(self.v_proj(x)), mask, causal
        )
        b, _, t, _ = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, t, self.embed_dim)), weights

    @torch.no_grad()
    def load_from_torch(self, mha: nn.MultiheadAttention) -> MultiHeadAttention:
        """Copy the weights of a ``torch.nn.MultiheadAttention`` (packed ``in_proj_weight``)."""
        for part, proj in zip(mha.in_proj_weight.chunk(3), (self.q_proj, self.k_proj, self.v_proj), strict=True):
            proj.weight.copy_(part)
        for part, proj in zip(mha.in_proj_bias.chunk(3), (self.q_proj, self.k_proj, self.v_proj), strict=True):
            proj.bias.copy_(part)
        self.out_proj.weight.copy_(mha.out_proj.weight)
        self.out_proj.bias.copy_(mha.out_proj.bias)
        return self

    @torch.no_grad()
    def load_from_gpt2(self, attention: nn.Module) -> MultiHeadAttention:
        """Copy a Hugging Face ``GPT2Attention`` (``c_attn``/``c_proj`` are Conv1D: weight is (in, out))."""
        weight, bias = attention.c_attn.weight, attention.c_attn.bias
        for j, proj in enumerate((self.q_proj, self.k_proj, self.v_proj)):
            proj.weight.copy_(weight[:, j * self.embed_dim : (j + 1) * self.embed_dim].T)
            proj.bias.copy_(bias[j * self.embed_dim : (j + 1) * self.embed_dim])
        self.out_proj.weight.copy_(attention.c_proj.weight.T)
        self.out_proj.bias.copy_(attention.c_proj.bias)
        return self


class DecoderBlock(nn.Module):
    """One pre-LayerNorm Transformer decoder block, as in GPT-2:

    ``h = x + MHA(LN_1(x))`` with a causal mask, then ``y = h + W_2 GELU(W_1 LN_2(h) + b_1) + b_2``
    (inner size 4d; GELU in GPT-2's tanh approximation).
    """

    def __init__(self, embed_dim: int, num_heads: int, layer_norm_eps: float = 1e-5) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(embed_dim, eps=layer_norm_eps)
        self.attention = MultiHeadAttention(embed_dim, num_heads)
        self.ln_2 = nn.LayerNorm(embed_dim, eps=layer_norm_eps)
        self.fc_in = nn.Linear(embed_dim, 4 * embed_dim)
        self.fc_out = nn.Linear(4 * embed_dim, embed_dim)
        self.activation = nn.GELU(approximate="tanh")

    def forward(
        self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        attended, weights = self.attention(self.ln_1(x), causal=True, key_padding_mask=key_padding_mask)
        h = x + attended
        return h + self.fc_out(self.activation(self.fc_in(self.ln_2(h)))), weights

    @torch.no_grad()
    def load_from_gpt2(self, block: nn.Module) -> DecoderBlock:
        """Copy a Hugging Face ``GPT2Block`` (same layout; its MLP uses Conv1D)."""
        self.ln_1.load_state_dict(block.ln_1.state_dict())
        self.ln_2.load_state_dict(block.ln_2.state_dict())
        self.attention.load_from_gpt2(block.attn)
        self.fc_in.weight.copy_(block.mlp.c_fc.weight.T)
        self.fc_in.bias.copy_(block.mlp.c_fc.bias)
        self.fc_out.weight.copy_(block.mlp.c_proj.weight.T)
        self.fc_out.bias.copy_(block.mlp.c_proj.bias)
        return self
