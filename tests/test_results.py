"""The results table: what ``report`` records, that its metadata is never asserted, and reading it back."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from llmrec.book import compare_records, read_meta, read_records
from llmrec.evaluation import EvaluationResult
from llmrec.results import collect, report, report_values, results_markdown
from llmrec.stats import bootstrap_ci


def toy_evaluation() -> EvaluationResult:
    per_user = pd.DataFrame(
        {
            "HR@10": [1.0, 0.0, 1.0, 1.0],
            "NDCG@10": [1.0, 0.0, 0.5, 1 / np.log2(3)],
            "MRR@10": [1.0, 0.0, 1 / 3, 0.5],
            "Recall@10": [1.0, 0.0, 1.0, 1.0],
            "Precision@10": [0.1, 0.0, 0.1, 0.1],
            "F1@10": [2 / 11, 0.0, 2 / 11, 2 / 11],
        },
        index=pd.Index([0, 3, 5, 7], name="user"),
    )
    return EvaluationResult(10, per_user, 0.25)


def test_report_values_are_the_means_and_a_seeded_bootstrap_interval() -> None:
    evaluation = toy_evaluation()
    values, meta = report_values("pop", evaluation, label="Most popular", chapter=1, fit_seconds=0.5)
    assert values["res_pop_ndcg10"] == pytest.approx((1.0 + 0.0 + 0.5 + 1 / np.log2(3)) / 4, abs=1e-12)
    assert values["res_pop_hr10"] == pytest.approx(0.75) and values["res_pop_recall10"] == pytest.approx(0.75)
    assert values["res_pop_mrr10"] == pytest.approx((1 + 1 / 3 + 0.5) / 4)
    assert values["res_pop_cov10"] == pytest.approx(0.25)
    lo, hi = bootstrap_ci(evaluation.per_user["NDCG@10"].to_numpy(), n_resamples=2000, seed=42)
    assert (values["res_pop_ndcg10_lo"], values["res_pop_ndcg10_hi"]) == (lo, hi)
    assert lo <= values["res_pop_ndcg10"] <= hi
    assert meta == {
        "res_pop_label": "Most popular",
        "res_pop_chapter": 1,
        "res_pop_dataset": "ml-100k",
        "res_pop_seed": 42,
        "res_pop_k": 10,
        "res_pop_fit_seconds": 0.5,
    }
    assert "res_pop_fit_seconds" not in report_values("pop", evaluation, label="Pop", chapter=1)[1]


@pytest.mark.parametrize("key", ["Pop", "pop-1", "", "a b"])
def test_report_refuses_bad_keys(key: str) -> None:
    with pytest.raises(ValueError, match="key"):
        report_values(key, toy_evaluation(), label="x", chapter=1)


def executed_notebook(tmp_path: Path, name: str, calls) -> Path:
    """A notebook whose one code cell holds the outputs ``calls`` display (as papermill would save them)."""
    InteractiveShell.instance()
    with capture_output() as captured:
        calls()
    outputs = [nbformat.v4.new_output("display_data", data=o.data, metadata=o.metadata) for o in captured.outputs]
    cell = nbformat.v4.new_code_cell("report(...)", outputs=outputs)
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    return path


def test_report_round_trip_metadata_is_not_asserted(tmp_path: Path) -> None:
    evaluation = toy_evaluation()
    path = executed_notebook(
        tmp_path, "09_x", lambda: report("pop", evaluation, label="Most popular", chapter=9, fit_seconds=1.25)
    )
    values, meta = report_values("pop", evaluation, label="Most popular", chapter=9, fit_seconds=1.25)
    records = read_records(path)
    assert records == pytest.approx(values, abs=1e-12)  # the asserted set: numbers only, no seconds or label
    assert read_meta(path) == meta
    expected = {name: {"value": value, "atol": 1e-9} for name, value in values.items()}
    assert compare_records(records, expected) == []

    table = collect([path])
    assert table.shape[0] == 1
    row = table.iloc[0]
    assert (row["key"], row["label"], row["chapter"], row["notebook"]) == ("pop", "Most popular", 9, "09_x")
    assert row["NDCG"] == pytest.approx(values["res_pop_ndcg10"]) and row["fit_seconds"] == 1.25
    text = results_markdown(table)
    assert "| Most popular (`pop`) | 9 | [09_x](../notebooks/09_x) |" in text
    assert f"| {values['res_pop_ndcg10']:.4f} |" in text and text.endswith("| 1.2 |")  # 1.25 s, rounded half-even


def test_results_markdown_sorts_by_ndcg_and_handles_no_rows(tmp_path: Path) -> None:
    evaluation = toy_evaluation()
    worse = EvaluationResult(10, evaluation.per_user * 0.5, 0.1)
    path = executed_notebook(
        tmp_path,
        "nb",
        lambda: (report("worse", worse, label="Worse", chapter=2), report("best", evaluation, label="Best", chapter=2)),
    )
    lines = results_markdown(collect([path])).splitlines()
    assert "Best" in lines[2] and "Worse" in lines[3] and lines[3].endswith("|  |")  # no fit seconds given
    assert "No notebook" in results_markdown(collect([]))
    assert json.loads(path.read_text())["cells"][0]["outputs"]  # the notebook really holds the glued outputs


def test_recbole_markdown(tmp_path: Path) -> None:
    from llmrec.results import recbole_markdown

    assert "has not written" in recbole_markdown(tmp_path / "missing.json")
    data = {
        "recbole": {
            "recbole_version": "1.2.1",
            "models": {
                "Pop": {"metrics": {"ndcg@10": 0.03561, "hit@10": 0.074231, "mrr@10": 0.024063}, "fit_seconds": 2.5}
            },
        },
        "split": {"events": {"test": 943}, "test_events_same_as_book_split": 939},
        "arguments": {"epochs": 20, "seed": 42},
        "git_commit": "af6a7230eb51e982d59ab7d14e1cf66e5cdbb5e7",
        "book": [
            {
                "model": "pop",
                "recbole_model": "Pop",
                "protocol": "book",
                "NDCG@10": 0.0449,
                "HR@10": 0.0859,
                "MRR@10": 0.0326,
                "fit_seconds": 0.1,
            }
        ],
    }
    path = tmp_path / "recbole.json"
    path.write_text(json.dumps(data))
    text = recbole_markdown(path)
    assert "939 of them" in text and "`af6a7230eb`" in text
    assert "| RecBole | Pop | RecBole: fit on train | 0.0356 | 0.0742 | 0.0241 | 2.5 |" in text
    assert "| llmrec | pop (≈ Pop) | book | 0.0449 | 0.0859 | 0.0326 | 0.1 |" in text


def test_report_takes_report_values_parameters() -> None:
    import inspect

    assert list(inspect.signature(report).parameters) == list(inspect.signature(report_values).parameters)
    with pytest.raises(TypeError, match="label"):
        report("pop", toy_evaluation(), chapter=1)


def test_fit_log_markdown_names_who_fitted_and_who_loaded() -> None:
    from llmrec.results import fit_log_markdown

    def line(event: str, key: str, model: str, notebook: str, params: dict | None = None) -> dict:
        return {
            "event": event,
            "key": key,
            "model": model,
            "params": params or {},
            "fit_seconds": 1.25,
            "notebook": notebook,
        }

    entries = [
        line("fit", "k1", "pop", "01_data_evaluation"),
        line("fit", "k2", "itemknn", "01_data_evaluation", {"neighbours": 50}),
        line("hit", "k1", "pop", "02_ngram"),
        line("hit", "k1", "pop", "02_ngram"),
        line("hit", "k1", "pop", "05_cf_formulas"),
        line("fit", "k3", "ngram", "02_ngram", {"order": 3}),
    ]
    text = fit_log_markdown(entries)
    assert text.splitlines()[0] == (
        "This build fitted 3 models through the pipeline and loaded 3 from the cache instead of fitting them "
        "again; no model was fitted twice."
    )
    rows = [row for row in text.splitlines() if row.startswith("| `")]
    assert "| `itemknn` |" not in text  # fitted, never loaded
    assert rows == [  # only fits another notebook loaded; each loading notebook once
        "| `pop` | defaults | [01_data_evaluation](../notebooks/01_data_evaluation) | 1.2 | "
        "[02_ngram](../notebooks/02_ngram), [05_cf_formulas](../notebooks/05_cf_formulas) |"
    ]
    refitted = fit_log_markdown([*entries, line("fit", "k1", "pop", "03_attention")])
    assert "; 1 model was fitted twice." in refitted.splitlines()[0]
    assert fit_log_markdown([]) == "*This build ran without the fit cache (no `fits.jsonl`).*"
