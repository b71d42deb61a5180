"""Neural language models (chapter *Neural language models*): the from-scratch GRU and LSTM cells against
torch.nn.GRU/LSTM, Bengio's window model, training and perplexity on a toy corpus, BERT's masking against
transformers' DataCollatorForLanguageModeling, causal-LM labels against GPT-2's own loss, and the trainer's
warm-up + cosine schedule as measured from an optimiser run."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from llmrec.lm import (
    IGNORE_INDEX,
    GRUCell,
    LSTMCell,
    NeuralNGramLM,
    NGramLM,
    RNNLanguageModel,
    applied_learning_rates,
    causal_lm_labels,
    fit_language_model,
    language_model_batches,
    log_perplexity_difference,
    mask_tokens,
    next_token_accuracy,
    replace_rare,
    run_cell,
    sentence_logprobs,
    warmup_cosine,
)
from llmrec.training import Trainer


# ----------------------------------------------------------------------------------------------- cells
@pytest.mark.parametrize(("cell_class", "reference_class"), [(GRUCell, nn.GRU), (LSTMCell, nn.LSTM)])
def test_cell_matches_torch_with_copied_weights(cell_class, reference_class) -> None:
    torch.manual_seed(0)
    reference = reference_class(5, 7, batch_first=True)
    cell = cell_class(5, 7).load_from_torch(reference)
    x = torch.randn(3, 6, 5, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, _ = reference(x)
        ours = run_cell(cell, x)
    assert ours.shape == expected.shape == (3, 6, 7)
    assert (ours - expected).abs().max() < 1e-6


def test_gru_step_by_hand() -> None:
    """One step of a 1-unit GRU with all weights 1 and biases 0, input 1, state 0.5:
    r = z = sigmoid(1.5), n = tanh(1 + r * 0.5), h' = (1 - z) n + z * 0.5."""
    cell = GRUCell(1, 1)
    with torch.no_grad():
        cell.weight_ih.fill_(1.0)
        cell.weight_hh.fill_(1.0)
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
        out = cell(torch.ones(1, 1), torch.full((1, 1), 0.5))
    s = 1 / (1 + math.exp(-1.5))
    n = math.tanh(1 + s * 0.5)
    assert out.item() == pytest.approx((1 - s) * n + s * 0.5, abs=1e-7)


def test_lstm_step_by_hand() -> None:
    """Weights 1, biases 0, x = 1, h = 0, c = 1: every gate pre-activation is 1,
    c' = sigmoid(1) * 1 + sigmoid(1) * tanh(1), h' = sigmoid(1) * tanh(c')."""
    cell = LSTMCell(1, 1)
    with torch.no_grad():
        for p in cell.parameters():
            p.fill_(1.0 if p.dim() == 2 else 0.0)
        out = cell(torch.ones(1, 1), torch.tensor([[0.0, 1.0]]))
    s = 1 / (1 + math.exp(-1))
    c = s + s * math.tanh(1)
    assert out[0, 1].item() == pytest.approx(c, abs=1e-7)
    assert cell.output(out).item() == pytest.approx(s * math.tanh(c), abs=1e-7)


def test_cells_refuse_bad_sizes_and_cells() -> None:
    with pytest.raises(ValueError, match="hidden_size"):
        GRUCell(3, 0)
    with pytest.raises(ValueError, match="cell must be one of"):
        RNNLanguageModel(10, cell="rnn")
    with pytest.raises(ValueError, match="dropout"):
        RNNLanguageModel(10, dropout=1.0)
    with pytest.raises(ValueError, match="context"):
        NeuralNGramLM(10, context=0, bos=0)


