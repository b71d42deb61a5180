"""Open every built page of the book in headless Chromium and check what a reader sees (the end of `make test`).

    python scripts/check_pages.py                      # every page of _build/site/_build/html
    python scripts/check_pages.py path/to/html [page.html ...]

The pages are served from a local HTTP server; every request to another host is blocked, so a page that needs the
network (a CDN's MathJax, a web font) fails here as it would for a reader offline. Per page:

- maths: no raw TeX delimiters (``\\[``, ``\\(``, ``$$``) left in the text, and every Sphinx ``.math`` element
  rendered by MathJax (``mjx-container``) or KaTeX (``.katex``);
- images: every ``<img>`` loaded, with a non-zero natural size;
- outputs: no stderr or error output cells, no warnings or tracebacks in outputs, no local paths (``/work/``,
  ``.venv/``, ``site-packages``, home folders) anywhere on the page;
- glue: no literal ``{glue:`` left (a value that was not inserted);
- width: the page is no wider than its viewport, and no code block or output is wider than its box (a long line
  is cut off or needs scrolling); collapsed cells are opened first, so hidden code is measured too;
- console: no console errors, uncaught exceptions, failed or blocked requests.

A page that only redirects (``<meta http-equiv="refresh">``, the book's ``index.html``) is not opened in the browser,
whose inspection it would interrupt by navigating away; it passes when its target is an existing page of the book.

Chromium comes from Debian's packages (``apt-get install chromium``; ``make test`` installs it when missing) and is
driven by Playwright for Python with ``executable_path`` (no browser download).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import re
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_HTML = ROOT / "_build" / "site" / "_build" / "html"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
MATHJAX_TIMEOUT_MS = 60_000
PAGE_TIMEOUT_MS = 180_000  # generous: CI machines and shared developer machines can be slow
LOCAL_PATHS = ("/work/", "/.venv/", ".venv/lib", "site-packages", "/home/", "/root/", "/tmp/")

# a page that only sends the reader on (the book's index.html): <meta http-equiv="refresh" content="0; url=...">
META_REFRESH = re.compile(
    r"<meta[^>]*http-equiv=[\"']?refresh[\"']?[^>]*content=[\"']?\s*\d+\s*;\s*url=([^\"'>\s]+)", re.IGNORECASE
)

# Runs in the page after load (and after MathJax's first typeset); returns what the Python side turns into messages.
INSPECT_PAGE = r"""
() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const main = document.querySelector('main') || document.body;
  const snippet = (s, i) => s.slice(Math.max(0, i - 30), i + 50).replace(/\s+/g, ' ').trim();
  // text a reader sees as prose: not code, not rendered maths, not scripts
  const skip = 'pre, code, script, style, textarea, mjx-container, .katex, .MathJax';
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  const prose = [];
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (el && !el.closest(skip)) prose.push(walker.currentNode.nodeValue);
  }
  const proseText = prose.join(' ');
  const rawTex = [];
  for (const delimiter of ['\\[', '\\(', '$$']) {
    const i = proseText.indexOf(delimiter);
    if (i >= 0) rawTex.push([delimiter, snippet(proseText, i)]);
  }
  const mathElements = Array.from(main.querySelectorAll('.math'));
  const unrendered = mathElements
    .filter(el => !el.querySelector('mjx-container, .katex'))
    .map(el => el.textContent.replace(/\s+/g, ' ').trim().slice(0, 60));
  const images = Array.from(document.images).map(img => ({
    src: img.getAttribute('src') || '', ok: img.complete && img.naturalWidth > 0 && img.naturalHeight > 0,
  }));
  const errorCells = Array.from(main.querySelectorAll('.output.stderr, .output.traceback, .output.error'))
    .map(el => el.textContent.replace(/\s+/g, ' ').trim().slice(0, 100));
  const outputText = Array.from(main.querySelectorAll('.cell_output')).map(el => el.textContent).join('\n');
  // a warning printed by Python's warnings module, or a traceback (error cells are caught above; a chapter may
  // print an exception's message on purpose, to show that an article's code fails)
  const warning = outputText.match(/\b[A-Z]\w*Warning\b|Traceback \(most recent call last\)/);
  const allText = main.textContent;
  const glueAt = allText.indexOf('{glue:');
  // content wider than its box: cut off, or needing a horizontal scroll (code, outputs, display maths, tables)
  const overflowing = [], flagged = [];
  const boxes = 'pre, div.math, mjx-container[display="true"], .katex-display, .output.text_html, table';
  for (const el of main.querySelectorAll(boxes)) {
    if (el.getBoundingClientRect().width === 0) continue;
    const over = el.scrollWidth - el.clientWidth;
    if (over <= 1 || flagged.some(f => f.contains(el) || el.contains(f))) continue;  // report a box once
    flagged.push(el);
    const head = el.querySelector('thead');
    const lines = el.tagName === 'PRE' ? el.textContent.split('\n') : [(head || el).textContent];
    const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
    const formula = el.matches('div.math, mjx-container, .katex-display');
    overflowing.push({tag: el.tagName === 'PRE' ? 'code block' : formula ? 'formula' : 'table',
                      over, text: longest.replace(/\s+/g, ' ').trim().slice(0, 70)});
  }
  return {
    rawTex, unrendered, nMath: mathElements.length,
    nRendered: main.querySelectorAll('mjx-container, .katex').length,
    images, errorCells, warning: warning ? snippet(outputText, warning.index) : null,
    localPaths: LOCAL_PATHS.filter(p => allText.includes(p)).map(p => snippet(allText, allText.indexOf(p))),
    glue: glueAt >= 0 ? snippet(allText, glueAt) : null,
    pageWidth: document.documentElement.scrollWidth, viewportWidth: window.innerWidth,
    overflowing,
  };
}
"""


WAIT_FOR_MATHJAX = """(timeout) => new Promise(resolve => {
  const done = () => resolve(true);
  setTimeout(done, timeout);
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) mj.startup.promise.then(done, done); else done();
})"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on a free local port for the duration of the block; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def find_chromium() -> str | None:
    """Debian's Chromium, or None when it is not installed."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def problems_from(report: dict, console: list[str]) -> list[str]:
    """Turn one page's inspection into messages a reader of the build log can act on."""
    problems: list[str] = []
    for delimiter, text in report["rawTex"]:
        problems.append(f"raw TeX {delimiter} left in the text: {text!r}")
    for text in report["unrendered"][:5]:
        problems.append(f"maths not rendered (no MathJax/KaTeX output): {text!r}")
    if len(report["unrendered"]) > 5:
        problems.append(f"... and {len(report['unrendered']) - 5} more unrendered formulas")
    for image in report["images"]:
        if not image["ok"]:
            problems.append(f"broken image (not loaded or zero size): {image['src'][:80]!r}")
    for text in report["errorCells"]:
        problems.append(f"stderr/error output cell: {text!r}")
    if report["warning"]:
        problems.append(f"warning or traceback in an output: {report['warning']!r}")
    for text in report["localPaths"]:
        problems.append(f"local path on the page: {text!r}")
    if report["glue"]:
        problems.append(f"glue reference not rendered: {report['glue']!r}")
    if report["pageWidth"] > report["viewportWidth"] + 1:
        problems.append(f"page wider than the viewport: {report['pageWidth']} px > {report['viewportWidth']} px")
    for item in report["overflowing"]:
        problems.append(f"overflow: a {item['tag']} is {item['over']:.0f} px wider than its box: {item['text']!r}")
    problems.extend(f"console: {line}" for line in console)
    return problems


