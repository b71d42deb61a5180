"""Neural language models over token ids: Bengio's fixed-window model and a recurrent one with GRU or LSTM
cells written out gate by gate (chapter: *Neural language models*).

Each cell is checked in the tests against ``torch.nn.GRU`` / ``torch.nn.LSTM`` with copied weights. A sentence
``w_1..w_T`` is one training sequence: the model reads ``<s> w_1 .. w_T`` and predicts ``w_1 .. w_T </s>``, the
same ``T + 1`` events as a bigram model of chapter 2 (``NGramLM(2)``), so their perplexities are comparable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._seed import numpy_rng, torch_generator

__all__ = [
    "GRUCell",
    "LSTMCell",
    "NeuralNGramLM",
    "RNNLanguageModel",
    "fit_language_model",
    "language_model_batches",
    "log_perplexity_difference",
    "next_token_accuracy",
    "replace_rare",
    "run_cell",
    "sentence_logprobs",
]

CELLS = ("gru", "lstm")


def _uniform_(tensors: Sequence[torch.Tensor], bound: float, generator: torch.Generator) -> None:
    with torch.no_grad():
        for tensor in tensors:
            tensor.uniform_(-bound, bound, generator=generator)


class GRUCell(nn.Module):
    """One step of a gated recurrent unit, in ``torch.nn.GRU``'s parameter layout (gates stacked r, z, n):

    ``r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)`` (reset gate),
    ``z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)`` (update gate),
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`` (candidate state),
    ``h' = (1 - z) * n + z * h``.

    Initialised like torch, uniform in ``(-1/sqrt(H), 1/sqrt(H))``, from its own ``seed``.
    """

    gates = 3

    def __init__(self, input_size: int, hidden_size: int, seed: int = 42) -> None:
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"input_size and hidden_size must be positive, got {input_size}, {hidden_size}")
        self.input_size, self.hidden_size = input_size, hidden_size
        g, h = self.gates, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(g * h, input_size))
        self.weight_hh = nn.Parameter(torch.empty(g * h, h))
        self.bias_ih = nn.Parameter(torch.empty(g * h))
        self.bias_hh = nn.Parameter(torch.empty(g * h))
        _uniform_(self.parameters(), 1.0 / math.sqrt(h), torch_generator(seed))

    def initial_state(self, batch: int) -> torch.Tensor:
        return torch.zeros(batch, self.hidden_size)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``x``: (B, input_size), ``h``: (B, H) -> ``h'``: (B, H)."""
        gi_r, gi_z, gi_n = (x @ self.weight_ih.T + self.bias_ih).chunk(3, dim=-1)
        gh_r, gh_z, gh_n = (h @ self.weight_hh.T + self.bias_hh).chunk(3, dim=-1)
        reset = torch.sigmoid(gi_r + gh_r)
        update = torch.sigmoid(gi_z + gh_z)
        candidate = torch.tanh(gi_n + reset * gh_n)
        return (1 - update) * candidate + update * h

    def output(self, state: torch.Tensor) -> torch.Tensor:
        return state

    @torch.no_grad()
    def load_from_torch(self, rnn: nn.GRU | nn.LSTM, layer: int = 0) -> GRUCell:
        """Copy layer ``layer``'s weights of a ``torch.nn.GRU`` (or ``LSTM`` for :class:`LSTMCell`)."""
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(self, name).copy_(getattr(rnn, f"{name}_l{layer}"))
        return self


