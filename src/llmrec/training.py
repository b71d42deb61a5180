"""The one training loop every trainable model of the book uses (in the spirit of d2l's ``Trainer``).

A model describes *what* to train: its parameters, how one epoch is cut into mini-batches, and the loss of a
batch. :class:`Trainer` does the rest the same way for every model: the seeded batch order, the optimiser
(Adam or AdamW with weight decay), an optional linear warm-up and cosine decay of the learning rate, gradient
clipping, a progress bar, the mean loss and the wall-clock seconds of every epoch, and early stopping on a
validation metric with patience, restoring the best weights (chapter: *Sequential interest*, where early stopping
is derived; used from chapter 3 on)::

    trainer = Trainer(epochs=20, learning_rate=1e-3, patience=3, seed=42)
    history = trainer.fit(module, epoch_batches, batch_loss, validate=ranking_validator(...))
    history.loss, history.seconds, history.validation, history.best_epoch

``epoch_batches(generator)`` returns one epoch's batches (it draws its shuffles and negatives from
``generator``); ``batch_loss(batch)`` returns the loss tensor or ``(loss, weight)``, and an epoch's loss is the
``weight``-weighted mean of its batch losses (the weight defaults to the length of the batch's first tensor).

:func:`holdout_last` and :func:`ranking_validator` give a model its own validation set inside ``fit``: each user's
last training event is held out, the model trains on the rest, and NDCG@10 on the held-out events (full ranking,
the book's evaluator) decides when to stop. For a leave-one-out split that held-out event is exactly the split's
validation item, the protocol of SASRec and its successors.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from tqdm import tqdm  # text bars: tqdm.auto wants ipywidgets in a notebook and warns without it

from ._interactions import Interactions, rank_from_end
from ._seed import torch_generator

__all__ = ["Trainer", "TrainingHistory", "freeze_below", "holdout_last", "ranking_validator", "sample_target_users"]

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
DECAYS = ("none", "cosine")


@dataclass
class TrainingHistory:
    """What happened during training, kept on a fitted model as ``history_``.

    ``loss`` and ``seconds`` hold one value per epoch run (``seconds`` is training time only, without
    validation; an epoch cut short by ``max_steps`` counts the steps it ran); ``step_loss`` and ``step_seconds``
    the loss and seconds of every optimiser step; ``validation`` the validation metric after each epoch (empty
    without a validator); ``best_epoch`` is the 1-based epoch whose weights the model keeps.
    """

    loss: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    step_seconds: list[float] = field(default_factory=list)
    validation: list[float] = field(default_factory=list)
    validation_seconds: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        return len(self.loss)

    @property
    def steps(self) -> int:
        return len(self.step_loss)

    @property
    def total_seconds(self) -> float:
        """Seconds spent in training steps (validation excluded)."""
        return float(sum(self.seconds))

    def as_dict(self) -> dict[str, Any]:
        return {
            "loss": self.loss,
            "seconds": self.seconds,
            "validation": self.validation,
            "validation_seconds": self.validation_seconds,
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
        }


Params = torch.nn.Module | Sequence[torch.Tensor]


def _trainable(params: Params) -> list[torch.Tensor]:
    tensors = params.parameters() if isinstance(params, torch.nn.Module) else params
    return [t for t in tensors if t.requires_grad]


def _snapshot(params: Params) -> Any:
    if isinstance(params, torch.nn.Module):
        return {k: v.detach().clone() for k, v in params.state_dict().items()}
    return [t.detach().clone() for t in params]


@torch.no_grad()
def _restore(params: Params, state: Any) -> None:
    if isinstance(params, torch.nn.Module):
        params.load_state_dict(state)
    else:
        for tensor, saved in zip(params, state, strict=True):
            tensor.copy_(saved)


class Trainer:
    """Mini-batch training with one loop for every model.

    ``optimizer``: ``"adam"`` (weight decay as an L2 term in the gradient) or ``"adamw"`` (decoupled weight
    decay). Learning rate at step ``t`` (1-based) of ``T``: ``lr * min(1, t / warmup_steps)``, times
    ``(1 + cos(pi * t / T)) / 2`` with ``decay="cosine"``. ``patience``: stop after that many validations
    without a new best (``None``: run every epoch; the best weights are still restored when ``validate`` is
    given). ``reseed``: seed torch's global generator with ``seed`` for dropout inside a ``fork_rng`` block
    (``False`` when the caller already seeded it, e.g. to share one stream between initialisation and dropout).
    ``max_steps``: a budget in optimiser steps as well as in epochs; training stops when either is spent (the
    last epoch may then run only some of its batches), for fine-tuning "for ``steps`` mini-batches".
    """

    def __init__(
        self,
        epochs: int,
        learning_rate: float,
        weight_decay: float = 0.0,
        optimizer: str = "adam",
        patience: int | None = None,
        max_grad_norm: float | None = None,
        warmup_steps: int = 0,
        decay: str = "none",
        seed: int = 42,
        progress: bool = False,
        desc: str = "epochs",
        max_steps: int | None = None,
    ) -> None:
        if not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}")
        if patience is not None and patience < 1:
            raise ValueError(f"patience must be a positive integer or None, got {patience!r}")
        if warmup_steps < 0:
            raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps!r}")
        if decay not in DECAYS:
            raise ValueError(f"decay must be one of {DECAYS}, got {decay!r}")
        if max_steps is not None and (not isinstance(max_steps, int) or max_steps < 1):
            raise ValueError(f"max_steps must be a positive integer or None, got {max_steps!r}")
        self.epochs, self.learning_rate, self.weight_decay = epochs, learning_rate, weight_decay
        self.optimizer, self.patience, self.max_grad_norm = optimizer, patience, max_grad_norm
        self.warmup_steps, self.decay, self.seed = warmup_steps, decay, seed
        self.progress, self.desc, self.max_steps = progress, desc, max_steps

    def _schedule(self, steps_per_epoch: int) -> Callable[[int], float]:
        total = max(1, self.epochs * steps_per_epoch)
        if self.max_steps is not None:
            total = min(total, self.max_steps)

        def factor(step: int) -> float:  # LambdaLR passes the number of steps taken so far (0-based)
            t = step + 1
            value = min(1.0, t / self.warmup_steps) if self.warmup_steps else 1.0
            if self.decay == "cosine":
                value *= 0.5 * (1.0 + math.cos(math.pi * min(t, total) / total))
            return value

        return factor

    def fit(
        self,
        params: Params,
        epoch_batches: Callable[[torch.Generator], Iterable[Any]],
        batch_loss: Callable[[Any], torch.Tensor | tuple[torch.Tensor, float]],
        validate: Callable[[], float] | None = None,
        generator: torch.Generator | None = None,
        reseed: bool = True,
    ) -> TrainingHistory:
        """Train ``params`` (a module, or a list of tensors) and return the :class:`TrainingHistory`."""
        trainable = _trainable(params)
        if not trainable:
            raise ValueError(f"{self.desc}: nothing to train (no parameter requires a gradient)")
        generator = generator if generator is not None else torch_generator(self.seed)
        module = params if isinstance(params, torch.nn.Module) else None
        optimizer = OPTIMIZERS[self.optimizer](trainable, lr=self.learning_rate, weight_decay=self.weight_decay)
        scheduler = None
        history = TrainingHistory()
        best, best_state, waited = -math.inf, None, 0
        with torch.random.fork_rng():
            if reseed:
                torch.manual_seed(self.seed)  # dropout masks
            bar = tqdm(range(self.epochs), desc=self.desc, disable=not self.progress or self.epochs == 1)
            for epoch in bar:
                if self.max_steps is not None and len(history.step_loss) >= self.max_steps:
                    break  # the step budget is spent (checked before drawing another epoch's order)
                if module is not None:
                    module.train()
                start = time.perf_counter()
                batches = list(epoch_batches(generator))
                if not batches:
                    raise ValueError(f"{self.desc}: an epoch has no batches (no training examples)")
                if scheduler is None and (self.warmup_steps or self.decay != "none"):
                    lambda_ = self._schedule(len(batches))
                    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda_)
                total, weight = 0.0, 0.0
                if self.max_steps is not None:
                    batches = batches[: self.max_steps - len(history.step_loss)]
                # a one-epoch run (fine-tuning for a number of steps) shows its steps instead
                for batch in tqdm(batches, desc=self.desc, disable=not (self.progress and self.epochs == 1)):
                    step_start = time.perf_counter()
                    out = batch_loss(batch)
                    loss, w = out if isinstance(out, tuple) else (out, float(len(batch[0])))
                    optimizer.zero_grad()
                    loss.backward()
                    if self.max_grad_norm is not None:
                        torch.nn.utils.clip_grad_norm_(trainable, self.max_grad_norm)
                    optimizer.step()
                    if scheduler is not None:
                        scheduler.step()
                    value = loss.item()
                    history.step_loss.append(value)
                    history.step_seconds.append(time.perf_counter() - step_start)
                    total, weight = total + value * float(w), weight + float(w)
                history.seconds.append(time.perf_counter() - start)
                history.loss.append(total / max(weight, 1e-12))
                history.best_epoch = epoch + 1
                if validate is None:
                    bar.set_postfix(loss=f"{history.loss[-1]:.4f}")
                    continue
                if module is not None:
                    module.eval()
                start = time.perf_counter()
                with torch.inference_mode():
                    value = float(validate())
                history.validation_seconds.append(time.perf_counter() - start)
                if not math.isfinite(value):
                    raise ValueError(f"{self.desc}: the validation metric is {value} after epoch {epoch + 1}")
                history.validation.append(value)
                bar.set_postfix(loss=f"{history.loss[-1]:.4f}", valid=f"{value:.4f}")
                if value > best:
                    best, best_state, waited = value, _snapshot(params), 0
                else:
                    waited += 1
                    if self.patience is not None and waited >= self.patience:
                        history.stopped_early = True
                        break
            if best_state is not None:
                _restore(params, best_state)
                history.best_epoch = int(np.argmax(history.validation)) + 1
            if module is not None:
                module.eval()
        return history


def holdout_last(train: Interactions, users: np.ndarray | None = None) -> tuple[Interactions, Interactions]:
    """``(rest, held_out)``: each user's latest event (by time, ties by file order) is held out when the user has
    at least two; users with one event keep it in ``rest``. ``users``: hold out only these users' latest events
    (the others keep theirs in ``rest``, as training targets). Used for early stopping inside ``fit``."""
    chrono = train.chronological()
    users_of_events = chrono["user"].to_numpy()
    from_end = rank_from_end(users_of_events, train.n_users)
    counts = np.bincount(users_of_events, minlength=train.n_users)
    last = (from_end == 0) & (counts[users_of_events] >= 2)
    if users is not None:
        chosen = np.zeros(train.n_users, dtype=bool)
        chosen[np.asarray(users, dtype=np.int64)] = True
        last &= chosen[users_of_events]
    if not last.any():
        raise ValueError("holdout_last: no user has two training events, so there is nothing to validate on")
    return train.with_frame(chrono[~last].sort_index()), train.with_frame(chrono[last].sort_index())


def ranking_validator(
    score_batch: Callable[[torch.Tensor], torch.Tensor],
    known: sp.csr_matrix,
    targets: sp.csr_matrix,
    k: int = 10,
    metric: str = "NDCG",
    batch_size: int = 1024,
) -> Callable[[], float]:
    """A ``validate`` callable: ``metric@k`` of ``score_batch`` on ``targets`` with the book's full-ranking
    evaluator (items in ``known`` are excluded from the candidates)."""
    from .evaluation import PER_USER_METRICS, evaluate_scores

    if metric not in PER_USER_METRICS:
        raise ValueError(f"metric must be one of {PER_USER_METRICS}, got {metric!r}")

    def validate() -> float:
        result = evaluate_scores(score_batch, known, targets, k=k, batch_size=batch_size, who="validation")
        return result.summary()[f"{metric}@{k}"]

    return validate


def sample_target_users(targets: sp.csr_matrix, n_users: int | None, seed: int) -> sp.csr_matrix:
    """``targets`` with the rows of all but ``n_users`` users who have a target emptied (a seeded uniform sample;
    ``None`` or at least as many users as there are keeps every row). Validating on a sample of users costs
    proportionally less; its NDCG@10 estimates the full one with a standard error of about
    ``sd / sqrt(n_users)``."""
    with_target = np.flatnonzero(np.diff(targets.indptr))
    if n_users is None or n_users >= len(with_target):
        return targets
    if n_users < 1:
        raise ValueError(f"validation users must be None or >= 1, got {n_users}")
    keep = np.zeros(targets.shape[0])
    keep[np.random.default_rng(seed).choice(with_target, size=n_users, replace=False)] = 1.0
    sampled = (sp.diags(keep) @ targets).tocsr()
    sampled.eliminate_zeros()
    return sampled


def freeze_below(model: torch.nn.Module, trainable_layers: int | None) -> None:
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