def check_pages(html_root: Path, pages: list[Path] | None = None, chromium: str | None = None) -> dict[str, list[str]]:
    """Check each page (default: every ``*.html`` under ``html_root``); returns ``{page: [problems]}``."""
    from playwright.sync_api import sync_playwright

    html_root = html_root.resolve()
    if pages is None:
        pages = sorted(p for p in html_root.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts)
    executable = chromium or find_chromium()
    if executable is None:
        raise FileNotFoundError("Chromium not found: apt-get install -y chromium (make test does this)")
    results: dict[str, list[str]] = {}
    # Playwright gives the browser a fresh temporary profile (its own --user-data-dir) and removes it afterwards
    with serve(html_root) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
        )
        try:
            for page_path in pages:
                rel = page_path.resolve().relative_to(html_root).as_posix()
                target = redirect_target(page_path)
                if target is not None:  # checked without a browser: it navigates away while being inspected
                    results[rel] = check_redirect(html_root, page_path, target)
                else:
                    results[rel] = check_one(browser, base, rel)
        finally:
            browser.close()
    return results


def redirect_target(page_path: Path) -> str | None:
    """The address a meta-refresh page sends the reader to, or None for an ordinary page."""
    match = META_REFRESH.search(page_path.read_text(encoding="utf-8", errors="replace")[:4096])
    return match.group(1) if match else None


