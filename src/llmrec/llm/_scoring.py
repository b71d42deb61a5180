"""Candidate scoring by conditional log-likelihood (chapter: *Generative LLMs*).

A causal language model gives every token a distribution over the next one. The score of a candidate text
``c = (c_1..c_L)`` after a prompt ``x = (x_1..x_P)`` is its conditional log-likelihood

    log p(c | x) = sum_{t=1..L} log p(c_t | x, c_1..c_{t-1}),

optionally divided by ``L`` (``reduction="mean"``, so long titles are not penalised for their length). All
candidates of one prompt share the prefix ``x``: :func:`continuation_logprobs` runs ``x`` through the model once,
keeps its key/value cache, repeats the cache over a batch of candidates and runs only the candidate tokens
(``share_prefix=False`` runs prefix and candidate together for each candidate, the reference the tests compare
with). Prompt and candidate are tokenised separately and concatenated, so both paths score the same tokens.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from tqdm import tqdm  # text bars: tqdm.auto wants ipywidgets in a notebook and warns without it

__all__ = ["continuation_logprobs", "score_texts"]


def _pad(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ``(B, L)`` ids and their 0/1 mask."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.as_tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return ids, mask


@torch.no_grad()
def continuation_logprobs(
    model: torch.nn.Module,
    prefix: Sequence[int],
    continuations: Sequence[Sequence[int]],
    batch_size: int = 32,
    share_prefix: bool = True,
) -> torch.Tensor:
    """``sum_t log p(c_t | prefix, c_<t)`` for every continuation (token ids); a ``(n,)`` float tensor."""
    if len(prefix) < 1:
        raise ValueError("prefix must hold at least one token")
    if any(len(c) < 1 for c in continuations):
        raise ValueError("every continuation must hold at least one token")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    model.eval()
    prefix_ids = torch.as_tensor(list(prefix), dtype=torch.long)[None]
    n_prefix = prefix_ids.shape[1]
    out = torch.empty(len(continuations))
    if share_prefix:
        first = model(input_ids=prefix_ids, use_cache=True, logits_to_keep=1)  # only the last position's logits
        cache = first.past_key_values
        last = torch.log_softmax(first.logits[0, -1].float(), dim=-1)  # predicts each continuation's first token
    for start in range(0, len(continuations), batch_size):
        rows = continuations[start : start + batch_size]
        if share_prefix:
            ids, mask = _pad(rows, 0)
            batch_cache = copy.deepcopy(cache)
            batch_cache.batch_repeat_interleave(len(rows))
            attention = torch.cat([torch.ones(len(rows), n_prefix, dtype=torch.long), mask], dim=1)
            logits = model(input_ids=ids, attention_mask=attention, past_key_values=batch_cache).logits
            logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
            rest = logp.gather(-1, ids[:, 1:, None]).squeeze(-1) * mask[:, 1:]
            out[start : start + len(rows)] = last[ids[:, 0]] + rest.sum(dim=1)
        else:
            ids, mask = _pad([list(prefix) + list(r) for r in rows], 0)
            logits = model(input_ids=ids, attention_mask=mask).logits
            logp = torch.log_softmax(logits[:, n_prefix - 1 : -1].float(), dim=-1)
            targets = ids[:, n_prefix:]
            picked = logp.gather(-1, targets[..., None]).squeeze(-1) * mask[:, n_prefix:]
            out[start : start + len(rows)] = picked.sum(dim=1)
    return out


def score_texts(
    model: torch.nn.Module,
    tokenizer: Any,
    prompts: Sequence[str],
    candidates: Sequence[Sequence[str]],
    reduction: str = "mean",
    end: str | None = None,
    batch_size: int = 32,
    progress: bool = False,
    desc: str = "score candidates",
) -> np.ndarray:
    """A ``(len(prompts), n)`` array: ``log p(candidate + end | prompt)``, summed or averaged over its tokens.

    ``candidates[u]`` are the ``n`` texts scored after ``prompts[u]`` (every row the same length); ``end``
    (default: the tokenizer's end-of-sequence token) is appended to each candidate, so a title must also end
    where it ends. ``reduction`` is ``"sum"`` or ``"mean"`` (per candidate token, ``end`` included).
    """
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean', not {reduction!r}")
    if len(prompts) != len(candidates):
        raise ValueError(f"got {len(prompts)} prompts but {len(candidates)} candidate lists")
    widths = {len(c) for c in candidates}
    if len(widths) > 1:
        raise ValueError(f"every prompt needs the same number of candidates, got {sorted(widths)}")
    end = tokenizer.eos_token if end is None else end
    end = end or ""
    scores = np.zeros((len(prompts), widths.pop() if widths else 0), dtype=np.float64)
    for row, (prompt, texts) in enumerate(
        tqdm(list(zip(prompts, candidates, strict=True)), desc=desc, disable=not progress, leave=False)
    ):
        prefix = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        conts = [tokenizer(text + end, add_special_tokens=False)["input_ids"] for text in texts]
        total = continuation_logprobs(model, prefix, conts, batch_size=batch_size).double().numpy()
        scores[row] = total / np.array([len(c) for c in conts]) if reduction == "mean" else total
    return scores
