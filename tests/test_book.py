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
