"""Compare MovieLens with a published, renumbered copy of it (chapter: *Sequential interest*, section 3.7).

Sequential-recommendation papers publish their data as ``user item`` lines (SASRec's ``data/ml-1m.txt``, used
again by SASRec+): users and items renumbered from 1, each user's events in the order the models read them, no
timestamps. Which of the book's tie rules (:data:`llmrec.split.LOO_TIE_RULES`) produced that order is recovered
here in three steps: read the lines (:func:`read_user_item_lines`), find the MovieLens user behind each
renumbered user (:func:`match_users`), and replay each rule (:func:`tie_rule_agreement`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .._errors import DataFormatError
from .._interactions import Interactions
from ..split import chronological_order

__all__ = ["match_users", "read_user_item_lines", "tie_rule_agreement"]


def read_user_item_lines(path: str | Path, max_users: int | None = None) -> dict[int, list[int]]:
    """Each user's items in file order from ``user item`` lines, stopping after ``max_users`` users.

    The lines of one user must be contiguous (a user seen again after another one is a format error naming the
    line); a line that is not two integers is an error naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(path, "file not found")
    users: dict[int, list[int]] = {}
    current = None
    with path.open() as lines:
        for number, line in enumerate(lines, start=1):
            fields = line.split()
            if not fields:
                continue
            try:
                user, item = (int(x) for x in fields)
            except ValueError:
                message = f"expected 'user item' (two integers), got {line.strip()!r}"
                raise DataFormatError(path, message, number) from None
            if user != current:
                if user in users:
                    raise DataFormatError(path, f"user {user} appears again after other users", number)
                if max_users is not None and len(users) == max_users:
                    break
                users[user], current = [], user
            users[user].append(item)
    if not users:
        raise DataFormatError(path, "no 'user item' lines")
    return users


def match_users(reference: Mapping[int, Sequence[int]], data: Interactions, slack: int = 0) -> dict[int, int]:
    """The data user behind each reference user: the only assignment in which every reference user has as many
    events as its data user (up to ``slack`` more in the data, for events a filter removed) and every pair of
    reference users shares as many items as the two data users do (renumbering keeps set sizes and overlaps).

    Depth-first search over the candidates of equal length; raises ``ValueError`` when no assignment or more than
    one fits (then pass more reference users: each one constrains the others).
    """
    f = data.frame
    indptr = np.concatenate([[0], np.cumsum(np.bincount(f["user"].to_numpy(), minlength=data.n_users))])
    items_by_user = f["item"].to_numpy()[np.argsort(f["user"].to_numpy(), kind="stable")]
    lengths = np.diff(indptr)
    keys = list(reference)
    ref_sets = {k: set(reference[k]) for k in keys}
    candidates = {
        k: np.flatnonzero((lengths >= len(ref_sets[k])) & (lengths <= len(ref_sets[k]) + slack)).tolist() for k in keys
    }
    item_sets = {  # only the candidates' item sets are ever compared
        u: set(items_by_user[indptr[u] : indptr[u + 1]].tolist()) for u in set().union(*candidates.values())
    }
    solutions: list[dict[int, int]] = []

    def extend(chosen: dict[int, int]) -> None:
        if len(solutions) > 1:
            return
        if len(chosen) == len(keys):
            solutions.append(dict(chosen))
            return
        key = keys[len(chosen)]
        for user in candidates[key]:
            if user in chosen.values():
                continue
            if all(
                0 <= len(item_sets[user] & item_sets[other]) - len(ref_sets[key] & ref_sets[k]) <= slack
                for k, other in chosen.items()
            ):
                chosen[key] = user
                extend(chosen)
                del chosen[key]

    extend({})
    if not solutions:
        raise ValueError("no data users match the reference users' lengths and overlaps")
    if len(solutions) > 1:
        raise ValueError(f"the reference users match more than one set of data users, e.g. {solutions[:2]}")
    return solutions[0]


def tie_rule_agreement(
    reference: Mapping[int, Sequence[int]], data: Interactions, matches: Mapping[int, int], ties: str
) -> tuple[int, int]:
    """``(agreeing, compared)`` positions when each matched user's events are ordered by timestamp with the tie
    rule ``ties`` and items are renumbered from 1 in order of first appearance over the reference users in
    reference order (as such files are numbered). The first reference user is not compared: renumbering makes
    any order of its events agree."""
    f = data.frame
    frame = f[f["user"].isin(list(matches.values()))]
    ordered = frame.iloc[chronological_order(frame, ties)]
    by_user = ordered.groupby("user", sort=False)["item"].agg(list).to_dict()
    ids: dict[int, int] = {}
    agreeing = compared = 0
    for position, (key, user) in enumerate(matches.items()):
        replayed = [ids.setdefault(item, len(ids) + 1) for item in by_user[user]]
        if position == 0:
            continue
        expected = list(reference[key])
        compared += len(expected)
        agreeing += sum(a == b for a, b in zip(replayed, expected, strict=False))
    return agreeing, compared
