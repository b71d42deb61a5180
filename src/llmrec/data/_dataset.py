"""The :class:`Dataset` record and the id encoding (chapter: *Data and evaluation*)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import DataFormatError
from .._interactions import Interactions, latest_event_mask

__all__ = ["Dataset", "encode"]


@dataclass(frozen=True)
class Dataset:
    """A named MovieLens dataset in the book's schema.

    ``interactions.frame``: ``user``, ``item`` (contiguous ids), ``rating`` (float32), ``timestamp`` (int64),
    indexed by file position. ``items``: ``raw_id``, ``title``, ``year`` (nullable), ``genres`` (list of str).
    ``users``: ``raw_id``, ``age``, ``gender``, ``occupation``.
    """

    name: str
    interactions: Interactions

    @property
    def items(self) -> pd.DataFrame:
        return self.interactions.items

    @property
    def users(self) -> pd.DataFrame:
        return self.interactions.users

    @property
    def n_users(self) -> int:
        return self.interactions.n_users

    @property
    def n_items(self) -> int:
        return self.interactions.n_items

    def summary(self) -> dict[str, float]:
        """Counts and density, as quoted in the book."""
        n = len(self.interactions)
        return {
            "interactions": n,
            "users": self.n_users,
            "items": self.n_items,
            "density": n / (self.n_users * self.n_items),
        }

    def item_label(self, item: int) -> str:
        """``"Title (Year)"`` for a contiguous item id."""
        row = self.items.loc[item]
        return f"{row.title} ({row.year})" if pd.notna(row.year) else str(row.title)


def _sort_key(raw_ids: pd.Series) -> np.ndarray:
    """Ascending numeric order when every id is an integer, else first-appearance order."""
    numeric = pd.to_numeric(raw_ids, errors="coerce")
    if numeric.notna().all():
        return np.argsort(numeric.to_numpy(), kind="stable")
    return np.arange(len(raw_ids))


def _line(table: pd.DataFrame, row: int) -> int:
    """The 1-based file line of a reader's data row (readers note their header lines in ``attrs``)."""
    return row + 1 + int(table.attrs.get("header_lines", 0))


def encode(
    name: str,
    ratings: pd.DataFrame,
    items: pd.DataFrame,
    users: pd.DataFrame | None,
    *,
    ratings_path: Path,
    items_path: Path,
    users_path: Path | None = None,
) -> Dataset:
    """Give users and items contiguous ids and build the :class:`Dataset`.

    Id rule (documented in the book): users are numbered in ascending original id; items in the order of the
    item catalogue file (for GroupLens files that is ascending movie id), keeping only items that have at least
    one interaction. The interaction frame keeps file order; its index is the file position. A user table, when
    given, must describe every user who has ratings (else :class:`DataFormatError` naming ``users_path``).

    A (user, item) pair rated more than once keeps only its latest event (by timestamp, then file position), with
    a warning; the original MovieLens files have no repeated pair.
    """
    if items["raw_id"].duplicated().any():
        row = int(np.flatnonzero(items["raw_id"].duplicated().to_numpy())[0])
        raise DataFormatError(
            items_path, f"item id {items['raw_id'].iloc[row]!r} appears more than once", _line(items, row)
        )
    catalogue = pd.Index(items["raw_id"])
    item_pos = catalogue.get_indexer(ratings["raw_item"])
    if (item_pos < 0).any():
        row = int(np.flatnonzero(item_pos < 0)[0])
        raise DataFormatError(
            ratings_path,
            f"item {ratings['raw_item'].iloc[row]!r} is not in the item file {items_path.name}",
            _line(ratings, row),
        )
    rated = np.zeros(len(catalogue), dtype=bool)
    rated[item_pos] = True
    new_item_id = np.cumsum(rated) - 1
    item_table = items.loc[rated].reset_index(drop=True)
    item_table.index.name = "item"

    raw_users = pd.Series(pd.unique(ratings["raw_user"]))
    raw_users = raw_users.iloc[_sort_key(raw_users)].reset_index(drop=True)
    user_index = pd.Index(raw_users)
    if users is not None:
        users_file = users_path if users_path is not None else Path("user table")
        if users["raw_id"].duplicated().any():
            row = int(np.flatnonzero(users["raw_id"].duplicated().to_numpy())[0])
            raise DataFormatError(
                users_file, f"user id {users['raw_id'].iloc[row]!r} appears more than once", _line(users, row)
            )
        missing = ~user_index.isin(pd.Index(users["raw_id"]))
        if missing.any():
            raise DataFormatError(
                users_file,
                f"incomplete user table: {int(missing.sum())} users who have ratings in {ratings_path.name} have no "
                f"line here (the first: user {raw_users[int(np.flatnonzero(missing)[0])]!r}); restore the file, or "
                "remove it to load without user attributes",
            )
        user_table = users.set_index("raw_id").loc[raw_users].reset_index()
    else:
        user_table = pd.DataFrame({"raw_id": raw_users})
    user_table.index.name = "user"

    frame = pd.DataFrame(
        {
            "user": user_index.get_indexer(ratings["raw_user"]).astype(np.int64),
            "item": new_item_id[item_pos].astype(np.int64),
            "rating": ratings["rating"].to_numpy(np.float32),
            "timestamp": ratings["timestamp"].to_numpy(np.int64),
        }
    )
    frame.index.name = "position"
    latest = latest_event_mask(frame)
    if not latest.all():
        first = int(np.flatnonzero(~latest)[0])
        warnings.warn(
            f"{ratings_path}: {int((~latest).sum())} repeated (user, item) pairs (the first at data line {first + 1}); "
            "kept the latest event of each pair (by timestamp, then file position)",
            stacklevel=2,
        )
        frame = frame[latest]
    return Dataset(name, Interactions(frame, len(user_table), len(item_table), item_table, user_table))
