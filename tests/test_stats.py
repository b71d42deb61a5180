"""Paired tests against scipy.stats and hand-computed cases; bootstrap intervals; multiple-comparison corrections."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from llmrec.evaluation import EvaluationResult
from llmrec.stats import (
    benjamini_hochberg,
    bootstrap_ci,
    compare,
    grouped_paired_tests,
    holm,
    paired_t_test,
    t_interval,
    wilcoxon_signed_rank,
)


def test_paired_t_hand_computed() -> None:
    # d = [1, 2, 3]: mean 2, sd 1, t = 2 / (1 / sqrt 3) = 2 sqrt 3; p from t with 2 df: 1 - |t|/sqrt(t^2 + 2)
    result = paired_t_test([3.0, 4.0, 5.0], [2.0, 2.0, 2.0])
    t = 2 * np.sqrt(3)
    assert result.statistic == pytest.approx(t, abs=1e-12)
    assert result.p_value == pytest.approx(1 - t / np.sqrt(t**2 + 2), abs=1e-12)  # closed form for 2 df
    assert result.n == 3


def test_wilcoxon_hand_computed() -> None:
    # d = [1, -2, 3, 0, 3]: zero dropped, |d| = [1, 2, 3, 3] -> ranks [1, 2, 3.5, 3.5]; W+ = 8, W- = 2
    # variance = 4*5*9/24 - (2^3 - 2)/48 = 7.375; z = (8 - 5) / sqrt(7.375)
    result = wilcoxon_signed_rank([1.0, 0.0, 3.0, 1.0, 3.0], [0.0, 2.0, 0.0, 1.0, 0.0])
    assert result.statistic == 2.0 and result.n == 4
    z = 3 / np.sqrt(7.375)
    assert result.p_value == pytest.approx(2 * sps.norm.sf(z), abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paired_tests_agree_with_scipy_on_ndcg_like_values(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # per-user NDCG-like values: mostly zeros and a few discount levels, so many ties and zero differences
    levels = np.r_[0.0, 1 / np.log2(np.arange(2, 12))]
    a = rng.choice(levels, size=500, p=np.r_[0.9, np.full(10, 0.01)])
    b = np.where(rng.random(500) < 0.3, rng.choice(levels, size=500), a)
    t = paired_t_test(a, b)
    reference = sps.ttest_rel(a, b)
    assert t.statistic == pytest.approx(reference.statistic, rel=1e-10)
    assert t.p_value == pytest.approx(reference.pvalue, rel=1e-8)
    w = wilcoxon_signed_rank(a, b)
    reference = sps.wilcoxon(a, b, method="approx")
    assert w.statistic == pytest.approx(reference.statistic, abs=1e-9)
    assert w.p_value == pytest.approx(reference.pvalue, rel=1e-8)


def test_identical_values_give_p_one() -> None:
    assert paired_t_test([1.0, 2.0], [1.0, 2.0]).p_value == 1.0
    assert wilcoxon_signed_rank([1.0, 2.0], [1.0, 2.0]).p_value == 1.0
    with pytest.raises(ValueError, match="same length"):
        paired_t_test([1.0, 2.0], [1.0])


def test_bootstrap_interval() -> None:
    assert bootstrap_ci(np.full(50, 0.3)) == pytest.approx((0.3, 0.3))
    values = np.random.default_rng(0).random(400)
    lo, hi = bootstrap_ci(values, seed=7)
    assert bootstrap_ci(values, seed=7) == (lo, hi)  # seeded
    assert bootstrap_ci(values, seed=7, chunk=3) == (lo, hi)  # chunking does not change the draws' use
    assert lo < values.mean() < hi
    # the percentile interval of the mean is close to mean +/- 1.96 standard errors
    se = values.std(ddof=1) / np.sqrt(len(values))
    assert lo == pytest.approx(values.mean() - 1.96 * se, abs=0.2 * se)
    assert hi == pytest.approx(values.mean() + 1.96 * se, abs=0.2 * se)
    reference = sps.bootstrap((values,), np.mean, n_resamples=2000, method="percentile", rng=1).confidence_interval
    assert lo == pytest.approx(reference.low, abs=0.2 * se) and hi == pytest.approx(reference.high, abs=0.2 * se)


def test_holm_and_bh_hand_computed() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted 0.005, 0.01, 0.03, 0.04 -> Holm 4*0.005=0.02, 3*0.01=0.03, 2*0.03=0.06, max(0.06, 0.04)=0.06
    np.testing.assert_allclose(holm(p), [0.03, 0.06, 0.06, 0.02], atol=1e-12)
    # BH: 4*0.005/1=0.02, 4*0.01/2=0.02, 4*0.03/3=0.04, 4*0.04/4=0.04; step-up minima unchanged
    np.testing.assert_allclose(benjamini_hochberg(p), [0.02, 0.04, 0.04, 0.02], atol=1e-12)
    np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])  # capped at 1
    # BH step-up: a larger p later lowers earlier adjusted values (0.9*2/1=1.8 -> min(1, 0.05*2/2)=0.05)
    np.testing.assert_allclose(benjamini_hochberg([0.04, 0.05]), [0.05, 0.05], atol=1e-12)


def test_compare_uses_common_users_only() -> None:
    a = EvaluationResult(10, pd.DataFrame({"NDCG@10": [1.0, 0.5, 0.0, 0.2]}, index=[1, 2, 3, 4]), 0.1)
    b = EvaluationResult(10, pd.DataFrame({"NDCG@10": [0.0, 0.5, 0.1, 0.9]}, index=[2, 3, 4, 9]), 0.1)
    result = compare(a, b)
    # common users 2, 3, 4: a = [0.5, 0.0, 0.2], b = [0.0, 0.5, 0.1]
    assert result.n_users == 3
    assert result.difference == pytest.approx((0.5 - 0.5 + 0.1) / 3)
    assert result.t_p_value == pytest.approx(sps.ttest_rel([0.5, 0.0, 0.2], [0.0, 0.5, 0.1]).pvalue)
    assert result.ci_low <= result.difference <= result.ci_high
    with pytest.raises(ValueError, match="HR@10"):
        compare(a, b, metric="HR@10")


def test_t_interval_by_hand_and_against_scipy() -> None:
    # [1, 2, 3, 4]: mean 2.5, sd sqrt(5/3) = 1.2910, t_{0.975, 3} = 3.1824 -> half-width 3.1824 * 1.2910 / 2 = 2.0543
    lo, hi = t_interval([1.0, 2.0, 3.0, 4.0])
    assert (lo, hi) == pytest.approx((2.5 - 2.0543, 2.5 + 2.0543), abs=1e-4)
    values = np.random.default_rng(3).normal(0.01, 0.2, 500)
    expected = sps.t.interval(0.9, len(values) - 1, loc=values.mean(), scale=sps.sem(values))
    assert t_interval(values, confidence=0.9) == pytest.approx(expected, abs=1e-12)
    # the interval excludes 0 exactly when the paired t-test rejects at 1 - confidence
    a, b = values, np.zeros_like(values)
    lo, hi = t_interval(a - b)
    assert (lo > 0 or hi < 0) == (paired_t_test(a, b).p_value < 0.05)
    with pytest.raises(ValueError, match="at least 2"):
        t_interval([1.0])
    with pytest.raises(ValueError, match="confidence"):
        t_interval([1.0, 2.0], confidence=1.0)


def test_compare_with_a_t_interval() -> None:
    a = pd.Series([0.5, 0.0, 0.2, 0.7, 0.1])
    b = pd.Series([0.1, 0.1, 0.1, 0.2, 0.0])
    result = compare(a, b, interval="t")
    assert (result.ci_low, result.ci_high) == pytest.approx(t_interval((a - b).to_numpy()))
    assert result.wilcoxon_p_value == pytest.approx(sps.wilcoxon(a, b, method="approx").pvalue)
    with pytest.raises(ValueError, match="interval"):
        compare(a, b, interval="normal")


def test_grouped_paired_tests_by_hand() -> None:
    # four users; "film" levels in the categorical order b, a; "history" bins (0, 10] and (10, 30]
    groups = pd.DataFrame(
        {
            "film": pd.Categorical(["a", "a", "b", "b"], categories=["b", "a"]),
            "history": pd.cut([1, 5, 9, 20], [0, 10, 30]),
        }
    )
    table = grouped_paired_tests(groups, [0.0, 1.0, 0.0, 0.5], {"text": [1.0, 1.0, 0.0, 0.5]}, "IDs")
    assert list(table.columns) == [("", "users"), ("IDs", "mean"), ("text", "- IDs"), ("text", "p")]
    assert [level for _, level in table.index[:2]] == ["b", "a"]  # the categorical order, not the alphabet
    assert table[("", "users")].tolist() == [2, 2, 3, 1]
    assert table[("IDs", "mean")].tolist() == pytest.approx([0.25, 0.5, 1 / 3, 0.5], abs=1e-12)
    assert table[("text", "- IDs")].tolist() == pytest.approx([0.0, 0.5, 1 / 3, 0.0], abs=1e-12)
    p = table[("text", "p")].to_numpy()
    assert p[0] == 1.0  # identical values: t = 0
    # film a: d = [1, 0], t = 0.5 / (sqrt(0.5) / sqrt 2) = 1 with 1 df (Cauchy): P(|T| >= 1) = 1/2
    assert p[1] == pytest.approx(0.5, abs=1e-12)
    # (0, 10]: d = [1, 0, 0], mean 1/3, sd sqrt(1/3), t = 1 with 2 df: 1 - 1/sqrt(3)
    assert p[2] == pytest.approx(1 - 1 / np.sqrt(3), abs=1e-12)
    assert np.isnan(p[3])  # one user: no test


def test_grouped_paired_tests_agree_with_scipy_and_refuse_bad_input() -> None:
    rng = np.random.default_rng(5)
    base = rng.random(300)
    variants = {"one": base + rng.normal(0.01, 0.1, 300), "two": base + rng.normal(-0.02, 0.1, 300)}
    groups = pd.DataFrame({"count": pd.cut(rng.integers(0, 100, 300), [-1, 10, 50, np.inf])})
    table = grouped_paired_tests(groups, base, variants)
    for (_, level), row in table.iterrows():
        members = (groups["count"] == level).to_numpy()
        assert row[("", "users")] == members.sum()
        for name, values in variants.items():
            assert row[(name, "- baseline")] == pytest.approx((values - base)[members].mean(), abs=1e-12)
            reference = sps.ttest_rel(values[members], base[members]).pvalue
            assert row[(name, "p")] == pytest.approx(reference, rel=1e-9)
    assert table[("", "users")].sum() == 300
    with pytest.raises(ValueError, match="variant 'two'"):
        grouped_paired_tests(groups, base, {"one": variants["one"], "two": variants["two"][:-1]})
    with pytest.raises(ValueError, match="one per user"):
        grouped_paired_tests(groups.iloc[:-1], base, variants)
    with pytest.raises(ValueError, match="NaN"):
        grouped_paired_tests(groups, np.where(np.arange(300) == 7, np.nan, base), variants)
    with pytest.raises(ValueError, match="empty"):
        grouped_paired_tests(groups, base, {})
