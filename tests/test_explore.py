"""The explorer behind the book's sliders draws, redraws and refuses bad controls."""

import ipywidgets
import matplotlib.pyplot as plt
import pytest

from dlcv.explore import figure_explorer, figure_to_png

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
