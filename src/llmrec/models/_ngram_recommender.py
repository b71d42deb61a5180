"""Next-item recommendation with an n-gram language model over item sequences (chapter: *N-gram language
models*): a user's chronological history is a sentence whose words are items."""

from __future__ import annotations

import numpy as np
import torch

from .._interactions import Interactions
from ..lm import NGramLM
from ._base import Recommender, register_model

__all__ = ["NGramRecommender"]


@register_model("ngram")
class NGramRecommender(Recommender):
    """score(u, i) = P(i | last ``order - 1`` items of u's history) under an n-gram model of all histories.

    Interpolated Kneser-Ney (default) backs off to shorter contexts and finally to the continuation unigram
    mixed with the uniform distribution, so every item gets a finite score even after an unseen context.
    Histories are padded with begin symbols on the left, so users with fewer than ``order - 1`` items still have a
    context, and not on the right: a history is cut off by the present, not ended.
    """

    def __init__(self, order: int = 2, smoothing: str = "kneser-ney", discount: float = 0.75, k: float = 1.0) -> None:
        self.order, self.smoothing, self.discount, self.k = order, smoothing, discount, k
        NGramLM(order, smoothing, k=k, discount=discount)  # validate the parameters now

    def _fit(self, train: Interactions) -> None:
        indptr, items = train.sequences()
        sequences = np.split(items, indptr[1:-1])
        self.lm_ = NGramLM(self.order, self.smoothing, k=self.k, discount=self.discount).fit(
            sequences, train.n_items + 2, bos=train.n_items, eos=train.n_items + 1, pad_right=False
        )
        m = self.order - 1
        contexts = np.full((train.n_users, m), train.n_items, dtype=np.int64)
        if m:
            lengths = np.diff(indptr)
            for j in range(1, m + 1):  # j-th most recent item, vectorised over users
                has = lengths >= j
                contexts[has, m - j] = items[indptr[1:][has] - j]
        self.contexts_ = contexts

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        dist = self.lm_.distribution(self.contexts_[users.numpy()])[:, : self.n_items]
        return torch.from_numpy(dist.astype(np.float32))
