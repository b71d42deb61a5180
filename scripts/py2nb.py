"""Turn a percent-format script into a clean notebook (no outputs), for authors who prefer editing text.

    python scripts/py2nb.py notebooks/src/02_ngram.py notebooks/02_ngram.ipynb

Cells start with ``# %%`` (code), ``# %% [markdown]`` (Markdown, each line prefixed by ``# ``) and
``# %% tags=["parameters"]`` (the parameters cell).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

_HEADER = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=\[(?P<tags>[^\]]*)\])?\s*$")


def convert(source: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    cells: list[tuple[bool, list[str], list[str]]] = []
    for line in source.splitlines():
        match = _HEADER.match(line)
        if match:
            tags = [t.strip().strip("\"'") for t in (match.group("tags") or "").split(",") if t.strip()]
            cells.append((bool(match.group("md")), tags, []))
        elif cells:
            cells[-1][2].append(line)
    for index, (is_markdown, tags, lines) in enumerate(cells):
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if is_markdown:
            text = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines)
            cell = nbformat.v4.new_markdown_cell(text)
        else:
            cell = nbformat.v4.new_code_cell("\n".join(lines))
        if tags:
            cell.metadata["tags"] = tags
        cell["id"] = f"cell-{index:03d}"  # stable ids: re-converting gives the same file
        notebook.cells.append(cell)
    return notebook


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    notebook = convert(source.read_text())
    nbformat.validator.normalize(notebook)
    target.write_text(nbformat.writes(notebook) + "\n")
    print(f"wrote {target} ({len(notebook.cells)} cells)")


if __name__ == "__main__":
    main()
