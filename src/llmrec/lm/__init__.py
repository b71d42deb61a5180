"""Language models from counts to attention (chapters: *N-gram language models*, *Attention and Transformers*)."""

from ._attention import (
    DecoderBlock,
    MultiHeadAttention,
    causal_mask,
    scaled_dot_product_attention,
    sinusoidal_positional_encoding,
)
from ._corpus import movie_sentences, tokenize
from ._ngram import NGramLM, Vocabulary, ngram_windows

__all__ = [
    "DecoderBlock",
    "MultiHeadAttention",
    "NGramLM",
    "Vocabulary",
    "causal_mask",
    "movie_sentences",
    "ngram_windows",
    "scaled_dot_product_attention",
    "sinusoidal_positional_encoding",
    "tokenize",
]
