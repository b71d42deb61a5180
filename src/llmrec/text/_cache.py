"""An on-disk cache of text vectors, safe against interrupted writes (chapter: *LLM text encoders*).

One ``.npy`` file per (encoder, list of texts):

    key = sha256(identity of the encoder || len(t_1) t_1 || len(t_2) t_2 || ...)

where the identity of the encoder is a hash of everything that changes a vector (weights, configuration,
tokenizer, ``max_length``, pooling; see :meth:`~llmrec.text.TextEncoder.identity`) and each text is prefixed by
its length in bytes, so no two different lists of texts share a key. A new model, a changed text, or a changed
order is a miss. Files are written under a temporary name in the cache folder and renamed with ``os.replace``
(atomic on POSIX and Windows), so a crash or an interrupt during a write leaves no partial file behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["EmbeddingCache", "atomic_save", "cache_dir", "cache_key"]


def cache_dir() -> Path:
    """``$LLMREC_CACHE_DIR`` if set, else ``<$LLMREC_DATA_DIR or ~/.cache/llmrec>/embeddings``."""
    if os.environ.get("LLMREC_CACHE_DIR"):
        return Path(os.environ["LLMREC_CACHE_DIR"]).expanduser()
    root = os.environ.get("LLMREC_DATA_DIR") or Path.home() / ".cache" / "llmrec"
    return Path(root).expanduser() / "embeddings"


def cache_key(identity: str, texts: Sequence[str]) -> str:
    """``sha256(identity || len(t) t for each text)`` as 64 hex digits."""
    digest = hashlib.sha256(identity.encode())
    for text in texts:
        data = text.encode("utf-8")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_save(target: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``target`` (``.npy``) through a temporary file in the same folder and ``os.replace``.

    On any exception (including ``KeyboardInterrupt``) the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem[:16]}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            np.save(out, array)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual permissions
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class EmbeddingCache:
    """Vectors stored as ``<folder>/<key>.npy`` (folder: :func:`cache_dir` unless given)."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder).expanduser() if folder is not None else cache_dir()

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.npy"

    def load(self, key: str, rows: int | None = None) -> np.ndarray | None:
        """The stored array, or ``None`` on a miss (a missing, unreadable or wrongly shaped file is a miss)."""
        target = self.path(key)
        if not target.is_file():
            return None
        try:
            array = np.load(target, allow_pickle=False)
        except (OSError, ValueError):
            return None
        if array.ndim != 2 or (rows is not None and array.shape[0] != rows):
            return None
        return array

    def save(self, key: str, array: np.ndarray) -> Path:
        target = self.path(key)
        atomic_save(target, array)
        return target
