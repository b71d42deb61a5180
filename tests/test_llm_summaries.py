"""Chapter 10, LLM-written interest summaries: the prompt (pinned), batched greedy generation against a hand
loop over tokens on a tiny random Llama, the cosine scores by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from llmrec.llm import cosine_scores, generate_batch, interest_summaries, summary_prompt

VOCAB = " abcdefghijklmnopqrstuvwxyz0123456789."  # ids 3..40; 0 pad, 1 bos, 2 eos


class CharTokenizer:
    """Lower-cased characters of :data:`VOCAB` to ids 3.., anything else to the space; decodes ids >= 3."""

    eos_token, eos_token_id, pad_token_id = "|", 2, 0
    chat_template = None

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        return {"input_ids": [3 + max(VOCAB.find(ch), 0) for ch in text.lower()]}

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return "".join(VOCAB[i - 3] for i in ids if i >= 3)


def tiny_llama() -> torch.nn.Module:
    from transformers import LlamaConfig, LlamaForCausalLM

    with torch.random.fork_rng():
        torch.manual_seed(0)
        config = LlamaConfig(
            vocab_size=3 + len(VOCAB),
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=1,
            max_position_embeddings=512,
            bos_token_id=1,
            eos_token_id=2,
            pad_token_id=0,
        )
        return LlamaForCausalLM(config).eval()


def hand_greedy(model: torch.nn.Module, tokenizer: CharTokenizer, request: str, steps: int) -> str:
    """Greedy decoding one token at a time, the whole sequence re-run each step, no cache, no padding."""
    ids = tokenizer(request + "\n")["input_ids"]
    new: list[int] = []
    with torch.no_grad():
        for _ in range(steps):
            token = int(model(input_ids=torch.tensor([ids + new])).logits[0, -1].argmax())
            if token == tokenizer.eos_token_id:
                break
            new.append(token)
    return tokenizer.decode(new).strip()


def test_summary_prompt_is_pinned():
    assert summary_prompt(["Toy Story (1995)", "Fargo (1996)"]) == (
        "A user watched these movies, oldest first:\n1. Toy Story (1995)\n2. Fargo (1996)\n\n"
        "In one or two sentences, describe the kinds of movies this user enjoys (genres, themes, moods, eras). "
        "Do not list the titles."
    )
    with pytest.raises(ValueError, match="history"):
        summary_prompt([])


def test_batched_generation_equals_a_hand_greedy_loop():
    model, tokenizer = tiny_llama(), CharTokenizer()
    requests = ["a b c", "star wars and fargo", "x", "toy story 1995."]
    expected = [hand_greedy(model, tokenizer, r, 12) for r in requests]
    assert any(expected)  # the random model writes something
    for batch_size in (1, 3, 4):  # one at a time, a ragged last batch, all left-padded together
        assert generate_batch(model, tokenizer, requests, max_new_tokens=12, batch_size=batch_size) == expected
    again = generate_batch(model, tokenizer, requests, max_new_tokens=12, batch_size=4)
    assert again == expected  # greedy: deterministic


def test_interest_summaries_use_the_pinned_prompt():
    model, tokenizer = tiny_llama(), CharTokenizer()
    histories = [["Heat (1995)", "Babe (1995)"], ["Fargo (1996)"]]
    got = interest_summaries(model, tokenizer, histories, max_new_tokens=6, batch_size=2)
    assert got == [hand_greedy(model, tokenizer, summary_prompt(h), 6) for h in histories]
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate_batch(model, tokenizer, ["a"], max_new_tokens=0)


def test_cosine_scores_by_hand():
    users = np.array([[3.0, 4.0], [0.0, 0.0]])
    items = np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, -1.0]])
    got = cosine_scores(users, items, np.array([[0, 1, 2], [2, 1, 0]]))
    np.testing.assert_allclose(got[0], [0.6, 0.8, -7.0 / (5.0 * np.sqrt(2.0))], atol=1e-12)
    np.testing.assert_allclose(got[1], [0.0, 0.0, 0.0])


# --------------------------------------------------------------------------------------- the LLMRank set-up
@pytest.mark.slow
def test_candidate_protocol_on_ml100k(ml100k):
    from llmrec import leave_one_out
    from llmrec.llm import candidate_protocol, recent_titles
    from llmrec.text import item_labels

    split = leave_one_out(ml100k.interactions)
    small, large = candidate_protocol(split, 5, seed=3), candidate_protocol(split, 12, seed=3)
    for field in ("users", "targets", "candidates", "titles", "orders"):
        np.testing.assert_array_equal(getattr(small, field), getattr(large.head(5), field))
    assert small.histories == large.histories[:5]
    test = split.test.frame.set_index("user")["item"]
    np.testing.assert_array_equal(large.candidates[:, 0], test.loc[large.users].to_numpy())
    known = split.fit_data("test").matrix()
    for row, user in enumerate(large.users):
        assert known[user, large.candidates[row, 1:]].nnz == 0  # negatives are unseen
        assert len(set(large.candidates[row])) == 20
    labels = item_labels(ml100k.items)
    assert large.titles[0, 0] == labels[large.targets[0]]
    assert large.histories[0] == recent_titles(split.fit_data("test"), [large.users[0]], 10)[0]
    with pytest.raises(ValueError, match="n_users"):
        candidate_protocol(split, 0)


def test_paired_summary_matches_llmrec_stats():
    from llmrec.llm import paired_summary
    from llmrec.stats import bootstrap_ci, paired_t_test, wilcoxon_signed_rank

    a, b = np.array([0.5, 1.0, 0.0, 0.63, 0.39]), np.array([0.3, 1.0, 0.1, 0.0, 0.39])
    alone = paired_summary(a, seed=1)
    assert alone["mean"] == pytest.approx(a.mean()) and alone["users"] == 5
    assert (alone["low"], alone["high"]) == bootstrap_ci(a, seed=1)
    both = paired_summary(a, b, seed=1)
    assert both["mean"] == pytest.approx((a - b).mean())
    assert (both["low"], both["high"]) == bootstrap_ci(a - b, seed=1)
    assert both["t_p_value"] == paired_t_test(a, b).p_value
    assert both["wilcoxon_p_value"] == wilcoxon_signed_rank(a, b).p_value
