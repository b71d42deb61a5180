"""The baselines through the shared contract, plus their exact scores on a tiny case."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from llmrec import ConfigError, make_model
from llmrec.models import MODELS, ItemKNN, MostPopular, cosine_column_similarity
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


def test_cosine_matches_dense_formula() -> None:
    x = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 1, 1], [1, 1, 1, 0]], dtype=np.float32))
    dense = x.toarray()
    norms = np.linalg.norm(dense, axis=0)
    expected = dense.T @ dense / np.outer(norms, norms)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(cosine_column_similarity(x).toarray(), expected, atol=1e-6)
    np.testing.assert_allclose(cosine_column_similarity(x, block=3).toarray(), expected, atol=1e-6)
    # one neighbour per item (column): only the largest similarity survives in each column
    pruned = cosine_column_similarity(x, neighbours=1).toarray()
    assert ((pruned > 0).sum(axis=0) == 1).all()
    np.testing.assert_allclose(pruned.max(axis=0), expected.max(axis=0), atol=1e-6)


def test_itemknn_score_is_history_times_similarity() -> None:
    data = tiny_interactions()
    model = ItemKNN(neighbours=3).fit(data)
    expected = data.matrix().toarray() @ cosine_column_similarity(data.matrix(), 3).toarray()
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
