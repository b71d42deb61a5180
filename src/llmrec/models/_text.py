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

import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from tqdm import tqdm  # text bars: tqdm.auto wants ipywidgets in a notebook and warns without it

from .._interactions import Interactions
from .._seed import numpy_rng, torch_generator
from ..text import TextEncoder, history_texts, interaction_phrases, item_texts, user_texts
from ._base import Recommender, register_model
from ._bpr import bpr_loss, train_on_pairs

__all__ = ["FineTunedText", "TextContent", "TwoTower", "history_weights", "in_batch_softmax_loss"]

ModelSpec = str | Path | TextEncoder | None


def _encoder(model: ModelSpec, **options) -> TextEncoder:
    """A :class:`TextEncoder` for ``model`` (an encoder passed in is used as it is)."""
    return model if isinstance(model, TextEncoder) else TextEncoder(model, **options)


def history_weights(train: Interactions, rating_weighted: bool = True, half_life: float | None = None) -> sp.csr_matrix:
    """Users x items weights ``w_ui = (r_ui / 5 if rating_weighted else 1) * 2 ** (-age_ui / half_life)``.

    ``age_ui`` counts the user's interactions after this one (0 for the latest, ties broken by file position);
    ``half_life=None`` switches recency weighting off. A film rated twice gets the sum of its weights.
    """
    if half_life is not None and half_life <= 0:
        raise ValueError(f"half_life must be positive or None, got {half_life}")
    chrono = train.chronological()
    users = chrono["user"].to_numpy()
    ends = np.cumsum(np.bincount(users, minlength=train.n_users))
    age = ends[users] - 1 - np.arange(len(chrono))
    weights = chrono["rating"].to_numpy(np.float64) / 5.0 if rating_weighted else np.ones(len(chrono))
    if half_life is not None:
        weights = weights * np.exp2(-age / half_life)
    matrix = sp.csr_matrix((weights, (users, chrono["item"].to_numpy())), shape=(train.n_users, train.n_items))
    matrix.sum_duplicates()
    return matrix


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def in_batch_softmax_loss(
    users: torch.Tensor,
    items: torch.Tensor,
    targets: torch.Tensor,
    log_q: torch.Tensor | None = None,
    temperature: float = 1.0,
) -> torch.Tensor:
    """Sampled softmax with in-batch negatives (InfoNCE):
    ``-(1/B) sum_b log softmax_j(s_bj)[b]`` with ``s_bj = u_b . v_j / temperature - log q_j``.

    ``targets`` are the item ids of the rows of ``items``: another row with the same item is the user's own
    positive and is masked out of the negatives. ``log_q`` (log of each row's probability of being drawn into a
    batch) corrects the popularity bias of in-batch negatives (Yi et al., RecSys 2019): without it a popular
    item is a negative in many batches and the model learns ``log p(i | u) - log p(i)`` instead of
    ``log p(i | u)``.
    """
    logits = users @ items.T / temperature
    if log_q is not None:
        logits = logits - log_q[None, :]
    duplicate = (targets[:, None] == targets[None, :]) & ~torch.eye(len(targets), dtype=torch.bool)
    logits = logits.masked_fill(duplicate, float("-inf"))
    return F.cross_entropy(logits, torch.arange(len(targets)))


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
        self.user_vectors_ = _normalise_rows(np.asarray(weights @ self.item_vectors_, dtype=np.float32))

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.user_vectors_[users.numpy()] @ self.item_vectors_.T)


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
            users = _normalise_rows(np.asarray(history_weights(train) @ items, dtype=np.float32))
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

        self.losses_ = train_on_pairs(
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
        )
        with torch.inference_mode():
            self.user_factors_, self.item_factors_ = self._towers(
                torch.arange(train.n_users), torch.arange(train.n_items)
            )

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        return self.user_factors_[users] @ self.item_factors_.T


def _freeze_below(model: torch.nn.Module, trainable_layers: int | None) -> None:
    """Train only the top ``trainable_layers`` Transformer blocks (``None``: every parameter, embeddings too).

    The blocks are the longest ``ModuleList`` in the model (``encoder.layer`` for BERT-like encoders). Frozen
    lower blocks need no backward pass, so a step costs about ``1 + 2 k / L`` forward passes instead of 3."""
    if trainable_layers is None:
        for parameter in model.parameters():
            parameter.requires_grad_(True)
        return
    blocks = max((m for m in model.modules() if isinstance(m, torch.nn.ModuleList)), key=len, default=None)
    if blocks is None or not 0 <= trainable_layers <= len(blocks):
        raise ValueError(f"trainable_layers must be between 0 and the number of layers, got {trainable_layers}")
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    for block in list(blocks)[len(blocks) - trainable_layers :]:
        for parameter in block.parameters():
            parameter.requires_grad_(True)


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
            _freeze_below(encoder.model, self.trainable_layers)
            queries, targets, log_q = self._pairs(train, self.steps * self.batch_size)
            log_q_t = torch.from_numpy(log_q).float()
            trainable = [p for p in encoder.model.parameters() if p.requires_grad]
            optimizer = torch.optim.AdamW(trainable, lr=self.learning_rate)
            start = time.perf_counter()
            with torch.random.fork_rng():
                torch.manual_seed(self.seed)  # dropout masks
                encoder.model.train()
                for step in tqdm(range(self.steps), desc="fine-tuning", disable=not self.progress):
                    batch = slice(step * self.batch_size, (step + 1) * self.batch_size)
                    ids = torch.from_numpy(targets[batch])
                    u = encoder.forward(queries[batch])
                    v = encoder.forward([item_text[i] for i in targets[batch]])
                    correction = log_q_t[ids] if self.logq else None
                    loss = in_batch_softmax_loss(u, v, ids, correction, self.temperature)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    self.losses_.append(loss.item())
                encoder.model.eval()
            self.train_seconds_ = time.perf_counter() - start
            for parameter in encoder.model.parameters():
                parameter.requires_grad_(False)
        self.item_vectors_ = encoder.encode(item_text, desc="items")
        texts = user_texts(train, self.max_items)
        self.user_vectors_ = encoder.encode(texts, desc="users")
        self.user_vectors_[np.array([t == "" for t in texts], dtype=bool)] = 0.0

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.user_vectors_[users.numpy()] @ self.item_vectors_.T)
