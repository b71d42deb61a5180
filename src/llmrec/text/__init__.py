"""Text encoders for items and users: templates, mean-pooled sentence vectors, a disk cache
(chapter: *LLM text encoders*)."""

from ._cache import EmbeddingCache, atomic_save, cache_dir, cache_key
from ._encoder import DEFAULT_MODEL, ModelLoadError, TextEncoder, default_model_path, mean_pool
from ._neighbours import nearest_items
from ._templates import history_texts, interaction_phrases, item_labels, item_texts, user_texts
from ._weights import history_weights, normalise_rows

__all__ = [
    "DEFAULT_MODEL",
    "EmbeddingCache",
    "ModelLoadError",
    "TextEncoder",
    "atomic_save",
    "cache_dir",
    "cache_key",
    "default_model_path",
    "history_texts",
    "history_weights",
    "interaction_phrases",
    "item_labels",
    "item_texts",
    "mean_pool",
    "nearest_items",
    "normalise_rows",
    "user_texts",
]
