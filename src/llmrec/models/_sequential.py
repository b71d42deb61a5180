"""What every next-item sequence model of the book shares (chapter: *Sequential interest*).

A user's history ``[<bos>, i_1, ..., i_T]`` (right-padded, the latest ``max_len - 1`` items) goes through an
encoder that is causal: the hidden state ``h_t`` at position ``t`` sees positions ``0..t`` only. The score of item
``j`` after position ``t`` is ``h_t . e_j`` with the item embeddings ``e`` shared by input and output (tied), so

    score(u, j) = h_{T_u}(u) . e_j                      (the state after the user's whole history)

Training predicts the next item at every real position of every history (teacher forcing), with one of:

* ``loss="ce"``: full softmax over all items, ``-log softmax(h_t E^T)_{i_{t+1}}`` (SASRec+; Klenitskiy &
  Vasilev, RecSys 2023), :func:`full_softmax_loss`;
* ``loss="bce"``: one uniform negative per position, ``-log s(h_t.e_pos) - log(1 - s(h_t.e_neg))`` (the original
  SASRec; Kang & McAuley, ICDM 2018), :func:`sampled_bce_loss`;
* ``loss="sampled"``: ``num_negatives`` items shared by the batch, drawn from the training popularity ``Q``,
  softmax over ``{positive} + negatives`` with logits ``h.e_j - log Q_j`` (the log-Q correction),
  :func:`sampled_softmax_loss`;
* ``loss="unseen"``: ``num_negatives`` items per user drawn uniformly without replacement among the items *outside*
  the user's training window, shared by the user's positions; softmax over ``{positive} + negatives`` with plain
  logits (SASRec+ with 3,000 negatives; Klenitskiy & Vasilev, RecSys 2023), :func:`unseen_softmax_loss`. The
  user's other items are never negatives, as they are never candidates when seen items are masked at ranking.

Transfer (chapter: *Interest transfer and cold start*): ``init_from`` a fitted model of the same class and width
(trained on another platform) and ``item_map`` (this data's item ``j`` -> the source's item id, -1 when the film has
no match) start training from the source's weights: the encoder's parameters are copied (learned positions up to
this model's ``max_len``), the item embedding of a matched item is the source's row, an unmatched one keeps its
random start (:func:`transfer_weights`). Fine-tuning then proceeds as usual; ``epochs=0`` uses the source as it is.

Options every encoder gets: text-enhanced item embeddings ``e_j = id_j + text_weight * A(x_j)`` with ``x_j`` the
all-MiniLM-L6-v2 vector of the item's text and ``A`` a small trainable adapter (:class:`TextAdapter`), an item table
that *starts* from the text (``item_init="text"``: the first ``d`` principal components of the ``x_j``,
:func:`text_pca_table`, as Harte et al., RecSys 2023; ``"text-whitened"``: each component rescaled to the same
spread) and is then trained as ids, a count gate that hands rare items to their text (``text_gate="count"``:
``e_j = (1 - g_j) id_j + g_j text_weight A(x_j)``, ``g_j = sigmoid(a + b z_j)`` with ``z_j`` the standardised
``log(1 + c_j)`` of item ``j``'s training count and learned scalars ``a = 0``, ``b = -1`` at the start, so a film
rated seldom starts mostly text and a popular one mostly id), and a
multi-task genre head ``L = L_next + genre_weight * L_genre`` (:func:`multitask_loss`).

The output layer and the loss are computed on real (non-padded) positions only, and batches group users of
similar history length (``bucket``), so little work is spent on padding.
A history longer than ``max_len - 1`` trains on its latest window only (SASRec's and SASRec+'s choice), or with
``windows="all"`` on every event, the older ones in earlier windows (:func:`older_windows`; on ML-1M this adds a
third of the training events and +0.0085 NDCG@10 at seed 42, chapter: *Sequential interest*, section 3.7).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from .._interactions import Interactions, rank_from_end
from .._seed import torch_generator
from ..training import Trainer, TrainingHistory, holdout_last, ranking_validator, sample_target_users
from ._base import Recommender

__all__ = [
    "SequentialRecommender",
    "TextAdapter",
    "full_softmax_loss",
    "genre_matrix",
    "length_buckets",
    "length_groups",
    "multitask_loss",
    "normal_init",
    "older_windows",
    "padding_share",
    "right_padded_sequences",
    "sampled_bce_loss",
    "sampled_softmax_loss",
    "standardised_log_counts",
    "text_pca_table",
    "transfer_weights",
    "unseen_negatives",
    "unseen_softmax_loss",
]

LOSSES = ("ce", "bce", "sampled", "unseen")


# ---------------------------------------------------------------------------------------------------------- losses
class _ChunkedSoftmaxCrossEntropy(torch.autograd.Function):
    """Forward and backward of :func:`full_softmax_loss` in row chunks, never holding the (N, n_items) logits.

    For a chunk of rows, ``G = softmax(H E^T) - onehot(y)`` is the gradient of the summed loss with respect to the
    logits, so ``dL/dH = G E / N`` and ``dL/dE = G^T H / N``; both are accumulated in the forward pass and only
    scaled in the backward pass (the loss is always differentiated once per step while training).
    """

    @staticmethod
    def forward(
        ctx,
        hidden: torch.Tensor,
        items: torch.Tensor,
        targets: torch.Tensor,
        chunk_size: int,
        rows: torch.Tensor | None = None,
        candidates: torch.Tensor | None = None,
    ):
        n = hidden.shape[0]
        grad_hidden, grad_items = torch.empty_like(hidden), torch.zeros_like(items)
        total = hidden.new_zeros(())
        for start in range(0, n, chunk_size):
            h, y = hidden[start : start + chunk_size], targets[start : start + chunk_size]
            logits = h @ items.T
            if candidates is not None:  # only the row's target and its user's negatives are in the softmax
                logits.masked_fill_(~_in_softmax(candidates, rows[start : start + chunk_size], y), float("-inf"))
            target_logit = logits.gather(1, y[:, None])[:, 0]
            row_max = logits.amax(dim=1)
            gradient = logits.sub_(row_max[:, None]).exp_()  # exp(z - max z), in place: one exp per logit
            normaliser = gradient.sum(dim=1)
            total += (row_max + normaliser.log() - target_logit).sum()  # log-sum-exp minus the target's logit
            gradient.div_(normaliser[:, None])  # softmax
            gradient[torch.arange(len(y)), y] -= 1.0
            grad_hidden[start : start + chunk_size] = gradient @ items
            grad_items.addmm_(gradient.T, h)
        ctx.save_for_backward(grad_hidden / n, grad_items / n)
        return total / n

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        grad_hidden, grad_items = ctx.saved_tensors
        return grad_hidden * grad_output, grad_items * grad_output, None, None, None, None


def full_softmax_loss(
    hidden: torch.Tensor, items: torch.Tensor, targets: torch.Tensor, chunk_size: int | None = 256
) -> torch.Tensor:
    """``mean_n -log softmax(h_n E^T)[y_n]``: cross-entropy over **all** items for each row ``h_n`` of ``hidden``
    (N, d), item table ``items`` (n_items, d) and target ids ``targets`` (N,).

    With ``chunk_size`` (and gradients enabled) it runs in row chunks with a fused backward
    (:class:`_ChunkedSoftmaxCrossEntropy`): the same value and gradients as ``F.cross_entropy(hidden @ items.T,
    targets)`` (checked in the tests), about half the CPU time, since the (N, n_items) logits never exist at once.
    """
    if chunk_size is None or not torch.is_grad_enabled() or len(targets) == 0:
        return F.cross_entropy(hidden @ items.T, targets)
    return _ChunkedSoftmaxCrossEntropy.apply(hidden, items, targets, chunk_size)


def sampled_bce_loss(
    hidden: torch.Tensor, items: torch.Tensor, targets: torch.Tensor, negatives: torch.Tensor
) -> torch.Tensor:
    """``mean_n [-log s(h_n . e_{y_n}) - log(1 - s(h_n . e_{z_n}))]``, one negative ``z_n`` per row (original
    SASRec). ``s`` is the logistic sigmoid; ``log(1 - s(x)) = log s(-x)``."""
    positive = (hidden * F.embedding(targets, items)).sum(-1)  # F.embedding: a deterministic backward
    negative = (hidden * F.embedding(negatives, items)).sum(-1)
    return -(F.logsigmoid(positive) + F.logsigmoid(-negative)).mean()


def sampled_softmax_loss(
    hidden: torch.Tensor, items: torch.Tensor, targets: torch.Tensor, negatives: torch.Tensor, log_q: torch.Tensor
) -> torch.Tensor:
    """Sampled softmax with the log-Q correction over the positive and ``K`` shared negatives ``z_1..z_K``:

    ``-log [exp(o_y) / (exp(o_y) + sum_k exp(o_{z_k}))]`` with ``o_j = h_n . e_j - log Q_j`` (``log_q`` holds
    ``log Q`` for every item). A negative equal to the row's positive (an accidental hit) is left out.
    Correcting by ``log Q`` makes the sampled loss an unbiased estimate of the full softmax's gradient direction
    when negatives are drawn with probability ``Q`` (Bengio & Senecal 2008; Yi et al., RecSys 2019).
    """
    positive = (hidden * F.embedding(targets, items)).sum(-1, keepdim=True) - log_q[targets, None]
    negative = hidden @ F.embedding(negatives, items).T - log_q[negatives][None, :]
    negative = negative.masked_fill(negatives[None, :] == targets[:, None], float("-inf"))
    logits = torch.cat([positive, negative], dim=1)
    return -torch.log_softmax(logits, dim=1)[:, 0].mean()


def unseen_negatives(
    windows: torch.Tensor, n_items: int, num_negatives: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A (B, n_items) mask of each user's negatives: ``num_negatives`` items drawn uniformly without replacement
    among the items that do not occur in the user's row of ``windows`` (ids ``>= n_items``, such as ``<bos>`` and
    padding, are ignored). Drawn as the ``num_negatives`` smallest of uniform keys, with the window's items given
    the largest key; a user with fewer outside items than ``num_negatives`` gets all of them."""
    in_window = torch.zeros(len(windows), n_items + 1, dtype=torch.bool)
    in_window.scatter_(1, windows.clamp(max=n_items), True)
    in_window = in_window[:, :n_items]
    keys = torch.rand(len(windows), n_items, generator=generator).masked_fill_(in_window, 2.0)
    chosen = keys.topk(min(num_negatives, n_items), dim=1, largest=False).indices
    return torch.zeros_like(in_window).scatter_(1, chosen, True) & ~in_window


