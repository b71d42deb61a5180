"""The one in-memory schema every part of the pipeline shares (chapter: *Data and evaluation*).

Conventions
-----------
* ``user`` and ``item`` are contiguous ``int64`` ids ``0..n_users-1`` and ``0..n_items-1``.
* The frame's index is the interaction's position in the source file; it never changes through
  splits and filters, so *chronological order* is always "by timestamp, ties broken by file order".
* ``items`` and ``users`` tables are indexed by the contiguous id and keep the original id in ``raw_id``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["Interactions", "INTERACTION_COLUMNS", "rank_from_end"]

INTERACTION_COLUMNS = ("user", "item", "rating", "timestamp")


@dataclass(frozen=True)
class Interactions:
    """A set of (user, item, rating, timestamp) events over a fixed id space.

    ``frame`` holds the columns :data:`INTERACTION_COLUMNS`; ``n_users``/``n_items`` fix the id space
    (a split keeps the full id space, so a user with no training events still has an id).
    """

    frame: pd.DataFrame
    n_users: int
    n_items: int
    items: pd.DataFrame | None = field(default=None, repr=False)
    users: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        missing = [c for c in INTERACTION_COLUMNS if c not in self.frame.columns]
        if missing:
            raise ValueError(f"interaction frame lacks columns {missing}")
        if len(self.frame):
            for column, bound in (("user", self.n_users), ("item", self.n_items)):
                values = self.frame[column].to_numpy()
                if values.min() < 0 or values.max() >= bound:
                    raise ValueError(f"{column} ids must lie in [0, {bound}); found {values.min()}..{values.max()}")

    def __len__(self) -> int:
        return len(self.frame)

    # ----------------------------------------------------------------- derived views
    def with_frame(self, frame: pd.DataFrame) -> Interactions:
        """The same id space and side tables around another frame."""
        return Interactions(frame, self.n_users, self.n_items, self.items, self.users)

    def chronological(self) -> pd.DataFrame:
        """Rows sorted by user, then timestamp, then file position (the tie-break rule)."""
        f = self.frame
        order = np.lexsort((f.index.to_numpy(), f["timestamp"].to_numpy(), f["user"].to_numpy()))
        return f.iloc[order]

    def matrix(self, values: str = "binary") -> sp.csr_matrix:
        """The ``n_users x n_items`` CSR matrix; ``values`` is ``"binary"`` (1 per seen pair) or ``"rating"``."""
        f = self.frame
        if values == "binary":
            data = np.ones(len(f), dtype=np.float32)
        elif values == "rating":
            data = f["rating"].to_numpy(dtype=np.float32)
        else:
            raise ValueError(f"values must be 'binary' or 'rating', not {values!r}")
        m = sp.csr_matrix((data, (f["user"].to_numpy(), f["item"].to_numpy())), shape=(self.n_users, self.n_items))
        m.sum_duplicates()
        if values == "binary":
            m.data[:] = 1.0
        return m

    def sequences(self) -> tuple[np.ndarray, np.ndarray]:
        """Each user's chronological item sequence in CSR form: ``items[indptr[u]:indptr[u+1]]``."""
        chrono = self.chronological()
        counts = np.bincount(chrono["user"].to_numpy(), minlength=self.n_users)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        return indptr, chrono["item"].to_numpy()

    def user_counts(self) -> np.ndarray:
        """Number of interactions per user (length ``n_users``)."""
        return np.bincount(self.frame["user"].to_numpy(), minlength=self.n_users)

    def item_counts(self) -> np.ndarray:
        """Number of interactions per item (length ``n_items``)."""
        return np.bincount(self.frame["item"].to_numpy(), minlength=self.n_items)


def rank_from_end(sorted_users: np.ndarray, n_users: int) -> np.ndarray:
    """For events sorted by user (then chronologically), each event's distance from its user's latest event:
    ``0`` for the latest, ``1`` for the one before, ...

    ``from_end[j] = end(u_j) - 1 - j`` with ``end(u)`` the cumulative event count up to and including user ``u``.
    The one vectorised "rank from the end" of the package (leave-one-out, sequence padding, recency weights).
    """
    ends = np.cumsum(np.bincount(sorted_users, minlength=n_users))
    return ends[sorted_users] - 1 - np.arange(len(sorted_users))
