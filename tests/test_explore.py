"""The explorer behind the book's sliders draws, redraws and refuses bad controls."""

import ipywidgets
import matplotlib.pyplot as plt
import pytest

from dlcv.explore import describe_figure, figure_explorer, figure_to_png

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
    box = figure_explorer(draw_line, {"slope": ipywidgets.FloatSlider(value=1.0)})
    state = box.picture.get_state()
    assert state["tooltip"] == describe_figure_of(draw_line(1.0)) and state["description"] == ""


def describe_figure_of(fig):
    figure_to_png(fig)
    return describe_figure(fig)
