"""The book builds with warnings as errors, a notebook that fails breaks the build, and the
built book works offline in a real browser.

The strict build runs once (the ``built_book`` fixture in conftest.py) and every test of the
built book lives here, so that pytest-xdist's ``--dist loadscope`` keeps them on the worker
that built it. The browser tests (marker ``browser``) open each page from a local server in
Chromium with the network cut off, and save a screenshot of each page in
``_build/browser-screenshots/``. Checks that only read a page share one load of it per way of
viewing it (``OpenPages``): the desktop window, the dark colour mode, and the phone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlencode, urljoin, urlparse

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from PIL import Image
from pypdf import PdfReader

from dlcv.book import SMALLEST_TEXT_KEY
from dlcv.book_pdf import make_pdf
from tests.helpers import axe, pdf_checks
from tests.helpers.browser import DESKTOP, PHONE, offline_page, screenshot, serve
from tests.helpers.course import COURSE_ROOT, book_pages, build_book
from tests.helpers.explorers import (
    EXPLORER,
    explorer_cells,
    jupyterlab_pictures,
    move_each_slider,
    move_problems,
    picture_bytes,
    shown_values,
)
from tests.helpers.figure_checks import figure_count, figure_problems
from tests.helpers.page_checks import (
    HARMLESS_CONSOLE_ERRORS,
    MIN_PHONE_TEXT_PX,
    drawn_text,
    equation_scroll_problems,
    explorer_text_sizes,
    external_addresses,
    launch_links,
    open_folds,
    page_problems,
    settle,
    shown_explorers,
    shown_figures,
    widget_images,
)

PAGES = book_pages()
REPORTS = COURSE_ROOT / "_build" / "phone"
NOTEBOOK_PAGES = [page for page in PAGES if (COURSE_ROOT / f"{page}.ipynb").is_file()]
CHAPTER_PAGES = [page for page in NOTEBOOK_PAGES if page.split("/")[-1][:2].isdigit()]
EXPLORER_PAGES = [page for page in NOTEBOOK_PAGES
                  if explorer_cells(nbformat.read(COURSE_ROOT / f"{page}.ipynb", as_version=4))]
WIDGET_STATE = re.compile(r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>', re.S)


def test_the_book_builds_strictly(built_book):
    if built_book.build is None:
        pytest.skip("--book-html names an existing build: nothing was built")
    result = built_book.build
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    for page in PAGES:
        assert (built_book.html / f"{page}.html").is_file(), page


def test_no_page_loads_anything_from_the_network(built_book):
    """Every script, style sheet, font and image a page names is in the book (checked without a browser).

    ``<link>`` elements that only name a page (``rel="canonical"`` and the like) load nothing,
    but the theme writes none with an external address, so all are checked.
    """
    external = {page.relative_to(built_book.html).as_posix(): external_addresses(page.read_text())
                for page in built_book.html.rglob("*.html")}
    assert not {page: addresses for page, addresses in external.items() if addresses}
    static = built_book.html / "_static"
    assert (static / "mathjax" / "tex-chtml.js").is_file()
    assert (static / "widgets" / "@jupyter-widgets" / "html-manager" / "dist" / "embed-amd.js").is_file()


def test_each_chapter_offers_its_assignment_for_download(built_book):
    """A chapter that sets an assignment links to its released notebook, copied into the book (works offline)."""
    offered = 0
    for page in NOTEBOOK_PAGES:
        source = (COURSE_ROOT / f"{page}.ipynb").read_text()
        html = (built_book.html / f"{page}.html").read_text()
        for assignment in sorted(set(re.findall(r"assignments/(a\d_[a-z_]+)/", source))):
            links = re.findall(rf'href="([^"]*_downloads/[^"]*/{assignment}\.ipynb)"', html)
            assert links, f"{page} sets {assignment} but offers no download of it"
            copied = (built_book.html / page).parent / unquote(links[0])
            release = COURSE_ROOT / "assignments" / assignment / f"{assignment}.ipynb"
            assert copied.resolve().read_bytes() == release.read_bytes(), f"{page}: the download is not the release"
            offered += 1
    assert offered >= 8, "every chapter but the generalisation chapter sets an assignment"


@pytest.mark.parametrize("name", PAGES)
def test_every_figure_is_numbered_captioned_and_described(built_book, name):
    """Each content image sits in a numbered figure with a caption, and has alt text that says what
    it shows: no file name, no generic word (checked on the HTML; tests/test_figure_checks.py
    shows each fault caught)."""
    html = (built_book.html / f"{name}.html").read_text()
    problems = figure_problems(html)
    assert not problems, "\n".join(problems)
    if name in CHAPTER_PAGES:
        assert figure_count(html) >= 2, f"every chapter draws figures: where are {name}'s?"


@pytest.fixture(scope="module")
def book_site(built_book):
    """The built book served on localhost, as the base address of its pages."""
    with serve(built_book.html) as origin:
        yield origin


def open_page(chromium, origin: str, address: str, mode: str | None = None, device: dict = DESKTOP):
    """A page opened offline at ``address`` on ``device`` and settled, with the log of what went wrong.

    ``mode`` ("light" or "dark"): the colour mode a reader chose with the theme's button, which the
    theme keeps in the browser's local storage.
    """
    page, log = offline_page(chromium, origin, HARMLESS_CONSOLE_ERRORS, device=device)
    if mode:
        page.add_init_script(f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');")
    page.goto(address, wait_until="load")
    settle(page)
    return page, log


class OpenPages:
    """Each page of the book loaded once per view and shared by the checks that read it.

    A view is ``"desktop"`` (a 1280 px window as a new reader first sees it: no colour mode chosen),
    ``"dark"`` (the dark mode chosen with the theme's button) or ``"phone"`` (390 px, every folded box
    opened). Loading a page and letting MathJax and the widgets settle is most of what a check
    costs, so the checks of one page run together (``by_page`` groups them) and reuse its loads.
    Asking for another page closes the last one's. A check that changes what it was given (a click)
    calls ``spoil``, so that no later check reads the changed page.
    """

    def __init__(self, chromium, origin: str):
        self.chromium, self.origin = chromium, origin
        self.name: str | None = None
        self.loaded: dict[str, tuple] = {}

    def get(self, name: str, view: str):
        """The page ``name`` in ``view``, settled, and the log of what went wrong since it was opened."""
        if name != self.name:
            self.close()
            self.name = name
        if view not in self.loaded:
            self.loaded[view] = self.load(name, view)
        return self.loaded[view]

    VIEWS = {"desktop": (DESKTOP, None), "dark": (DESKTOP, "dark"), "phone": (PHONE, None)}  # device, mode

    def load(self, name: str, view: str):
        device, mode = self.VIEWS[view]
        page, log = open_page(self.chromium, self.origin, page_address(self.origin, name), mode, device)
        if view == "phone":
            open_folds(page)
        return page, log

    def spoil(self, view: str) -> None:
        if view in self.loaded:
            self.loaded.pop(view)[0].context.close()

    def close(self) -> None:
        for view in list(self.loaded):
            self.spoil(view)


@pytest.fixture(scope="module")
def opened(chromium, book_site):
    pages = OpenPages(chromium, book_site)
    yield pages
    pages.close()


def by_page(names: list[str]):
    """Parametrise a check by page, at module scope, so that pytest runs the checks of one page together
    (it groups tests by the value of a parameter of module scope)."""
    return pytest.mark.parametrize("name", names, scope="module")


def shows_widget_figures(html: Path) -> bool:
    """Whether the widget state saved in a page holds a figure (an Image widget, or a PNG in an Output)."""
    state = WIDGET_STATE.search(html.read_text())
    return bool(state) and ('"ImageModel"' in state.group(1) or '"image/png"' in state.group(1))


def page_address(origin: str, page: str) -> str:
    return f"{origin}/{page}.html"


@pytest.mark.browser
@by_page(PAGES)
def test_page_works_offline(opened, built_book, name):
    """Equations typeset, images and widgets drawn, no console error, no request off the machine."""
    page, log = opened.get(name, "desktop")
    screenshot(page, name)
    problems = page_problems(page) + log.problems()
    # An explorer's widget state stays in a page that draws other widgets (progress bars); its figure
    # is drawn by the explorer's own HTML.
    drawn = widget_images(page) + page.locator(f"{EXPLORER} img").count()
    if shows_widget_figures(built_book.html / f"{name}.html") and drawn == 0:
        problems.append("the page's widgets hold a figure, but none is drawn")
    assert not problems, "\n".join(problems)


@pytest.mark.browser
@pytest.mark.parametrize("name", EXPLORER_PAGES)
def test_explorers_move_on_the_page_and_show_what_jupyterlab_draws(chromium, book_site, name):
    """Each slider of each explorer, dragged with the mouse and then stepped with the arrow keys, shows the
    picture drawn for its value: the frame the page holds for the inputs' positions, with its text
    alternative, and, byte for byte, the picture a kernel redraws in JupyterLab for those values."""
    notebook = COURSE_ROOT / f"{name}.ipynb"
    page, log = open_page(chromium, book_site, page_address(book_site, name))
    try:
        figures = page.locator(EXPLORER)
        assert figures.count() == len(explorer_cells(nbformat.read(notebook, as_version=4)))
        seen = []  # (explorer number, values, picture, alt)
        problems = []
        for number in range(figures.count()):
            figure = figures.nth(number)
            assert figure.locator("figcaption").inner_text().strip(), "an explorer has a caption"
            moves = move_each_slider(page, figure)
            problems += [f"explorer {number}: {problem}" for problem in move_problems(moves)]
            seen += [(number, shown_values(move["after"]), picture_bytes(move["after"]), move["after"]["alt"])
                     for move in moves]
        assert not problems, "\n".join(problems)
        assert not log.problems(), "\n".join(log.problems())
    finally:
        page.context.close()
    drawn = jupyterlab_pictures(notebook, [(number, values) for number, values, _, _ in seen])
    for (number, values, png, alt), expected in zip(seen, drawn):
        assert alt == expected["alt"], f"explorer {number} at {values}: the page's text alternative is not JupyterLab's"
        assert png == expected["png"], f"explorer {number} at {values}: the page's picture is not JupyterLab's"
def built_file(built_book, origin: str, address: str) -> Path:
    """The file of the built book that a page loaded from ``address`` on the book's local server."""
    path = unquote(urlparse(address).path).removeprefix(urlparse(origin).path).lstrip("/")
    return built_book.html / path