def _in_softmax(negatives: torch.Tensor, rows: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(N, n_items) mask of the items in row ``n``'s softmax: its user's negatives ``negatives[rows[n]]`` and its
    target ``targets[n]``."""
    kept = negatives[rows]
    kept[torch.arange(len(targets)), targets] = True
    return kept


def unseen_softmax_loss(
    hidden: torch.Tensor,
    items: torch.Tensor,
    targets: torch.Tensor,
    rows: torch.Tensor,
    negatives: torch.Tensor,
    chunk_size: int | None = 256,
) -> torch.Tensor:
    """``mean_n -log [exp(h_n.e_y) / (exp(h_n.e_y) + sum_{j in Z_u(n)} exp(h_n.e_j))]``: softmax over the row's
    target ``y_n`` and the negatives ``Z_u`` of the row's user ``u(n) = rows[n]`` (``negatives``, a (B, n_items)
    mask from :func:`unseen_negatives`). Computed as :func:`full_softmax_loss` with every other item's logit at
    ``-inf``; with all non-target items as negatives it *is* the full softmax (checked in the tests)."""
    if chunk_size is None or not torch.is_grad_enabled() or len(targets) == 0:
        kept = _in_softmax(negatives, rows, targets)
        return F.cross_entropy((hidden @ items.T).masked_fill(~kept, float("-inf")), targets)
    return _ChunkedSoftmaxCrossEntropy.apply(hidden, items, targets, chunk_size, rows, negatives)


def multitask_loss(
    next_loss: torch.Tensor, genre_logits: torch.Tensor, genre_targets: torch.Tensor, genre_weight: float
) -> torch.Tensor:
    """``L = L_next + lambda * L_genre`` with ``L_genre = mean_{n,g} BCE(s(a_ng), y_ng)`` the multi-label binary
    cross-entropy of the next item's genres (``genre_logits`` a, ``genre_targets`` y in {0, 1}, both (N, G)):
    ``BCE(p, y) = -y log p - (1 - y) log(1 - p)``. Chapter: *Sequential interest* (article 001's multi-task
    loss, whose label is not always 1)."""
    return next_loss + genre_weight * F.binary_cross_entropy_with_logits(genre_logits, genre_targets)


# ------------------------------------------------------------------------------------------------------- helpers
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


def older_windows(
    indptr: np.ndarray, items: np.ndarray, max_len: int, bos: int, pad: int
) -> tuple[np.ndarray, np.ndarray]:
    """Training rows for the events *before* each user's latest window of :func:`right_padded_sequences`, and
    their lengths. A history of ``T > L = max_len - 1`` events ``i_1..i_T`` keeps ``i_{T-L+1}..i_T`` in its latest
    window; the older ``i_1..i_{T-L}`` are cut, from the end, into windows of ``L`` targets: each row is the film
    just before its window followed by the window (``max_len`` tokens), and the oldest row is ``[bos, i_1, ...]``
    right-padded. So every event is a training target exactly once, after up to ``L`` predecessors.
    Vectorised: rows are indexed by (user, k) with ``k = 0`` the window just before the latest one.
    Returns ``(rows (n_windows, max_len), lengths (n_windows,))``; no rows when no history exceeds ``L``."""
    span = max_len - 1
    older = np.maximum(np.diff(indptr) - span, 0)  # events before the latest window
    count = -(-older // span)  # ceil(older / L) windows per user
    user = np.repeat(np.arange(len(older)), count)
    k = np.arange(len(user)) - np.repeat(np.cumsum(count) - count, count)
    end = older[user] - k * span  # exclusive end of the window's targets, within the user's history
    first = np.maximum(end - span, 0) - 1  # the row's first token: -1 (<bos>) for the oldest window
    position = first[:, None] + np.arange(max_len)  # (n_windows, max_len) positions in the user's history
    tokens = items[np.clip(indptr[user][:, None] + position, 0, max(len(items) - 1, 0))]
    rows = np.where(position < 0, bos, np.where(position >= end[:, None], pad, tokens)).astype(np.int64)
    return rows, (end - first).astype(np.int64)


def genre_matrix(items: pd.DataFrame | None, n_items: int) -> tuple[torch.Tensor, list[str]]:
    """Multi-hot ``(n_items, G)`` float matrix of each item's genres and the sorted genre vocabulary."""
    if items is None or "genres" not in items.columns:
        raise ValueError("genre_weight > 0 needs an item table with a 'genres' column (lists of genre names)")
    lists = [list(g) if isinstance(g, list | tuple | np.ndarray) else [] for g in items["genres"]]
    vocabulary = sorted({g for genres in lists for g in genres})
    index = {g: j for j, g in enumerate(vocabulary)}
    rows = np.repeat(np.arange(len(lists)), [len(g) for g in lists])
    cols = np.array([index[g] for genres in lists for g in genres], dtype=np.int64)
    matrix = torch.zeros(n_items, len(vocabulary))
    matrix[torch.from_numpy(rows), torch.from_numpy(cols)] = 1.0
    return matrix, vocabulary


