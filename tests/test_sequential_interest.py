"""Chapter 7's models (SASRec, text SASRec, GRU4Rec, long-/short-term gate) and their losses."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from llmrec import Interactions, evaluate, leave_one_out, make_model
from llmrec.models import GRU4Rec, LongShortInterest, SASRec, TextAdapter, TextSASRec, long_short_gate
from llmrec.models._sasrec import OriginalSASRecBlock, SASRecEncoder
from llmrec.models._sequential import (
    _Network,
    full_softmax_loss,
    genre_matrix,
    length_buckets,
    length_groups,
    multitask_loss,
    normal_init,
    older_windows,
    padding_share,
    right_padded_sequences,
    sampled_bce_loss,
    sampled_softmax_loss,
    standardised_log_counts,
    text_pca_table,
    transfer_weights,
    unseen_negatives,
    unseen_softmax_loss,
)
from llmrec.testing import RecommenderContract, tiny_interactions
from llmrec.text import TextEncoder
from llmrec.transfer import sequential_transfer

SMALL = {"embedding_size": 16, "max_len": 8, "epochs": 2, "batch_size": 4, "seed": 0}
#: Long enough to find the planted cycles of the contract's quality bound.
QUALITY = {"embedding_size": 16, "max_len": 8, "epochs": 15, "batch_size": 8, "learning_rate": 1e-2, "dropout": 0.0}


class TestSASRec(RecommenderContract):
    def make_model(self) -> SASRec:
        return SASRec(num_heads=2, **SMALL)

    def make_quality_model(self) -> SASRec:
        return SASRec(num_heads=2, **QUALITY)


class TestSASRecOriginalBlock(RecommenderContract):
    """The released SASRec block with SASRec+'s initialisation (the ML-1M benchmark's variant)."""

    def make_model(self) -> SASRec:
        return SASRec(block="original", init_std=0.02, **SMALL)

    def make_quality_model(self) -> SASRec:
        return SASRec(block="original", init_std=0.02, **QUALITY)


class TestSASRecBCEWithGenres(RecommenderContract):
    def make_model(self) -> SASRec:
        return SASRec(loss="bce", genre_weight=0.5, **SMALL)

    def make_quality_model(self) -> SASRec:
        return SASRec(loss="bce", genre_weight=0.5, **QUALITY)


class TestSASRecSampledEarlyStopping(RecommenderContract):
    def make_model(self) -> SASRec:
        return SASRec(loss="sampled", num_negatives=5, patience=1, **SMALL)

    def make_quality_model(self) -> SASRec:
        return SASRec(loss="sampled", num_negatives=5, patience=3, **QUALITY)


class TestSASRecUnseenNegatives(RecommenderContract):
    def make_model(self) -> SASRec:
        return SASRec(loss="unseen", num_negatives=5, block="original", init_std=0.02, **SMALL)

    def make_quality_model(self) -> SASRec:
        return SASRec(loss="unseen", num_negatives=5, block="original", init_std=0.02, **QUALITY)


class TestGRU4Rec(RecommenderContract):
    def make_model(self) -> GRU4Rec:
        return GRU4Rec(**SMALL)

    def make_quality_model(self) -> GRU4Rec:
        return GRU4Rec(**QUALITY)


class TestLongShort(RecommenderContract):
    def make_model(self) -> LongShortInterest:
        return LongShortInterest(window=3, **SMALL)

    def make_quality_model(self) -> LongShortInterest:
        return LongShortInterest(window=3, **QUALITY)


@functools.cache
def encoder() -> TextEncoder:
    """all-MiniLM-L6-v2, loaded once for the module (no disk cache: the tiny item texts encode in milliseconds)."""
    return TextEncoder(cache=False).load()


class TestTextSASRec(RecommenderContract):
    def make_model(self) -> TextSASRec:
        return TextSASRec(text_experts=2, text_model=encoder(), **SMALL)

    def make_quality_model(self) -> TextSASRec:
        return TextSASRec(text_experts=2, text_model=encoder(), **QUALITY)


class TestCountGatedTextSASRec(RecommenderContract):
    def make_model(self) -> TextSASRec:
        return TextSASRec(text_gate="count", text_model=encoder(), **SMALL)

    def make_quality_model(self) -> TextSASRec:
        return TextSASRec(text_gate="count", text_model=encoder(), **QUALITY)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LLMREC_CACHE_DIR", str(tmp_path / "embeddings"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


# ------------------------------------------------------------------------------------------------------ losses
def test_chunked_full_softmax_matches_torch_cross_entropy() -> None:
    generator = torch.Generator().manual_seed(0)
    hidden = torch.randn(37, 8, generator=generator, requires_grad=True)
    items = torch.randn(11, 8, generator=generator, requires_grad=True)
    targets = torch.randint(0, 11, (37,), generator=generator)
    reference = F.cross_entropy(hidden @ items.T, targets)
    expected = torch.autograd.grad(reference, [hidden, items])
    ours = full_softmax_loss(hidden, items, targets, chunk_size=5)
    got = torch.autograd.grad(2.0 * ours, [hidden, items])  # the upstream gradient is applied
    torch.testing.assert_close(ours, reference, rtol=0, atol=1e-6)
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(g, 2.0 * e, rtol=0, atol=1e-6)


@pytest.mark.skipif(torch.get_num_threads() < 2, reason="the order of parallel adds only varies with threads")
def test_the_item_lookup_has_a_deterministic_gradient() -> None:
    """With 2 threads, the backward of ``table[ids]`` (index_put_ with accumulate) adds repeated ids' rows in a
    varying order: two chapter-7 runs differed by 0.002 in NDCG@10. ``_Network.hidden`` looks items up with
    ``F.embedding``, whose backward is deterministic: ten backward passes give bit-identical gradients."""
    network = _Network(1700, 64, _IdentityEncoder())
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 1700, (64, 50), generator=generator)
    upstream = torch.randn(64, 50, 64, generator=generator)
    gradients = []
    for _ in range(10):
        network.zero_grad()
        (network.hidden(ids, network.item_embedding.weight) * upstream).sum().backward()
        gradients.append(network.item_embedding.weight.grad.clone())
    assert all(torch.equal(gradients[0], g) for g in gradients[1:])


class _IdentityEncoder(nn.Module):
    def forward(self, embedded: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        return embedded


def test_bce_and_sampled_softmax_by_hand() -> None:
    hidden = torch.tensor([[1.0, 0.0]])
    items = torch.tensor([[2.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    # positive logit 2, negative logit -1: -ln s(2) - ln s(1)
    expected_bce = -math.log(1 / (1 + math.exp(-2))) - math.log(1 / (1 + math.exp(-1)))
    assert sampled_bce_loss(hidden, items, torch.tensor([0]), torch.tensor([2])).item() == pytest.approx(expected_bce)
    log_q = torch.log(torch.tensor([0.5, 0.25, 0.25]))
    # o_0 = 2 - ln .5, o_1 = 0 - ln .25, o_2 = -1 - ln .25; negatives [1, 2, 0]: item 0 is an accidental hit
    o = [2 - math.log(0.5), -math.log(0.25), -1 - math.log(0.25)]
    expected = -(o[0] - math.log(math.exp(o[0]) + math.exp(o[1]) + math.exp(o[2])))
    got = sampled_softmax_loss(hidden, items, torch.tensor([0]), torch.tensor([1, 2, 0]), log_q)
    assert got.item() == pytest.approx(expected, abs=1e-6)


def test_unseen_negatives_avoid_the_window_and_are_drawn_without_replacement() -> None:
    n_items = 10  # ids 10 (<bos>) and 11 (padding) are not items
    windows = torch.tensor([[10, 0, 1, 2, 11, 11], [10, 3, 4, 5, 6, 7], [10, 9, 11, 11, 11, 11]])
    generator = torch.Generator().manual_seed(0)
    mask = unseen_negatives(windows, n_items, 4, generator)
    assert mask.shape == (3, n_items) and mask.sum(1).tolist() == [4, 4, 4]
    assert not mask[0, :3].any() and not mask[1, 3:8].any() and not mask[2, 9]
    again = unseen_negatives(windows, n_items, 4, torch.Generator().manual_seed(0))
    assert torch.equal(mask, again)  # the seeded generator fixes the draw
    everything = unseen_negatives(windows, n_items, 50, generator)  # more than there are: all outside items
    assert everything.sum(1).tolist() == [7, 5, 9]
    # uniform: over many draws, every outside item of user 0 is chosen 4/7 of the time
    draws = torch.stack([unseen_negatives(windows[:1], n_items, 4, generator)[0] for _ in range(4000)]).float()
    assert draws[:, 3:].mean(0).sub(4 / 7).abs().max().item() < 0.03


def test_unseen_softmax_by_hand_and_against_the_concatenated_logits() -> None:
    hidden = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    items = torch.tensor([[2.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, 3.0]])
    negatives = torch.tensor([[False, False, True, True]])  # user 0's negatives: items 2 and 3
    rows, targets = torch.tensor([0, 0]), torch.tensor([0, 1])
    # row 0: logits (2, ., -1, 0); row 1: logits (., 1, 0, 3)
    expected = (-(2 - math.log(math.exp(2) + math.exp(-1) + 1)) - (1 - math.log(math.e + 1 + math.exp(3)))) / 2
    for chunk_size in (None, 1):
        assert unseen_softmax_loss(hidden, items, targets, rows, negatives, chunk_size).item() == pytest.approx(
            expected, abs=1e-6
        )
    generator = torch.Generator().manual_seed(1)
    hidden = torch.randn(23, 8, generator=generator, requires_grad=True)
    items = torch.randn(15, 8, generator=generator, requires_grad=True)
    rows = torch.randint(0, 3, (23,), generator=generator)
    windows = torch.randint(0, 15, (3, 6), generator=generator)
    targets = windows[rows, torch.randint(0, 6, (23,), generator=generator)]  # a target is in its user's window
    negatives = unseen_negatives(windows, 15, 5, generator)
    negative_ids = [torch.nonzero(negatives[u]).flatten() for u in range(3)]
    reference = torch.stack(
        [
            -torch.log_softmax(hidden[n] @ items[torch.cat([targets[n : n + 1], negative_ids[rows[n]]])].T, 0)[0]
            for n in range(23)
        ]
    ).mean()
    expected = torch.autograd.grad(reference, [hidden, items])
    ours = unseen_softmax_loss(hidden, items, targets, rows, negatives, chunk_size=4)
    got = torch.autograd.grad(ours, [hidden, items])
    torch.testing.assert_close(ours, reference, rtol=0, atol=1e-6)
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(g, e, rtol=0, atol=1e-6)
    everyone = torch.ones(3, 15, dtype=torch.bool)  # every item a negative: the full softmax
    torch.testing.assert_close(
        unseen_softmax_loss(hidden, items, targets, rows, everyone), full_softmax_loss(hidden, items, targets)
    )


def test_multitask_loss_by_hand() -> None:
    # one position, two genres: logits (0, ln 3) -> p = (1/2, 3/4); labels (1, 0)
    genre_logits = torch.tensor([[0.0, math.log(3.0)]])
    genre_targets = torch.tensor([[1.0, 0.0]])
    l_genre = (-math.log(0.5) - math.log(0.25)) / 2  # mean over the two genre labels
    got = multitask_loss(torch.tensor(1.5), genre_logits, genre_targets, genre_weight=0.4)
    assert got.item() == pytest.approx(1.5 + 0.4 * l_genre, abs=1e-6)
    assert multitask_loss(torch.tensor(1.5), genre_logits, genre_targets, 0.0).item() == 1.5


def test_genre_matrix() -> None:
    items = pd.DataFrame({"genres": [["Drama", "Action"], [], ["Drama"]]})
    matrix, names = genre_matrix(items, 3)
    assert names == ["Action", "Drama"]
    assert matrix.tolist() == [[1.0, 1.0], [0.0, 0.0], [0.0, 1.0]]


# --------------------------------------------------------------------------------------------- gate and encoders
def test_long_short_gate_by_hand() -> None:
    long, short = torch.tensor([[2.0, 0.0]]), torch.tensor([[0.0, 4.0]])
    weight, bias = torch.tensor([0.5, 0.0, 0.0, -0.25]), torch.tensor(1.0)
    user, gate = long_short_gate(long, short, weight, bias)
    g = 1 / (1 + math.exp(-(0.5 * 2 - 0.25 * 4 + 1.0)))  # s(1) = 0.7311
    assert gate.item() == pytest.approx(g)
    torch.testing.assert_close(user, torch.tensor([[2 * g, 4 * (1 - g)]]))


def test_long_short_parts_by_hand() -> None:
    encoder = LongShortEncoderForTest(window=2)
    x = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]]])
    long, short = encoder.parts(x)
    torch.testing.assert_close(long[0], torch.tensor([[1.0, 0.0], [0.5, 0.5], [1.0, 1.0]]))
    # query and key maps are the identity, no recency vectors: position 2 attends to x_2, x_1 with logits
    # (x_2 . x_2, x_2 . x_1) / sqrt(2) = (8, 2) / sqrt(2); position 0 sees only x_0
    a = torch.softmax(torch.tensor([8.0, 2.0]) / math.sqrt(2), 0)
    torch.testing.assert_close(short[0, 2], a[0] * x[0, 2] + a[1] * x[0, 1])
    torch.testing.assert_close(short[0, 0], x[0, 0])


def LongShortEncoderForTest(window: int):  # noqa: N802 - a factory named after what it builds
    from llmrec.models._long_short import LongShortEncoder

    encoder = LongShortEncoder(2, window, dropout=0.0).eval()
    with torch.no_grad():
        encoder.query.weight.copy_(torch.eye(2))
        encoder.key.weight.copy_(torch.eye(2))
    return encoder


def test_sasrec_block_matches_a_hand_written_pre_ln_block() -> None:
    """The encoder's blocks are torch's; check the composition (scale, positions, causal mask, final norm)."""
    torch.manual_seed(0)
    encoder = SASRecEncoder(8, num_layers=1, num_heads=2, feedforward_size=8, max_len=5, dropout=0.0).eval()
    x = torch.randn(2, 4, 8)
    layer = encoder.layers[0]
    h = x * math.sqrt(8) + encoder.positions.weight[:4]
    z = layer.norm1(h)
    causal = torch.triu(torch.ones(4, 4, dtype=torch.bool), 1)
    attended, _ = layer.self_attn(z, z, z, attn_mask=causal, need_weights=False)
    a = h + attended
    expected = encoder.norm(a + layer.linear2(torch.relu(layer.linear1(layer.norm2(a)))))
    torch.testing.assert_close(encoder(x), expected, rtol=1e-5, atol=1e-5)
    # causal: changing the last position changes no earlier output
    y = x.clone()
    y[:, 3] += 1.0
    torch.testing.assert_close(encoder(y)[:, :3], encoder(x)[:, :3])


def test_original_sasrec_block_by_hand() -> None:
    """q = LN_1(h), a = q + MHA(q, h, h), b = LN_2(a), h' = b + FFN(b); causal."""
    torch.manual_seed(0)
    encoder = SASRecEncoder(8, 1, 2, 8, 5, 0.0, block="original").eval()
    layer = encoder.layers[0]
    assert isinstance(layer, OriginalSASRecBlock)
    x = torch.randn(2, 4, 8)
    h = x * math.sqrt(8) + encoder.positions.weight[:4]
    q = layer.norm1(h)
    causal = torch.triu(torch.ones(4, 4, dtype=torch.bool), 1)
    attended, _ = layer.self_attn(q, h, h, attn_mask=causal, need_weights=False)  # keys and values: raw h
    b = layer.norm2(q + attended)
    expected = encoder.norm(b + layer.linear2(torch.relu(layer.linear1(b))))
    torch.testing.assert_close(encoder(x), expected, rtol=1e-5, atol=1e-5)
    y = x.clone()
    y[:, 3] += 1.0
    torch.testing.assert_close(encoder(y)[:, :3], encoder(x)[:, :3])
    assert encoder.attention_maps(x[:1]).shape == (1, 2, 4, 4)