@pytest.mark.browser
@by_page(NOTEBOOK_PAGES)
def test_figure_text_is_readable_on_a_phone(opened, built_book, book_site, name):
    """At 390 px, every figure's smallest text is drawn at least ``MIN_PHONE_TEXT_PX`` high, or a tap
    on the figure opens its image at full size, where it is.

    Each figure's PNG records the height of its smallest text in its own pixels
    (``dlcv.book.record_figure_text_sizes``); the page draws the image at its shown width, so the
    text appears at that height times shown / natural width. An explorer's picture records the
    smallest text of all its frames (``dlcv.explore``); each frame is shown in turn, and since no tap
    may open it, it must be readable as shown (``explorer_text_sizes``). The measurements are kept in
    ``_build/phone/``.
    """
    page, log = opened.get(name, "phone")
    screenshot(page, f"phone-{name}")
    measured, problems = [], []
    for figure in shown_figures(page):
        recorded = Image.open(built_file(built_book, book_site, figure["src"])).text.get(SMALLEST_TEXT_KEY)
        label = figure["number"].strip() or figure["src"].rsplit("/", 1)[-1]
        if recorded is None:
            problems.append(f"{label}: its image records no text size (drawn before "
                            "dlcv.book.record_figure_text_sizes() was called?)")
            continue
        scale = figure["shown"] / figure["natural"]
        opens = figure["link"] == figure["src"]  # a tap opens the image itself
        measured.append(drawn_text(label, recorded, figure["shown"], figure["natural"], opens))
        text_px = measured[-1]["smallest_text_px"]
        if text_px is None or text_px >= MIN_PHONE_TEXT_PX:
            continue
        if not opens or float(recorded) < MIN_PHONE_TEXT_PX:
            problems.append(f"{label}: its smallest text is {text_px} px high at 390 px (drawn at {scale:.0%} of "
                            f"its {figure['natural']} px), under {MIN_PHONE_TEXT_PX} px, and a tap does not "
                            "open it at a size where it is readable")
    explorers, explorer_problems = explorer_text_sizes(shown_explorers(page))
    measured += explorers
    problems += explorer_problems
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{name.replace('/', '__')}.json").write_text(json.dumps(measured, indent=1))
    print(f"{name} at 390 px: " + ", ".join(f"{row['figure']} {row['smallest_text_px']} px" for row in measured))
    drawn = figure_count((built_book.html / f"{name}.html").read_text())
    assert measured or not drawn, "the page has figures, but none was measured"
    assert not problems + log.problems(), "\n".join(problems + log.problems())


