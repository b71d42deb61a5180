"""N-gram language models over integer tokens: words or items (chapter: *N-gram language models*).

A sequence ``w_1..w_T`` is padded with ``n-1`` begin symbols on the left and ``n-1`` end symbols on the right
(as ``nltk.lm.preprocessing.pad_both_ends`` does), and the model estimates ``P(w_t | w_{t-n+1..t-1})``:

* maximum likelihood: ``c(h, w) / c(h)``, zero for every unseen n-gram;
* add-k (Laplace for k = 1): ``(c(h, w) + k) / (c(h) + k |V|)``;
* interpolated Kneser-Ney with discount ``d``:
  ``P(w|h) = max(c'(h, w) - d, 0) / c'(h) + d N1+(h .) / c'(h) * P(w | h minus its first token)``, where
  ``c'`` is the raw count at the highest order and the continuation count ``N1+(. h w)`` (number of distinct
  left neighbours) at lower orders. The recursion ends in the continuation unigram ``N1+(. w) / N1+(. .)``
  (``unigram="continuation"``, exactly ``nltk.lm.KneserNeyInterpolated``), optionally itself interpolated
  with the uniform distribution (``unigram="interpolated"``) so no token has probability zero.

  At lower orders the back-off weight is ``d N1+(. h w > 0 types) / sum_w N1+(. h w)``, the number of word
  *types* with a nonzero continuation count, so every level sums to one (``variant="standard"``).
  ``nltk`` 3.10 counts the types with a nonzero *raw* count instead; around the padding symbols the two differ and
  nltk's distributions sum to more than one. ``variant="nltk"`` reproduces nltk exactly, for comparison.

Counting is vectorised: n-grams are encoded as integers ``sum_j w_j |V|^(n-1-j)`` and counted with
``np.unique``; each order's counts are kept as a sparse ``contexts x vocabulary`` matrix, so a batch of next-token
distributions is a few sparse row gathers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._seed import numpy_rng

__all__ = ["NGramLM", "Vocabulary", "ngram_windows"]

SMOOTHINGS = ("mle", "add-k", "kneser-ney")


@dataclass(frozen=True)
class Vocabulary:
    """Token strings <-> ids, with ``<s>``, ``</s>`` and ``<UNK>`` (the sizes match ``nltk.lm.Vocabulary``)."""

    tokens: tuple[str, ...]

    BOS = "<s>"
    EOS = "</s>"
    UNK = "<UNK>"

    @classmethod
    def from_sentences(cls, sentences: Sequence[Sequence[str]]) -> Vocabulary:
        words = sorted({w for s in sentences for w in s} - {cls.BOS, cls.EOS, cls.UNK})
        return cls((*words, cls.BOS, cls.EOS, cls.UNK))

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def index(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.tokens)}

    @property
    def bos(self) -> int:
        return len(self.tokens) - 3

    @property
    def eos(self) -> int:
        return len(self.tokens) - 2

    @property
    def unk(self) -> int:
        return len(self.tokens) - 1

    def encode(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """Token ids per sentence; unknown words map to ``<UNK>``."""
        index = self.index
        return [np.array([index.get(w, self.unk) for w in s], dtype=np.int64) for s in sentences]


def ngram_windows(
    sequences: Sequence[np.ndarray], order: int, bos: int, eos: int | None, pad: int | None = None
) -> np.ndarray:
    """All length-``order`` windows of the padded sequences, as a ``(count, order)`` array (no window crosses
    two sequences). Padding: ``pad`` (default ``order - 1``) ``bos`` on the left and as many ``eos`` on the
    right (none when ``eos`` is None); a model of order n counts its lower orders on the same n-1 padding, as
    nltk's everygrams do."""
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order}")
    pad = order - 1 if pad is None else pad
    right = np.full(pad if eos is not None else 0, -1 if eos is None else eos)
    padded = [np.concatenate([np.full(pad, bos), s, right]).astype(np.int64) for s in sequences]
    if not padded:
        return np.zeros((0, order), dtype=np.int64)
    flat = np.concatenate(padded)
    owner = np.repeat(np.arange(len(padded)), [len(p) for p in padded])
    if len(flat) < order:
        return np.zeros((0, order), dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(flat, order)
    same = np.lib.stride_tricks.sliding_window_view(owner, order)
    keep = (same == same[:, :1]).all(axis=1)
    return np.ascontiguousarray(windows[keep])


class NGramLM:
    """An n-gram language model of order ``order`` over tokens ``0..vocab_size-1``."""

    def __init__(
        self,
        order: int,
        smoothing: str = "kneser-ney",
        k: float = 1.0,
        discount: float = 0.75,
        unigram: str = "interpolated",
        variant: str = "standard",
    ) -> None:
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        if smoothing not in SMOOTHINGS:
            raise ValueError(f"smoothing must be one of {SMOOTHINGS}, got {smoothing!r}")
        if unigram not in ("continuation", "interpolated"):
            raise ValueError(f"unigram must be 'continuation' or 'interpolated', got {unigram!r}")
        if not 0 < discount < 1:
            raise ValueError(f"discount must be in (0, 1), got {discount}")
        if variant not in ("standard", "nltk"):
            raise ValueError(f"variant must be 'standard' or 'nltk', got {variant!r}")
        self.order, self.smoothing, self.k, self.discount, self.unigram = order, smoothing, k, discount, unigram
        self.variant = variant

    # ------------------------------------------------------------------------------------------- fitting
    def fit(
        self, sequences: Sequence[np.ndarray], vocab_size: int, bos: int, eos: int, pad_right: bool = True
    ) -> NGramLM:
        """Count the n-grams of every order ``1..order`` of the padded ``sequences``.

        ``pad_right=False`` leaves the end of a sequence unmarked: right for histories that are merely cut off
        (a user's history so far), where "end of sequence" is not an event to predict.
        """
        if vocab_size**self.order >= 2**62:
            raise ValueError(f"vocabulary {vocab_size} too large for order {self.order} integer n-gram keys")
        self.vocab_size, self.bos, self.eos = int(vocab_size), int(bos), int(eos)
        self.pad_right_ = bool(pad_right)
        right = eos if pad_right else None
        windows = ngram_windows(sequences, self.order, bos, right)
        if len(windows) == 0:
            raise ValueError("no n-grams: the training sequences are empty")
        self.raw_: list[tuple[np.ndarray, sp.csr_matrix]] = []
        self.cont_: list[tuple[np.ndarray, sp.csr_matrix] | None] = []
        full_keys = None
        for m in range(self.order):  # m = context length, n-gram order m + 1
            grams = ngram_windows(sequences, m + 1, bos, right, pad=self.order - 1) if m + 1 < self.order else windows
            keys, counts = np.unique(self._keys(grams), return_counts=True)
            self.raw_.append(self._matrix(keys, counts.astype(np.float64), m))
            if m + 1 == self.order:
                full_keys = keys
        # continuation counts N1+(. h w) for orders 1..order-1, from the distinct (m+2)-grams
        self.cont_ = [None] * self.order
        for m in range(self.order - 1):
            higher = self.raw_[m + 1]
            higher_keys = self._row_keys_times_vocab(higher) if m + 1 < self.order - 1 else full_keys
            suffix = higher_keys % (self.vocab_size ** (m + 1))
            keys, counts = np.unique(suffix, return_counts=True)
            self.cont_[m] = self._matrix(keys, counts.astype(np.float64), m)
        return self

    def _keys(self, grams: np.ndarray) -> np.ndarray:
        powers = self.vocab_size ** np.arange(grams.shape[1] - 1, -1, -1, dtype=np.int64)
        return grams.astype(np.int64) @ powers

    def _matrix(self, keys: np.ndarray, values: np.ndarray, m: int) -> tuple[np.ndarray, sp.csr_matrix]:
        """Split (m+1)-gram keys into (context key, last token) and build ``contexts x V``."""
        contexts, words = np.divmod(keys, self.vocab_size)
        context_keys, rows = np.unique(contexts, return_inverse=True)
        matrix = sp.csr_matrix((values, (rows, words)), shape=(len(context_keys), self.vocab_size))
        return context_keys, matrix

    def _row_keys_times_vocab(self, table: tuple[np.ndarray, sp.csr_matrix]) -> np.ndarray:
        """The (m+1)-gram keys present in a raw table (context key * V + word)."""
        context_keys, matrix = table
        coo = matrix.tocoo()
        return context_keys[coo.row] * self.vocab_size + coo.col

    # ------------------------------------------------------------------------------------------- scoring
    def _rows(self, table: tuple[np.ndarray, sp.csr_matrix], contexts: np.ndarray) -> np.ndarray:
        """Dense rows of ``table`` for the given context ids (B, m); zero rows for unseen contexts."""
        context_keys, matrix = table
        b = contexts.shape[0]
        keys = self._keys(contexts) if contexts.shape[1] else np.zeros(b, dtype=np.int64)
        position = np.searchsorted(context_keys, keys)
        position = np.minimum(position, len(context_keys) - 1)
        found = context_keys[position] == keys
        out = np.zeros((b, self.vocab_size))
        if found.any():
            out[found] = matrix[position[found]].toarray()
        return out

    def distribution(self, contexts: np.ndarray) -> np.ndarray:
        """``P(. | h)`` for a batch of contexts: ``(B, order-1)`` token ids -> ``(B, vocab_size)`` probabilities.

        Contexts shorter than ``order - 1`` are not allowed; pad them with ``bos`` on the left.
        """
        contexts = np.asarray(contexts, dtype=np.int64).reshape(len(contexts), -1)
        if contexts.shape[1] != self.order - 1:
            raise ValueError(f"contexts must have {self.order - 1} tokens, got {contexts.shape[1]}")
        top = self._rows(self.raw_[self.order - 1], contexts)
        totals = top.sum(axis=1, keepdims=True)
        if self.smoothing == "mle":
            return np.divide(top, totals, out=np.zeros_like(top), where=totals > 0)
        if self.smoothing == "add-k":
            return (top + self.k) / (totals + self.k * self.vocab_size)
        return self._kneser_ney(contexts)

    def _kneser_ney(self, contexts: np.ndarray) -> np.ndarray:
        d = self.discount
        # continuation unigram N1+(. w) / N1+(. .)
        if self.order == 1:  # no bigrams to count continuations from: use the raw unigram counts
            counts = self._rows(self.raw_[0], contexts[:, :0])
        else:
            counts = self._rows(self.cont_[0], contexts[:, :0])
        total = counts.sum(axis=1, keepdims=True)
        if self.unigram == "interpolated":
            types = (counts > 0).sum(axis=1, keepdims=True)
            prob = np.maximum(counts - d, 0) / total + d * types / total / self.vocab_size
        else:
            prob = counts / total
        for m in range(1, self.order):
            h = contexts[:, self.order - 1 - m :]
            raw = self._rows(self.raw_[m], h)
            seen = raw.sum(axis=1, keepdims=True) > 0  # nltk: unseen context -> alpha 0, gamma 1
            counts = raw if m == self.order - 1 else self._rows(self.cont_[m], h)
            total = counts.sum(axis=1, keepdims=True)
            usable = seen & (total > 0)
            safe = np.where(usable, total, 1.0)
            alpha = np.where(usable, np.maximum(counts - d, 0) / safe, 0.0)
            types = (raw > 0) if self.variant == "nltk" else (counts > 0)
            gamma = np.where(usable, d * types.sum(axis=1, keepdims=True) / safe, 1.0)
            prob = alpha + gamma * prob
        return prob

    def seen_contexts(self, contexts: np.ndarray) -> np.ndarray:
        """Whether each full-length context (B, order-1) occurred in training (a row of the top-order counts)."""
        contexts = np.asarray(contexts, dtype=np.int64).reshape(len(contexts), -1)
        return self._rows(self.raw_[self.order - 1], contexts).sum(axis=1) > 0

    def prob(self, word: int, context: Sequence[int]) -> float:
        """``P(word | context)``; the context is cut or left-padded to ``order - 1`` tokens."""
        return float(self.distribution(self._context_row(context))[0, word])

    def _context_row(self, context: Sequence[int]) -> np.ndarray:
        m = self.order - 1
        context = list(context)[-m:] if m else []
        return np.array([[self.bos] * (m - len(context)) + context], dtype=np.int64).reshape(1, m)

    def logprobs(self, sequences: Sequence[np.ndarray], one_end: bool = False) -> np.ndarray:
        """Natural-log probability of every padded-window target of ``sequences`` (one per window).

        The sequences are padded as the training sequences were: with end symbols only if fitted with
        ``pad_right=True``, ``order - 1`` of them, as nltk pads. ``one_end=True`` keeps, per sequence, only its
        words and the first end symbol: the same events for every order, so perplexities of different orders
        compare (the padded form also scores ``order - 2`` near-certain ends after the end).
        """
        windows = ngram_windows(sequences, self.order, self.bos, self.eos if self.pad_right_ else None)
        if one_end and self.pad_right_ and self.order > 2:
            lengths = np.array([len(s) for s in sequences], dtype=np.int64)
            per_sequence = lengths + self.order - 1  # windows of one padded sequence
            if per_sequence.sum() != len(windows):
                raise ValueError("one_end needs sequences long enough to form their windows")
            position = np.arange(len(windows)) - np.repeat(np.cumsum(per_sequence) - per_sequence, per_sequence)
            windows = windows[position < np.repeat(lengths + 1, per_sequence)]
        probs = np.empty(len(windows))
        for start in range(0, len(windows), 4096):
            block = windows[start : start + 4096]
            dist = self.distribution(block[:, :-1])
            probs[start : start + 4096] = dist[np.arange(len(block)), block[:, -1]]
        with np.errstate(divide="ignore"):
            return np.log(probs)

    def perplexity(self, sequences: Sequence[np.ndarray], one_end: bool = False) -> float:
        """``exp(-(1/N) sum log P(w_t | h_t))`` over the padded windows (``inf`` if any probability is 0);
        ``one_end=True`` scores each word and one end per sequence, the events to compare orders on."""
        return float(np.exp(-self.logprobs(sequences, one_end=one_end).mean()))

    def accuracy(self, sequences: Sequence[np.ndarray]) -> float:
        """Share of padded-window targets that are the model's most probable next token (ties: lowest id).

        ``mean_t 1[argmax_w P(w | h_t) = w_t]``: what article 000 scores a language model by. It sees only the
        top guess, so two models with the same guesses score the same whatever probability they give the truth;
        :meth:`perplexity` is the measure of a language model (chapter: *N-gram language models*).
        """
        windows = ngram_windows(sequences, self.order, self.bos, self.eos)
        if len(windows) == 0:
            raise ValueError("accuracy needs at least one token")
        hits = 0
        for start in range(0, len(windows), 4096):
            block = windows[start : start + 4096]
            hits += int((self.distribution(block[:, :-1]).argmax(axis=1) == block[:, -1]).sum())
        return hits / len(windows)

    def sample(self, length: int, seed: int, context: Sequence[int] = ()) -> list[int]:
        """Draw up to ``length`` tokens after ``context`` (stops at the end symbol), reproducibly from ``seed``."""
        rng = numpy_rng(seed)
        history, out = list(context), []
        for _ in range(length):
            dist = self.distribution(self._context_row(history))[0]
            token = int(rng.choice(self.vocab_size, p=dist / dist.sum()))
            if token == self.eos:
                break
            out.append(token)
            history.append(token)
        return out
