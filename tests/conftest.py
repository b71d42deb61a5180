"""Shared fixtures. Real datasets come from the verified cache (``$LLMREC_DATA_DIR``), fetched on first use."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def ml100k():
    from llmrec.data import load_dataset

    return load_dataset("ml-100k")


@pytest.fixture(scope="session")
def ml1m():
    from llmrec.data import load_dataset

    return load_dataset("ml-1m")
