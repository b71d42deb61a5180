"""Text encoders for items and users (chapter: *LLM text encoders*)."""

from ._encoder import (
    DEFAULT_MODEL,
    ModelLoadError,
    TextEncoder,
    atomic_save,
    cache_dir,
    default_model_path,
    mean_pool,
)
from ._templates import item_texts, user_texts

__all__ = [
    "DEFAULT_MODEL",
    "ModelLoadError",
    "TextEncoder",
    "atomic_save",
    "cache_dir",
    "default_model_path",
    "item_texts",
    "mean_pool",
    "user_texts",
]