@pytest.mark.browser
@by_page(PAGES)
def test_wide_equations_show_that_they_scroll_on_a_phone(opened, name):
    """At 390 px, a display equation wider than its column scrolls sideways and shows it, and the page
    itself is no wider than the phone (folded boxes opened, so that their equations count too)."""
    page, log = opened.get(name, "phone")
    problems, wide = equation_scroll_problems(page)
    print(f"{name} at 390 px: {wide} display equations scroll")
    page_width = page.evaluate("document.documentElement.scrollWidth")
    if page_width > PHONE["viewport"]["width"]:
        problems.append(f"the page is {page_width} px wide on a {PHONE['viewport']['width']} px phone")
    assert not problems + log.problems(), "\n".join(problems + log.problems())


FOLDED = """folds => folds.map(fold => ({
    hidden: fold.classList.contains('toggle-hidden'),
    bodyShown: Array.from(fold.children).slice(1).some(
        child => getComputedStyle(child).visibility !== 'hidden' && child.getBoundingClientRect().height > 0),
}))"""


@pytest.fixture(scope="module")
def axe_source():
    return axe.axe_script()


@pytest.mark.browser
@pytest.mark.parametrize("mode", ["light", "dark"])
@by_page(PAGES)
def test_page_has_no_critical_or_serious_accessibility_violation(opened, axe_source, name, mode):
    """axe-core finds no critical or serious violation, and no more moderate or minor ones than its baseline.

    Light is the page as a new reader first sees it (no mode chosen, and the browser asks for a light
    scheme); dark is the mode chosen with the theme's button. The counts by impact are printed and
    kept in ``_build/accessibility/``.
    """
    page, _ = opened.get(name, {"light": "desktop", "dark": "dark"}[mode])
    assert page.evaluate("document.documentElement.dataset.theme") == mode
    violations = axe.run_axe(page, axe_source)
    axe.write_report(name, mode, violations)
    print(f"axe on {name} ({mode}): {axe.counts_by_impact(violations)}")
    blocking = [str(violation) for violation in violations if violation.impact in axe.BLOCKING]
    more = axe.grown(violations, axe.baseline(name, mode))
    assert not blocking and not more, "\n".join(blocking + more)


