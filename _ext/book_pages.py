"""Sphinx extension for the book's pages (loaded from _config.yml, `sphinx.local_extensions`).

Jupyter Book 1 has sphinx-thebe and sphinx-togglebutton add their inline configuration scripts twice to every
page, and the second ``const THEBE_JS_URL = ...`` throws "Identifier 'THEBE_JS_URL' has already been declared"
(a console error scripts/check_pages.py reports): identical script entries are kept once per page.
"""

from __future__ import annotations

from typing import Any


def _dedupe_scripts(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    kept = []
    for script in scripts:
        filename = str(getattr(script, "filename", script) or "")
        attributes = tuple(sorted((str(k), str(v)) for k, v in getattr(script, "attributes", {}).items()))
        key = (filename, attributes)
        if key in seen:
            continue
        seen.add(key)
        kept.append(script)
    scripts[:] = kept


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
