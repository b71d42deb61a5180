"""Bayesian user interest over genres and its transfer (chapter: *Bayesian interest transfer*), and its evolution
along a user's history (chapter: *Sequential interest*)."""

from ._bayes import (
    early_late,
    genre_counts,
    genre_log_likelihood,
    genre_profiles,
    genre_transitions,
    js_divergence,
    posterior,
    transfer,
)
from ._evolution import (
    cosine_similarity,
    lag_similarity,
    long_short_profiles,
    next_item_explained,
    population_shares,
    recent,
    shuffled_order,
    total_variation,
    window_profiles,
)
from ._transfer import fine_tune, ridge_toward

__all__ = [
    "cosine_similarity",
    "early_late",
    "fine_tune",
    "genre_counts",
    "genre_log_likelihood",
    "genre_profiles",
    "genre_transitions",
    "js_divergence",
    "lag_similarity",
    "long_short_profiles",
    "next_item_explained",
    "population_shares",
    "posterior",
    "recent",
    "ridge_toward",
    "shuffled_order",
    "total_variation",
    "transfer",
    "window_profiles",
]
