"""A causal Transformer over item ids, built with Hugging Face ``transformers`` (chapter: *Attention and
Transformers*): GPT-2's architecture with a small configuration, trained from scratch on users' item sequences
(no pretrained weights; nothing is downloaded)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .._interactions import Interactions, rank_from_end
from .._seed import torch_generator
from ..training import Trainer
from ._base import Recommender, register_model

__all__ = ["GPTRecommender", "right_padded_sequences"]


def right_padded_sequences(indptr: np.ndarray, items: np.ndarray, max_len: int, bos: int, pad: int) -> np.ndarray:
    """``(n_users, max_len)`` rows ``[bos, i_1, ..., i_T, pad, ...]`` keeping each user's latest items.

    The begin token gives users with an empty history a position to predict from. Right padding keeps every real
    token's causal window free of padding, so no attention row is fully masked (a fully masked row is NaN).
    Vectorised: each item's column is computed from its distance to the end of its user's history.
    """
    n_users = len(indptr) - 1
    lengths = np.minimum(np.diff(indptr), max_len - 1)
    out = np.full((n_users, max_len), pad, dtype=np.int64)
    out[:, 0] = bos
    user = np.repeat(np.arange(n_users), np.diff(indptr))
    from_end = rank_from_end(user, n_users)  # 0 for the latest item
    keep = from_end < lengths[user]
    out[user[keep], lengths[user[keep]] - from_end[keep]] = items[keep]
    return out


@register_model("gpt")
class GPTRecommender(Recommender):
    """score(u, i) = logit of item i after u's history under a causal Transformer (``GPT2LMHeadModel``).

    Trained with next-item cross-entropy over all items at every position of every history (teacher forcing).
    Input and output item embeddings are tied, as in GPT-2.
    """

    def __init__(
        self,
        embedding_size: int = 64,
        num_layers: int = 2,
        num_heads: int = 2,
        max_len: int = 50,
        dropout: float = 0.2,
        epochs: int = 20,
        batch_size: int = 64,
        learning_rate: float = 3e-3,
        reg: float = 0.01,
        seed: int = 42,
        progress: bool = False,
    ) -> None:
        if max_len < 2:
            raise ValueError(f"max_len must be >= 2 (<bos> plus at least one item), got {max_len}")
        if epochs < 1 or batch_size < 1 or embedding_size < 1 or num_layers < 1 or num_heads < 1:
            raise ValueError(
                "epochs, batch_size, embedding_size, num_layers and num_heads must be >= 1, got "
                f"{epochs}, {batch_size}, {embedding_size}, {num_layers} and {num_heads}"
            )
        if embedding_size % num_heads:
            raise ValueError(f"embedding_size ({embedding_size}) must be divisible by num_heads ({num_heads})")
        self.embedding_size, self.num_layers, self.num_heads = embedding_size, num_layers, num_heads
        self.max_len, self.dropout, self.epochs, self.batch_size = max_len, dropout, epochs, batch_size
        self.learning_rate, self.reg, self.seed, self.progress = learning_rate, reg, seed, progress

    def _config(self, n_items: int):
        from transformers import GPT2Config

        return GPT2Config(
            vocab_size=n_items + 2,  # items, then <bos>, then <pad>
            n_positions=self.max_len,
            n_embd=self.embedding_size,
            n_layer=self.num_layers,
            n_head=self.num_heads,
            resid_pdrop=self.dropout,
            embd_pdrop=self.dropout,
            attn_pdrop=self.dropout,
            bos_token_id=n_items,
            eos_token_id=n_items,
            pad_token_id=n_items + 1,
            attn_implementation="eager",  # the plain softmax(QK^T/sqrt(d))V path, which can return its weights
        )

    def _fit(self, train: Interactions) -> None:
        from transformers import GPT2LMHeadModel

        indptr, items = train.sequences()
        self.bos_, self.pad_ = train.n_items, train.n_items + 1
        self.sequences_ = torch.from_numpy(right_padded_sequences(indptr, items, self.max_len, self.bos_, self.pad_))
        self.lengths_ = torch.from_numpy(np.minimum(np.diff(indptr), self.max_len - 1) + 1)  # with <bos>
        with torch.random.fork_rng():  # initialisation and dropout draw from torch's global generator
            torch.manual_seed(self.seed)
            self.model_ = GPT2LMHeadModel(self._config(train.n_items))
            self.losses_ = self._train(torch_generator(self.seed))
        self.model_.eval()

    def _train(self, generator: torch.Generator) -> list[float]:
        """Next-item cross-entropy over all items at every real position, with the shared
        :class:`~llmrec.training.Trainer` (AdamW, weight decay ``reg``); returns the mean loss of each epoch."""
        active = torch.nonzero(self.lengths_ > 1).flatten()  # users with at least one item to predict
        if len(active) == 0:
            raise ValueError(
                f"{type(self).__name__}: no user has an item to predict (every history is empty, or max_len="
                f"{self.max_len} leaves no room after <bos>), so training would be a no-op"
            )

        def epoch_batches(gen: torch.Generator):
            order = active[torch.randperm(len(active), generator=gen)]
            for start in range(0, len(order), self.batch_size):
                yield self.sequences_[order[start : start + self.batch_size]]

        def batch_loss(batch: torch.Tensor) -> tuple[torch.Tensor, float]:
            width = int((batch != self.pad_).sum(dim=1).max())
            batch = batch[:, :width]
            real = batch != self.pad_
            logits = self.model_(input_ids=batch, attention_mask=real.long()).logits[:, :-1, : self.bos_]
            targets = batch[:, 1:].masked_fill(~real[:, 1:], -100)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
            return loss, float(real[:, 1:].sum())

        trainer = Trainer(
            self.epochs,
            self.learning_rate,
            weight_decay=self.reg,
            optimizer="adamw",
            seed=self.seed,
            progress=self.progress,
            desc="gpt epochs",
        )
        # reseed=False: initialisation and dropout share the one stream seeded in _fit
        self.history_ = trainer.fit(self.model_, epoch_batches, batch_loss, generator=generator, reseed=False)
        return self.history_.loss

    @torch.inference_mode()
    def _score(self, users: torch.Tensor) -> torch.Tensor:
        batch = self.sequences_[users]
        lengths = self.lengths_[users]
        width = int(lengths.max())
        batch = batch[:, :width]
        logits = self.model_(input_ids=batch, attention_mask=(batch != self.pad_).long()).logits
        return logits[torch.arange(len(users)), lengths - 1, : self.n_items].float()

    @torch.inference_mode()
    def attention_maps(self, user: int) -> torch.Tensor:
        """Attention weights (layers, heads, T, T) over the user's (truncated) history, ``<bos>`` first."""
        length = int(self.lengths_[user])
        batch = self.sequences_[user : user + 1, :length]
        out = self.model_(input_ids=batch, output_attentions=True)
        return torch.stack([a[0] for a in out.attentions])
