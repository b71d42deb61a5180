"""A user tower on the text of a user's demographics, for users with no history (chapter: *Interest transfer and
cold start*).

Each user's age band, gender and occupation become one sentence (:func:`~llmrec.transfer.profile_texts`, e.g.
"A woman aged 25-34 who works as a programmer."), chapter 6's sentence encoder turns it into a unit vector
``x_u`` (all-MiniLM-L6-v2 by default, cached on disk), and a small tower maps it into an item space learned with
it::

    z_u = W_2 relu(W_1 x_u + c_1) + c_2      (hidden_size > 0; hidden_size = 0: z_u = W x_u + c)
    score(u, i) = z_u . e_i + b_i

trained with the full softmax over all items on every training interaction (u, i)::

    loss = -(1 / N) sum_{(u, i)} log softmax_i(z_u . e + b)   (+ weight decay ``reg`` on all parameters)

Users with the same sentence have the same ``x_u``, so the loss is computed per distinct sentence ``g`` with
the counts ``c_gi`` of its users' training interactions: ``-(1 / N) sum_g sum_i c_gi log p(i | g)``, the same
number as the per-interaction sum. With one shared sentence for everybody the model is popularity
(``softmax(b)`` fits the item shares); with ``G`` distinct sentences it is group popularity smoothed through
the text: groups whose sentences are close (a "programmer" and an "engineer") share what they learn, which is
what :class:`~llmrec.models.DemographicPopular`'s hard groups cannot do. The score ignores the user's history:
it is a model for users who have none (blending it with a history model is the notebook's business).
"""

from __future__ import annotations

import numpy as np
import torch

from .._interactions import Interactions
from .._seed import torch_generator
from ..training import Trainer
from ..transfer._profiles import distinct_profiles, profile_texts
from ._base import Recommender, register_model
from ._text_content import ModelSpec, _encoder

__all__ = ["ProfileTower", "grouped_softmax_loss"]


def grouped_softmax_loss(logits: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """``-sum_g sum_i c_gi log softmax(logits_g)_i / sum c``: the mean cross-entropy over the interactions that
    the count rows ``counts`` (``(G, n_items)``) summarise, equal to ``F.cross_entropy`` on the expanded pairs."""
    total = counts.sum()
    if not total > 0:
        raise ValueError("counts: a batch needs at least one interaction")
    return -(counts * torch.log_softmax(logits, dim=-1)).sum() / total


class _Tower(torch.nn.Module):
    def __init__(self, width: int, hidden_size: int, embedding_size: int, n_items: int) -> None:
        super().__init__()
        if hidden_size > 0:
            self.user = torch.nn.Sequential(
                torch.nn.Linear(width, hidden_size), torch.nn.ReLU(), torch.nn.Linear(hidden_size, embedding_size)
            )
        else:
            self.user = torch.nn.Linear(width, embedding_size)
        self.items = torch.nn.Parameter(0.1 * torch.randn(n_items, embedding_size))
        self.bias = torch.nn.Parameter(torch.zeros(n_items))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.user(x) @ self.items.T + self.bias


@register_model("profile-tower")
class ProfileTower(Recommender):
    """``score(u, i) = z_u . e_i + b_i`` with ``z_u`` the tower's image of the encoded profile sentence (see the
    module docstring), trained by full-softmax cross-entropy with Adam (``reg`` = weight decay).

    ``model``: the text encoder (``None``: the packaged all-MiniLM-L6-v2; or a folder, or a
    :class:`~llmrec.text.TextEncoder`). ``hidden_size=0`` makes the tower linear."""

    def __init__(
        self,
        model: ModelSpec = None,
        embedding_size: int = 32,
        hidden_size: int = 64,
        epochs: int = 30,
        batch_size: int = 64,
        learning_rate: float = 1e-2,
        reg: float = 1e-4,
        seed: int = 42,
        progress: bool = False,
    ) -> None:
        if embedding_size < 1 or hidden_size < 0:
            raise ValueError(f"embedding_size must be >= 1 and hidden_size >= 0, got {embedding_size}, {hidden_size}")
        if epochs < 1 or batch_size < 1:
            raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
        if not learning_rate > 0 or reg < 0:
            raise ValueError(f"learning_rate must be > 0 and reg >= 0, got {learning_rate} and {reg}")
        self.model, self.embedding_size, self.hidden_size = model, embedding_size, hidden_size
        self.epochs, self.batch_size, self.learning_rate, self.reg = epochs, batch_size, learning_rate, reg
        self.seed, self.progress = seed, progress

    def _fit(self, train: Interactions) -> None:
        if train.users is None:
            raise ValueError(f"{type(self).__name__}.fit: the training data has no users table (demographics)")
        texts, self.profile_ = distinct_profiles(profile_texts(train.users))
        self.texts_ = texts
        encoder = _encoder(self.model, progress=self.progress)
        x = torch.from_numpy(np.asarray(encoder.encode(texts, desc="profiles"), dtype=np.float32))
        counts = np.zeros((len(texts), train.n_items), dtype=np.float32)
        f = train.frame
        np.add.at(counts, (self.profile_[f["user"].to_numpy()], f["item"].to_numpy()), 1.0)
        counts_t = torch.from_numpy(counts)
        groups = np.flatnonzero(counts.sum(axis=1) > 0)  # sentences with at least one training interaction
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            self.tower_ = _Tower(x.shape[1], self.hidden_size, self.embedding_size, train.n_items)

        def epoch_batches(generator: torch.Generator) -> list[torch.Tensor]:
            order = torch.from_numpy(groups)[torch.randperm(len(groups), generator=generator)]
            return [(order[s : s + self.batch_size],) for s in range(0, len(order), self.batch_size)]

        def batch_loss(batch: tuple[torch.Tensor]) -> tuple[torch.Tensor, float]:
            (rows,) = batch
            c = counts_t[rows]
            return grouped_softmax_loss(self.tower_(x[rows]), c), float(c.sum())

        trainer = Trainer(
            epochs=self.epochs,
            learning_rate=self.learning_rate,
            weight_decay=self.reg,
            seed=self.seed,
            progress=self.progress,
            desc="profile-tower epochs",
        )
        self.history_ = trainer.fit(self.tower_, epoch_batches, batch_loss, generator=torch_generator(self.seed))
        self.losses_ = self.history_.loss
        self.tower_.eval()
        with torch.inference_mode():
            self.group_scores_ = self.tower_(x).detach()

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        return self.group_scores_[torch.from_numpy(self.profile_)[users]]