@pytest.mark.browser
def test_the_whole_book_prints_to_one_pdf_with_every_page_and_no_code_cut(chromium, built_book, tmp_path):
    """``dlcv book-pdf``: every page of _toc.yml, in order, bookmarked by its title; every code block whole."""
    output = tmp_path / "book.pdf"
    printed = make_pdf(built_book.html, output, chromium)
    assert [page.page for page in printed] == [f"{page}.html" for page in PAGES]
    reader = PdfReader(output)
    sections = pdf_checks.sections(reader)
    assert [title for title, _, _ in sections] == [page.title for page in printed]
    print(f"{output.name}: {len(reader.pages)} pages of paper for {len(printed)} pages of the book")
    problems = []
    for page, (title, first, end) in zip(PAGES, sections):
        text = pdf_checks.section_text(reader, first, end)
        heading = re.sub(r"^\d+\.\s*", "", title)  # the page prints its title without the chapter's number
        found = pdf_checks.squeezed(heading) in pdf_checks.squeezed(text)  # a long title wraps
        assert end > first and found, f"{page}: its title {heading!r} is not on its pages"
        blocks = pdf_checks.code_blocks((built_book.html / f"{page}.html").read_text())
        problems += [f"{page}: {problem}" for problem in pdf_checks.cut_code(blocks, text)]
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_next_and_previous_links_walk_the_book_in_order(chromium, book_site):
    """Following "next" from the first page visits every page in _toc.yml order; "previous" walks back."""
    page, log = offline_page(chromium, book_site, HARMLESS_CONSOLE_ERRORS)
    try:
        page.goto(page_address(book_site, PAGES[0]), wait_until="domcontentloaded")
        forward = follow(page, book_site, "a.right-next")
        backward = follow(page, book_site, "a.left-prev")
        assert forward == PAGES
        assert backward == PAGES[::-1]
        assert not log.problems(), "\n".join(log.problems())
    finally:
        page.context.close()


