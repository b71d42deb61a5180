"""Language models from counts to attention (chapters: *N-gram language models*, *Neural language models*,
*Attention and Transformers*)."""

from ._attention import (
    DecoderBlock,
    MultiHeadAttention,
    causal_mask,
    scaled_dot_product_attention,
    sinusoidal_positional_encoding,
)
from ._corpus import movie_sentences, tokenize
from ._ngram import NGramLM, Vocabulary, ngram_windows
from ._pretraining import IGNORE_INDEX, applied_learning_rates, causal_lm_labels, mask_tokens, warmup_cosine
from ._recurrent import (
    GRUCell,
    LSTMCell,
    NeuralNGramLM,
    RNNLanguageModel,
    fit_language_model,
    language_model_batches,
    log_perplexity_difference,
    next_token_accuracy,
    replace_rare,
    run_cell,
    sentence_logprobs,
)

__all__ = [
    "IGNORE_INDEX",
    "DecoderBlock",
    "GRUCell",
    "LSTMCell",
    "MultiHeadAttention",
    "NGramLM",
    "NeuralNGramLM",
    "RNNLanguageModel",
    "Vocabulary",
    "applied_learning_rates",
    "causal_lm_labels",
    "causal_mask",
    "fit_language_model",
    "language_model_batches",
    "log_perplexity_difference",
    "mask_tokens",
    "movie_sentences",
    "next_token_accuracy",
    "ngram_windows",
    "replace_rare",
    "run_cell",
    "scaled_dot_product_attention",
    "sentence_logprobs",
    "sinusoidal_positional_encoding",
    "tokenize",
    "warmup_cosine",
]
