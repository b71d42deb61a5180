"""The profile tower: demographic sentences by hand, its loss against torch's cross-entropy, what it learns on
planted groups, and the model contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from llmrec import Interactions
from llmrec.models import ProfileTower
from llmrec.models._profile_tower import grouped_softmax_loss
from llmrec.testing import RecommenderContract
from llmrec.transfer import distinct_profiles, occupation_phrase, profile_texts


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LLMREC_CACHE_DIR", str(tmp_path / "embeddings"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_profile_sentences_by_hand() -> None:
    users = pd.DataFrame(
        {
            "age": [24, 25, 1, 56, 60],  # ML-100K's exact ages and ML-1M's codes map to the same bands
            "gender": ["F", "M", "F", "M", "x"],
            "occupation": ["programmer", "retired", "K-12 student", "academic/educator", "none"],
        }
    )
    assert profile_texts(users) == [
        "A woman aged 18-24 who works as a programmer.",
        "A man aged 25-34 who is retired.",
        "A woman aged under 18 who is a school student.",
        "A man aged 56 or over who works as an academic or educator.",
        "A person aged 56 or over who has no occupation.",
    ]
    assert profile_texts(users[["gender"]]) == ["A woman.", "A man.", "A woman.", "A man.", "A person."]
    assert occupation_phrase("Engineer") == "works as an engineer"
    unique, index = distinct_profiles(["b", "a", "b"])
    assert unique == ["a", "b"] and index.tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match="users table"):
        profile_texts(users.iloc[:0])


def test_grouped_loss_equals_cross_entropy_on_the_pairs() -> None:
    logits = torch.randn(3, 5, generator=torch.Generator().manual_seed(0))
    counts = torch.tensor([[2.0, 0, 1, 0, 0], [0, 0, 0, 0, 3], [1, 1, 1, 1, 0]])
    rows, items = counts.nonzero(as_tuple=True)
    repeat = counts[rows, items].long()
    expanded = torch.nn.functional.cross_entropy(
        logits[rows.repeat_interleave(repeat)], items.repeat_interleave(repeat)
    )
    torch.testing.assert_close(grouped_softmax_loss(logits, counts), expanded)
    with pytest.raises(ValueError, match="counts"):
        grouped_softmax_loss(logits, torch.zeros(3, 5))


def _gendered_tastes(n_users: int = 40, n_items: int = 10) -> Interactions:
    """Women (even ids) watch items 0-4, men items 5-9; the last woman and the last man have no history."""
    users, items = [], []
    for u in range(n_users - 2):
        chosen = np.arange(5) if u % 2 == 0 else np.arange(5, 10)
        picks = chosen[(u + np.arange(3)) % 5]
        users += [u] * 3
        items += picks.tolist()
    frame = pd.DataFrame(
        {
            "user": np.array(users, dtype=np.int64),
            "item": np.array(items, dtype=np.int64),
            "rating": np.float32(4.0),
            "timestamp": np.arange(len(users), dtype=np.int64),
        }
    )
    user_table = pd.DataFrame(
        {
            "raw_id": [str(u) for u in range(n_users)],
            "age": 30,
            "gender": ["F" if u % 2 == 0 else "M" for u in range(n_users)],
            "occupation": "writer",
        }
    ).rename_axis("user")
    return Interactions(frame, n_users, n_items, None, user_table)


def test_tower_ranks_the_groups_films_first_for_users_without_history() -> None:
    data = _gendered_tastes()
    model = ProfileTower(embedding_size=4, hidden_size=8, epochs=60, batch_size=2, learning_rate=0.05, seed=0)
    scores = model.fit(data).score([data.n_users - 2, data.n_users - 1]).numpy()
    assert set(np.argsort(-scores[0])[:5]) == set(range(5))  # the woman without history: the women's films
    assert set(np.argsort(-scores[1])[:5]) == set(range(5, 10))
    assert model.history_.loss[-1] < model.history_.loss[0]
    assert len(model.texts_) == 2


def test_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="hidden_size"):
        ProfileTower(hidden_size=-1)
    with pytest.raises(ValueError, match="epochs"):
        ProfileTower(epochs=0)
    with pytest.raises(ValueError, match="learning_rate"):
        ProfileTower(learning_rate=0.0)
    data = _gendered_tastes()
    with pytest.raises(ValueError, match="users table"):
        ProfileTower(epochs=1).fit(Interactions(data.frame, data.n_users, data.n_items))


class TestProfileTower(RecommenderContract):
    #: on the planted data every user has the same demographics (one sentence), so the tower can only learn
    #: popularity, which the planted data makes flat; what it learns from demographics is checked on
    #: gendered tastes in test_tower_ranks_the_groups_films_first_for_users_without_history
    quality_bound = False

    def make_model(self) -> ProfileTower:
        return ProfileTower(embedding_size=4, hidden_size=8, epochs=2, batch_size=4, seed=0)
