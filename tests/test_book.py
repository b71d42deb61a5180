"""Static checks of the book sources: every glue reference points at a key some notebook records (and the
expected-values files list), the toc lists every notebook, and notebooks keep the book's conventions."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from run_notebooks import toc_notebooks  # noqa: E402

GLUE = re.compile(
    r"\{glue:(?:text|any|md|figure)\}`(?:(?P<path>[^`:]+\.ipynb)::)?(?P<key>[A-Za-z0-9_]+)(?P<format>:[^`]*)?`"
)


def expected_keys(stem: str) -> set[str]:
    path = ROOT / "tests" / "expected" / f"{stem}.json"
    return set(json.loads(path.read_text())) if path.is_file() else set()


def notebook_markdown(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


@pytest.mark.parametrize("notebook", toc_notebooks(), ids=lambda p: p.stem)
def test_notebook_glue_references_are_expected(notebook: Path) -> None:
    for match in GLUE.finditer(notebook_markdown(notebook)):
        stem = Path(match["path"]).stem if match["path"] else notebook.stem
        assert match["key"] in expected_keys(stem), f"{notebook.name} quotes {match['key']!r}, not in {stem}.json"


@pytest.mark.parametrize("page", sorted((ROOT / "book").glob("*.md")), ids=lambda p: p.name)
def test_book_glue_references_are_expected(page: Path) -> None:
    for match in GLUE.finditer(page.read_text()):
        assert match["path"], f"{page.name}: glue from a notebook needs the path form ../notebooks/x.ipynb::key"
        # myst-nb splits "path::key:format" at the last colon: without a format the key is lost
        assert match["format"], f"{page.name}: {match['key']!r} needs a format spec (e.g. :.4f or :s)"
        target = (page.parent / match["path"]).resolve()
        assert target.is_file(), f"{page.name}: {match['path']} does not exist (paths are relative to book/)"
        assert match["key"] in expected_keys(target.stem), f"{page.name}: {match['key']!r} not in {target.stem}.json"


def test_every_notebook_is_in_the_toc() -> None:
    listed = {p.resolve() for p in toc_notebooks()}
    on_disk = {p.resolve() for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert on_disk == listed, f"not in _toc.yml: {sorted(p.name for p in on_disk - listed)}"


# ----------------------------------------------------------------------------- recorded values and their comparison
def glued_notebook(path: Path, records: list[tuple[str, str]]) -> Path:
    """A notebook whose outputs are glued values, as myst_nb.glue writes them."""
    prefix = "application/papermill.record/"
    outputs = [
        {
            "output_type": "display_data",
            "data": {prefix + "text/plain": text},
            "metadata": {"scrapbook": {"name": key, "mime_prefix": prefix}},
        }
        for key, text in records
    ]
    cell = {"cell_type": "code", "source": "", "metadata": {}, "outputs": outputs, "execution_count": 1}
    path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_read_records_parses_glued_values(tmp_path: Path) -> None:
    from llmrec.book import read_records

    notebook = glued_notebook(tmp_path / "a.ipynb", [("n", "100000"), ("ndcg", "0.0449"), ("flag", "True")])
    assert read_records(notebook) == {"n": 100000, "ndcg": 0.0449, "flag": True}


def test_a_key_recorded_twice_is_refused(tmp_path: Path) -> None:
    from llmrec.book import read_records

    notebook = glued_notebook(tmp_path / "twice.ipynb", [("ndcg", "0.1"), ("other", "1"), ("ndcg", "0.2")])
    with pytest.raises(ValueError, match=r"twice\.ipynb: key 'ndcg' is recorded 2 times"):
        read_records(notebook)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"value": float("nan"), "atol": 1e-4}, "expected value nan is not a finite number"),
        ({"value": 0.5, "atol": float("nan")}, "tolerance atol=nan"),
        ({"value": 0.5, "rtol": float("inf")}, "tolerance rtol=inf"),
        ({"value": 0.5, "atol": -1.0}, "tolerance atol=-1"),
        ({"atol": 1e-4}, "no expected 'value'"),
    ],
)
def test_compare_records_refuses_nan_or_bad_tolerances(entry: dict, problem: str) -> None:
    from llmrec.book import compare_records

    problems = compare_records({"x": 12345.0}, {"x": entry})
    assert len(problems) == 1 and problem in problems[0] and problems[0].startswith("x: ")


def test_compare_records_by_hand() -> None:
    from llmrec.book import compare_records

    expected = {"a": {"value": 0.5, "atol": 1e-3}, "b": {"value": 10, "rtol": 0.1}, "c": {"value": 3}}
    assert compare_records({"a": 0.5009, "b": 10.9, "c": 3}, expected) == []
    problems = compare_records({"a": 0.502, "b": 11.1, "c": 3.5, "d": 1}, expected)
    assert [p.split(":")[0] for p in problems] == ["d", "a", "b", "c"]
    assert compare_records({"a": float("nan"), "b": 10, "c": 3}, expected) == ["a: got nan, expected 0.5 +/- 0.001"]


# ------------------------------------------------------------------------------- per-CPU recorded values (cpu_kind)
def _write(path: Path, entries: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries))
    return path


def test_a_cpu_file_replaces_only_the_values_it_lists(tmp_path: Path) -> None:
    from llmrec.book import expected_values

    base = _write(tmp_path / "nb.json", {"a": {"value": 0.5, "atol": 1e-3}, "b": {"value": 7}})
    assert expected_values(tmp_path, "nb", "intel-6-85") == (json.loads(base.read_text()), [base])
    other = _write(tmp_path / "cpu" / "intel-6-85" / "nb.json", {"a": {"value": 0.52, "atol": 1e-3}})
    merged, files = expected_values(tmp_path, "nb", "intel-6-85")
    assert merged == {"a": {"value": 0.52, "atol": 1e-3}, "b": {"value": 7}} and files == [base, other]
    assert expected_values(tmp_path, "nb", "amd-25-17")[0]["a"]["value"] == 0.5  # another kind: the base file


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"c": {"value": 1.0, "atol": 1e-3}}, "keys not in nb.json: ['c']"),
        ({"a": {"value": 0.6, "atol": 0.2}}, "tolerances differ from nb.json for ['a']"),  # loosened on one CPU
        ({"a": {"value": 0.6, "rtol": 1e-3}}, "tolerances differ"),
        ({"a": {"value": 0.5005, "atol": 1e-3}}, "within the base file's tolerance (drop them): ['a']"),
    ],
)
def test_a_cpu_file_that_adds_keys_loosens_or_repeats_is_refused(tmp_path: Path, entry: dict, problem: str) -> None:
    from llmrec.book import expected_values

    _write(tmp_path / "nb.json", {"a": {"value": 0.5, "atol": 1e-3}, "b": {"value": 7}})
    cpu_file = _write(tmp_path / "cpu" / "intel-6-85" / "nb.json", entry)
    with pytest.raises(ValueError, match=re.escape(problem)) as error:
        expected_values(tmp_path, "nb", "intel-6-85")
    assert str(cpu_file) in str(error.value)


CPU_FILES = sorted((ROOT / "tests" / "expected" / "cpu").glob("*/*.json"))


@pytest.mark.parametrize("cpu_file", CPU_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_committed_cpu_files_only_change_values_of_known_notebooks(cpu_file: Path) -> None:
    from llmrec.book import expected_values

    assert re.fullmatch(r"[a-z0-9]+-\d+-\d+", cpu_file.parent.name), f"{cpu_file}: not a cpu_kind() name"
    assert cpu_file.stem in {p.stem for p in toc_notebooks()}, f"{cpu_file}: no notebook {cpu_file.stem} in _toc.yml"
    merged, files = expected_values(cpu_file.parents[2], cpu_file.stem, cpu_file.parent.name)
    assert files[-1] == cpu_file and set(merged) == expected_keys(cpu_file.stem)


def test_expected_from_run_this_cpu_writes_only_the_differing_values(tmp_path: Path, monkeypatch) -> None:
    """``scripts/expected_from_run.py --this-cpu``: the values outside the base tolerance, with the base tolerance;
    a rerun that agrees keeps the file and one that disagrees is refused; with every value within the base tolerance
    no file is written, and a new key or an unknown CPU kind writes nothing."""
    import expected_from_run

    monkeypatch.setattr(expected_from_run, "EXPECTED", tmp_path)
    monkeypatch.setattr(expected_from_run, "cpu_kind", lambda: "intel-6-85")
    _write(
        tmp_path / "nb.json", {"a": {"value": 0.5, "atol": 1e-3}, "b": {"value": 7}, "c": {"value": 1.0, "rtol": 0.1}}
    )
    cpu_file = tmp_path / "cpu" / "intel-6-85" / "nb.json"
    assert expected_from_run.write_cpu_file({"a": 0.52, "b": 7, "c": 1.05}, "nb") == 0
    assert json.loads(cpu_file.read_text()) == {"a": {"value": 0.52, "atol": 1e-3}}  # c: within 10 %
    assert expected_from_run.write_cpu_file({"a": 0.52, "b": 7, "c": 1.0}, "nb") == 0  # agrees with the file
    assert expected_from_run.write_cpu_file({"a": 0.53, "b": 7, "c": 1.0}, "nb") == 1  # disagrees: refused
    assert json.loads(cpu_file.read_text()) == {"a": {"value": 0.52, "atol": 1e-3}}
    cpu_file.unlink()
    assert expected_from_run.write_cpu_file({"a": 0.5, "b": 7, "c": 1.0, "d": 2}, "nb") == 1  # d: base file first
    assert not cpu_file.exists()
    assert expected_from_run.write_cpu_file({"a": 0.5, "b": 7, "c": 1.0}, "nb") == 0
    assert not cpu_file.exists()  # every value within the base tolerance: no file
    monkeypatch.setattr(expected_from_run, "cpu_kind", lambda: "unknown")
    assert expected_from_run.write_cpu_file({"a": 0.52, "b": 7, "c": 1.0}, "nb") == 1
