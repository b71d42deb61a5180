"""Execute the book's notebooks with papermill at their own parameters (used by `make book` and the tests).

    python scripts/run_notebooks.py                 # every notebook listed in _toc.yml
    python scripts/run_notebooks.py notebooks/01_data_evaluation.ipynb

Executed copies go to ``_build/executed/notebooks/``; ``_build/executed/durations.json`` records the seconds
each notebook took in its latest execution.
Source notebooks are never modified. Models fitted through ``llmrec.pipeline`` are cached in
``_build/executed/fit-cache`` (``LLMREC_FIT_CACHE``; see ``llmrec._fit_cache``), so a baseline several chapters
compare with is fitted once per build.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = ROOT / "_build" / "executed"
FIT_CACHE = EXECUTED / "fit-cache"


def toc_notebooks(toc: Path = ROOT / "_toc.yml") -> list[Path]:
    """Notebook paths listed in ``_toc.yml``, in book order."""
    found: list[Path] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            file = node.get("file")
            if isinstance(file, str) and file.startswith("notebooks/"):
                found.append(ROOT / (file if file.endswith(".ipynb") else file + ".ipynb"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(toc.read_text()))
    return found


def execute(notebook: Path, parameters: dict | None = None) -> tuple[Path, float]:
    """Run one notebook with papermill; return the executed copy and the seconds it took."""
    import papermill

    target = EXECUTED / notebook.relative_to(ROOT)
    target.parent.mkdir(parents=True, exist_ok=True)
    # the kernel inherits these; they are restored afterwards, so code that runs later in this process (the tests
    # after the notebook tests) does not write into the build's cache or its log
    saved = {name: os.environ.get(name) for name in ("LLMREC_FIT_CACHE", "LLMREC_NOTEBOOK")}
    os.environ.setdefault("LLMREC_FIT_CACHE", str(FIT_CACHE))
    os.environ["LLMREC_NOTEBOOK"] = notebook.stem  # named in the cache's fits.jsonl
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(target),
            parameters=parameters or {},
            kernel_name="python3",
            cwd=str(notebook.parent),
            progress_bar=False,
        )
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    seconds = time.perf_counter() - start
    durations_file = EXECUTED / "durations.json"
    try:
        durations = json.loads(durations_file.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        durations = {}
    durations[str(notebook.relative_to(ROOT))] = round(seconds, 1)
    partial = durations_file.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(durations, indent=2) + "\n")
    os.replace(partial, durations_file)
    return target, seconds


def main(argv: list[str]) -> int:
    notebooks = [Path(a).resolve() for a in argv] or toc_notebooks()
    for notebook in notebooks:
        print(f"executing {notebook.relative_to(ROOT)} ...", flush=True)
        target, seconds = execute(notebook)
        print(f"  {seconds:.1f} s -> {target.relative_to(ROOT)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