def test_normal_init_sets_matrices_biases_and_norms() -> None:
    torch.manual_seed(0)
    network = _Network(3000, 64, SASRecEncoder(64, 2, 1, 64, 200, 0.1))
    normal_init(network, 0.02)
    table = network.item_embedding.weight
    assert abs(table.std().item() - 0.02) < 0.001 and abs(network.encoder.positions.weight.std().item() - 0.02) < 0.002
    layer = network.encoder.layers[0]
    assert abs(layer.self_attn.in_proj_weight.std().item() - 0.02) < 0.002
    assert torch.all(layer.self_attn.in_proj_bias == 0) and torch.all(layer.linear1.bias == 0)
    assert torch.all(layer.norm1.weight == 1) and torch.all(layer.norm1.bias == 0)
    gru = nn.GRU(4, 4)
    normal_init(gru, 0.5)
    assert torch.all(gru.bias_ih_l0 == 0) and gru.weight_ih_l0.std() > 0.2


def test_normal_init_can_leave_attention_inputs_at_xavier_as_sasrec_plus_does() -> None:
    """SASRec+'s ``apply`` never reaches MultiheadAttention's packed in_proj_weight: it keeps the Xavier-uniform
    draw, bound sqrt(6 / (d + 3d)), so standard deviation sqrt(2 / (4 d)) = 0.0884 at d = 64."""
    torch.manual_seed(0)
    network = _Network(3000, 64, SASRecEncoder(64, 2, 1, 64, 200, 0.1, block="original"))
    normal_init(network, 0.02, keep_attention_inputs=True)
    attention = network.encoder.layers[0].self_attn
    bound = (6 / (64 + 3 * 64)) ** 0.5
    assert attention.in_proj_weight.abs().max() <= bound
    assert abs(attention.in_proj_weight.std().item() - (2 / (4 * 64)) ** 0.5) < 0.003
    assert abs(attention.out_proj.weight.std().item() - 0.02) < 0.002  # a Linear layer: N(0, 0.02^2)
    assert abs(network.item_embedding.weight.std().item() - 0.02) < 0.001
    model = SASRec(init_std=0.02, attention_init="xavier", block="original", epochs=1, seed=0)
    assert model._xavier_attention_inputs() and not SASRec(init_std=0.02)._xavier_attention_inputs()
    with pytest.raises(ValueError, match="attention_init"):
        SASRec(attention_init="uniform")