class LSTMCell(GRUCell):
    """One step of a long short-term memory cell, in ``torch.nn.LSTM``'s layout (gates stacked i, f, g, o);
    the state is the pair ``(h, c)``:

    ``i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)`` (input gate), ``f = sigmoid(...)`` (forget gate),
    ``g = tanh(...)`` (candidate), ``o = sigmoid(...)`` (output gate),
    ``c' = f * c + i * g``, ``h' = o * tanh(c')``.
    """

    gates = 4

    def initial_state(self, batch: int) -> torch.Tensor:
        return torch.zeros(batch, 2 * self.hidden_size)  # h and c side by side

    def forward(self, x: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """``x``: (B, input_size), ``state``: (B, 2H) = ``[h, c]`` -> ``[h', c']``."""
        h, c = state.chunk(2, dim=-1)
        gates = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh
        i, f, g, o = gates.chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return torch.cat([h, c], dim=-1)

    def output(self, state: torch.Tensor) -> torch.Tensor:
        return state[..., : self.hidden_size]


def run_cell(cell: GRUCell, inputs: torch.Tensor, state: torch.Tensor | None = None) -> torch.Tensor:
    """Unroll ``cell`` over ``inputs`` (B, T, input_size); returns the outputs ``h_1..h_T`` as (B, T, H).

    ``h_t = cell(x_t, h_{t-1})`` with ``h_0 = 0``: one loop over the T time steps (not over sequences)."""
    state = cell.initial_state(inputs.shape[0]) if state is None else state
    outputs = []
    for t in range(inputs.shape[1]):
        state = cell(inputs[:, t], state)
        outputs.append(cell.output(state))
    return torch.stack(outputs, dim=1)


class RNNLanguageModel(nn.Module):
    """``P(w_{t+1} | w_1..w_t) = softmax(W h_t + b)`` with ``h_t = cell(E w_t, h_{t-1})``: an embedding, one
    recurrent layer (:class:`GRUCell` or :class:`LSTMCell`, from scratch) and a linear output over the
    vocabulary. Dropout with probability ``dropout`` on the embeddings and on the states before the output
    layer (inverted dropout: survivors scaled by ``1 / (1 - p)``; off in ``eval()``).
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_size: int = 64,
        hidden_size: int = 128,
        cell: str = "gru",
        dropout: float = 0.0,
        seed: int = 42,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if vocab_size < 2:
            raise ValueError(f"vocab_size must be at least 2, got {vocab_size}")
        generator = torch_generator(seed)
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        self.cell = (GRUCell if cell == "gru" else LSTMCell)(embedding_size, hidden_size, seed=seed + 1)
        self.output = nn.Linear(hidden_size, vocab_size)
        self.dropout = nn.Dropout(dropout)
        with torch.no_grad():
            self.embedding.weight.normal_(0.0, 0.1, generator=generator)
            _uniform_([self.output.weight, self.output.bias], 1.0 / math.sqrt(hidden_size), generator)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``tokens``: (B, T) ids -> next-token logits (B, T, V)."""
        states = run_cell(self.cell, self.dropout(self.embedding(tokens)))
        return self.output(self.dropout(states))


class NeuralNGramLM(nn.Module):
    """Bengio et al.'s (2003) neural probabilistic language model over a fixed window of ``context`` tokens:

    ``x = [E w_{t-n+1}; ...; E w_{t-1}]`` (embeddings concatenated), ``h = tanh(H x + d)``,
    ``P(w_t | w_{t-n+1..t-1}) = softmax(U h + b)``.

    Forward takes the same right-padded (B, T) sequences as :class:`RNNLanguageModel` (``<s>`` first) and
    left-pads each position's window with ``<s>``, so both models predict the same events.
    """

    def __init__(
        self,
        vocab_size: int,
        context: int,
        bos: int,
        embedding_size: int = 64,
        hidden_size: int = 128,
        dropout: float = 0.0,
        seed: int = 42,
    ) -> None:
        super().__init__()
        if context < 1:
            raise ValueError(f"context must be at least 1 token, got {context}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        generator = torch_generator(seed)
        self.context, self.bos = context, bos
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        self.hidden = nn.Linear(context * embedding_size, hidden_size)
        self.output = nn.Linear(hidden_size, vocab_size)
        self.dropout = nn.Dropout(dropout)
        with torch.no_grad():
            self.embedding.weight.normal_(0.0, 0.1, generator=generator)
            _uniform_([self.hidden.weight, self.hidden.bias], 1.0 / math.sqrt(context * embedding_size), generator)
            _uniform_([self.output.weight, self.output.bias], 1.0 / math.sqrt(hidden_size), generator)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``tokens``: (B, T) -> logits (B, T, V); position t sees tokens t-context+1..t."""
        padded = F.pad(tokens, (self.context - 1, 0), value=self.bos)
        windows = padded.unfold(1, self.context, 1)  # (B, T, context)
        x = self.dropout(self.embedding(windows).flatten(2))
        return self.output(self.dropout(torch.tanh(self.hidden(x))))


# ----------------------------------------------------------------------------------------------- data and training
def replace_rare(sequences: Sequence[np.ndarray], unk: int, share: float, seed: int) -> list[np.ndarray]:
    """Replace each occurrence of a token seen once in ``sequences`` by ``unk`` with probability ``share``.

    A model trained on a closed vocabulary never sees ``<UNK>`` and gives it almost no probability, while ~1 in 4
    held-out title words is unknown. Words seen once stand in for words never seen (the Good-Turing idea: the
    share of singletons estimates the share of new words), so turning some of them into ``<UNK>`` teaches the
    model how often an unknown word comes; ``share < 1`` keeps each singleton itself predictable too.
    """
    if not 0 <= share <= 1:
        raise ValueError(f"share must be in [0, 1], got {share}")
    flat = np.concatenate(sequences) if sequences else np.zeros(0, dtype=np.int64)
    counts = np.bincount(flat, minlength=unk + 1)
    rng = numpy_rng(seed)
    replaced = []
    for s in sequences:
        hit = (counts[s] == 1) & (rng.random(len(s)) < share)
        replaced.append(np.where(hit, unk, s))
    return replaced


def _pad(sequences: Sequence[np.ndarray], bos: int, eos: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs ``<s> w_1..w_T`` and targets ``w_1..w_T </s>``, right-padded; padded targets are -100."""
    length = max(len(s) for s in sequences) + 1
    inputs = torch.full((len(sequences), length), eos, dtype=torch.long)
    targets = torch.full((len(sequences), length), -100, dtype=torch.long)
    for row, s in enumerate(sequences):
        ids = torch.as_tensor(np.asarray(s, dtype=np.int64))
        inputs[row, 0], inputs[row, 1 : len(s) + 1] = bos, ids
        targets[row, : len(s)], targets[row, len(s)] = ids, eos
    return inputs, targets


def language_model_batches(
    sequences: Sequence[np.ndarray], bos: int, eos: int, batch_size: int, generator: torch.Generator
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch of ``(inputs, targets)`` batches in a seeded random order (see :func:`_pad`)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    order = torch.randperm(len(sequences), generator=generator).tolist()
    return [
        _pad([sequences[i] for i in order[start : start + batch_size]], bos, eos)
        for start in range(0, len(order), batch_size)
    ]


def fit_language_model(
    model: nn.Module,
    sequences: Sequence[np.ndarray],
    bos: int,
    eos: int,
    trainer,
    batch_size: int = 64,
):
    """Train ``model`` with the shared :class:`llmrec.training.Trainer` on the mean next-token cross-entropy
    ``L = -(1/N) sum_t log P(w_t | w_<t)`` over the ``N`` real (unpadded) targets of each batch; returns the
    :class:`~llmrec.training.TrainingHistory`."""
    if not sequences:
        raise ValueError("fit_language_model: no training sequences")

    def batch_loss(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, float]:
        inputs, targets = batch
        logits = model(inputs)
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100)
        return loss, float((targets != -100).sum())

    return trainer.fit(
        model, lambda generator: language_model_batches(sequences, bos, eos, batch_size, generator), batch_loss
    )


@torch.no_grad()
def _per_event(
    model: nn.Module, sequences: Sequence[np.ndarray], bos: int, eos: int, batch_size: int, temperature: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    was_training = model.training
    model.eval()
    logprobs: list[np.ndarray] = []
    hits: list[np.ndarray] = []
    for start in range(0, len(sequences), batch_size):
        block = list(sequences[start : start + batch_size])
        inputs, targets = _pad(block, bos, eos)
        logits = model(inputs).double() / temperature
        logp = torch.log_softmax(logits, dim=-1)
        picked = logp.gather(-1, targets.clamp(min=0)[..., None])[..., 0]
        top = logits.argmax(dim=-1) == targets
        logprobs.extend(picked[row, : len(s) + 1].numpy() for row, s in enumerate(block))
        hits.extend(top[row, : len(s) + 1].numpy() for row, s in enumerate(block))
    model.train(was_training)
    return logprobs, hits


def sentence_logprobs(
    model: nn.Module,
    sequences: Sequence[np.ndarray],
    bos: int,
    eos: int,
    batch_size: int = 256,
    temperature: float = 1.0,
) -> list[np.ndarray]:
    """``log P(w_t | w_<t)`` of every event ``w_1..w_T </s>`` of each sequence (evaluation mode, no dropout),
    with ``P = softmax(z / temperature)`` over the model's logits ``z``.

    Perplexity is ``exp(-sum / N)`` over all ``N`` events of all sequences."""
    return _per_event(model, sequences, bos, eos, batch_size, temperature)[0]


def next_token_accuracy(model: nn.Module, sequences: Sequence[np.ndarray], bos: int, eos: int) -> float:
    """``(1/N) sum_t 1[argmax_w P(w | w_<t) = w_t]`` over the same events as :func:`sentence_logprobs` (ties: lowest
    id). It depends on the top guess only, so it is the same at every softmax temperature."""
    hits = _per_event(model, sequences, bos, eos, 256, 1.0)[1]
    return float(np.concatenate(hits).mean())


def log_perplexity_difference(
    a: Sequence[np.ndarray], b: Sequence[np.ndarray], seed: int, n_resamples: int = 2000
) -> tuple[float, float, float]:
    """``log PPL_a - log PPL_b = -(1/N) sum_s (sum_t log p_a - sum_t log p_b)`` over paired per-sentence
    log-probabilities, with a percentile bootstrap 95 % interval resampling sentences: returns
    ``(difference, low, high)``. Each sentence contributes ``d_s S / N`` so the mean over the ``S`` sentences is
    the difference (chapter: *Evaluation methodology* for the bootstrap)."""
    from ..stats import bootstrap_ci

    if len(a) != len(b) or any(len(x) != len(y) for x, y in zip(a, b, strict=False)):
        raise ValueError("a and b must hold the log-probabilities of the same events")
    n_events = sum(len(x) for x in a)
    per_sentence = np.array([-(x.sum() - y.sum()) for x, y in zip(a, b, strict=True)]) * len(a) / n_events
    low, high = bootstrap_ci(per_sentence, n_resamples=n_resamples, seed=seed)
    return float(per_sentence.mean()), low, high
