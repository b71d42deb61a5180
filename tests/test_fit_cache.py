"""The build-wide cache of fitted models: a hit equals a fit, and anything that changes the result changes the key."""

from __future__ import annotations

import os

import numpy as np
import pytest

from llmrec import ConfigError, _fit_cache
from llmrec.data import Dataset
from llmrec.models import ItemKNN
from llmrec.pipeline import RunConfig, build_model, constructor_parameters, fit_evaluate, resolved_params, run
from llmrec.split import leave_one_out
from llmrec.testing import tiny_interactions


@pytest.fixture
def split():
    return leave_one_out(tiny_interactions())


def test_a_hit_returns_what_a_fit_computes(split, tmp_path, monkeypatch) -> None:
    first = fit_evaluate("itemknn", split, params={"neighbours": 5}, k=5, cache_dir=tmp_path)
    assert not first.cached
    fits = []
    original = ItemKNN.fit
    monkeypatch.setattr(ItemKNN, "fit", lambda self, data: fits.append(1) or original(self, data))
    second = fit_evaluate("itemknn", split, params={"neighbours": 5}, k=5, cache_dir=tmp_path)
    assert second.cached and fits == []
    assert second.fit_seconds == first.fit_seconds
    assert second.evaluation.per_user.equals(first.evaluation.per_user)
    np.testing.assert_array_equal(second.evaluation.top_items, first.evaluation.top_items)
    users = np.arange(split.train.n_users)
    np.testing.assert_array_equal(second.model.score(users).numpy(), first.model.score(users).numpy())
    events = [(line["event"], line["model"]) for line in _fit_cache.read_log(tmp_path)]
    assert events == [("fit", "itemknn"), ("hit", "itemknn")]


def test_no_cache_without_a_folder(split, monkeypatch) -> None:
    monkeypatch.delenv(_fit_cache.FIT_CACHE_ENV, raising=False)
    assert _fit_cache.fit_cache_dir() is None
    assert not fit_evaluate("pop", split, k=5).cached
    assert not fit_evaluate("pop", split, k=5).cached


