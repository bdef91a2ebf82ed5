"""The explorer behind the book's sliders draws, redraws and refuses bad controls."""

import base64
import io
import json
from html.parser import HTMLParser

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from dlcv.book_pdf import WIDGET_VIEW
from dlcv.explore import (
    MAX_PAGE_FRAMES,
    PAGE_FRAMES_VARIABLE,
    describe_figure,
    figure_explorer,
    figure_to_png,
    slider_grid,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def draw_line(slope):
    fig, axis = plt.subplots(figsize=(2, 2))
    axis.plot([0, 1], [0, slope])
    return fig


def test_explorer_draws_at_once_and_again_on_every_change():
    calls = []

    def draw(slope):
        calls.append(slope)
        return draw_line(slope)

    slider = ipywidgets.FloatSlider(value=1.0, min=-2, max=2)
    box = figure_explorer(draw, {"slope": slider})
    first = bytes(box.picture.value)
    assert first.startswith(PNG_SIGNATURE) and calls == [1.0]

    slider.value = -2.0
    assert calls == [1.0, -2.0]
    assert bytes(box.picture.value).startswith(PNG_SIGNATURE)
    assert bytes(box.picture.value) != first, "the picture did not change with the slider"
    assert slider in box.children[0].children


def test_explorer_closes_its_figures():
    before = len(plt.get_fignums())
    slider = ipywidgets.IntSlider(value=1, min=0, max=5)
    figure_explorer(draw_line, {"slope": slider})
    for value in range(5):
        slider.value = value
    assert len(plt.get_fignums()) == before


def test_figure_to_png_closes_the_figure():
    fig = draw_line(1.0)
    assert figure_to_png(fig).startswith(PNG_SIGNATURE)
    assert not plt.fignum_exists(fig.number)


def test_figure_to_png_keeps_the_picture_in_a_palette_of_256_colours():
    """Close to matplotlib's own PNG, pixel for pixel, on a smooth image, bars and text, and smaller."""
    def draw():
        fig, (left, right) = plt.subplots(1, 2, figsize=(4, 2))
        left.imshow(np.outer(np.linspace(-1, 1, 64), np.linspace(0, 1, 64)), cmap="RdBu_r")
        right.bar(["cat", "dog"], [2.0, 1.0], color="tab:blue")
        right.set_title("logits")
        return fig

    rendered = io.BytesIO()
    draw().savefig(rendered, format="png", dpi=80, bbox_inches="tight")
    original = np.asarray(Image.open(rendered).convert("RGB"), dtype=int)
    png = figure_to_png(draw())
    picture = Image.open(io.BytesIO(png))
    assert picture.mode == "P" and len(picture.getcolors()) <= 256
    assert np.abs(np.asarray(picture.convert("RGB"), dtype=int) - original).max() <= 16
    assert len(png) < len(rendered.getvalue())


@pytest.mark.parametrize("controls, error", [
    ({}, ValueError),
    ({"slope": 1.0}, TypeError),
    ({"slope": ipywidgets.Button()}, TypeError),
])
def test_explorer_rejects_bad_controls(controls, error):
    with pytest.raises(error):
        figure_explorer(draw_line, controls)


def draw_bars(temperature):
    fig, (left, right) = plt.subplots(1, 2, figsize=(4, 2))
    left.bar(["cat", "dog"], [2.0, 1.0])
    left.set(title="logits", ylabel="logit")
    right.plot([0, 1], [1, temperature], label=f"T = {temperature:g}")
    right.set(title="a line", xlabel="step", ylabel="cost")
    right.legend()
    return fig


def test_each_picture_carries_a_text_alternative_written_from_the_figure():
    slider = ipywidgets.FloatSlider(value=1.0, min=0.5, max=2)
    box = figure_explorer(draw_bars, {"temperature": slider})
    assert box.picture.tooltip == (
        "A figure in 2 panels. Panel 1: a bar chart titled “logits”, logit by bar: cat 2, dog 1. "
        "Panel 2: a line plot titled “a line”, cost against step, legend: T = 1.")
    slider.value = 2.0
    assert "legend: T = 2." in box.picture.tooltip, "the text alternative did not follow the picture"


def test_the_text_alternative_reaches_the_saved_widget_state():
    """The page shows the saved state: the view writes the tooltip as the picture's title (an empty
    description is what lets it), and the book's page script makes that the alt text."""
    box = figure_explorer(draw_line, {"slope": ipywidgets.FloatSlider(value=1.0, max=2)})
    state = box.picture.get_state()
    assert state["tooltip"] == describe_figure_of(draw_line(1.0)) and state["description"] == ""


def describe_figure_of(fig):
    figure_to_png(fig)
    return describe_figure(fig)


# On a page: the pictures drawn in advance for every position of the sliders (dlcv.explore's module docstring).

def draw_slope_and_shift(slope, shift):
    fig, axis = plt.subplots(figsize=(2, 2))
    axis.plot([0, 1], [shift, shift + slope], label=f"slope {slope:g}, shift {shift}")
    axis.set(ylim=(-4, 4), xlabel="x", ylabel="y")
    axis.legend()
    return fig


def two_slider_explorer(**options):
    controls = {"slope": ipywidgets.FloatSlider(value=0.5, min=-1, max=1, step=0.5, description="slope"),
                "shift": ipywidgets.IntSlider(value=0, min=-1, max=1, description="shift")}
    return figure_explorer(draw_slope_and_shift, controls, caption="A line.", **options)


@pytest.mark.parametrize("slider, values, labels", [
    (ipywidgets.IntSlider(value=45, min=0, max=165, step=15), tuple(range(0, 166, 15)), None),
    (ipywidgets.FloatSlider(value=0.3, min=-0.5, max=0.5, step=0.1),
     (-0.5, -0.4, -0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5), None),
    (ipywidgets.FloatLogSlider(value=1, base=10, min=-1, max=1, step=0.5),
     (0.1, 0.3162277660, 1.0, 3.1622776602, 10.0), ("0.1", "0.316", "1", "3.16", "10")),
    (ipywidgets.FloatSlider(value=0, min=0, max=1, step=0.3), (0.0, 0.3, 0.6, 0.9), None),  # max off the steps
])
def test_a_slider_grid_holds_every_step_from_min_to_max(slider, values, labels):
    grid = slider_grid(slider)
    assert grid.values == values
    assert grid.labels == (labels or tuple(format(value, slider.readout_format) for value in values))
    assert grid.values[grid.index(slider.value)] == pytest.approx(slider.value, abs=0.05)


def test_only_sliders_with_steps_move_on_a_page(monkeypatch):
    monkeypatch.setenv(PAGE_FRAMES_VARIABLE, "1")
    with pytest.raises(TypeError, match="on_page"):
        slider_grid(ipywidgets.Dropdown(options=["a", "b"]))
    controls = {"slope": ipywidgets.FloatSlider(value=1.0, max=2), "name": ipywidgets.Text("a")}
    figure_explorer(lambda slope, name: draw_line(slope), controls, on_page=["slope"])
    with pytest.raises(ValueError, match="on_page names"):
        figure_explorer(draw_line, {"slope": ipywidgets.FloatSlider()}, on_page=["angle"])
    fine = figure_explorer(draw_line, {"slope": ipywidgets.FloatSlider(step=0.001)}, on_page=[])
    assert "text/html" not in fine._repr_mimebundle_(), "no slider on the page: the page shows the widget"


def test_an_explorer_that_would_need_too_many_pictures_is_refused():
    controls = {"slope": ipywidgets.FloatSlider(value=0, min=-1, max=1, step=0.25),  # 9 positions
                "shift": ipywidgets.IntSlider(value=0, min=-3, max=3)}  # 7
    with pytest.raises(ValueError, match=f"9 \\(slope\\) x 7 \\(shift\\) = 63 pictures, more than {MAX_PAGE_FRAMES}"):
        figure_explorer(draw_slope_and_shift, controls)
    figure_explorer(draw_slope_and_shift, controls, on_page=["slope"])  # 9: fine


def test_page_frames_are_drawn_by_draw_for_every_combination_the_last_slider_fastest():
    explorer = two_slider_explorer()
    frames = explorer.page_frames()
    combinations = [(slope, shift) for slope in (-1.0, -0.5, 0.0, 0.5, 1.0) for shift in (-1, 0, 1)]
    assert [(frame.values["slope"], frame.values["shift"]) for frame in frames] == combinations
    for frame in frames:
        fig = draw_slope_and_shift(**frame.values)
        assert frame.png == figure_to_png(fig), f"frame {frame.values} is not what draw draws"
        assert frame.alt == describe_figure(fig)
    assert len({frame.png for frame in frames}) == len(frames)
    explorer.controls["slope"].value, explorer.controls["shift"].value = -1.0, 1
    assert (bytes(explorer.picture.value), explorer.picture.tooltip) == (frames[2].png, frames[2].alt), \
        "JupyterLab's picture at a value is the page's frame for it"


def test_controls_left_off_the_page_keep_their_value_in_every_frame_and_the_page_says_so():
    explorer = two_slider_explorer(on_page=["slope"])
    frames = explorer.page_frames()
    assert [frame.values for frame in frames] == [{"slope": slope, "shift": 0} for slope in (-1.0, -0.5, 0.0, 0.5, 1.0)]
    page = ExplorerPage(explorer.page_html(frames))
    assert [item["name"] for item in page.inputs] == ["slope"]
    assert "shift = 0 moves only in a running notebook" in page.caption


class ExplorerPage(HTMLParser):
    """The parts of an explorer's page HTML that a reader and a screen reader meet."""

    def __init__(self, markup: str):
        super().__init__()
        self.elements, self.inputs, self.labels, self.scripts = [], [], {}, []
        self.caption, self.picture, self._in = "", None, []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes.get("class")))
        self._in.append((tag, attributes))
        if tag == "input":
            self.inputs.append(attributes)
            self._in.pop()  # a void element
        elif tag == "img":
            self.picture = attributes
            self._in.pop()

    def handle_endtag(self, tag):
        self._in.pop()

    def handle_data(self, data):
        tag, attributes = self._in[-1] if self._in else ("", {})
        if tag == "label":
            self.labels[attributes["for"]] = data
        elif tag == "script":
            self.scripts.append((attributes.get("type"), data))
        elif any(name == "figcaption" for name, _ in self._in):
            self.caption += data


