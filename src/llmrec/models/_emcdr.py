"""EMCDR: embedding and mapping for cross-domain recommendation (chapter: *Interest transfer and cold start*)."""

from __future__ import annotations

import numpy as np
import torch

from .._interactions import Interactions
from ..transfer._mapping import fit_linear_map, fit_mlp_map
from ._base import Recommender, register_model
from ._cmf import LeastSquaresMF

__all__ = ["EMCDR"]


@register_model("emcdr")
class EMCDR(Recommender):
    """Three steps (Man et al., IJCAI 2017): factorise the source and the target separately
    (:class:`LeastSquaresMF`), fit ``f(u_s) ~ u_t`` on the users with at least ``min_events`` events in both
    (:func:`~llmrec.transfer.fit_linear_map` or :func:`~llmrec.transfer.fit_mlp_map`), and score

    ``score(u, i) = u_t . q_i`` for users with target history, ``f(u_s) . q_i`` for users cold in the target.
    With ``mapping="mlp"`` the perceptron's per-epoch loss is kept as ``history_`` (``None`` for the linear map)."""

    def __init__(
        self,
        source: Interactions | None = None,
        mapping: str = "linear",
        embedding_size: int = 64,
        reg: float = 10.0,
        epochs: int = 10,
        mapping_reg: float = 1.0,
        hidden: int = 64,
        mapping_epochs: int = 300,
        min_events: int = 5,
        seed: int = 42,
    ) -> None:
        if source is None:
            raise ValueError("source: EMCDR needs the source-domain interactions")
        if mapping not in ("linear", "mlp"):
            raise ValueError(f"mapping must be 'linear' or 'mlp', got {mapping!r}")
        if min_events < 1:
            raise ValueError(f"min_events must be >= 1, got {min_events}")
        self.source, self.mapping, self.embedding_size, self.reg, self.epochs = (
            source,
            mapping,
            embedding_size,
            reg,
            epochs,
        )
        self.mapping_reg, self.hidden, self.mapping_epochs, self.min_events, self.seed = (
            mapping_reg,
            hidden,
            mapping_epochs,
            min_events,
            seed,
        )

    def _fit(self, train: Interactions) -> None:
        if self.source.n_users != train.n_users:
            raise ValueError(f"source has {self.source.n_users} users, the target {train.n_users}: ids must agree")
        factorise = dict(embedding_size=self.embedding_size, reg=self.reg, epochs=self.epochs, seed=self.seed)
        source_model = LeastSquaresMF(**factorise).fit(self.source)
        target_model = LeastSquaresMF(**factorise).fit(train)
        in_target = train.user_counts()
        anchors = np.flatnonzero((in_target >= self.min_events) & (self.source.user_counts() >= self.min_events))
        if len(anchors) < 2:
            raise ValueError(f"min_events={self.min_events} leaves {len(anchors)} users in both domains to fit the map")
        x, y = source_model.user_factors_[anchors], target_model.user_factors_[anchors]
        if self.mapping == "linear":
            w, b = fit_linear_map(x, y, self.mapping_reg)
            self.history_ = None  # closed form: no training loop
            mapped = source_model.user_factors_ @ w + b
        else:
            mlp = fit_mlp_map(x, y, self.hidden, self.mapping_epochs, weight_decay=self.mapping_reg, seed=self.seed)
            self.history_ = mlp.history  # the mapping is the only part trained by gradient steps
            mapped = mlp(source_model.user_factors_)
        cold = in_target == 0
        users = target_model.user_factors_.copy()
        users[cold] = mapped[cold]
        self.anchors_, self.cold_users_ = anchors, np.flatnonzero(cold)
        self.user_factors_, self.item_factors_ = users, target_model.item_factors_

    def _score(self, users: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.user_factors_[users.numpy()] @ self.item_factors_.T)
