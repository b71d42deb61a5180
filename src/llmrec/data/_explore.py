"""Descriptive statistics of a dataset used by the first chapter's figures (chapter: *Data and evaluation*)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._interactions import Interactions

__all__ = ["genre_matrix", "genre_shares_over_time", "long_tail"]


def genre_matrix(items: pd.DataFrame, fractional: bool = True) -> tuple[sp.csr_matrix, list[str]]:
    """The ``n_items x n_genres`` matrix G with G[i, g] = 1/|genres(i)| (``fractional``) or 1 if i has genre g.

    Fractional counting makes every interaction contribute a total weight of 1 across genres.
    Returns the matrix and the genre names (sorted).
    """
    exploded = items["genres"].explode().dropna()
    names = sorted(exploded.unique())
    column = pd.Index(names).get_indexer(exploded.to_numpy())
    rows = exploded.index.to_numpy()
    sizes = items["genres"].str.len().to_numpy()
    values = 1.0 / sizes[rows] if fractional else np.ones(len(rows))
    return sp.csr_matrix((values, (rows, column)), shape=(len(items), len(names))), names


def genre_shares_over_time(data: Interactions, freq: str = "MS") -> pd.DataFrame:
    """Share of each genre among interactions per calendar period (rows: period start, columns: genres).

    share(g, t) = sum over events e in period t of G[item(e), g] / (number of events in t), with fractional G.
    """
    g, names = genre_matrix(data.items)
    f = data.frame
    period = pd.to_datetime(f["timestamp"], unit="s").dt.to_period(freq.rstrip("S")).dt.start_time
    codes, periods = pd.factorize(period, sort=True)
    events = sp.csr_matrix((np.ones(len(f)), (codes, f["item"].to_numpy())), shape=(len(periods), data.n_items))
    totals = np.asarray(events @ g.toarray())
    counts = np.asarray(events.sum(axis=1))
    return pd.DataFrame(totals / counts, index=pd.Index(periods, name="period"), columns=names)


def long_tail(data: Interactions) -> dict[str, np.ndarray]:
    """User activity and item popularity sorted in decreasing order, and the cumulative share of interactions
    covered by the most popular items (the long-tail curve)."""
    items = np.sort(data.item_counts())[::-1]
    return {
        "user_activity": np.sort(data.user_counts())[::-1],
        "item_popularity": items,
        "cumulative_item_share": np.cumsum(items) / items.sum(),
    }