def test_text_adapter_mixture_by_hand() -> None:
    adapter = TextAdapter(2, 1, experts=2)
    with torch.no_grad():
        adapter.centres.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.0]]))
        adapter.projections.copy_(torch.tensor([[[1.0], [1.0]], [[2.0], [0.0]]]))
        adapter.gate.weight.copy_(torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]]))
    x = torch.tensor([[1.0, 2.0]])
    # gate logits (0, ln 3) -> weights (1/4, 3/4); experts: (0, 2).(1, 1) = 2 and (1, 2).(2, 0) = 2
    assert adapter(x).item() == pytest.approx(0.25 * 2 + 0.75 * 2)


# ----------------------------------------------------------------------------------------------- model behaviour
def cycles(n_users: int = 30, n_items: int = 12, cycle: int = 4, min_length: int = 7, seed: int = 0) -> Interactions:
    """Users walk a fixed cycle 0 -> 1 -> 2 -> 3 -> 0 ... from the start ``u % cycle``, for ``min_length + u % 5``
    events. One event at a random place (neither the first nor the last) is a noise film (4 ...), after which the
    walk goes on where it left off: the next film is the cycle's at every step, noise or not."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        length = min_length + u % 5
        noise_at, noise_item = int(rng.integers(1, length - 1)), cycle + int(rng.integers(n_items - cycle))
        position = u % cycle
        for t in range(length):
            if t == noise_at:
                rows.append((u, noise_item, t))
                continue
            rows.append((u, position, t))
            position = (position + 1) % cycle
    frame = pd.DataFrame(rows, columns=["user", "item", "timestamp"]).assign(rating=np.float32(4.0))
    return Interactions(frame[["user", "item", "rating", "timestamp"]], n_users, n_items)


PLANTED = {"embedding_size": 32, "max_len": 10, "batch_size": 8, "dropout": 0.0, "learning_rate": 1e-2, "seed": 0}


@pytest.mark.parametrize(
    "model",
    [
        SASRec(epochs=60, **PLANTED),
        SASRec(loss="bce", epochs=60, **PLANTED),
        GRU4Rec(epochs=40, **PLANTED),
        LongShortInterest(epochs=60, **PLANTED),
    ],
    ids=["sasrec-ce", "sasrec-bce", "gru4rec", "long-short"],
)
def test_planted_cycle_next_item_ranks_first(model) -> None:
    """Histories of 12 to 16 events, longer than ``max_len``, so every position of the window is trained as often as
    the last one, which is scored. (With 7 to 11 events and the noise film at a fixed step, the last positions were
    seldom trained and SASRec put a noise film first for some users in 3 of 6 seeds; the test passed by its seed.)
    Measured on an Intel Cascade Lake, seeds 0-7: every model ranks the next film first for every user in every
    seed but SASRec-CE's seed 4; at seed 0 the smallest margin (next film's score minus the best other) is 0.8."""
    data = cycles(min_length=12)
    model.fit(data)
    indptr, items = data.sequences()
    last = items[indptr[1:] - 1]
    scores = model.score(torch.arange(data.n_users))
    assert scores.argmax(dim=1).tolist() == ((last + 1) % 4).tolist()
    assert model.history_.loss[-1] < model.history_.loss[0]


@pytest.mark.parametrize(
    "make",
    [
        lambda **o: SASRec(block="original", attention_dropout=0.0, **o),
        lambda **o: SASRec(loss="unseen", num_negatives=3, **o),
        lambda **o: GRU4Rec(**o),
        lambda **o: LongShortInterest(window=3, **o),
    ],
    ids=["sasrec-ce", "sasrec-unseen", "gru4rec", "long-short"],
)
def test_encoding_in_length_groups_changes_nothing_but_the_padding(make) -> None:
    """``group_size``: users sorted by history length and encoded in groups, each only as wide as its longest
    history. Causal encoders on right-padded rows: the same losses and scores as one full-width pass."""
    data = cycles()  # histories of 7 to 11 events, truncated at 9 (max_len 10): groups of different widths
    params = {"embedding_size": 16, "max_len": 10, "epochs": 3, "batch_size": 8, "dropout": 0.0, "seed": 3}
    whole = make(**params).fit(data)
    grouped = make(group_size=3, **params).fit(data)
    groups = grouped._groups(torch.arange(8))
    assert [len(g) for g in groups] == [3, 3, 2]
    assert torch.equal(grouped.lengths_[torch.cat(groups)], grouped.lengths_[:8].sort().values)  # by length
    assert grouped.history_.loss == pytest.approx(whole.history_.loss, abs=1e-5)
    users = torch.arange(data.n_users)
    torch.testing.assert_close(grouped.score(users), whole.score(users), atol=1e-4, rtol=0)


def test_length_groups_and_padding_share_by_hand() -> None:
    lengths = torch.tensor([10, 1, 3, 2])
    assert [g.tolist() for g in length_groups(lengths, None)] == [[0, 1, 2, 3]]
    assert [g.tolist() for g in length_groups(lengths, 2)] == [[1, 3], [2, 0]]
    # one batch: 4 rows x width 10 = 40 positions for 16 real ones; in groups (1, 2) and (3, 10): 2*2 + 2*10 = 24
    assert padding_share(lengths, [torch.arange(4)]) == pytest.approx(1 - 16 / 40)
    assert padding_share(lengths, [torch.arange(4)], group_size=2) == pytest.approx(1 - 16 / 24)
    # two batches (0, 1) and (2, 3): 2*10 + 2*3 = 26
    assert padding_share(lengths, [torch.tensor([0, 1]), torch.tensor([2, 3])]) == pytest.approx(1 - 16 / 26)


def test_text_weight_zero_reproduces_id_only_sasrec() -> None:
    data = tiny_interactions()
    params = {"embedding_size": 16, "max_len": 8, "epochs": 3, "batch_size": 4, "seed": 1}
    id_only = SASRec(**params).fit(data)
    with_text = TextSASRec(text_weight=0.0, text_model=encoder(), **params).fit(data)
    assert with_text.network_.text_adapter is not None  # the text path ran, multiplied by 0
    users = torch.arange(data.n_users)
    assert torch.equal(id_only.score(users), with_text.score(users))
    assert id_only.history_.loss == with_text.history_.loss
    changed = TextSASRec(text_weight=1.0, text_model=encoder(), **params).fit(data).score(users)
    assert not torch.equal(changed, id_only.score(users))


def test_count_gate_mixes_ids_and_text_by_the_items_training_count() -> None:
    """``text_gate="count"``: item rows ``(1 - g_j) id_j + g_j A(x_j)``, ``g_j = sigmoid(a + b z_j)`` with ``z_j``
    the standardised log count, ``a = 0`` and ``b = -1`` at the start; nothing else changes, and ``(a, b)`` learn."""
    # log1p of (0, e - 1, e^2 - 1) = (0, 1, 2): mean 1, population sd sqrt(2/3)
    z = standardised_log_counts(np.array([0.0, math.e - 1, math.e**2 - 1]))
    assert z.tolist() == pytest.approx([-math.sqrt(1.5), 0.0, math.sqrt(1.5)], abs=1e-6)
    assert standardised_log_counts(np.array([4, 4, 4])).tolist() == [0.0, 0.0, 0.0]
    data = tiny_interactions()
    params = {"embedding_size": 8, "max_len": 8, "epochs": 3, "batch_size": 4, "seed": 1, "text_model": encoder()}
    added, gated = TextSASRec(**params), TextSASRec(text_gate="count", **params)
    torch.manual_seed(0)
    added_network = added._build(data)
    torch.manual_seed(0)
    network = gated._build(data)
    gated_parameters = dict(network.named_parameters())
    assert set(gated_parameters) - set(dict(added_network.named_parameters())) == {"text_gate"}
    for name, value in added_network.named_parameters():
        assert torch.equal(value, gated_parameters[name]), name  # the same draws: the gate adds two constants
    assert network.text_gate.tolist() == [0.0, -1.0] and network.text_gate.requires_grad
    with torch.no_grad():
        ids, text = network.item_embedding.weight, network.text_adapter(network.text_vectors)
        gate = torch.sigmoid(-standardised_log_counts(data.item_counts()))[:, None]
        table = network.item_table()
    n = data.n_items
    assert torch.allclose(table[:n], (1 - gate) * ids[:n] + gate * text, atol=1e-7)
    assert torch.equal(table[n:], ids[n:])  # <bos>, <pad>: ids only
    counts = data.item_counts()
    rarest, commonest = int(np.argmin(counts)), int(np.argmax(counts))
    assert gate[rarest] > 0.5 > gate[commonest]  # a rare film starts mostly text
    assert torch.equal(network.item_text_gates().detach(), gate[:, 0])
    assert added_network.item_text_gates() is None
    fitted = TextSASRec(text_gate="count", **params).fit(data)
    assert not torch.equal(fitted.network_.text_gate.detach(), torch.tensor([0.0, -1.0]))  # learned
    with pytest.raises(ValueError, match="text_gate"):
        TextSASRec(text_gate="popularity")
    with pytest.raises(ValueError, match="text_weight"):
        SASRec(text_gate="count")


def test_text_pca_table_is_scikit_learns_pca_rescaled() -> None:
    from sklearn.decomposition import PCA

    vectors = torch.from_numpy(np.random.default_rng(5).normal(size=(40, 9)) * np.arange(1, 10))
    table = text_pca_table(vectors, 3, std=0.02)
    reference = PCA(n_components=3, svd_solver="full").fit_transform(vectors.numpy())  # same sign convention
    np.testing.assert_allclose(table.double().numpy() * reference.std() / 0.02, reference, rtol=1e-5, atol=1e-9)
    assert float(table.std(correction=0)) == pytest.approx(0.02, rel=1e-5) and table.dtype == torch.float32
    # by hand: (3, 4) and (-3, -4) lie on the direction (0.6, 0.8) (its larger loading positive), scores +5 and
    # -5, whose standard deviation is 5; rescaled to std 2: +2 and -2
    line = torch.tensor([[3.0, 4.0], [-3.0, -4.0]])
    assert text_pca_table(line, 1, std=2.0).squeeze(1).tolist() == pytest.approx([2.0, -2.0])
    # whitened: scikit-learn's columns have sample variance 1, these population standard deviation 0.02
    whitened = text_pca_table(vectors, 3, std=0.02, whiten=True).double().numpy()
    reference = PCA(n_components=3, svd_solver="full", whiten=True).fit_transform(vectors.numpy())
    np.testing.assert_allclose(whitened, reference * 0.02 * math.sqrt(40 / 39), rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(whitened.std(0), [0.02] * 3, rtol=1e-5)
    with pytest.raises(ValueError, match="components"):
        text_pca_table(vectors, 10, std=0.02)
    with pytest.raises(ValueError, match="std"):
        text_pca_table(vectors, 3, std=0.0)


def test_text_initialised_item_table_starts_from_the_text_and_nothing_else_moves() -> None:
    """``item_init="text"``: the item rows start as :func:`text_pca_table` of the item texts; the <bos> and
    <pad> rows and every other parameter are drawn exactly as with the random start."""
    data = tiny_interactions()  # 15 items: a width of 8 components
    params = {"embedding_size": 8, "max_len": 8, "epochs": 2, "batch_size": 4, "init_std": 0.02, "seed": 1}
    random_start, text_start = SASRec(**params), SASRec(item_init="text", text_model=encoder(), **params)
    torch.manual_seed(0)
    random_network = random_start._build(data)
    torch.manual_seed(0)
    text_network = text_start._build(data)
    vectors = text_start._text_vectors(data)
    expected = text_pca_table(vectors, 8, std=0.02)
    assert torch.equal(text_network.item_embedding.weight[: data.n_items], expected)
    for (name, a), (_, b) in zip(random_network.named_parameters(), text_network.named_parameters(), strict=True):
        if name == "item_embedding.weight":
            assert torch.equal(a[data.n_items :], b[data.n_items :])
        else:
            assert torch.equal(a, b), name
    assert text_network.text_adapter is None  # text starts the table; it is not an input afterwards
    users = torch.arange(data.n_users)
    assert not torch.equal(text_start.fit(data).score(users), random_start.fit(data).score(users))
    whitened = SASRec(item_init="text-whitened", text_model=encoder(), **params)
    torch.manual_seed(0)
    table = whitened._build(data).item_embedding.weight[: data.n_items]
    assert torch.equal(table, text_pca_table(vectors, 8, std=0.02, whiten=True))
    with pytest.raises(ValueError, match="item_init"):
        SASRec(item_init="pca")


def test_early_stopping_keeps_the_best_epoch_and_scores_with_the_full_history() -> None:
    data = tiny_interactions()
    model = SASRec(embedding_size=16, max_len=8, epochs=30, batch_size=4, patience=2, seed=0).fit(data)
    history = model.history_
    assert len(history.validation) == len(history.loss) == len(history.seconds)
    assert history.best_epoch == int(np.argmax(history.validation)) + 1  # 1-based
    assert history.stopped_early == (len(history.loss) < 30)
    assert torch.equal(model.lengths_, torch.from_numpy(np.minimum(data.user_counts(), 7) + 1))


def test_holdout_validated_keeps_the_other_users_last_events_for_training() -> None:
    data = tiny_interactions()
    params = dict(embedding_size=16, max_len=8, epochs=2, batch_size=4, patience=2, seed=0)
    with_two = int((data.user_counts() >= 2).sum())
    assert SASRec(**params).fit(data).held_out_events_ == with_two
    assert SASRec(validation_users=2, **params).fit(data).held_out_events_ == with_two  # validated on 2, all held
    model = SASRec(validation_users=2, holdout="validated", **params).fit(data)
    assert model.held_out_events_ == 2
    assert torch.equal(model.lengths_, torch.from_numpy(np.minimum(data.user_counts(), 7) + 1))  # scored on all
    with pytest.raises(ValueError, match="holdout"):
        SASRec(holdout="none")


def test_length_buckets_cover_every_row_once_and_group_lengths() -> None:
    lengths = torch.tensor([5, 1, 9, 3, 7, 2, 8, 4])
    batches = length_buckets(lengths, 2, torch.Generator().manual_seed(0), bucket=True, chunk_batches=4)
    assert sorted(torch.cat(batches).tolist()) == list(range(8))
    assert all(len(b) == 2 for b in batches)
    spread = sum(int(lengths[b].max() - lengths[b].min()) for b in batches)
    assert spread == 5  # sorted pairs (1,2) (3,4) (5,7) (8,9): 1 + 1 + 2 + 1


def test_genre_head_predicts_probabilities() -> None:
    data = tiny_interactions()
    model = SASRec(genre_weight=1.0, **SMALL).fit(data)
    probabilities = model.predict_genres(torch.arange(3))
    assert probabilities.shape == (3, len(model.genre_names_)) and model.genre_names_[0] == "Action"
    assert ((probabilities > 0) & (probabilities < 1)).all()
    with pytest.raises(RuntimeError, match="genre_weight"):
        SASRec(**SMALL).fit(data).predict_genres(torch.arange(3))


def test_long_short_gates_and_attention_maps() -> None:
    data = tiny_interactions()
    gates = LongShortInterest(**SMALL).fit(data).gates(torch.arange(data.n_users))
    assert gates.shape == (data.n_users,) and ((gates > 0) & (gates < 1)).all()
    maps = SASRec(num_heads=2, **SMALL).fit(data).attention_maps(2)
    assert maps.shape == (2, 2, 7, 7)
    torch.testing.assert_close(maps.sum(-1), torch.ones(2, 2, 7))
    assert torch.equal(maps.triu(1), torch.zeros_like(maps))  # causal


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("sasrec", {"max_len": 1}, "max_len"),
        ("sasrec", {"epochs": 0}, "epochs"),
        ("sasrec", {"loss": "hinge"}, "loss"),
        ("sasrec", {"embedding_size": 6, "num_heads": 4}, "num_heads"),
        ("sasrec", {"loss": "sampled", "num_negatives": 0}, "num_negatives"),
        ("sasrec", {"loss": "unseen", "num_negatives": 0}, "num_negatives"),
        ("sasrec", {"patience": 0}, "patience"),
        ("sasrec", {"block": "post-ln"}, "block"),
        ("sasrec", {"init_std": 0.0}, "init_std"),
        ("sasrec", {"group_size": 0}, "group_size"),
        ("gru4rec", {"num_layers": 0}, "num_layers"),
        ("long-short", {"window": 0}, "window"),
        ("long-short", {"mode": "medium"}, "mode"),
        ("sasrec-text", {"text_experts": 0}, "text_experts"),
    ],
)
def test_parameters_that_make_training_a_no_op_are_refused(name, params, message) -> None:
    with pytest.raises(ValueError, match=message):
        make_model(name, **params)


def test_registered_names() -> None:
    assert type(make_model("sasrec")) is SASRec and make_model("sasrec").loss == "ce"
    assert type(make_model("sasrec-text")) is TextSASRec and make_model("sasrec-text").text_weight == 1.0
    assert type(make_model("gru4rec")) is GRU4Rec and type(make_model("long-short")) is LongShortInterest


def test_transformer_layer_is_the_library_block() -> None:
    encoder = SASRecEncoder(8, 2, 1, 8, 5, 0.1)
    assert all(isinstance(layer, nn.TransformerEncoderLayer) and layer.norm_first for layer in encoder.layers)


# ------------------------------------------------------------------------------------------------------ transfer
def renumbered(data: Interactions, new_id: np.ndarray, users: int) -> Interactions:
    """The first ``users`` users of ``data`` on a platform whose item ``new_id[j]`` is ``data``'s item ``j``."""
    frame = data.frame[data.frame["user"] < users].assign(item=lambda f: new_id[f["item"].to_numpy()])
    return Interactions(frame.reset_index(drop=True), users, len(new_id))


