"""Chapter 8: transfer splits, the title matcher, CMF, EMCDR, LightGCN and demographic popularity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

from llmrec import Interactions
from llmrec.models import CMF, EMCDR, DemographicPopular, LeastSquaresMF, LightGCN
from llmrec.models._cmf import squared_error
from llmrec.models._demographic import age_group, demographic_groups
from llmrec.models._lightgcn import join_domains, normalised_adjacency, propagate
from llmrec.split import (
    domain_split,
    genre_domains,
    hide_history,
    keep_first,
    leave_one_out,
    sample_users,
    shrink_split,
)
from llmrec.testing import RecommenderContract, planted_interactions, tiny_interactions
from llmrec.transfer import fit_linear_map, fit_mlp_map, item_map, match_titles, normalise_title


def hand_data() -> Interactions:
    """User 0: items 0,1,2,3 at t=1..4 (file order 3,0,1,2 by time); user 1: items 4,5 at t=5,5 (a tie); user 2: -."""
    frame = pd.DataFrame(
        {
            "user": [0, 0, 0, 0, 1, 1],
            "item": [1, 2, 3, 0, 4, 5],
            "rating": [5.0] * 6,
            "timestamp": [2, 3, 4, 1, 5, 5],
        }
    )
    items = pd.DataFrame(
        {
            "title": list("abcdef"),
            "year": [1990] * 6,
            "genres": [["Action"], ["Comedy"], ["Action", "Drama"], ["Drama"], ["Comedy"], ["War"]],
        }
    ).rename_axis("item")
    return Interactions(frame, 3, 6, items)


# ------------------------------------------------------------------------------------------------- splits
def test_keep_first_k_and_fraction_by_time() -> None:
    data = hand_data()
    assert sorted(keep_first(data, k=2).frame["item"]) == [0, 1, 4, 5]  # user 0's two earliest: items 0 (t=1), 1
    assert sorted(keep_first(data, k=1).frame["item"]) == [0, 4]  # tie at t=5: file order decides
    # ceil(0.5 * 4) = 2 for user 0, ceil(0.5 * 2) = 1 for user 1; ceil(0.1 * n) floors at one event
    assert sorted(keep_first(data, fraction=0.5).frame["item"]) == [0, 1, 4]
    assert sorted(keep_first(data, fraction=0.1).frame["item"]) == [0, 4]
    assert sorted(keep_first(data, k=0, users=[1]).frame["item"]) == [0, 1, 2, 3]
    # the latest events instead: user 0's last two are items 2 (t=3) and 3 (t=4); of user 1's tie the later row
    assert sorted(keep_first(data, k=2, latest=True).frame["item"]) == [2, 3, 4, 5]
    assert sorted(keep_first(data, k=1, latest=True).frame["item"]) == [3, 5]
    assert sorted(keep_first(data, fraction=0.5, latest=True).frame["item"]) == [2, 3, 5]
    with pytest.raises(ValueError, match="exactly one"):
        keep_first(data)
    with pytest.raises(ValueError, match="fraction"):
        keep_first(data, fraction=1.5)


def test_shrink_split_keeps_the_test_targets() -> None:
    data = tiny_interactions()
    split = leave_one_out(data)
    shrunk = shrink_split(split, fraction=0.25)
    assert shrunk.test.frame.equals(split.test.frame)
    assert len(shrunk.validation) == 0
    # 6 events: 4 fitted (train + validation) per user -> ceil(0.25 * 5)... the fitted data has 5 events per user
    assert (shrunk.fit_data("test").user_counts()[:-1] == 2).all()  # ceil(0.25 * 5) = 2
    assert (shrink_split(split, k=3).fit_data("test").user_counts()[:-1] == 3).all()
    latest = shrink_split(split, fraction=0.25, latest=True)
    assert latest.test.frame.equals(split.test.frame) and "last 25%" in latest.name
    fitted = split.fit_data("test").frame
    last_two = fitted.sort_values(["user", "timestamp"]).groupby("user").tail(2)
    assert sorted(map(tuple, latest.fit_data("test").frame[["user", "item"]].to_numpy())) == sorted(
        map(tuple, last_two[["user", "item"]].to_numpy())
    )


def test_genre_domains_and_domain_split() -> None:
    data = hand_data()
    is_target = genre_domains(data.items, ["Action", "War"])
    assert is_target.tolist() == [True, False, True, False, False, True]  # "any genre in the set" rule
    source, target, source_items, target_items = domain_split(data, is_target)
    assert source_items.tolist() == [1, 3, 4] and target_items.tolist() == [0, 2, 5]
    assert source.n_users == target.n_users == 3
    assert sorted(zip(target.frame["user"], target_items[target.frame["item"]], strict=True)) == [
        (0, 0),
        (0, 2),
        (1, 5),
    ]
    assert len(source) + len(target) == len(data)
    assert target.items["title"].tolist() == ["a", "c", "f"]
    with pytest.raises(ValueError, match="no item has genre"):
        genre_domains(data.items, ["Western"])


def test_hide_history_and_sample_users() -> None:
    data = hand_data()
    split = hide_history(data, users=[0], keep=1, targets_from=2)
    assert sorted(split.train.frame["item"]) == [0, 4, 5]  # user 0 keeps its first event only
    assert sorted(split.test.frame["item"]) == [2, 3]  # positions 2 and 3; position 1 (item 1) is dropped
    cold = hide_history(data, users=[0, 1])
    assert len(cold.train) == 0 and len(cold.test) == 6
    users = sample_users(tiny_interactions(), 0.5, min_events=1, seed=1)
    assert len(users) == 6 and (np.diff(users) > 0).all() and users.max() < 11  # user 11 has no events
    assert np.array_equal(users, sample_users(tiny_interactions(), 0.5, min_events=1, seed=1))


# ------------------------------------------------------------------------------------------------- titles
def test_normalise_title() -> None:
    assert normalise_title("Godfather, The") == "the godfather"
    assert normalise_title("Usual Suspects, The") == normalise_title("The usual suspects")
    assert normalise_title("White Balloon, The (Badkonake Sefid )", keep_alias=False) == "the white balloon"
    assert normalise_title("Postino, Il (The Postman)") == "il postino the postman"
    assert normalise_title("Á köldum klaka") == "a koldum klaka"
    assert normalise_title("Appartement, L'") == "lappartement"  # article glued on, then the apostrophe dropped


def test_match_titles_by_rules() -> None:
    source = pd.DataFrame(
        {
            "title": [
                "Godfather, The",
                "White Balloon, The (Badkonake Sefid )",
                "Boat, The (Das Boot)",
                "Heat",
                "Heat",
                "Drunks",
            ],
            "year": [1972, 1995, 1981, 1995, 1986, 1995],
        }
    )
    target = pd.DataFrame(
        {
            "title": ["Godfather, The", "White Balloon, The", "Boot, Das", "Heat", "Drunks", "Star Wars", "Heat"],
            "year": pd.array([1972, 1995, 1981, 1995, 1997, 1977, 2001], dtype="Int64"),
        }
    )
    pairs, unmatched = match_titles(target, source)
    assert pairs[["target_item", "source_item", "rule"]].values.tolist() == [
        [0, 0, 1],  # same title and year
        [1, 1, 2],  # alias dropped
        [2, 2, 4],  # the target title is the source's alias
        [3, 3, 1],  # year picks the right "Heat"
        [4, 5, 3],  # title unique in the source, year differs
    ]
    assert unmatched.index.tolist() == [5, 6]  # no Star Wars; "Heat" (2001) is ambiguous by title alone
    assert item_map(pairs, len(target)).tolist() == [0, 1, 2, 3, 5, -1, -1]
    with pytest.raises(ValueError, match="outside 0..3"):
        item_map(pairs, 4)


# ------------------------------------------------------------------------------------------------- CMF / MF
def test_least_squares_mf_is_a_fixed_point_of_both_ridge_steps() -> None:
    data = tiny_interactions()
    model = LeastSquaresMF(embedding_size=3, reg=0.5, epochs=1).fit(data)
    r = data.matrix().toarray().astype(np.float64)
    p, q = model.user_factors_, model.item_factors_
    # after the item step, q solves its ridge problem exactly given p
    np.testing.assert_allclose(q, r.T @ p @ np.linalg.inv(p.T @ p + 0.5 * np.eye(3)), atol=1e-10)


def test_mf_item_prior_pull() -> None:
    data = tiny_interactions()
    prior = np.full((data.n_items, 4), np.nan)
    prior[:5] = np.arange(20, dtype=float).reshape(5, 4) / 10
    weak = LeastSquaresMF(embedding_size=4, reg=1.0, epochs=3, item_prior=prior, prior_weight=0.0).fit(data)
    strong = LeastSquaresMF(embedding_size=4, reg=1.0, epochs=3, item_prior=prior, prior_weight=1e9).fit(data)
    np.testing.assert_allclose(strong.item_factors_[:5], prior[:5], atol=1e-6)  # w -> inf returns the prior
    assert np.abs(weak.item_factors_[:5] - prior[:5]).max() > 0.1
    p = strong.user_factors_
    r = data.matrix().toarray()
    w = 2.0
    pulled = LeastSquaresMF(embedding_size=4, reg=1.0, epochs=1, item_prior=prior, prior_weight=w).fit(data)
    p = pulled.user_factors_
    expected = (r.T @ p + w * np.nan_to_num(prior)) @ np.linalg.inv(p.T @ p + (1.0 + w) * np.eye(4))
    np.testing.assert_allclose(pulled.item_factors_[:5], expected[:5], atol=1e-10)


def test_cmf_with_zero_source_weight_is_plain_mf() -> None:
    data = tiny_interactions()
    source = tiny_interactions(n_items=9, seed=3)
    users = torch.arange(data.n_users)
    plain = LeastSquaresMF(embedding_size=4, reg=2.0, epochs=5, seed=7).fit(data).score(users)
    zero = CMF(source=source, source_weight=0.0, embedding_size=4, reg=2.0, epochs=5, seed=7).fit(data).score(users)
    assert torch.equal(plain, zero)
    weighted = CMF(source=source, source_weight=1.0, embedding_size=4, reg=2.0, epochs=5, seed=7).fit(data)
    assert not torch.allclose(weighted.score(users), plain)


def test_cmf_user_step_solves_the_joint_ridge_problem() -> None:
    data, source = tiny_interactions(), tiny_interactions(n_items=9, seed=3)
    model = CMF(source=source, source_weight=0.5, embedding_size=3, reg=2.0, epochs=2).fit(data)
    r, s = data.matrix().toarray(), source.matrix().toarray()
    p, q, v = model.user_factors_, model.item_factors_, model.source_item_factors_
    # the last sweep ends with V = S^T P (P^T P + (reg/a) I)^{-1}
    np.testing.assert_allclose(v, s.T @ p @ np.linalg.inv(p.T @ p + 4.0 * np.eye(3)), atol=1e-10)
    assert q.shape == (data.n_items, 3) and np.isfinite(r @ q).all()


def test_cold_target_user_gets_a_factor_from_the_source_only() -> None:
    data, source = tiny_interactions(), tiny_interactions(n_items=9, seed=3)
    cold = data.with_frame(data.frame[data.frame["user"] != 0])
    plain = LeastSquaresMF(embedding_size=3, epochs=3).fit(cold)
    joint = CMF(source=source, source_weight=1.0, embedding_size=3, epochs=3).fit(cold)
    assert np.allclose(plain.user_factors_[0], 0.0)  # nothing to learn from in the target alone
    assert np.abs(joint.user_factors_[0]).max() > 1e-3


# ------------------------------------------------------------------------------------------------- EMCDR
def test_linear_map_recovers_a_planted_map() -> None:
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(6, 4)), rng.normal(size=4)
    x = rng.normal(size=(200, 6))
    fitted_w, fitted_b = fit_linear_map(x, x @ w + b)
    np.testing.assert_allclose(fitted_w, w, atol=1e-10)
    np.testing.assert_allclose(fitted_b, b, atol=1e-10)
    noisy_w, _ = fit_linear_map(x, x @ w + b + 0.01 * rng.normal(size=(200, 4)))
    np.testing.assert_allclose(noisy_w, w, atol=5e-3)
    mapped = fit_mlp_map(x, x @ w + b, hidden=32, epochs=500, seed=0)
    residual = np.mean((mapped(x) - (x @ w + b)) ** 2) / np.var(x @ w + b)
    assert residual < 0.05  # the perceptron explains > 95 % of the planted map's variance


def test_cmf_signature_lists_the_factorisation_parameters() -> None:
    """CMF takes LeastSquaresMF's parameters by keyword; its signature shows them, so the pipeline passes ``seed``."""
    import inspect

    from llmrec.pipeline import build_model

    parameters = list(inspect.signature(CMF).parameters)
    assert parameters == ["source", "source_weight", *inspect.signature(LeastSquaresMF).parameters]
    model = build_model("cmf", {"source": tiny_interactions(), "embedding_size": 3}, seed=7)
    assert model.seed == 7 and model.embedding_size == 3 and model.reg == 10.0
    with pytest.raises(TypeError, match="neighbours"):
        CMF(neighbours=3)