def follow(page, origin: str, link: str) -> list[str]:
    """Click ``link`` from page to page while there is one; the pages seen, the first included.

    At most one click per page of the book, so links that go round in a circle cannot loop forever.
    """
    seen = [visited_page(origin, page.url)]
    for _ in PAGES:
        if not page.locator(link).count():
            break
        # The links are in the page's HTML: the walk need not wait for MathJax and the figures.
        with page.expect_navigation(wait_until="domcontentloaded"):
            page.locator(link).first.click()
        seen.append(visited_page(origin, page.url))
    return seen


def visited_page(origin: str, url: str) -> str:
    """The book page an address shows, as in _toc.yml (``book/intro``)."""
    path = unquote(urlparse(url).path).removeprefix(urlparse(origin).path).strip("/")
    return path.removesuffix(".html")


@pytest.mark.browser
@pytest.mark.parametrize(("query", "expected"), [("softmax", "book/05_softmax_losses"),
                                                 ("zyxwvut", None)])
def test_search_page_finds_what_the_book_says(chromium, book_site, query, expected):
    """The search page lists the chapter on softmax for "softmax", and nothing for a made-up word."""
    page, log = offline_page(chromium, book_site, HARMLESS_CONSOLE_ERRORS)
    try:
        page.goto(f"{book_site}/search.html?q={query}")
        page.wait_for_selector("#search-results p.search-summary", state="attached", timeout=30_000)
        screenshot(page, f"search-{query}")
        found = [visited_page(book_site, urljoin(page.url, href))
                 for href in page.eval_on_selector_all("#search-results li a",
                                                       "links => links.map(l => l.getAttribute('href'))")]
        if expected:
            assert expected in found, f"searching for {query!r} found {found}"
        else:
            assert found == [], f"searching for {query!r} found {found}"
        assert not log.problems(), "\n".join(log.problems())
    finally:
        page.context.close()


def expected_buttons(config: dict, notebook: str) -> dict[str, str]:
    """Where each header button of a chapter must lead, derived from the one setting, ``repository.url``.

    Written out from the services' own address formats (Binder's ``/v2/gh/``, Colab's ``/github/``,
    nbgitpuller's ``git-pull``), not from the theme's code, so a button the theme builds from anything
    else (a stale address, another branch, the page instead of its notebook) fails.
    """
    url, branch = config["repository"]["url"].rstrip("/"), config["repository"]["branch"]
    owner, repository = url.split("/")[-2:]
    assert url == f"https://github.com/{owner}/{repository}", "Colab's buttons need a GitHub address"
    buttons = config["launch_buttons"]
    hub_query = urlencode({"repo": url, "urlpath": f"lab/tree/{repository}/{notebook}", "branch": branch}, safe="/")
    return {
        "repository": url,
        "issues": f"{url}/issues/new",
        "binder": f"{buttons['binderhub_url']}/v2/gh/{owner}/{repository}/{branch}?urlpath=lab/tree/{notebook}",
        "colab": f"{buttons['colab_url']}/github/{owner}/{repository}/blob/{branch}/{notebook}",
        "jupyterhub": f"{buttons['jupyterhub_url']}/hub/user-redirect/git-pull?{hub_query}",
    }


