"""Kernels and pictures for the chapters on convolution, pooling and striding.

A convolution is easiest to understand on grids small enough to read every number, so the
figures here draw small tensors cell by cell: a filter sliding over an image, the
connections of a convolutional layer drawn in one dimension, several filters making a
multi-channel output, max pooling, and the receptive field of a stack of layers. Each
function returns the matplotlib Figure; the ones that draw a single panel accept ``ax``.

Drawn elements carry gids (``"unit"``, ``"connection"``, ``"window"``, ``"traced"``) so
that tests, and curious readers, can count what was drawn.

PyTorch's ``conv2d``, and therefore every figure here, computes a cross-correlation: the
kernel is laid on the image as it is, not flipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import Normalize, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Rectangle

UNIT_GID = "unit"
CONNECTION_GID = "connection"
WINDOW_GID = "window"
TRACED_GID = "traced"

_WINDOW_COLOUR = "tab:red"
_UNIT_COLOUR = "#dbe9f6"
_UNIT_EDGE = "#1f4e79"
_CELL_INCHES = 0.42  # figure inches per grid cell
_RADIUS = 0.3  # units in connection diagrams are one data unit apart
_PASTELS = ["#fbe3c2", "#cfe8cf", "#d6e2f5", "#f3d1dc", "#e6dcf2", "#f5f0c4", "#d2eeee", "#ecdccb"]


def gabor_kernel(
    size: int,
    sigma: float,
    theta: float,
    wavelength: float,
    phase: float = 0.0,
    aspect: float = 0.5,
) -> torch.Tensor:
    """A ``size`` x ``size`` Gabor filter: a stripe pattern seen through a Gaussian window.

    Gabor filters respond to edges and bars of one orientation and thickness, which is
    what the first layer of a trained image network tends to learn by itself; that is why
    the lecture uses one to show what a convolution detects.

    - ``sigma``: the width (standard deviation, in pixels) of the Gaussian window;
    - ``theta``: the orientation, in radians: the stripes vary along the direction
      ``theta``, measured anticlockwise from the horizontal as the image is displayed, so
      ``theta = 0`` gives vertical stripes (a detector of vertical edges and bars) and
      ``theta = pi / 2`` horizontal ones;
    - ``wavelength``: the distance between stripes, in pixels;
    - ``phase``: 0 gives a bright centre stripe (a bar detector), ``pi / 2`` an edge detector;
    - ``aspect``: how much longer the window is along the stripes than across them
      (1 is a round window, smaller values make longer stripes).

    ``size`` must be odd, so that the kernel has a centre pixel. Returns a float32 tensor.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1 or size % 2 == 0:
        raise ValueError(f"size must be a positive odd integer (the kernel needs a centre pixel), got {size!r}")
    for name, value in (("sigma", sigma), ("wavelength", wavelength), ("aspect", aspect)):
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value!r}")
    half = size // 2
    offsets = torch.arange(-half, half + 1, dtype=torch.float64)
    rows, cols = torch.meshgrid(offsets, offsets, indexing="ij")
    x, y = cols, -rows  # y points up on the screen, so theta turns anticlockwise
    across = x * math.cos(theta) + y * math.sin(theta)
    along = -x * math.sin(theta) + y * math.cos(theta)
    envelope = torch.exp(-(across**2 + (aspect * along) ** 2) / (2 * sigma**2))
    carrier = torch.cos(2 * math.pi * across / wavelength + phase)
    return (envelope * carrier).to(torch.float32)


def _as_matrix(values, name: str) -> torch.Tensor:
    """A 2-D float64 tensor from a tensor or nested lists, or an error naming the argument."""
    matrix = torch.as_tensor(values).detach().cpu().to(torch.float64)
    if matrix.dim() != 2 or matrix.numel() == 0:
        raise ValueError(f"{name} must be a non-empty 2-D grid (rows, columns), got shape {tuple(matrix.shape)}")
    return matrix


def _format(value: float) -> str:
    """A number short enough for a grid cell: integers as they are, others to two decimals."""
    if math.isnan(value):
        return ""
    rounded = round(value, 2)
    return f"{rounded:g}".replace("-", "\N{MINUS SIGN}") if rounded != 0 else "0"


