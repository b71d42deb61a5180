"""Recommenders on text vectors from a pretrained language model (chapter: *LLM text encoders*).

* ``text-content``: the user vector is a weighted mean of the vectors of the films in the history.
* ``two-tower``: ``U = f(W_1 x_u + b_1)``, ``V = f(W_2 x_i + b_2)``, ``score = U . V``, trained with BPR; ``x_i`` is
  the item's text vector, ``x_u`` the content user vector. ``bpr`` is the same trainer on ID embeddings only.
* ``text-finetuned``: the encoder itself is trained so that a user's history text lands near the text of the
  next film (InfoNCE with in-batch negatives); ``steps=0`` is the frozen, zero-shot version.
"""

from __future__ import annotations

import copy

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from tqdm import tqdm

from .._interactions import Interactions
from .._seed import numpy_rng, torch_generator
from ..text import TextEncoder, item_texts, user_texts
from ._base import Recommender, register_model

__all__ = ["BPR", "FineTunedText", "TextContent", "TwoTower", "history_weights"]


def history_weights(train: Interactions, rating_weighted: bool, half_life: float | None) -> sp.csr_matrix:
    """Sparse users x items weights ``w_ui = (r_ui / 5 if rating_weighted else 1) * 0.5 ** (age_ui / half_life)``,
    where ``age_ui`` is the number of the user's interactions after this one (0 for the latest)."""
    chrono = train.chronological()
    users = chrono["user"].to_numpy()
    counts = np.bincount(users, minlength=train.n_users)
    ends = np.cumsum(counts)
    age = ends[users] - 1 - np.arange(len(chrono))
    weights = chrono["rating"].to_numpy(np.float64) / 5.0 if rating_weighted else np.ones(len(chrono))
    if half_life is not None:
        weights = weights * 0.5 ** (age / half_life)
    return sp.csr_matrix((weights, (users, chrono["item"].to_numpy())), shape=(train.n_users, train.n_items))


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


@register_model("text-content")
class TextContent(Recommender):
    """score(u, i) = cos(x_u, e_i) with ``x_u = sum_j w_uj e_j`` over u's history (see :func:`history_weights`)
    and ``e_i`` the L2-normalised text vector of item i. Users with no history score 0 everywhere."""

    def __init__(
        self,
        model: str | None = None,
        rating_weighted: bool = True,
        half_life: float | None = None,
        batch_size: int = 64,
        progress: bool = False,
    ) -> None:
        self.model, self.rating_weighted, self.half_life = model, rating_weighted, half_life
        self.batch_size, self.progress = batch_size, progress

    def _fit(self, train: Interactions) -> None:
        encoder = TextEncoder(self.model, batch_size=self.batch_size, progress=self.progress)
        self.item_vectors_ = encoder.encode(item_texts(train.items), desc="items")
        weights = history_weights(train, self.rating_weighted, self.half_life)
        self.user_vectors_ = _normalise_rows(np.asarray(weights @ self.item_vectors_, dtype=np.float32))

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.user_vectors_[users.numpy()] @ self.item_vectors_.T)


