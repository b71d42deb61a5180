"""The shared schema: one rating per (user, item) pair (the latest event), and the item-table requirement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from llmrec import Interactions


def interactions(rows: list[tuple[int, int, float, int]], n_users: int = 2, n_items: int = 3, **tables) -> Interactions:
    frame = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"]).astype({"rating": np.float32})
    return Interactions(frame, n_users, n_items, **tables)


def test_rating_matrix_keeps_the_latest_rating_of_a_repeated_pair() -> None:
    # user 0 rated item 1 with 4, then 5: the matrix holds 5 (not 9)
    data = interactions([(0, 1, 4.0, 10), (0, 1, 5.0, 20), (1, 0, 2.0, 5)])
    assert data.matrix("rating").toarray().tolist() == [[0, 5, 0], [2, 0, 0]]
    # latest by timestamp, not by line: the later line carries the older event
    data = interactions([(0, 1, 4.0, 30), (0, 1, 5.0, 20)])
    assert data.matrix("rating")[0, 1] == 4.0
    # equal timestamps: the later line is the later event
    data = interactions([(0, 1, 4.0, 20), (0, 1, 5.0, 20), (0, 1, 1.0, 3)])
    assert data.matrix("rating")[0, 1] == 5.0
    assert data.matrix("binary").toarray().tolist() == [[0, 1, 0], [0, 0, 0]]


def test_latest_per_pair_drops_earlier_events_and_keeps_positions() -> None:
    data = interactions([(0, 1, 4.0, 30), (1, 2, 3.0, 1), (0, 1, 5.0, 20), (0, 2, 1.0, 7), (0, 1, 2.0, 30)])
    latest = data.latest_per_pair()
    assert latest.frame.index.tolist() == [1, 3, 4]
    assert latest.frame["rating"].tolist() == [3.0, 1.0, 2.0]
    unique = interactions([(0, 1, 4.0, 30), (1, 2, 3.0, 1)])
    assert unique.latest_per_pair() is unique


def test_require_items_names_the_model() -> None:
    bare = interactions([(0, 1, 4.0, 1)])
    with pytest.raises(ValueError, match=r"text-content needs an item table \(titles, genres\): load the dataset"):
        bare.require_items("text-content")
    items = pd.DataFrame({"raw_id": ["a", "b", "c"], "title": ["A", "B", "C"], "genres": [["x"], [], ["y"]]})
    with_items = interactions([(0, 1, 4.0, 1)], items=items)
    assert with_items.require_items("text-content") is items
    with pytest.raises(ValueError, match="bayes-transfer needs an item table"):
        interactions([(0, 1, 4.0, 1)], items=items[["raw_id"]]).require_items("bayes-transfer")