def _draw_grid(
    ax: Axes,
    values: np.ndarray,
    *,
    cmap: str,
    norm: Normalize,
    title: str,
    show_values: bool,
    colours: np.ndarray | None = None,
    bold: np.ndarray | None = None,
) -> None:
    """Draw a 2-D array as coloured cells with thin borders and, optionally, each value written in."""
    if colours is None:
        colours = colormaps[cmap](norm(np.nan_to_num(values, nan=norm.vmin)))[..., :3]
        colours[np.isnan(values)] = 1.0
    ax.imshow(colours, interpolation="nearest")
    height, width = values.shape
    ax.set_xticks(np.arange(-0.5, width, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, height, 1), minor=True)
    ax.grid(which="minor", color="#9a9a9a", linewidth=0.6)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    for spine in ax.spines.values():
        spine.set_color("#9a9a9a")
    ax.set_title(title, fontsize=10)
    if not show_values:
        return
    for row in range(height):
        for col in range(width):
            text = _format(float(values[row, col]))
            if not text:
                continue
            dark = sum(colours[row, col]) < 1.5
            heavy = bold is not None and bold[row, col]
            ax.text(col, row, text, ha="center", va="center", fontsize=8.5,
                    color="white" if dark else "black", fontweight="bold" if heavy else "normal")


def _outline(ax: Axes, row: int, col: int, height: int, width: int, colour: str = _WINDOW_COLOUR) -> None:
    box = Rectangle((col - 0.5, row - 0.5), width, height, fill=False, edgecolor=colour, linewidth=2.6, zorder=5)
    box.set_gid(WINDOW_GID)
    ax.add_patch(box)


def _symmetric(values: torch.Tensor) -> Normalize:
    limit = float(values.abs().max()) or 1.0
    return Normalize(-limit, limit)


def plot_sliding_filter(image, kernel, position: tuple[int, int] = (0, 0), *, show_values: bool = True) -> Figure:
    """Three grids: the input with the kernel's current window, the kernel, and the output so far.

    This is convolution as the lecture describes it: lay the kernel on the image, multiply
    the pixels under it by its weights, sum, and write the sum into the output; then slide
    the kernel one pixel on and do it again. ``position`` (row, column) is the output cell
    being computed: its window is outlined on the input, the cells already computed (in
    reading order) are filled in, and the rest are still blank. The convolution is "valid"
    (no padding), so the output is smaller than the input by the kernel size minus one.
    Use ``show_values=False`` for grids too large to read.
    """
    image, kernel = _as_matrix(image, "image"), _as_matrix(kernel, "kernel")
    (height, width), (kernel_h, kernel_w) = image.shape, kernel.shape
    if kernel_h > height or kernel_w > width:
        raise ValueError(f"a {kernel_h}x{kernel_w} kernel does not fit inside a {height}x{width} image")
    output = F.conv2d(image[None, None], kernel[None, None])[0, 0]
    out_h, out_w = output.shape
    row, col = position
    if not (0 <= row < out_h and 0 <= col < out_w):
        raise ValueError(
            f"position {tuple(position)} is outside the {out_h}x{out_w} output "
            f"(rows 0 to {out_h - 1}, columns 0 to {out_w - 1})"
        )
    revealed = output.clone()
    revealed.view(-1)[row * out_w + col + 1:] = float("nan")

    fig, axes = plt.subplots(
        1, 3, figsize=(_CELL_INCHES * (width + kernel_w + out_w) + 2.2, _CELL_INCHES * height + 1.0),
        gridspec_kw={"width_ratios": [width, kernel_w, out_w]}, layout="constrained",
    )
    low, high = float(image.min()), float(image.max())
    light = Normalize(low, high + 0.6 * (high - low) if high > low else low + 1.0)  # pale greys keep numbers legible
    _draw_grid(axes[0], image.numpy(), cmap="Greys", norm=light, title="input $x$", show_values=show_values)
    _outline(axes[0], row, col, kernel_h, kernel_w)
    _draw_grid(axes[1], kernel.numpy(), cmap="RdBu_r", norm=_symmetric(kernel), title="kernel $w$",
               show_values=show_values)
    _outline(axes[1], 0, 0, kernel_h, kernel_w)
    value = float(output[row, col])
    _draw_grid(axes[2], revealed.numpy(), cmap="RdBu_r", norm=_symmetric(output),
               title=f"output: $y_{{{row},{col}}}$ = {_format(value)}", show_values=show_values)
    _outline(axes[2], row, col, 1, 1)
    fig.suptitle("multiply the pixels under the kernel by its weights and sum; then slide on", fontsize=10)
    return fig