def test_transfer_copies_the_encoder_and_the_matched_item_rows() -> None:
    source = SASRec(**{**SMALL, "max_len": 10}).fit(cycles())
    item_map = np.array([2, -1, 0, 11, 5, -1], dtype=np.int64)  # target item j is source item item_map[j]
    target = SASRec(**SMALL)  # max_len 8 < 10: the first 8 learned positions are taken
    network = target._build(tiny_interactions(n_items=6, per_user=4))
    before = network.item_embedding.weight.detach().clone()
    copied = transfer_weights(network, source.network_, item_map, 6, 12)
    assert copied == 4
    table, given = network.item_embedding.weight, source.network_.item_embedding.weight
    for j, s in enumerate(item_map):
        assert torch.equal(table[j], given[s] if s >= 0 else before[j])
    assert torch.equal(table[6:8], given[12:14])  # <bos>, <pad>
    assert torch.equal(network.encoder.positions.weight, source.network_.encoder.positions.weight[:8])
    for name, value in network.encoder.state_dict().items():
        if name != "positions.weight":
            assert torch.equal(value, source.network_.encoder.state_dict()[name]), name


def test_a_transferred_model_carries_a_planted_pattern_to_a_new_platform() -> None:
    source = SASRec(embedding_size=32, max_len=10, epochs=40, batch_size=8, dropout=0.0, learning_rate=1e-2, seed=0)
    source.fit(cycles(min_length=12))  # longer than max_len, as in test_planted_cycle_next_item_ranks_first
    new_id = np.random.default_rng(0).permutation(12)  # the same films under other ids
    target_data = renumbered(cycles(min_length=12), new_id, users=6)
    item_map = np.argsort(new_id)  # target item new_id[j] is source item j
    # barely trained on the target (one epoch at a tiny rate): what it ranks comes from the source
    few = {"embedding_size": 32, "max_len": 10, "epochs": 1, "batch_size": 8, "learning_rate": 1e-6, "seed": 0}
    transferred = SASRec(init_from=source, item_map=item_map, **few).fit(target_data)
    alone = SASRec(**few).fit(target_data)
    indptr, items = target_data.sequences()
    expected = new_id[(item_map[items[indptr[1:] - 1]] + 1) % 4]  # the next film of the cycle, in target ids
    users = torch.arange(target_data.n_users)
    assert transferred.score(users).argmax(dim=1).tolist() == expected.tolist()
    assert alone.score(users).argmax(dim=1).tolist() != expected.tolist()
    assert transferred.transferred_items_ == 12