def length_buckets(
    lengths: torch.Tensor, batch_size: int, generator: torch.Generator, bucket: bool = True, chunk_batches: int = 64
) -> list[torch.Tensor]:
    """Batches of row indices for one epoch: a random permutation cut into chunks of ``chunk_batches`` batches;
    inside a chunk rows are sorted by ``lengths`` (``bucket=True``) so a batch holds similar lengths and needs
    little padding; the batches are then shuffled."""
    order = torch.randperm(len(lengths), generator=generator)
    if not bucket:
        return list(order.split(batch_size))
    batches = []
    for chunk in order.split(batch_size * chunk_batches):
        chunk = chunk[torch.argsort(lengths[chunk], stable=True)]
        batches += list(chunk.split(batch_size))
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def length_groups(lengths: torch.Tensor, group_size: int | None) -> list[torch.Tensor]:
    """Positions into ``lengths`` encoded together: all of them (``group_size=None``), or runs of ``group_size`` in
    order of length (stable), so that each run is only as wide as its own longest row."""
    if group_size is None or len(lengths) <= group_size:
        return [torch.arange(len(lengths))]
    return list(torch.argsort(lengths, stable=True).split(group_size))


def padding_share(lengths: torch.Tensor, batches: list[torch.Tensor], group_size: int | None = None) -> float:
    """Share of padded positions when every batch (row indices into ``lengths``) is encoded in
    :func:`length_groups`, each group as wide as its longest row: ``1 - sum_n len_n / sum_g |g| max_{n in g} len_n``."""
    padded = sum(len(g) * int(lengths[b][g].max()) for b in batches for g in length_groups(lengths[b], group_size))
    return 1.0 - float(lengths[torch.cat(batches)].sum()) / padded


