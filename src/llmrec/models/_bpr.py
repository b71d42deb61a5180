"""Matrix factorisation trained with BPR on implicit feedback (chapter: *Collaborative-filtering formulas*).

Bayesian personalised ranking (Rendle et al., UAI 2009) treats every observed pair (u, i) as preferred to an
unobserved item j and maximises ``sum ln sigma(x_uij) - reg ||Theta||^2`` with ``x_uij = p_u . q_i - p_u . q_j``.
The chapter derives the stochastic update; here the same loss is minimised with mini-batches and Adam.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .._interactions import Interactions
from .._seed import torch_generator
from ..losses import bpr_loss
from ..training import Trainer, TrainingHistory
from ._base import Recommender, register_model

__all__ = ["BPR", "bpr_loss", "train_on_pairs", "uniform_negatives"]


def uniform_negatives(train: Interactions, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` items drawn uniformly from the items that occur in ``train``.

    An item absent from training would otherwise only ever be pushed down, which is wrong for a cold item. A
    drawn item may be one the user has seen (the usual approximation: rare when the catalogue is large)."""
    pool = torch.from_numpy(np.flatnonzero(train.item_counts() > 0))
    return pool[torch.randint(0, len(pool), (count,), generator=generator)]


def train_on_pairs(
    train: Interactions,
    batch_loss: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
    parameters: list[torch.Tensor],
    epochs: int,
    batch_size: int,
    learning_rate: float,
    reg: float,
    generator: torch.Generator,
    progress: bool = False,
    desc: str = "epochs",
    seed: int = 42,
) -> TrainingHistory:
    """Train on the pairs (u, i) with the shared :class:`~llmrec.training.Trainer` (Adam, weight decay ``reg``):
    each epoch shuffles the pairs and draws one :func:`uniform_negatives` item per pair, then minimises
    ``batch_loss(users, items, negatives)`` batch by batch; ``generator`` draws the shuffles and negatives. Returns
    the training history (mean loss and seconds of each epoch). Shared by :class:`BPR` and the two-tower model."""
    users = torch.from_numpy(train.frame["user"].to_numpy(copy=True))
    items = torch.from_numpy(train.frame["item"].to_numpy(copy=True))

    def epoch_batches(gen: torch.Generator):
        order = torch.randperm(len(users), generator=gen)
        negatives = uniform_negatives(train, len(users), gen)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            yield users[batch], items[batch], negatives[batch]

    trainer = Trainer(epochs, learning_rate, weight_decay=reg, seed=seed, progress=progress, desc=desc)
    return trainer.fit(parameters, epoch_batches, lambda batch: batch_loss(*batch), generator=generator)


@register_model("bpr")
class BPR(Recommender):
    """``score(u, i) = p_u . q_i``, trained with :func:`bpr_loss` (one uniform negative per training pair,
    :func:`uniform_negatives`, drawn anew each epoch) and Adam with weight decay ``reg``."""

    def __init__(
        self,
        embedding_size: int = 64,
        epochs: int = 30,
        batch_size: int = 1024,
        learning_rate: float = 5e-3,
        reg: float = 1e-5,
        seed: int = 42,
        progress: bool = False,
    ) -> None:
        if embedding_size < 1 or epochs < 1 or batch_size < 1:
            raise ValueError(
                f"embedding_size, epochs and batch_size must be >= 1 (epochs=0 would leave the model untrained), "
                f"got {embedding_size}, {epochs} and {batch_size}"
            )
        self.embedding_size, self.epochs, self.batch_size = embedding_size, epochs, batch_size
        self.learning_rate, self.reg, self.seed, self.progress = learning_rate, reg, seed, progress

    def _fit(self, train: Interactions) -> None:
        generator = torch_generator(self.seed)
        shape_users, shape_items = (train.n_users, self.embedding_size), (train.n_items, self.embedding_size)
        p = (0.1 * torch.randn(shape_users, generator=generator)).requires_grad_()
        q = (0.1 * torch.randn(shape_items, generator=generator)).requires_grad_()

        def batch_loss(users: torch.Tensor, items: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
            # F.embedding, not p[users]: its backward adds repeated ids' rows in a fixed order (index_put_ does not)
            return bpr_loss(F.embedding(users, p), F.embedding(items, q), F.embedding(negatives, q))

        self.history_ = train_on_pairs(
            train,
            batch_loss,
            [p, q],
            self.epochs,
            self.batch_size,
            self.learning_rate,
            self.reg,
            generator,
            self.progress,
            "BPR epochs",
            self.seed,
        )
        self.losses_ = self.history_.loss
        self.user_factors_, self.item_factors_ = p.detach(), q.detach()

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        return self.user_factors_[users] @ self.item_factors_.T
