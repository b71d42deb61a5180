"""Popularity within a demographic group, for users with little or no history (chapter: *Interest transfer and
cold start*)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .._interactions import Interactions
from ._base import Recommender, register_model

__all__ = ["AGE_BINS", "DemographicPopular", "age_group", "demographic_groups"]

#: MovieLens-1M's age groups (lower bounds): under 18, 18-24, 25-34, 35-44, 45-49, 50-55, 56+. MovieLens-100K gives
#: exact ages, which :func:`age_group` maps to the same groups so that both platforms use one scheme.
AGE_BINS = (1, 18, 25, 35, 45, 50, 56)


def age_group(age: np.ndarray | pd.Series) -> np.ndarray:
    """The ML-1M age group (its lower bound, one of :data:`AGE_BINS`) of each age; ML-1M's codes map to themselves."""
    age = np.asarray(age, dtype=np.int64)
    return np.asarray(AGE_BINS)[np.searchsorted(AGE_BINS, age, side="right") - 1]


def demographic_groups(users: pd.DataFrame, attributes: tuple[str, ...]) -> np.ndarray:
    """A group id ``0..G-1`` per user from the given columns of the users table (``age`` is grouped first)."""
    if users is None:
        raise ValueError("a users table is required for demographic groups")
    missing = [a for a in attributes if a not in users.columns]
    if missing:
        raise ValueError(f"attributes: the users table has no column(s) {missing}")
    columns = {a: age_group(users[a]) if a == "age" else users[a].astype(str).to_numpy() for a in attributes}
    return pd.DataFrame(columns).groupby(list(attributes), sort=True).ngroup().to_numpy()


@register_model("demographic-pop")
class DemographicPopular(Recommender):
    """``score(u, i) = (c_gi + m pi_i) / (n_g + m)`` for ``u`` in group ``g``: the posterior mean of the group's
    distribution over items under a Dirichlet prior of strength ``m = shrinkage`` centred on the global item shares
    ``pi_i = c_i / sum_k c_k``; ``c_gi`` counts the group's training interactions with item ``i`` and ``n_g`` all of
    the group's. A small group falls back to global popularity; ``m = 0`` is pure within-group popularity."""

    def __init__(self, attributes: tuple[str, ...] = ("age", "gender"), shrinkage: float = 100.0) -> None:
        if not attributes:
            raise ValueError("attributes must name at least one column of the users table")
        if shrinkage < 0:
            raise ValueError(f"shrinkage must be >= 0, got {shrinkage}")
        self.attributes, self.shrinkage = tuple(attributes), shrinkage

    def _fit(self, train: Interactions) -> None:
        groups = demographic_groups(train.users, self.attributes)
        n_groups = int(groups.max()) + 1
        f = train.frame
        counts = np.zeros((n_groups, train.n_items))
        np.add.at(counts, (groups[f["user"].to_numpy()], f["item"].to_numpy()), 1.0)
        shares = counts.sum(axis=0) / counts.sum()
        m = self.shrinkage
        self.group_ = groups
        self.group_scores_ = (counts + m * shares) / np.maximum(counts.sum(axis=1, keepdims=True) + m, 1e-12)

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.group_scores_[self.group_[users.numpy()]])