def test_sequential_transfer_fits_three_ways_and_reuses_a_given_target_only_fit() -> None:
    """``llmrec.transfer.sequential_transfer`` (chapter 8's notebook and ``scripts/benchmark_transfer.py``): the
    fine-tuned and as-is fits are those of SASRec with ``init_from``; a target-only evaluation passed in is kept."""
    source = SASRec(**SMALL).fit(cycles())
    target = renumbered(cycles(), np.arange(12), users=6)
    split = leave_one_out(target)
    film_map = np.arange(12)
    fits = sequential_transfer(source, split, film_map, SMALL)
    fit_data = split.fit_data("test")
    by_hand = {
        "alone": SASRec(**SMALL).fit(fit_data),
        "started": SASRec(**SMALL, init_from=source, item_map=film_map).fit(fit_data),
        "as_is": SASRec(**SMALL | {"epochs": 0}, init_from=source, item_map=film_map).fit(fit_data),
    }
    for name, model in by_hand.items():
        expected = evaluate(model, split).per_user
        pd.testing.assert_frame_equal(getattr(fits, name).per_user, expected)
    again = sequential_transfer(source, split, film_map, SMALL, alone=fits.started)
    assert again.alone is fits.started
    assert fits.started_model.history_.epochs == SMALL["epochs"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"item_map": np.zeros(5, dtype=np.int64)}, "go together"),
        ({"init_from": SASRec(**SMALL), "item_map": np.zeros(5, dtype=np.int64)}, "fitted SASRec"),
    ],
)
def test_transfer_options_are_checked(options, message) -> None:
    with pytest.raises(ValueError, match=message):
        SASRec(**SMALL, **options)


