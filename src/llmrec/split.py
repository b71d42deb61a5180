"""Train/validation/test splits, all deterministic (chapter: *Data and evaluation*).

Leave-one-out by time (:func:`leave_one_out`) is the book's protocol: per user, the last interaction is the
test target and the second-to-last the validation target, "last" meaning latest timestamp with ties broken by
file order (the later line is the later event). Users with 2 interactions get a test target but no validation
target; users with 1 keep it in training and are not evaluated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._interactions import LOO_TIE_RULES, Interactions, chronological_order, rank_from_end
from ._seed import numpy_rng

__all__ = [
    "LOO_TIE_RULES",
    "Split",
    "chronological_order",
    "cold_items",
    "future_leakage",
    "global_temporal_split",
    "k_core",
    "k_fold",
    "leave_one_out",
    "random_holdout",
]


@dataclass(frozen=True)
class Split:
    """Three disjoint parts of one :class:`Interactions` over the same id space."""

    train: Interactions
    validation: Interactions
    test: Interactions
    name: str = "split"

    def fit_data(self, stage: str = "test") -> Interactions:
        """What a model is fitted on: ``train`` for validation; ``train + validation`` for the test stage."""
        if stage == "validation":
            return self.train
        if stage == "test":
            return self.train.with_frame(pd.concat([self.train.frame, self.validation.frame]).sort_index())
        raise ValueError(f"stage must be 'validation' or 'test', not {stage!r}")

    def targets(self, stage: str = "test") -> Interactions:
        if stage not in ("validation", "test"):
            raise ValueError(f"stage must be 'validation' or 'test', not {stage!r}")
        return self.validation if stage == "validation" else self.test


def _parts(data: Interactions, train: np.ndarray, validation: np.ndarray, test: np.ndarray, name: str) -> Split:
    f = data.frame
    return Split(data.with_frame(f[train]), data.with_frame(f[validation]), data.with_frame(f[test]), name)


def leave_one_out(data: Interactions, ties: str = "file-order", seed: int = 42) -> Split:
    """Per user: last interaction -> test, second-to-last -> validation, the rest -> train.

    Vectorised: one lexicographic sort by (user, timestamp, tie key) and a rank from the end. The tie key orders
    events with the same timestamp: ``"file-order"`` (the book's rule: the later line is the later event),
    ``"reverse-file-order"`` or ``"random"`` (a seeded permutation); chapter *Evaluation methodology* measures
    how much the rule moves each model's numbers.
    """
    f = data.frame
    order = chronological_order(f, ties, seed)
    users_sorted = f["user"].to_numpy()[order]
    counts = np.bincount(users_sorted, minlength=data.n_users)
    from_end = np.empty(len(f), dtype=np.int64)
    from_end[order] = rank_from_end(users_sorted, data.n_users)  # 0 = last event of the user
    n_user = counts[f["user"].to_numpy()]
    test = (from_end == 0) & (n_user >= 2)
    validation = (from_end == 1) & (n_user >= 3)
    return _parts(data, ~(test | validation), validation, test, "leave-one-out")


def global_temporal_split(data: Interactions, validation_fraction: float = 0.1, test_fraction: float = 0.1) -> Split:
    """One cut in time for everybody: the latest ``test_fraction`` of events (in chronological order, ties by
    file position) are the test set, the ``validation_fraction`` before them the validation set."""
    if not 0 <= validation_fraction < 1 or not 0 < test_fraction < 1 or validation_fraction + test_fraction >= 1:
        raise ValueError("fractions must be in [0, 1) and sum to less than 1")
    f = data.frame
    order = np.lexsort((f.index.to_numpy(), f["timestamp"].to_numpy()))
    rank = np.empty(len(f), dtype=np.int64)
    rank[order] = np.arange(len(f))
    n_test = int(round(test_fraction * len(f)))
    n_val = int(round(validation_fraction * len(f)))
    test = rank >= len(f) - n_test
    validation = (rank >= len(f) - n_test - n_val) & ~test
    return _parts(data, ~(test | validation), validation, test, "global-temporal")


def random_holdout(
    data: Interactions, validation_fraction: float = 0.1, test_fraction: float = 0.2, seed: int = 42
) -> Split:
    """Each interaction goes to test / validation / train at random (seeded)."""
    if validation_fraction + test_fraction >= 1:
        raise ValueError("fractions must sum to less than 1")
    u = numpy_rng(seed).random(len(data))
    test = u < test_fraction
    validation = (u >= test_fraction) & (u < test_fraction + validation_fraction)
    return _parts(data, ~(test | validation), validation, test, "random-holdout")


def k_fold(data: Interactions, k: int = 5, seed: int = 42) -> Iterator[Split]:
    """``k`` splits from one seeded permutation of interactions; fold ``i`` is the test set of split ``i``
    (validation is empty). Every interaction is tested exactly once."""
    if k < 2:
        raise ValueError(f"k must be at least 2, got {k}")
    fold = np.empty(len(data), dtype=np.int64)
    fold[numpy_rng(seed).permutation(len(data))] = np.arange(len(data)) % k
    empty = np.zeros(len(data), dtype=bool)
    for i in range(k):
        yield _parts(data, fold != i, empty, fold == i, f"fold-{i}")


def k_core(data: Interactions, k: int) -> Interactions:
    """Repeatedly drop users and items with fewer than ``k`` interactions, then renumber ids contiguously
    (keeping relative order, side tables and the original ``raw_id``)."""
    f = data.frame
    while True:
        users = np.bincount(f["user"].to_numpy(), minlength=data.n_users)
        items = np.bincount(f["item"].to_numpy(), minlength=data.n_items)
        keep = (users[f["user"].to_numpy()] >= k) & (items[f["item"].to_numpy()] >= k)
        if keep.all():
            break
        f = f[keep]
    user_ids, user_new = np.unique(f["user"].to_numpy(), return_inverse=True)
    item_ids, item_new = np.unique(f["item"].to_numpy(), return_inverse=True)
    frame = f.assign(user=user_new.astype(np.int64), item=item_new.astype(np.int64))
    items = data.items.loc[item_ids].reset_index(drop=True).rename_axis("item") if data.items is not None else None
    users = data.users.loc[user_ids].reset_index(drop=True).rename_axis("user") if data.users is not None else None
    return Interactions(frame, len(user_ids), len(item_ids), items, users)


def future_leakage(split: Split, stage: str = "test") -> float:
    """Share of target interactions that happened *before* the same user's latest fitted interaction.

    "Before" is the book's event order: by timestamp, ties broken by file position, compared lexicographically
    (target (t, p) leaks when t < t_latest, or t = t_latest and p < p_latest). A user with nothing fitted cannot leak.

    A split that predicts the past from the future (as a random split of interactions does) scores models on a
    task the deployed system never faces; leave-one-out and global temporal splits give 0.
    """
    fitted = split.fit_data(stage).frame
    targets = split.targets(stage).frame
    if len(targets) == 0:
        return 0.0
    n_users = split.train.n_users
    # each user's latest fitted event: the last one in (user, timestamp, file position) order
    users, times, positions = (fitted["user"].to_numpy(), fitted["timestamp"].to_numpy(), fitted.index.to_numpy())
    order = np.lexsort((positions, times, users))
    last = order[rank_from_end(users[order], n_users) == 0]
    has_fitted = np.zeros(n_users, dtype=bool)
    latest_time = np.zeros(n_users, dtype=np.int64)
    latest_position = np.zeros(n_users, dtype=np.int64)
    has_fitted[users[last]] = True
    latest_time[users[last]] = times[last]
    latest_position[users[last]] = positions[last]
    # a target leaks when (timestamp, position) < the latest fitted (timestamp, position), compared lexicographically
    target_user = targets["user"].to_numpy()
    target_time, target_position = targets["timestamp"].to_numpy(), targets.index.to_numpy()
    before = (target_time < latest_time[target_user]) | (
        (target_time == latest_time[target_user]) & (target_position < latest_position[target_user])
    )
    return float(np.mean(has_fitted[target_user] & before))


def cold_items(split: Split, fraction: float = 0.1, seed: int = 42) -> tuple[Split, np.ndarray]:
    """Hide a random ``fraction`` of items from everything a model is fitted on.

    Returns a split whose train and validation parts have no interaction with the chosen items and whose test part
    keeps only the users whose test item is one of them, plus the chosen item ids. A model can then rank a cold
    item only from side information (text, genres); ID-only models cannot learn anything about it.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    n_items = split.train.n_items
    chosen = np.sort(numpy_rng(seed).choice(n_items, size=max(1, int(round(fraction * n_items))), replace=False))
    is_cold = np.zeros(n_items, dtype=bool)
    is_cold[chosen] = True

    def warm(part: Interactions) -> Interactions:
        return part.with_frame(part.frame[~is_cold[part.frame["item"].to_numpy()]])

    test = split.test.frame
    cold_test = split.test.with_frame(test[is_cold[test["item"].to_numpy()]])
    return Split(warm(split.train), warm(split.validation), cold_test, f"{split.name}, cold items"), chosen


# Splits for transfer and cold start (chapter: *Interest transfer and cold start*) live in their own module.
from ._transfer_splits import (  # noqa: E402
    chronological_position,
    domain_split,
    genre_domains,
    hide_history,
    keep_first,
    sample_users,
    shrink_split,
)

__all__ += [
    "chronological_position",
    "domain_split",
    "genre_domains",
    "hide_history",
    "keep_first",
    "sample_users",
    "shrink_split",
]
