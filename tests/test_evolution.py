"""Interest evolution (chapter: *Sequential interest*): long/short profiles, window drift and next-item
explanation on hand-made histories, and the batched code against a per-user loop on random data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from llmrec import Interactions
from llmrec.interest import (
    cosine_similarity,
    genre_profiles,
    lag_similarity,
    long_short_profiles,
    next_item_explained,
    population_shares,
    recent,
    shuffled_order,
    total_variation,
    window_profiles,
)


def _items(genres: list[list[str]]) -> pd.DataFrame:
    n = len(genres)
    return pd.DataFrame(
        {
            "raw_id": [str(i) for i in range(n)],
            "title": [f"T{i}" for i in range(n)],
            "year": pd.array([2000] * n, dtype="Int64"),
            "genres": genres,
        }
    ).rename_axis("item")


def small() -> Interactions:
    """Genres of items 0..5: A, A, C, C, A|C, C (Action, Comedy). User 0 watches 0..5 in order (genres A A C C
    AC C), user 1 watches 2 0 4 (C A AC). No repeats: chapter 4's counts are over distinct (user, item) pairs."""
    users = [0] * 6 + [1] * 3
    items = [0, 1, 2, 3, 4, 5, 2, 0, 4]
    timestamps = [1, 2, 3, 4, 5, 6, 1, 2, 3]
    frame = pd.DataFrame({"user": users, "item": items, "rating": 4.0, "timestamp": timestamps})
    items_table = _items([["Action"], ["Action"], ["Comedy"], ["Comedy"], ["Action", "Comedy"], ["Comedy"]])
    return Interactions(frame.astype({"rating": np.float32}), 2, 6, items_table)


PI = np.array([4 / 9, 5 / 9])  # Action 2.5 + 1.5 of 9 events, Comedy 3.5 + 1.5


def test_population_shares_and_recent() -> None:
    data = small()
    np.testing.assert_allclose(population_shares(data), PI)
    last_two = recent(data, 2)
    assert sorted(last_two.frame.index) == [4, 5, 7, 8]  # file positions of each user's last two events
    with pytest.raises(ValueError, match="n must be"):
        recent(data, 0)


def test_long_short_profiles_by_hand() -> None:
    long, short = long_short_profiles(small(), short_window=2, prior_strength=2.0)
    np.testing.assert_allclose(long[0], (np.array([2.5, 3.5]) + 2 * PI) / 8)
    np.testing.assert_allclose(long[1], (np.array([1.5, 1.5]) + 2 * PI) / 5)
    np.testing.assert_allclose(short[0], (np.array([0.5, 1.5]) + 2 * PI) / 4)  # genres AC, C
    np.testing.assert_allclose(short[1], (np.array([1.5, 0.5]) + 2 * PI) / 4)  # genres A, AC
    # the short profile is chapter 4's posterior on the recent events, with the whole data's prior
    np.testing.assert_allclose(short, genre_profiles(recent(small(), 2), 2.0, shares=PI))


def test_distances_by_hand() -> None:
    p, q = np.array([[0.25, 0.75], [1.0, 0.0]]), np.array([[0.0, 1.0], [0.0, 1.0]])
    np.testing.assert_allclose(total_variation(p, q), [0.25, 1.0])
    np.testing.assert_allclose(cosine_similarity(p, q), [0.75 / np.sqrt(0.625), 0.0])


def test_window_profiles_by_hand() -> None:
    profiles = window_profiles(small(), window=2, max_windows=3)
    assert profiles.shape == (2, 3, 2)
    np.testing.assert_allclose(profiles[0], [[0.25, 0.75], [0.0, 1.0], [1.0, 0.0]])  # [AC C], [C C], [A A]
    np.testing.assert_allclose(profiles[1, 0], [0.75, 0.25])  # [A AC]
    assert np.isnan(profiles[1, 1:]).all()  # the partial window [C] and the missing one are dropped
    smoothed = window_profiles(small(), window=2, max_windows=3, prior_strength=2.0)
    np.testing.assert_allclose(smoothed[0, 0], (np.array([0.5, 1.5]) + 2 * PI) / 4)
    with pytest.raises(ValueError, match="window"):
        window_profiles(small(), window=0)


def test_lag_similarity_by_hand() -> None:
    profiles = window_profiles(small(), window=2, max_windows=3)
    cosine = lag_similarity(profiles)
    norm = np.sqrt(0.25**2 + 0.75**2)
    np.testing.assert_allclose(cosine[0], [0.75 / norm, 0.25 / norm])
    assert np.isnan(cosine[1]).all()
    np.testing.assert_allclose(lag_similarity(profiles, metric="1-tv")[0], [0.75, 0.25])
    swapped = lag_similarity(profiles, reference=np.array([[0.0, 1.0], [1.0, 0.0]]), metric="1-tv")
    np.testing.assert_allclose(swapped[0], [1.0, 0.0])
    with pytest.raises(ValueError, match="metric"):
        lag_similarity(profiles, metric="euclid")
    with pytest.raises(ValueError, match="reference"):
        lag_similarity(profiles, reference=np.ones((3, 2)))


