"""What a reader must see on a page of the built book, checked in the browser.

Each check returns a list of problems (empty when the page is right), so a test can report
them all at once and tests/test_browser_checks.py can show that each check catches its fault.
"""

from __future__ import annotations

import re

# sphinx-book-theme logs this on a reader's first visit, before it stores a theme mode: harmless.
HARMLESS_CONSOLE_ERRORS = ("Got invalid theme mode",)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
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
    """Wait until MathJax has typeset, every image has loaded or failed, and widgets are drawn.

    A wait that runs out is not an error here: the checks below then say what is missing.
    """
    page.evaluate("""async () => {
        if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
        document.querySelectorAll('img[loading="lazy"]').forEach(image => { image.loading = "eager"; });
    }""")
    images_done = "() => Array.from(document.images).every(image => image.complete)"
    widgets_drawn = f"""() => Array.from(document.querySelectorAll('script[type="{WIDGET_VIEW}"]'))
                              .every(view => view.parentElement.querySelector('.jupyter-widgets'))"""
    wait_until(page, images_done, timeout_ms)
    wait_until(page, widgets_drawn, timeout_ms)


def wait_until(page, condition: str, timeout_ms: int = TIMEOUT_MS) -> bool:
    """Whether the JavaScript ``condition`` became true within the time limit."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(condition, timeout=timeout_ms)
        return True
    except PlaywrightTimeout:
        return False


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
