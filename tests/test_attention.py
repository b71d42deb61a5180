"""Attention from scratch against numpy by hand, torch's SDPA and MultiheadAttention, and GPT-2's block."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from transformers import GPT2Config, GPT2Model

from llmrec.lm import (
    DecoderBlock,
    MultiHeadAttention,
    causal_mask,
    scaled_dot_product_attention,
    sinusoidal_positional_encoding,
)


def test_three_tokens_by_hand() -> None:
    x = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 2.0, 0.0, 2.0], [1.0, 1.0, 1.0, 1.0]])
    scores = x @ x.T / 2.0  # sqrt(d) = 2
    weights = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    expected = weights @ x
    t = torch.tensor(x, dtype=torch.float32)
    out, w = scaled_dot_product_attention(t, t, t)
    np.testing.assert_allclose(w.numpy(), weights, atol=1e-6)
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-6)
    # causal: token 0 sees only itself
    out, w = scaled_dot_product_attention(t, t, t, causal=True)
    np.testing.assert_allclose(out[0].numpy(), x[0], atol=1e-6)
    assert torch.all(w.triu(1) == 0)


@pytest.mark.parametrize("causal", [False, True])
def test_matches_torch_sdpa(causal: bool) -> None:
    q, k, v = torch.randn(3, 2, 4, 5, 8, generator=torch.Generator().manual_seed(0)).unbind(0)
    ours, _ = scaled_dot_product_attention(q, k, v, causal=causal)
    assert (ours - F.scaled_dot_product_attention(q, k, v, is_causal=causal)).abs().max() <= 1e-5


def test_fully_masked_rows_are_zero_not_nan() -> None:
    q = torch.randn(1, 3, 4)
    out, w = scaled_dot_product_attention(q, q, q, mask=torch.zeros(1, 3, 3, dtype=torch.bool))
    assert torch.isfinite(out).all() and (w == 0).all()


@pytest.mark.parametrize("causal", [False, True])
def test_matches_torch_multihead_attention(causal: bool) -> None:
    torch.manual_seed(1)
    reference = nn.MultiheadAttention(16, 4, batch_first=True)
    ours = MultiHeadAttention(16, 4).load_from_torch(reference)
    x = torch.randn(2, 6, 16)
    expected, _ = reference(x, x, x, attn_mask=~causal_mask(6) if causal else None, need_weights=False)
    assert (ours(x, causal=causal)[0] - expected).abs().max() <= 1e-5
    padding = torch.tensor([[False] * 6, [False] * 4 + [True] * 2])
    expected, _ = reference(x, x, x, key_padding_mask=padding, need_weights=False)
    assert (ours(x, key_padding_mask=padding)[0] - expected).abs().max() <= 1e-5


def test_decoder_block_matches_gpt2() -> None:
    torch.manual_seed(2)
    config = GPT2Config(
        n_embd=16,
        n_head=4,
        n_layer=1,
        n_positions=8,
        vocab_size=10,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=0,
        eos_token_id=0,
        attn_implementation="eager",
    )
    gpt2 = GPT2Model(config).eval()
    x = torch.randn(2, 5, 16)
    expected = gpt2(inputs_embeds=x).last_hidden_state  # the model builds its own causal mask
    block = DecoderBlock(16, 4).load_from_gpt2(gpt2.h[0]).eval()
    ours = gpt2.ln_f(block(x + gpt2.wpe(torch.arange(5)))[0])
    assert (ours - expected).abs().max() <= 1e-5
    # the attention alone, against GPT-2's attention probabilities
    with torch.no_grad():
        weights = gpt2(inputs_embeds=x, output_attentions=True).attentions[0]
        _, ours_w = block.attention(block.ln_1(x + gpt2.wpe(torch.arange(5))), causal=True)
    assert (ours_w - weights).abs().max() <= 1e-5


def test_sinusoidal_positional_encoding() -> None:
    pe = sinusoidal_positional_encoding(3, 4)
    expected = [
        [0, 1, 0, 1],
        [np.sin(1), np.cos(1), np.sin(0.01), np.cos(0.01)],
        [np.sin(2), np.cos(2), np.sin(0.02), np.cos(0.02)],
    ]
    np.testing.assert_allclose(pe.numpy(), expected, atol=1e-7)
    assert sinusoidal_positional_encoding(5, 7).shape == (5, 7)


def test_heads_must_divide_width() -> None:
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 3)
