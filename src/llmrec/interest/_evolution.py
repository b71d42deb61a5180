"""How a user's genre interest evolves along their history (chapter: *Sequential interest*).

Long-term interest is the genre distribution of a user's whole history, short-term interest that of their last
``n`` items; both are the Dirichlet posterior means of chapter 4 (:func:`llmrec.interest.genre_profiles`), with
one prior for both: ``P(g | u) = (n_ug + a * pi_g) / (n_u + a)``, ``pi`` the genre shares of the whole data.
Everything here is batched over users and events (sparse products, cumulative sums); no loop over users.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._interactions import Interactions
from .._seed import numpy_rng
from ..data import genre_matrix
from ._bayes import genre_counts, genre_profiles

__all__ = [
    "cosine_similarity",
    "lag_similarity",
    "long_short_profiles",
    "next_item_explained",
    "population_shares",
    "recent",
    "shuffled_order",
    "total_variation",
    "window_profiles",
]


def population_shares(data: Interactions) -> np.ndarray:
    """``pi_g``: the share of genre g among all interactions (fractional genre counts)."""
    counts = genre_counts(data).sum(axis=0)
    return counts / counts.sum()


def _from_end(data: Interactions) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Chronological frame, each event's position counted from the user's last event (0 = last), and n_u."""
    chrono = data.chronological()
    users = chrono["user"].to_numpy()
    counts = np.bincount(users, minlength=data.n_users)
    ends = np.cumsum(counts)
    return chrono, ends[users] - 1 - np.arange(len(chrono)), counts


def recent(data: Interactions, n: int) -> Interactions:
    """Each user's last ``n`` events (all of them when the user has fewer)."""
    if n < 1:
        raise ValueError(f"n must be a positive number of events, got {n}")
    chrono, from_end, _ = _from_end(data)
    return data.with_frame(chrono[from_end < n])


def shuffled_order(data: Interactions, seed: int = 42) -> Interactions:
    """The same events with each user's order replaced by a random one: timestamps become a random permutation
    of ``0..N-1``. The control for every measure of order: what it reads when time carries no information."""
    frame = data.frame.assign(timestamp=numpy_rng(seed).permutation(len(data.frame)).astype(np.int64))
    return data.with_frame(frame)


def long_short_profiles(
    data: Interactions, short_window: int = 10, prior_strength: float = 5.0
) -> tuple[np.ndarray, np.ndarray]:
    """Long-term (whole history) and short-term (last ``short_window`` events) genre profiles, users x genres,
    both ``(n_ug + a * pi_g) / (n_u + a)`` with the same prior ``pi`` (genre shares of ``data``)."""
    shares = population_shares(data)
    long = genre_profiles(data, prior_strength, shares=shares)
    short = genre_profiles(recent(data, short_window), prior_strength, shares=shares)
    return long, short


def total_variation(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Total-variation distance, row-wise: ``TV(p, q) = sum_g |p_g - q_g| / 2`` (0: equal, 1: disjoint)."""
    return np.abs(np.asarray(p, dtype=np.float64) - np.asarray(q, dtype=np.float64)).sum(axis=-1) / 2


def cosine_similarity(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Cosine similarity, row-wise: ``p . q / (|p| |q|)`` (NaN where a row is NaN)."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    return (p * q).sum(axis=-1) / (np.linalg.norm(p, axis=-1) * np.linalg.norm(q, axis=-1))


def window_profiles(
    data: Interactions, window: int = 10, max_windows: int = 20, prior_strength: float = 0.0
) -> np.ndarray:
    """Genre profiles of consecutive windows of ``window`` events counted back from each user's last event.

    Window 0 holds the last ``window`` events, window k the ``window`` events before window k-1. Returns an
    array ``(n_users, max_windows, n_genres)``; entry ``[u, k]`` is ``(n_ukg + a * pi_g) / (window + a)`` for
    a complete window and NaN where the user's history does not fill window k (the oldest, partial window is
    dropped). ``prior_strength = 0`` gives the plain genre frequencies of the window.
    """
    if window < 1 or max_windows < 2:
        raise ValueError(f"window must be >= 1 and max_windows >= 2, got window={window}, max_windows={max_windows}")
    if prior_strength < 0:
        raise ValueError(f"prior_strength must be >= 0, got {prior_strength}")
    g, _ = genre_matrix(data.items)
    chrono, from_end, counts = _from_end(data)
    users = chrono["user"].to_numpy()
    index = from_end // window
    keep = index < max_windows
    rows = users[keep] * max_windows + index[keep]
    events = sp.csr_matrix(
        (np.ones(int(keep.sum())), (rows, chrono["item"].to_numpy()[keep])),
        shape=(data.n_users * max_windows, data.n_items),
    )
    window_counts = np.asarray((events @ g).todense()).reshape(data.n_users, max_windows, -1)
    shares = population_shares(data)
    profiles = (window_counts + prior_strength * shares) / (window + prior_strength)
    complete = (np.arange(max_windows)[None, :] + 1) * window <= counts[:, None]
    profiles[~complete] = np.nan
    return profiles


def lag_similarity(profiles: np.ndarray, reference: np.ndarray | None = None, metric: str = "cosine") -> np.ndarray:
    """Similarity of each user's window 0 (or of ``reference``, users x genres) to windows 1, 2, ...

    ``profiles`` comes from :func:`window_profiles`; returns ``(n_users, n_windows - 1)``, column ``k - 1`` for
    lag k, NaN where a window is missing. ``metric`` is ``"cosine"`` or ``"1-tv"`` (one minus total variation).
    """
    first = profiles[:, 0, :] if reference is None else np.asarray(reference, dtype=np.float64)
    if first.shape != profiles[:, 0, :].shape:
        raise ValueError(f"reference must have shape {profiles[:, 0, :].shape}, got {first.shape}")
    if metric == "cosine":
        return cosine_similarity(first[:, None, :], profiles[:, 1:, :])
    if metric == "1-tv":
        return 1.0 - total_variation(first[:, None, :], profiles[:, 1:, :])
    raise ValueError(f"metric must be 'cosine' or '1-tv', not {metric!r}")


def next_item_explained(
    data: Interactions,
    short_window: int = 10,
    top_genres: int = 3,
    prior_strength: float = 5.0,
    long_weights: Sequence[float] = (0.0, 0.5, 1.0),
) -> pd.DataFrame:
    """How well each event's genres are predicted by the long- and short-term profile just before it.

    For every event at position ``t >= short_window`` of a user's chronological history (so the short window is
    full), with the profiles built from the events before it only:

    * ``long_hit`` / ``short_hit``: the event's item has a genre among the ``top_genres`` most probable genres
      of the long-term profile (events ``0..t-1``) / of the short-term profile (events ``t-n..t-1``);
    * ``loglik_w``, one column per ``w`` in ``long_weights``: ``sum_g G[i, g] log(w P_long(g) + (1 - w)
      P_short(g))``, the genre log-likelihood (nats) of the item under the mixed profile (``w = 1``: long only).

    Columns ``user``, ``position`` (t, the number of earlier events) and the above, one row per event.
    """
    if short_window < 1 or top_genres < 1:
        raise ValueError(f"short_window and top_genres must be >= 1, got {short_window}, {top_genres}")
    if prior_strength <= 0:
        raise ValueError(f"prior_strength must be > 0 (log-likelihoods of unseen genres), got {prior_strength}")
    weights = [float(w) for w in long_weights]
    if any(not 0.0 <= w <= 1.0 for w in weights):
        raise ValueError(f"long_weights must lie in [0, 1], got {weights}")
    g, _ = genre_matrix(data.items)
    fractional = g.toarray()
    chrono = data.chronological()
    users, items = chrono["user"].to_numpy(), chrono["item"].to_numpy()
    counts = np.bincount(users, minlength=data.n_users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[users]
    position = np.arange(len(chrono)) - starts
    rows = fractional[items]
    cumulative = np.vstack([np.zeros((1, rows.shape[1])), np.cumsum(rows, axis=0)])  # cumulative[t] = sum of < t
    events = np.flatnonzero(position >= short_window)
    before = cumulative[events]
    shares = population_shares(data)
    prior = prior_strength * shares
    long = (before - cumulative[starts[events]] + prior) / (position[events, None] + prior_strength)
    short = (before - cumulative[events - short_window] + prior) / (short_window + prior_strength)
    genres_of_next = rows[events] > 0

    def hit(profile: np.ndarray) -> np.ndarray:
        top = np.argsort(-profile, axis=1, kind="stable")[:, :top_genres]  # ties: lower genre index first
        chosen = np.zeros_like(genres_of_next)
        chosen[np.arange(len(events))[:, None], top] = True
        return (chosen & genres_of_next).any(axis=1)

    out = {"user": users[events], "position": position[events], "long_hit": hit(long), "short_hit": hit(short)}
    for w in weights:
        out[f"loglik_{w:g}"] = (rows[events] * np.log(w * long + (1 - w) * short)).sum(axis=1)
    return pd.DataFrame(out)
