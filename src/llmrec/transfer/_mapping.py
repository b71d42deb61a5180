"""Mappings between two latent spaces, fitted on anchor rows (chapter: *Interest transfer and cold start*).

EMCDR (Man et al., IJCAI 2017) learns ``f`` with ``f(u_s) ~ u_t`` on the users present in both domains, then gives
a user who is cold in the target the factor ``f(u_s)``. Two forms of ``f``:

* linear: ``f(x) = x W + b`` with ``(W, b) = argmin ||X W + 1 b - Y||^2 + reg ||W||^2`` (closed form);
* a one-hidden-layer perceptron ``f(x) = tanh(x W1 + b1) W2 + b2`` trained on the mean squared error with Adam.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .._seed import torch_generator
from ..training import Trainer, TrainingHistory

__all__ = ["MLPMap", "fit_linear_map", "fit_mlp_map"]


def fit_linear_map(x: np.ndarray, y: np.ndarray, reg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``(W, b)`` minimising ``||X W + 1 b^T - Y||^2 + reg ||W||^2`` (the bias is not penalised): centre both sides,
    ``W = (Xc^T Xc + reg I)^{-1} Xc^T Yc``, ``b = mean(Y) - mean(X) W``."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise ValueError(f"x and y must be 2-D with the same number of rows, got {x.shape} and {y.shape}")
    if reg < 0:
        raise ValueError(f"reg must be >= 0, got {reg}")
    mx, my = x.mean(axis=0), y.mean(axis=0)
    xc, yc = x - mx, y - my
    w = np.linalg.solve(xc.T @ xc + reg * np.eye(x.shape[1]), xc.T @ yc)
    return w, my - mx @ w


@dataclass
class MLPMap:
    """``f(x) = tanh(x W1 + b1) W2 + b2`` fitted by :func:`fit_mlp_map` (NumPy in, NumPy out); ``history`` is the
    shared loop's :class:`~llmrec.training.TrainingHistory` (one full-batch step an epoch)."""

    w1: torch.Tensor
    b1: torch.Tensor
    w2: torch.Tensor
    b2: torch.Tensor
    history: TrainingHistory

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(inputs @ self.w1 + self.b1) @ self.w2 + self.b2

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.forward(torch.as_tensor(inputs, dtype=torch.float32)).double().numpy()


def fit_mlp_map(
    x: np.ndarray,
    y: np.ndarray,
    hidden: int = 64,
    epochs: int = 300,
    learning_rate: float = 1e-2,
    weight_decay: float = 0.0,
    seed: int = 42,
) -> MLPMap:
    """Full-batch Adam on ``mean ||tanh(x W1 + b1) W2 + b2 - y||^2`` with the shared
    :class:`~llmrec.training.Trainer` (an epoch is one step on every anchor row); returns ``f`` as an :class:`MLPMap`.

    ``W1, W2 ~ N(0, 1 / fan_in)`` from the seeded generator, ``b1 = 0``, ``b2 = mean(y)``."""
    if hidden < 1 or epochs < 1:
        raise ValueError(f"hidden and epochs must be >= 1, got {hidden} and {epochs}")
    generator = torch_generator(seed)
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    w1 = (torch.randn(xt.shape[1], hidden, generator=generator) / xt.shape[1] ** 0.5).requires_grad_()
    w2 = (torch.randn(hidden, yt.shape[1], generator=generator) / hidden**0.5).requires_grad_()
    b1 = torch.zeros(hidden, requires_grad=True)
    b2 = yt.mean(0).clone().requires_grad_()
    mapping = MLPMap(w1, b1, w2, b2, TrainingHistory())

    def batch_loss(batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        inputs, targets = batch
        return ((mapping.forward(inputs) - targets) ** 2).sum(1).mean()

    trainer = Trainer(epochs=epochs, learning_rate=learning_rate, weight_decay=weight_decay, seed=seed, desc="mlp map")
    mapping.history = trainer.fit([w1, b1, w2, b2], lambda generator: [(xt, yt)], batch_loss, generator=generator)
    return mapping
