"""Ranking by generation: the model writes a ranked list, titles are matched back (chapter: *Generative LLMs*).

Greedy decoding (no sampling, so the output is deterministic) continues the chat prompt. Each line of the answer
is cleaned (list numbers, quotes and a trailing year dropped, lower-cased, runs of non-alphanumerics collapsed)
and matched to the closest candidate not matched yet: an exact match of the cleaned texts first, else the
candidate with the highest ``difflib`` similarity ratio if it is at least ``cutoff``. A line that matches nothing
(an invented title) is skipped. Candidates the model never names are ranked after the named ones, in display
order; the score of the candidate at rank ``r`` (1-based) is ``n - r``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ._prompts import chat_prompt

__all__ = ["clean_title", "generate_text", "match_ranking"]

_NUMBER = re.compile(r"^\s*(?:[-*\u2022]\s*)?(?:\(?\d+[.):]\s*)?")
_YEAR = re.compile(r"\(\d{4}\)\s*$")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def clean_title(text: str) -> str:
    """Lower-cased title without list number, quotes, trailing ``(year)`` and punctuation runs."""
    text = _NUMBER.sub("", text.strip()).strip().strip("\"'`*")
    text = _YEAR.sub("", text)
    return _NON_ALNUM.sub(" ", text.lower()).strip()


def match_ranking(answer: str, candidates: Sequence[str], cutoff: float = 0.6) -> tuple[np.ndarray, int]:
    """``(scores, n_matched)``: candidate scores from the ranked ``answer`` (module docstring) and how many
    candidates its lines named."""
    cleaned = [clean_title(c) for c in candidates]
    ranked: list[int] = []
    for line in answer.splitlines():
        text = clean_title(line)
        if not text:
            continue
        free = [i for i in range(len(candidates)) if i not in ranked]
        exact = [i for i in free if cleaned[i] == text]
        if exact:
            ranked.append(exact[0])
            continue
        ratios = [difflib.SequenceMatcher(None, text, cleaned[i]).ratio() for i in free]
        if ratios and max(ratios) >= cutoff:
            ranked.append(free[int(np.argmax(ratios))])
    matched = len(ranked)
    ranked += [i for i in range(len(candidates)) if i not in ranked]
    scores = np.empty(len(candidates))
    scores[ranked] = len(candidates) - np.arange(1, len(candidates) + 1)
    return scores, matched


@torch.no_grad()
def generate_text(
    model: torch.nn.Module, tokenizer: Any, request: str, max_new_tokens: int = 128, answer_start: str = ""
) -> str:
    """The model's greedy answer to ``request`` (chat template applied), without the prompt."""
    prompt = chat_prompt(tokenizer, request, answer_start)
    inputs = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")
    output = model.generate(
        **inputs,
        max_new_tokens=max_new_tokens,
        do_sample=False,
        pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
    )
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
