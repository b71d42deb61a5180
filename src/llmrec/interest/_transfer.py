"""Transfer learning done right for a least-squares model (chapter: *Bayesian interest transfer*).

Article 000's updates ``theta_t = theta_s + alpha (X_t - X_s)`` and ``theta_t = theta_s + alpha (theta_t - theta_s)``
are malformed (data added to parameters; the unknown on both sides). Two correct ways to reuse source parameters
``theta_s`` on a small target task ``(X, y)`` with loss ``L_t(theta) = ||X theta - y||^2``:

* :func:`ridge_toward` -- an L2 pull toward the source, ``argmin L_t(theta) + lam ||theta - theta_s||^2``;
* :func:`fine_tune` -- gradient descent on ``L_t`` started at ``theta_s`` and stopped early.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fine_tune", "ridge_toward"]


def ridge_toward(x: np.ndarray, y: np.ndarray, theta_source: np.ndarray, lam: float) -> np.ndarray:
    """``argmin_theta ||X theta - y||^2 + lam ||theta - theta_s||^2 = (X^T X + lam I)^{-1} (X^T y + lam theta_s)``.

    ``lam = 0`` is ordinary least squares on the target alone; ``lam -> inf`` returns ``theta_s``. Substituting
    ``theta = theta_s + delta`` turns it into plain ridge regression of the residual ``y - X theta_s`` on ``X``."""
    if lam < 0:
        raise ValueError(f"lam must be >= 0, got {lam}")
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    gram = x.T @ x + lam * np.eye(x.shape[1])
    return np.linalg.solve(gram, x.T @ y + lam * np.asarray(theta_source, dtype=np.float64))


def fine_tune(x: np.ndarray, y: np.ndarray, theta_source: np.ndarray, learning_rate: float, steps: int) -> np.ndarray:
    """Gradient descent on the mean squared error from ``theta^(0) = theta_s``, one row per step:
    ``theta^(t+1) = theta^(t) - eta (2/n) X^T (X theta^(t) - y)``; returns ``(steps + 1, d)`` (row 0 is theta_s).

    Stopping early keeps the estimate near the source, as the L2 pull does: for least squares, ``t`` steps of
    gradient descent shrink each eigen-direction of ``X^T X`` like a ridge penalty of size about ``1 / (eta t)``."""
    if steps < 0 or learning_rate <= 0:
        raise ValueError(f"steps must be >= 0 and learning_rate > 0, got {steps} and {learning_rate}")
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    path = np.empty((steps + 1, x.shape[1]))
    path[0] = theta_source
    for t in range(steps):
        path[t + 1] = path[t] - learning_rate * (2 / len(y)) * x.T @ (x @ path[t] - y)
    return path
