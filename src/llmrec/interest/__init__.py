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
