"""Uncertainty of a comparison between recommenders (chapter: *Evaluation methodology*).

The evaluator keeps one value per user, so two models evaluated on the same split are *paired* observations:
user ``u`` gives ``d_u = a_u - b_u``. Everything here works on those per-user values.

* paired t-test: ``t = mean(d) / (sd(d) / sqrt(n))`` with ``sd`` the sample standard deviation (``n - 1``),
  two-sided p-value from Student's t with ``n - 1`` degrees of freedom;
* Wilcoxon signed-rank: drop ``d_u = 0``, rank ``|d_u|`` (average ranks for ties), ``W+`` = sum of ranks of
  positive ``d_u``, statistic ``min(W+, W-)``; two-sided p-value from the normal approximation
  ``z = (W+ - n(n+1)/4) / sqrt(n(n+1)(2n+1)/24 - sum_t (t^3 - t)/48)`` (``t`` = size of each tie group);
* percentile bootstrap interval of the mean: resample users with replacement ``B`` times, take the
  ``alpha/2`` and ``1 - alpha/2`` quantiles of the resampled means;
* Student-t interval of the mean: ``mean(d) -/+ t_{1 - alpha/2, n - 1} sd(d) / sqrt(n)``;
* Holm's step-down and Benjamini-Hochberg's step-up adjustments of ``m`` p-values;
* the same paired t-test within groups of users (:func:`grouped_paired_tests`: for each level ``G`` of a grouping,
  ``mean_{u in G}(v_u - b_u)`` and its p-value, for every variant ``v`` against one baseline ``b``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import special

from ._seed import DEFAULT_SEED, numpy_rng

if TYPE_CHECKING:
    from .evaluation import EvaluationResult

__all__ = [
    "Comparison",
    "PairedTest",
    "benjamini_hochberg",
    "bootstrap_ci",
    "compare",
    "grouped_paired_tests",
    "holm",
    "paired_t_test",
    "t_interval",
    "wilcoxon_signed_rank",
]


@dataclass(frozen=True)
class PairedTest:
    """A two-sided paired test: its statistic, p-value and the number of pairs it used."""

    statistic: float
    p_value: float
    n: int


def _differences(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be 1-D arrays of the same length, got shapes {a.shape} and {b.shape}")
    if len(a) < 2:
        raise ValueError(f"a paired test needs at least 2 pairs, got {len(a)}")
    return a - b


def _normal_two_sided(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z: ``erfc(|z| / sqrt 2)``."""
    return float(special.erfc(abs(z) / np.sqrt(2.0)))


