"""Heavy runs with one results file per run (chapter: *Sequential interest*; ``make benchmark``).

A run fits one registered model on ``leave_one_out(dataset).fit_data("test")`` (models with ``patience`` stop
early on NDCG@10 of each user's last training event, i.e. the split's validation item), evaluates it on the test
items with the book's full-ranking evaluator (seen items masked) and writes
``<folder>/<model>-<dataset>-seed<seed>.json`` with the fields of :data:`RESULT_FIELDS`. Files are committed;
book pages read them with :func:`load_results`.
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "BENCHMARK_MODELS",
    "BENCHMARK_RECIPE",
    "BENCHMARK_TAGS",
    "RESULT_FIELDS",
    "SASREC_RECIPES",
    "code_version",
    "cpu_description",
    "cpu_kind",
    "load_results",
    "recipe_params",
    "result_path",
    "run_benchmark",
    "shown_command",
    "summarise_seeds",
    "validate_result",
]

#: SASRec+'s ML-1M recipe with every setting of its released code (Klenitskiy & Vasilev, RecSys 2023: the released
#: SASRec block, 2 blocks, 1 head, d = 64, histories of 200 films, dropout 0.1 on activations and attention weights,
#: weights from N(0, 0.02^2) but attention's query/key/value projection at PyTorch's Xavier draw, batches of 128
#: users drawn at random, Adam 1e-3, up to 100 epochs, early stopping on NDCG@10 of every user's last training event
#: with patience 10) and its sampled loss: per user, 3,000 films drawn among those outside the user's history
#: (``loss="unseen"``). ``group_size=32`` encodes each batch in four length-sorted groups (the same losses and
#: scores, a third less padding). Chapter 7 section 3.7, recipe ``plus-3000-groups``.
_SASREC_PLUS_3000: dict[str, Any] = {
    "max_len": 201,  # <bos> + 200 films
    "dropout": 0.1,
    "attention_dropout": 0.1,
    "epochs": 100,
    "batch_size": 128,
    "learning_rate": 1e-3,
    "patience": 10,
    "validation_users": None,
    "block": "original",
    "init_std": 0.02,
    "attention_init": "xavier",
    "bucket": False,
    "loss": "unseen",
    "num_negatives": 3000,
    "group_size": 32,
}
#: SASRec's ML-1M recipes by the tag their results files carry, for ``sasrec`` (``sasrec-text`` adds
#: ``text_weight=1``); ``scripts/benchmark.py --recipe TAG`` runs one. ``windows-60-lr2e-3`` trains on every film
#: of every history (``windows="all"``) in 60 epochs at twice the rate: the best mean over three seeds of chapter 7
#: section 3.7, within 30 minutes on 2 cores of the machine of its runs, and ``make benchmark``'s recipe.
SASREC_RECIPES: dict[str, dict[str, Any]] = {
    "plus-3000-groups": dict(_SASREC_PLUS_3000),
    "windows-60-lr2e-3": {**_SASREC_PLUS_3000, "windows": "all", "epochs": 60, "learning_rate": 2e-3},
}
#: The SASRec recipe ``make benchmark`` runs, with and without text.
BENCHMARK_RECIPE = "windows-60-lr2e-3"
#: GRU4Rec's ML-1M recipe ``long`` (chapter 7 section 3.7): batches of 64 grouped by history length at 2e-3,
#: dropout 0.1, at most 60 epochs, patience 5 on a seeded sample of 2,000 validation users, PyTorch's initialisation.
_GRU4REC_LONG: dict[str, Any] = {
    "max_len": 200,
    "dropout": 0.1,
    "epochs": 60,
    "batch_size": 64,
    "learning_rate": 2e-3,
    "patience": 5,
    "validation_users": 2000,
}


def recipe_params(model: str, recipe: str) -> dict[str, Any]:
    """The parameters of SASRec recipe ``recipe`` (:data:`SASREC_RECIPES`) for ``model`` (``sasrec`` or
    ``sasrec-text``)."""
    if recipe not in SASREC_RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; known: {sorted(SASREC_RECIPES)}")
    if model not in ("sasrec", "sasrec-text"):
        raise ValueError(f"recipe {recipe!r} is a SASRec recipe; model {model!r} has none (use sasrec or sasrec-text)")
    return {**SASREC_RECIPES[recipe], **({"text_weight": 1.0} if model == "sasrec-text" else {})}


#: The chapter's models and the parameters ``make benchmark`` trains them with: SASRec with and without text on
#: :data:`BENCHMARK_RECIPE`, GRU4Rec on its ``long`` recipe.
BENCHMARK_MODELS: dict[str, dict[str, Any]] = {
    "sasrec": recipe_params("sasrec", BENCHMARK_RECIPE),
    "sasrec-text": recipe_params("sasrec-text", BENCHMARK_RECIPE),
    "gru4rec": dict(_GRU4REC_LONG),
}
#: The tag of the files ``make benchmark`` writes for each model, its recipe's name: ``make benchmark`` re-runs
#: the committed files of the same recipe and never writes over another recipe's (the untagged files are chapter
#: 7's first recipe).
BENCHMARK_TAGS: dict[str, str] = {"sasrec": BENCHMARK_RECIPE, "sasrec-text": BENCHMARK_RECIPE, "gru4rec": "long"}


#: Field -> type of every results file (``validate_result`` checks them). ``epoch_seconds`` is training time per
#: epoch (validation excluded), ``best_epoch`` 1-based. Optional: ``tag`` (a recipe variant), ``validation_seconds``,
#: ``total_cpu_seconds`` (the run's process CPU time, at most cores x ``total_seconds``; on a shared machine
#: steadier than wall-clock seconds) and
#: ``per_user_ndcg10`` (NDCG@10 of each evaluated user in ascending id order, 6 decimals; files written before it
#: existed lack it), and ``machine["cpu"]`` (:func:`cpu_description`; files written before 2026-11-28 lack it).
RESULT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "model": str,
    "dataset": str,
    "seed": int,
    "params": dict,
    "metrics": dict,
    "epochs": int,
    "best_epoch": (int, type(None)),
    "stopped_early": bool,
    "epoch_seconds": list,
    "epoch_loss": list,
    "validation_ndcg10": list,
    "fit_seconds": float,
    "evaluate_seconds": float,
    "total_seconds": float,
    "peak_memory_mb": float,
    "git_commit": str,
    "git_dirty": bool,
    "command": str,
    "finished_utc": str,
    "machine": dict,
}
METRIC_KEYS = ("NDCG@10", "HR@10", "MRR@10", "Recall@10", "Coverage@10")
MACHINE_KEYS = ("cores", "torch_threads", "torch_version", "python_version", "platform", "load_average_at_start")


def _cpu_fields(cpuinfo: str | Path) -> dict[str, str]:
    """The first processor's ``key: value`` lines of a Linux ``/proc/cpuinfo`` ({} where it cannot be read)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break  # the first processor's block
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_description(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """The CPU's model name with its family and model numbers, e.g. ``"Intel(R) Xeon(R) Processor @ 2.50GHz
    (family 6, model 85)"``, read from ``cpuinfo`` (Linux); ``platform.processor()`` where there is none. Recorded
    with each run: training speed, and the last decimals of a trained model even with the Makefile's kernel
    pinning, depend on it."""
    fields = _cpu_fields(cpuinfo)
    name = fields.get("model name") or platform.processor() or "unknown"
    if "cpu family" in fields and "model" in fields:
        return f"{name} (family {fields['cpu family']}, model {fields['model']})"
    return name


#: ``vendor_id`` in /proc/cpuinfo -> the short name :func:`cpu_kind` uses
CPU_VENDORS = {"GenuineIntel": "intel", "AuthenticAMD": "amd"}


def cpu_kind(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """A short name for the CPU's microarchitecture, ``<vendor>-<family>-<model>`` (``"intel-6-85"`` for a Cascade
    Lake or Skylake Xeon), or ``"unknown"`` where ``cpuinfo`` does not say. Trained models' last decimals depend
    on it even with the Makefile's kernel pinning, so the recorded values a notebook test compares with may have
    a per-CPU file, ``tests/expected/cpu/<kind>/`` (:func:`llmrec.book.expected_values`)."""
    fields = _cpu_fields(cpuinfo)
    vendor = fields.get("vendor_id", "")
    if not vendor or "cpu family" not in fields or "model" not in fields:
        return "unknown"
    short = CPU_VENDORS.get(vendor) or re.sub(r"[^a-z0-9]+", "", vendor.lower()) or "unknown"
    return f"{short}-{fields['cpu family']}-{fields['model']}"


def result_path(folder: str | Path, model: str, dataset: str, seed: int, tag: str = "") -> Path:
    """``<folder>/<model>[-<tag>]-<dataset>-seed<seed>.json`` (a tag names a variant of the model's recipe)."""
    if tag and not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", tag):
        raise ValueError(f"tag must be lowercase letters, digits and dashes, got {tag!r}")
    return Path(folder) / f"{model}{'-' + tag if tag else ''}-{dataset}-seed{seed}.json"


def shown_command(command: str) -> str:
    """A results file's command as a page shows it: the folder after ``--out`` is the machine's own (often a
    scratch folder), so it is shown as ``DIR``; every other argument is kept."""
    return re.sub(r"(--out)(=|\s+)\S+", r"\1\2DIR", command)


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def code_version() -> tuple[str, bool]:
    """``(commit, dirty)`` of the working tree now: HEAD, and whether tracked files differ from it."""
    return _git("rev-parse", "HEAD"), bool(_git("status", "--porcelain", "--untracked-files=no"))


def _reset_peak_memory() -> bool:
    """Start the kernel's peak-RSS mark of this process again from its current RSS (Linux: ``5`` written to
    ``/proc/self/clear_refs``), so that a run's peak is its own and not an earlier run's in the same process.
    False where that file is missing or refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_memory_mb() -> float:
    """Peak resident set size of this process since :func:`_reset_peak_memory`: ``VmHWM`` of
    ``/proc/self/status`` (Linux), else ``ru_maxrss`` (the whole process's peak; KiB on Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0  # kB
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_benchmark(
    model: str,
    dataset: str = "ml-1m",
    seed: int = 42,
    params: dict[str, Any] | None = None,
    folder: str | Path | None = None,
    progress: bool = True,
    tag: str | None = None,
    code: tuple[str, bool] | None = None,
) -> dict[str, Any]:
    """Fit, evaluate and (with ``folder``) write one results file; returns the result record. ``tag`` names a
    variant of the recipe (kept in the record and the file name); by default ``make benchmark``'s recipe carries
    its tag (:data:`BENCHMARK_TAGS`) and other parameters none. ``code``: the ``(commit, dirty)`` of the code
    that runs, taken when the process started (:func:`code_version`); a script that runs several models passes it,
    since a commit made while they run is not their code."""
    from . import evaluate, leave_one_out, load_dataset, make_model

    start = time.perf_counter()
    cpu_start = time.process_time()  # this run's CPU time, not the process's so far (several runs per process)
    _reset_peak_memory()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0
    commit, dirty = code_version() if code is None else code
    data = load_dataset(dataset).interactions
    split = leave_one_out(data)
    if tag is None:
        tag = BENCHMARK_TAGS.get(model, "") if params is None else ""
    params = dict(BENCHMARK_MODELS.get(model, {}) if params is None else params)
    recommender = make_model(model, seed=seed, progress=progress, **params)
    fit_start = time.perf_counter()
    recommender.fit(split.fit_data("test"))
    fit_seconds = time.perf_counter() - fit_start
    evaluate_start = time.perf_counter()
    evaluation = evaluate(recommender, split, progress=progress)
    summary = evaluation.summary()
    evaluate_seconds = time.perf_counter() - evaluate_start
    history = getattr(recommender, "history_", None)
    record = {
        "model": model,
        "tag": tag,
        "dataset": dataset,
        "seed": int(seed),
        "params": {k: v for k, v in recommender.get_params().items() if isinstance(v, int | float | str | bool)},
        "metrics": {key: float(summary[key]) for key in METRIC_KEYS},
        # per evaluated user (ascending id), so two runs can be compared by a paired test over users
        "per_user_ndcg10": [round(float(v), 6) for v in evaluation.per_user["NDCG@10"]],
        "epochs": len(history.loss) if history is not None else 0,
        "best_epoch": history.best_epoch if history is not None else None,
        "stopped_early": bool(history.stopped_early) if history is not None else False,
        "epoch_seconds": [float(s) for s in history.seconds] if history is not None else [],
        "validation_seconds": [float(s) for s in getattr(history, "validation_seconds", [])],
        "epoch_loss": [float(v) for v in history.loss] if history is not None else [],
        "validation_ndcg10": [float(v) for v in history.validation] if history is not None else [],
        "fit_seconds": float(fit_seconds),
        "evaluate_seconds": float(evaluate_seconds),
        "total_seconds": float(time.perf_counter() - start),
        "total_cpu_seconds": float(time.process_time() - cpu_start),
        "peak_memory_mb": float(_peak_memory_mb()),
        "git_commit": commit,  # the code that ran (see ``code``)
        "git_dirty": dirty,
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),  # quoted: copy-pasteable
        "finished_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {
            "cores": os.cpu_count() or 0,
            "torch_threads": torch.get_num_threads(),
            "torch_version": torch.__version__,
            "python_version": platform.python_version(),
            "platform": platform.platform(),
            "cpu": cpu_description(),
            "load_average_at_start": float(load),
        },
    }
    validate_result(record)
    if folder is not None:
        path = result_path(folder, model, dataset, seed, tag)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1) + "\n")
    return record