def test_a_wrong_item_map_or_architecture_is_refused() -> None:
    source = SASRec(**SMALL).fit(cycles())
    data = tiny_interactions(n_items=6, per_user=4)
    with pytest.raises(ValueError, match="one entry per item"):
        SASRec(**SMALL, init_from=source, item_map=np.zeros(4, dtype=np.int64)).fit(data)
    with pytest.raises(ValueError, match="must lie in -1..11"):
        SASRec(**SMALL, init_from=source, item_map=np.full(6, 12, dtype=np.int64)).fit(data)
    with pytest.raises(ValueError, match="fitted SASRec"):
        SASRec(**SMALL, init_from=GRU4Rec(**SMALL).fit(cycles()), item_map=np.zeros(5, dtype=np.int64))
    wider = SASRec(**{**SMALL, "num_layers": 3}).fit(cycles())
    with pytest.raises(ValueError, match="the source has parameters this model lacks"):
        SASRec(**SMALL, init_from=wider, item_map=np.zeros(6, dtype=np.int64)).fit(data)


def test_zero_epochs_uses_the_transferred_model_as_it_is() -> None:
    source = SASRec(**SMALL).fit(cycles())
    as_is = SASRec(**{**SMALL, "epochs": 0}, init_from=source, item_map=np.arange(12)).fit(cycles())
    users = torch.arange(cycles().n_users)
    assert torch.equal(as_is.score(users), source.score(users))  # same weights, same histories
    assert as_is.history_.epochs == 0
    with pytest.raises(ValueError, match="only a model with init_from may use 0"):
        SASRec(**{**SMALL, "epochs": 0})