def check_redirect(html_root: Path, page_path: Path, target: str) -> list[str]:
    """A redirect page passes when it points to a page of the book that exists (that page is checked itself)."""
    if "://" in target or target.startswith("//"):
        return [f"redirect to another site: {target!r}"]
    destination = (page_path.resolve().parent / target.split("#")[0].split("?")[0]).resolve()
    if not destination.is_relative_to(html_root) or not destination.is_file():
        return [f"redirect to a missing page: {target!r}"]
    return []


def check_one(browser, base: str, rel: str) -> list[str]:
    """Load one page, wait for MathJax, inspect it."""
    console: list[str] = []
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()

    def route(request_route) -> None:
        url = request_route.request.url
        if url.startswith(base) or url.startswith("data:") or url.startswith("blob:"):
            request_route.continue_()
        else:
            console.append(f"blocked request to the network: {url[:100]}")
            request_route.abort()

    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.route("**/*", route)
    page.on("console", lambda msg: console.append(msg.text[:200]) if msg.type == "error" else None)
    page.on("pageerror", lambda error: console.append(f"uncaught: {str(error)[:200]}"))
    page.on(
        "requestfailed",
        lambda request: (
            None
            if not request.url.startswith(base)
            else console.append(f"failed to load {request.url[len(base) :][:100]}")
        ),
    )
    page.on(
        "response",
        lambda response: (
            console.append(f"HTTP {response.status} for {response.url[len(base) :][:100]}")
            if response.status >= 400
            else None
        ),
    )
    try:
        page.goto(base + rel, wait_until="load")
        page.evaluate(WAIT_FOR_MATHJAX, MATHJAX_TIMEOUT_MS)
        page.wait_for_load_state("networkidle")
        report = page.evaluate(INSPECT_PAGE.replace("LOCAL_PATHS", repr(list(LOCAL_PATHS))))
    finally:
        context.close()
    # the browser's own message about a failed resource repeats the failed-request line
    console = [line for line in console if not line.startswith("Failed to load resource")]
    return problems_from(report, console)


def main(argv: list[str]) -> int:
    html_root = Path(argv[0]) if argv else DEFAULT_HTML
    if not html_root.is_dir():
        print(f"no built book at {html_root}: run `make book` (or scripts/build_book.py) first")
        return 2
    pages = [html_root / a for a in argv[1:]] or None
    results = check_pages(html_root, pages)
    failed = {page: problems for page, problems in results.items() if problems}
    for page, problems in results.items():
        print(f"{'FAIL' if problems else 'ok  '} {page}")
        for problem in problems:
            print(f"     - {problem}")
    n_problems = sum(len(p) for p in failed.values())
    print(f"\nchecked {len(results)} pages in headless Chromium: {len(failed)} with problems ({n_problems} in all)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