@pytest.mark.browser
@by_page(NOTEBOOK_PAGES)
def test_launch_buttons_open_this_chapter(opened, name):
    """Binder (in JupyterLab), Colab and the JupyterHub open this chapter's notebook in the student edition,
    and the repository and issues buttons lead to that edition."""
    config = yaml.safe_load((COURSE_ROOT / "_config.yml").read_text())
    expected = expected_buttons(config, f"{name}.ipynb")
    page, _ = opened.get(name, "desktop")
    links = launch_links(page)
    assert sorted(links) == sorted([expected["binder"], expected["colab"], expected["jupyterhub"]]), links
    sources = page.eval_on_selector_all(".dropdown-source-buttons a", "links => links.map(link => link.href)")
    assert expected["repository"] in sources, sources
    assert any(link.startswith(expected["issues"]) for link in sources), sources


@pytest.mark.browser
@by_page(CHAPTER_PAGES)
def test_solutions_and_self_check_answers_start_folded(opened, name):
    """A chapter's worked solutions and self-check answers are hidden until the reader opens one.

    It opens one, so it comes after the page's other desktop checks, and the page is not reused."""
    page, log = opened.get(name, "desktop")
    try:
        solutions = page.locator(".admonition.solution")
        assert solutions.count() >= 6, "a chapter has six exercises or more, each with its solution"
        assert page.locator(".admonition.solution:not(.dropdown)").count() == 0, "a solution shows open"
        folds = page.locator(".admonition.dropdown").evaluate_all(FOLDED)
        assert len(folds) >= solutions.count() + 2, "the self-check questions are dropdowns too"
        assert all(fold["hidden"] and not fold["bodyShown"] for fold in folds), folds
        solutions.first.locator(".admonition-title").click()
        page.wait_for_timeout(500)  # the theme animates the opening
        assert solutions.first.evaluate_all(FOLDED) == [{"hidden": False, "bodyShown": True}]
        assert not log.problems(), "\n".join(log.problems())
    finally:
        opened.spoil("desktop")


def one_page_book(folder: Path, *cells) -> Path:
    """A book with the course's configuration and one notebook of the given cells."""
    folder.mkdir()
    config = yaml.safe_load((COURSE_ROOT / "_config.yml").read_text())
    config.pop("bibtex_bibfiles", None)  # no references on this page, so no bibliography
    config.pop("sphinx", None)
    (folder / "_config.yml").write_text(yaml.safe_dump(config))
    (folder / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    notebook = new_notebook(cells=[new_markdown_cell("# A page"), *cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / "page.ipynb")
    return folder


def test_a_cell_that_raises_fails_the_build(tmp_path):
    book = one_page_book(tmp_path / "book", new_code_cell("raise RuntimeError('this cell is broken')"))
    result = build_book(book, tmp_path / "out")
    assert result.returncode != 0
    assert "page.ipynb" in result.stdout + result.stderr


def test_a_warning_printed_by_a_cell_fails_the_build(tmp_path):
    book = one_page_book(tmp_path / "book", new_code_cell("import warnings\nwarnings.warn('deprecated thing')"))
    assert build_book(book, tmp_path / "out").returncode != 0


def test_a_healthy_one_page_book_builds(tmp_path):
    """The two tests above fail for the right reason: the same book without the fault builds."""
    book = one_page_book(tmp_path / "book", new_code_cell("print(1 + 1)"))
    result = build_book(book, tmp_path / "out")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
