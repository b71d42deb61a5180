"""The book's one results table (chapter: *Evaluation methodology*).

Every chapter that evaluates a model on the book protocol (ML-100K, leave-one-out, test stage, K = 10, seed 42)
calls :func:`report` once per model. It records, with :func:`llmrec.book.record` (asserted by the tests)::

    res_<key>_ndcg10  res_<key>_hr10  res_<key>_mrr10  res_<key>_recall10  res_<key>_cov10
    res_<key>_ndcg10_lo  res_<key>_ndcg10_hi      # percentile bootstrap 95 % interval of the mean NDCG@10

and, with :func:`llmrec.book.record_meta` (stored, never asserted): ``res_<key>_label``, ``res_<key>_chapter``,
``res_<key>_dataset``, ``res_<key>_seed``, ``res_<key>_k`` and, when given, ``res_<key>_fit_seconds``.
The results page (``book/results.md``, filled in by ``scripts/build_book.py``) is :func:`collect` over every
executed notebook, so adding a ``report`` call to a chapter adds its row, with a link to that chapter.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._seed import DEFAULT_SEED
from .book import read_meta, read_records, record, record_meta
from .stats import bootstrap_ci

if TYPE_CHECKING:
    from .evaluation import EvaluationResult

__all__ = ["collect", "fit_log_markdown", "recbole_markdown", "report", "report_values", "results_markdown"]

KEY = re.compile(r"^[a-z0-9_]+$")
#: metric column -> short name used in the record keys
REPORTED = {"NDCG": "ndcg", "HR": "hr", "MRR": "mrr", "Recall": "recall"}
N_RESAMPLES = 2000


def report_values(
    key: str,
    evaluation: EvaluationResult,
    *,
    label: str,
    chapter: int | str,
    fit_seconds: float | None = None,
    dataset: str = "ml-100k",
    seed: int = DEFAULT_SEED,
) -> tuple[dict[str, float], dict[str, Any]]:
    """What :func:`report` records: ``(asserted numbers, unasserted metadata)``, both keyed by record key."""
    if not KEY.match(key):
        raise ValueError(f"key must be lower-case letters, digits and underscores, got {key!r}")
    if not label:
        raise ValueError("label must be a non-empty string naming the model as the results page shows it")
    k = evaluation.k
    summary = evaluation.summary()
    values = {f"res_{key}_{short}{k}": summary[f"{metric}@{k}"] for metric, short in REPORTED.items()}
    values[f"res_{key}_cov{k}"] = summary[f"Coverage@{k}"]
    lo, hi = bootstrap_ci(evaluation.per_user[f"NDCG@{k}"].to_numpy(np.float64), n_resamples=N_RESAMPLES, seed=seed)
    values[f"res_{key}_ndcg{k}_lo"], values[f"res_{key}_ndcg{k}_hi"] = lo, hi
    meta: dict[str, Any] = {
        f"res_{key}_label": str(label),
        f"res_{key}_chapter": chapter,
        f"res_{key}_dataset": dataset,
        f"res_{key}_seed": int(seed),
        f"res_{key}_k": int(k),
    }
    if fit_seconds is not None:
        meta[f"res_{key}_fit_seconds"] = float(fit_seconds)
    return values, meta


def report(key: str, evaluation: EvaluationResult, **row: Any) -> dict[str, float]:
    """Record one model's row of the results table (see the module docstring for the keys); returns the numbers.

    ``evaluation`` is the model's :func:`llmrec.evaluate` result on the book protocol; ``row`` the keywords of
    :func:`report_values`: ``label`` the name shown on the results page; ``chapter`` the chapter that derives the
    model; ``fit_seconds`` its training wall-clock time (metadata only: timings are never asserted); ``dataset``;
    ``seed``, which also seeds the bootstrap interval.
    """
    values, meta = report_values(key, evaluation, **row)
    for name, value in values.items():
        record(name, value)
    for name, value in meta.items():
        record_meta(name, value)
    return values


# report takes report_values's parameters: show them in help() and to inspect.signature
report.__signature__ = inspect.signature(report_values).replace(return_annotation="dict[str, float]")


def collect(notebooks: Iterable[str | Path]) -> pd.DataFrame:
    """One row per reported model of the executed ``notebooks`` (in the order given, then by report order).

    Columns: ``key``, ``label``, ``chapter``, ``notebook`` (file stem), ``dataset``, ``seed``, ``k``, the five
    metrics (``NDCG``, ``HR``, ``MRR``, ``Recall``, ``Coverage``), ``NDCG_lo``, ``NDCG_hi``, ``fit_seconds``.
    """
    rows = []
    for notebook in notebooks:
        notebook = Path(notebook)
        records, meta = read_records(notebook), read_meta(notebook)
        for name, label in meta.items():
            match = re.fullmatch(r"res_([a-z0-9_]+)_label", name)
            if not match:
                continue
            key = match.group(1)
            k = int(meta[f"res_{key}_k"])
            row = {
                "key": key,
                "label": label,
                "chapter": meta.get(f"res_{key}_chapter"),
                "notebook": notebook.stem,
                "dataset": meta.get(f"res_{key}_dataset"),
                "seed": meta.get(f"res_{key}_seed"),
                "k": k,
            }
            for metric, short in REPORTED.items():
                row[metric] = records.get(f"res_{key}_{short}{k}")
            row["Coverage"] = records.get(f"res_{key}_cov{k}")
            row["NDCG_lo"] = records.get(f"res_{key}_ndcg{k}_lo")
            row["NDCG_hi"] = records.get(f"res_{key}_ndcg{k}_hi")
            row["fit_seconds"] = meta.get(f"res_{key}_fit_seconds")
            rows.append(row)
    columns = ["key", "label", "chapter", "notebook", "dataset", "seed", "k", *REPORTED, "Coverage"]
    return pd.DataFrame(rows, columns=[*columns, "NDCG_lo", "NDCG_hi", "fit_seconds"])


def results_markdown(table: pd.DataFrame, notebook_link: str = "../notebooks/{notebook}") -> str:
    """The results table as Markdown, sorted by NDCG descending: the chapter that derives each model and a link to
    the notebook that reported it.

    A key reported by several chapters (the same model refitted) is listed once per chapter.
    """
    if table.empty:
        return "*No notebook has reported a model yet.*"
    k = int(table["k"].iloc[0])
    header = (
        f"| model | chapter | reported in | NDCG@{k} | 95 % CI (NDCG) | HR@{k} | MRR@{k} | Recall@{k} | Coverage@{k} "
        "| fit s |\n|---|---:|---|---:|---|---:|---:|---:|---:|---:|"
    )
    lines = [header]
    for row in table.sort_values(["NDCG", "key"], ascending=[False, True], kind="stable").itertuples():
        seconds = "" if row.fit_seconds is None or pd.isna(row.fit_seconds) else f"{row.fit_seconds:.1f}"
        link = notebook_link.format(notebook=row.notebook)
        lines.append(
            f"| {row.label} (`{row.key}`) | {row.chapter} | [{row.notebook}]({link}) | {row.NDCG:.4f} | "
            f"[{row.NDCG_lo:.4f}, {row.NDCG_hi:.4f}] | {row.HR:.4f} | {row.MRR:.4f} | {row.Recall:.4f} | "
            f"{row.Coverage:.4f} | {seconds} |"
        )
    return "\n".join(lines)


def recbole_markdown(path: str | Path) -> str:
    """The committed ``make compare-recbole`` results file as Markdown: RecBole's models, then the book's on the
    same split under both protocols (the file's numbers, written by ``scripts/compare_recbole.py``)."""
    path = Path(path)
    if not path.is_file():
        return f"*`make compare-recbole` has not written `{path.name}` yet.*"
    data = json.loads(path.read_text())
    lines = [
        f"RecBole {data['recbole']['recbole_version']}, its own leave-one-out split of ML-100K "
        f"({data['split']['events']['test']} test events, {data['split']['test_events_same_as_book_split']} of them "
        f"the book split's test events), full ranking, K = 10, at most {data['arguments']['epochs']} epochs, seed "
        f"{data['arguments']['seed']}; commit `{data['git_commit'][:10]}`.",
        "",
        "| library | model | protocol | NDCG@10 | HR@10 | MRR@10 | fit s |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for name, entry in data["recbole"]["models"].items():
        m = entry["metrics"]
        lines.append(
            f"| RecBole | {name} | RecBole: fit on train | {m['ndcg@10']:.4f} | {m['hit@10']:.4f} | "
            f"{m['mrr@10']:.4f} | {entry['fit_seconds']:.1f} |"
        )
    for row in data["book"]:
        lines.append(
            f"| llmrec | {row['model']} (≈ {row['recbole_model']}) | {row['protocol']} | {row['NDCG@10']:.4f} | "
            f"{row['HR@10']:.4f} | {row['MRR@10']:.4f} | {row['fit_seconds']:.1f} |"
        )
    return "\n".join(lines)


def fit_log_markdown(entries: list[dict[str, Any]], notebook_link: str = "../notebooks/{notebook}") -> str:
    """What the build's fit cache did (``entries``: the lines of its ``fits.jsonl``, see :mod:`llmrec._fit_cache`):
    how many models were fitted and how many loaded, and a table of every fitted model another notebook loaded,
    with the notebook that fitted it and those that reused it."""
    if not entries:
        return "*This build ran without the fit cache (no `fits.jsonl`).*"
    fits = [e for e in entries if e["event"] == "fit"]
    hits = [e for e in entries if e["event"] == "hit"]
    fitted_keys = {e["key"] for e in fits}
    refitted = len(fits) - len(fitted_keys)
    twice = "no model was" if not refitted else f"{refitted} model{'s were' if refitted > 1 else ' was'}"
    lines = [
        f"This build fitted {len(fits)} models through the pipeline and loaded {len(hits)} from the cache instead "
        f"of fitting them again; {twice} fitted twice."
    ]
    reused: dict[str, list[str]] = {}
    for entry in hits:
        users = reused.setdefault(entry["key"], [])
        if entry["notebook"] not in users:
            users.append(entry["notebook"])
    rows = []
    for entry in fits:
        if entry["key"] not in reused:
            continue
        params = ", ".join(f"{k}={v}" for k, v in sorted(entry["params"].items())).replace("|", "\\|")
        params = f"`{params}`" if params else "defaults"
        fitted_in = (
            f"[{entry['notebook']}]({notebook_link.format(notebook=entry['notebook'])})" if entry["notebook"] else ""
        )
        loaded_by = ", ".join(
            f"[{n}]({notebook_link.format(notebook=n)})" if n else "(outside a notebook)" for n in reused[entry["key"]]
        )
        rows.append(f"| `{entry['model']}` | {params} | {fitted_in} | {entry['fit_seconds']:.1f} | {loaded_by} |")
    if rows:
        lines += [
            "",
            "| model | parameters | fitted in | fit s | loaded (not refitted) by |",
            "|---|---|---|---:|---|",
            *rows,
        ]
    return "\n".join(lines)