def test_next_item_explained_by_hand() -> None:
    table = next_item_explained(small(), short_window=2, top_genres=1, prior_strength=2.0, long_weights=(0.0, 1.0))
    assert table["user"].tolist() == [0, 0, 0, 0, 1]
    assert table["position"].tolist() == [2, 3, 4, 5, 2]
    # t=2 (Comedy) after Action, Action: neither profile's top genre is Comedy; t=3 (Comedy): the long profile
    # [2, 1] still tops on Action, the short one [1, 1] ties and the prior (5/9 > 4/9) puts Comedy first
    assert table["long_hit"].tolist() == [False, False, True, True, True]
    assert table["short_hit"].tolist() == [False, True, True, True, True]
    long_t3 = (np.array([2.0, 1.0]) + 2 * PI) / 5
    short_t3 = (np.array([1.0, 1.0]) + 2 * PI) / 4
    assert table["loglik_1"].iloc[1] == pytest.approx(np.log(long_t3[1]))
    assert table["loglik_0"].iloc[1] == pytest.approx(np.log(short_t3[1]))
    with pytest.raises(ValueError, match="prior_strength"):
        next_item_explained(small(), prior_strength=0.0)
    with pytest.raises(ValueError, match="long_weights"):
        next_item_explained(small(), long_weights=(1.5,))


def _random_data(seed: int = 0) -> Interactions:
    rng = np.random.default_rng(seed)
    names = ["A", "B", "C", "D"]
    genres = [list(rng.choice(names, size=rng.integers(1, 3), replace=False)) for _ in range(30)]
    lengths = rng.integers(1, 25, size=7)
    users = np.repeat(np.arange(7), lengths)
    frame = pd.DataFrame(
        {
            "user": users,
            "item": np.concatenate([rng.permutation(30)[:n] for n in lengths]),  # no repeated (user, item)
            "rating": np.float32(4.0),
            "timestamp": rng.permutation(len(users)),
        }
    ).sample(frac=1.0, random_state=seed)
    return Interactions(frame, 7, 30, _items(genres))


def test_batched_code_matches_a_loop_over_users() -> None:
    from llmrec.data import genre_matrix

    data = _random_data()
    g = genre_matrix(data.items)[0].toarray()
    shares = population_shares(data)
    indptr, items = data.sequences()
    n, a, top, window, windows = 4, 3.0, 2, 3, 5
    table = next_item_explained(data, short_window=n, top_genres=top, prior_strength=a, long_weights=(0.3,))
    profiles = window_profiles(data, window=window, max_windows=windows)
    rows = []
    for u in range(data.n_users):
        sequence = items[indptr[u] : indptr[u + 1]]
        for k in range(windows):
            lo, hi = len(sequence) - (k + 1) * window, len(sequence) - k * window
            if lo >= 0:
                np.testing.assert_allclose(profiles[u, k], g[sequence[lo:hi]].sum(0) / window)
            else:
                assert np.isnan(profiles[u, k]).all()
        for t in range(n, len(sequence)):
            long = (g[sequence[:t]].sum(0) + a * shares) / (t + a)
            short = (g[sequence[t - n : t]].sum(0) + a * shares) / (n + a)
            genres = g[sequence[t]] > 0
            hits = [bool(genres[np.argsort(-p, kind="stable")[:top]].any()) for p in (long, short)]
            rows.append((u, t, *hits, float(g[sequence[t]] @ np.log(0.3 * long + 0.7 * short))))
    expected = pd.DataFrame(rows, columns=["user", "position", "long_hit", "short_hit", "loglik_0.3"])
    assert len(table) == len(expected) > 0
    pd.testing.assert_frame_equal(table.reset_index(drop=True), expected, check_dtype=False, atol=1e-12)


def test_shuffled_order_keeps_each_users_events() -> None:
    data = _random_data()
    shuffled = shuffled_order(data, seed=3)
    assert shuffled.frame.drop(columns="timestamp").equals(data.frame.drop(columns="timestamp"))
    indptr, items = data.sequences()
    shuffled_indptr, shuffled_items = shuffled.sequences()
    np.testing.assert_array_equal(indptr, shuffled_indptr)
    assert not np.array_equal(items, shuffled_items)
    for u in range(data.n_users):
        assert sorted(items[indptr[u] : indptr[u + 1]]) == sorted(shuffled_items[indptr[u] : indptr[u + 1]])
    np.testing.assert_array_equal(shuffled_order(data, seed=3).sequences()[1], shuffled_items)  # seeded
