"""A sequence model carried from one platform to another (chapter: *Interest transfer and cold start*, section on
SASRec from ML-1M)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # llmrec.models imports this package (EMCDR's maps): import it when called, not at load
    from ..evaluation import EvaluationResult
    from ..models import Recommender
    from ..split import Split

__all__ = ["SequentialTransfer", "sequential_transfer"]


@dataclass(frozen=True)
class SequentialTransfer:
    """The three SASRec fits of one target split: trained on the target alone, started from the source model's
    weights and fine-tuned (``started``), and the source model used as it is (``as_is``, zero epochs)."""

    alone: EvaluationResult
    started: EvaluationResult
    as_is: EvaluationResult
    started_model: Recommender


def sequential_transfer(
    source: Recommender,
    split: Split,
    film_map: np.ndarray,
    options: dict[str, Any],
    k: int = 10,
    alone: EvaluationResult | None = None,
) -> SequentialTransfer:
    """Fit and evaluate ``sasrec`` with ``options`` on ``split`` three ways (see :class:`SequentialTransfer`).

    ``film_map[i]`` is the source id of target film ``i`` (-1 for films without a match: their rows start fresh).
    ``alone``: the target-only evaluation when the caller already has it (a notebook's shared fit); otherwise it is
    fitted here with the same options.
    """
    from ..evaluation import evaluate
    from ..models import make_model

    fit_data = split.fit_data("test")
    if alone is None:
        alone = evaluate(make_model("sasrec", **options).fit(fit_data), split, k=k)
    started = make_model("sasrec", **options, init_from=source, item_map=film_map).fit(fit_data)
    as_is = make_model("sasrec", **options | {"epochs": 0}, init_from=source, item_map=film_map).fit(fit_data)
    return SequentialTransfer(
        alone=alone,
        started=evaluate(started, split, k=k),
        as_is=evaluate(as_is, split, k=k),
        started_model=started,
    )
