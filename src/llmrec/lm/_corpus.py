"""A small real text corpus that is available offline: MovieLens titles and genres (chapter: *N-gram
language models*)."""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["movie_sentences", "tokenize"]

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens (letters and digits, with an inner apostrophe: ``children's``)."""
    return _TOKEN.findall(text.lower())


def movie_sentences(items: pd.DataFrame) -> list[list[str]]:
    """One sentence per film: its title's words followed by its genres, e.g.
    ``toy story (1995) [Animation, Children's, Comedy]`` -> ``toy story animation children's comedy``."""
    return [
        tokenize(title) + [g.lower() for g in genres]
        for title, genres in zip(items["title"], items["genres"], strict=True)
    ]