def test_environment_variable_turns_it_on(split, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(_fit_cache.FIT_CACHE_ENV, str(tmp_path))
    result = run(RunConfig(models=["pop", "itemknn"], k=5), data=Dataset("tiny", tiny_interactions()), progress=False)
    again = run(RunConfig(models=["pop", "itemknn"], k=5), data=Dataset("tiny", tiny_interactions()), progress=False)
    assert result.table.equals(again.table)
    assert [line["event"] for line in _fit_cache.read_log(tmp_path)] == ["fit", "fit", "hit", "hit"]


def test_key_changes_with_everything_that_changes_the_result(split) -> None:
    fit, targets = split.fit_data("test"), split.targets("test")
    base = _fit_cache.cache_key("itemknn", {"neighbours": 5}, 42, "test", 10, fit, targets)
    assert base == _fit_cache.cache_key("itemknn", {"neighbours": 5}, 42, "test", 10, fit, targets)
    changed = [
        _fit_cache.cache_key("userknn", {"neighbours": 5}, 42, "test", 10, fit, targets),
        _fit_cache.cache_key("itemknn", {"neighbours": 6}, 42, "test", 10, fit, targets),
        _fit_cache.cache_key("itemknn", {"neighbours": 5}, 7, "test", 10, fit, targets),
        _fit_cache.cache_key("itemknn", {"neighbours": 5}, 42, "validation", 10, fit, targets),
        _fit_cache.cache_key("itemknn", {"neighbours": 5}, 42, "test", 5, fit, targets),
        _fit_cache.cache_key("itemknn", {"neighbours": 5}, 42, "test", 10, split.train, targets),
        _fit_cache.cache_key("itemknn", {"neighbours": 5}, 42, "test", 10, fit, split.validation),
    ]
    assert len({base, *changed}) == len(changed) + 1
    # one timestamp moved by one second is different data
    frame = fit.frame.copy()
    frame.iloc[0, frame.columns.get_loc("timestamp")] += 1
    assert _fit_cache.cache_key("itemknn", {"neighbours": 5}, 42, "test", 10, fit.with_frame(frame), targets) != base


def test_parameters_must_serialise(split, tmp_path) -> None:
    with pytest.raises(ValueError, match="JSON-serialisable"):
        fit_evaluate("pop", split, params={"x": object()}, cache_dir=tmp_path)


def test_a_half_written_entry_is_never_read(split, tmp_path) -> None:
    key = _fit_cache.cache_key("pop", {}, 42, "test", 5, split.fit_data("test"), split.targets("test"))
    (tmp_path / f"{key}.123.partial").write_bytes(b"truncated")
    assert not fit_evaluate("pop", split, k=5, cache_dir=tmp_path).cached
    assert fit_evaluate("pop", split, k=5, cache_dir=tmp_path).cached


def test_the_same_model_shares_one_fit_however_its_parameters_are_written(split, tmp_path) -> None:
    # neighbours=50 is item-kNN's default: {} and {"neighbours": 50} are one model (chapters 1 and 2 write it both
    # ways); progress only changes what a fit shows
    first = fit_evaluate("itemknn", split, params={"neighbours": 50}, k=5, cache_dir=tmp_path)
    assert fit_evaluate("itemknn", split, params={}, k=5, cache_dir=tmp_path).cached
    bpr = {"epochs": 2, "embedding_size": 8}
    assert not fit_evaluate("bpr", split, params={**bpr, "progress": False}, k=5, cache_dir=tmp_path).cached
    assert fit_evaluate("bpr", split, params={**bpr, "progress": True}, k=5, cache_dir=tmp_path).cached
    assert fit_evaluate("bpr", split, params={**bpr, "seed": 42}, k=5, seed=42, cache_dir=tmp_path).cached
    # a parameter that changes the model is a different entry
    assert not fit_evaluate("itemknn", split, params={"neighbours": 49}, k=5, cache_dir=tmp_path).cached
    assert not fit_evaluate("bpr", split, params={**bpr, "epochs": 3}, k=5, cache_dir=tmp_path).cached
    assert not first.cached
    events = [line["event"] for line in _fit_cache.read_log(tmp_path)]
    assert events == ["fit", "hit", "fit", "hit", "hit", "fit", "fit"]


def test_resolved_parameters() -> None:
    assert resolved_params("itemknn", {}, 42) == {"neighbours": 50}
    assert resolved_params("pop", {}, 7) == {}
    bpr = resolved_params("bpr", {"epochs": 3, "progress": True}, 7)
    assert bpr == {
        "embedding_size": 64,
        "epochs": 3,
        "batch_size": 1024,
        "learning_rate": 0.005,
        "reg": 1e-05,
        "seed": 7,
    }
    assert resolved_params("bpr", {"seed": 1}, 7)["seed"] == 1  # as build_model: an explicit seed wins
    with pytest.raises(ConfigError, match="unknown model 'nope'"):
        resolved_params("nope", {}, 42)


def test_a_model_that_forwards_options_gets_the_seed_and_its_base_defaults() -> None:
    """SASRec(**options) forwards seed, max_len, ... to SequentialRecommender: the pipeline must see them (a seed
    given to run/fit_evaluate was silently dropped for these models before)."""
    assert build_model("sasrec", {"epochs": 1}, 2024).seed == 2024
    assert build_model("gru4rec", {"epochs": 1}, 7).seed == 7
    assert build_model("sasrec", {"epochs": 1, "seed": 3}, 2024).seed == 3  # an explicit seed wins
    sasrec = resolved_params("sasrec", {}, 7)
    assert sasrec["seed"] == 7 and sasrec["max_len"] == 200 and sasrec["num_layers"] == 2
    assert resolved_params("sasrec-text", {}, 7)["text_weight"] == 1.0  # the most derived default wins
    assert resolved_params("sasrec", {}, 7) != resolved_params("sasrec", {}, 8)
    assert "seed" not in constructor_parameters("itemknn") and "options" not in constructor_parameters("sasrec")


def test_executing_a_notebook_sets_the_cache_for_its_kernel_only(tmp_path, monkeypatch) -> None:
    import sys
    from pathlib import Path

    import papermill

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "scripts"))
    import run_notebooks

    monkeypatch.delenv(_fit_cache.FIT_CACHE_ENV, raising=False)
    monkeypatch.delenv("LLMREC_NOTEBOOK", raising=False)
    monkeypatch.setattr(run_notebooks, "EXECUTED", tmp_path)
    seen = {}

    def fake_execute(source, target, **options):  # what the kernel would inherit
        seen.update({name: os.environ.get(name) for name in (_fit_cache.FIT_CACHE_ENV, "LLMREC_NOTEBOOK")})

    monkeypatch.setattr(papermill, "execute_notebook", fake_execute)
    run_notebooks.execute(root / "notebooks" / "01_data_evaluation.ipynb")
    assert seen == {_fit_cache.FIT_CACHE_ENV: str(run_notebooks.FIT_CACHE), "LLMREC_NOTEBOOK": "01_data_evaluation"}
    assert _fit_cache.FIT_CACHE_ENV not in os.environ and "LLMREC_NOTEBOOK" not in os.environ
