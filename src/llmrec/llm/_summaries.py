"""LLM-written interest summaries as user vectors for cold-start users (chapter: *Generative LLMs*).

Article 004 (§3.2) has a language model summarise what a user is interested in and uses the summary as the
user's representation. Here, for user ``u`` with history titles ``h_1..h_m`` (oldest first):

    summary_u = greedy_decode(LM, chat(summary_prompt(h_1..h_m)), at most T new tokens)
    v_u       = enc(summary_u) / ||enc(summary_u)||          (chapter 6's sentence encoder, unit vectors)
    s(u, i)   = v_u . v_i,  v_i = enc(item_text_i) / ||enc(item_text_i)||     (cosine similarity)

compared with chapter 6's template text of the *same* history (``"rated r: title (year); ..."``, newest first)
encoded by the same encoder. Generation is batched: requests are left-padded to a common length (the attention
mask hides the padding, and Llama-style models take positions from the mask), and decoding is greedy, so the
summaries are deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from tqdm import tqdm  # text bars: tqdm.auto wants ipywidgets in a notebook and warns without it

from ._prompts import chat_prompt, numbered

__all__ = ["cosine_scores", "generate_batch", "interest_summaries", "summary_prompt"]


def summary_prompt(history: Sequence[str]) -> str:
    """The request for one user's interest summary, ``history`` oldest first."""
    if not history:
        raise ValueError("history must hold at least one title")
    return (
        f"A user watched these movies, oldest first:\n{numbered(history)}\n\n"
        "In one or two sentences, describe the kinds of movies this user enjoys (genres, themes, moods, eras). "
        "Do not list the titles."
    )


def _pad_id(tokenizer: Any) -> int:
    pad = getattr(tokenizer, "pad_token_id", None)
    if pad is None:
        pad = getattr(tokenizer, "eos_token_id", None)
    return 0 if pad is None else int(pad)


@torch.no_grad()
def generate_batch(
    model: torch.nn.Module,
    tokenizer: Any,
    requests: Sequence[str],
    max_new_tokens: int = 48,
    batch_size: int = 8,
    progress: bool = False,
    desc: str = "generate",
) -> list[str]:
    """The model's greedy answer to each request (chat template applied), ``batch_size`` requests per call of
    ``model.generate``, left-padded; the answers without prompt and special tokens, stripped."""
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    model.eval()
    pad = _pad_id(tokenizer)
    answers: list[str] = []
    starts = range(0, len(requests), batch_size)
    for start in tqdm(starts, desc=desc, disable=not progress, leave=False):
        rows = [
            tokenizer(chat_prompt(tokenizer, request), add_special_tokens=False)["input_ids"]
            for request in requests[start : start + batch_size]
        ]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, width - len(row) :] = torch.as_tensor(row, dtype=torch.long)
            mask[i, width - len(row) :] = 1
        output = model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=pad,
        )
        answers += [tokenizer.decode(row[width:].tolist(), skip_special_tokens=True).strip() for row in output]
    return answers


def interest_summaries(
    model: torch.nn.Module,
    tokenizer: Any,
    histories: Sequence[Sequence[str]],
    max_new_tokens: int = 48,
    batch_size: int = 8,
    progress: bool = False,
) -> list[str]:
    """One greedy interest summary per history (:func:`summary_prompt`, at most ``max_new_tokens`` tokens)."""
    requests = [summary_prompt(list(h)) for h in histories]
    return generate_batch(model, tokenizer, requests, max_new_tokens, batch_size, progress, desc="summaries")


def cosine_scores(user_vectors: np.ndarray, item_vectors: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """``(U, n)``: ``cos(v_u, v_i)`` for each user's candidate items ``candidates[u]`` (rows need not be
    normalised; a zero row scores 0)."""
    users = np.asarray(user_vectors, dtype=np.float64)
    items = np.asarray(item_vectors, dtype=np.float64)
    users = users / np.maximum(np.linalg.norm(users, axis=1, keepdims=True), 1e-12)
    items = items / np.maximum(np.linalg.norm(items, axis=1, keepdims=True), 1e-12)
    return np.einsum("ud,und->un", users, items[np.asarray(candidates)])
