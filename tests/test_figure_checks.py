"""The book's figure checks catch what they look for, each on a small page of its own.

The book's pages pass them (tests/test_book_build.py); here each check must fail on a page with
its fault, and a healthy page must pass, so a passing book means something. The text-size record
that the phone test reads (``dlcv.book.smallest_text_px``) is checked on figures of known fonts, and the
phone test's judgement of explorers (``explorer_text_sizes``) on explorers shrunk as a phone shrinks them.
"""

from __future__ import annotations

import base64
import io
import re

import ipywidgets
import matplotlib.pyplot as plt
import pytest
from IPython.core.interactiveshell import InteractiveShell
from PIL import Image

from dlcv.book import SMALLEST_TEXT_KEY, record_figure_text_sizes, smallest_text_px
from dlcv.explore import figure_explorer
from tests.helpers.figure_checks import figure_problems
from tests.helpers.page_checks import MIN_PHONE_TEXT_PX, explorer_text_sizes

ALT = "Line chart: the test accuracy falls from 98% to 20% as the digits move six pixels right."
FIGURE = """<figure class="align-default" id="fig-shift">
  <img alt="{alt}" src="../_images/3f2a9c41d5e8b7a60c1f2e3d4b5a6978.png" />
  <figcaption><p><span class="caption-number">{number}</span>
  <span class="caption-text">{caption}</span></p></figcaption></figure>"""
HEALTHY = FIGURE.format(alt=ALT, number="Fig. 3.4 ", caption="The MLP on moved test digits.")
FAULTS = {
    "no figure": f'<img alt="{ALT}" src="a.png" />',
    "no caption": f'<figure><img alt="{ALT}" src="a.png" /></figure>',
    "no number": FIGURE.format(alt=ALT, number="", caption="The MLP on moved test digits."),
    "empty caption": FIGURE.format(alt=ALT, number="Fig. 3.4 ", caption=""),
    "no alt": FIGURE.format(alt="", number="Fig. 3.4 ", caption="The MLP on moved test digits."),
    "file name alt": FIGURE.format(alt="../_images/3f2a9c41d5e8b7a60c1f2e3d4b5a6978.png", number="Fig. 3.4 ",
                                   caption="The MLP on moved test digits."),
    "generic alt": FIGURE.format(alt="Figure", number="Fig. 3.4 ", caption="The MLP on moved test digits."),
    "short alt": FIGURE.format(alt="accuracy curve", number="Fig. 3.4 ", caption="The MLP on moved test digits."),
    "alt repeats caption": FIGURE.format(alt=ALT, number="Fig. 3.4 ", caption=ALT),
    "same alt twice": HEALTHY + HEALTHY.replace("fig-shift", "fig-other").replace("3.4", "3.5"),
    "explorer figure without caption": '<figure><div class="cell_output"><script></script></div></figure>',
}


def page(body: str) -> str:
    return f'<html><body><main><article class="bd-article">{body}</article></main></body></html>'


def test_a_numbered_captioned_described_figure_passes():
    assert figure_problems(page(HEALTHY)) == []
    explorer = ('<figure><div class="cell_output"></div><figcaption><p><span class="caption-number">Fig. 4.2 '
                '</span><span class="caption-text">Explore the learning rate.</span></p></figcaption></figure>')
    assert figure_problems(page(explorer)) == []


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_is_caught(fault):
    assert figure_problems(page(FAULTS[fault])), f"the check missed: {fault}"


def test_images_outside_the_article_are_not_content():
    """The theme's logo and icons sit outside the article and are not figures."""
    html = f'<html><body><img src="logo.png"><article class="bd-article">{HEALTHY}</article></body></html>'
    assert figure_problems(html) == []


def test_smallest_text_counts_every_visible_text_at_the_figure_dpi():
    fig, axis = plt.subplots(dpi=100)
    axis.plot([0, 1], [0, 1], label="a line")
    axis.set_title("title", fontsize=14)
    assert smallest_text_px(fig) == pytest.approx(10 * 100 / 72, abs=0.01)  # tick labels, 10 pt
    axis.legend(fontsize=8)
    assert smallest_text_px(fig) == pytest.approx(8 * 100 / 72, abs=0.01)
    axis.set_xlabel("$w_1$", fontsize=11)  # a subscript is drawn at 70%
    assert smallest_text_px(fig) == pytest.approx(11 * 0.7 * 100 / 72, abs=0.01)
    plt.close(fig)


