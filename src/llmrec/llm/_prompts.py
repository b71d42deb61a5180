"""Prompts that ask a language model to rank candidate items (chapter: *Generative LLMs*).

The three zero-shot styles of LLMRank (Hou et al., *Large language models are zero-shot rankers for recommender
systems*, ECIR 2024), written from a user's most recent history ``h_1..h_m`` (oldest first) and candidates
``c_1..c_n`` (in the order they are shown):

* ``"sequential"``: the history in order, then the candidates, then the request to rank them;
* ``"recency"``: the same, plus a sentence naming the most recent item ``h_m``;
* ``"in_context"``: ``h_1..h_{m-1}`` with ``h_m`` given as the right answer for that history (a demonstration
  built from the user's own data), then "now that I've just watched ``h_m``" and the candidates.

Items are listed one per line as ``"{i}. {title}"``, numbered from 1. :func:`chat_prompt` wraps a request in the
model's chat template and can open the assistant's answer (the scorer continues that text with each title).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._interactions import Interactions
from ..text._templates import item_labels

__all__ = ["PROMPT_STYLES", "SCORING_LEAD", "chat_prompt", "numbered", "ranking_prompt", "recent_titles"]

PROMPT_STYLES = ("sequential", "recency", "in_context")

#: How the assistant's answer begins when candidates are scored by the likelihood of their titles.
SCORING_LEAD = "The movie I would like to watch next is: "


def numbered(titles: Sequence[str]) -> str:
    """``"1. t_1\\n2. t_2\\n..."``."""
    return "\n".join(f"{i}. {title}" for i, title in enumerate(titles, start=1))


def ranking_prompt(history: Sequence[str], candidates: Sequence[str], style: str = "sequential") -> str:
    """The LLMRank request for one user: ``history`` oldest first, ``candidates`` in display order."""
    if style not in PROMPT_STYLES:
        raise ValueError(f"style must be one of {PROMPT_STYLES}, not {style!r}")
    if len(history) < (2 if style == "in_context" else 1):
        raise ValueError(f"history needs at least {2 if style == 'in_context' else 1} titles for style {style!r}")
    if not candidates:
        raise ValueError("candidates must not be empty")
    n = len(candidates)
    if style == "in_context":
        last = history[-1]
        opening = (
            f"I've watched the following movies in the past in order:\n{numbered(history[:-1])}\n\n"
            f"Then if I ask you to recommend a new movie to me according to my watching history, you should "
            f"recommend {last}. Now that I've just watched {last}, there are {n} candidate movies that I can "
            f"watch next:\n{numbered(candidates)}\n\n"
        )
    else:
        opening = f"I've watched the following movies in the past in order:\n{numbered(history)}\n\n"
        if style == "recency":
            opening += f"Note that my most recently watched movie is {history[-1]}. "
        opening += f"Now there are {n} candidate movies that I can watch next:\n{numbered(candidates)}\n\n"
    return opening + (
        f"Please rank these {n} movies by measuring the possibilities that I would like to watch next most, "
        "according to my watching history. You MUST rank the given candidate movies. You can not generate "
        "movies that are not in the given candidate list. Answer with the titles only, one per line."
    )


def chat_prompt(tokenizer: Any, request: str, answer_start: str = "") -> str:
    """``request`` as a user turn in the tokenizer's chat template, the assistant turn opened and begun with
    ``answer_start``; a tokenizer without a chat template gets ``request + "\\n" + answer_start``."""
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": request}], tokenize=False, add_generation_prompt=True
        )
    else:
        text = request + "\n"
    return text + answer_start


def recent_titles(data: Interactions, users: Sequence[int], n: int = 10) -> list[list[str]]:
    """Each user's last ``n`` items of ``data`` as ``"{title} ({year})"`` labels, **oldest first** (the order the
    LLMRank prompts list a history in)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if data.items is None:
        raise ValueError("data has no items table (titles); load it with load_dataset")
    indptr, sequence = data.sequences()
    labels = item_labels(data.items)
    return [[labels[i] for i in sequence[max(indptr[u], indptr[u + 1] - n) : indptr[u + 1]]] for u in users]
