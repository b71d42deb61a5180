"""Text encoders: pooling by hand, agreement with sentence-transformers, the cache, errors; text models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from llmrec import Interactions
from llmrec.losses import bpr_loss, in_batch_softmax_loss
from llmrec.models import BPR, FineTunedText, TextContent, TwoTower
from llmrec.testing import RecommenderContract, tiny_interactions
from llmrec.text import (
    EmbeddingCache,
    ModelLoadError,
    TextEncoder,
    cache_key,
    default_model_path,
    history_weights,
    item_texts,
    mean_pool,
    nearest_items,
    user_texts,
)

TEXTS = ["Star Wars (1977). Genres: Action, Adventure, Sci-Fi.", "Toy Story (1995). Genres: Animation.", "x"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LLMREC_CACHE_DIR", str(tmp_path / "embeddings"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path / "embeddings"


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder().load()


def test_mean_pool_by_hand() -> None:
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]], [[2.0, 0.0], [0.0, 2.0], [4.0, 4.0]]])
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    expected = torch.tensor([[2.0, 3.0], [2.0, 2.0]])  # the padded token (100, 100) is ignored
    assert torch.allclose(mean_pool(hidden, mask), expected)


def test_encoder_matches_sentence_transformers(encoder: TextEncoder) -> None:
    from sentence_transformers import SentenceTransformer

    ours = TextEncoder(max_length=256, cache=False).encode(TEXTS)
    reference = SentenceTransformer(str(default_model_path()), device="cpu").encode(TEXTS, normalize_embeddings=True)
    assert ours.shape == (3, 384) and np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert np.abs(ours - reference).max() <= 1e-5


def test_batches_do_not_change_vectors() -> None:
    one = TextEncoder(batch_size=1, cache=False).encode(TEXTS)
    three = TextEncoder(batch_size=3, cache=False).encode(TEXTS)
    assert np.abs(one - three).max() <= 1e-5  # padding in a batch must not leak into the pooled vector


def test_cache_hit_and_invalidation(private_cache) -> None:
    encoder = TextEncoder()
    first = encoder.encode(TEXTS)
    passes = encoder.forward_passes
    assert passes > 0
    assert np.array_equal(encoder.encode(TEXTS), first) and encoder.forward_passes == passes  # hit: no forward pass
    assert len(list(private_cache.glob("*.npy"))) == 1
    encoder.encode([*TEXTS[:2], "changed"])  # a changed text is a miss
    assert encoder.forward_passes > passes and len(list(private_cache.glob("*.npy"))) == 2
    encoder.encode(TEXTS[::-1])  # so is another order
    assert len(list(private_cache.glob("*.npy"))) == 3
    other = TextEncoder(max_length=16)  # another configuration of the same model is a miss too
    other.encode(TEXTS)
    assert other.forward_passes > 0 and len(list(private_cache.glob("*.npy"))) == 4


def test_cache_misses_after_weights_change(private_cache) -> None:
    encoder = TextEncoder().load()
    encoder.encode(TEXTS)
    tuned = encoder.copy()  # e.g. fine-tuned: same name and config, other weights -> another key
    assert tuned.identity() == encoder.identity()
    with torch.no_grad():
        next(tuned.model.parameters()).add_(0.01)
    assert tuned.identity() != encoder.identity()
    tuned.encode(TEXTS)
    assert tuned.forward_passes > 0 and len(list(private_cache.glob("*.npy"))) == 2
    assert next(encoder.model.parameters()).data_ptr() != next(tuned.model.parameters()).data_ptr()


def test_cache_misses_under_other_cpu_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    encoder = TextEncoder().load()
    before = encoder.identity()
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "SOME-OTHER-ISA")
    assert encoder.copy().identity() != before
    monkeypatch.undo()
    monkeypatch.setenv("MKL_CBWR", "COMPATIBLE")
    assert encoder.copy().identity() != before


def test_cache_key_separates_lists_of_texts() -> None:
    assert cache_key("m", ["ab", "c"]) != cache_key("m", ["a", "bc"])  # length prefixes: no ambiguity
    assert cache_key("m", ["a"]) != cache_key("n", ["a"])
    assert cache_key("m", ["a", "b"]) == cache_key("m", ["a", "b"])


def test_cache_ignores_unreadable_or_wrongly_shaped_files(tmp_path) -> None:
    store = EmbeddingCache(tmp_path)
    store.path("k").write_bytes(b"not an npy file")
    assert store.load("k") is None
    store.save("k", np.ones((2, 3), dtype=np.float32))
    assert store.load("k", rows=2).shape == (2, 3)
    assert store.load("k", rows=5) is None


def test_interrupted_write_leaves_no_file(private_cache, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(handle, array):
        handle.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr("llmrec.text._cache.np.save", fail)
    with pytest.raises(KeyboardInterrupt):
        TextEncoder().encode(TEXTS)
    assert list(private_cache.iterdir()) == []


def test_bad_model_paths(tmp_path) -> None:
    with pytest.raises(ModelLoadError, match=r"no-such-folder: no such folder"):
        TextEncoder(model=str(tmp_path / "no-such-folder")).load()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelLoadError, match=r"empty: the folder has no config.json"):
        TextEncoder(model=str(empty)).load()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="broken: cannot load"):
        TextEncoder(model=str(broken)).load()
    with pytest.raises(ModelLoadError, match="network access"):
        TextEncoder(model="no-such-org/no-such-model").load()  # offline: fails at once, no hanging


def test_nearest_items_by_hand() -> None:
    vectors = np.array([[1.0, 0.0], [0.6, 0.8], [1.0, 0.0], [0.0, 1.0], [0.8, 0.6]], dtype=np.float32)
    indices, cosines = nearest_items(vectors, 2, count=3)
    # row 0 duplicates row 2 (cosine 1): it is a neighbour, row 2 itself is not; then 0.8 and 0.6
    assert indices.tolist() == [0, 4, 1]
    np.testing.assert_allclose(cosines, [1.0, 0.8, 0.6], atol=1e-6)
    indices, _ = nearest_items(vectors, 0, count=10)
    assert indices.tolist() == [2, 4, 1, 3]  # never the item itself, at most n - 1 rows
    with pytest.raises(IndexError, match="not a row"):
        nearest_items(vectors, 5)


def test_templates() -> None:
    data = tiny_interactions()
    texts = item_texts(data.items)
    assert texts[0] == "Film 1 (1990). Genres: Action, Comedy."
    users = user_texts(data, max_items=2)
    last_two = data.chronological().query("user == 0").tail(2).iloc[::-1]
    expected = "; ".join(
        f"rated {r:g}: Film {i + 1} ({1990 + i % 10})" for i, r in zip(last_two.item, last_two.rating, strict=True)
    )
    assert users[0] == expected
    assert users[data.n_users - 1] == ""  # no history


def test_history_weights_by_hand() -> None:
    frame = pd.DataFrame({"user": [0, 0, 0], "item": [0, 1, 2], "rating": [5.0, 4.0, 2.0], "timestamp": [1, 2, 3]})
    data = Interactions(frame.astype({"rating": np.float32}), 1, 3)
    weights = history_weights(data, rating_weighted=True, half_life=1.0).toarray()[0]
    np.testing.assert_allclose(weights, [1.0 * 0.25, 0.8 * 0.5, 0.4 * 1.0])


class TestTextContent(RecommenderContract):
    def make_model(self) -> TextContent:
        return TextContent(half_life=5.0)


class TestTwoTower(RecommenderContract):
    def make_model(self) -> TwoTower:
        return TwoTower(embedding_size=8, id_embeddings=True, epochs=2, batch_size=16, seed=0)

    def make_quality_model(self) -> TwoTower:
        return TwoTower(embedding_size=8, id_embeddings=True, epochs=20, batch_size=16, learning_rate=0.01, seed=0)


class TestFineTunedText(RecommenderContract):
    def make_model(self) -> FineTunedText:
        return FineTunedText(steps=2, batch_size=4, max_length=32, seed=0)


class TestTwoTowerSoftmaxUserText(RecommenderContract):
    def make_model(self) -> TwoTower:
        return TwoTower(embedding_size=8, user_input="text", loss="softmax", epochs=2, batch_size=16, seed=0)

    def make_quality_model(self) -> TwoTower:
        return TwoTower(
            embedding_size=8, user_input="text", loss="softmax", epochs=20, batch_size=16, learning_rate=0.01, seed=0
        )


class TestBPR(RecommenderContract):
    def make_model(self) -> BPR:
        return BPR(embedding_size=8, epochs=2, batch_size=16, seed=0)

    def make_quality_model(self) -> BPR:
        return BPR(embedding_size=8, epochs=40, batch_size=16, learning_rate=0.05, seed=0)


@pytest.mark.parametrize(
    ("options", "field"),
    [({"activation": "gelu"}, "activation"), ({"loss": "hinge"}, "loss"), ({"user_input": "ids"}, "user_input")],
)
def test_two_tower_rejects_unknown_options(options: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        TwoTower(**options)


def test_bpr_loss_by_hand() -> None:
    u = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    positive = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    negative = torch.tensor([[1.0, 0.0], [0.0, 1.5]])
    # x_1 = 2 - 1 = 1, x_2 = 2 - 3 = -1; loss = -(ln sigma(1) + ln sigma(-1)) / 2
    expected = -(np.log(1 / (1 + np.exp(-1))) + np.log(1 / (1 + np.exp(1)))) / 2
    assert abs(bpr_loss(u, positive, negative).item() - expected) <= 1e-6


def test_in_batch_softmax_loss_by_hand() -> None:
    users = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    items = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    logits = (users @ items.T).numpy()
    expected = -np.mean([logits[b, b] - np.log(np.exp(logits[b]).sum()) for b in range(3)])
    loss = in_batch_softmax_loss(users, items, torch.tensor([0, 1, 2]))
    assert abs(loss.item() - expected) <= 1e-6
    torch.testing.assert_close(loss, torch.nn.functional.cross_entropy(users @ items.T, torch.arange(3)))
    # rows 0 and 2 hold the same item: each is masked out of the other's negatives
    masked = logits.copy()
    masked[0, 2] = masked[2, 0] = -np.inf
    expected = -np.mean([masked[b, b] - np.log(np.exp(masked[b]).sum()) for b in range(3)])
    assert abs(in_batch_softmax_loss(users, items, torch.tensor([5, 1, 5])).item() - expected) <= 1e-6
    # log-Q correction: logits s_bj - log q_j
    log_q = torch.log(torch.tensor([0.5, 0.25, 0.25]))
    shifted = logits - log_q.numpy()[None, :]
    expected = -np.mean([shifted[b, b] - np.log(np.exp(shifted[b]).sum()) for b in range(3)])
    assert abs(in_batch_softmax_loss(users, items, torch.tensor([0, 1, 2]), log_q).item() - expected) <= 1e-6


def test_fine_tuning_records_losses_and_seconds() -> None:
    data = tiny_interactions()
    tuned = FineTunedText(steps=2, batch_size=4, max_length=32, seed=0).fit(data)
    assert len(tuned.losses_) == 2 and all(np.isfinite(tuned.losses_))
    assert tuned.train_seconds_ > 0
    frozen = FineTunedText(steps=0).fit(data)
    assert frozen.losses_ == [] and frozen.train_seconds_ == 0.0


def test_user_without_history_scores_zero_in_text_models() -> None:
    data = tiny_interactions()
    empty_user = data.n_users - 1
    for model in (TextContent(), FineTunedText(steps=0)):
        assert torch.count_nonzero(model.fit(data).score([empty_user])) == 0
