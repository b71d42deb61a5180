"""The next-item recommenders (n-gram and GPT) through the contract, plus what is special about them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from llmrec import Interactions, evaluate, leave_one_out, make_model
from llmrec.models import GPTRecommender, NGramRecommender
from llmrec.models._gpt import right_padded_sequences
from llmrec.testing import RecommenderContract, tiny_interactions


class TestNGram(RecommenderContract):
    def make_model(self) -> NGramRecommender:
        return NGramRecommender(order=3)


class TestGPT(RecommenderContract):
    def make_model(self) -> GPTRecommender:
        return GPTRecommender(embedding_size=16, num_heads=2, max_len=8, epochs=2, batch_size=4, seed=0)

    def make_quality_model(self) -> GPTRecommender:
        return GPTRecommender(
            embedding_size=16, num_heads=2, max_len=8, epochs=15, batch_size=8, learning_rate=1e-2, dropout=0.0, seed=0
        )


def chain(n_users: int = 20) -> Interactions:
    """Every user watches items 0 -> 1 -> 2 -> 3 in order (some stop early)."""
    rows = [(u, i, i) for u in range(n_users) for i in range(1 + u % 4)]
    f = pd.DataFrame(rows, columns=["user", "item", "timestamp"]).assign(rating=np.float32(4.0))
    return Interactions(f[["user", "item", "rating", "timestamp"]], n_users, 5)


def test_bigram_predicts_the_next_item_of_a_chain() -> None:
    model = NGramRecommender(order=2).fit(chain())
    scores = model.score(torch.arange(4))  # users 0..3 have histories ending in items 0..3
    assert scores[:3].argmax(dim=1).tolist() == [1, 2, 3]
    assert (scores.sum(dim=1) < 1).all()  # the mass of <bos>/<eos> is not an item score
    assert (scores > 0).all()  # Kneser-Ney with the interpolated unigram: nothing is impossible


def test_right_padding_layout() -> None:
    indptr, items = np.array([0, 3, 3, 5]), np.array([7, 8, 9, 1, 2])
    out = right_padded_sequences(indptr, items, max_len=3, bos=10, pad=11)
    # user 0 keeps its latest 2 items; user 1 has only <bos>; user 2 fits
    assert out.tolist() == [[10, 8, 9], [10, 11, 11], [10, 1, 2]]


def test_gpt_learns_a_chain_and_scores_are_finite_for_padded_batches() -> None:
    model = GPTRecommender(
        embedding_size=32, num_heads=2, max_len=6, epochs=60, batch_size=8, dropout=0.0, learning_rate=1e-2, seed=0
    ).fit(chain())
    scores = model.score(torch.arange(20))  # histories of different lengths in one right-padded batch
    assert torch.isfinite(scores).all()
    assert scores[:3].argmax(dim=1).tolist() == [1, 2, 3]
    assert model.losses_[-1] < model.losses_[0]
    maps = model.attention_maps(3)
    assert maps.shape == (2, 2, 5, 5) and torch.allclose(maps.sum(-1), torch.ones(2, 2, 5), atol=1e-5)


def test_gpt_is_seeded() -> None:
    data = tiny_interactions()
    a = GPTRecommender(embedding_size=16, max_len=8, epochs=2, seed=3).fit(data).score(torch.arange(5))
    b = GPTRecommender(embedding_size=16, max_len=8, epochs=2, seed=3).fit(data).score(torch.arange(5))
    c = GPTRecommender(embedding_size=16, max_len=8, epochs=2, seed=4).fit(data).score(torch.arange(5))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.slow
def test_bigram_beats_popularity_on_ml100k(ml100k) -> None:
    split = leave_one_out(ml100k.interactions)
    pop = evaluate(make_model("pop").fit(split.fit_data("test")), split).summary()["NDCG@10"]
    bigram = evaluate(make_model("ngram", order=2).fit(split.fit_data("test")), split).summary()["NDCG@10"]
    assert bigram > pop + 0.02
