"""Recommenders on text vectors from a pretrained language model (chapter: *LLM text encoders*).

Items and users become text (:mod:`llmrec.text`), a sentence encoder turns each text into a unit vector, and:

* ``text-content`` -- content-based: the user vector is the rating- (and optionally recency-) weighted mean of the
  vectors of the films in the history; ``score(u, i) = cos(x_u, e_i)``. No training.
* ``two-tower`` -- articles 002-004's ``U = f(W_1 x_u + b_1)``, ``V = f(W_2 x_i + b_2)``, ``score = U . V`` on the
  frozen text vectors, with what the articles leave out: an objective that makes ``U . V`` a ranking score
  (BPR or sampled softmax), and an ``f`` that keeps signs. Optionally plus ID embeddings.
* ``text-finetuned`` -- the encoder itself is trained so that the text of a user's recent history lands near the
  text of the film watched next (InfoNCE, in-batch negatives); ``score(u, i) = cos(enc(text_u), enc(text_i))``.
  ``steps=0`` is the frozen encoder used zero-shot.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .._interactions import Interactions
from ..text import (
    TextEncoder,
    history_weights,
    item_texts,
    normalise_rows,
)
from ._base import Recommender, register_model

__all__ = ["TextContent"]

ModelSpec = str | Path | TextEncoder | None


def _encoder(model: ModelSpec, **options) -> TextEncoder:
    """A :class:`TextEncoder` for ``model`` (an encoder passed in is used as it is)."""
    return model if isinstance(model, TextEncoder) else TextEncoder(model, **options)


@register_model("text-content")
class TextContent(Recommender):
    """``score(u, i) = cos(x_u, e_i)`` with ``x_u = sum_j w_uj e_j`` over u's history
    (:func:`history_weights`) and ``e_i`` the unit text vector of item i.

    A user without history has ``x_u = 0`` and scores 0 for every item. ``model``: ``None`` (the packaged
    all-MiniLM-L6-v2), a local folder or Hugging Face id, or a :class:`~llmrec.text.TextEncoder`.
    """

    def __init__(
        self,
        model: ModelSpec = None,
        rating_weighted: bool = True,
        half_life: float | None = None,
        batch_size: int = 64,
        progress: bool = False,
    ) -> None:
        self.model, self.rating_weighted, self.half_life = model, rating_weighted, half_life
        self.batch_size, self.progress = batch_size, progress

    def _fit(self, train: Interactions) -> None:
        encoder = _encoder(self.model, batch_size=self.batch_size, progress=self.progress)
        self.item_vectors_ = encoder.encode(item_texts(train.items), desc="items")
        weights = history_weights(train, self.rating_weighted, self.half_life)
        self.user_vectors_ = normalise_rows(np.asarray(weights @ self.item_vectors_, dtype=np.float32))

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.user_vectors_[users.numpy()] @ self.item_vectors_.T)
