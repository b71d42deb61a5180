"""The contract every :class:`~llmrec.models.Recommender` passes (used by ``tests/``; LensKit's pattern).

A model's test module subclasses :class:`RecommenderContract` and provides ``make_model``::

    class TestItemKNN(RecommenderContract):
        def make_model(self):
            return ItemKNN(neighbours=5)

pytest then runs every ``test_*`` method below on that model.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from ._interactions import Interactions
from .models import Recommender

__all__ = ["QUALITY_MARGIN", "RecommenderContract", "planted_interactions", "tiny_interactions"]


def tiny_interactions(n_users: int = 12, n_items: int = 15, per_user: int = 6, seed: int = 0) -> Interactions:
    """A small random dataset with timestamps, ratings and item/user side tables (titles, years, genres)."""
    rng = np.random.default_rng(seed)
    users, items, times = [], [], []
    for u in range(n_users - 1):  # the last user has no interactions: an empty history
        chosen = rng.choice(n_items, size=per_user, replace=False)
        users += [u] * per_user
        items += chosen.tolist()
        times += (1_000 + 10 * np.arange(per_user) + rng.integers(0, 3, per_user)).tolist()
    frame = pd.DataFrame(
        {
            "user": np.array(users, dtype=np.int64),
            "item": np.array(items, dtype=np.int64),
            "rating": rng.integers(1, 6, len(users)).astype(np.float32),
            "timestamp": np.array(times, dtype=np.int64),
        }
    )
    genres = ["Action", "Comedy", "Drama", "Romance", "Sci-Fi"]
    item_table = pd.DataFrame(
        {
            "raw_id": [str(i + 1) for i in range(n_items)],
            "title": [f"Film {i + 1}" for i in range(n_items)],
            "year": pd.array([1990 + i % 10 for i in range(n_items)], dtype="Int64"),
            "genres": [
                [genres[i % 5], genres[(i * 2 + 1) % 5]] if i % 3 == 0 else [genres[i % 5]] for i in range(n_items)
            ],
        }
    ).rename_axis("item")
    user_table = pd.DataFrame(
        {"raw_id": [str(u + 1) for u in range(n_users)], "age": 30, "gender": "F", "occupation": "other"}
    ).rename_axis("user")
    return Interactions(frame, n_users, n_items, item_table, user_table)


#: How much better than a constant scorer and than most-popular every model must be on the planted data (NDCG@10).
QUALITY_MARGIN = 0.1


def planted_interactions(n_users: int = 48, n_groups: int = 2, group_items: int = 12, length: int = 7) -> Interactions:
    """Data with structure every recommender should find: two taste groups, each following a fixed item cycle.

    Item ``i`` belongs to group ``i % n_groups``; a user of group ``g`` (``u % n_groups``) watches ``length``
    consecutive items of the cycle ``g, g + n_groups, g + 2 n_groups, ...`` (``group_items`` long), starting at
    ``(u // n_groups) % group_items``. The items' titles and genres name their group, so text and genre models can
    find it too. Popularity is flat and a constant scorer ranks by item id, so neither knows the group or the next
    item: a model that learns anything beats them by a wide margin under leave-one-out.
    """
    n_items = n_groups * group_items
    users, items, times = [], [], []
    for u in range(n_users):
        group, start = u % n_groups, (u // n_groups) % group_items
        cycle = [group + n_groups * ((start + step) % group_items) for step in range(length)]
        users += [u] * length
        items += cycle
        times += list(range(1_000, 1_000 + 10 * length, 10))
    frame = pd.DataFrame(
        {
            "user": np.array(users, dtype=np.int64),
            "item": np.array(items, dtype=np.int64),
            "rating": np.float32(4.0),
            "timestamp": np.array(times, dtype=np.int64),
        }
    )
    themes = [
        ("Space battle starship adventure", "Sci-Fi"),
        ("Romantic comedy about a wedding", "Romance"),
        ("Haunted house horror night", "Horror"),
    ]
    item_table = pd.DataFrame(
        {
            "raw_id": [str(i + 1) for i in range(n_items)],
            "title": [f"{themes[i % n_groups][0]} {i // n_groups + 1}" for i in range(n_items)],
            "year": pd.array([1990 + i % 10 for i in range(n_items)], dtype="Int64"),
            "genres": [[themes[i % n_groups][1]] for i in range(n_items)],
        }
    ).rename_axis("item")
    user_table = pd.DataFrame(
        {"raw_id": [str(u + 1) for u in range(n_users)], "age": 30, "gender": "F", "occupation": "other"}
    ).rename_axis("user")
    return Interactions(frame, n_users, n_items, item_table, user_table)


class _Constant(Recommender):
    """Scores every item 0: the evaluator's tie rule then ranks by item id."""

    name = "constant"

    def _fit(self, train: Interactions) -> None:
        pass

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        return torch.zeros(len(users), self.n_items)


def quality_ndcg(model: Recommender, data: Interactions | None = None, k: int = 10) -> float:
    """NDCG@k of ``model`` under leave-one-out (test stage) on :func:`planted_interactions`."""
    from .evaluation import evaluate
    from .split import leave_one_out

    split = leave_one_out(data if data is not None else planted_interactions())
    return evaluate(model.fit(split.fit_data("test")), split, k=k).summary()[f"NDCG@{k}"]


class RecommenderContract:
    """Shared tests; subclasses implement :meth:`make_model` (a fresh, unfitted, seeded model)."""

    #: Whether the model must beat a constant scorer and most-popular on :func:`planted_interactions`.
    quality_bound: bool = True

    def make_model(self) -> Recommender:
        raise NotImplementedError

    def make_quality_model(self) -> Recommender:
        """The model trained on the planted data (override to train longer than the fast contract settings)."""
        return self.make_model()

    @pytest.fixture
    def data(self) -> Interactions:
        return tiny_interactions()

    @pytest.fixture
    def fitted(self, data: Interactions) -> Recommender:
        return self.make_model().fit(data)

    def test_fit_returns_self(self, data: Interactions) -> None:
        model = self.make_model()
        assert model.fit(data) is model

    def test_score_shape_dtype_finite(self, fitted: Recommender, data: Interactions) -> None:
        users = torch.arange(data.n_users)
        scores = fitted.score(users)
        assert scores.shape == (data.n_users, data.n_items)
        assert scores.dtype == torch.float32
        assert torch.isfinite(scores).all(), "scores must be finite for every user, including empty histories"

    def test_score_accepts_lists_and_arrays(self, fitted: Recommender) -> None:
        a = fitted.score(torch.tensor([0, 2]))
        assert torch.equal(a, fitted.score([0, 2]))
        assert torch.equal(a, fitted.score(np.array([0, 2])))

    def test_rows_do_not_depend_on_batch(self, fitted: Recommender) -> None:
        together = fitted.score(torch.tensor([1, 3, 5]))
        alone = torch.cat([fitted.score(torch.tensor([u])) for u in (1, 3, 5)])
        torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-5)

    def test_empty_batch(self, fitted: Recommender, data: Interactions) -> None:
        assert fitted.score(torch.tensor([], dtype=torch.long)).shape == (0, data.n_items)

    def test_deterministic(self, data: Interactions) -> None:
        users = torch.arange(data.n_users)
        first = self.make_model().fit(data).score(users)
        second = self.make_model().fit(data).score(users)
        assert torch.equal(first, second), "same seed and data must give the same scores"

    def test_unknown_user_is_rejected(self, fitted: Recommender, data: Interactions) -> None:
        with pytest.raises(KeyError, match="unknown user"):
            fitted.score(torch.tensor([data.n_users]))
        with pytest.raises(KeyError, match="unknown user"):
            fitted.score(torch.tensor([-1]))

    def test_score_before_fit_is_rejected(self) -> None:
        with pytest.raises(RuntimeError, match="not fitted"):
            self.make_model().score(torch.tensor([0]))

    def test_empty_training_data_is_rejected(self, data: Interactions) -> None:
        with pytest.raises(ValueError, match="no interactions"):
            self.make_model().fit(data.with_frame(data.frame.iloc[:0]))

    def test_runs_through_evaluator(self, data: Interactions) -> None:
        from .evaluation import evaluate
        from .split import leave_one_out

        split = leave_one_out(data)
        result = evaluate(self.make_model().fit(split.fit_data("test")), split, k=5)
        summary = result.summary()
        assert len(result.per_user) == data.n_users - 1
        assert all(0.0 <= v <= 1.0 for v in summary.values())

    def test_pickle_round_trip(self, fitted: Recommender, data: Interactions) -> None:
        restored = pickle.loads(pickle.dumps(fitted))
        users = torch.arange(data.n_users)
        assert torch.equal(restored.score(users), fitted.score(users))

    def test_parameter_round_trip(self) -> None:
        model = self.make_model()
        params = model.get_params()
        again = type(model)(**params)
        assert again.get_params() == params
        assert repr(again) == repr(model)

    def test_beats_constant_and_popularity_on_planted_data(self) -> None:
        """Quality bound: a model that returns zeros (or anything structure-blind) fails here."""
        if not self.quality_bound:
            pytest.skip(f"{type(self).__name__} sets quality_bound = False")
        from .models import MostPopular

        model = quality_ndcg(self.make_quality_model())
        constant, popular = quality_ndcg(_Constant()), quality_ndcg(MostPopular())
        assert model >= max(constant, popular) + QUALITY_MARGIN, (
            f"NDCG@10 on planted data: model {model:.3f}, constant {constant:.3f}, most-popular {popular:.3f}; "
            f"the model must beat both by {QUALITY_MARGIN}"
        )