def paired_t_test(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> PairedTest:
    """Paired t-test of ``mean(a - b) = 0``: ``t = mean(d) / (sd(d) / sqrt(n))``, ``n - 1`` degrees of freedom.

    Identical pairs (``sd(d) = 0``) give ``t = 0, p = 1`` when ``mean(d) = 0``.
    """
    d = _differences(a, b)
    n = len(d)
    mean, sd = d.mean(), d.std(ddof=1)
    if sd == 0:
        return PairedTest(0.0 if mean == 0 else float(np.sign(mean) * np.inf), 1.0 if mean == 0 else 0.0, n)
    t = mean / (sd / np.sqrt(n))
    p = 2.0 * special.stdtr(n - 1, -abs(t))  # Student-t CDF at -|t|, both tails
    return PairedTest(float(t), float(p), n)


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``values``, ties sharing the mean of the ranks they span (vectorised)."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    last = np.r_[first[1:], len(values)] - 1
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = (first[group] + last[group]) / 2.0 + 1.0
    return ranks


def wilcoxon_signed_rank(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> PairedTest:
    """Wilcoxon signed-rank test of paired values (zero differences dropped, normal approximation with the
    tie correction; the same as ``scipy.stats.wilcoxon(a, b, method="approx")``).

    ``statistic`` is ``min(W+, W-)``; ``n`` the number of non-zero differences.
    """
    d = _differences(a, b)
    d = d[d != 0]
    n = len(d)
    if n == 0:
        return PairedTest(0.0, 1.0, 0)
    ranks = _average_ranks(np.abs(d))
    w_plus = float(ranks[d > 0].sum())
    w_minus = n * (n + 1) / 2.0 - w_plus
    _, tie_sizes = np.unique(np.abs(d), return_counts=True)
    variance = n * (n + 1) * (2 * n + 1) / 24.0 - float(np.sum(tie_sizes**3 - tie_sizes)) / 48.0
    if variance <= 0:
        return PairedTest(min(w_plus, w_minus), 1.0, n)
    z = (w_plus - n * (n + 1) / 4.0) / np.sqrt(variance)
    return PairedTest(min(w_plus, w_minus), _normal_two_sided(z), n)


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = DEFAULT_SEED,
    chunk: int = 500,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (users resampled with replacement).

    Vectorised: ``chunk`` resamples at a time as one ``(chunk, n)`` index matrix from a seeded generator, so the
    interval depends only on ``values``, ``n_resamples`` and ``seed``.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"values must be a non-empty 1-D array, got shape {values.shape}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be positive, got {n_resamples}")
    rng = numpy_rng(seed)
    n = len(values)
    means = np.concatenate(
        [
            values[rng.integers(0, n, size=(min(chunk, n_resamples - start), n))].mean(axis=1)
            for start in range(0, n_resamples, chunk)
        ]
    )
    alpha = 1.0 - confidence
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def t_interval(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Student-t interval of the mean of ``values``: ``mean -/+ t_{(1 + confidence) / 2, n - 1} sd / sqrt(n)``
    (``sd`` with ``n - 1``), the interval that matches :func:`paired_t_test` (it excludes 0 exactly when that
    test's p-value is below ``1 - confidence``)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f"values must be a 1-D array of at least 2 values, got shape {values.shape}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    n = len(values)
    half = special.stdtrit(n - 1, (1 + confidence) / 2) * values.std(ddof=1) / np.sqrt(n)
    return float(values.mean() - half), float(values.mean() + half)


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values: with ``p_(1) <= ... <= p_(m)``,
    ``adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``; reject where ``adj <= alpha`` (controls the FWER)."""
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted_sorted = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * p[order]))
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return adjusted


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg step-up adjusted p-values: ``adj_(i) = min_{j >= i} min(1, m p_(j) / j)``
    (controls the false-discovery rate)."""
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, m * p[order] / np.arange(1, m + 1))
    adjusted_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return adjusted


@dataclass(frozen=True)
class Comparison:
    """Model A vs model B on the users both were evaluated on (``difference`` = mean A - mean B)."""

    metric: str
    n_users: int
    mean_a: float
    mean_b: float
    difference: float
    ci_low: float
    ci_high: float
    t_p_value: float
    wilcoxon_p_value: float

    def as_dict(self) -> dict[str, float | int | str]:
        return dict(self.__dict__)


def compare(
    a: EvaluationResult | pd.Series,
    b: EvaluationResult | pd.Series,
    metric: str = "NDCG@10",
    seed: int = DEFAULT_SEED,
    n_resamples: int = 2000,
    interval: str = "bootstrap",
) -> Comparison:
    """Paired comparison of two evaluations on their common users: the mean difference, its 95 % interval
    (``interval="bootstrap"``: users resampled; ``"t"``: :func:`t_interval`), the paired t-test and the Wilcoxon
    signed-rank p-values.

    ``a`` and ``b`` are :class:`~llmrec.evaluation.EvaluationResult` (``metric`` picks the per-user column)
    or per-user Series indexed by user.
    """
    if interval not in ("bootstrap", "t"):
        raise ValueError(f"interval must be 'bootstrap' or 't', got {interval!r}")
    series = []
    for name, result in (("a", a), ("b", b)):
        if isinstance(result, pd.Series):
            series.append(result)
            continue
        if metric not in result.per_user.columns:
            raise ValueError(f"metric {metric!r} not in {name}'s per-user columns {list(result.per_user.columns)}")
        series.append(result.per_user[metric])
    common = series[0].index.intersection(series[1].index)
    if len(common) < 2:
        raise ValueError(f"the two evaluations share {len(common)} users; a paired comparison needs at least 2")
    va = series[0].loc[common].to_numpy(np.float64)
    vb = series[1].loc[common].to_numpy(np.float64)
    if interval == "t":
        lo, hi = t_interval(va - vb)
    else:
        lo, hi = bootstrap_ci(va - vb, n_resamples=n_resamples, seed=seed)
    return Comparison(
        metric=metric,
        n_users=len(common),
        mean_a=float(va.mean()),
        mean_b=float(vb.mean()),
        difference=float((va - vb).mean()),
        ci_low=lo,
        ci_high=hi,
        t_p_value=paired_t_test(va, vb).p_value,
        wilcoxon_p_value=wilcoxon_signed_rank(va, vb).p_value,
    )


def grouped_paired_tests(
    groups: pd.DataFrame,
    baseline: Sequence[float] | np.ndarray,
    variants: Mapping[str, Sequence[float] | np.ndarray],
    baseline_label: str = "baseline",
) -> pd.DataFrame:
    """Each variant against one baseline, within groups of users (chapter: *Sequential interest*, 3.5 and 3.7).

    ``groups`` has one row per user, in the order of ``baseline`` and of every variant's values, and one column per
    way of grouping them (usually :func:`pandas.cut` bins). For each column and each of its non-empty levels ``G``
    (in the column's order) the row holds the group's size, the baseline's mean, and for every variant ``v`` the
    mean paired difference ``mean_{u in G}(v_u - b_u)`` and the two-sided :func:`paired_t_test` p-value (``NaN``
    for a one-user group). Index: (grouping, level); columns: a two-level header, ``("", "users")``,
    ``(baseline_label, "mean")``, then ``(name, "- " + baseline_label)`` and ``(name, "p")`` per variant.
    """
    base = np.asarray(baseline, dtype=np.float64)
    if base.ndim != 1 or len(base) != len(groups):
        raise ValueError(f"baseline has shape {base.shape}; groups has {len(groups)} rows, one per user")
    if not variants:
        raise ValueError("variants is empty: nothing to compare with the baseline")
    values = {}
    for name, variant in variants.items():
        values[name] = np.asarray(variant, dtype=np.float64)
        if values[name].shape != base.shape:
            raise ValueError(f"variant {name!r} has shape {values[name].shape}, the baseline {base.shape}")
    if not (np.isfinite(base).all() and all(np.isfinite(v).all() for v in values.values())):
        raise ValueError("the per-user values hold NaN or infinite entries")
    rows, index = [], []
    for column in groups.columns:
        for level, positions in groups.groupby(column, observed=True, sort=True).indices.items():
            row: list[float] = [len(positions), float(base[positions].mean())]
            for variant in values.values():
                diff = variant[positions] - base[positions]
                p = paired_t_test(variant[positions], base[positions]).p_value if len(positions) > 1 else np.nan
                row += [float(diff.mean()), p]
            rows.append(row)
            index.append((column, level))
    header = [("", "users"), (baseline_label, "mean")]
    header += [(name, part) for name in values for part in (f"- {baseline_label}", "p")]
    table = pd.DataFrame(
        rows,
        index=pd.MultiIndex.from_tuples(index, names=["group", "level"]),
        columns=pd.MultiIndex.from_tuples(header),
    )
    return table.astype({("", "users"): int})
