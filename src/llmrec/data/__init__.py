"""MovieLens in one schema: readers, a checksummed registry and cache, and :func:`load_dataset`."""

from ._dataset import Dataset, encode
from ._explore import genre_matrix, genre_shares_over_time, long_tail
from ._load import load_dataset, load_folder
from ._readers import ML1M_OCCUPATIONS, ML100K_GENRES, read_atomic_inter, read_atomic_items
from ._registry import DATASETS, data_dir, fetch, file_digest, file_sha256, verify_file
from ._renumbered import match_users, read_user_item_lines, tie_rule_agreement

__all__ = [
    "DATASETS",
    "ML100K_GENRES",
    "ML1M_OCCUPATIONS",
    "Dataset",
    "data_dir",
    "encode",
    "fetch",
    "genre_matrix",
    "genre_shares_over_time",
    "long_tail",
    "read_atomic_inter",
    "read_atomic_items",
    "file_digest",
    "file_sha256",
    "load_dataset",
    "load_folder",
    "match_users",
    "read_user_item_lines",
    "tie_rule_agreement",
    "verify_file",
]
