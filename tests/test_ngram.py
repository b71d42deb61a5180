"""N-gram language models: hand-computed probabilities and perplexities, and agreement with nltk.lm."""

from __future__ import annotations

import math

import numpy as np
import pytest
from nltk.lm import MLE, KneserNeyInterpolated, Laplace
from nltk.lm.preprocessing import pad_both_ends, padded_everygram_pipeline
from nltk.util import ngrams

from llmrec.lm import NGramLM, Vocabulary, ngram_windows

CORPUS = [["the", "cat", "sat"], ["the", "dog", "sat"], ["the", "cat", "ran"]]
HELD_OUT = [["the", "dog", "ran"], ["a", "cat", "sat"], ["the", "cat", "sat", "fast"]]
VOCAB = Vocabulary.from_sentences(CORPUS)


def fit(order: int, **params) -> NGramLM:
    return NGramLM(order, **params).fit(VOCAB.encode(CORPUS), len(VOCAB), VOCAB.bos, VOCAB.eos)


def p(lm: NGramLM, word: str, *context: str) -> float:
    return lm.prob(VOCAB.index[word], [VOCAB.index[w] for w in context])


def test_vocabulary_matches_nltk_size() -> None:
    # the, cat, sat, dog, ran + <s>, </s>, <UNK>
    assert len(VOCAB) == 8
    _, vocab = padded_everygram_pipeline(2, CORPUS)
    from nltk.lm import Vocabulary as NltkVocabulary

    assert len(NltkVocabulary(vocab)) == len(VOCAB)


def test_windows_do_not_cross_sentences() -> None:
    windows = ngram_windows([np.array([1, 2]), np.array([3])], 2, bos=8, eos=9)
    assert windows.tolist() == [[8, 1], [1, 2], [2, 9], [8, 3], [3, 9]]


def test_logprobs_follow_the_fitted_padding() -> None:
    # fitted without end symbols, "the cat sat" is scored on its 3 tokens only: P = 1 * 2/3 * 1/2 = 1/3
    cut = NGramLM(2, smoothing="mle").fit(VOCAB.encode(CORPUS), len(VOCAB), VOCAB.bos, VOCAB.eos, pad_right=False)
    logprobs = cut.logprobs(VOCAB.encode([["the", "cat", "sat"]]))
    np.testing.assert_allclose(logprobs, np.log([1.0, 2 / 3, 1 / 2]), atol=1e-12)
    assert cut.perplexity(VOCAB.encode([["the", "cat", "sat"]])) == pytest.approx(3 ** (1 / 3), abs=1e-12)
    # fitted with end symbols, the end is a 4th predicted token (P(</s> | sat) = 1)
    full = fit(2, smoothing="mle")
    np.testing.assert_allclose(
        full.logprobs(VOCAB.encode([["the", "cat", "sat"]])), np.log([1.0, 2 / 3, 1 / 2, 1.0]), atol=1e-12
    )


def test_mle_by_hand() -> None:
    lm = fit(2, smoothing="mle")
    assert p(lm, "cat", "the") == pytest.approx(2 / 3, abs=1e-12)  # c(the cat) / c(the)
    assert p(lm, "sat", "cat") == pytest.approx(1 / 2, abs=1e-12)
    assert p(lm, "dog", "cat") == 0.0  # an unseen bigram gets zero: the reason for smoothing
    # P(<s> the cat sat </s>) = 1 * 2/3 * 1/2 * 1 = 1/3 over 4 predicted tokens
    assert lm.perplexity(VOCAB.encode([["the", "cat", "sat"]])) == pytest.approx(3 ** (1 / 4), abs=1e-12)
    assert math.isinf(lm.perplexity(VOCAB.encode([["the", "dog", "ran"]])))


def test_add_k_by_hand() -> None:
    lm = fit(2, smoothing="add-k", k=1.0)
    assert p(lm, "cat", "the") == pytest.approx(3 / 11, abs=1e-12)  # (2 + 1) / (3 + 8)
    assert p(lm, "dog", "cat") == pytest.approx(1 / 10, abs=1e-12)  # (0 + 1) / (2 + 8)
    half = fit(2, smoothing="add-k", k=0.5)
    assert p(half, "cat", "the") == pytest.approx(2.5 / 7, abs=1e-12)


def test_kneser_ney_by_hand() -> None:
    lm = fit(2, smoothing="kneser-ney", discount=0.75, unigram="continuation")
    # 8 bigram types: <s>-the, the-cat, cat-sat, sat-</s>, the-dog, dog-sat, cat-ran, ran-</s>
    # "cat" follows one type (the): P_cont(cat) = 1/8; "the" is followed by 2 types in 3 tokens
    # P(cat | the) = (2 - .75)/3 + .75 * 2/3 * 1/8
    assert p(lm, "cat", "the") == pytest.approx(1.25 / 3 + 0.5 / 8, abs=1e-12)
    # "sat" follows cat and dog: P_cont(sat) = 2/8; "cat" is followed by 2 types in 2 tokens
    assert p(lm, "sat", "cat") == pytest.approx(0.25 / 2 + 0.75 * 2 / 2 * 2 / 8, abs=1e-12)


