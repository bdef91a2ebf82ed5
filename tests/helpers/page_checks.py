"""What a reader must see on a page of the built book, checked in the browser.

Each check returns a list of problems (empty when the page is right), so a test can report
them all at once and tests/test_browser_checks.py can show that each check catches its fault.
"""

from __future__ import annotations

import re

from dlcv.book_pdf import WIDGET_VIEW
from dlcv.book_pdf import settle as settle_page

# sphinx-book-theme logs this on a reader's first visit, before it stores a theme mode: harmless.
HARMLESS_CONSOLE_ERRORS = ("Got invalid theme mode",)
RAW_MATH = ("$$", "\\(", "\\)", "\\[", "\\]", "\\begin{")
TIMEOUT_MS = 30_000
# An element that loads what it names (a script, style sheet, image, frame) from another host.
EXTERNAL_LOAD = re.compile(r'<(?:script|img|iframe|source|link)\b[^>]*?\b(?:src|href)="((?:https?:)?//[^"]+)"')


def external_addresses(html: str) -> list[str]:
    """The addresses on other hosts that a page's HTML loads from (a plain link loads nothing).

    A static check, without a browser: a page built to work offline names none.
    """
    return EXTERNAL_LOAD.findall(html)


def settle(page, timeout_ms: int = TIMEOUT_MS) -> None:
    """Wait until MathJax has typeset, every image has loaded or failed, and widgets are drawn
    (``dlcv book-pdf``'s wait before printing). A wait that runs out is not an error here: the checks
    below then say what is missing."""
    settle_page(page, timeout_ms)


def math_problems(page) -> list[str]:
    """Equations MathJax left untypeset or could not parse, and TeX left raw in the text."""
    return page.evaluate("""(raw) => {
        const problems = [];
        for (const math of document.querySelectorAll('.math')) {
            if (!math.querySelector('mjx-container'))
                problems.push('equation not rendered by MathJax: ' + math.textContent.trim().slice(0, 80));
        }
        for (const error of document.querySelectorAll('mjx-merror'))
            problems.push('MathJax could not parse: ' + (error.getAttribute('data-mjx-error') || error.textContent));
        const main = document.querySelector('main') || document.body;
        const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT, {
            acceptNode: node => node.parentElement.closest('pre, code, script, style, textarea, mjx-container')
                ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
        });
        while (walker.nextNode()) {
            const text = walker.currentNode.textContent;
            const found = raw.find(delimiter => text.includes(delimiter));
            if (found) problems.push(`raw TeX (${found}) in the text: ` + text.trim().slice(0, 80));
        }
        return problems;
    }""", list(RAW_MATH))


def image_problems(page) -> list[str]:
    """Images that did not load or have no size."""
    return page.evaluate("""() => Array.from(document.images)
        .filter(image => !(image.naturalWidth > 0 && image.naturalHeight > 0))
        .map(image => 'image did not load: ' + (image.getAttribute('src') || '(no src)').slice(0, 100))""")


def widget_problems(page) -> list[str]:
    """Widget views the HTML manager did not draw, and widget outputs that came out empty."""
    return page.evaluate(f"""() => {{
        const problems = [];
        for (const view of document.querySelectorAll('script[type="{WIDGET_VIEW}"]')) {{
            const drawn = view.parentElement.querySelector('.jupyter-widgets');
            const box = drawn && drawn.getBoundingClientRect();
            if (!drawn || box.width === 0 || box.height === 0)
                problems.push('widget not drawn: ' + view.textContent.trim().slice(0, 80));
        }}
        for (const output of document.querySelectorAll('.widget-output')) {{
            if (!output.querySelector('.jp-OutputArea-output'))
                problems.push('widget output is empty');
        }}
        return problems;
    }}""")


def widget_images(page) -> int:
    """How many images the page's widgets show (the explorers' figures), loaded or not."""
    return page.locator(".jupyter-widgets img").count()


def launch_links(page) -> list[str]:
    """The addresses behind the header's launch buttons (Binder, Colab)."""
    return page.eval_on_selector_all(".dropdown-launch-buttons a", "links => links.map(link => link.href)")


def page_problems(page) -> list[str]:
    """All the checks above, for one page that has settled."""
    return math_problems(page) + image_problems(page) + widget_problems(page)
