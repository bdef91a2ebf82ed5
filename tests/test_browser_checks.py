"""The browser checks catch what they look for: each fault on a small page of its own.

The book's own pages pass these checks (tests/test_book_build.py); here each check must fail
on a page that has its fault, and a healthy page must pass them all, so a passing book means
something.
"""

from __future__ import annotations

import importlib.util
import io
import shutil
from pathlib import Path

import ipywidgets
import matplotlib.pyplot as plt
import pytest
from PIL import Image
from pypdf import PdfReader

from dlcv.book_pdf import print_pages
from dlcv.explore import PAGE_SCRIPT, figure_explorer, figure_to_png
from tests.helpers import axe
from tests.helpers.browser import PHONE, offline_page, serve
from tests.helpers.course import COURSE_ROOT
from tests.helpers.explorers import EXPLORER, move_each_slider, move_problems, picture_bytes, shown_values
from tests.helpers.page_checks import (
    HARMLESS_CONSOLE_ERRORS,
    equation_scroll_problems,
    explorer_text_sizes,
    image_problems,
    math_problems,
    page_problems,
    settle,
    shown_explorers,
    widget_problems,
)
from tests.helpers.pdf_checks import code_blocks, cut_code

CDN_SCRIPT = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"
PAGES = {
    "healthy": """<script>window.MathJax = {};</script><script defer src="mathjax/tex-chtml.js"></script>
                  <main><p>An equation <span class="math">\\(y = f(Wx + b)\\)</span>.</p><img src="dot.png"></main>""",
    "broken_image": '<main><p>A figure:</p><img src="missing.png"></main>',
    "cdn_script": f'<script src="{CDN_SCRIPT}"></script><main><p>Math from a CDN.</p></main>',
    "raw_math": '<main><p>$$y = f(Wx + b)$$</p><p><span class="math">\\(z\\)</span></p></main>',
    "console_error": """<script>console.error("Got invalid theme mode: . Resetting to auto.");
                                console.error("something broke");</script>
                        <script>throw new Error("uncaught");</script><main><p>Text.</p></main>""",
    "unrendered_widget": """<main><div class="cell_output"><script type="application/vnd.jupyter.widget-view+json">
                            {"model_id": "0", "version_major": 2, "version_minor": 0}</script></div></main>""",
}
# The faults axe-core found in the book (issue 15), each on one element, and the same page without them.
ACCESSIBILITY = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>A page</title></head>
    <body><main><h1>A page</h1>
    <img src="dot.png" {alt}>
    <div role="list"><div role="{entry}">Hubel and Wiesel (1962)</div></div>
    <p id="lr">learning rate</p><div role="slider" tabindex="0" aria-valuenow="1" aria-valuemin="0"
         aria-valuemax="2" {slider}></div>
    <details><summary {summary}>Show code cell source</summary><pre>print(1)</pre></details>
    </main></body></html>"""
PAGES["inaccessible"] = ACCESSIBILITY.format(alt="", entry="doc-biblioentry", slider="",
                                             summary='aria-label="Toggle hidden content"')
PAGES["accessible"] = ACCESSIBILITY.format(alt='alt="a teal square"', entry="listitem",
                                           slider='aria-labelledby="lr"', summary="")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The pages above, with MathJax from the book's own source and a small PNG, on localhost."""
    folder = tmp_path_factory.mktemp("pages")
    for name, body in PAGES.items():
        page = body if body.startswith("<!DOCTYPE") else (
            f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{body}</body></html>")
        (folder / f"{name}.html").write_text(page)
    shutil.copytree(mathjax_folder(), folder / "mathjax")
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(png, format="PNG")
    (folder / "dot.png").write_bytes(png.getvalue())
    with serve(folder) as origin:
        yield origin


def mathjax_folder() -> Path:
    """MathJax 3 as the sphinx-mathjax-offline package ships it to the book."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    return Path(spec.origin).parent / "static" / "mathjax"


@pytest.fixture
def visit(chromium, site):
    """Open one of the pages offline and let it settle; closes it afterwards."""
    contexts = []

    def open_settled(name: str):
        page, log = offline_page(chromium, site, HARMLESS_CONSOLE_ERRORS)
        contexts.append(page.context)
        page.goto(f"{site}/{name}.html")
        settle(page, timeout_ms=2_000)
        return page, log

    yield open_settled
    for context in contexts:
        context.close()


def test_a_healthy_page_passes_every_check(visit):
    page, log = visit("healthy")
    assert page.locator("mjx-container").count() == 1
    assert page_problems(page) == [] and log.problems() == []


def test_a_broken_image_is_caught(visit):
    page, log = visit("broken_image")
    assert image_problems(page) == ["image did not load: missing.png"]
    assert any("missing.png (HTTP 404)" in problem for problem in log.problems())


def test_a_script_from_a_cdn_is_caught_and_never_reaches_the_network(visit):
    page, log = visit("cdn_script")
    assert log.blocked == [CDN_SCRIPT]


def test_math_that_was_not_typeset_is_caught(visit):
    page, _ = visit("raw_math")
    problems = math_problems(page)
    assert any(problem.startswith("equation not rendered") and "z" in problem for problem in problems), problems
    assert any(problem.startswith("raw TeX ($$)") for problem in problems), problems


def test_console_and_uncaught_errors_are_caught_but_the_known_harmless_one_is_not(visit):
    _, log = visit("console_error")
    assert log.console_errors == ["something broke"]
    assert log.page_errors == ["uncaught"]


def test_a_widget_the_manager_did_not_draw_is_caught(visit):
    page, _ = visit("unrendered_widget")
    assert [problem.split(":")[0] for problem in widget_problems(page)] == ["widget not drawn"]


def test_axe_finds_each_accessibility_fault_the_book_had(visit):
    page, _ = visit("inaccessible")
    found = {violation.rule: violation.impact for violation in axe.run_axe(page, axe.axe_script())}
    assert {rule: impact for rule, impact in found.items() if impact in axe.BLOCKING} == {
        "image-alt": "critical", "aria-required-children": "critical",
        "aria-input-field-name": "serious", "label-content-name-mismatch": "serious"}, found


def test_axe_passes_the_same_page_without_the_faults(visit):
    page, _ = visit("accessible")
    assert axe.run_axe(page, axe.axe_script()) == []


LONG_LINE = "total = " + " + ".join(f"value_{number}" for number in range(40))
# A code block as the theme shows it on screen (a long line scrolls), with and without the book's print styles.
CODE_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{name}</title>
    <style>div.highlight pre {{ overflow: auto; white-space: pre; }}</style>{styles}</head>
    <body><article class="bd-article"><div class="highlight"><pre>{line}\nshort = 1</pre></div>
    <details><summary>Show code cell source</summary><pre>folded = "not printed"</pre></details>
    </article></body></html>"""


def test_code_cut_on_paper_is_caught_and_the_print_styles_wrap_it(chromium, tmp_path):
    styles = f"<style>{(COURSE_ROOT / '_ext' / 'print' / 'print.css').read_text()}</style>"
    for name, extra in (("screen-styles", ""), ("print-styles", styles)):
        (tmp_path / f"{name}.html").write_text(CODE_PAGE.format(name=name, styles=extra, line=LONG_LINE))
    printed = {page.page: page for page in print_pages(tmp_path, ["screen-styles.html", "print-styles.html"],
                                                       chromium)}
    cut = {}
    for name, page in printed.items():
        blocks = code_blocks((tmp_path / name).read_text())
        assert blocks == [f"{LONG_LINE}\nshort = 1"], blocks  # the folded cell does not print
        text = "\n".join(sheet.extract_text() for sheet in PdfReader(io.BytesIO(page.pdf)).pages)
        cut[name] = cut_code(blocks, text)
    assert cut["print-styles.html"] == []
    assert cut["screen-styles.html"] == [f"code cut on paper: {LONG_LINE[:100]!r}"]


# An explorer on a page (dlcv.explore), healthy and with the faults its test must catch.

def draw_slope_and_shift(slope, shift):
    fig, axis = plt.subplots(figsize=(3, 2))
    axis.plot([0, 1], [shift, shift + slope], label=f"slope {slope:g}, shift {shift}")
    axis.set(ylim=(-4, 4), xlabel="x", ylabel="y")
    axis.legend(loc="upper left")
    return fig


SLIDERS = "input[type='range']\"));"
EXPLORER_FAULTS = {
    "explorer": lambda markup: markup,
    # The script left out: the inputs move, the picture stays.
    "explorer_without_script": lambda markup: markup.replace(f"<script>{PAGE_SCRIPT}</script>", ""),
    # The script reads the sliders in the wrong order: a picture, but the one for other values.
    "explorer_sliders_swapped": lambda markup: markup.replace(SLIDERS, SLIDERS[:-1] + ".reverse();"),
}


@pytest.fixture(scope="module")
def explorer_site(tmp_path_factory):
    """An explorer of two sliders (5 x 3 pictures) on a page of its own, and with each fault, on localhost."""
    controls = {"slope": ipywidgets.FloatSlider(value=0.5, min=-1, max=1, step=0.5, description="slope"),
                "shift": ipywidgets.IntSlider(value=0, min=-1, max=1, description="shift")}
    markup = figure_explorer(draw_slope_and_shift, controls, caption="A line.").page_html()
    folder = tmp_path_factory.mktemp("explorers")
    for name, fault in EXPLORER_FAULTS.items():
        faulty = fault(markup)
        assert name == "explorer" or faulty != markup, f"the fault {name} was not made"
        (folder / f"{name}.html").write_text(
            f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{name}</title></head>"
            f"<body><main><h1>An explorer</h1>{faulty}</main></body></html>")
    with serve(folder) as origin:
        yield origin


def moved_explorer(chromium, site: str, name: str):
    """Open the page, move each slider by mouse and by key; the moves, and what the page logged."""
    page, log = offline_page(chromium, site, HARMLESS_CONSOLE_ERRORS)
    try:
        page.goto(f"{site}/{name}.html")
        settle(page, timeout_ms=2_000)
        return move_each_slider(page, page.locator(EXPLORER)), log.problems(), axe.run_axe(page, axe.axe_script())
    finally:
        page.context.close()


def not_drawn_for_the_values(moves) -> list[str]:
    """Moves after which the page's picture is not what ``draw_slope_and_shift`` draws here, now, for the values."""
    return [f"{move['name']} by {move['by']}" for move in moves
            if picture_bytes(move["after"]) != figure_to_png(draw_slope_and_shift(**shown_values(move["after"])))]


def test_an_explorer_shows_the_picture_drawn_for_its_sliders_by_mouse_and_keyboard(chromium, explorer_site):
    moves, logged, violations = moved_explorer(chromium, explorer_site, "explorer")
    assert [(move["name"], move["by"]) for move in moves] == [
        ("slope", "mouse"), ("slope", "key"), ("shift", "mouse"), ("shift", "key")]
    assert move_problems(moves) == [] and logged == []
    assert not_drawn_for_the_values(moves) == []
    assert violations == [], "named inputs, a described picture"


def test_an_explorer_whose_picture_does_not_follow_its_sliders_is_caught(chromium, explorer_site):
    moves, _, _ = moved_explorer(chromium, explorer_site, "explorer_without_script")
    problems = move_problems(moves)
    assert sum("the picture did not change" in problem for problem in problems) == 4, problems
    assert any("the picture is frame 10, not frame" in problem for problem in problems), problems
    assert len(not_drawn_for_the_values(moves)) == 4


def test_an_explorer_showing_the_picture_of_other_values_is_caught(chromium, explorer_site):
    moves, _, _ = moved_explorer(chromium, explorer_site, "explorer_sliders_swapped")
    problems = move_problems(moves)
    assert not any("did not change" in problem for problem in problems), problems
    assert any("the picture is frame" in problem for problem in problems), problems
    assert not_drawn_for_the_values(moves), "the in-test drawing tells the wrong picture too"


def draw_wave(width, phase):
    """A curve ``width`` inches wide with 10-point labels: 11 px high in its picture at the explorer's 80 dpi."""
    fig, axis = plt.subplots(figsize=(width, 2))
    axis.plot([0, 1, 2], [0, phase, 0])
    axis.set(xlabel="x", ylabel="y", title=f"phase {phase}")
    return fig


def test_an_explorer_shrunk_past_readable_on_a_phone_is_caught_in_every_frame(chromium, site):
    """At 390 px a 3-inch explorer is drawn as it is; an 8-inch one (640 px) is shrunk to the page, its labels
    to about 6 px. Each frame is shown in turn and measured, and the frame the reader saw is shown again."""
    boxes = [figure_explorer(lambda phase, width=width: draw_wave(width, phase),
                             {"phase": ipywidgets.IntSlider(value=1, min=1, max=3)}).page_html() for width in (3, 8)]
    page, log = offline_page(chromium, site, HARMLESS_CONSOLE_ERRORS, device=PHONE)
    try:
        page.goto(f"{site}/healthy.html")  # a page of the site, then the explorers in its place
        page.set_content('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
                         'content="width=device-width, initial-scale=1"><title>explorers</title></head>'
                         f'<body><main>{"".join(boxes)}</main></body></html>')
        pictures = page.locator("img.dlcv-explorer-picture")
        before = [pictures.nth(index).get_attribute("src") for index in range(2)]
        explorers = shown_explorers(page)
        assert [pictures.nth(index).get_attribute("src") for index in range(2)] == before
        assert [len(explorer["widths"]) for explorer in explorers] == [3, 3]
        measured, problems = explorer_text_sizes(explorers)
        assert measured[0]["scale"] == 1 and measured[1]["scale"] < 0.7, measured
        assert len(problems) == 1 and problems[0].startswith("explorer 2: an explorer's smallest text is"), problems
        assert log.problems() == []
    finally:
        page.context.close()


WIDE_TEX = " + ".join(f"w_{{{index}}} x_{{{index}}}" for index in range(1, 30))
# Display equations as the theme lays them out (its own rules copied), one too wide for a phone and one
# that fits, with the book's scrolling cue (``{cue}``) or without it.
EQUATION_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1"><title>equations</title>
    <style>div.math {{ display: flex; max-width: 100%; overflow: hidden; }}
           div.math mjx-container {{ flex-grow: 1; overflow: auto; }}</style>{cue}
    <script>window.MathJax = {{}};</script><script defer src="mathjax/tex-chtml.js"></script></head>
    <body><main><div class="math">\\[y = {wide}\\]</div><div class="math">\\[y = f(x)\\]</div></main></body></html>"""
SCREEN = COURSE_ROOT / "_ext" / "screen"
PAGES["equations-bare"] = EQUATION_PAGE.format(cue="", wide=WIDE_TEX)
PAGES["equations-cue"] = EQUATION_PAGE.format(
    cue=f"<style>{(SCREEN / 'scrolling_math.css').read_text()}</style>"
        f"<script>{(SCREEN / 'scrolling_math.js').read_text()}</script>", wide=WIDE_TEX)


@pytest.mark.parametrize("with_cue", [False, True])
def test_a_wide_equation_without_a_scrolling_cue_is_caught_and_the_books_cue_passes(chromium, site, with_cue):
    page, log = offline_page(chromium, site, HARMLESS_CONSOLE_ERRORS, device=PHONE)
    try:
        page.goto(f"{site}/equations-{'cue' if with_cue else 'bare'}.html")
        settle(page, timeout_ms=5_000)
        page.wait_for_timeout(300)  # the cue is marked once MathJax has typeset
        problems, wide = equation_scroll_problems(page)
        assert wide == 1, "one of the two equations is wider than a phone"
        if with_cue:
            assert problems == [] and log.problems() == []
        else:
            assert any("shows no cue that it scrolls" in problem for problem in problems), problems
    finally:
        page.context.close()


# A folded box as sphinx-togglebutton makes it (its own script and settings), whose title holds code,
# with the book's fix for a tap on that code (``fold_titles.js``) or without it.
TOGGLEBUTTON = Path(importlib.util.find_spec("sphinx_togglebutton").origin).parent / "_static" / "togglebutton.js"
FOLD_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>a folded box</title>
    <script>let toggleHintShow = 'Click to show'; let toggleHintHide = 'Click to hide';
            let toggleOpenOnPrint = 'true'; var togglebuttonSelector = '.toggle, .admonition.dropdown';</script>
    <script>{togglebutton}</script>{fix}</head>
    <body><main><div class="admonition dropdown"><p class="admonition-title">What does <code>x.relu()</code> return?</p>
    <p>A new tensor.</p></div></main></body></html>"""
PAGES["fold-bare"] = FOLD_PAGE.format(togglebutton=TOGGLEBUTTON.read_text(), fix="")
PAGES["fold-fixed"] = FOLD_PAGE.format(togglebutton=TOGGLEBUTTON.read_text(),
                                       fix=f"<script>{(SCREEN / 'fold_titles.js').read_text()}</script>")


@pytest.mark.parametrize("with_fix", [False, True])
def test_a_tap_on_code_in_a_folded_title_opens_the_box_only_with_the_books_fix(visit, with_fix):
    page, log = visit("fold-fixed" if with_fix else "fold-bare")
    box = page.locator(".admonition.dropdown")
    assert "toggle-hidden" in box.get_attribute("class"), "the box starts folded"
    page.locator(".admonition-title code").click()
    page.wait_for_timeout(300)
    opened = "toggle-hidden" not in box.get_attribute("class")
    if with_fix:
        assert opened and log.problems() == [], log.problems()
        page.locator(".admonition-title code").click()  # and a second tap folds it again
        page.wait_for_timeout(300)
        assert "toggle-hidden" in box.get_attribute("class")
    else:
        assert not opened and any("button is not defined" in problem for problem in log.problems()), log.problems()
