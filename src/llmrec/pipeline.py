"""The book's one pipeline: data -> split -> fit -> score -> evaluate -> results table.

Every chapter's model runs through :func:`run` (or, for a split of its own, :func:`fit_evaluate`), so every
number lands in the same table. Both reuse a model another chapter of the same build already fitted on the same
data and split (see :mod:`llmrec._fit_cache`): baselines are fitted once per build.
"""

from __future__ import annotations

import inspect
import json
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from . import _fit_cache
from ._errors import ConfigError
from ._seed import DEFAULT_SEED
from .data import DATASETS, Dataset, load_dataset
from .evaluation import METRICS, EvaluationResult, evaluate
from .models import MODELS, Recommender, make_model
from .split import Split, global_temporal_split, leave_one_out, random_holdout

__all__ = [
    "FitResult",
    "RunConfig",
    "RunResult",
    "build_model",
    "constructor_parameters",
    "fit_evaluate",
    "make_split",
    "resolved_params",
    "run",
]

SPLITS = ("leave-one-out", "global-temporal", "random-holdout")
#: constructor arguments that change what a fit shows, never what it computes (left out of the cache key)
DISPLAY_PARAMS = frozenset({"progress"})


@dataclass
class RunConfig:
    """What to run. Every field is validated by :meth:`validate`; errors name the field."""

    dataset: str = "ml-100k"
    split: str = "leave-one-out"
    models: list[str] = field(default_factory=lambda: ["pop", "itemknn"])
    metrics: list[str] = field(default_factory=lambda: list(METRICS))
    k: int = 10
    seed: int = DEFAULT_SEED
    stage: str = "test"
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    data_path: str | None = None

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(unknown[0], f"unknown field; known fields: {', '.join(sorted(known))}")
        config = cls(**values)
        config.validate()
        return config

    @classmethod
    def from_file(cls, path: str | Path) -> RunConfig:
        path = Path(path)
        try:
            values = json.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError("config", f"file {path} not found") from None
        except json.JSONDecodeError as err:
            raise ConfigError("config", f"{path}, line {err.lineno}: invalid JSON ({err.msg})") from None
        if not isinstance(values, dict):
            raise ConfigError("config", f"{path}: expected a JSON object")
        return cls.from_dict(values)

    def validate(self) -> None:
        if self.data_path is None and self.dataset not in DATASETS:
            raise ConfigError("dataset", f"unknown dataset {self.dataset!r}; known: {', '.join(DATASETS)}")
        if self.split not in SPLITS:
            raise ConfigError("split", f"unknown split {self.split!r}; known: {', '.join(SPLITS)}")
        if isinstance(self.models, str) or not self.models:
            raise ConfigError("models", "give a non-empty list of model names")
        for name in self.models:
            if name not in MODELS:
                raise ConfigError("models", f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
        for name in self.metrics:
            if name not in METRICS:
                raise ConfigError("metrics", f"unknown metric {name!r}; known: {', '.join(METRICS)}")
        if not isinstance(self.k, int) or isinstance(self.k, bool) or self.k < 1:
            raise ConfigError("k", f"must be a positive integer, got {self.k!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ConfigError("seed", f"must be an integer, got {self.seed!r}")
        if self.stage not in ("validation", "test"):
            raise ConfigError("stage", f"must be 'validation' or 'test', got {self.stage!r}")
        if not isinstance(self.params, dict):
            raise ConfigError("params", f"must map model names to parameter objects, got {self.params!r}")
        for name, values in self.params.items():
            if not isinstance(values, dict):
                raise ConfigError(f"params.{name}", f"must be an object of parameter values, got {values!r}")
            if name not in self.models:
                raise ConfigError(f"params.{name}", f"parameters given for a model not in models {self.models}")
        for name in self.models:  # constructing a model checks its parameters (cheap: nothing is fitted or loaded)
            build_model(name, self.params.get(name, {}), self.seed)


@dataclass
class RunResult:
    """The results table plus everything needed to look deeper (per-user values, fitted models)."""

    config: RunConfig
    table: pd.DataFrame
    evaluations: dict[str, EvaluationResult]
    models: dict[str, Recommender]
    seconds: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {"config": asdict(self.config), "rows": self.table.to_dict(orient="records"), "seconds": self.seconds}


def make_split(config: RunConfig, data: Dataset) -> Split:
    """The split named by ``config.split`` (seeded where random)."""
    if config.split == "leave-one-out":
        return leave_one_out(data.interactions)
    if config.split == "global-temporal":
        return global_temporal_split(data.interactions)
    return random_holdout(data.interactions, seed=config.seed)


def constructor_parameters(name: str) -> dict[str, inspect.Parameter]:
    """The named (keyword-passable) parameters the registered model ``name`` accepts, with their defaults.

    A constructor that forwards ``**options`` to its base class (``SASRec(**options)`` ->
    ``SequentialRecommender(seed=..., max_len=...)``) accepts the base's parameters too: they are collected up the
    class hierarchy, the most derived default winning, for as long as each constructor forwards ``**`` options.
    """
    if name not in MODELS:
        raise ConfigError("models", f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    collected: dict[str, inspect.Parameter] = {}
    for cls in inspect.getmro(MODELS[name]):
        if "__init__" not in vars(cls):
            continue
        parameters = list(inspect.signature(vars(cls)["__init__"]).parameters.values())[1:]  # without self
        for parameter in parameters:
            if parameter.kind in named:
                collected.setdefault(parameter.name, parameter)
        if not any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters):
            break
    return collected


def build_model(name: str, params: dict[str, Any], seed: int) -> Recommender:
    """A registered model with its parameters; ``seed`` is passed to every model that takes one."""
    params = dict(params)
    if "seed" in constructor_parameters(name):
        params.setdefault("seed", seed)
    return make_model(name, **params)


def resolved_params(name: str, params: dict[str, Any], seed: int) -> dict[str, Any]:
    """The parameters a fit of ``name`` uses: the constructor's defaults overridden by ``params``, plus ``seed``
    for a model that takes one (as :func:`build_model` passes it), without :data:`DISPLAY_PARAMS`.

    Two calls that build the same model get the same dict, so the fit cache keys on it: chapter 1's
    ``{"neighbours": 50}`` and chapter 2's ``{}`` are the same item-kNN (50 is the default) and share one fit.
    """
    if name not in MODELS:
        raise ConfigError("models", f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
    signature = constructor_parameters(name)
    values = {
        parameter.name: parameter.default
        for parameter in signature.values()
        if parameter.default is not inspect.Parameter.empty
    }
    if "seed" in signature:
        values["seed"] = seed
    values.update(params)
    return {key: value for key, value in values.items() if key not in DISPLAY_PARAMS}


@dataclass
class FitResult:
    """A fitted model, its evaluation, the seconds its fit took and whether it came from the build's cache."""

    model: Recommender
    evaluation: EvaluationResult
    fit_seconds: float
    cached: bool


def fit_evaluate(
    name: str,
    split: Split,
    *,
    params: dict[str, Any] | None = None,
    stage: str = "test",
    k: int = 10,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    cache_dir: str | Path | None = None,
) -> FitResult:
    """Fit the registered model ``name`` on ``split.fit_data(stage)`` and evaluate it (full ranking, top ``k``).

    When a cache folder is set (``cache_dir``, or ``$LLMREC_FIT_CACHE``, which the book's build sets), a model
    already fitted with the same name, parameters (:func:`resolved_params`: defaults filled in, ``progress``
    left out), seed, stage, k, data, targets and library code is loaded instead of fitted again; the result is
    the same object a fit would give (``fit_seconds`` is the original fit's). ``params`` must then be
    JSON-serialisable (pass a text encoder by its name, not as a loaded object).
    """
    params = dict(params or {})
    folder = _fit_cache.fit_cache_dir(cache_dir)
    fit_data, targets = split.fit_data(stage), split.targets(stage)
    key = None
    if folder is not None:
        key = _fit_cache.cache_key(name, resolved_params(name, params, seed), seed, stage, k, fit_data, targets)
        entry = _fit_cache.load_entry(folder, key)
        if entry is not None:
            model, evaluation, fit_seconds = entry
            _fit_cache.log_event(folder, "hit", key, name, params, fit_seconds)
            return FitResult(model, evaluation, fit_seconds, cached=True)
    start = time.perf_counter()
    model = build_model(name, params, seed).fit(fit_data)
    fit_seconds = time.perf_counter() - start
    evaluation = evaluate(model, split, stage=stage, k=k, progress=progress)
    if folder is not None and key is not None:
        _fit_cache.store_entry(folder, key, (model, evaluation, fit_seconds))
        _fit_cache.log_event(folder, "fit", key, name, params, fit_seconds)
    return FitResult(model, evaluation, fit_seconds, cached=False)


def run(config: RunConfig, data: Dataset | None = None, progress: bool = True) -> RunResult:
    """Run the pipeline and return the results table (one row per model)."""
    config.validate()
    if data is None:
        data = load_dataset(config.dataset, path=config.data_path)
    split = make_split(config, data)
    rows, evaluations, models, seconds = [], {}, {}, {}
    for name in tqdm(config.models, desc="models", disable=not progress):
        start = time.perf_counter()
        fitted = fit_evaluate(
            name,
            split,
            params=config.params.get(name, {}),
            stage=config.stage,
            k=config.k,
            seed=config.seed,
            progress=progress,
        )
        seconds[name] = time.perf_counter() - start
        summary = fitted.evaluation.summary()
        row = {"model": name, "dataset": data.name}
        row.update({f"{m}@{config.k}": summary[f"{m}@{config.k}"] for m in config.metrics})
        rows.append(row)
        seconds[f"{name}.fit"] = fitted.fit_seconds
        evaluations[name], models[name] = fitted.evaluation, fitted.model
    return RunResult(config, pd.DataFrame(rows), evaluations, models, seconds)
