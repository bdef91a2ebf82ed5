"""Gabor kernels and the convolution figures: what they compute, what they draw, and their errors."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from dlcv.convolution import (
    CONNECTION_GID,
    TRACED_GID,
    UNIT_GID,
    WINDOW_GID,
    gabor_kernel,
    plot_connections,
    plot_max_pooling,
    plot_multiple_filters,
    plot_receptive_field,
    plot_sliding_filter,
)


def drawn(figure: Figure, gid: str) -> list:
    return [artist for axis in figure.axes for artist in [*axis.patches, *axis.lines] if artist.get_gid() == gid]


def texts(axis) -> list[str]:
    return [text.get_text() for text in axis.texts]


# gabor_kernel


def test_gabor_kernel_shape_dtype_and_centre():
    kernel = gabor_kernel(15, sigma=3.0, theta=0.3, wavelength=6.0)
    assert kernel.shape == (15, 15) and kernel.dtype == torch.float32
    assert kernel[7, 7] == pytest.approx(1.0), "phase 0: the centre is the envelope's peak times cos(0)"
    assert kernel.abs().max() <= 1.0 + 1e-6


def test_gabor_kernel_orientation():
    vertical = gabor_kernel(21, sigma=4.0, theta=0.0, wavelength=8.0)
    # theta = 0: stripes vertical, so the centre column is one bright stripe and the centre row alternates
    assert (vertical[:, 10] > 0).all()
    assert (vertical[10] < 0).any()
    horizontal = gabor_kernel(21, sigma=4.0, theta=math.pi / 2, wavelength=8.0)
    assert torch.allclose(horizontal, vertical.T, atol=1e-6)
    # anticlockwise on screen: at theta = pi/4 the stripes run from top left to bottom right
    diagonal = gabor_kernel(21, sigma=4.0, theta=math.pi / 4, wavelength=8.0)
    assert torch.allclose(diagonal, diagonal.T.flip(0, 1), atol=1e-6)
    assert diagonal[7, 7] > 0.5 and diagonal[7, 13] < diagonal[7, 7]


def test_gabor_kernel_phase_gives_even_and_odd_filters():
    bar = gabor_kernel(11, sigma=2.5, theta=0.7, wavelength=5.0, phase=0.0)
    edge = gabor_kernel(11, sigma=2.5, theta=0.7, wavelength=5.0, phase=math.pi / 2)
    assert torch.allclose(bar, bar.flip(0, 1), atol=1e-6), "phase 0 is symmetric about the centre"
    assert torch.allclose(edge, -edge.flip(0, 1), atol=1e-6), "phase pi/2 is antisymmetric"


def test_gabor_kernel_aspect_lengthens_the_stripes():
    round_window = gabor_kernel(21, sigma=3.0, theta=0.0, wavelength=6.0, aspect=1.0)
    long_window = gabor_kernel(21, sigma=3.0, theta=0.0, wavelength=6.0, aspect=0.4)
    assert long_window[0, 10] > round_window[0, 10], "a smaller aspect keeps more of the stripe far along it"
    assert torch.allclose(long_window[10], round_window[10]), "across the stripes nothing changes"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(size=4), "odd"),
        (dict(size=0), "odd"),
        (dict(size=5.0), "odd"),
        (dict(sigma=0.0), "sigma must be positive"),
        (dict(wavelength=-2.0), "wavelength must be positive"),
        (dict(aspect=0.0), "aspect must be positive"),
    ],
)
def test_gabor_kernel_refuses_bad_arguments(arguments, message):
    full = dict(size=7, sigma=2.0, theta=0.0, wavelength=4.0) | arguments
    with pytest.raises(ValueError, match=message):
        gabor_kernel(**full)


# plot_sliding_filter


def test_sliding_filter_shows_the_window_and_the_outputs_so_far():
    image = torch.arange(25.0).view(5, 5)
    kernel = torch.tensor([[1.0, 0.0], [0.0, -1.0]])
    figure = plot_sliding_filter(image, kernel, position=(1, 2))
    assert isinstance(figure, Figure)
    source, weights, output = figure.axes
    windows = [patch for patch in source.patches if patch.get_gid() == WINDOW_GID]
    assert len(windows) == 1
    assert windows[0].get_xy() == (1.5, 0.5) and (windows[0].get_width(), windows[0].get_height()) == (2, 2)
    assert len(texts(source)) == 25 and len(texts(weights)) == 4
    # every output is x[i, j] - x[i+1, j+1] = -6; those up to (1, 2) in reading order are written in
    assert texts(output) == ["\N{MINUS SIGN}6"] * (4 + 3)
    assert "$y_{1,2}$" in output.get_title()


def test_sliding_filter_without_values_writes_no_numbers():
    figure = plot_sliding_filter(torch.rand(12, 12), torch.rand(3, 3), position=(9, 9), show_values=False)
    assert all(not axis.texts for axis in figure.axes)


def test_sliding_filter_refuses_bad_arguments():
    with pytest.raises(ValueError, match="does not fit"):
        plot_sliding_filter(torch.rand(3, 3), torch.rand(4, 2))
    with pytest.raises(ValueError, match=r"outside the 3x3 output"):
        plot_sliding_filter(torch.rand(5, 5), torch.rand(3, 3), position=(3, 0))
    with pytest.raises(ValueError, match="image must be a non-empty 2-D grid"):
        plot_sliding_filter(torch.rand(1, 5, 5), torch.rand(3, 3))


# plot_connections


@pytest.mark.parametrize("kind, weights", [("dense", 5 * 7), ("local", 5 * 3), ("shared", 3)])
def test_connections_count_units_lines_and_weights(kind, weights):
    figure = plot_connections(kind, n_inputs=7, kernel_size=3)
    assert len(drawn(figure, UNIT_GID)) == 7 + 5
    lines = drawn(figure, CONNECTION_GID)
    assert len(lines) == (5 * 7 if kind == "dense" else 5 * 3)
    assert f"{weights} weights" in figure.axes[0].get_title()


def test_local_lines_are_all_different_and_shared_lines_repeat_one_filter():
    local = {tuple(line.get_color()) for line in drawn(plot_connections("local", 7, 3), CONNECTION_GID)}
    assert len(local) == 15
    shared_figure = plot_connections("shared", 7, 3)
    shared = {tuple(line.get_color()) for line in drawn(shared_figure, CONNECTION_GID)}
    assert len(shared) == 3
    labels = [text for text in texts(shared_figure.axes[0]) if text.startswith("$w")]
    assert sorted(set(labels)) == ["$w_{1}$", "$w_{2}$", "$w_{3}$"] and len(labels) == 15


def test_connections_draw_into_a_given_axis():
    figure, axes = plt.subplots(1, 2)
    assert plot_connections("dense", ax=axes[1]) is figure
    assert drawn(figure, UNIT_GID) and not axes[0].patches


def test_connections_refuse_bad_arguments():
    with pytest.raises(ValueError, match="kind must be one of"):
        plot_connections("convolutional")
    with pytest.raises(ValueError, match="does not fit"):
        plot_connections("local", n_inputs=3, kernel_size=5)
    with pytest.raises(ValueError, match="kernel_size must be a positive integer"):
        plot_connections("shared", kernel_size=0)


# plot_multiple_filters


def test_multiple_filters_draw_one_kernel_and_one_channel_per_filter():
    kernels = torch.stack([gabor_kernel(7, 2.0, theta, 4.0) for theta in (0.0, 1.0, 2.0)])
    figure = plot_multiple_filters(torch.rand(20, 24), kernels)
    assert len(figure.axes) == 1 + 2 * 3
    titles = [axis.get_title() for axis in figure.axes]
    assert ["channel 1", "channel 2", "channel 3"] == [title for title in titles if title.startswith("channel")]
    assert "3 channels, 20×24 each" in figure.get_suptitle()
    channel = next(axis for axis in figure.axes if axis.get_title() == "channel 2")
    assert channel.images[0].get_array().shape == (20, 24), "padding keeps each channel at the input's size"


def test_multiple_filters_refuse_bad_arguments():
    with pytest.raises(ValueError, match=r"stack \(C, k_H, k_W\)"):
        plot_multiple_filters(torch.rand(10, 10), torch.rand(3, 3))
    with pytest.raises(ValueError, match="at most 8 filters"):
        plot_multiple_filters(torch.rand(10, 10), torch.rand(9, 3, 3))
    with pytest.raises(ValueError, match="do not fit"):
        plot_multiple_filters(torch.rand(4, 4), torch.rand(2, 5, 5))


# plot_max_pooling


def test_max_pooling_writes_each_region_maximum_in_the_output():
    values = torch.tensor([[1, 2, 5, 0], [3, 4, 1, 1], [0, 0, 2, 2], [9, 0, 2, 3]])
    figure = plot_max_pooling(values, 2)
    source, pooled = figure.axes
    expected = F.max_pool2d(values[None, None].float(), 2).flatten().int().tolist()
    assert texts(pooled) == [str(value) for value in expected] == ["4", "5", "9", "3"]
    maxima = [patch for patch in source.patches if patch.get_gid() == WINDOW_GID]
    assert sorted((int(p.get_x() + 0.5), int(p.get_y() + 0.5)) for p in maxima) == [(0, 3), (1, 1), (2, 0), (3, 3)]
    assert "max pooled 2×2" in pooled.get_title()


def test_max_pooling_gives_touching_regions_different_colours():
    figure = plot_max_pooling(torch.rand(12, 12), 3, show_values=False)
    colours = figure.axes[1].images[0].get_array()
    for row in range(4):
        for col in range(4):
            for other_row, other_col in ((row + 1, col), (row, col + 1), (row + 1, col + 1), (row + 1, col - 1)):
                if 0 <= other_row < 4 and 0 <= other_col < 4:
                    assert (colours[row, col] != colours[other_row, other_col]).any()


def test_max_pooling_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"does not split into 2x2 regions; crop it to 4x6"):
        plot_max_pooling(torch.rand(5, 6), 2)
    with pytest.raises(ValueError, match="pool_size must be a positive integer"):
        plot_max_pooling(torch.rand(4, 4), 0)


# plot_receptive_field


@pytest.mark.parametrize(
    "layers, field",
    [([(3, 1)], 3), ([(3, 1), (3, 1)], 5), ([(3, 1), (2, 2), (3, 1)], 8), ([(2, 2), (2, 2)], 4)],
)
def test_receptive_field_traces_the_inputs_a_top_unit_sees(layers, field):
    figure = plot_receptive_field(layers, n_inputs=16)
    traced = drawn(figure, TRACED_GID)
    inputs = [unit for unit in traced if unit.center[1] == 0]
    assert len(inputs) == field
    assert f"{field} inputs" in figure.axes[0].get_title()


def test_receptive_field_refuses_layers_that_do_not_fit():
    with pytest.raises(ValueError, match=r"the layer \(3, 1\) does not fit on a row of 1 unit:"):
        plot_receptive_field([(3, 2), (2, 2), (3, 1)], n_inputs=7)
    with pytest.raises(ValueError, match="at least one"):
        plot_receptive_field([])
    with pytest.raises(ValueError, match="must be positive"):
        plot_receptive_field([(3, 0)])
