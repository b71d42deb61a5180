"""Splits for transfer and cold start (chapter: *Interest transfer and cold start*).

All helpers are deterministic and keep the id space: they select rows of an :class:`Interactions` frame by each
user's chronological position (timestamp, ties broken by file order, as everywhere in the package).

* :func:`keep_first` -- the first ``k`` events, or the first ``ceil(p * n_u)`` events, of each user's history
  (the shrinking target-data settings), or with ``latest=True`` the last ones;
* :func:`shrink_split` -- a leave-one-out split whose fitted data is shrunk that way, with the test targets unchanged;
* :func:`genre_domains` and :func:`domain_split` -- two item domains of one platform with the same users;
* :func:`sample_users` and :func:`hide_history` -- a group of users whose history (in a domain) is hidden except
  for their first ``keep`` events, the rest becoming test targets.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ._interactions import Interactions
from ._seed import numpy_rng
from .split import Split

__all__ = [
    "chronological_position",
    "domain_split",
    "genre_domains",
    "hide_history",
    "keep_first",
    "sample_users",
    "shrink_split",
]


def chronological_position(data: Interactions) -> tuple[np.ndarray, np.ndarray]:
    """For every row of ``data.frame`` (in frame order): its 0-based position in its user's chronological history,
    and that user's number of events ``n_u``."""
    f = data.frame
    order = np.lexsort((f.index.to_numpy(), f["timestamp"].to_numpy(), f["user"].to_numpy()))
    users_sorted = f["user"].to_numpy()[order]
    counts = np.bincount(users_sorted, minlength=data.n_users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.empty(len(f), dtype=np.int64)
    position[order] = np.arange(len(f)) - starts[users_sorted]
    return position, counts[f["user"].to_numpy()]


def keep_first(
    data: Interactions,
    k: int | None = None,
    fraction: float | None = None,
    users: Iterable[int] | None = None,
    latest: bool = False,
) -> Interactions:
    """Each user's first events: ``k`` of them (``min(k, n_u)``), or ``max(1, ceil(fraction * n_u))`` when
    ``fraction`` is given; exactly one of ``k`` and ``fraction``. ``latest=True`` keeps as many of the user's
    *last* events instead. ``users`` limits the truncation to those users (the others keep everything)."""
    if (k is None) == (fraction is None):
        raise ValueError("give exactly one of k and fraction")
    if k is not None and k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if fraction is not None and not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    position, n_user = chronological_position(data)
    if latest:
        position = n_user - 1 - position  # counted from the user's last event
    limit = np.full(len(position), k) if k is not None else np.maximum(1, np.ceil(fraction * n_user - 1e-9))
    keep = position < limit
    if users is not None:
        chosen = np.zeros(data.n_users, dtype=bool)
        chosen[np.asarray(list(users), dtype=np.int64)] = True
        keep |= ~chosen[data.frame["user"].to_numpy()]
    return data.with_frame(data.frame[keep])


def shrink_split(split: Split, k: int | None = None, fraction: float | None = None, latest: bool = False) -> Split:
    """The split with its fitted data (``split.fit_data("test")``: train and validation) cut to each user's first
    ``k`` events or first ``fraction`` of events, or the last ones with ``latest=True`` (:func:`keep_first`); the
    test targets are unchanged and the validation part is empty (evaluate at the test stage)."""
    fitted = keep_first(split.fit_data("test"), k=k, fraction=fraction, latest=latest)
    label = ("last" if latest else "first") + (f" {k}" if k is not None else f" {fraction:.0%}")
    empty = split.validation.with_frame(split.validation.frame.iloc[:0])
    return Split(fitted, empty, split.test, f"{split.name}, {label} of the fitted data")


def genre_domains(items: pd.DataFrame, target_genres: Iterable[str]) -> np.ndarray:
    """``True`` for the items whose genre list shares at least one genre with ``target_genres`` (the target
    domain), ``False`` for the others (the source domain): every item is in exactly one domain."""
    if items is None or "genres" not in items:
        raise ValueError("items table with a 'genres' column is required to split domains by genre")
    wanted = set(target_genres)
    unknown = wanted - {g for genres in items["genres"] for g in genres}
    if unknown:
        raise ValueError(f"target_genres: no item has genre(s) {sorted(unknown)}")
    return np.array([bool(wanted.intersection(genres)) for genres in items["genres"]])


def domain_split(
    data: Interactions, is_target: np.ndarray
) -> tuple[Interactions, Interactions, np.ndarray, np.ndarray]:
    """Two platforms' worth of data from one: ``(source, target, source_items, target_items)``.

    Both parts keep every user id; items are renumbered ``0..`` within each domain in their original order, and
    ``source_items[j]`` / ``target_items[j]`` give the original id of the domain's item ``j``."""
    is_target = np.asarray(is_target, dtype=bool)
    if is_target.shape != (data.n_items,):
        raise ValueError(f"is_target must have one entry per item ({data.n_items}), got shape {is_target.shape}")
    parts = []
    for mask in (~is_target, is_target):
        ids = np.flatnonzero(mask)
        new_id = np.full(data.n_items, -1, dtype=np.int64)
        new_id[ids] = np.arange(len(ids))
        rows = data.frame[mask[data.frame["item"].to_numpy()]]
        frame = rows.assign(item=new_id[rows["item"].to_numpy()])
        items = data.items.loc[ids].reset_index(drop=True).rename_axis("item") if data.items is not None else None
        parts.append((Interactions(frame, data.n_users, len(ids), items, data.users), ids))
    (source, source_items), (target, target_items) = parts
    return source, target, source_items, target_items


def sample_users(data: Interactions, fraction: float, min_events: int = 1, seed: int = 42) -> np.ndarray:
    """A seeded random ``fraction`` of the users with at least ``min_events`` events (sorted ids)."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    eligible = np.flatnonzero(data.user_counts() >= min_events)
    size = max(1, int(round(fraction * len(eligible))))
    return np.sort(numpy_rng(seed).choice(eligible, size=size, replace=False))


def hide_history(data: Interactions, users: Iterable[int], keep: int = 0, targets_from: int | None = None) -> Split:
    """Cold users: for each of ``users``, the first ``keep`` events stay in training and the events from
    chronological position ``targets_from`` (default ``keep``) on become the test targets; events in between are
    dropped. Every other user keeps the whole history in training. The validation part is empty.

    With ``targets_from`` fixed at the largest ``keep`` of an experiment, every ``keep`` is scored on the same
    targets."""
    targets_from = keep if targets_from is None else targets_from
    if keep < 0 or targets_from < keep:
        raise ValueError(f"need 0 <= keep <= targets_from, got keep={keep}, targets_from={targets_from}")
    chosen = np.zeros(data.n_users, dtype=bool)
    chosen[np.asarray(list(users), dtype=np.int64)] = True
    position, _ = chronological_position(data)
    cold = chosen[data.frame["user"].to_numpy()]
    train = ~cold | (position < keep)
    test = cold & (position >= targets_from)
    f = data.frame
    return Split(data.with_frame(f[train]), data.with_frame(f.iloc[:0]), data.with_frame(f[test]), "cold users")
