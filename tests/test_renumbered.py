"""Recovering how a renumbered ``user item`` copy of MovieLens was made: reading it, matching its users, replaying
tie rules; and the committed check of SASRec's ML-1M file (chapter 7, section 3.7)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from llmrec import Interactions, k_core, leave_one_out
from llmrec._errors import DataFormatError
from llmrec.data import match_users, read_user_item_lines, tie_rule_agreement
from llmrec.split import LOO_TIE_RULES, chronological_order

RESULT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "sasrec_data_ml-1m.json"


def events(rows: list[tuple[int, int, int]], n_users: int, n_items: int) -> Interactions:
    f = pd.DataFrame(rows, columns=["user", "item", "timestamp"]).assign(rating=np.float32(1.0))
    return Interactions(f[["user", "item", "rating", "timestamp"]], n_users, n_items)


# user 0: items 5, 6 at t=1 (tie, file order 5 then 6), then 7; user 1: 4, then 6 and 8 tie at t=3, then 5;
# user 2: 7, 8, 9 all at t=2 (file order 9, 7, 8)
DATA = events(
    [(0, 5, 1), (1, 5, 9), (0, 6, 1), (2, 9, 2), (1, 6, 3), (0, 7, 4), (2, 7, 2), (1, 8, 3), (2, 8, 2), (1, 4, 0)],
    3,
    10,
)


def write(path: Path, users: dict[int, list[int]]) -> Path:
    path.write_text("".join(f"{u} {i}\n" for u, items in users.items() for i in items))
    return path


def test_chronological_order_breaks_ties_by_the_rule() -> None:
    f = DATA.frame
    assert f.iloc[chronological_order(f, "file-order")]["item"].tolist() == [5, 6, 7, 4, 6, 8, 5, 9, 7, 8]
    assert f.iloc[chronological_order(f, "reverse-file-order")]["item"].tolist() == [6, 5, 7, 4, 8, 6, 5, 8, 7, 9]
    with pytest.raises(ValueError, match="ties must be one of"):
        chronological_order(f, "by-title")


def test_a_file_written_in_file_order_is_matched_and_replayed(tmp_path: Path) -> None:
    # renumbered by first appearance, users in the order 2, 0, 1 and renamed 1, 2, 3:
    # user 2 (9, 7, 8) -> 1 2 3; user 0 (5, 6, 7) -> 4 5 2; user 1 (4, 6, 8, 5) -> 6 5 3 4
    reference = read_user_item_lines(write(tmp_path / "ref.txt", {1: [1, 2, 3], 2: [4, 5, 2], 3: [6, 5, 3, 4]}))
    assert reference == {1: [1, 2, 3], 2: [4, 5, 2], 3: [6, 5, 3, 4]}
    # lengths leave users 0 and 2 for reference users 1 and 2; their overlaps with user 1 decide
    matches = match_users(reference, DATA)
    assert matches == {1: 2, 2: 0, 3: 1}
    # the first user is not compared: any order of it renumbers to 1 2 3
    assert tie_rule_agreement(reference, DATA, matches, "file-order") == (7, 7)
    # reverse: user 2 -> 8 7 9 = 1 2 3; user 0 -> 6 5 7 = 4 5 2 (renumbering hides the swap);
    # user 1 -> 4 8 6 5 = 6 1 4 5 against 6 5 3 4: one position agrees
    assert tie_rule_agreement(reference, DATA, matches, "reverse-file-order") == (4, 7)
    assert set(LOO_TIE_RULES) >= {"file-order", "reverse-file-order"}


def test_match_users_refuses_ambiguous_or_impossible_references(tmp_path: Path) -> None:
    # one user of length 3 fits all three data users
    with pytest.raises(ValueError, match="more than one"):
        match_users({1: [1, 2, 3]}, DATA)
    # two users sharing nothing: every pair of data users shares an item
    with pytest.raises(ValueError, match="no data users match"):
        match_users({1: [1, 2, 3], 2: [4, 5, 6]}, DATA)


def test_read_user_item_lines_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("1 1\n1 2\n2 x\n")
    with pytest.raises(DataFormatError, match=r"bad.txt, line 3: expected 'user item'"):
        read_user_item_lines(path)
    path.write_text("1 1\n2 2\n1 3\n")
    with pytest.raises(DataFormatError, match="line 3: user 1 appears again"):
        read_user_item_lines(path)
    path.write_text("1 1\n1 2\n2 2\n3 1\n")
    assert read_user_item_lines(path, max_users=2) == {1: [1, 2], 2: [2]}
    with pytest.raises(DataFormatError, match="file not found"):
        read_user_item_lines(tmp_path / "missing.txt")


def test_the_committed_check_of_sasrecs_ml1m_file() -> None:
    """What ``scripts/check_sasrec_data.py`` recorded (chapter 7 quotes it): ML-1M with films rated at least 5
    times has SASRec's published size (6,040 users, 3,416 items), and only file order replays the file."""
    record = json.loads(RESULT.read_text())
    assert record["filtered_counts"] == {"users": 6040, "items": 3416, "events": 999_611}
    assert record["full_counts"] == {"users": 6040, "items": 3706, "events": 1_000_209}
    agreement = record["tie_rule_agreement"]
    assert agreement["file-order"]["agreeing"] == agreement["file-order"]["compared"] > 200
    assert all(agreement[r]["agreeing"] < agreement[r]["compared"] for r in ("reverse-file-order", "random"))
    assert record["removed_targets"] == {"test": 4, "validation": 3}


@pytest.mark.slow
def test_the_recorded_filter_counts_are_recomputed(ml1m) -> None:
    record = json.loads(RESULT.read_text())
    data = ml1m.interactions
    filtered = k_core(data, record["min_item_count"])
    assert {"users": filtered.n_users, "items": filtered.n_items, "events": len(filtered)} == record["filtered_counts"]
    kept = set(filtered.items["raw_id"])
    split = leave_one_out(data)
    raw = data.items["raw_id"].to_numpy()
    for stage in ("test", "validation"):
        targets = raw[split.targets(stage).frame["item"].to_numpy()]
        assert sum(t not in kept for t in targets) == record["removed_targets"][stage]
