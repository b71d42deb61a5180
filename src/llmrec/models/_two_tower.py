"""The two-tower recommender on frozen text vectors (chapter: *LLM text encoders*)."""

from __future__ import annotations

import numpy as np
import torch

from .._interactions import Interactions
from .._seed import torch_generator
from ..losses import bpr_loss, in_batch_softmax_loss
from ..text import (
    history_weights,
    item_texts,
    normalise_rows,
    user_texts,
)
from ._base import Recommender, register_model
from ._bpr import train_on_pairs
from ._text_content import ModelSpec, _encoder

__all__ = ["TwoTower"]

_ACTIVATIONS = {"identity": lambda z: z, "tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}


@register_model("two-tower")
class TwoTower(Recommender):
    """``U = f(W_1 x_u + b_1) [+ p_u]``, ``V = f(W_2 x_i + b_2) [+ q_i]``, ``score(u, i) = U . V``.

    ``x_i`` is the frozen text vector of item i; ``x_u`` is, with ``user_input="history"``, the normalised
    rating-weighted mean of the text vectors of u's history, or, with ``user_input="text"``, the encoded user text
    (:func:`~llmrec.text.user_texts`). ``id_embeddings`` adds learned ``p_u, q_i`` (initialised at 0, so an item
    never seen in training keeps the text part of its score). ``f``: ``identity`` (default) or ``tanh``; ``relu``
    and ``sigmoid`` are accepted only to measure why not: they make every coordinate of U and V non-negative
    (without ID embeddings), so no score can be negative and no direction can mean "less of this".

    Objective (what turns ``U . V`` into a ranking score), with weight decay ``reg`` (Adam's L2 term):

    * ``loss="bpr"``: ``-log sigmoid(U_u . V_i - U_u . V_j)`` per training pair (u, i), j drawn uniformly from
      the items that occur in training (an item absent from training would otherwise only ever be pushed down);
    * ``loss="softmax"``: :func:`in_batch_softmax_loss` over the batch's items with the log-Q correction.
    """

    def __init__(
        self,
        model: ModelSpec = None,
        embedding_size: int = 64,
        user_input: str = "history",
        id_embeddings: bool = False,
        activation: str = "identity",
        loss: str = "bpr",
        epochs: int = 20,
        batch_size: int = 1024,
        learning_rate: float = 3e-3,
        reg: float = 1e-5,
        max_items: int = 10,
        seed: int = 42,
        progress: bool = False,
    ) -> None:
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        if loss not in ("bpr", "softmax"):
            raise ValueError(f"loss must be 'bpr' or 'softmax', got {loss!r}")
        if user_input not in ("history", "text"):
            raise ValueError(f"user_input must be 'history' or 'text', got {user_input!r}")
        self.model, self.embedding_size, self.user_input, self.id_embeddings = (
            model,
            embedding_size,
            user_input,
            id_embeddings,
        )
        self.activation, self.loss, self.epochs, self.batch_size = activation, loss, epochs, batch_size
        self.learning_rate, self.reg, self.max_items = learning_rate, reg, max_items
        self.seed, self.progress = seed, progress

    def _inputs(self, train: Interactions) -> tuple[torch.Tensor, torch.Tensor]:
        encoder = _encoder(self.model, progress=self.progress)
        items = encoder.encode(item_texts(train.items), desc="items")
        if self.user_input == "text":
            texts = user_texts(train, self.max_items)
            users = encoder.encode(texts, desc="users")
            users[np.array([t == "" for t in texts], dtype=bool)] = 0.0  # no history: no text, no vector
        else:
            users = normalise_rows(np.asarray(history_weights(train) @ items, dtype=np.float32))
        return torch.from_numpy(users), torch.from_numpy(items)

    def _towers(self, users: torch.Tensor, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = _ACTIVATIONS[self.activation]
        u = f(self.user_tower_(self.x_users_[users]))
        v = f(self.item_tower_(self.x_items_[items]))
        if self.id_embeddings:
            u = u + self.user_embedding_(users)
            v = v + self.item_embedding_(items)
        return u, v

    def _fit(self, train: Interactions) -> None:
        self.x_users_, self.x_items_ = self._inputs(train)
        width = self.x_items_.shape[1]
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            self.user_tower_ = torch.nn.Linear(width, self.embedding_size)
            self.item_tower_ = torch.nn.Linear(width, self.embedding_size)
        modules = [self.user_tower_, self.item_tower_]
        if self.id_embeddings:
            self.user_embedding_ = torch.nn.Embedding(train.n_users, self.embedding_size)
            self.item_embedding_ = torch.nn.Embedding(train.n_items, self.embedding_size)
            for embedding in (self.user_embedding_, self.item_embedding_):
                torch.nn.init.zeros_(embedding.weight)
            modules += [self.user_embedding_, self.item_embedding_]
        parameters = [p for m in modules for p in m.parameters()]
        counts = train.item_counts()
        log_q = torch.from_numpy(np.log(np.maximum(counts, 1) / counts.sum())).float()

        def batch_loss(users: torch.Tensor, items: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
            if self.loss == "bpr":
                u, v = self._towers(users, torch.cat([items, negatives]))
                return bpr_loss(u, v[: len(users)], v[len(users) :])
            u, v = self._towers(users, items)
            return in_batch_softmax_loss(u, v, items, log_q[items])

        self.history_ = train_on_pairs(
            train,
            batch_loss,
            parameters,
            self.epochs,
            self.batch_size,
            self.learning_rate,
            self.reg,
            torch_generator(self.seed),
            self.progress,
            "two-tower epochs",
            self.seed,
        )
        self.losses_ = self.history_.loss
        with torch.inference_mode():
            self.user_factors_, self.item_factors_ = self._towers(
                torch.arange(train.n_users), torch.arange(train.n_items)
            )

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        return self.user_factors_[users] @ self.item_factors_.T
