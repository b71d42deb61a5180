"""The LLMRank evaluation set-up, shared by the chapter and its benchmark (chapter: *Generative LLMs*).

:func:`candidate_protocol` draws, on the book's leave-one-out split, a seeded sample of users with at least
``history_length`` training events, and for each: the test item plus ``n - 1`` uniform unseen negatives
(:func:`~llmrec.llm.sample_candidates`, column 0 the target), their titles, the user's ``history_length`` most
recent training titles (oldest first) and a seeded random display order. :func:`baseline_candidate_scores`
scores the same candidates with registered ID models fitted through :func:`llmrec.pipeline.fit_evaluate` (so a
baseline fitted earlier in the same build is reused, not fitted again). :func:`paired_summary` is the mean of
per-user values with its bootstrap interval, and a paired comparison of two per-user arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._seed import numpy_rng
from ..split import Split
from ..stats import bootstrap_ci, paired_t_test, wilcoxon_signed_rank
from ..text._templates import item_labels
from ._candidates import candidate_orders, model_candidate_scores, sample_candidates
from ._prompts import recent_titles

__all__ = ["CandidateProtocol", "baseline_candidate_scores", "candidate_protocol", "paired_summary"]


@dataclass
class CandidateProtocol:
    """Users, their targets and candidates (column 0 the target), the candidates' titles, the users' recent
    titles (oldest first) and the display order of each user's candidates."""

    users: np.ndarray
    targets: np.ndarray
    candidates: np.ndarray
    titles: np.ndarray
    histories: list[list[str]]
    orders: np.ndarray

    def head(self, n: int) -> CandidateProtocol:
        """The first ``n`` users (a smaller run on a subset of the same users and candidates)."""
        return CandidateProtocol(
            self.users[:n], self.targets[:n], self.candidates[:n], self.titles[:n], self.histories[:n], self.orders[:n]
        )


def candidate_protocol(
    split: Split, n_users: int, n_candidates: int = 20, history_length: int = 10, seed: int = 42
) -> CandidateProtocol:
    """The LLMRank set-up on ``split``'s test stage for ``n_users`` users drawn with ``seed`` (module docstring);
    users are sorted by id, and a run on the first ``m`` of ``n`` users is :meth:`CandidateProtocol.head`."""
    train = split.fit_data("test")
    if train.items is None:
        raise ValueError("the split's data has no items table (titles); load it with load_dataset")
    test = split.test.frame.set_index("user")["item"]
    eligible = np.flatnonzero(train.user_counts() >= history_length)
    eligible = eligible[np.isin(eligible, test.index.to_numpy())]
    if not 1 <= n_users <= len(eligible):
        raise ValueError(f"n_users must lie in [1, {len(eligible)}] (users with >= {history_length} events)")
    users = numpy_rng(seed).permutation(eligible)[:n_users]  # a prefix of one permutation: more users, same first
    targets = test.loc[users].to_numpy()
    candidates = sample_candidates(train.matrix(), users, targets, n_candidates, seed=seed)
    labels = np.asarray(item_labels(train.items), dtype=object)
    return CandidateProtocol(
        users=users,
        targets=targets,
        candidates=candidates,
        titles=labels[candidates],
        histories=recent_titles(train, users, history_length),
        orders=candidate_orders(n_users, n_candidates, seed=seed),
    )


def baseline_candidate_scores(
    split: Split, protocol: CandidateProtocol, models: dict[str, dict[str, Any]], seed: int = 42
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """``({name: (U, n) scores}, {name: FitResult})`` for registered models ``{name: params}``, each fitted by
    :func:`llmrec.pipeline.fit_evaluate` on the test stage (reused from the build's cache when already fitted)."""
    from ..pipeline import fit_evaluate  # the pipeline imports every model; keep llmrec.llm light to import

    scores, fitted = {}, {}
    for name, params in models.items():
        fitted[name] = fit_evaluate(name, split, params=params, seed=seed)
        scores[name] = model_candidate_scores(fitted[name].model.score, protocol.users, protocol.candidates)
    return scores, fitted


def paired_summary(
    values: np.ndarray, reference: np.ndarray | None = None, n_resamples: int = 2000, seed: int = 42
) -> dict[str, float]:
    """``mean``, its percentile bootstrap 95 % interval ``low``/``high`` and ``users``; with ``reference`` (the
    same users' values for another model) the summary is of ``d_u = values_u - reference_u``, plus the paired
    t-test's and the Wilcoxon signed-rank test's two-sided p-values (:mod:`llmrec.stats`)."""
    values = np.asarray(values, dtype=np.float64)
    diff = values if reference is None else values - np.asarray(reference, dtype=np.float64)
    low, high = bootstrap_ci(diff, n_resamples=n_resamples, seed=seed)
    out = {"mean": float(diff.mean()), "low": low, "high": high, "users": len(diff)}
    if reference is not None:
        out["t_p_value"] = paired_t_test(values, reference).p_value
        out["wilcoxon_p_value"] = wilcoxon_signed_rank(values, reference).p_value
    return out
