"""Shared fixtures. Real datasets come from the verified cache (``$LLMREC_DATA_DIR``), fetched on first use."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The same CPU kernels in every test run, however pytest is started (the Makefile exports the same values): torch
# picks AVX-512 kernels where the CPU has them, and trained models' recorded numbers differ between AVX-512 and
# AVX2 in the 4th decimal. Set before anything imports torch; papermill kernels inherit this environment.
# OpenBLAS (NumPy, SciPy, scikit-learn) too: its AVX-512 kernels flip one decision of chapter 6's genre probe.
PINNED_KERNELS = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_CBWR": "AVX2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "OPENBLAS_CORETYPE": "Haswell",
}
for _name, _value in PINNED_KERNELS.items():
    os.environ.setdefault(_name, _value)
#: True when a pytest plugin imported torch before this file (the pinning could then come too late).
TORCH_IMPORTED_BEFORE_CONFTEST = "torch" in sys.modules

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def ml100k():
    from llmrec.data import load_dataset

    return load_dataset("ml-100k")


@pytest.fixture(scope="session")
def ml1m():
    from llmrec.data import load_dataset

    return load_dataset("ml-1m")