def test_squared_error_over_every_cell_by_hand() -> None:
    ratings = sp.csr_matrix(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]))
    p, q = np.array([[1.0, 0.5], [0.0, 2.0]]), np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    # P Q^T = [[1, 0.75, 0.5], [0, 1, 2]]: residuals 0, -0.75, 0.5 and 0, 0, -2 -> 0.5625 + 0.25 + 4
    assert squared_error(ratings, p, q) == pytest.approx(4.8125, abs=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda: LeastSquaresMF(embedding_size=3, reg=0.5, epochs=6),
        lambda: LeastSquaresMF(
            embedding_size=3,
            reg=0.5,
            epochs=6,
            item_prior=np.where(np.arange(15)[:, None] % 2 == 0, 0.3, np.nan) * np.ones((15, 3)),
            prior_weight=2.0,
        ),
        lambda: CMF(
            source=tiny_interactions(n_items=9, seed=3), source_weight=0.7, embedding_size=3, reg=0.5, epochs=6
        ),
    ],
    ids=["mf", "mf-prior", "cmf"],
)
def test_als_history_is_the_objective_and_never_rises(make) -> None:
    """ALS models keep one objective value and one time per sweep on ``history_``; exact alternating
    minimisation cannot increase the objective, which checks that the recorded objective is the minimised one
    (CMF's is reg ||V||^2, not reg ||V||^2 / a)."""
    data = tiny_interactions()
    model = make().fit(data)
    history = model.history_
    assert history.epochs == len(history.seconds) == 6 and history.best_epoch == 6
    assert all(b <= a * (1 + 1e-12) for a, b in zip(history.loss, history.loss[1:], strict=False)), history.loss
    assert history.loss[-1] < history.loss[0]
    ratings = data.matrix().astype(np.float64).toarray()
    p, q = model.user_factors_, model.item_factors_
    expected = np.sum((ratings - p @ q.T) ** 2) + 0.5 * (np.sum(p**2) + np.sum(q**2))
    if isinstance(model, CMF):
        source, v = model.source.matrix().astype(np.float64).toarray(), model.source_item_factors_
        expected += 0.7 * np.sum((source - p @ v.T) ** 2) + 0.5 * np.sum(v**2)
    elif model.prior_weight:
        rows = ~np.isnan(model.item_prior).any(axis=1)
        expected += 2.0 * np.sum((q[rows] - model.item_prior[rows]) ** 2)
    assert history.loss[-1] == pytest.approx(expected, rel=1e-10)


