"""Most-popular baseline (chapter: *Data and evaluation*)."""

from __future__ import annotations

import torch

from .._interactions import Interactions
from ._base import Recommender, register_model

__all__ = ["MostPopular"]


@register_model("pop")
class MostPopular(Recommender):
    """score(u, i) = number of training interactions of item i, the same for every user."""

    def _fit(self, train: Interactions) -> None:
        self.item_counts_ = torch.from_numpy(train.item_counts()).float()

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        return self.item_counts_.expand(len(users), -1).clone()
