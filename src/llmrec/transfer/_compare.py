"""Paired comparison of two models on the same users (chapter: *Interest transfer and cold start*)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .._seed import numpy_rng

__all__ = ["PairedComparison", "bootstrap_interval", "paired_comparison"]


def bootstrap_interval(
    values: np.ndarray, resamples: int = 1000, level: float = 0.95, seed: int = 42
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean over users: resample users with replacement ``resamples`` times
    (one seeded index matrix, no loop over users) and take the ``(1 - level) / 2`` and ``(1 + level) / 2``
    quantiles of the resampled means."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"values must be a non-empty 1-D array, got shape {values.shape}")
    index = numpy_rng(seed).integers(0, len(values), size=(resamples, len(values)))
    means = values[index].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


@dataclass(frozen=True)
class PairedComparison:
    """``model`` against ``baseline`` on the same users: means, the relative change
    ``(mean_model - mean_baseline) / mean_baseline``, its bootstrap interval, and the two-sided p-values of the
    paired t-test and the Wilcoxon signed-rank test (scipy.stats) on the per-user differences."""

    users: int
    model_mean: float
    baseline_mean: float
    relative: float
    relative_low: float
    relative_high: float
    t_pvalue: float
    wilcoxon_pvalue: float


def paired_comparison(
    model: pd.Series, baseline: pd.Series, resamples: int = 1000, level: float = 0.95, seed: int = 42
) -> PairedComparison:
    """Compare per-user metric values (``EvaluationResult.per_user[column]``), aligned on the user index."""
    if not model.index.equals(baseline.index):
        raise ValueError("model and baseline must be evaluated on the same users (indexes differ)")
    a, b = model.to_numpy(np.float64), baseline.to_numpy(np.float64)
    index = numpy_rng(seed).integers(0, len(a), size=(resamples, len(a)))
    ma, mb = a[index].mean(axis=1), b[index].mean(axis=1)
    relative = (ma - mb) / np.where(mb > 0, mb, np.nan)
    low, high = np.nanquantile(relative, [(1 - level) / 2, (1 + level) / 2])
    differences = a - b
    t_p = float(stats.ttest_rel(a, b).pvalue) if differences.any() else 1.0
    w_p = float(stats.wilcoxon(a, b).pvalue) if differences.any() else 1.0
    return PairedComparison(
        len(a),
        float(a.mean()),
        float(b.mean()),
        float((a.mean() - b.mean()) / b.mean()),
        float(low),
        float(high),
        t_p,
        w_p,
    )
