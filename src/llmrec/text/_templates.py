"""How items and users become text (chapter: *LLM text encoders*).

**Item** (title, year, genres from ``Interactions.items``)::

    "{title} ({year}). Genres: {genre}, {genre}."
    e.g. "Star Wars (1977). Genres: Action, Adventure, Romance, Sci-Fi, War."

A missing year is left out (``"{title}. Genres: ..."``); a film without genres gets ``"Genres: unknown."``.

**User** (behaviour): the latest ``max_items`` rated films, **most recent first**, each as
``"rated {rating}: {title} ({year})"``, joined by ``"; "``::

    "rated 5: Star Wars (1977); rated 4: Fargo (1996); rated 2: Aristocats, The (1970)"

Most recent first, because the encoder truncates a long text at its ``max_length`` tokens: what is cut is then
the oldest behaviour. A user without history has the empty text ``""``. The same template builds the history
side of the fine-tuning pairs (:func:`history_texts`), so a model is trained on the texts it is used on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._interactions import Interactions

__all__ = ["history_texts", "interaction_phrases", "item_labels", "item_texts", "user_texts"]


def item_labels(items: pd.DataFrame) -> list[str]:
    """``"{title} ({year})"`` per item (``"{title}"`` when the year is missing), in item-id order."""
    year = items["year"].astype("string")
    return items["title"].where(year.isna(), items["title"] + " (" + year + ")").astype(str).tolist()


def item_texts(items: pd.DataFrame) -> list[str]:
    """``"{title} ({year}). Genres: {g1}, {g2}."`` per item, in item-id order."""
    genres = items["genres"].map(lambda g: ", ".join(g) if len(g) else "unknown")
    return [f"{label}. Genres: {g}." for label, g in zip(item_labels(items), genres, strict=True)]


def interaction_phrases(data: Interactions) -> tuple[np.ndarray, np.ndarray]:
    """``(indptr, phrases)``: every interaction as ``"rated {r}: {title} ({year})"``, users' histories in
    chronological order in CSR form (``phrases[indptr[u]:indptr[u + 1]]``, as :meth:`Interactions.sequences`)."""
    chrono = data.chronological()
    labels = np.asarray(item_labels(data.items), dtype=object)
    ratings = [f"{r:g}" for r in chrono["rating"].to_numpy(np.float64)]
    items = chrono["item"].to_numpy()
    phrases = np.array([f"rated {r}: {label}" for r, label in zip(ratings, labels[items], strict=True)], dtype=object)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(chrono["user"].to_numpy(), minlength=data.n_users))])
    return indptr, phrases


def history_texts(phrases: np.ndarray, starts: Sequence[int], stops: Sequence[int], max_items: int) -> list[str]:
    """For each window ``[start, stop)`` of ``phrases``, its last ``max_items`` phrases, newest first, joined by
    ``"; "`` (the user template)."""
    if max_items < 1:
        raise ValueError(f"max_items must be >= 1, got {max_items}")
    out = []
    for start, stop in zip(starts, stops, strict=True):
        first = max(int(start), int(stop) - max_items)
        out.append("; ".join(phrases[first:stop][::-1]))
    return out


def user_texts(data: Interactions, max_items: int = 10) -> list[str]:
    """One text per user (``""`` for users without history): their latest ``max_items`` ratings, newest first."""
    indptr, phrases = interaction_phrases(data)
    return history_texts(phrases, indptr[:-1], indptr[1:], max_items)