def plot_connections(
    kind: str = "shared", n_inputs: int = 7, kernel_size: int = 3, *, ax: Axes | None = None
) -> Figure:
    """A layer drawn in one dimension: ``kind`` is ``"dense"``, ``"local"`` or ``"shared"``.

    The three pictures take a fully connected layer apart into the two ideas of a
    convolutional layer. Inputs are the bottom row, hidden units the top row, and every
    line is one weight; there are ``n_inputs - kernel_size + 1`` hidden units in each case.

    - ``"dense"``: every hidden unit is connected to every input;
    - ``"local"``: each hidden unit is connected only to the ``kernel_size`` inputs of its
      neighbourhood; every line is still its own weight (each drawn in its own colour);
    - ``"shared"``: the same, but the units share one set of ``kernel_size`` weights,
      ``w_1, w_2, ...``: lines of one colour and label are one weight. That shared set is the
      filter, and the layer is a convolution.

    The title counts the weights, which is the point: dense m x n, local m x k, shared k.
    """
    kinds = ("dense", "local", "shared")
    if kind not in kinds:
        raise ValueError(f"kind must be one of {', '.join(map(repr, kinds))}, got {kind!r}")
    for name, value in (("n_inputs", n_inputs), ("kernel_size", kernel_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if kernel_size > n_inputs:
        raise ValueError(f"a kernel of {kernel_size} inputs does not fit in a row of {n_inputs} inputs")
    n_units = n_inputs - kernel_size + 1
    if ax is None:
        fig, ax = plt.subplots(figsize=(0.62 * n_inputs + 0.9, 3.0), layout="constrained")
    fig = ax.figure
    input_x = np.arange(n_inputs, dtype=float)
    unit_x = np.arange(n_units) + (kernel_size - 1) / 2
    top = 2.6
    offset_colours = colormaps["tab10"](np.arange(kernel_size) % 10)
    own_colours = colormaps["turbo"](np.linspace(0.05, 0.95, n_units * kernel_size))

    for unit, x_to in enumerate(unit_x):
        sources = range(n_inputs) if kind == "dense" else range(unit, unit + kernel_size)
        for source in sources:
            offset = source - unit
            if kind == "dense":
                colour, width = "#8c8c8c", 0.7
            elif kind == "local":
                colour, width = own_colours[unit * kernel_size + offset], 1.6
            else:
                colour, width = offset_colours[offset], 1.8
            edge = Line2D([input_x[source], x_to], [_RADIUS, top - _RADIUS], color=colour, linewidth=width, zorder=1)
            edge.set_gid(CONNECTION_GID)
            ax.add_line(edge)
            if kind == "shared":
                # labels near the unit, where its lines are apart; the middle line's lower down
                t = 0.5 if 2 * offset == kernel_size - 1 else 0.8
                ax.text(input_x[source] + t * (x_to - input_x[source]), _RADIUS + t * (top - 2 * _RADIUS),
                        f"$w_{{{offset + 1}}}$", fontsize=9.5, ha="center", va="center", color=colour, zorder=2,
                        bbox=dict(boxstyle="round,pad=0.05", facecolor="white", edgecolor="none"))
    for xs, y, symbol in ((input_x, 0.0, "x"), (unit_x, top, "h")):
        for index, x in enumerate(xs):
            circle = Circle((x, y), _RADIUS, facecolor=_UNIT_COLOUR, edgecolor=_UNIT_EDGE, linewidth=1.1, zorder=3)
            circle.set_gid(UNIT_GID)
            ax.add_patch(circle)
            ax.text(x, y, f"${symbol}_{{{index + 1}}}$", ha="center", va="center", fontsize=9.5, zorder=4)

    weights = {"dense": n_units * n_inputs, "local": n_units * kernel_size, "shared": kernel_size}[kind]
    what = {"dense": "dense", "local": "local connections", "shared": "shared weights"}[kind]
    ax.set_title(f"{what}: {weights} weight" + ("s" if weights != 1 else ""), fontsize=10)
    ax.set_xlim(-0.6, n_inputs - 0.4)
    ax.set_ylim(-0.5, top + 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def plot_multiple_filters(image, kernels, *, cmap: str = "gray") -> Figure:
    """One input, several filters, and the output: one channel (feature map) per filter.

    A single filter detects a single kind of feature; a convolutional layer applies many
    filters to the same input and stacks their responses as the channels of its output.
    ``image`` is (H, W) and ``kernels`` is (C, k_H, k_W); each output channel has the
    input's size (zero padding, "same"). Kernels are drawn red for positive and blue for
    negative weights; outputs with ``cmap``, each on its own scale.
    """
    image = _as_matrix(image, "image")
    kernels = torch.as_tensor(kernels).detach().cpu().to(torch.float64)
    if kernels.dim() != 3 or kernels.numel() == 0:
        raise ValueError(f"kernels must be a stack (C, k_H, k_W), got shape {tuple(kernels.shape)}")
    channels = kernels.shape[0]
    if channels > 8:
        raise ValueError(f"draw at most 8 filters so the figure stays readable, got {channels}")
    if kernels.shape[1] > image.shape[0] or kernels.shape[2] > image.shape[1]:
        raise ValueError(f"{tuple(kernels.shape[1:])} kernels do not fit inside a {tuple(image.shape)} image")
    outputs = F.conv2d(image[None, None], kernels[:, None], padding="same")[0]

    fig = plt.figure(figsize=(7.2, 1.55 * channels + 0.6), layout="constrained")
    grid = fig.add_gridspec(channels, 3, width_ratios=[2.0, 0.9, 1.3])
    left = fig.add_subplot(grid[:, 0])
    left.imshow(image.numpy(), cmap="gray")
    left.set_title(f"input ({image.shape[0]}×{image.shape[1]}, 1 channel)", fontsize=10)
    left.axis("off")
    for channel in range(channels):
        kernel_ax = fig.add_subplot(grid[channel, 1])
        limit = float(kernels[channel].abs().max()) or 1.0
        kernel_ax.imshow(kernels[channel].numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
        kernel_ax.set_title(f"filter {channel + 1}", fontsize=9)
        kernel_ax.axis("off")
        out_ax = fig.add_subplot(grid[channel, 2])
        out_ax.imshow(outputs[channel].numpy(), cmap=cmap)
        out_ax.set_title(f"channel {channel + 1}", fontsize=9)
        out_ax.axis("off")
    fig.suptitle(
        f"{channels} filter{'s' if channels > 1 else ''} → an output of {channels} "
        f"channel{'s' if channels > 1 else ''}, {outputs.shape[1]}×{outputs.shape[2]} each",
        fontsize=11,
    )
    return fig


def plot_max_pooling(values, pool_size: int = 2, *, show_values: bool = True) -> Figure:
    """The input split into ``pool_size`` x ``pool_size`` regions, and the maximum of each.

    Max pooling keeps the strongest response of each region and throws the rest away:
    the output is ``pool_size`` times smaller in each direction, and a feature that moves a
    little inside its region gives the same output. Each region has its own colour, its
    maximum is outlined and printed in bold, and the output cell of the same colour holds it.
    The grid's height and width must be multiples of ``pool_size``.
    """
    values = _as_matrix(values, "values")
    if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
        raise ValueError(f"pool_size must be a positive integer, got {pool_size!r}")
    height, width = values.shape
    if height % pool_size or width % pool_size:
        raise ValueError(
            f"a {height}x{width} grid does not split into {pool_size}x{pool_size} regions; crop it to "
            f"{height - height % pool_size}x{width - width % pool_size} (max_pool2d would drop the rest)"
        )
    pooled = F.max_pool2d(values[None, None], pool_size)[0, 0]
    out_h, out_w = pooled.shape
    # (3r + c) mod 8 differs between any two touching regions, so neighbours never share a colour
    region_colour = np.array([[to_rgb(_PASTELS[(3 * r + c) % len(_PASTELS)]) for c in range(out_w)]
                              for r in range(out_h)])
    colours = np.repeat(np.repeat(region_colour, pool_size, axis=0), pool_size, axis=1)
    is_max = np.zeros((height, width), dtype=bool)
    for r in range(out_h):
        for c in range(out_w):
            block = values[r * pool_size:(r + 1) * pool_size, c * pool_size:(c + 1) * pool_size]
            flat = int(block.argmax())
            is_max[r * pool_size + flat // pool_size, c * pool_size + flat % pool_size] = True

    fig, axes = plt.subplots(
        1, 2, figsize=(_CELL_INCHES * (width + out_w) + 1.6, _CELL_INCHES * height + 1.0),
        gridspec_kw={"width_ratios": [width, out_w]}, layout="constrained",
    )
    _draw_grid(axes[0], values.numpy(), cmap="Greys", norm=Normalize(0, 1), colours=colours, bold=is_max,
               title=f"input {height}×{width}", show_values=show_values)
    for r in range(out_h):
        for c in range(out_w):
            axes[0].add_patch(Rectangle((c * pool_size - 0.5, r * pool_size - 0.5), pool_size, pool_size,
                                        fill=False, edgecolor="#404040", linewidth=1.8, zorder=4))
    for row, col in zip(*np.nonzero(is_max)):
        _outline(axes[0], int(row), int(col), 1, 1)
    _draw_grid(axes[1], pooled.numpy(), cmap="Greys", norm=Normalize(0, 1), colours=region_colour.copy(),
               bold=np.ones(pooled.shape, dtype=bool), title=f"max pooled {out_h}×{out_w}", show_values=show_values)
    fig.suptitle(f"max pooling: the largest value of each {pool_size}×{pool_size} region", fontsize=10)
    return fig


def plot_receptive_field(layers: Sequence[tuple[int, int]], n_inputs: int = 16, *, ax: Axes | None = None) -> Figure:
    """The inputs that one unit at the top of a stack of 1-D layers depends on.

    ``layers`` lists ``(kernel_size, stride)`` for each layer, bottom to top (a pooling layer
    is a layer too: ``(2, 2)`` for 2 x 2 max pooling). Every layer is drawn as a row of
    units with its connections in grey; the connections that lead into the top row's
    middle unit are traced in red, down to the inputs, and those inputs are its
    **receptive field**: the part of the image it can see. Stacking layers, and striding
    most of all, makes that part grow.
    """
    layers = [tuple(layer) for layer in layers]
    if not layers:
        raise ValueError("layers must list at least one (kernel_size, stride) pair")
    sizes = [n_inputs]
    for kernel_size, stride in layers:
        if min(kernel_size, stride) < 1:
            raise ValueError(f"kernel sizes and strides must be positive, got {(kernel_size, stride)}")
        if kernel_size > sizes[-1]:
            raise ValueError(
                f"the layer {(kernel_size, stride)} does not fit on a row of {sizes[-1]} unit{'s' * (sizes[-1] != 1)}: "
                f"draw more inputs (n_inputs={n_inputs}) or fewer layers"
            )
        sizes.append((sizes[-1] - kernel_size) // stride + 1)
    # x position of every unit: the centre of the inputs below it
    positions = [np.arange(n_inputs, dtype=float)]
    for (kernel_size, stride), size in zip(layers, sizes[1:]):
        below = positions[-1]
        positions.append(np.array([below[i * stride:i * stride + kernel_size].mean() for i in range(size)]))
    # trace down from the top middle unit
    traced = [set() for _ in sizes]
    traced[-1] = {sizes[-1] // 2}
    for level in range(len(layers), 0, -1):
        kernel_size, stride = layers[level - 1]
        traced[level - 1] = {i * stride + k for i in traced[level] for k in range(kernel_size)}

    gap = 1.6
    if ax is None:
        fig, ax = plt.subplots(figsize=(0.36 * (n_inputs + 4), 0.36 * (gap * len(layers) + 1) + 0.5),
                               layout="constrained")
    fig = ax.figure
    for level, (kernel_size, stride) in enumerate(layers, start=1):
        for unit, x_to in enumerate(positions[level]):
            for source in range(unit * stride, unit * stride + kernel_size):
                hot = unit in traced[level]
                ends_y = [gap * (level - 1) + _RADIUS, gap * level - _RADIUS]
                edge = Line2D([positions[level - 1][source], x_to], ends_y,
                              color=_WINDOW_COLOUR if hot else "#b5b5b5", linewidth=1.5 if hot else 0.6,
                              zorder=2 if hot else 1)
                edge.set_gid(CONNECTION_GID)
                ax.add_line(edge)
    for level, xs in enumerate(positions):
        for unit, x in enumerate(xs):
            hot = unit in traced[level]
            circle = Circle((x, gap * level), _RADIUS, facecolor="#f6d5d5" if hot else _UNIT_COLOUR,
                            edgecolor=_WINDOW_COLOUR if hot else _UNIT_EDGE, linewidth=1.1, zorder=3)
            circle.set_gid(TRACED_GID if hot else UNIT_GID)
            ax.add_patch(circle)
        label = "input" if level == 0 else f"layer {level}: k={layers[level - 1][0]}, s={layers[level - 1][1]}"
        ax.text(n_inputs - 0.2, gap * level, label, ha="left", va="center", fontsize=8.5)
    ax.set_title(f"receptive field of the top unit: {len(traced[0])} inputs", fontsize=10)
    ax.set_xlim(-0.6, n_inputs + 3.4)
    ax.set_ylim(-0.5, gap * len(layers) + 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig
