"""Bayesian user interest over genres and its transfer (chapter: *Bayesian interest transfer*)."""

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
from ._transfer import fine_tune, ridge_toward

__all__ = [
    "early_late",
    "fine_tune",
    "genre_counts",
    "genre_log_likelihood",
    "genre_profiles",
    "genre_transitions",
    "js_divergence",
    "posterior",
    "ridge_toward",
    "transfer",
]
