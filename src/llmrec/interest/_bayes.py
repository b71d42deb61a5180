"""User interest over genres as probabilities, and its transfer between genres (chapter: *Bayesian interest
transfer*). MovieLens genres are the "interest domains"; a film with several genres counts ``1/|genres|``
towards each (:func:`llmrec.data.genre_matrix`), so every interaction carries a total weight of one.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._interactions import Interactions, rank_from_end
from ..data import genre_matrix

__all__ = [
    "early_late",
    "genre_counts",
    "genre_log_likelihood",
    "genre_profiles",
    "genre_transitions",
    "js_divergence",
    "posterior",
    "transfer",
]


def posterior(likelihood: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Bayes' rule over domains: ``P(I_j | U) = P(U | I_j) P(I_j) / sum_k P(U | I_k) P(I_k)`` (last axis)."""
    joint = np.asarray(likelihood, dtype=np.float64) * np.asarray(prior, dtype=np.float64)
    return joint / joint.sum(axis=-1, keepdims=True)


def transfer(interest: np.ndarray, transition: np.ndarray) -> np.ndarray:
    """Law of total probability: ``P(I_j | U) = sum_i P(I_j | I_i) P(I_i | U)``; rows of ``transition`` are
    ``P(. | I_i)``, rows of ``interest`` are users."""
    return np.asarray(interest, dtype=np.float64) @ np.asarray(transition, dtype=np.float64)


def genre_counts(data: Interactions, genres: sp.csr_matrix | None = None) -> np.ndarray:
    """``n_ug``: fractional number of interactions of user u with genre g (users x genres)."""
    g = genre_matrix(data.items)[0] if genres is None else genres
    return np.asarray((data.matrix("binary") @ g).todense())


def genre_profiles(data: Interactions, prior_strength: float = 5.0) -> np.ndarray:
    """Posterior mean of each user's genre distribution under a Dirichlet prior centred on population shares:

    ``P(g | u) = (n_ug + a * pi_g) / (n_u + a)``, with ``pi_g`` the share of genre g among all interactions and
    ``a = prior_strength`` pseudo-interactions. Users with no history get ``pi``.
    """
    counts = genre_counts(data)
    shares = counts.sum(axis=0) / counts.sum()
    return (counts + prior_strength * shares) / (counts.sum(axis=1, keepdims=True) + prior_strength)


def genre_transitions(data: Interactions, smoothing: float = 1.0) -> np.ndarray:
    """``P(I_j | I_i)`` from consecutive interactions: for each user's chronological pair (a, b), genre i of a
    and genre j of b receive ``G[a, i] * G[b, j]``; rows are normalised after adding ``smoothing`` to every cell."""
    g, _ = genre_matrix(data.items)
    indptr, items = data.sequences()
    user_of = np.repeat(np.arange(data.n_users), np.diff(indptr))
    consecutive = np.flatnonzero(user_of[1:] == user_of[:-1])
    counts = np.asarray((g[items[consecutive]].T @ g[items[consecutive + 1]]).todense()) + smoothing
    return counts / counts.sum(axis=1, keepdims=True)


def js_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence in bits, row-wise: ``JS = (KL(p||m) + KL(q||m)) / 2`` with ``m = (p + q) / 2``."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    m = (p + q) / 2

    def kl(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(a > 0, a * np.log2(a / b), 0.0).sum(axis=-1)

    return (kl(p, m) + kl(q, m)) / 2


def early_late(data: Interactions, late_fraction: float = 0.2) -> tuple[Interactions, Interactions]:
    """Split every user's chronological history: the last ``ceil(late_fraction * n_u)`` events are "late"."""
    chrono = data.chronological()
    users = chrono["user"].to_numpy()
    counts = np.bincount(users, minlength=data.n_users)
    from_end = rank_from_end(users, data.n_users)
    late = from_end < np.ceil(late_fraction * counts[users])
    return data.with_frame(chrono[~late]), data.with_frame(chrono[late])


def genre_log_likelihood(profiles: np.ndarray, later: Interactions) -> float:
    """Mean log-likelihood (nats) of the genres of ``later`` interactions under each user's predicted genre
    distribution: ``sum_u sum_g n_ug log P(g | u) / sum_u sum_g n_ug`` (fractional genre counts)."""
    counts = genre_counts(later)
    return float((counts * np.log(profiles)).sum() / counts.sum())
