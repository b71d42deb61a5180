"""Interest transfer across platforms and domains (chapter: *Interest transfer and cold start*)."""

from ._compare import PairedComparison, bootstrap_interval, paired_comparison
from ._mapping import MLPMap, fit_linear_map, fit_mlp_map
from ._profiles import distinct_profiles, occupation_phrase, profile_texts
from ._sequential import SequentialTransfer, sequential_transfer
from ._titles import item_map, match_titles, normalise_title, title_aliases

__all__ = [
    "MLPMap",
    "PairedComparison",
    "SequentialTransfer",
    "bootstrap_interval",
    "paired_comparison",
    "fit_linear_map",
    "item_map",
    "fit_mlp_map",
    "match_titles",
    "distinct_profiles",
    "occupation_phrase",
    "profile_texts",
    "sequential_transfer",
    "normalise_title",
    "title_aliases",
]
