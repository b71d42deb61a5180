"""The one in-memory schema every part of the pipeline shares (chapter: *Data and evaluation*).

Conventions
-----------
* ``user`` and ``item`` are contiguous ``int64`` ids ``0..n_users-1`` and ``0..n_items-1``.
* The frame's index is the interaction's position in the source file; it never changes through
  splits and filters, so *chronological order* is always "by timestamp, ties broken by file order".
* ``items`` and ``users`` tables are indexed by the contiguous id and keep the original id in ``raw_id``.
* One (user, item) pair, one rating: where a pair occurs more than once, its **latest** event (by timestamp, then
  file position) holds the rating. :func:`llmrec.load_dataset` keeps only that event; for frames built by hand,
  ``matrix("rating")`` reads the latest rating (it never sums them) and :meth:`Interactions.latest_per_pair`
  drops the earlier events.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._seed import numpy_rng

__all__ = [
    "Interactions",
    "INTERACTION_COLUMNS",
    "LOO_TIE_RULES",
    "chronological_order",
    "latest_event_mask",
    "rank_from_end",
]

INTERACTION_COLUMNS = ("user", "item", "rating", "timestamp")

#: How events of one user with the same timestamp are ordered (chapter *Evaluation methodology* measures each).
LOO_TIE_RULES = ("file-order", "reverse-file-order", "random")


def chronological_order(frame: pd.DataFrame, ties: str = "file-order", seed: int = 42) -> np.ndarray:
    """Row positions of ``frame`` sorted by (user, timestamp, tie key); the tie key orders events with the same
    timestamp: ``"file-order"`` (the frame's index, the book's rule: the later line is the later event),
    ``"reverse-file-order"`` or ``"random"`` (a seeded permutation)."""
    if ties == "file-order":
        tie_key = frame.index.to_numpy()
    elif ties == "reverse-file-order":
        tie_key = -frame.index.to_numpy()
    elif ties == "random":
        tie_key = numpy_rng(seed).permutation(len(frame))
    else:
        raise ValueError(f"ties must be one of {LOO_TIE_RULES}, got {ties!r}")
    return np.lexsort((tie_key, frame["timestamp"].to_numpy(), frame["user"].to_numpy()))


def latest_event_mask(frame: pd.DataFrame) -> np.ndarray:
    """``True`` for the latest event of each (user, item) pair of ``frame``: the last one in (timestamp, file
    position) order. Vectorised: one lexicographic sort by (user, item, timestamp, position)."""
    order = np.lexsort(
        (frame.index.to_numpy(), frame["timestamp"].to_numpy(), frame["item"].to_numpy(), frame["user"].to_numpy())
    )
    users, items = frame["user"].to_numpy()[order], frame["item"].to_numpy()[order]
    last_of_pair = np.ones(len(frame), dtype=bool)
    last_of_pair[:-1] = (users[1:] != users[:-1]) | (items[1:] != items[:-1])
    keep = np.zeros(len(frame), dtype=bool)
    keep[order[last_of_pair]] = True
    return keep


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
        return self.frame.iloc[chronological_order(self.frame)]

    def latest_per_pair(self) -> Interactions:
        """Only the latest event of each (user, item) pair (by timestamp, then file position)."""
        keep = latest_event_mask(self.frame)
        return self if keep.all() else self.with_frame(self.frame[keep])

    def require_items(self, who: str) -> pd.DataFrame:
        """The item table, or a ``ValueError`` saying that ``who`` (a model name) needs one."""
        if self.items is None or not {"title", "genres"} <= set(self.items.columns):
            raise ValueError(f"{who} needs an item table (titles, genres): load the dataset with load_dataset(...)")
        return self.items

    def matrix(self, values: str = "binary") -> sp.csr_matrix:
        """The ``n_users x n_items`` CSR matrix; ``values`` is ``"binary"`` (1 per seen pair) or ``"rating"``
        (the rating of the pair's latest event, never a sum over repeated events)."""
        f = self.frame
        if values == "rating" and len(f):
            f = f[latest_event_mask(f)]
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