@pytest.mark.parametrize("order", [2, 3, 4])
def test_distributions_sum_to_one(order: int) -> None:
    for params in ({"smoothing": "add-k"}, {"smoothing": "kneser-ney"}, {"smoothing": "mle"}):
        lm = fit(order, **params)
        seen = ([VOCAB.bos] * order + [VOCAB.index["the"], VOCAB.index["cat"]])[-(order - 1) :]
        contexts = np.array([[VOCAB.bos] * (order - 1), seen])  # both seen in training (MLE needs that)
        np.testing.assert_allclose(lm.distribution(contexts).sum(axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("order", [2, 3, 4])
@pytest.mark.parametrize(
    ("reference", "params"),
    [
        (lambda n: MLE(n), {"smoothing": "mle"}),
        (lambda n: Laplace(n), {"smoothing": "add-k", "k": 1.0}),
        (
            lambda n: KneserNeyInterpolated(n, discount=0.75),
            {"smoothing": "kneser-ney", "unigram": "continuation", "variant": "nltk"},
        ),
        (
            lambda n: KneserNeyInterpolated(n, discount=0.1),
            {"smoothing": "kneser-ney", "discount": 0.1, "unigram": "continuation", "variant": "nltk"},
        ),
    ],
)
def test_agrees_with_nltk(order: int, reference, params: dict) -> None:
    train, vocab = padded_everygram_pipeline(order, CORPUS)
    ref = reference(order)
    ref.fit(train, vocab)
    lm = fit(order, **params)
    for sentence in CORPUS + HELD_OUT:
        for gram in ngrams(pad_both_ends(sentence, n=order), order):
            ours = lm.prob(VOCAB.index.get(gram[-1], VOCAB.unk), [VOCAB.index.get(w, VOCAB.unk) for w in gram[:-1]])
            assert ours == pytest.approx(ref.score(gram[-1], gram[:-1]), abs=1e-9), gram
    if params["smoothing"] == "add-k":
        grams = [g for s in HELD_OUT for g in ngrams(pad_both_ends(s, n=order), order)]
        assert lm.perplexity(VOCAB.encode(HELD_OUT)) == pytest.approx(ref.perplexity(grams), rel=1e-9)


def test_nltk_kneser_ney_is_not_normalised_ours_is() -> None:
    """At the middle order nltk divides raw follower types by continuation totals; after <s> <s> the back-off
    weight is .75 * 2 / 1 = 1.5 and the distribution sums to 1.1875."""
    context = np.array([[VOCAB.bos, VOCAB.bos]])
    nltk_like = fit(3, smoothing="kneser-ney", unigram="continuation", variant="nltk")
    assert nltk_like.distribution(context).sum() == pytest.approx(1.1875, abs=1e-12)
    train, vocab = padded_everygram_pipeline(3, CORPUS)
    ref = KneserNeyInterpolated(3, discount=0.75)
    ref.fit(train, vocab)
    assert sum(ref.score(w, ("<s>", "<s>")) for w in VOCAB.tokens) == pytest.approx(1.1875, abs=1e-9)
    assert fit(3, smoothing="kneser-ney", unigram="continuation").distribution(context).sum() == pytest.approx(1.0)


def test_interpolated_unigram_gives_every_token_mass() -> None:
    lm = fit(3, smoothing="kneser-ney", unigram="interpolated")
    assert math.isfinite(lm.perplexity(VOCAB.encode(HELD_OUT)))
    assert (lm.distribution(np.array([[VOCAB.bos, VOCAB.bos]])) > 0).all()


def test_sampling_is_seeded() -> None:
    lm = fit(2, smoothing="kneser-ney")
    assert lm.sample(10, seed=1) == lm.sample(10, seed=1)
    assert all(0 <= t < len(VOCAB) for t in lm.sample(10, seed=2))


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="order"):
        NGramLM(0)
    with pytest.raises(ValueError, match="smoothing"):
        NGramLM(2, smoothing="witten-bell")
    with pytest.raises(ValueError, match="discount"):
        NGramLM(2, discount=1.5)


def test_accuracy_by_hand() -> None:
    # bigram MLE on the tiny corpus, "the cat sat": <s>->the (right), the->cat (2/3, right), cat->{ran, sat}
    # (1/2 each: the tie goes to the lower id, "ran", wrong), sat-></s> (right): 3 of 4
    lm = fit(2, smoothing="mle")
    assert lm.accuracy(VOCAB.encode([["the", "cat", "sat"]])) == pytest.approx(0.75, abs=1e-12)
    with pytest.raises(ValueError, match="at least one token"):
        lm.accuracy([])


def test_one_end_scores_each_word_and_one_end_for_every_order() -> None:
    """Orders compare only over the same events: words plus one end per sequence (the padded form adds
    ``order - 2`` ends after the end)."""
    import numpy as np

    from llmrec.lm import NGramLM

    sequences = [np.array([2, 3, 4]), np.array([3, 5]), np.array([4])]
    for order in (2, 3, 4):  # (order 1 has no padding, so no end symbol to score)
        model = NGramLM(order, smoothing="add-k", k=1.0).fit(sequences, 6, 0, 1)
        padded, one_end = model.logprobs(sequences), model.logprobs(sequences, one_end=True)
        assert len(one_end) == 3 + 2 + 1 + 3  # every word and one end per sequence
        per_sequence = [len(s) + order - 1 for s in sequences]
        starts = np.cumsum([0, *per_sequence])[:-1]
        hand = np.concatenate([padded[s : s + len(q) + 1] for s, q in zip(starts, sequences, strict=True)])
        np.testing.assert_array_equal(one_end, hand)
        assert model.perplexity(sequences, one_end=True) == float(np.exp(-hand.mean()))
