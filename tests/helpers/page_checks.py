"""What a reader must see on a page of the built book, checked in the browser.

Each check returns a list of problems (empty when the page is right), so a test can report
them all at once and tests/test_browser_checks.py can show that each check catches its fault.
"""

from __future__ import annotations

import re

from dlcv.book_pdf import WIDGET_VIEW
from dlcv.book_pdf import settle as settle_page
from dlcv.explore import PAGE_CLASS

# sphinx-book-theme logs this on a reader's first visit, before it stores a theme mode: harmless.
HARMLESS_CONSOLE_ERRORS = ("Got invalid theme mode",)
RAW_MATH = ("$$", "\\(", "\\)", "\\[", "\\]", "\\begin{")
TIMEOUT_MS = 30_000
# A figure's smallest text, as a phone draws it, in CSS pixels: about the 9 px below which
# labels stop being readable at arm's length (issue 15).
MIN_PHONE_TEXT_PX = 9
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


# The explorers' pictures: a widget's, or those the page swaps as a slider moves (dlcv.explore's
# box). They are not measured here: the box's are measured frame by frame by ``shown_explorers``.
EXPLORER_FIGURES = f".jupyter-widgets, .{PAGE_CLASS}"
# Each figure of the article as shown: where its image comes from, how wide it is drawn and how
# wide it is, its caption's number, and where a tap on it leads (null where nowhere).
SHOWN_FIGURES = """(skip) => Array.from(document.querySelectorAll('article.bd-article img'))
    .filter(image => !image.closest(skip))
    .map(image => ({
        src: image.currentSrc || image.src,
        shown: image.getBoundingClientRect().width,
        natural: image.naturalWidth,
        number: image.closest('figure')?.querySelector('.caption-number')?.textContent || '',
        link: image.closest('a')?.href || null,
    }))"""


def shown_figures(page) -> list[dict]:
    """The page's figures as the reader's screen shows them (explorers left out), in page order."""
    return page.evaluate(SHOWN_FIGURES, EXPLORER_FIGURES)


# Each explorer box (dlcv.explore) as shown: its figure's number, the smallest text its frames record,
# and, for every frame put in its picture in turn, how wide the picture is drawn and how wide it is.
SHOWN_EXPLORERS = """async (boxes) => {
    const explorers = [];
    for (const box of document.querySelectorAll(boxes)) {
        const picture = box.querySelector('img.dlcv-explorer-picture');
        const frames = JSON.parse(box.querySelector('script.dlcv-explorer-frames').textContent);
        const shownSrc = picture.getAttribute('src');
        const widths = [];
        for (const frame of frames) {
            picture.src = frame.src;
            await picture.decode();
            widths.push({shown: picture.getBoundingClientRect().width, natural: picture.naturalWidth});
        }
        picture.src = shownSrc;
        await picture.decode();
        explorers.push({
            number: box.parentElement.closest('figure')?.querySelector('.caption-number')?.textContent || '',
            recorded: picture.dataset.smallestTextPx ?? null,
            widths: widths,
        });
    }
    return explorers;
}"""


def shown_explorers(page) -> list[dict]:
    """The page's explorers as the reader's screen shows each of their frames, in page order."""
    return page.evaluate(SHOWN_EXPLORERS, f"figure.{PAGE_CLASS}")


def drawn_text(label: str, recorded: str, shown: float, natural: int, opens: bool) -> dict:
    """A figure's smallest text as the screen draws it: the height its image records (in the image's
    pixels, or "none") times the width the image is drawn at over its own width."""
    scale = shown / natural
    return {"figure": label, "shown_px": round(shown), "natural_px": natural, "scale": round(scale, 2),
            "smallest_text_px": None if recorded == "none" else round(float(recorded) * scale, 1),
            "opens_full_size": opens}