def test_seeded_models_are_identical() -> None:
    a, b = RNNLanguageModel(20, 4, 6, seed=3), RNNLanguageModel(20, 4, 6, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    c = RNNLanguageModel(20, 4, 6, seed=4)
    assert not torch.equal(a.embedding.weight, c.embedding.weight)


# ----------------------------------------------------------------------------------------------- window model
def test_neural_ngram_sees_only_its_window() -> None:
    model = NeuralNGramLM(12, context=2, bos=10, embedding_size=3, hidden_size=5).eval()
    a = torch.tensor([[10, 1, 2, 3, 4]])
    b = torch.tensor([[10, 7, 8, 3, 4]])  # differs only more than two tokens before the last position
    with torch.no_grad():
        la, lb = model(a), model(b)
    assert torch.allclose(la[0, -1], lb[0, -1])
    assert not torch.allclose(la[0, 2], lb[0, 2])
    # the first position's window is <s> <s>: the left padding is the begin symbol
    with torch.no_grad():
        first = model(torch.tensor([[10]]))[0, 0]
        x = model.embedding(torch.tensor([10, 10])).flatten()
        by_formula = model.output(torch.tanh(model.hidden(x)))
    assert torch.allclose(first, by_formula, atol=1e-6)


# ----------------------------------------------------------------------------------------------- data, training
def test_batches_pad_inputs_and_targets() -> None:
    batches = language_model_batches(
        [np.array([1, 2]), np.array([3])], bos=5, eos=6, batch_size=2, generator=torch.Generator().manual_seed(0)
    )
    ((inputs, targets),) = batches
    rows = {tuple(r.tolist()): tuple(t.tolist()) for r, t in zip(inputs, targets, strict=True)}
    assert rows == {(5, 1, 2): (1, 2, 6), (5, 3, 6): (3, 6, IGNORE_INDEX)}


def test_replace_rare_only_touches_singletons() -> None:
    sequences = [np.array([0, 1, 2]), np.array([0, 3, 0])]
    assert [s.tolist() for s in replace_rare(sequences, unk=9, share=1.0, seed=0)] == [[0, 9, 9], [0, 9, 0]]
    assert [s.tolist() for s in replace_rare(sequences, unk=9, share=0.0, seed=0)] == [[0, 1, 2], [0, 3, 0]]
    with pytest.raises(ValueError, match="share"):
        replace_rare(sequences, unk=9, share=1.5, seed=0)


def _toy_corpus() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """a b c a b c ... (vocabulary 0..2, <s> 3, </s> 4, <UNK> 5): the next token is determined."""
    rng = np.random.default_rng(0)
    make = lambda: np.arange(rng.integers(1, 3), rng.integers(4, 7)) % 3  # noqa: E731
    return [make() for _ in range(60)], [make() for _ in range(20)]


@pytest.mark.parametrize("kind", ["gru", "lstm", "nnlm"])
def test_training_drives_perplexity_toward_one(kind: str) -> None:
    train, held_out = _toy_corpus()
    if kind == "nnlm":
        model = NeuralNGramLM(6, context=2, bos=3, embedding_size=8, hidden_size=16, seed=1)
    else:
        model = RNNLanguageModel(6, 8, 16, cell=kind, seed=1)
    n_events = sum(len(s) + 1 for s in held_out)
    before = math.exp(-np.concatenate(sentence_logprobs(model, held_out, 3, 4)).sum() / n_events)
    trainer = Trainer(epochs=40, learning_rate=0.03, seed=0)
    history = fit_language_model(model, train, bos=3, eos=4, trainer=trainer, batch_size=16)
    after = math.exp(-np.concatenate(sentence_logprobs(model, held_out, 3, 4)).sum() / n_events)
    assert before > 4.0  # about uniform over the 6 ids
    assert history.loss[-1] < history.loss[0]
    # only the first token and the length are uncertain; everything else is determined. The window model
    # cannot count how far a sentence has gone, so the end symbol stays uncertain for it
    assert after < (2.0 if kind == "nnlm" else 1.6)


def test_sentence_logprobs_agree_with_a_bigram_count_model_when_the_rnn_is_a_table() -> None:
    """An RNN LM's perplexity is computed over the same events as NGramLM(2): w_1..w_T </s>."""
    sequences = [np.array([0, 1]), np.array([1])]
    model = RNNLanguageModel(5, 2, 2, seed=0)
    with torch.no_grad():
        model.output.weight.zero_()
        model.output.bias.zero_()  # uniform over 5 ids whatever the state
    logprobs = sentence_logprobs(model, sequences, bos=2, eos=3)
    assert [len(x) for x in logprobs] == [3, 2]
    assert np.allclose(np.concatenate(logprobs), -math.log(5))
    uniform = NGramLM(2, smoothing="add-k", k=1e12).fit(sequences, 5, 2, 3)
    assert math.exp(-np.concatenate(logprobs).mean()) == pytest.approx(uniform.perplexity(sequences), rel=1e-9)


def test_temperature_keeps_accuracy_and_changes_perplexity() -> None:
    sequences = [np.array([0, 1, 2]), np.array([1, 2])]
    model = RNNLanguageModel(6, 3, 4, seed=2)
    sharp = sentence_logprobs(model, sequences, 3, 4)
    flat = sentence_logprobs(model, sequences, 3, 4, temperature=5.0)
    assert not np.allclose(np.concatenate(sharp), np.concatenate(flat))
    with torch.no_grad():
        inputs = torch.tensor([[3, 0, 1, 2], [3, 1, 2, 4]])
        top = model.eval()(inputs).argmax(-1)
    targets = torch.tensor([[0, 1, 2, 4], [1, 2, 4, -1]])
    expected = (top == targets)[targets >= 0].float().mean().item()
    assert next_token_accuracy(model, sequences, 3, 4) == pytest.approx(expected)
    with pytest.raises(ValueError, match="temperature"):
        sentence_logprobs(model, sequences, 3, 4, temperature=0.0)


def test_log_perplexity_difference_by_hand() -> None:
    a = [np.log([0.5, 0.5]), np.log([0.25])]
    b = [np.log([0.5, 0.25]), np.log([0.5])]
    diff, low, high = log_perplexity_difference(a, b, seed=0, n_resamples=200)
    # log PPL_a = -(2 log .5 + log .25)/3 = (4/3) log 2, log PPL_b the same: difference 0
    assert diff == pytest.approx(0.0, abs=1e-12)
    assert low <= diff <= high
    with pytest.raises(ValueError, match="same events"):
        log_perplexity_difference(a, b[:1], seed=0)


# --------------------------------------------------------------------------------------- pre-training objectives
def _bert_tokenizer(tmp_path, words: list[str]):
    from transformers import BertTokenizer

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n")
    return BertTokenizer(str(vocab))


def test_mask_tokens_equals_transformers_collator(tmp_path) -> None:
    from transformers import DataCollatorForLanguageModeling

    words = [f"w{i}" for i in range(40)]
    tokenizer = _bert_tokenizer(tmp_path, words)
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(words, size=rng.integers(3, 30))) for _ in range(64)]
    examples = [tokenizer(t) for t in texts]
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=0.15, seed=7)
    batch = collator([dict(e) for e in examples])
    padded = tokenizer.pad([dict(e) for e in examples], return_tensors="pt")
    ids = padded["input_ids"]
    special = torch.tensor(
        [tokenizer.get_special_tokens_mask(row, already_has_special_tokens=True) for row in ids.tolist()]
    )
    inputs, labels = mask_tokens(
        ids, special, tokenizer.mask_token_id, len(tokenizer), torch.Generator().manual_seed(7)
    )
    assert torch.equal(inputs, batch["input_ids"])
    assert torch.equal(labels, batch["labels"])


