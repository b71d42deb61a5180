"""How items and users become text (chapter: *LLM text encoders*).

Item: ``"{title} ({year}). Genres: {genre}, {genre}."`` e.g. ``"Star Wars (1977). Genres: Action, Adventure,
Romance, Sci-Fi, War."``

User: the latest ``max_items`` rated films, most recent first, ``"rated {r}: {title} ({year})"`` joined by
``"; "``, e.g. ``"rated 5: Star Wars (1977); rated 4: Fargo (1996)"``. The encoder truncates long texts at its
``max_length``, so most-recent-first keeps the newest films.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._interactions import Interactions

__all__ = ["item_texts", "user_texts"]


def _label(items: pd.DataFrame) -> pd.Series:
    year = items["year"].astype("string")
    return items["title"].where(year.isna(), items["title"] + " (" + year + ")")


def item_texts(items: pd.DataFrame) -> list[str]:
    """One text per item, in item-id order."""
    genres = items["genres"].map(lambda g: ", ".join(g) if len(g) else "unknown")
    return (_label(items) + ". Genres: " + genres + ".").tolist()


def user_texts(data: Interactions, max_items: int = 10) -> list[str]:
    """One text per user (empty for users without history), from the chronological interactions."""
    labels = _label(data.items).to_numpy()
    chrono = data.chronological()
    latest = chrono.groupby("user", sort=True).tail(max_items).iloc[::-1]  # most recent first
    rating = latest["rating"].map(lambda r: f"{r:g}")
    parts = ("rated " + rating + ": " + labels[latest["item"].to_numpy()]).groupby(latest["user"].to_numpy())
    joined = parts.agg("; ".join)
    out = np.full(data.n_users, "", dtype=object)
    out[joined.index.to_numpy()] = joined.to_numpy()
    return out.tolist()
