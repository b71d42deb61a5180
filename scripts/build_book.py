"""Build the HTML book from freshly executed notebooks (what `make book` runs).

1. Execute every notebook in ``_toc.yml`` with papermill (``scripts/run_notebooks.py``).
2. Assemble ``_build/site/``: ``_config.yml``, ``_toc.yml``, ``book/`` and the *executed* notebooks, plus the
   execution-status table filled in from this run's timings and the results table (``book/results.md``) from
   the models every executed notebook reported with ``llmrec.results.report``.
3. ``jupyter-book build`` with ``-W -n --keep-going`` (warnings, e.g. a missing glue key, fail the build).

``--no-execute`` skips step 1 and uses the executed copies already in ``_build/executed`` (``make test`` runs
the notebooks in its tests, then builds the book this way, so a broken reference fails CI too).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from run_notebooks import EXECUTED, FIT_CACHE, ROOT, execute, toc_notebooks

from llmrec._fit_cache import fit_cache_dir, read_log
from llmrec.results import collect, fit_log_markdown, recbole_markdown, results_markdown

SITE = ROOT / "_build" / "site"


def main(argv: list[str]) -> int:
    if "--no-execute" in argv:  # reuse this run's executed copies (make test has just produced them)
        durations = json.loads((EXECUTED / "durations.json").read_text())
        missing = [n for n in toc_notebooks() if not (EXECUTED / n.relative_to(ROOT)).is_file()]
        if missing:
            print(f"not executed yet: {[str(m.relative_to(ROOT)) for m in missing]}")
            return 1
        return assemble_and_build(durations)
    durations: dict[str, float] = {}
    for notebook in toc_notebooks():
        rel = notebook.relative_to(ROOT)
        print(f"executing {rel} ...", flush=True)
        _, seconds = execute(notebook)
        durations[str(rel)] = seconds
        print(f"  {seconds:.1f} s", flush=True)
    (EXECUTED / "durations.json").write_text(json.dumps(durations, indent=2) + "\n")
    return assemble_and_build(durations)


def assemble_and_build(durations: dict[str, float]) -> int:
    """Copy sources and executed notebooks into the site folder and run jupyter-book on it."""
    if SITE.exists():
        shutil.rmtree(SITE)
    SITE.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, SITE / name)
    shutil.copytree(ROOT / "book", SITE / "book")
    shutil.copytree(ROOT / "_ext", SITE / "_ext")  # the book's Sphinx extension (local_extensions in _config.yml)
    shutil.copytree(ROOT / "_static", SITE / "_static")  # the book's CSS (Jupyter Book adds every .css file in it)
    shutil.copytree(EXECUTED / "notebooks", SITE / "notebooks")

    rows = ["| notebook | seconds |", "|---|---:|"]
    rows += [f"| [{Path(k).stem}](../{Path(k).with_suffix('')}) | {v:.1f} |" for k, v in durations.items()]
    rows.append(f"| **total** | {sum(durations.values()):.1f} |")
    status = SITE / "book" / "execution.md"
    status.write_text(status.read_text().replace("<!-- EXECUTION TABLE -->", "\n".join(rows)))

    table = collect(EXECUTED / n.relative_to(ROOT) for n in toc_notebooks())
    results = SITE / "book" / "results.md"
    text = results.read_text().replace("<!-- RESULTS TABLE -->", results_markdown(table))
    text = text.replace("<!-- FIT LOG -->", fit_log_markdown(read_log(fit_cache_dir() or FIT_CACHE)))
    text = text.replace("<!-- RECBOLE TABLE -->", recbole_markdown(ROOT / "benchmarks" / "recbole_ml100k.json"))
    results.write_text(text)

    command = ["jupyter-book", "build", str(SITE), "-W", "-n", "--keep-going"]
    exe = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run([str(exe), *command[1:]], check=False)
    if result.returncode != 0:
        print(f"jupyter-book build failed (exit {result.returncode}); executed notebooks kept in {EXECUTED}")
        return result.returncode
    print(f"\nThe book is at {SITE / '_build' / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
