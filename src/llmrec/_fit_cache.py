"""A build-wide cache of fitted models and their evaluations (chapter: *Evaluation methodology*).

Several chapters compare their model with the same baselines (most-popular, item-kNN, ...) on the same split.
Fitting those once per build, not once per chapter, is what :func:`llmrec.pipeline.fit_evaluate` does with this
cache: an entry is keyed by everything that determines the result,

    key = SHA-256(model name, parameters, seed, stage, k, fingerprint of the fitted data and the targets,
                  fingerprint of the llmrec source code)

so a hit returns exactly what a fit would compute (a pickle round trip, which the model contract tests). The
cache is off unless a folder is given or ``LLMREC_FIT_CACHE`` names one; ``scripts/run_notebooks.py`` points it
at ``_build/executed/fit-cache`` and ``make test`` empties ``_build/executed`` first, so every build fits each
baseline once. Each fit and each hit appends a line to ``fits.jsonl`` in the folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._interactions import Interactions

__all__ = ["FIT_CACHE_ENV", "cache_key", "code_fingerprint", "fit_cache_dir", "interactions_fingerprint"]

FIT_CACHE_ENV = "LLMREC_FIT_CACHE"
LOG_NAME = "fits.jsonl"


def fit_cache_dir(cache_dir: str | Path | None = None) -> Path | None:
    """The cache folder: ``cache_dir`` if given, else ``$LLMREC_FIT_CACHE`` if set and non-empty, else None."""
    if cache_dir is not None:
        return Path(cache_dir)
    value = os.environ.get(FIT_CACHE_ENV, "").strip()
    return Path(value) if value else None


def _frame_digest(frame: pd.DataFrame | None) -> str:
    if frame is None:
        return "none"
    # object columns may hold lists (an item's genres), which pandas cannot hash: hash their text form instead
    hashable = frame.apply(lambda column: column.map(repr) if column.dtype == object else column)
    hashed = pd.util.hash_pandas_object(hashable, index=True).to_numpy(np.uint64)
    header = json.dumps([list(map(str, frame.columns)), [str(t) for t in frame.dtypes], len(frame)])
    return hashlib.sha256(header.encode() + hashed.tobytes()).hexdigest()


def interactions_fingerprint(data: Interactions) -> str:
    """SHA-256 over the events (values and row labels), the id space and the item and user side tables."""
    parts = [
        f"{data.n_users}:{data.n_items}",
        _frame_digest(data.frame),
        _frame_digest(data.items),
        _frame_digest(data.users),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 over the package's Python sources: a changed model or evaluator never meets a stale entry."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(
    name: str, params: dict[str, Any], seed: int, stage: str, k: int, fit_data: Interactions, targets: Interactions
) -> str:
    """The entry's key (see the module docstring). Parameters must be JSON-serialisable."""
    try:
        params_text = json.dumps(params, sort_keys=True)
    except TypeError as err:
        raise ValueError(f"parameters of {name!r} must be JSON-serialisable to be cached: {err}") from None
    content = json.dumps(
        {
            "model": name,
            "params": params_text,
            "seed": int(seed),
            "stage": stage,
            "k": int(k),
            "fit_data": interactions_fingerprint(fit_data),
            "targets": interactions_fingerprint(targets),
            "code": code_fingerprint(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(content.encode()).hexdigest()


def load_entry(folder: Path, key: str) -> Any | None:
    """The cached object for ``key``, or None when there is none."""
    path = folder / f"{key}.pkl"
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        return pickle.load(handle)


def store_entry(folder: Path, key: str, value: Any) -> None:
    """Write ``value`` for ``key`` atomically (a half-written entry is never read)."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{key}.{os.getpid()}.partial"
    with partial.open("wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, folder / f"{key}.pkl")


def log_event(folder: Path, event: str, key: str, name: str, params: dict[str, Any], seconds: float) -> None:
    """Append one line to the folder's ``fits.jsonl`` (``event`` is ``"fit"`` or ``"hit"``)."""
    folder.mkdir(parents=True, exist_ok=True)
    line = {
        "event": event,
        "key": key,
        "model": name,
        "params": params,
        "fit_seconds": round(float(seconds), 3),
        "notebook": os.environ.get("LLMREC_NOTEBOOK", ""),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    with (folder / LOG_NAME).open("a") as handle:
        handle.write(json.dumps(line, sort_keys=True) + "\n")


def read_log(folder: str | Path) -> list[dict[str, Any]]:
    """Every line of the folder's ``fits.jsonl`` (empty when there is none)."""
    path = Path(folder) / LOG_NAME
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