def explorer_text_sizes(explorers: list[dict], minimum: float = MIN_PHONE_TEXT_PX) -> tuple[list[dict], list[str]]:
    """How high each explorer's smallest text is drawn (``shown_explorers``), and the explorers where it is
    under ``minimum`` CSS px.

    The smallest text of any frame (``data-smallest-text-px``, in the PNG's pixels) counts at the
    smallest scale any frame is drawn at. No tap may open the picture instead (the sliders are the
    point), so it must be readable as shown.
    """
    measured, problems = [], []
    for number, explorer in enumerate(explorers, 1):
        label = explorer["number"].strip() or f"explorer {number}"
        if explorer["recorded"] is None:
            problems.append(f"{label}: its picture records no text size (data-smallest-text-px)")
            continue
        smallest = min(explorer["widths"], key=lambda width: width["shown"] / width["natural"])
        scale = smallest["shown"] / smallest["natural"]
        row = drawn_text(label, explorer["recorded"], smallest["shown"], smallest["natural"], opens=False)
        measured.append({**row, "frames": len(explorer["widths"])})
        text_px = row["smallest_text_px"]
        if text_px is not None and text_px < minimum:
            problems.append(f"{label}: an explorer's smallest text is {text_px} px high (drawn at {scale:.0%} of "
                            f"its {smallest['natural']} px), under {minimum} px; no tap may open it, so it must "
                            "be readable as shown")
    return measured, problems


def open_folds(page) -> None:
    """Open every folded box (solutions, self-check answers), so that what they hold is laid out."""
    # The button: a tap on the title's text would do as well (_ext/screen/fold_titles.js), but the
    # button is the one place that opens a box whatever else its title holds.
    titles = page.locator(".admonition.dropdown.toggle-hidden > .admonition-title .toggle-button")
    folded = titles.count()
    for _ in range(folded):  # each click unfolds the first box still folded
        titles.first.click()
    if folded:
        page.wait_for_timeout(500)  # the theme animates the opening


WIDE_EQUATIONS = """() => Array.from(document.querySelectorAll('div.math mjx-container[display="true"]'))
    .filter(equation => equation.clientWidth > 0)
    .map(equation => {
        const style = getComputedStyle(equation);
        return {
            tex: (equation.closest('div.math').textContent || '').trim().slice(0, 60),
            hidden: equation.scrollWidth - equation.clientWidth,
            overflow: style.overflowX,
            mask: style.maskImage || style.webkitMaskImage || 'none',
            classes: equation.className,
        };
    })"""


def equation_scroll_problems(page) -> tuple[list[str], int]:
    """Display equations wider than their column that do not scroll, or do not show that they do.

    An equation that overflows must scroll sideways, fade out on the side that hides more of it,
    and fade the other side once scrolled to its end; an equation that fits must show no cue.
    Returns the problems and how many equations overflow.
    """
    problems = []
    equations = page.evaluate(WIDE_EQUATIONS)
    wide = [index for index, equation in enumerate(equations) if equation["hidden"] > 1]
    for index, equation in enumerate(equations):
        name = f"equation {index + 1} ({equation['tex']!r})"
        if index not in wide:
            if equation["mask"] != "none":
                problems.append(f"{name} fits its column but fades out as if it scrolled")
            continue
        if equation["overflow"] not in ("auto", "scroll"):
            problems.append(f"{name} is {equation['hidden']} px wider than its column and cannot scroll")
        if equation["mask"] == "none" or "more-right" not in equation["classes"].split():
            problems.append(f"{name} is {equation['hidden']} px wider than its column and shows no cue that it scrolls")
    if wide:
        scrolled = page.evaluate("""(wide) => {
            const all = Array.from(document.querySelectorAll('div.math mjx-container[display="true"]'))
                .filter(equation => equation.clientWidth > 0);
            return wide.map(index => { all[index].scrollLeft = all[index].scrollWidth; return index; });
        }""", wide)
        page.wait_for_timeout(200)  # scroll events are delivered on the next frame
        after = page.evaluate(WIDE_EQUATIONS)
        for index in scrolled:
            classes = after[index]["classes"].split()
            if "more-left" not in classes or "more-right" in classes:
                problems.append(f"equation {index + 1}: scrolled to its end, its cue does not move to the left side")
    return problems, len(wide)