def test_the_page_html_is_a_captioned_figure_with_named_range_inputs_and_the_frames():
    explorer = two_slider_explorer()
    frames = explorer.page_frames()
    page = ExplorerPage(explorer.page_html(frames))
    assert page.elements[0] == ("figure", "dlcv-explorer")
    assert ("figcaption", None) in page.elements and page.caption.startswith("A line. On this page the figure "
                                                                                "moves through 15 pictures")
    slope, shift = page.inputs
    for item, name, count, position, label in ((slope, "slope", 5, 3, "0.50"), (shift, "shift", 3, 1, "0")):
        assert (item["type"], item["name"], item["min"], item["max"], item["value"]) == (
            "range", name, "0", str(count - 1), str(position))
        assert page.labels[item["id"]] == name, "every input has a label"
        assert item["aria-valuetext"] == label
        assert len(json.loads(item["data-values"])) == len(json.loads(item["data-labels"])) == count
    first = 3 * 3 + 1  # slope 0.5 (position 3) and shift 0 (position 1), shift fastest
    assert page.picture["src"] == "data:image/png;base64," + base64.b64encode(frames[first].png).decode()
    assert page.picture["alt"] == frames[first].alt and "slope 0.5, shift 0" in page.picture["alt"]
    (kind, data), (_, script) = page.scripts
    assert kind == "application/json"
    assert [frame["alt"] for frame in json.loads(data)] == [frame.alt for frame in frames]
    assert "addEventListener(\"input\"" in script