def test_mlp_map_runs_on_the_shared_loop_with_the_direct_loops_numbers() -> None:
    """fit_mlp_map through the shared Trainer: one full-batch Adam step an epoch, the per-epoch loss on the
    result, and mappings bit-identical to the direct loop it replaced."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 5))
    y = np.tanh(x[:, :3]) + 0.5
    mapping = fit_mlp_map(x, y, hidden=8, epochs=40, weight_decay=0.1, seed=7)
    assert mapping.history.epochs == mapping.history.steps == 40
    assert mapping.history.loss[-1] < 0.5 * mapping.history.loss[0]
    generator = torch.Generator().manual_seed(7)
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    w1 = (torch.randn(5, 8, generator=generator) / 5**0.5).requires_grad_()
    w2 = (torch.randn(8, 3, generator=generator) / 8**0.5).requires_grad_()
    b1, b2 = torch.zeros(8, requires_grad=True), yt.mean(0).clone().requires_grad_()
    optimizer = torch.optim.Adam([w1, b1, w2, b2], lr=1e-2, weight_decay=0.1)
    losses = []
    for _ in range(40):
        loss = ((torch.tanh(xt @ w1 + b1) @ w2 + b2 - yt) ** 2).sum(1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert mapping.history.loss == losses
    with torch.no_grad():
        expected = (torch.tanh(xt @ w1 + b1) @ w2 + b2).double().numpy()
    assert np.array_equal(mapping(x), expected)


def test_emcdr_keeps_the_mlp_maps_history() -> None:
    data, source = tiny_interactions(), tiny_interactions(n_items=9, seed=3)
    mlp = EMCDR(source=source, mapping="mlp", embedding_size=3, min_events=1, mapping_epochs=25).fit(data)
    assert mlp.history_.epochs == 25 and len(mlp.history_.seconds) == 25
    assert EMCDR(source=source, embedding_size=3, min_events=1).fit(data).history_ is None


def test_emcdr_maps_cold_users_with_the_fitted_map() -> None:
    data, source = tiny_interactions(), tiny_interactions(n_items=9, seed=3)
    cold = data.with_frame(data.frame[data.frame["user"] != 0])
    model = EMCDR(source=source, embedding_size=3, min_events=1, mapping_reg=0.0).fit(cold)
    src = LeastSquaresMF(embedding_size=3).fit(source).user_factors_
    tgt = LeastSquaresMF(embedding_size=3).fit(cold).user_factors_
    w, b = fit_linear_map(src[model.anchors_], tgt[model.anchors_])
    assert model.cold_users_.tolist() == [0, 11]
    np.testing.assert_allclose(model.user_factors_[0], src[0] @ w + b, atol=1e-10)
    np.testing.assert_allclose(model.user_factors_[1], tgt[1], atol=1e-12)  # warm users keep their own factor
    with pytest.raises(ValueError, match="source"):
        EMCDR()


# ------------------------------------------------------------------------------------------------- LightGCN
def test_normalised_adjacency_by_hand() -> None:
    data = hand_data()
    a = normalised_adjacency(data).toarray()
    # user 0 (degree 4) - item 0 (degree 1): 1 / sqrt(4 * 1); user 2 is isolated
    assert a.shape == (9, 9)
    assert a[0, 3 + 0] == pytest.approx(0.5) and a[3 + 0, 0] == pytest.approx(0.5)
    assert a[1, 3 + 4] == pytest.approx(1 / np.sqrt(2))
    assert not a[2].any()
    np.testing.assert_allclose(a, a.T)


def test_propagation_matches_torch_geometric_lgconv() -> None:
    from torch_geometric.nn import LGConv

    data = tiny_interactions()
    n = data.n_users + data.n_items
    x = torch.randn(n, 5, generator=torch.Generator().manual_seed(0))
    r = data.matrix().tocoo()
    rows = np.concatenate([r.row, r.col + data.n_users])
    cols = np.concatenate([r.col + data.n_users, r.row])
    edge_index = torch.from_numpy(np.stack([rows, cols]).astype(np.int64))
    conv = LGConv(normalize=True)
    layers, current = [x], x
    for _ in range(3):
        current = conv(current, edge_index)
        layers.append(current)
    expected = torch.stack(layers).mean(0)
    torch.testing.assert_close(propagate(normalised_adjacency(data), x, 3), expected, rtol=1e-5, atol=1e-6)


def test_propagation_gradient_matches_dense_autograd() -> None:
    data = tiny_interactions()
    adjacency = normalised_adjacency(data)
    x = torch.randn(adjacency.shape[0], 4, generator=torch.Generator().manual_seed(1), requires_grad=True)
    (propagate(adjacency, x, 2) ** 2).sum().backward()
    dense = torch.from_numpy(adjacency.toarray())
    y = x.detach().clone().requires_grad_()
    ((y + dense @ y + dense @ (dense @ y)) / 3).pow(2).sum().backward()
    torch.testing.assert_close(x.grad, y.grad, rtol=1e-5, atol=1e-6)


def test_join_domains_offsets_target_items() -> None:
    data = hand_data()
    source, target, _, _ = domain_split(data, genre_domains(data.items, ["Action"]))
    joint = join_domains(source, target)
    assert joint.n_items == 6 and len(joint) == 6
    assert sorted(joint.frame["item"][len(source) :]) == sorted(target.frame["item"] + source.n_items)


# ------------------------------------------------------------------------------------------------- demographic
def test_age_groups_and_demographic_scores_by_hand() -> None:
    assert age_group(np.array([7, 18, 24, 25, 49, 50, 56, 80])).tolist() == [1, 18, 18, 25, 45, 50, 56, 56]
    assert age_group(np.array([1, 18, 25, 35, 45, 50, 56])).tolist() == [1, 18, 25, 35, 45, 50, 56]
    users = pd.DataFrame({"age": [20, 22, 40], "gender": ["F", "F", "M"]})
    assert demographic_groups(users, ("age", "gender")).tolist() == [0, 0, 1]
    frame = pd.DataFrame({"user": [0, 1, 2, 2], "item": [0, 0, 1, 2], "rating": 1.0, "timestamp": [1, 2, 3, 4]})
    data = Interactions(frame, 3, 3, None, users)
    model = DemographicPopular(shrinkage=4.0).fit(data)
    # group 0: counts (2, 0, 0), n=2; global shares (0.5, 0.25, 0.25) -> (2 + 2, 1, 1) / 6
    np.testing.assert_allclose(model.score([0]).numpy()[0], np.array([4, 1, 1]) / 6, rtol=1e-6)
    # group 1: counts (0, 1, 1), n=2 -> (2, 1 + 1, 1 + 1) / 6
    np.testing.assert_allclose(model.score([2]).numpy()[0], np.array([2, 2, 2]) / 6, rtol=1e-6)
    with pytest.raises(ValueError, match="attributes"):
        DemographicPopular(attributes=("zip",)).fit(data)


# ------------------------------------------------------------------------------------------------- contracts
class TestLeastSquaresMF(RecommenderContract):
    def make_model(self) -> LeastSquaresMF:
        return LeastSquaresMF(embedding_size=4, reg=1.0, epochs=3)


def planted_source() -> Interactions:
    """A source domain for the planted data's users: each user's first three events (never a test target)."""
    return keep_first(planted_interactions(), k=3)


class TestCMF(RecommenderContract):
    def make_quality_model(self) -> CMF:
        return CMF(source=planted_source(), embedding_size=4, reg=1.0, epochs=3)

    def make_model(self) -> CMF:
        return CMF(source=tiny_interactions(n_items=9, seed=3), embedding_size=4, reg=1.0, epochs=3)


class TestEMCDR(RecommenderContract):
    def make_quality_model(self) -> EMCDR:
        return EMCDR(source=planted_source(), embedding_size=4, reg=1.0, min_events=1)

    def make_model(self) -> EMCDR:
        return EMCDR(source=tiny_interactions(n_items=9, seed=3), embedding_size=4, min_events=1)


class TestEMCDRPerceptron(RecommenderContract):
    def make_quality_model(self) -> EMCDR:
        return EMCDR(source=planted_source(), mapping="mlp", embedding_size=4, reg=1.0, min_events=1, mapping_epochs=20)

    def make_model(self) -> EMCDR:
        return EMCDR(
            source=tiny_interactions(n_items=9, seed=3),
            mapping="mlp",
            embedding_size=4,
            min_events=1,
            mapping_epochs=20,
        )


class TestLightGCN(RecommenderContract):
    def make_quality_model(self) -> LightGCN:
        return LightGCN(embedding_size=8, layers=2, epochs=30, batch_size=64)

    def make_model(self) -> LightGCN:
        return LightGCN(embedding_size=8, layers=2, epochs=3, batch_size=16)


class TestLightGCNJoint(RecommenderContract):
    def make_quality_model(self) -> LightGCN:
        return LightGCN(embedding_size=8, layers=2, epochs=30, batch_size=64, source=planted_source())

    def make_model(self) -> LightGCN:
        return LightGCN(
            embedding_size=8, layers=2, epochs=3, batch_size=16, source=tiny_interactions(n_items=9, seed=3)
        )


class TestDemographicPopular(RecommenderContract):
    #: popularity within a demographic group: on the planted data every user is in one group, so it is popularity
    #: (its scores are checked by hand in test_age_groups_and_demographic_scores_by_hand)
    quality_bound = False

    def make_model(self) -> DemographicPopular:
        return DemographicPopular()


def test_sparse_adjacency_is_csr() -> None:
    assert isinstance(normalised_adjacency(tiny_interactions()), sp.csr_matrix)


# ------------------------------------------------------------------------------------------------- statistics
def test_paired_comparison_against_scipy_and_by_hand() -> None:
    from scipy import stats

    from llmrec.transfer import bootstrap_interval, paired_comparison

    users = pd.Index([3, 5, 8, 9, 12], name="user")
    model = pd.Series([1.0, 0.5, 0.0, 1.0, 0.25], index=users)
    baseline = pd.Series([0.5, 0.5, 0.0, 0.0, 0.25], index=users)
    result = paired_comparison(model, baseline, resamples=200, seed=0)
    assert result.relative == pytest.approx((2.75 - 1.25) / 1.25)
    assert result.t_pvalue == pytest.approx(stats.ttest_rel(model, baseline).pvalue)
    assert result.wilcoxon_pvalue == pytest.approx(stats.wilcoxon(model, baseline).pvalue)
    assert result.relative_low <= result.relative <= result.relative_high
    low, high = bootstrap_interval(np.array([1.0, 1.0, 1.0]))
    assert low == high == 1.0
    with pytest.raises(ValueError, match="same users"):
        paired_comparison(model, baseline.iloc[:4])
