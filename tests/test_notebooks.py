"""Every notebook in _toc.yml: committed clean, one parameters cell, executed by papermill, and every recorded
number equal to ``tests/expected/<notebook>.json`` within the tolerance written there (on a CPU kind with its own
``tests/expected/cpu/<kind>/<notebook>.json``, that file's values replace the base file's; ``expected_values``)."""

from __future__ import annotations

import ast
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from conftest import PINNED_KERNELS  # noqa: E402
from run_notebooks import EXECUTED, FIT_CACHE, execute, toc_notebooks  # noqa: E402

from llmrec._fit_cache import read_log  # noqa: E402
from llmrec.benchmark import cpu_description, cpu_kind  # noqa: E402
from llmrec.book import compare_records, expected_values, read_records  # noqa: E402
from llmrec.results import collect  # noqa: E402

NOTEBOOKS = toc_notebooks()


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_toc_lists_notebooks() -> None:
    assert NOTEBOOKS, "_toc.yml lists no notebooks"
    for notebook in NOTEBOOKS:
        assert notebook.is_file(), f"_toc.yml lists {notebook}, which does not exist"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_clean_with_one_parameters_cell(notebook: Path) -> None:
    cells = json.loads(notebook.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    dirty = [i for i, c in enumerate(code) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, f"{notebook.name}: code cells {dirty} have outputs; commit notebooks without outputs"
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{notebook.name}: expected exactly one cell tagged 'parameters', found {len(tagged)}"
    source = "".join(tagged[0]["source"])
    names = [t.id for node in ast.parse(source).body if isinstance(node, ast.Assign) for t in node.targets]
    assert "SEED" in names, f"{notebook.name}: the parameters cell must define SEED"
    assert all(n.isupper() for n in names), f"{notebook.name}: parameter names must be UPPER_CASE: {names}"


@pytest.mark.notebook
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_records_match_expected(notebook: Path) -> None:
    expected_file = ROOT / "tests" / "expected" / f"{notebook.stem}.json"
    assert expected_file.is_file(), f"no expected values for {notebook.name}: write {expected_file}"
    expected, files = expected_values(expected_file.parent, notebook.stem, cpu_kind())
    executed, _ = execute(notebook)
    problems = compare_records(read_records(executed), expected)
    assert not problems, f"{notebook.name}:\n" + "\n".join(problems) + _kernels_note(files)


def _kernels_note(files: list[Path]) -> str:
    """Where trained models' values differ, the CPU and kernels that ran and the files compared with: the pinning
    (README, *Run one chapter, or open the notebooks*) does not give the same values on every CPU kind."""
    pinned = ", ".join(f"{name}={os.environ.get(name)}" for name in PINNED_KERNELS)
    compared = " + ".join(str(f.relative_to(ROOT)) for f in files)
    return f"\n(on {cpu_description()}, kind {cpu_kind()}, with {pinned}; compared with {compared})"


# ------------------------------------------------------------------------------------------------------------------
# Baselines are fitted once per build (issue 10): a notebook fits every registered model through
# llmrec.pipeline.run / fit_evaluate, which load a model another chapter already fitted on the same data and split
# from the build's cache (llmrec._fit_cache), and reports each model's results-page row once.

#: Notebooks held to the rule (chapters 1-10).
SHARED_BASELINE_NOTEBOOKS = [
    "01_data_evaluation",
    "02_ngram",
    "03_attention",
    "04_bayesian_transfer",
    "05_cf_formulas",
    "06_text_encoders",
    "07_sequential_interest",
    "08_transfer_cold_start",
    "09_evaluation_methodology",
    "10_generative_llm",
]
#: (model, notebook that fits it) -> later notebooks that must load that fit instead of fitting it again
SHARED_FITS = {
    ("pop", "01_data_evaluation"): SHARED_BASELINE_NOTEBOOKS[1:6],
    ("itemknn", "01_data_evaluation"): SHARED_BASELINE_NOTEBOOKS[1:6],
    ("ngram", "02_ngram"): ["03_attention"],
    ("bpr", "05_cf_formulas"): ["06_text_encoders"],
}
FACTORIES = {"make_model", "build_model"}
EXEMPT = "# not shared:"


def _called_name(node: ast.AST) -> str | None:
    """``f`` for a call ``f(...)`` or ``module.f(...)``, else None."""
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name):
            return node.func.id
        if isinstance(node.func, ast.Attribute):
            return node.func.attr
    return None


def direct_builds(source: str) -> list[tuple[int, str]]:
    """``(line, text)`` of every registered model a notebook builds itself in ``source`` (its code cells' Python).

    The rule: a notebook names a registered model and lets ``llmrec.pipeline.run`` / ``fit_evaluate`` build,
    fit (or load) and evaluate it. A call of ``make_model``/``build_model`` or of a registered model's class
    (``MostPopular(...)``, ``ItemKNN(...)``, ``SASRec(...)``, ...) in a notebook is flagged, wherever it is: the
    model is about to be fitted outside the build's cache (``MostPopular().fit(train)``, ``m = ItemKNN()`` then
    ``m.fit``, or a helper ``fit_evaluate(key, SASRec(...))`` that calls ``.fit``). A line that carries
    ``# not shared: <reason>`` is exempt (a model that cannot be cached, e.g. one given a data object as a
    parameter). Other estimators (``NGramLM(...).fit``, scikit-learn, Surprise, nltk) are not registered models."""
    from llmrec.models import MODELS

    constructors = FACTORIES | {cls.__name__ for cls in MODELS.values()}
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if _called_name(node) not in constructors:
            continue
        if EXEMPT in lines[node.lineno - 1]:
            continue
        found.append((node.lineno, ast.get_source_segment(source, node) or ""))
    return sorted(found)


def _notebook_code(notebook: Path) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    cells = json.loads(notebook.read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    return "\n".join(TransformerManager().transform_cell(s) for s in sources)  # magics become plain Python


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("MostPopular().fit(train)", True),
        ("m = ItemKNN(neighbours=5)\nm.fit(split.fit_data('test'))", True),
        ("make_model('bpr', epochs=3).fit(train)", True),
        ("models.GPTRecommender(epochs=1).fit(train)", True),
        ("build_model(name, params, SEED).fit(cold.fit_data('test'))", True),
        ("def fit_evaluate(key, model):\n    model.fit(train)\nfit_evaluate('s', SASRec(seed=1))", True),
        ("make = lambda: LeastSquaresMF(reg=1.0)\nevaluate(make().fit(train), split)", True),
        ("EMCDR(source=big).fit(train)  # not shared: a data object as parameter", False),
        ("fit_evaluate('pop', split, params={}, k=10)", False),
        ("run(RunConfig(models=['pop', 'itemknn']), data=data)", False),
        ("NGramLM(3, smoothing='mle').fit(ids, 10, 0, 1)", False),
        ("KNNBasic(k=40).fit(trainset)", False),
        ("Ridge(alpha=5.0).fit(x, y)", False),
    ],
)
def test_direct_build_rule(source: str, flagged: bool) -> None:
    assert bool(direct_builds(source)) == flagged