def test_the_page_alternative_is_offered_only_when_the_book_asks_for_it(monkeypatch):
    explorer = two_slider_explorer()
    monkeypatch.delenv(PAGE_FRAMES_VARIABLE, raising=False)
    assert set(explorer._repr_mimebundle_()) == {"text/plain", WIDGET_VIEW}, "JupyterLab saves one picture"
    monkeypatch.setenv(PAGE_FRAMES_VARIABLE, "1")
    bundle = explorer._repr_mimebundle_()
    assert set(bundle) == {"text/plain", WIDGET_VIEW, "text/html"}
    assert bundle[WIDGET_VIEW]["model_id"] == explorer.model_id, "JupyterLab still shows the live widget"
    assert bundle["text/html"].startswith('<figure class="dlcv-explorer">')


def test_no_script_end_tag_inside_the_frames():
    def draw_with_tag(slope):
        fig = draw_line(slope)
        fig.suptitle("</script><b>")
        return fig

    explorer = figure_explorer(draw_with_tag, {"slope": ipywidgets.IntSlider(value=0, min=0, max=1)})
    markup = explorer.page_html()
    frames_script = markup.split('class="dlcv-explorer-frames">', 1)[1]
    assert frames_script.index("</script>") > frames_script.index("<\\/script>")
    assert json.loads(frames_script.split("</script>", 1)[0])[0]["alt"].startswith("A figure in one panel, “</script>")


def draw_title_of_size(size):
    fig, axis = plt.subplots(figsize=(2, 1), dpi=100)
    axis.set_title("a title", fontsize=size)
    axis.axis("off")
    return fig


def test_the_page_picture_records_the_smallest_text_of_any_frame_in_its_own_pixels():
    """Any frame can be shown, so the picture records the smallest text of them all, at the explorer's dpi
    (72 here: a point is a pixel), not the figure's (100)."""
    explorer = figure_explorer(draw_title_of_size, {"size": ipywidgets.IntSlider(value=12, min=6, max=12, step=3)},
                               dpi=72)
    frames = explorer.page_frames()
    assert [frame.text_px for frame in frames] == [6, 9, 12]
    assert ExplorerPage(explorer.page_html(frames)).picture["data-smallest-text-px"] == "6"


def draw_bare_line(slope):
    fig = draw_line(slope)
    fig.axes[0].axis("off")
    return fig


def test_a_page_picture_without_text_records_none():
    explorer = figure_explorer(draw_bare_line, {"slope": ipywidgets.FloatSlider(value=1, min=0, max=1, step=0.5)})
    frames = explorer.page_frames()
    assert [frame.text_px for frame in frames] == [None, None, None]
    assert ExplorerPage(explorer.page_html(frames)).picture["data-smallest-text-px"] == "none"
