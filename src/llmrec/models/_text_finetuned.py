"""A sentence encoder fine-tuned for recommendation (chapter: *LLM text encoders*)."""

from __future__ import annotations

import numpy as np
import torch

from .._interactions import Interactions
from .._seed import numpy_rng
from ..losses import in_batch_softmax_loss
from ..text import (
    history_texts,
    interaction_phrases,
    item_texts,
    user_texts,
)
from ..training import Trainer, freeze_below
from ._base import Recommender, register_model
from ._text_content import ModelSpec, _encoder

__all__ = ["FineTunedText"]


@register_model("text-finetuned")
class FineTunedText(Recommender):
    """``score(u, i) = cos(enc(text_u), enc(text_i))``, the encoder fine-tuned for ``steps`` steps.

    Training pairs, drawn reproducibly: a random training interaction (u, i) that is not u's first, with the
    text of the ``max_items`` films u rated before it (the user template, newest first) as the query and the
    text of film i as the positive. Loss: :func:`in_batch_softmax_loss` with cosine similarities, temperature
    ``temperature`` and (``logq=True``) the log-Q correction, ``q_i`` = the share of training pairs whose target
    is i. AdamW on the top ``trainable_layers`` blocks (``None``: the whole model). ``steps=0`` is the frozen,
    zero-shot encoder. Users without history score 0 everywhere.

    After ``fit``: ``losses_`` (the loss of each step) and ``train_seconds_`` (wall-clock seconds of the training
    steps alone, without the final encoding of items and users; 0 when ``steps=0``).
    """

    def __init__(
        self,
        model: ModelSpec = None,
        steps: int = 150,
        batch_size: int = 32,
        learning_rate: float = 5e-5,
        temperature: float = 0.05,
        logq: bool = True,
        trainable_layers: int | None = 2,
        max_items: int = 5,
        max_length: int = 64,
        seed: int = 42,
        progress: bool = False,
    ) -> None:
        if steps < 0 or batch_size < 2:
            raise ValueError(f"steps must be >= 0 and batch_size >= 2, got {steps} and {batch_size}")
        self.model, self.steps, self.batch_size, self.learning_rate = model, steps, batch_size, learning_rate
        self.temperature, self.logq, self.trainable_layers = temperature, logq, trainable_layers
        self.max_items, self.max_length, self.seed, self.progress = max_items, max_length, seed, progress

    def _pairs(self, train: Interactions, count: int) -> tuple[list[str], np.ndarray, np.ndarray]:
        """``count`` (history text, target item) pairs and the log-probability of each target being drawn."""
        indptr, phrases = interaction_phrases(train)
        _, sequence = train.sequences()
        starts = np.repeat(indptr[:-1], np.diff(indptr))
        eligible = np.flatnonzero(np.arange(len(sequence)) > starts)  # every interaction but a user's first
        targets_all = sequence[eligible]
        with np.errstate(divide="ignore"):  # -inf for an item never a target: it is never in a batch either
            log_q = np.log(np.bincount(targets_all, minlength=train.n_items) / len(eligible))
        chosen = eligible[numpy_rng(self.seed).integers(0, len(eligible), size=count)]
        texts = history_texts(phrases, starts[chosen], chosen, self.max_items)
        return texts, sequence[chosen], log_q

    def _fit(self, train: Interactions) -> None:
        encoder = _encoder(self.model, max_length=self.max_length, progress=self.progress)
        item_text = item_texts(train.items)
        self.losses_: list[float] = []
        self.train_seconds_ = 0.0
        if self.steps > 0:
            encoder = encoder.copy()  # never modify a shared encoder in place
            freeze_below(encoder.model, self.trainable_layers)
            queries, targets, log_q = self._pairs(train, self.steps * self.batch_size)
            log_q_t = torch.from_numpy(log_q).float()

            def epoch_batches(_: torch.Generator):  # the pairs were drawn reproducibly in _pairs
                for step in range(self.steps):
                    yield slice(step * self.batch_size, (step + 1) * self.batch_size)

            def batch_loss(batch: slice) -> tuple[torch.Tensor, float]:
                ids = torch.from_numpy(targets[batch])
                u = encoder.forward(queries[batch])
                v = encoder.forward([item_text[i] for i in targets[batch]])
                correction = log_q_t[ids] if self.logq else None
                return in_batch_softmax_loss(u, v, ids, correction, self.temperature), 1.0

            trainer = Trainer(
                1,
                self.learning_rate,
                weight_decay=0.01,
                optimizer="adamw",
                seed=self.seed,
                progress=self.progress,
                desc="fine-tuning",
            )
            self.history_ = trainer.fit(encoder.model, epoch_batches, batch_loss)
            self.losses_ = self.history_.step_loss
            self.train_seconds_ = self.history_.total_seconds
            for parameter in encoder.model.parameters():
                parameter.requires_grad_(False)
        self.item_vectors_ = encoder.encode(item_text, desc="items")
        texts = user_texts(train, self.max_items)
        self.user_vectors_ = encoder.encode(texts, desc="users")
        self.user_vectors_[np.array([t == "" for t in texts], dtype=bool)] = 0.0

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.user_vectors_[users.numpy()] @ self.item_vectors_.T)