@pytest.mark.parametrize("name", SHARED_BASELINE_NOTEBOOKS)
def test_notebook_fits_registered_models_through_the_pipeline(name: str) -> None:
    notebook = ROOT / "notebooks" / f"{name}.ipynb"
    found = direct_builds(_notebook_code(notebook))
    assert not found, (
        f"{notebook.name} builds registered models itself: "
        + "; ".join(f"{text!r}" for _, text in found)
        + ". Fit them with llmrec.pipeline.run or fit_evaluate, so a model another chapter already fitted on "
        "the same data and split is loaded from the build's cache, not fitted again."
    )


# The two tests below read what the notebook tests above produced; pytest runs a module's tests in the order they
# are defined, so they come after them.
@pytest.mark.notebook
def test_the_build_fitted_each_shared_baseline_once() -> None:
    entries = read_log(FIT_CACHE)
    if not entries:
        pytest.skip(f"no {FIT_CACHE / 'fits.jsonl'}: no notebook ran with the fit cache")
    fitted: dict[str, list[str]] = {}
    for entry in entries:
        if entry["event"] == "fit":
            fitted.setdefault(entry["key"], []).append(f"{entry['model']} in {entry['notebook']}")
    twice = {key[:12]: fits for key, fits in fitted.items() if len(fits) > 1}
    assert not twice, f"models fitted more than once with the same cache key (data, split, parameters): {twice}"
    for (model, source), consumers in SHARED_FITS.items():
        positions = [
            i for i, e in enumerate(entries) if e["event"] == "fit" and (e["model"], e["notebook"]) == (model, source)
        ]
        if not positions:
            continue  # the deriving notebook did not run in this build
        keys = {entries[i]["key"] for i in positions}
        later = entries[positions[0] + 1 :]
        for consumer in consumers:
            events = [e for e in later if e["notebook"] == consumer]
            if not events:
                continue  # the consumer did not run after it
            assert any(e["event"] == "hit" and e["key"] in keys for e in events), (
                f"{consumer} did not load {source}'s {model} fit from the build's cache "
                f"(its {model} events: {[(e['event'], e['key'][:12]) for e in events if e['model'] == model]})"
            )


@pytest.mark.notebook
def test_each_model_has_one_results_row() -> None:
    executed = [EXECUTED / notebook.relative_to(ROOT) for notebook in toc_notebooks()]
    executed = [path for path in executed if path.is_file()]
    if not executed:
        pytest.skip("none of the notebooks has been executed")
    table = collect(executed)
    repeated = table[table["key"].duplicated(keep=False)]
    assert repeated.empty, (
        "results-page rows reported by more than one notebook: "
        f"{repeated[['key', 'notebook']].to_dict(orient='records')}; report a model in the chapter that derives it"
    )
