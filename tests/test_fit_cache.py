"""The build-wide cache of fitted models: a hit equals a fit, and anything that changes the result changes the key."""

from __future__ import annotations

import numpy as np
import pytest

from llmrec import _fit_cache
from llmrec.data import Dataset
from llmrec.models import ItemKNN
from llmrec.pipeline import RunConfig, fit_evaluate, run
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
