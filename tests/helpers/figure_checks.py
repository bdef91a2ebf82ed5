"""Every figure of the book is numbered, captioned, and described to a reader who cannot see it.

Checked on the built HTML, without a browser: each content image of a page (an ``<img>`` in the
page's article) must sit in a ``<figure>`` whose caption carries a number ("Fig. 2.1") and says
something, and must have alt text that is written for a person: not empty, not a file name, not
a generic word, a sentence of some length, different from the caption (a screen reader reads both)
and from every other figure's on the page. An explorer's picture (``dlcv.explore``) sits in the
explorer's own box, with its sliders, inside the book's numbered figure: that figure's caption is
the one checked. A ``<figure>`` without an ``<img>`` in the HTML must still be numbered and captioned.

Each check returns a list of problems (empty when the page is right), so a test can report them
all at once and tests/test_figure_checks.py can show that each check catches its fault.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

from dlcv.explore import PAGE_CLASS as EXPLORER

ARTICLE = "article.bd-article"
CAPTION_NUMBER = re.compile(r"^Fig(?:ure)?\.?\s+\d+(?:\.\d+)*$")
FILE_NAME = re.compile(r"\.(?:png|jpe?g|gif|svg|webp)\b|_images/|^\S*[/\\]\S*$|[0-9a-f]{16,}", re.IGNORECASE)
GENERIC = {"image", "figure", "plot", "graph", "chart", "picture", "photo", "diagram", "output", "img",
           "png", "a figure", "an image", "a plot", "matplotlib figure", "<figure size with 1 axes>"}
MIN_ALT_WORDS = 8
MIN_CAPTION_WORDS = 3


def words(text: str) -> list[str]:
    return re.findall(r"\w[\w'’.-]*", text)


def normalised(text: str) -> str:
    return " ".join(text.split()).strip()


def caption_of(figure) -> tuple[str, str]:
    """The number ("Fig. 2.1") and the text of a figure's caption, each empty where missing."""
    caption = figure.find("figcaption", recursive=False)
    if caption is None:
        return "", ""
    number = caption.select_one(".caption-number")
    text = caption.select_one(".caption-text")
    body = normalised(text.get_text(" ") if text else caption.get_text(" "))
    return normalised(number.get_text(" ")) if number else "", body


def alt_problem(alt: str | None, caption: str) -> str | None:
    """Why an image's alt text does not describe it to a reader, or None when it does."""
    alt = normalised(alt or "")
    if not alt:
        return "has no alt text"
    if FILE_NAME.search(alt):
        return f"has a file name or path as alt text: {alt[:80]!r}"
    if alt.lower().rstrip(".") in GENERIC:
        return f"has generic alt text: {alt!r}"
    if len(words(alt)) < MIN_ALT_WORDS:
        return f"has alt text too short to say what the figure shows ({len(words(alt))} words): {alt!r}"
    if alt.lower() == caption.lower():
        return "repeats its caption as alt text (a screen reader reads both): say what the figure shows"
    return None


def figure_problems(html: str) -> list[str]:
    """What keeps a page's figures from being numbered, captioned and described."""
    soup = BeautifulSoup(html, "html.parser")
    article = soup.select_one(ARTICLE) or soup
    problems = []
    seen_alts: dict[str, int] = {}
    for index, image in enumerate(article.find_all("img"), start=1):
        where = f"image {index} ({(image.get('src') or '(no src)')[-40:]})"
        figure = image.find_parent("figure")
        if figure is not None and EXPLORER in figure.get("class", []):
            # An explorer's picture (dlcv.explore): its own box holds the sliders and a note on
            # them; the number and caption are those of the book's figure around it.
            figure = figure.find_parent("figure")
        number, caption = caption_of(figure) if figure else ("", "")
        if figure is None:
            problems.append(f"{where} is not in a figure")
        elif not CAPTION_NUMBER.match(number):
            problems.append(f"{where}: its figure has no number in its caption (got {number!r})")
        if figure is not None and len(words(caption)) < MIN_CAPTION_WORDS:
            problems.append(f"{where}: its figure has no caption that says something (got {caption!r})")
        problem = alt_problem(image.get("alt"), caption)
        if problem:
            problems.append(f"{where} {problem}")
        alt = normalised(image.get("alt") or "").lower()
        if alt and alt in seen_alts:
            problems.append(f"{where} has the same alt text as image {seen_alts[alt]}")
        seen_alts.setdefault(alt, index)
    for index, figure in enumerate(article.find_all("figure"), start=1):
        number, caption = caption_of(figure)
        captioned = CAPTION_NUMBER.match(number) and len(words(caption)) >= MIN_CAPTION_WORDS
        if figure.find("img") is None and not captioned:
            problems.append(f"figure {index} (no image in the HTML) has no numbered caption: {number!r} {caption!r}")
    return problems


def figure_count(html: str) -> int:
    """How many figures a page shows (those with an image in the HTML and those without)."""
    article = BeautifulSoup(html, "html.parser").select_one(ARTICLE)
    return len([figure for figure in article.find_all("figure") if EXPLORER not in figure.get("class", [])]) \
        if article else 0
