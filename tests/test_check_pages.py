"""The browser check of the built book (scripts/check_pages.py), shown failing on a deliberately broken page and
passing on a good one. Needs Debian's Chromium (`make test` installs it) and Playwright for Python."""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "pages"
sys.path.insert(0, str(ROOT / "scripts"))
import check_pages  # noqa: E402

pytest.importorskip("playwright.sync_api", reason="playwright (the dev extra) is not installed")
if check_pages.find_chromium() is None:
    pytest.skip(
        "Chromium is not installed: apt-get install -y chromium (make test installs it)", allow_module_level=True
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    for page in FIXTURES.glob("*.html"):
        shutil.copy(page, root / page.name)
    # the offline MathJax the book uses, copied where the good page loads it from
    mathjax = Path(importlib.import_module("sphinx-mathjax-offline").__file__).parent / "static" / "mathjax"
    shutil.copytree(mathjax, root / "_static" / "mathjax")
    return root


@pytest.fixture(scope="module")
def results(site: Path) -> dict[str, list[str]]:
    return check_pages.check_pages(site)


def test_checks_every_page(results: dict[str, list[str]]) -> None:
    assert sorted(results) == [
        "broken.html",
        "good.html",
        "redirect.html",
        "redirect_missing.html",
        "wide_formula.html",
    ]


def test_a_redirect_page_is_checked_by_its_target_not_opened(results: dict[str, list[str]], site: Path) -> None:
    # the book's index.html (written by sphinx-external-toc) navigates away at once; opened in the browser, its
    # inspection failed on CI with "Execution context was destroyed"
    assert check_pages.redirect_target(site / "redirect.html") == "good.html"
    assert check_pages.redirect_target(site / "redirect_missing.html") == "book/nowhere.html"
    assert check_pages.redirect_target(site / "good.html") is None
    assert results["redirect.html"] == []
    assert results["redirect_missing.html"] == ["redirect to a missing page: 'book/nowhere.html'"]
    outside = site / "outside.html"
    outside.write_text('<meta http-equiv="refresh" content="0; url=https://example.org/">')
    try:
        assert check_pages.check_redirect(site.resolve(), outside, "https://example.org/") == [
            "redirect to another site: 'https://example.org/'"
        ]
        assert check_pages.check_redirect(site.resolve(), outside, "../../etc/passwd") == [
            "redirect to a missing page: '../../etc/passwd'"
        ]
    finally:
        outside.unlink()


def test_a_typeset_formula_wider_than_the_column_fails(results: dict[str, list[str]]) -> None:
    problems = results["wide_formula.html"]
    assert len(problems) == 1 and problems[0].startswith("overflow: a formula is "), problems


def test_good_page_passes(results: dict[str, list[str]]) -> None:
    assert results["good.html"] == []


@pytest.mark.parametrize(
    "expected",
    [
        "raw TeX \\( left in the text",  # the inline formula, never typeset
        "raw TeX \\[ left in the text",  # the display formula
        "raw TeX $$ left in the text",  # dollar maths that no parser saw
        "maths not rendered",
        "broken image (not loaded or zero size): '_images/missing.png'",
        "stderr/error output cell: '/work/wt/x/.venv",
        "warning or traceback in an output: ",
        "local path on the page: ",
        "glue reference not rendered: ",
        "overflow: a code block is ",
        "console: blocked request to the network: https://cdn.example.org/mathjax/tex-chtml.js",
        "console: a script on the page failed",
    ],
)
def test_broken_page_names_each_problem(results: dict[str, list[str]], expected: str) -> None:
    problems = results["broken.html"]
    assert any(p.startswith(expected) or expected in p for p in problems), f"{expected!r} not in {problems}"


def test_main_fails_on_the_broken_page(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_pages.main([str(site), "broken.html"]) == 1
    assert "FAIL broken.html" in capsys.readouterr().out
    assert check_pages.main([str(site), "good.html"]) == 0
    assert check_pages.main([str(site), "redirect.html"]) == 0
    assert check_pages.main([str(site), "redirect_missing.html"]) == 1
