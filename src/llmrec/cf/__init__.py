"""Collaborative-filtering formulas: neighbourhoods, baselines and ALS (chapter: *Collaborative-filtering
formulas*)."""

from ._factorisation import ALS, baseline_als, ridge_per_owner
from ._neighbours import predict_neighbourhood, row_means, similarity, weighted_average
from ._protocol import RatingPredictor, als_predictor, baseline_predictor, cross_validate_ratings, knn_predictor

__all__ = [
    "ALS",
    "RatingPredictor",
    "als_predictor",
    "baseline_als",
    "baseline_predictor",
    "cross_validate_ratings",
    "knn_predictor",
    "predict_neighbourhood",
    "ridge_per_owner",
    "row_means",
    "similarity",
    "weighted_average",
]
