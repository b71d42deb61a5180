"""The seed convention of the package (one rule, used everywhere).

Every random component takes a ``seed`` (an ``int``) and derives its own generators from it with
:func:`numpy_rng` or :func:`torch_generator`; nothing reads or sets a global random state, so the same
command with the same seed gives the same numbers.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["DEFAULT_SEED", "numpy_rng", "torch_generator"]

DEFAULT_SEED = 42


def numpy_rng(seed: int) -> np.random.Generator:
    """A NumPy ``Generator`` (PCG64) seeded with ``seed``."""
    return np.random.default_rng(int(seed))


def torch_generator(seed: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed``."""
    generator = torch.Generator()
    generator.manual_seed(int(seed))
    return generator
