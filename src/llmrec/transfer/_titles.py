"""Matching films across two platforms by title (chapter: *Interest transfer and cold start*).

MovieLens-100K and -1M share films but not users, and spell titles a little differently: the 1M copy keeps the
foreign-language alias in parentheses ("White Balloon, The (Badkonake Sefid )"), both move leading articles to the
end ("Godfather, The"), and a few titles differ in punctuation or case. :func:`normalise_title` removes those
differences; :func:`match_titles` then tries three keys in turn, from the strictest to the loosest:

1. the normalised full title and the year;
2. the normalised main title (the alias in parentheses dropped) and the year;
3. the normalised main title alone, when exactly one source film carries it;
4. the normalised main title equal to one of a source film's aliases, and the year ("Boot, Das" is ML-1M's
   "Boat, The (Das Boot)").
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = ["item_map", "match_titles", "normalise_title", "title_aliases"]

#: Articles that MovieLens moves to the end of a title ("Godfather, The"), in the languages it has.
ARTICLES = ("the", "a", "an", "il", "la", "le", "les", "l'", "el", "los", "las", "das", "der", "die", "det", "den")
_TRAILING_ARTICLE = re.compile(r"^(?P<body>.*?),\s*(?P<article>" + "|".join(map(re.escape, ARTICLES)) + r")$")


def _move_article(text: str) -> str:
    match = _TRAILING_ARTICLE.match(text)
    if match is None:
        return text
    article = match["article"]
    return article + ("" if article.endswith("'") else " ") + match["body"]


def _parts(title: str) -> list[str]:
    text = unicodedata.normalize("NFKD", str(title)).encode("ascii", "ignore").decode().lower().strip()
    return [_move_article(part.strip(" )")) for part in text.split("(") if part.strip(" )")] or [""]


def _clean(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text).replace("'", "").split())


def title_aliases(title: str) -> list[str]:
    """The normalised texts in parentheses of a title: ``"Boat, The (Das Boot)"`` -> ``["das boot"]``."""
    return [_clean(part) for part in _parts(title)[1:]]


def normalise_title(title: str, keep_alias: bool = True) -> str:
    """Lower-case, accent-free title with a trailing article moved to the front and punctuation removed.

    ``"Godfather, The"`` -> ``"the godfather"``; ``"White Balloon, The (Badkonake Sefid )"`` ->
    ``"the white balloon badkonake sefid"``, or ``"the white balloon"`` with ``keep_alias=False`` (text in
    parentheses dropped). A trailing article is moved in the main title and in each alias separately."""
    parts = _parts(title)
    return _clean(" ".join(parts if keep_alias else parts[:1]))


def match_titles(target: pd.DataFrame, source: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Match every target item to at most one source item by title (and year); returns ``(pairs, unmatched)``.

    ``target`` and ``source`` are item tables with ``title`` and ``year`` columns, indexed by item id. ``pairs`` has
    one row per matched target item: ``target_item``, ``source_item``, ``rule`` (1 to 4 as in the module
    docstring) and both titles; ``unmatched`` is the target table's rows that found no match. Two target items
    (MovieLens-100K lists some films twice) may match the same source item."""
    for name, table in (("target", target), ("source", source)):
        missing = {"title", "year"} - set(table.columns)
        if missing:
            raise ValueError(f"{name} item table lacks column(s) {sorted(missing)}")

    def keys(table: pd.DataFrame) -> pd.DataFrame:
        years = ["?" if pd.isna(y) else str(int(y)) for y in table["year"]]
        full = [normalise_title(t) for t in table["title"]]
        main = [normalise_title(t, keep_alias=False) for t in table["title"]]
        return pd.DataFrame(
            {
                "full": [f"{t}|{y}" for t, y in zip(full, years, strict=True)],
                "main": [f"{t}|{y}" for t, y in zip(main, years, strict=True)],
                "bare": main,
                "alias": [[f"{a}|{y}" for a in title_aliases(t)] for t, y in zip(table["title"], years, strict=True)],
            },
            index=table.index,
        )

    target_keys, source_keys = keys(target), keys(source)
    pairs = []
    remaining = target_keys
    for rule, (column, source_column) in enumerate(
        (("full", "full"), ("main", "main"), ("bare", "bare"), ("main", "alias")), start=1
    ):
        lookup = source_keys.reset_index()
        if source_column == "alias":
            lookup = lookup.explode("alias").dropna(subset=["alias"])
        lookup = lookup.drop_duplicates(source_column, keep=False if rule == 3 else "first")
        lookup = lookup.set_index(source_column)[source_keys.index.name or "index"]
        hit = remaining[column].map(lookup)
        found = hit.notna()
        pairs.append(
            pd.DataFrame({"target_item": remaining.index[found], "source_item": hit[found].astype(int), "rule": rule})
        )
        remaining = remaining[~found]
    matched = pd.concat(pairs, ignore_index=True).sort_values("target_item", ignore_index=True)
    matched["target_title"] = target.loc[matched["target_item"], "title"].to_numpy()
    matched["source_title"] = source.loc[matched["source_item"], "title"].to_numpy()
    return matched, target.loc[remaining.index]


def item_map(pairs: pd.DataFrame, n_items: int) -> np.ndarray:
    """``(n_items,)`` int64 array: the source item matched to each target item (``pairs`` from
    :func:`match_titles`), -1 where there is none; the ``item_map`` of a transferred sequence model."""
    mapped = np.full(n_items, -1, dtype=np.int64)
    targets = pairs["target_item"].to_numpy(dtype=np.int64)
    if len(targets) and (targets.min() < 0 or targets.max() >= n_items):
        raise ValueError(f"pairs name target items outside 0..{n_items - 1}")
    if len(np.unique(targets)) != len(targets):
        raise ValueError("pairs match a target item more than once")
    mapped[targets] = pairs["source_item"].to_numpy(dtype=np.int64)
    return mapped
