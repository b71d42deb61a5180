"""The shared training loop: epochs, weighted losses, schedules, early stopping; and "it learns" checks for every
model trained with it (the loss falls and the weights move)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

from llmrec import Interactions
from llmrec.models import BPR, FineTunedText, GPTRecommender, TwoTower
from llmrec.testing import tiny_interactions
from llmrec.training import Trainer, holdout_last, ranking_validator, sample_target_users


def _quadratic(target: float = 3.0):
    """One parameter w and a loss (w - target)^2 over 4 batches of weight 1, 1, 1, 5."""
    w = torch.zeros(1, requires_grad=True)

    def epoch_batches(generator: torch.Generator):
        return [(torch.ones(1), 1.0), (torch.ones(1), 1.0), (torch.ones(1), 1.0), (torch.ones(1), 5.0)]

    def batch_loss(batch):
        return ((w - target) ** 2).sum(), batch[1]

    return w, epoch_batches, batch_loss


def test_epoch_loss_is_the_weighted_mean_of_batch_losses() -> None:
    w, batches, loss = _quadratic()
    history = Trainer(epochs=1, learning_rate=0.1, optimizer="adam").fit([w], batches, loss)
    steps = history.step_loss
    assert len(steps) == 4
    assert history.loss[0] == pytest.approx((steps[0] + steps[1] + steps[2] + 5 * steps[3]) / 8)
    assert len(history.seconds) == 1 and history.seconds[0] > 0


def test_trainer_minimises_and_records_history() -> None:
    w, batches, loss = _quadratic()
    history = Trainer(epochs=30, learning_rate=0.3).fit([w], batches, loss)
    assert history.epochs == 30 and history.best_epoch == 30 and not history.stopped_early
    assert history.loss[-1] < 1e-2 * history.loss[0]
    assert float(w.detach()) == pytest.approx(3.0, abs=0.1)


def test_early_stopping_restores_the_best_weights_and_stops_after_patience() -> None:
    w, batches, loss = _quadratic()
    scores = iter([0.1, 0.5, 0.4, 0.3, 0.2, 0.9])
    seen: list[float] = []

    def validate() -> float:
        seen.append(float(w.detach()))
        return next(scores)

    history = Trainer(epochs=10, learning_rate=0.1, patience=3).fit([w], batches, loss, validate=validate)
    assert history.validation == [0.1, 0.5, 0.4, 0.3, 0.2]  # stopped after 3 validations without a new best
    assert history.stopped_early and history.epochs == 5 and history.best_epoch == 2
    assert float(w.detach()) == pytest.approx(seen[1])  # the weights of epoch 2 are restored


def test_best_weights_restored_without_patience_too() -> None:
    w, batches, loss = _quadratic()
    scores = iter([0.3, 0.2, 0.1])
    seen: list[float] = []

    def validate() -> float:
        seen.append(float(w.detach()))
        return next(scores)

    history = Trainer(epochs=3, learning_rate=0.1).fit([w], batches, loss, validate=validate)
    assert history.best_epoch == 1 and not history.stopped_early and float(w.detach()) == pytest.approx(seen[0])


def test_nan_validation_is_refused() -> None:
    w, batches, loss = _quadratic()
    with pytest.raises(ValueError, match="validation metric is nan"):
        Trainer(epochs=2, learning_rate=0.1).fit([w], batches, loss, validate=lambda: math.nan)


def test_warmup_and_cosine_schedule() -> None:
    trainer = Trainer(epochs=2, learning_rate=1.0, warmup_steps=4, decay="cosine")
    factor = trainer._schedule(steps_per_epoch=4)  # 8 steps in all
    values = [factor(step) for step in range(8)]
    expected = [min(1, t / 4) * 0.5 * (1 + math.cos(math.pi * t / 8)) for t in range(1, 9)]
    assert values == pytest.approx(expected)
    assert values[-1] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "epochs"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"optimizer": "sgd"}, "optimizer"),
        ({"patience": 0}, "patience"),
        ({"decay": "step"}, "decay"),
        ({"max_steps": 0}, "max_steps"),
        ({"max_steps": 2.5}, "max_steps"),
    ],
)
def test_bad_trainer_settings_are_refused(kwargs: dict, match: str) -> None:
    settings = {"epochs": 1, "learning_rate": 0.1} | kwargs
    with pytest.raises(ValueError, match=match):
        Trainer(**settings)


def test_max_steps_budget_stops_inside_an_epoch() -> None:
    """A step budget (fine-tuning "for 6 mini-batches") over 4-batch epochs: 4 steps, then 2 of the next epoch;
    no third epoch's order is drawn. Every step's loss and seconds are kept; the cut epoch's loss is the weighted
    mean of the steps it ran."""
    w, batches, loss = _quadratic()
    drawn: list[int] = []

    def counted(generator: torch.Generator):
        drawn.append(1)
        return batches(generator)

    history = Trainer(epochs=5, learning_rate=0.1, max_steps=6).fit([w], counted, loss)
    assert len(drawn) == 2 and history.epochs == 2 and history.steps == 6
    assert len(history.step_seconds) == 6 and all(s > 0 for s in history.step_seconds)
    assert history.loss[1] == pytest.approx((history.step_loss[4] + history.step_loss[5]) / 2)
    # the same six steps as an unlimited run's first six: the budget only stops the loop
    w_free, batches_free, loss_free = _quadratic()
    free = Trainer(epochs=2, learning_rate=0.1).fit([w_free], batches_free, loss_free)
    assert history.step_loss == free.step_loss[:6]
    # the epoch budget still applies when it is the smaller one
    assert Trainer(epochs=1, learning_rate=0.1, max_steps=100).fit([w], batches, loss).steps == 4
    # a schedule spans the steps actually run: cosine decay reaches 0 at the budget's last step
    factor = Trainer(epochs=5, learning_rate=1.0, decay="cosine", max_steps=6)._schedule(steps_per_epoch=4)
    assert factor(5) == pytest.approx(0.0, abs=1e-12) and factor(2) == pytest.approx(0.5 * (1 + math.cos(math.pi / 2)))


def test_nothing_to_train_and_no_batches_are_refused() -> None:
    frozen = torch.zeros(1)
    with pytest.raises(ValueError, match="nothing to train"):
        Trainer(epochs=1, learning_rate=0.1).fit([frozen], lambda g: [], lambda b: b)
    w = torch.zeros(1, requires_grad=True)
    with pytest.raises(ValueError, match="no batches"):
        Trainer(epochs=1, learning_rate=0.1).fit([w], lambda g: [], lambda b: b)


def test_global_random_state_is_untouched() -> None:
    w, batches, loss = _quadratic()
    before = torch.random.get_rng_state()
    Trainer(epochs=2, learning_rate=0.1, seed=7).fit([w], batches, loss)
    assert torch.equal(before, torch.random.get_rng_state())


def _events(rows: list[tuple[int, int, int]], n_users: int, n_items: int) -> Interactions:
    frame = pd.DataFrame(rows, columns=["user", "item", "timestamp"]).assign(rating=np.float32(4.0))
    return Interactions(frame[["user", "item", "rating", "timestamp"]], n_users, n_items)


def test_holdout_last_by_hand() -> None:
    # user 0: items 2 (t=1), 0 (t=5), 1 (t=5, later line -> later event); user 1: one event; user 2: two events
    data = _events([(0, 2, 1), (0, 0, 5), (1, 3, 2), (0, 1, 5), (2, 0, 9), (2, 3, 3)], 3, 4)
    rest, held = holdout_last(data)
    assert sorted(zip(held.frame["user"], held.frame["item"], strict=True)) == [(0, 1), (2, 0)]
    assert sorted(zip(rest.frame["user"], rest.frame["item"], strict=True)) == [(0, 0), (0, 2), (1, 3), (2, 3)]
    assert list(rest.frame.index) == sorted(rest.frame.index)  # file order kept


def test_holdout_last_of_chosen_users_keeps_the_others_last_events() -> None:
    data = _events([(0, 2, 1), (0, 0, 5), (1, 3, 2), (0, 1, 5), (2, 0, 9), (2, 3, 3)], 3, 4)
    rest, held = holdout_last(data, users=np.array([2]))
    assert sorted(zip(held.frame["user"], held.frame["item"], strict=True)) == [(2, 0)]
    assert sorted(zip(rest.frame["user"], rest.frame["item"], strict=True)) == [(0, 0), (0, 1), (0, 2), (1, 3), (2, 3)]
    with pytest.raises(ValueError, match="nothing to validate on"):
        holdout_last(data, users=np.array([1]))  # user 1 has one event: nothing of the chosen users is held out


def test_holdout_last_needs_a_user_with_two_events() -> None:
    with pytest.raises(ValueError, match="no user has two training events"):
        holdout_last(_events([(0, 1, 1), (1, 2, 1)], 2, 3))


def test_ranking_validator_by_hand() -> None:
    known = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 0, 0]], dtype=np.float32))
    targets = sp.csr_matrix(np.array([[0, 0, 1, 0], [0, 0, 0, 1]], dtype=np.float32))
    scores = torch.tensor([[9.0, 1.0, 2.0, 3.0], [4.0, 3.0, 2.0, 1.0]])
    validate = ranking_validator(lambda users: scores[users], known, targets, k=3)
    # user 0: item 0 is known, ranking 3, 2, 1 -> target at rank 2; user 1: target item 3 at rank 4 (> k)
    assert validate() == pytest.approx((1 / math.log2(3) + 0.0) / 2)
    assert ranking_validator(lambda users: scores[users], known, targets, k=3, metric="HR")() == 0.5


# ------------------------------------------------------------------ every trained model learns
def _planted() -> Interactions:
    """Two taste groups: even users watch even items, odd users odd items."""
    rng = np.random.default_rng(0)
    rows = []
    for user in range(30):
        items = rng.choice(np.arange(user % 2, 16, 2), size=6, replace=False)
        rows += [(user, int(item), t) for t, item in enumerate(items)]
    base = tiny_interactions(n_users=30, n_items=16)
    frame = pd.DataFrame(rows, columns=["user", "item", "timestamp"]).assign(rating=np.float32(4.0))
    return base.with_frame(frame[["user", "item", "rating", "timestamp"]])


def _moved(before: list[torch.Tensor], after: list[torch.Tensor]) -> float:
    return max(float((a - b).abs().max()) for a, b in zip(before, after, strict=True))


def test_sample_target_users_keeps_whole_rows_of_a_seeded_sample() -> None:
    targets = sp.csr_matrix(np.array([[1, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1]], dtype=np.float32))
    sampled = sample_target_users(targets, 2, seed=0)
    kept = np.flatnonzero(np.diff(sampled.indptr))
    assert len(kept) == 2 and set(kept) <= {0, 2, 3, 4}  # users with a target only
    for user in kept:  # a kept user keeps all of its targets
        assert (sampled[user].toarray() == targets[user].toarray()).all()
    assert (sample_target_users(targets, 2, seed=0) != sampled).nnz == 0  # seeded
    assert sample_target_users(targets, None, seed=0) is targets
    assert sample_target_users(targets, 4, seed=0) is targets  # all four users with a target
    with pytest.raises(ValueError, match=">= 1"):
        sample_target_users(targets, 0, seed=0)


def test_sequence_models_validate_on_a_user_sample() -> None:
    data = tiny_interactions()
    full = GPTRecommender(embedding_size=16, max_len=8, epochs=3, batch_size=4, patience=2, seed=0).fit(data)
    sample = GPTRecommender(
        embedding_size=16, max_len=8, epochs=3, batch_size=4, patience=2, validation_users=3, seed=0
    ).fit(data)
    assert len(sample.history_.validation) == len(sample.history_.loss) >= 1
    assert sample.history_.loss[0] == full.history_.loss[0]  # the same training, a different yardstick
    assert sample.history_.validation != full.history_.validation
    with pytest.raises(ValueError, match="validation_users"):
        GPTRecommender(validation_users=0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: BPR(embedding_size=8, epochs=15, batch_size=32, learning_rate=0.05, seed=0),
        lambda: TwoTower(embedding_size=8, epochs=15, batch_size=32, learning_rate=0.01, seed=0),
        lambda: TwoTower(embedding_size=8, epochs=15, batch_size=32, learning_rate=0.01, loss="softmax", seed=0),
        lambda: GPTRecommender(embedding_size=16, num_heads=2, max_len=8, epochs=15, batch_size=8, seed=0),
    ],
    ids=["bpr", "two-tower-bpr", "two-tower-softmax", "gpt"],
)
def test_trained_models_learn(make) -> None:
    data = _planted()
    model = make().fit(data)
    history = model.history_
    assert history.epochs == len(history.loss) == len(history.seconds) > 1
    assert history.loss[-1] < 0.9 * history.loss[0], history.loss
    one_epoch = make()
    one_epoch.epochs = 1
    one_epoch.fit(data)
    scores_long = model.score(torch.arange(4))
    scores_short = one_epoch.score(torch.arange(4))
    assert float((scores_long - scores_short).abs().max()) > 1e-3  # more training moved the weights


@pytest.mark.slow
def test_encoder_fine_tuning_learns() -> None:
    """Fine-tuning steps lower the in-batch loss and change the encoder's weights."""
    data = _planted()
    model = FineTunedText(steps=12, batch_size=8, learning_rate=5e-4, trainable_layers=1, seed=0).fit(data)
    frozen = FineTunedText(steps=0).fit(data)
    losses = model.losses_
    assert len(losses) == 12 and model.history_.epochs == 1
    assert np.mean(losses[-4:]) < np.mean(losses[:4]), losses
    assert np.abs(model.item_vectors_ - frozen.item_vectors_).max() > 1e-4
