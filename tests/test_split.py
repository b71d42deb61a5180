"""Splits: the leave-one-out rule with ties, temporal/random/k-fold partitions, k-core."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from llmrec import Interactions, global_temporal_split, k_core, k_fold, leave_one_out, random_holdout
from llmrec.testing import tiny_interactions


def frame(rows: list[tuple[int, int, int]], n_users: int, n_items: int) -> Interactions:
    f = pd.DataFrame(rows, columns=["user", "item", "timestamp"]).assign(rating=np.float32(1.0))
    return Interactions(f[["user", "item", "rating", "timestamp"]], n_users, n_items)


def test_leave_one_out_with_ties_broken_by_file_order() -> None:
    data = frame(
        [(0, 0, 5), (0, 1, 9), (0, 2, 9), (0, 3, 1), (1, 0, 1), (1, 2, 2), (2, 1, 7), (3, 3, 3), (3, 2, 3)], 4, 4
    )
    s = leave_one_out(data)
    # user 0: times 1,5,9,9 -> item 2 (later line of the tie) is test, item 1 validation
    assert s.test.frame.loc[s.test.frame.user == 0, "item"].tolist() == [2]
    assert s.validation.frame.loc[s.validation.frame.user == 0, "item"].tolist() == [1]
    # user 1 has 2 events: test only; user 2 has 1 event: train only; user 3: tie, the later line is test
    assert s.test.frame.sort_values("user")["user"].tolist() == [0, 1, 3]
    assert s.validation.frame["user"].tolist() == [0]
    assert s.test.frame.loc[s.test.frame.user == 3, "item"].tolist() == [2]
    assert len(s.train) + len(s.validation) + len(s.test) == len(data)
    assert set(s.fit_data("test").frame.index) == set(s.train.frame.index) | set(s.validation.frame.index)
    assert s.fit_data("validation") is s.train


@pytest.mark.slow
def test_leave_one_out_ml100k(ml100k) -> None:
    s = leave_one_out(ml100k.interactions)
    assert (len(s.train), len(s.validation), len(s.test)) == (98_114, 943, 943)
    last = ml100k.interactions.chronological().groupby("user").tail(1)
    assert sorted(s.test.frame.index) == sorted(last.index)


def test_global_temporal() -> None:
    data = tiny_interactions()
    s = global_temporal_split(data, validation_fraction=0.2, test_fraction=0.2)
    assert len(s.test) == round(0.2 * len(data)) and len(s.validation) == round(0.2 * len(data))
    assert s.train.frame["timestamp"].max() <= s.validation.frame["timestamp"].min()
    assert s.validation.frame["timestamp"].max() <= s.test.frame["timestamp"].min()
    with pytest.raises(ValueError):
        global_temporal_split(data, 0.6, 0.5)


def test_random_holdout_is_seeded() -> None:
    data = tiny_interactions()
    a, b, c = random_holdout(data, seed=1), random_holdout(data, seed=1), random_holdout(data, seed=2)
    assert a.test.frame.index.equals(b.test.frame.index)
    assert not a.test.frame.index.equals(c.test.frame.index)
    assert len(a.train) + len(a.validation) + len(a.test) == len(data)


def test_k_fold_tests_every_interaction_once() -> None:
    data = tiny_interactions()
    folds = list(k_fold(data, k=5, seed=3))
    tested = np.concatenate([f.test.frame.index.to_numpy() for f in folds])
    assert sorted(tested) == sorted(data.frame.index)
    assert all(len(f.train) + len(f.test) == len(data) and len(f.validation) == 0 for f in folds)
    assert [f.test.frame.index.tolist() for f in folds] == [f.test.frame.index.tolist() for f in k_fold(data, 5, 3)]
    with pytest.raises(ValueError):
        next(k_fold(data, k=1))


def test_k_core_is_iterative_and_renumbers() -> None:
    # item 2 has one rating; dropping it leaves user 1 with one rating, which must then go too
    data = frame([(0, 0, 1), (0, 1, 2), (1, 0, 3), (1, 2, 4), (2, 0, 5), (2, 1, 6)], 3, 3)
    core = k_core(data, 2)
    assert (core.n_users, core.n_items, len(core)) == (2, 2, 4)
    assert core.frame["user"].tolist() == [0, 0, 1, 1]
    assert core.frame.index.tolist() == [0, 1, 4, 5]  # file positions kept


def test_future_leakage_on_hand_example() -> None:
    # user 0: train at t=1, 3; test at t=2 -> leaks. user 1: train t=1, test t=5 -> fine.
    data = frame([(0, 0, 1), (0, 1, 3), (0, 2, 2), (1, 0, 1), (1, 1, 5)], 2, 3)
    from llmrec.split import Split, future_leakage

    f = data.frame
    split = Split(data.with_frame(f.loc[[0, 1, 3]]), data.with_frame(f.iloc[:0]), data.with_frame(f.loc[[2, 4]]))
    assert future_leakage(split) == 0.5
    assert future_leakage(leave_one_out(data)) == 0.0


def test_future_leakage_compares_timestamp_then_file_position() -> None:
    # the fitted event is at file position 0 with t=5, the target at position 1 with t=4: the target happened
    # before the user's latest fitted event, whatever the positions (an old key t*(max fitted index+1)+index
    # gave 5*1+0 = 5 against 4*1+1 = 5 and missed it)
    from llmrec.split import Split, future_leakage

    data = frame([(0, 0, 5), (0, 1, 4)], 1, 2)
    f = data.frame
    split = Split(data.with_frame(f.iloc[[0]]), data.with_frame(f.iloc[:0]), data.with_frame(f.iloc[[1]]))
    assert future_leakage(split) == 1.0
    # equal timestamps: the later file position is the later event
    tie = frame([(0, 0, 5), (0, 1, 5), (1, 0, 3), (1, 1, 3)], 2, 2)
    f = tie.frame
    split = Split(tie.with_frame(f.iloc[[1, 2]]), tie.with_frame(f.iloc[:0]), tie.with_frame(f.iloc[[0, 3]]))
    assert future_leakage(split) == 0.5  # user 0's target (position 0) precedes its fitted position 1
    # a user with targets but nothing fitted cannot leak
    split = Split(tie.with_frame(f.iloc[[0]]), tie.with_frame(f.iloc[:0]), tie.with_frame(f.iloc[[1, 2]]))
    assert future_leakage(split) == 0.0


def test_cold_items_are_absent_from_fitting() -> None:
    from llmrec.split import cold_items

    data = tiny_interactions()
    split, chosen = cold_items(leave_one_out(data), fraction=0.2, seed=1)
    assert len(chosen) == 3
    assert not np.isin(split.fit_data("test").frame["item"], chosen).any()
    assert np.isin(split.test.frame["item"], chosen).all()
    again, same = cold_items(leave_one_out(data), fraction=0.2, seed=1)
    assert np.array_equal(chosen, same) and again.test.frame.equals(split.test.frame)
