"""The one interface every model of the book implements (chapter: *Data and evaluation*).

A :class:`Recommender` is fitted on training :class:`~llmrec.Interactions` and scores a batch of users
against **all** items::

    model = make_model("itemknn", neighbours=50).fit(split.fit_data("test"))
    scores = model.score(torch.tensor([0, 1, 2]))      # (3, n_items) float32, higher is better

Subclasses implement ``_fit`` and ``_score``; the public methods check input, so every model rejects unknown
users, unfitted use and empty training data with the same clear errors (the contract test asserts this).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Self

import numpy as np
import torch

from .._errors import ConfigError
from .._interactions import Interactions

__all__ = ["MODELS", "Recommender", "make_model", "register_model"]


class Recommender(ABC):
    """Base class: ``fit(train) -> self`` and ``score(users) -> (len(users), n_items)`` float32 tensor."""

    #: Short registry name (``"pop"``, ``"itemknn"``, ...).
    name: ClassVar[str] = "recommender"

    n_users: int = 0
    n_items: int = 0
    _fitted: bool = False

    def fit(self, train: Interactions) -> Self:
        """Learn from training interactions (ids must lie in ``train``'s id space); returns ``self``."""
        if not isinstance(train, Interactions):
            raise TypeError(f"{type(self).__name__}.fit expects Interactions, got {type(train).__name__}")
        if len(train) == 0:
            raise ValueError(f"{type(self).__name__}.fit: the training data has no interactions")
        self.n_users, self.n_items = train.n_users, train.n_items
        self._fit(train)
        self._fitted = True
        return self

    def score(self, users: torch.Tensor | Sequence[int] | np.ndarray) -> torch.Tensor:
        """Scores of every item for each user in ``users``: a ``(len(users), n_items)`` float32 tensor."""
        if not self._fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit(train) first")
        users = users if isinstance(users, torch.Tensor) else torch.as_tensor(np.array(users))
        if users.ndim != 1 or (users.numel() and (torch.is_floating_point(users) or users.dtype == torch.bool)):
            raise ValueError(
                f"users must be a 1-D tensor of integer ids, got shape {tuple(users.shape)}, {users.dtype}"
            )
        users = users.long()
        if users.numel() == 0:
            return torch.zeros(0, self.n_items)
        bad = (users < 0) | (users >= self.n_users)
        if bool(bad.any()):
            raise KeyError(
                f"unknown user id {int(users[bad][0])}: {type(self).__name__} was fitted on users 0..{self.n_users - 1}"
            )
        return self._score(users).float()

    @abstractmethod
    def _fit(self, train: Interactions) -> None: ...

    @abstractmethod
    def _score(self, users: torch.Tensor) -> torch.Tensor: ...

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def get_params(self) -> dict[str, Any]:
        """Constructor hyperparameters (public attributes set in ``__init__`` that are not learned)."""
        return {
            k: v
            for k, v in vars(self).items()
            if not k.startswith("_") and not k.endswith("_") and k not in ("n_users", "n_items")
        }


MODELS: dict[str, Callable[..., Recommender]] = {}


def register_model(name: str) -> Callable[[type[Recommender]], type[Recommender]]:
    """Class decorator adding a model to :data:`MODELS` under ``name`` (used by the pipeline and CLI)."""

    def decorate(cls: type[Recommender]) -> type[Recommender]:
        if name in MODELS and MODELS[name] is not cls:
            raise ValueError(f"model name {name!r} is already registered to {MODELS[name].__name__}")
        cls.name = name
        MODELS[name] = cls
        return cls

    return decorate


def make_model(name: str, **params: Any) -> Recommender:
    """Instantiate a registered model by name; unknown names or parameters raise :class:`ConfigError`."""
    if name not in MODELS:
        raise ConfigError("models", f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
    try:
        return MODELS[name](**params)
    except ConfigError:
        raise
    except (TypeError, ValueError) as err:  # an unknown parameter name, or a value the constructor refuses
        raise ConfigError(f"params.{name}", str(err)) from None
