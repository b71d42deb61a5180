"""The contract itself: its quality bound must fail for a model that learns nothing."""

from __future__ import annotations

import pytest
import torch

from llmrec.testing import QUALITY_MARGIN, RecommenderContract, _Constant, planted_interactions, quality_ndcg


class _ConstantContract(RecommenderContract):
    def make_model(self) -> _Constant:
        return _Constant()


def test_quality_bound_fails_for_a_constant_scorer() -> None:
    with pytest.raises(AssertionError, match="must beat both"):
        _ConstantContract().test_beats_constant_and_popularity_on_planted_data()


def test_quality_bound_fails_for_random_scores() -> None:
    class Random(_Constant):
        def _score(self, users: torch.Tensor) -> torch.Tensor:
            generator = torch.Generator().manual_seed(0)
            return torch.rand(len(users), self.n_items, generator=generator)

    class RandomContract(RecommenderContract):
        def make_model(self) -> Random:
            return Random()

    with pytest.raises(AssertionError, match="must beat both"):
        RandomContract().test_beats_constant_and_popularity_on_planted_data()


def test_planted_data_by_hand() -> None:
    data = planted_interactions(n_users=4, group_items=3, length=3)
    f = data.frame
    # user 0: group 0, cycle 0 -> 2 -> 4; user 1: group 1, 1 -> 3 -> 5; user 2: group 0 from position 1: 2 -> 4 -> 0
    assert f[f["user"] == 0]["item"].tolist() == [0, 2, 4]
    assert f[f["user"] == 1]["item"].tolist() == [1, 3, 5]
    assert f[f["user"] == 2]["item"].tolist() == [2, 4, 0]
    assert data.items["genres"].tolist()[:2] == [["Sci-Fi"], ["Romance"]]


def test_an_oracle_reaches_the_top_and_the_margin_is_meaningful() -> None:
    """A model that knows the cycle scores NDCG 1; the constant scorer leaves room for the margin."""

    class Oracle(_Constant):
        def _fit(self, train) -> None:
            chrono = train.chronological()
            self.last_ = chrono.groupby("user")["item"].last().reindex(range(train.n_users)).to_numpy()

        def _score(self, users: torch.Tensor) -> torch.Tensor:
            scores = torch.zeros(len(users), self.n_items)
            nxt = torch.as_tensor((self.last_[users.numpy()] + 2) % self.n_items).long()
            scores[torch.arange(len(users)), nxt] = 1.0
            return scores

    assert quality_ndcg(Oracle()) == pytest.approx(1.0)
    assert quality_ndcg(_Constant()) + QUALITY_MARGIN < 1.0