def validate_result(record: dict[str, Any], where: str = "result") -> None:
    """Raise ``ValueError`` naming the field when ``record`` does not follow :data:`RESULT_FIELDS`."""
    for name, kind in RESULT_FIELDS.items():
        if name not in record:
            raise ValueError(f"{where}: missing field {name!r}")
        value = record[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(f"{where}: field {name!r} should be {kind}, got {type(value).__name__}")
    for key in METRIC_KEYS:
        value = record["metrics"].get(key)
        if not isinstance(value, float) or not 0.0 <= value <= 1.0:
            raise ValueError(f"{where}: metrics[{key!r}] should be a float in [0, 1], got {value!r}")
    for key in MACHINE_KEYS:
        if key not in record["machine"]:
            raise ValueError(f"{where}: machine lacks {key!r}")
    lengths = {len(record["epoch_seconds"]), len(record["epoch_loss"])}
    if lengths != {record["epochs"]}:
        raise ValueError(f"{where}: epoch_seconds and epoch_loss should have one entry per epoch ({record['epochs']})")
    if record["validation_ndcg10"] and len(record["validation_ndcg10"]) != record["epochs"]:
        raise ValueError(f"{where}: validation_ndcg10 should be empty or have one entry per epoch")
    if record["best_epoch"] is not None and not 1 <= record["best_epoch"] <= record["epochs"]:
        raise ValueError(f"{where}: best_epoch {record['best_epoch']} outside 1..{record['epochs']} (1-based)")
    per_user = record.get("per_user_ndcg10")
    if per_user is not None and (
        not isinstance(per_user, list) or not per_user or not all(0.0 <= v <= 1.0 for v in per_user)
    ):
        raise ValueError(f"{where}: per_user_ndcg10 should be a non-empty list of values in [0, 1]")
    if per_user is not None and abs(sum(per_user) / len(per_user) - record["metrics"]["NDCG@10"]) > 1e-5:
        raise ValueError(f"{where}: the mean of per_user_ndcg10 differs from metrics['NDCG@10']")
    if any(s < 0 for s in record["epoch_seconds"]) or record["peak_memory_mb"] <= 0:
        raise ValueError(f"{where}: seconds must be >= 0 and peak_memory_mb > 0")
    cores, cpu, wall = record["machine"]["cores"], record.get("total_cpu_seconds"), record["total_seconds"]
    # 10 s of slack: older files counted the imports before the run's clock started
    if cpu is not None and cores > 0 and cpu > 1.02 * cores * wall + 10.0:
        raise ValueError(
            f"{where}: total_cpu_seconds {cpu:.0f} exceeds cores x total_seconds ({cores} x {wall:.0f} s): "
            "the CPU time of another run in the same process?"
        )


def load_results(folder: str | Path) -> list[dict[str, Any]]:
    """Every sequential-model results file ``<model>-<dataset>-seed<seed>.json`` in ``folder`` (validated), sorted
    by file name. Other chapters' benchmark files in the same folder (``transfer_*.json``) are not read."""
    records = []
    for path in sorted(p for p in Path(folder).glob("*-seed*.json") if re.search(r"-seed\d+\.json$", p.name)):
        record = json.loads(path.read_text())
        validate_result(record, where=str(path))
        records.append(record)
    return records


def summarise_seeds(runs: list[dict[str, Any]]) -> dict[str, float]:
    """One recipe's runs over their seeds, as chapter 7 reports them: ``seeds`` (their number), the ``mean``,
    ``lowest`` and ``highest`` test NDCG@10, the mean test HR@10 (``hr10_mean``) and the fit time's range in minutes
    (``minutes_min``, ``minutes_max``). Refuses an empty list or two runs of different recipes, models, datasets or
    the same seed (``ValueError`` naming what differs)."""
    if not runs:
        raise ValueError("summarise_seeds: no runs to summarise")
    for field in ("model", "tag", "dataset"):
        values = sorted({str(run.get(field, "")) for run in runs})
        if len(values) > 1:
            raise ValueError(f"summarise_seeds: the runs differ in {field!r}: {values}")
    seeds = [run["seed"] for run in runs]
    if len(set(seeds)) < len(seeds):
        raise ValueError(f"summarise_seeds: a seed is repeated: {sorted(seeds)}")
    ndcg = [float(run["metrics"]["NDCG@10"]) for run in runs]
    minutes = [float(run["fit_seconds"]) / 60 for run in runs]
    return {
        "seeds": len(runs),
        "mean": sum(ndcg) / len(ndcg),
        "hr10_mean": sum(float(run["metrics"]["HR@10"]) for run in runs) / len(runs),
        "lowest": min(ndcg),
        "highest": max(ndcg),
        "minutes_min": min(minutes),
        "minutes_max": max(minutes),
    }
