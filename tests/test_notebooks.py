"""Every notebook in _toc.yml: committed clean, one parameters cell, executed by papermill, and every recorded
number equal to ``tests/expected/<notebook>.json`` within the tolerance written there."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from run_notebooks import execute, toc_notebooks  # noqa: E402

from llmrec.book import compare_records, read_records  # noqa: E402

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
    executed, _ = execute(notebook)
    problems = compare_records(read_records(executed), json.loads(expected_file.read_text()))
    assert not problems, f"{notebook.name}:\n" + "\n".join(problems)