def text_pca_table(vectors: torch.Tensor, size: int, std: float, whiten: bool = False) -> torch.Tensor:
    """Item-table start from text vectors ``X`` (n, D): the scores on the first ``size`` principal components,
    ``Z = (X - mean X) V_size`` with ``V`` the right singular vectors of the centred ``X`` (each column's sign
    fixed so that its largest-magnitude loading is positive, as scikit-learn's ``PCA``), rescaled so that the
    entries of ``Z`` have (population) standard deviation ``std``, the scale of a random start, with the geometry
    of the text (chapter: *Sequential interest*, section 3.7). ``whiten=True`` rescales each column to ``std``
    on its own (as WhitenRec; Zhang et al., ICDE 2024), so that the leading components do not dominate.
    Raises ``ValueError`` when ``size > min(n, D)``."""
    if vectors.ndim != 2 or size > min(vectors.shape):
        raise ValueError(
            f"text_pca_table: {size} components need at least as many items and text dimensions, "
            f"got vectors of shape {tuple(vectors.shape)}"
        )
    if not std > 0:
        raise ValueError(f"text_pca_table: std must be > 0, got {std}")
    centred = vectors.double() - vectors.double().mean(0)
    _, _, right = torch.linalg.svd(centred, full_matrices=False)
    components = right[:size]  # (size, D)
    largest = components.abs().argmax(1)
    components = components * torch.sign(components[torch.arange(size), largest])[:, None]
    scores = centred @ components.T
    spread = scores.std(dim=0, correction=0) if whiten else scores.std(correction=0)
    return (scores * (std / spread)).float()


#: ``item_init`` values: PyTorch's (or ``init_std``'s) random draw, or the item texts' principal components.
ITEM_INITS = ("random", "text", "text-whitened")
#: ``text_gate`` values: the text added to every id row, or mixed with it by a gate on the item's training count.
TEXT_GATES = ("none", "count")
#: ``holdout`` values: every user's last training event held out for validation, or only the validation users'.
HOLDOUTS = ("all", "validated")
#: ``windows`` values: train on each user's latest ``max_len - 1`` events only, or on all of them in windows.
WINDOWS = ("latest", "all")


def standardised_log_counts(counts: np.ndarray) -> torch.Tensor:
    """``z_j = (log(1 + c_j) - mean) / sd`` over the items (population sd; all zeros when every count is equal)."""
    logged = np.log1p(np.asarray(counts, dtype=np.float64))
    spread = logged.std()
    return torch.from_numpy((logged - logged.mean()) / (spread if spread > 0 else 1.0)).float()


