"""The one cosine implementation (``llmrec.similarity.pairwise_cosine``) and its three users."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics.pairwise import cosine_similarity

from llmrec.cf import similarity
from llmrec.models import ItemKNN, UserKNN
from llmrec.similarity import pairwise_cosine
from llmrec.testing import tiny_interactions

# rows: a, b, an all-zero row, and 2a
HAND = np.array([[1, 1, 0], [1, 0, 1], [0, 0, 0], [2, 2, 0]], dtype=np.float64)
# s(a, b) = 1 / (sqrt 2 sqrt 2) = 1/2; s(a, 2a) = 4 / (sqrt 2 sqrt 8) = 1; s(b, 2a) = 2 / (sqrt 2 sqrt 8) = 1/2;
# the zero row has similarity 0 with everything; the diagonal is 0
HAND_COSINE = np.array([[0, 0.5, 0, 1], [0.5, 0, 0, 0.5], [0, 0, 0, 0], [1, 0.5, 0, 0]])


def _random_sparse(n_rows: int, n_columns: int, seed: int, signed: bool = True) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = rng.normal(size=(n_rows, n_columns)) if signed else rng.integers(1, 6, size=(n_rows, n_columns))
    dense = np.where(rng.random((n_rows, n_columns)) < 0.3, dense, 0.0)
    dense[3] = 0.0  # an empty row
    return sp.csr_matrix(dense)


def test_hand_computed_example() -> None:
    np.testing.assert_allclose(pairwise_cosine(sp.csr_matrix(HAND)), HAND_COSINE, atol=1e-15)
    np.testing.assert_allclose(pairwise_cosine(HAND, dtype=np.float32), HAND_COSINE, atol=1e-7)
    # a dense input gives the same as a sparse one; the result has the requested precision
    assert pairwise_cosine(HAND, dtype=np.float32).dtype == np.float32
    assert pairwise_cosine(HAND).dtype == np.float64


@pytest.mark.parametrize("dtype, atol", [(np.float64, 1e-13), (np.float32, 2e-6)])
def test_agrees_with_scikit_learn(dtype: type, atol: float) -> None:
    x = _random_sparse(40, 25, seed=1)
    expected = cosine_similarity(x.toarray())
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(pairwise_cosine(x, dtype=dtype), expected, atol=atol)


def test_float64_is_the_direct_product_entry_for_entry() -> None:
    # the book's rating formulas were recorded with R_n R_n^T computed in one sparse product; the blocked version
    # sums each entry in the same order, so it is bit-identical (the recorded numbers of chapter 5 stay)
    x = _random_sparse(50, 30, seed=2)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    normalised = sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)) @ x
    direct = np.asarray((normalised @ normalised.T).todense())
    np.fill_diagonal(direct, 0.0)
    for block in (1, 7, 2048):
        assert np.array_equal(pairwise_cosine(x, block=block), direct)


def test_neighbours_keep_each_rows_largest_positive_similarities() -> None:
    x = _random_sparse(30, 20, seed=3)
    full = pairwise_cosine(x)
    for k in (1, 4):
        pruned = pairwise_cosine(x, neighbours=k, block=7)
        assert sp.issparse(pruned) and pruned.shape == (30, 30)
        pruned = pruned.toarray()
        for row, kept in zip(full, pruned, strict=True):
            positive = np.sort(row[row > 0])[::-1][:k]
            np.testing.assert_array_equal(np.sort(kept[kept != 0])[::-1], positive)
            assert np.array_equal(kept[kept != 0], row[kept != 0])  # kept values are the full matrix's
    # k at least the number of rows: every positive similarity, negatives and zeros dropped
    assert np.array_equal(pairwise_cosine(x, neighbours=30).toarray(), np.where(full > 0, full, 0.0))
    # k = 1 on the hand example: a's and 2a's nearest are each other, b's is a (tie with 2a at 1/2: one of them)
    pruned = pairwise_cosine(HAND, neighbours=1).toarray()
    assert pruned[0, 3] == pytest.approx(1.0) and pruned[3, 0] == pytest.approx(1.0)
    assert pruned[1].max() == pytest.approx(0.5) and (pruned[1] > 0).sum() == 1
    assert not pruned[2].any()


@pytest.mark.parametrize("kwargs", [{"neighbours": 0}, {"neighbours": 1.5}, {"block": 0}, {"dtype": np.int64}])
def test_bad_parameters_are_refused(kwargs: dict) -> None:
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        pairwise_cosine(HAND, **kwargs)


def test_callers_use_it() -> None:
    """Rating-prediction neighbourhoods (dense float64), item-kNN and user-kNN (top-k float32) share the cosine."""
    ratings = _random_sparse(30, 20, seed=4, signed=False)
    assert np.array_equal(similarity(ratings, "cosine"), pairwise_cosine(ratings))
    data = tiny_interactions()
    history = data.matrix()
    item_knn = ItemKNN(neighbours=2).fit(data)
    expected = pairwise_cosine(history.T, neighbours=2, dtype=np.float32).T
    assert (item_knn.similarity_ != expected).nnz == 0
    user_knn = UserKNN(neighbours=2).fit(data)
    assert (user_knn.weights_ != pairwise_cosine(history, neighbours=2, dtype=np.float32)).nnz == 0