def test_mask_tokens_proportions() -> None:
    ids = torch.randint(5, 1000, (400, 250), generator=torch.Generator().manual_seed(0))
    special = torch.zeros_like(ids)
    special[:, 0] = 1
    inputs, labels = mask_tokens(ids, special, mask_id=4, vocab_size=1000, generator=torch.Generator().manual_seed(1))
    chosen = labels != IGNORE_INDEX
    assert not chosen[:, 0].any()
    assert chosen[:, 1:].float().mean().item() == pytest.approx(0.15, abs=0.003)
    assert torch.equal(labels[chosen], ids[chosen])
    assert (inputs[chosen] == 4).float().mean().item() == pytest.approx(0.8, abs=0.01)
    changed = chosen & (inputs != 4) & (inputs != ids)
    assert changed.sum().item() / chosen.sum().item() == pytest.approx(0.1 * 0.999, abs=0.01)
    assert torch.equal(inputs[~chosen], ids[~chosen])


def test_mask_tokens_refuses_bad_probabilities() -> None:
    ids = torch.ones(2, 3, dtype=torch.long)
    with pytest.raises(ValueError, match="mlm_probability"):
        mask_tokens(ids, torch.zeros_like(ids), 0, 5, torch.Generator(), mlm_probability=0.0)
    with pytest.raises(ValueError, match="at most 1"):
        mask_tokens(ids, torch.zeros_like(ids), 0, 5, torch.Generator(), mask_replace_prob=0.8, random_replace_prob=0.3)


def test_causal_labels_give_gpt2s_own_loss() -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(n_embd=16, n_head=2, n_layer=1, n_positions=12, vocab_size=20, bos_token_id=0, eos_token_id=0)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = GPT2LMHeadModel(config).eval()
    ids = torch.tensor([[1, 5, 7, 9, 0, 0], [2, 3, 4, 5, 6, 8]])
    padding = torch.tensor([[0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0]])
    labels = causal_lm_labels(ids, padding)
    assert labels[0].tolist() == [5, 7, 9, -100, -100, -100]
    assert labels[1].tolist() == [3, 4, 5, 6, 8, -100]
    with torch.no_grad():
        hf_labels = ids.masked_fill(padding.bool(), -100)  # what DataCollatorForLanguageModeling(mlm=False) gives
        out = model(ids, attention_mask=1 - padding, labels=hf_labels)
        ours = F.cross_entropy(out.logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE_INDEX)
    assert ours.item() == pytest.approx(out.loss.item(), abs=1e-6)


# ----------------------------------------------------------------------------------------------- schedule
def test_warmup_cosine_by_hand_and_as_applied() -> None:
    factors = warmup_cosine(np.arange(12), total_steps=12, warmup_steps=4)
    assert factors[0] == pytest.approx(0.25 * 0.5 * (1 + math.cos(math.pi / 12)))
    assert factors[3] == pytest.approx(0.5 * (1 + math.cos(math.pi * 4 / 12)))
    assert factors[-1] == pytest.approx(0.0, abs=1e-12)
    trainer = Trainer(epochs=3, learning_rate=0.01, warmup_steps=4, decay="cosine", seed=0)
    applied = applied_learning_rates(trainer, steps_per_epoch=4)
    assert applied.shape == (12,)
    assert np.abs(applied - 0.01 * factors).max() < 1e-10
    constant = applied_learning_rates(Trainer(epochs=1, learning_rate=0.01), steps_per_epoch=5)
    assert np.abs(constant - 0.01).max() < 1e-10
