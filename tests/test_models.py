"""The baselines through the shared contract, plus their exact scores on a tiny case."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

from llmrec import ConfigError, make_model
from llmrec.models import MODELS, ItemKNN, MostPopular
from llmrec.similarity import pairwise_cosine
from llmrec.testing import RecommenderContract, tiny_interactions


class TestMostPopular(RecommenderContract):
    # most-popular is the bar the quality bound sets for every other model; its own values are checked against an
    # independent computation on ML-100K (tests/test_evaluation.py)
    quality_bound = False

    def make_model(self) -> MostPopular:
        return MostPopular()


class TestItemKNN(RecommenderContract):
    def make_model(self) -> ItemKNN:
        return ItemKNN(neighbours=5)


def test_pop_scores_are_counts() -> None:
    data = tiny_interactions()
    scores = MostPopular().fit(data).score([0, 1])
    assert torch.equal(scores[0], torch.from_numpy(data.item_counts()).float())
    assert torch.equal(scores[0], scores[1])


def test_itemknn_score_is_history_times_similarity() -> None:
    data = tiny_interactions()
    model = ItemKNN(neighbours=3).fit(data)
    # column j of the item similarity keeps item j's 3 nearest items: row j of pairwise_cosine(X^T)
    expected = data.matrix().toarray() @ pairwise_cosine(data.matrix().T, neighbours=3).toarray().T
    np.testing.assert_allclose(model.score(torch.arange(data.n_users)).numpy(), expected, atol=1e-5)


def test_make_model_errors_name_the_field() -> None:
    with pytest.raises(ConfigError, match="config field 'models': unknown model 'nope'"):
        make_model("nope")
    with pytest.raises(ConfigError, match="params.itemknn"):
        make_model("itemknn", neighbors=3)
    with pytest.raises(ValueError, match="neighbours must be >= 1"):
        ItemKNN(neighbours=0)


def test_non_integer_user_ids_rejected() -> None:
    model = MostPopular().fit(tiny_interactions())
    with pytest.raises(ValueError, match="integer ids"):
        model.score(torch.tensor([0.5]))


def test_every_registered_model_has_a_contract_test() -> None:
    """Each model in MODELS, now and later, is constructed by the make_model of some RecommenderContract subclass."""
    constructed: set[str] = set()
    for path in Path(__file__).parent.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            bases = [getattr(base, "id", "") for base in getattr(node, "bases", [])]
            if isinstance(node, ast.ClassDef) and "RecommenderContract" in bases:
                for call in ast.walk(node):
                    if isinstance(call, ast.Call) and isinstance(call.func, ast.Name):
                        constructed.add(call.func.id)
    missing = sorted(name for name, cls in MODELS.items() if cls.__name__ not in constructed)
    assert not missing, f"registered models without a RecommenderContract test: {missing}"


@pytest.mark.parametrize("name", ["bpr", "lightgcn"])
def test_pair_trained_models_fit_bit_identically_on_two_threads(ml100k, name: str) -> None:
    """The same seed gives the same factors to the last bit with 2 threads. Looking rows up as ``p[users]`` made
    the backward an ``index_put_`` with accumulate, which adds the rows of repeated ids in a thread-dependent order
    (three 2-epoch BPR fits on ML-100K differed by up to 1.3e-6); ``F.embedding``'s backward does not."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        fits = [make_model(name, epochs=2, seed=42).fit(ml100k.interactions) for _ in range(3)]
    finally:
        torch.set_num_threads(threads)
    for fit in fits[1:]:
        assert torch.equal(fit.user_factors_, fits[0].user_factors_)
        assert torch.equal(fit.item_factors_, fits[0].item_factors_)