@register_model("two-tower")
class TwoTower(Recommender):
    """``U = f(W_1 x_u + b_1) [+ p_u]``, ``V = f(W_2 x_i + b_2) [+ q_i]``, ``score(u, i) = U . V``.

    ``x_i``: the item's text vector; ``x_u``: the normalised rating-weighted mean of the text vectors of u's
    history. Trained with BPR, ``-log sigmoid(s(u, i) - s(u, j))`` for each training pair (u, i) and one item
    j drawn uniformly from the items that occur in training (an item absent from training would only ever be a
    negative and be pushed down, which is wrong for a cold item), plus weight decay ``reg``. ``f`` is ``identity``
    (default) or ``tanh``: a ReLU would make both towers non-negative, so no user could be predicted to dislike
    anything.
    """

    def __init__(
        self,
        model: str | None = None,
        embedding_size: int = 64,
        use_text: bool = True,
        id_embeddings: bool = False,
        activation: str = "identity",
        epochs: int = 10,
        batch_size: int = 1024,
        learning_rate: float = 1e-3,
        reg: float = 1e-4,
        seed: int = 42,
        progress: bool = False,
    ) -> None:
        if not (use_text or id_embeddings):
            raise ValueError("a two-tower model needs text inputs, ID embeddings, or both")
        if activation not in ("identity", "tanh"):
            raise ValueError(f"activation must be 'identity' or 'tanh', got {activation!r}")
        self.model, self.embedding_size, self.use_text, self.id_embeddings = (
            model,
            embedding_size,
            use_text,
            id_embeddings,
        )
        self.activation, self.epochs, self.batch_size = activation, epochs, batch_size
        self.learning_rate, self.reg, self.seed, self.progress = learning_rate, reg, seed, progress

    def _inputs(self, train: Interactions) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.use_text:
            return torch.zeros(train.n_users, 0), torch.zeros(train.n_items, 0)
        items = TextEncoder(self.model, progress=self.progress).encode(item_texts(train.items), desc="items")
        users = _normalise_rows(np.asarray(history_weights(train, True, None) @ items, dtype=np.float32))
        return torch.from_numpy(users), torch.from_numpy(items)

    def _towers(self, users: torch.Tensor, items: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        f = torch.tanh if self.activation == "tanh" else (lambda z: z)
        u = torch.zeros(len(users), self.embedding_size)
        v_index = torch.arange(self.n_items) if items is None else items
        v = torch.zeros(len(v_index), self.embedding_size)
        if self.use_text:
            u = u + f(self.user_tower_(self.x_users_[users]))
            v = v + f(self.item_tower_(self.x_items_[v_index]))
        if self.id_embeddings:
            u = u + self.user_embedding_(users)
            v = v + self.item_embedding_(v_index)
        return u, v

    def _fit(self, train: Interactions) -> None:
        self.x_users_, self.x_items_ = self._inputs(train)
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            width = self.x_items_.shape[1]
            self.user_tower_ = torch.nn.Linear(width, self.embedding_size) if self.use_text else None
            self.item_tower_ = torch.nn.Linear(width, self.embedding_size) if self.use_text else None
            self.user_embedding_ = (
                torch.nn.Embedding(train.n_users, self.embedding_size) if self.id_embeddings else None
            )
            self.item_embedding_ = (
                torch.nn.Embedding(train.n_items, self.embedding_size) if self.id_embeddings else None
            )
            for embedding in (self.user_embedding_, self.item_embedding_):
                if embedding is not None:
                    torch.nn.init.normal_(embedding.weight, std=0.1)
        modules = [m for m in (self.user_tower_, self.item_tower_, self.user_embedding_, self.item_embedding_) if m]
        parameters = [p for m in modules for p in m.parameters()]
        optimizer = torch.optim.Adam(parameters, lr=self.learning_rate, weight_decay=self.reg)
        generator = torch_generator(self.seed)
        pool = torch.from_numpy(np.flatnonzero(train.item_counts() > 0))
        users = torch.from_numpy(train.frame["user"].to_numpy(copy=True))
        items = torch.from_numpy(train.frame["item"].to_numpy(copy=True))
        self.losses_ = []
        for _ in tqdm(range(self.epochs), desc="two-tower epochs", disable=not self.progress):
            order = torch.randperm(len(users), generator=generator)
            negatives = pool[torch.randint(0, len(pool), (len(users),), generator=generator)]
            total = 0.0
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                u, v = self._towers(users[batch], torch.cat([items[batch], negatives[batch]]))
                positive, negative = v[: len(batch)], v[len(batch) :]
                loss = -F.logsigmoid((u * positive).sum(1) - (u * negative).sum(1)).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
            self.losses_.append(total / len(users))

    @torch.inference_mode()
    def _score(self, users: torch.Tensor) -> torch.Tensor:
        u, v = self._towers(users)
        return u @ v.T


@register_model("bpr")
class BPR(TwoTower):
    """Matrix factorisation with BPR: ``score(u, i) = p_u . q_i``, trained with the pairwise loss
    ``-log sigmoid(p_u . q_i - p_u . q_j)`` (i seen, j uniform) and weight decay (chapter: *LLM text encoders*;
    the two-tower trainer with ID embeddings only)."""

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
        super().__init__(
            use_text=False,
            id_embeddings=True,
            embedding_size=embedding_size,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            reg=reg,
            seed=seed,
            progress=progress,
        )

    def get_params(self) -> dict:
        keep = ("embedding_size", "epochs", "batch_size", "learning_rate", "reg", "seed", "progress")
        return {k: getattr(self, k) for k in keep}


@register_model("text-finetuned")
class FineTunedText(Recommender):
    """score(u, i) = cos(enc(text_u), enc(text_i)) with the encoder fine-tuned for ``steps`` steps.

    Training pairs: for a random user and a random position t of its history, the text of the ``max_items``
    films before t (most recent first) and the text of the film at t. Loss (InfoNCE, in-batch negatives,
    temperature tau): ``-(1/B) sum_b log softmax_j(cos(u_b, v_j) / tau)[b]``. ``steps=0`` is the frozen encoder.
    """

    def __init__(
        self,
        model: str | None = None,
        steps: int = 100,
        batch_size: int = 16,
        learning_rate: float = 3e-5,
        temperature: float = 0.05,
        max_items: int = 5,
        max_length: int = 96,
        seed: int = 42,
        progress: bool = False,
    ) -> None:
        self.model, self.steps, self.batch_size, self.learning_rate = model, steps, batch_size, learning_rate
        self.temperature, self.max_items, self.max_length = temperature, max_items, max_length
        self.seed, self.progress = seed, progress

    def _pairs(self, train: Interactions, rng: np.random.Generator, count: int) -> tuple[list[str], np.ndarray]:
        """``count`` (history text, next item) pairs, sampled reproducibly."""
        indptr, items = train.sequences()
        lengths = np.diff(indptr)
        eligible = np.flatnonzero(lengths >= 2)
        users = rng.choice(eligible, size=count)
        cut = indptr[users] + 1 + (rng.random(count) * (lengths[users] - 1)).astype(np.int64)  # index of target
        labels = np.array([s.rsplit(". Genres", 1)[0] for s in item_texts(train.items)], dtype=object)
        ratings = train.chronological()["rating"].to_numpy()
        texts = []
        for start, stop in zip(np.maximum(cut - self.max_items, indptr[users]), cut, strict=True):
            window = range(stop - 1, start - 1, -1)
            texts.append("; ".join(f"rated {ratings[j]:g}: {labels[items[j]]}" for j in window))
        return texts, items[cut]

    def _fit(self, train: Interactions) -> None:
        encoder = TextEncoder(self.model, max_length=self.max_length, cache=self.steps == 0, progress=self.progress)
        texts_items = item_texts(train.items)
        if self.steps > 0:
            encoder.load()
            encoder._model = copy.deepcopy(encoder.model)  # never modify a shared, cached model in place
            rng = numpy_rng(self.seed)
            histories, targets = self._pairs(train, rng, self.steps * self.batch_size)
            optimizer = torch.optim.AdamW(encoder.model.parameters(), lr=self.learning_rate)
            self.losses_ = []
            with torch.random.fork_rng():
                torch.manual_seed(self.seed)
                encoder.model.train()
                for step in tqdm(range(self.steps), desc="fine-tuning", disable=not self.progress):
                    batch = slice(step * self.batch_size, (step + 1) * self.batch_size)
                    u = encoder.forward(histories[batch])
                    v = encoder.forward([texts_items[i] for i in targets[batch]])
                    logits = u @ v.T / self.temperature
                    same = torch.from_numpy(targets[batch][:, None] == targets[batch][None, :])
                    logits = logits.masked_fill(same & ~torch.eye(len(u), dtype=torch.bool), float("-inf"))
                    loss = F.cross_entropy(logits, torch.arange(len(u)))
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    self.losses_.append(loss.item())
                encoder.model.eval()
        self.item_vectors_ = encoder.encode(texts_items, desc="items")
        texts_users = user_texts(train, self.max_items)
        self.user_vectors_ = encoder.encode(texts_users, desc="users")

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.user_vectors_[users.numpy()] @ self.item_vectors_.T)