class TextAdapter(nn.Module):
    """Maps frozen text vectors ``x`` (n, D) to the model width d.

    ``experts=1``: ``A(x) = x W + b``. ``experts=K > 1``: a mixture of linear experts as in UniSRec (Hou et al.,
    KDD 2022), ``A(x) = sum_k softmax(x G)_k (x - c_k) W_k`` with learned centres ``c_k`` (the whitening shift),
    projections ``W_k`` and gate ``G``.
    """

    def __init__(self, text_size: int, embedding_size: int, experts: int = 1) -> None:
        super().__init__()
        if experts < 1:
            raise ValueError(f"experts must be >= 1, got {experts}")
        self.experts = experts
        if experts == 1:
            self.linear = nn.Linear(text_size, embedding_size)
        else:
            self.centres = nn.Parameter(torch.zeros(experts, text_size))
            self.projections = nn.Parameter(torch.randn(experts, text_size, embedding_size) / math.sqrt(text_size))
            self.gate = nn.Linear(text_size, experts, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.experts == 1:
            return self.linear(x)
        weights = torch.softmax(self.gate(x), dim=-1)  # (n, K)
        projected = torch.einsum("nkD,kDd->nkd", x[:, None, :] - self.centres[None], self.projections)
        return (weights[..., None] * projected).sum(1)


def transfer_weights(target: nn.Module, source: nn.Module, item_map: np.ndarray, n_items: int, n_source: int) -> int:
    """Copy a fitted source network's weights into ``target`` (chapter: *Interest transfer and cold start*).

    Every parameter of the target except the item table is copied from the source parameter of the same name; a
    learned position table may be longer in the source (its first rows are taken). Item rows: ``target[j] =
    source[item_map[j]]`` where ``item_map[j] >= 0``; the ``<bos>`` and ``<pad>`` rows (``n_items``,
    ``n_items + 1``) take the source's (``n_source``, ``n_source + 1``). Returns the number of items copied.
    Raises ``ValueError`` naming the parameter whose shape cannot be carried over.
    """
    item_map = np.asarray(item_map)
    if item_map.shape != (n_items,) or not np.issubdtype(item_map.dtype, np.integer):
        raise ValueError(f"item_map must be an integer array with one entry per item ({n_items}), got {item_map.shape}")
    if item_map.max(initial=-1) >= n_source or item_map.min(initial=0) < -1:
        raise ValueError(f"item_map entries must lie in -1..{n_source - 1} (the source's items; -1: no match)")
    source_state = source.state_dict()
    copied = {}
    for name, value in target.state_dict().items():
        if name == "item_embedding.weight":
            continue
        if name not in source_state:
            raise ValueError(f"init_from: the source model has no parameter {name!r} (a different architecture?)")
        given = source_state[name]
        if given.shape == value.shape:
            copied[name] = given.clone()
        elif name.endswith("positions.weight") and given.shape[1:] == value.shape[1:] and len(given) >= len(value):
            copied[name] = given[: len(value)].clone()
        else:
            raise ValueError(
                f"init_from: parameter {name!r} has shape {tuple(given.shape)} in the source, {tuple(value.shape)} here"
            )
    missing = set(source_state) - set(target.state_dict()) - {"item_embedding.weight"}
    if missing:
        raise ValueError(f"init_from: the source has parameters this model lacks: {sorted(missing)}")
    target.load_state_dict(copied, strict=False)
    with torch.no_grad():
        table, given = target.item_embedding.weight, source.item_embedding.weight
        if table.shape[1] != given.shape[1]:
            raise ValueError(f"init_from: embedding_size {given.shape[1]} in the source, {table.shape[1]} here")
        matched = torch.from_numpy(np.flatnonzero(item_map >= 0))
        table[matched] = given[torch.from_numpy(item_map[item_map >= 0].astype(np.int64))]
        table[n_items : n_items + 2] = given[n_source : n_source + 2]
    return int(len(matched))


def normal_init(module: nn.Module, std: float, keep_attention_inputs: bool = False) -> None:
    """Every weight matrix (item and position tables, linear and attention projections, recurrent weights)
    ~ N(0, std^2), every other vector (biases) 0, LayerNorm gains 1: the initialisation of BERT's implementation
    (std 0.02), instead of each layer's PyTorch default.

    ``keep_attention_inputs=True`` is SASRec+'s: its ``module.apply`` reaches ``nn.Linear`` and ``nn.Embedding``
    layers only, so the packed query/key/value projection of ``nn.MultiheadAttention`` (a bare parameter, not a
    layer) keeps PyTorch's Xavier-uniform draw, standard deviation ``sqrt(2 / (d + 3d))`` = 0.088 at d = 64."""
    with torch.no_grad():
        for layer in module.modules():
            for name, parameter in layer.named_parameters(recurse=False):
                if keep_attention_inputs and isinstance(layer, nn.MultiheadAttention) and name.endswith("proj_weight"):
                    continue  # in_proj_weight (or q/k/v_proj_weight): PyTorch's Xavier-uniform
                if isinstance(layer, nn.LayerNorm):
                    parameter.fill_(1.0 if parameter is layer.weight else 0.0)
                elif parameter.dim() >= 2:
                    parameter.normal_(0.0, std)
                else:
                    parameter.zero_()


class _Network(nn.Module):
    """Item table (ids + optional text adapter), an encoder, optional genre head."""

    def __init__(self, n_items: int, embedding_size: int, encoder: nn.Module) -> None:
        super().__init__()
        self.n_items = n_items
        self.item_embedding = nn.Embedding(n_items + 2, embedding_size)  # items, <bos>, <pad>
        nn.init.normal_(self.item_embedding.weight, std=embedding_size**-0.5)
        self.encoder = encoder
        self.text_adapter: TextAdapter | None = None
        self.text_weight = 0.0
        self.text_gate: nn.Parameter | None = None  # (a, b) of the count gate
        self.genre_head: nn.Linear | None = None

    def item_table(self) -> torch.Tensor:
        """``(n_items + 2, d)``: ``id_j + text_weight * A(x_j)`` for items, or with the count gate
        ``(1 - g_j) id_j + g_j text_weight A(x_j)``, ``g_j = sigmoid(a + b z_j)``; ``<bos>``/``<pad>`` rows are ids
        only."""
        table = self.item_embedding.weight
        if self.text_adapter is None:
            return table
        text = self.text_weight * self.text_adapter(self.text_vectors)
        gate = self.item_text_gates()
        if gate is None:
            return torch.cat([table[: self.n_items] + text, table[self.n_items :]])
        gate = gate[:, None]
        return torch.cat([(1 - gate) * table[: self.n_items] + gate * text, table[self.n_items :]])

    def item_text_gates(self) -> torch.Tensor | None:
        """``(n_items,)``: the count gate ``g_j = sigmoid(a + b z_j)`` of every item, or ``None`` without one."""
        if self.text_gate is None:
            return None
        return torch.sigmoid(self.text_gate[0] + self.text_gate[1] * self.item_log_counts)

    def hidden(self, inputs: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        # F.embedding, not table[inputs]: the backward of advanced indexing (index_put_ with accumulate) adds the
        # rows of repeated ids in a thread-dependent order on CPU, so two runs with 2 threads differ in the last
        # bits and, after a few hundred steps, in the recorded metrics; embedding's backward is deterministic.
        return self.encoder(F.embedding(inputs, table), inputs)


class SequentialRecommender(Recommender):
    """Base of the next-item models (see the module docstring); subclasses build the causal encoder in
    :meth:`_encoder` as an ``nn.Module`` mapping ``(embedded (B, T, d), ids (B, T)) -> hidden (B, T, d)``.

    Training runs in the shared :class:`~llmrec.training.Trainer` (``optimizer``: Adam with L2 penalty ``reg``, or
    AdamW with decoupled decay ``reg``; linear warm-up over ``warmup_steps`` and ``decay="cosine"`` optional).
    ``patience``: when set, each user's last training event is held out (:func:`~llmrec.training.holdout_last`),
    NDCG@10 on those events (full ranking, seen items masked) is measured after every epoch, training stops after
    ``patience`` epochs without improvement and the best epoch's weights are kept; the held-out events are inputs
    again for scoring. ``init_std``: initialise with :func:`normal_init` (SASRec+ uses 0.02) instead of PyTorch's
    per-layer defaults. ``validation_users``: validate on a seeded sample of that many users
    (:func:`~llmrec.training.sample_target_users`). ``holdout="validated"``: hold out only those users' last
    events; every other user's last training event stays a training target (``"all"``: held out for everyone; on
    ML-1M the extra targets did not help, chapter: *Sequential interest*, section 3.7, ``plus-3000-validated``).
    ``windows="all"``: a history longer than ``max_len - 1`` also trains on its older events, in earlier windows
    of the same width (:func:`older_windows`), so every training event is a target once; scoring still encodes
    the latest window (``"latest"``, SASRec's and SASRec+'s choice: on ML-1M a third of the training events,
    those before each user's latest 200, are never targets).
    ``group_size``: encode each batch (training and scoring) in groups of that many users sorted by history
    length, each group only as wide as its longest history. The encoders are causal and sequences right-padded, so
    a real position never sees padding and the loss, gradients and scores are those of one full-width pass (checked
    in the tests). On ML-1M 46 % of the positions of random batches of 128 (``bucket=False``) are padding, 18 % in
    groups of 32 (:func:`padding_share`; chapter: *Sequential interest*, section 3.7). ``None``: one pass per batch.
    ``history_`` (:class:`~llmrec.training.TrainingHistory`) keeps the per-epoch record.
    """

    _desc = "sequence model"

    def __init__(
        self,
        embedding_size: int = 64,
        max_len: int = 200,
        dropout: float = 0.1,
        loss: str = "ce",
        num_negatives: int = 256,
        epochs: int = 100,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        reg: float = 0.0,
        optimizer: str = "adam",
        warmup_steps: int = 0,
        decay: str = "none",
        patience: int | None = None,
        validation_users: int | None = None,
        holdout: str = "all",
        windows: str = "latest",
        bucket: bool = True,
        group_size: int | None = None,
        text_weight: float = 0.0,
        text_model: Any = None,
        text_experts: int = 1,
        item_init: str = "random",
        text_gate: str = "none",
        genre_weight: float = 0.0,
        init_std: float | None = None,
        init_from: SequentialRecommender | None = None,
        item_map: np.ndarray | None = None,
        seed: int = 42,
        progress: bool = False,
    ) -> None:
        if embedding_size < 1 or batch_size < 1:
            raise ValueError(f"embedding_size and batch_size must be >= 1, got {embedding_size} and {batch_size}")
        if max_len < 2:
            raise ValueError(f"max_len must be >= 2 (<bos> and at least one item), got {max_len}")
        if epochs < 0 or (epochs == 0 and init_from is None):
            raise ValueError(
                f"epochs must be >= 1 (0 would leave the model untrained; only a model with init_from may use 0), "
                f"got {epochs}"
            )
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        if loss in ("sampled", "unseen") and num_negatives < 1:
            raise ValueError(f"num_negatives must be >= 1 for loss={loss!r}, got {num_negatives}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        if learning_rate <= 0 or reg < 0 or warmup_steps < 0:
            raise ValueError(
                f"learning_rate must be > 0, reg and warmup_steps >= 0; got {learning_rate}, {reg}, {warmup_steps}"
            )
        if optimizer not in ("adam", "adamw"):
            raise ValueError(
                f"optimizer must be 'adam' (L2 penalty reg) or 'adamw' (decoupled decay reg), got {optimizer!r}"
            )
        if decay not in ("none", "cosine"):
            raise ValueError(f"decay must be 'none' or 'cosine', got {decay!r}")
        if patience is not None and patience < 1:
            raise ValueError(f"patience must be None or >= 1, got {patience}")
        if validation_users is not None and validation_users < 1:
            raise ValueError(f"validation_users must be None or >= 1, got {validation_users}")
        if holdout not in HOLDOUTS:
            raise ValueError(
                f"holdout must be one of {HOLDOUTS} (every user's last training event held out for validation, "
                f"or only the validation users'), got {holdout!r}"
            )
        if windows not in WINDOWS:
            raise ValueError(
                f"windows must be one of {WINDOWS} (train on each user's latest max_len - 1 events, or on every "
                f"event in windows of that width), got {windows!r}"
            )
        if genre_weight < 0:
            raise ValueError(f"genre_weight must be >= 0, got {genre_weight}")
        if group_size is not None and group_size < 1:
            raise ValueError(f"group_size must be None or >= 1, got {group_size}")
        if text_experts < 1:
            raise ValueError(f"text_experts must be >= 1, got {text_experts}")
        if init_std is not None and not init_std > 0:
            raise ValueError(f"init_std must be None or > 0, got {init_std}")
        if item_init not in ITEM_INITS:
            raise ValueError(
                f"item_init must be one of {ITEM_INITS} (random, or principal components of the item texts), "
                f"got {item_init!r}"
            )
        if text_gate not in TEXT_GATES:
            raise ValueError(
                f"text_gate must be one of {TEXT_GATES} (text added to every id, or mixed in by item count), "
                f"got {text_gate!r}"
            )
        if text_gate != "none" and text_weight == 0.0:
            raise ValueError(f"text_gate={text_gate!r} mixes in the items' text: it needs text_weight != 0")
        self.embedding_size, self.max_len, self.dropout = embedding_size, max_len, dropout
        self.loss, self.num_negatives, self.epochs, self.batch_size = loss, num_negatives, epochs, batch_size
        self.learning_rate, self.reg, self.warmup_steps, self.patience = learning_rate, reg, warmup_steps, patience
        self.decay, self.optimizer, self.validation_users = decay, optimizer, validation_users
        self.holdout, self.windows = holdout, windows
        self.bucket, self.group_size = bucket, group_size
        self.text_weight, self.text_model = text_weight, text_model
        self.text_experts, self.init_std, self.item_init = text_experts, init_std, item_init
        self.text_gate = text_gate
        if (init_from is None) != (item_map is None):
            raise ValueError("init_from and item_map go together: a fitted source model and its item id map")
        if init_from is not None and (type(init_from) is not type(self) or not getattr(init_from, "_fitted", False)):
            raise ValueError(f"init_from must be a fitted {type(self).__name__}, got {type(init_from).__name__}")
        self.init_from, self.item_map = init_from, item_map
        self.genre_weight, self.seed, self.progress = genre_weight, seed, progress

    # ------------------------------------------------------------------------------------------------- building
    def _encoder(self) -> nn.Module:
        raise NotImplementedError

    def _uses_text(self) -> bool:
        return False

    def _text_vectors(self, train: Interactions) -> torch.Tensor:
        """all-MiniLM-L6-v2 vectors of :func:`~llmrec.text.item_texts` (cached on disk by the encoder)."""
        from ..text import TextEncoder, item_texts

        encoder = self.text_model if isinstance(self.text_model, TextEncoder) else TextEncoder(self.text_model)
        if train.items is None:
            raise ValueError("text-enhanced items need an item table (titles, years, genres) on the training data")
        return torch.from_numpy(encoder.encode(item_texts(train.items), desc="item texts"))

    def _build(self, train: Interactions) -> _Network:
        network = _Network(train.n_items, self.embedding_size, self._encoder())
        if self.genre_weight > 0:
            self.genres_, self.genre_names_ = genre_matrix(train.items, train.n_items)
            network.genre_head = nn.Linear(self.embedding_size, len(self.genre_names_))
        if self.init_std is not None:
            normal_init(network, self.init_std, keep_attention_inputs=self._xavier_attention_inputs())
        vectors = self._text_vectors(train) if self._uses_text() or self.item_init != "random" else None
        if self.item_init != "random":  # no random draw: everything after it is drawn as with "random"
            std = self.init_std if self.init_std is not None else self.embedding_size**-0.5
            table = text_pca_table(vectors, self.embedding_size, std, whiten=self.item_init == "text-whitened")
            with torch.no_grad():
                network.item_embedding.weight[: train.n_items] = table
        if self._uses_text():  # built last: the id part's initialisation is the same with or without text
            network.register_buffer("text_vectors", vectors, persistent=False)
            with torch.random.fork_rng():  # its own stream: the dropout masks that follow are those of ids only
                torch.manual_seed(self.seed + 1)
                network.text_adapter = TextAdapter(vectors.shape[1], self.embedding_size, self.text_experts)
            network.text_weight = float(self.text_weight)
            if self.text_gate == "count":  # constants, no random draw: a = 0, b = -1
                network.register_buffer("item_log_counts", standardised_log_counts(train.item_counts()), False)
                network.text_gate = nn.Parameter(torch.tensor([0.0, -1.0]))
        if self.init_from is not None:
            self.transferred_items_ = transfer_weights(
                network, self.init_from.network_, self.item_map, train.n_items, self.init_from.n_items
            )
        return network

    def _xavier_attention_inputs(self) -> bool:
        """Whether :func:`normal_init` leaves attention's query/key/value projection at PyTorch's Xavier draw."""
        return False

    def _set_sequences(self, data: Interactions) -> None:
        indptr, items = data.sequences()
        self.bos_, self.pad_ = data.n_items, data.n_items + 1
        self.sequences_ = torch.from_numpy(right_padded_sequences(indptr, items, self.max_len, self.bos_, self.pad_))
        self.lengths_ = torch.from_numpy(np.minimum(np.diff(indptr), self.max_len - 1) + 1)  # with <bos>

    def _set_training_rows(self, data: Interactions) -> None:
        """Rows trained on: the users' latest windows (``sequences_``), and with ``windows="all"`` the windows of
        their older events after them (:func:`older_windows`). ``training_targets_``: positions per epoch."""
        self.train_sequences_, self.train_lengths_ = self.sequences_, self.lengths_
        if self.windows == "all":
            rows, lengths = older_windows(*data.sequences(), self.max_len, self.bos_, self.pad_)
            self.train_sequences_ = torch.cat([self.sequences_, torch.from_numpy(rows)])
            self.train_lengths_ = torch.cat([self.lengths_, torch.from_numpy(lengths)])
        self.training_targets_ = int((self.train_lengths_ - 1).sum())

    # ------------------------------------------------------------------------------------------------- training
    def _fit(self, train: Interactions) -> None:
        fit_data, held_out, targets = train, None, None
        if self.patience is not None:
            fit_data, held_out = holdout_last(train)
            targets = sample_target_users(held_out.matrix(), self.validation_users, self.seed)
            if self.holdout == "validated":  # the other users' last events stay training targets
                fit_data, held_out = holdout_last(train, users=np.flatnonzero(np.diff(targets.indptr)))
        self.held_out_events_ = 0 if held_out is None else len(held_out.frame)
        counts = fit_data.item_counts()
        self.log_q_ = torch.from_numpy(np.log(np.maximum(counts, 1) / max(counts.sum(), 1))).float()
        self.sample_probabilities_ = torch.from_numpy(counts / max(counts.sum(), 1)).float()
        self._set_sequences(fit_data)
        self._set_training_rows(fit_data)
        if not bool((self.lengths_ > 1).any()):
            raise ValueError(f"{type(self).__name__}: no user has an item to predict, so training would be a no-op")
        validate = None
        if targets is not None:
            validate = ranking_validator(self._score_batch, fit_data.matrix(), targets, k=10)
        trainer = Trainer(
            max(self.epochs, 1),  # epochs=0 (a transferred model used as it is) never reaches the trainer
            self.learning_rate,
            weight_decay=self.reg,
            optimizer=self.optimizer,
            patience=self.patience,
            warmup_steps=self.warmup_steps,
            decay=self.decay,
            seed=self.seed,
            progress=self.progress,
            desc=f"{self._desc} epochs",
        )
        with torch.random.fork_rng():  # initialisation and dropout draw from one stream of torch's generator
            torch.manual_seed(self.seed)
            self.network_ = self._build(train)
            if self.epochs == 0:  # a transferred model used as it is
                self.network_.eval()
                del self.train_sequences_, self.train_lengths_
                self._set_sequences(train)
                self.history_ = TrainingHistory()
                self.losses_ = self.history_.loss
                return
            self.history_ = trainer.fit(
                self.network_,
                self._epoch_batches,
                self._batch_loss,
                validate=validate,
                generator=torch_generator(self.seed),
                reseed=False,
            )
        self.network_.eval()
        del self.train_sequences_, self.train_lengths_  # scoring reads ``sequences_`` only
        if held_out is not None:
            self._set_sequences(train)
        self.losses_ = self.history_.loss

    def _epoch_batches(self, generator: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
        """One epoch: length-bucketed batches of training rows (users, and with ``windows="all"`` older windows)
        with at least one item to predict, each with the negatives its loss needs (drawn here from the seeded
        ``generator``)."""
        active = torch.nonzero(self.train_lengths_ > 1).flatten()
        batches = []
        for rows in length_buckets(self.train_lengths_[active], self.batch_size, generator, self.bucket):
            users = active[rows]
            negatives = None
            if self.loss == "bce":  # one uniform item per predicted position
                count = int((self.train_lengths_[users] - 1).sum())
                negatives = torch.randint(0, self.n_items, (count,), generator=generator)
            elif self.loss == "sampled":  # shared by the batch, drawn from the training popularity Q
                negatives = torch.multinomial(self.sample_probabilities_, self.num_negatives, True, generator=generator)
            elif self.loss == "unseen":  # per row, uniform among the items outside the row's window
                negatives = unseen_negatives(self.train_sequences_[users], self.n_items, self.num_negatives, generator)
            batches.append((users, negatives))
        return batches

    def _groups(self, users: torch.Tensor) -> list[torch.Tensor]:
        """Positions into ``users`` encoded together (:func:`length_groups` of their history lengths)."""
        return length_groups(self.lengths_[users], self.group_size)

    def _batch_loss(self, batch: tuple[torch.Tensor, torch.Tensor | None]) -> tuple[torch.Tensor, float]:
        users, negatives = batch
        table = self.network_.item_table()
        hidden_parts, target_parts, row_parts = [], [], []
        for group in length_groups(self.train_lengths_[users], self.group_size):
            sequences = self.train_sequences_[users[group]]
            width = int(self.train_lengths_[users[group]].max())
            inputs, following = sequences[:, : width - 1], sequences[:, 1:width]
            real = following != self.pad_
            hidden_parts.append(self.network_.hidden(inputs, table)[real])  # (N_g, d): real positions only
            target_parts.append(following[real])
            row_parts.append(group[real.nonzero(as_tuple=True)[0]])  # each position's row in the batch
        hidden, targets, rows = torch.cat(hidden_parts), torch.cat(target_parts), torch.cat(row_parts)
        items = table[: self.n_items]
        if self.loss == "ce":
            loss = full_softmax_loss(hidden, items, targets)
        elif self.loss == "bce":
            loss = sampled_bce_loss(hidden, items, targets, negatives)
        elif self.loss == "unseen":
            loss = unseen_softmax_loss(hidden, items, targets, rows, negatives)
        else:
            loss = sampled_softmax_loss(hidden, items, targets, negatives, self.log_q_)
        if self.network_.genre_head is not None:
            loss = multitask_loss(loss, self.network_.genre_head(hidden), self.genres_[targets], self.genre_weight)
        return loss, float(len(targets))

    # -------------------------------------------------------------------------------------------------- scoring
    @torch.inference_mode()
    def _last_hidden(self, users: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``h_{T_u}`` (the encoder state after each user's truncated history; ``<bos>`` alone for an empty one)
        and the item table."""
        table = self.network_.item_table()
        groups, parts = self._groups(users), []
        for group in groups:
            lengths = self.lengths_[users[group]]
            hidden = self.network_.hidden(self.sequences_[users[group], : int(lengths.max())], table)
            parts.append(hidden[torch.arange(len(group)), lengths - 1])
        return torch.cat(parts)[torch.argsort(torch.cat(groups))], table  # back in the order of ``users``

    @torch.inference_mode()
    def _score_batch(self, users: torch.Tensor) -> torch.Tensor:
        was_training = self.network_.training
        self.network_.eval()
        try:
            last, table = self._last_hidden(users)
            return last @ table[: self.n_items].T
        finally:
            self.network_.train(was_training)

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        return self._score_batch(users)

    @torch.inference_mode()
    def predict_genres(self, users: torch.Tensor) -> torch.Tensor:
        """Probabilities ``s(a_g)`` that the next item carries genre g (needs ``genre_weight > 0``); columns
        follow ``genre_names_``."""
        if self.network_.genre_head is None:
            raise RuntimeError("predict_genres needs a model fitted with genre_weight > 0")
        last, _ = self._last_hidden(torch.as_tensor(users).long())
        return torch.sigmoid(self.network_.genre_head(last))
