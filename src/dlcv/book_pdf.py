"""``dlcv book-pdf``: the whole built book as one PDF, printed by Chromium.

Each page of the built book (``_build/html``) is opened, in reading order, in Chromium with the
network cut off, left to typeset its math and draw its widgets, and printed with the book's
print style sheet (``_ext/print/print.css``: code wraps instead of being cut). The pages are then
joined into one PDF with a bookmark for each. Nothing is fetched: it works offline, with the
Chromium the browser tests use (``$DLCV_CHROMIUM``, or ``chromium`` on the PATH), Playwright to
drive it and pypdf to join the pages (both in ``requirements.txt``).
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PAPER = {"format": "A4", "margin": {"top": "15mm", "bottom": "15mm", "left": "15mm", "right": "15mm"}}
SETTLE_MS = 60_000
# What a page waits for before it is printed: MathJax done, every image loaded, every widget drawn.
SETTLED = """async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
    document.querySelectorAll('img[loading="lazy"]').forEach(image => { image.loading = "eager"; });
}"""
IMAGES_LOADED = "() => Array.from(document.images).every(image => image.complete)"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGETS_DRAWN = f"""() => Array.from(document.querySelectorAll('script[type="{WIDGET_VIEW}"]'))
    .every(view => view.parentElement.querySelector('.jupyter-widgets'))"""
REDIRECT = re.compile(r'<meta http-equiv="Refresh" content="0; url=([^"]+)"', re.I)
NEXT_PAGE = re.compile(r'<a class="right-next"\s+href="([^"#]+)"')


def chromium_executable() -> str | None:
    """The Chromium to drive: $DLCV_CHROMIUM, else the first of the usual names on the PATH."""
    chosen = os.environ.get("DLCV_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else None
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def reading_order(html: Path) -> list[str]:
    """The book's pages (paths below ``html``), from the first page along the "next" links."""
    index = (html / "index.html").read_text(encoding="utf-8")
    redirect = REDIRECT.search(index)
    page = redirect.group(1) if redirect else "index.html"
    pages: list[str] = []
    while page not in pages:  # a "next" link back to a page already seen would loop for ever
        pages.append(page)
        found = NEXT_PAGE.search((html / page).read_text(encoding="utf-8"))
        if not found:
            break
        page = os.path.normpath(os.path.join(os.path.dirname(page), found.group(1))).replace(os.sep, "/")
    return pages


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """``folder`` served on localhost, for as long as the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class PrintedPage:
    page: str
    title: str
    pdf: bytes


def settle(page, timeout_ms: int = SETTLE_MS) -> list[str]:
    """Wait until MathJax has typeset, every image has loaded and every widget is drawn; return the waits
    that ran out (an empty list when the page settled)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.evaluate(SETTLED)
    ran_out = []
    for name, condition in (("images", IMAGES_LOADED), ("widgets", WIDGETS_DRAWN)):
        try:
            page.wait_for_function(condition, timeout=timeout_ms)
        except PlaywrightTimeout:
            ran_out.append(name)
    return ran_out


def print_pages(html: Path, pages: list[str], browser) -> list[PrintedPage]:
    """Each page printed to PDF by ``browser`` (Playwright's Chromium), offline, once it has settled."""
    printed = []
    with served(html) as origin:
        context = browser.new_context()
        try:
            context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
                (origin + "/", "data:", "blob:")) else route.abort("blockedbyclient"))
            for page_path in pages:
                page = context.new_page()
                page.goto(f"{origin}/{page_path}", wait_until="load")
                if settle(page):
                    print(f"warning: {page_path} did not finish drawing in time; printing it as it is")
                title = page.title().split(" — ")[0].strip()
                printed.append(PrintedPage(page_path, title, page.pdf(print_background=True, **PAPER)))
                page.close()
        finally:
            context.close()
    return printed


def join(printed: list[PrintedPage], output: Path) -> int:
    """One PDF of the printed pages, with a bookmark for each; returns its number of pages."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in printed:
        writer.append(PdfReader(io.BytesIO(page.pdf)), outline_item=page.title)
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "wb") as stream:
        writer.write(stream)
    return len(writer.pages)


def make_pdf(html: Path, output: Path, browser=None) -> list[PrintedPage]:
    """Print the built book in ``html`` to ``output`` (with ``browser``, or a Chromium started here)."""
    if not (html / "index.html").is_file():
        raise SystemExit(f"no built book in {html}: build it first with `jupyter-book build .`")
    if browser is None:
        try:
            import pypdf  # noqa: F401 (checked before minutes of printing, not after)
            from playwright.sync_api import sync_playwright
        except ImportError as error:
            raise SystemExit(f"dlcv book-pdf needs {error.name}: `pip install playwright pypdf`") from error

        chromium = chromium_executable()
        if chromium is None:
            raise SystemExit("no Chromium found: install it (Debian/Ubuntu: `sudo apt-get install chromium`) "
                             "or point DLCV_CHROMIUM at a Chromium or Chrome executable")
        with sync_playwright() as playwright:
            started = playwright.chromium.launch(executable_path=chromium)
            try:
                return make_pdf(html, output, started)
            finally:
                started.close()
    printed = print_pages(html, reading_order(html), browser)
    pages = join(printed, output)
    print(f"{output}: {len(printed)} pages of the book on {pages} pages of paper")
    return printed


def add_command(commands) -> None:
    pdf = commands.add_parser("book-pdf", help="print the built book to one PDF with Chromium (offline)")
    pdf.add_argument("--html", type=Path, default=Path("_build/html"), help="the built book (default: _build/html)")
    pdf.add_argument("--output", "-o", type=Path, default=Path("_build/pdf/book.pdf"),
                     help="the PDF to write (default: _build/pdf/book.pdf)")
    pdf.set_defaults(run=lambda arguments: make_pdf(arguments.html, arguments.output))