def test_hidden_axes_and_empty_titles_do_not_count():
    fig, axes = plt.subplots(1, 2, dpi=100)
    for axis in axes:
        axis.imshow([[0, 1], [1, 0]])
        axis.axis("off")  # no tick labels drawn
    assert smallest_text_px(fig) is None
    axes[0].set_title("digit 7", fontsize=9)
    axes[1].set_title("")
    assert smallest_text_px(fig) == pytest.approx(9 * 100 / 72, abs=0.01)
    plt.close(fig)


def test_the_notebook_shows_figures_with_their_text_size_recorded(monkeypatch):
    shell = InteractiveShell.instance()
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    record_figure_text_sizes()
    fig, axis = plt.subplots(dpi=100)
    axis.set_title("a title", fontsize=9)
    axis.axis("off")
    data, _ = shell.display_formatter.format(fig)
    image = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))  # as the inline backend sends it
    assert float(image.text[SMALLEST_TEXT_KEY]) == pytest.approx(9 * 100 / 72, abs=0.01)
    plt.close(fig)


PHONE_COLUMN_PX = 358  # the book's text column on a 390 px phone


def draw_wave(width, phase):
    """A captioned curve ``width`` inches wide, with default (10 point) labels."""
    fig, axis = plt.subplots(figsize=(width, 2))
    axis.plot([0, 1, 2], [0, phase, 0])
    axis.set(xlabel="x", ylabel="y", title=f"phase {phase}")
    return fig


def as_a_phone_shows(draw) -> dict:
    """An explorer of ``draw`` (two frames) as ``shown_explorers`` reads it on a phone, each frame shrunk to the
    column: the record in its page HTML, and each frame's width as shown and in pixels."""
    explorer = figure_explorer(draw, {"phase": ipywidgets.IntSlider(value=1, min=1, max=2)})
    frames = explorer.page_frames()
    recorded = re.search(r'data-smallest-text-px="([^"]*)"', explorer.page_html(frames)).group(1)
    naturals = [Image.open(io.BytesIO(frame.png)).width for frame in frames]
    return {"number": "Fig. 4.3 ", "recorded": recorded,
            "widths": [{"shown": min(natural, PHONE_COLUMN_PX), "natural": natural} for natural in naturals]}


def test_an_explorer_whose_text_is_readable_as_the_phone_shows_it_passes():
    measured, problems = explorer_text_sizes([as_a_phone_shows(lambda phase: draw_wave(4, phase))])
    assert problems == []
    assert measured[0]["smallest_text_px"] == pytest.approx(10 * 80 / 72, abs=0.1)  # 320 px: drawn as it is


def test_an_explorer_whose_text_the_phone_shrinks_too_far_is_reported():
    """8 inches at 80 dpi is 640 px; shrunk to 358, its 10-point labels are about 6 px. No tap may rescue it."""
    measured, problems = explorer_text_sizes([as_a_phone_shows(lambda phase: draw_wave(8, phase))])
    assert measured[0]["smallest_text_px"] < MIN_PHONE_TEXT_PX and measured[0]["opens_full_size"] is False
    assert len(problems) == 1 and problems[0].startswith("Fig. 4.3: an explorer's smallest text is")


def test_an_explorer_with_tiny_text_is_reported_even_at_full_size():
    def draw_small_print(phase):
        fig = draw_wave(3, phase)
        fig.axes[0].tick_params(labelsize=5)
        return fig

    _, problems = explorer_text_sizes([as_a_phone_shows(draw_small_print)])
    assert len(problems) == 1 and "under 9 px" in problems[0]


def test_an_explorer_that_records_no_text_size_is_reported():
    shown = as_a_phone_shows(lambda phase: draw_wave(4, phase))
    _, problems = explorer_text_sizes([{**shown, "recorded": None}])
    assert problems == ["Fig. 4.3: its picture records no text size (data-smallest-text-px)"]
