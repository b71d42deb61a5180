"""Mappings between two latent spaces, fitted on anchor rows (chapter: *Interest transfer and cold start*).

EMCDR (Man et al., IJCAI 2017) learns ``f`` with ``f(u_s) ~ u_t`` on the users present in both domains, then gives
a user who is cold in the target the factor ``f(u_s)``. Two forms of ``f``:

* linear: ``f(x) = x W + b`` with ``(W, b) = argmin ||X W + 1 b - Y||^2 + reg ||W||^2`` (closed form);
* a one-hidden-layer perceptron ``f(x) = tanh(x W1 + b1) W2 + b2`` trained on the mean squared error with Adam.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .._seed import torch_generator

__all__ = ["fit_linear_map", "fit_mlp_map"]


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


def fit_mlp_map(
    x: np.ndarray,
    y: np.ndarray,
    hidden: int = 64,
    epochs: int = 300,
    learning_rate: float = 1e-2,
    weight_decay: float = 0.0,
    seed: int = 42,
) -> Callable[[np.ndarray], np.ndarray]:
    """Full-batch Adam on ``mean ||tanh(x W1 + b1) W2 + b2 - y||^2``; returns ``f`` (NumPy in, NumPy out)."""
    if hidden < 1 or epochs < 1:
        raise ValueError(f"hidden and epochs must be >= 1, got {hidden} and {epochs}")
    generator = torch_generator(seed)
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    w1 = (torch.randn(xt.shape[1], hidden, generator=generator) / xt.shape[1] ** 0.5).requires_grad_()
    w2 = (torch.randn(hidden, yt.shape[1], generator=generator) / hidden**0.5).requires_grad_()
    b1 = torch.zeros(hidden, requires_grad=True)
    b2 = yt.mean(0).clone().requires_grad_()
    optimizer = torch.optim.Adam([w1, b1, w2, b2], lr=learning_rate, weight_decay=weight_decay)

    def forward(inputs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(inputs @ w1 + b1) @ w2 + b2

    for _ in range(epochs):
        loss = ((forward(xt) - yt) ** 2).sum(1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def mapping(inputs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return forward(torch.as_tensor(inputs, dtype=torch.float32)).double().numpy()

    return mapping