def test_older_windows_make_every_event_a_target_once() -> None:
    indptr, items = np.array([0, 8, 10, 10]), np.arange(10)
    rows, lengths = older_windows(indptr, items, max_len=4, bos=100, pad=101)
    # user 0 (events 0..7): the latest window [bos, 5, 6, 7] predicts 5, 6, 7; the older events 0..4 come in
    # [4 after 1, 2, 3]: the row [1, 2, 3, 4] predicts 2, 3, 4, then the oldest [bos, 0, 1] predicts 0 and 1
    assert rows.tolist() == [[1, 2, 3, 4], [100, 0, 1, 101]] and lengths.tolist() == [4, 3]
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 30, size=20)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    items = rng.integers(0, 50, size=indptr[-1])
    for max_len in (2, 5, 11, 40):
        latest = right_padded_sequences(indptr, items, max_len, bos=50, pad=51)
        rows, lengths = older_windows(indptr, items, max_len, bos=50, pad=51)
        assert ((rows == 51).sum(1) == max_len - lengths).all() and (lengths >= 2).all()
        targets = np.concatenate([latest[:, 1:][latest[:, 1:] != 51], rows[:, 1:][rows[:, 1:] != 51]])
        assert np.array_equal(np.sort(targets), np.sort(items))  # every event a target exactly once
    assert older_windows(np.array([0, 3]), np.arange(3), 4, 100, 101)[0].shape == (0, 4)


def test_windows_all_trains_on_every_event_and_changes_nothing_when_histories_fit() -> None:
    data = tiny_interactions()
    longest = int(data.user_counts().max())
    fits = dict(SMALL, max_len=longest + 1)
    torch.testing.assert_close(
        SASRec(windows="all", **fits).fit(data).score(torch.arange(data.n_users)),
        SASRec(**fits).fit(data).score(torch.arange(data.n_users)),
        rtol=0,
        atol=0,
    )
    short = dict(SMALL, max_len=3)
    every = SASRec(windows="all", **short).fit(data)
    latest = SASRec(**short).fit(data)
    assert every.training_targets_ == len(data.frame) > latest.training_targets_
    assert latest.training_targets_ == int(np.minimum(data.user_counts(), 2).sum())
    assert torch.equal(every.lengths_, latest.lengths_) and not hasattr(every, "train_sequences_")
    assert torch.isfinite(every.score(torch.arange(data.n_users))).all()
    with pytest.raises(ValueError, match="windows"):
        SASRec(windows="some")
