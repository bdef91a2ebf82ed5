"""Neuron-and-edge diagrams of the networks the lecture draws: layers of units joined by weights.

The chapters draw these pictures from code instead of pasting images, so a diagram always
matches the sizes in the text next to it. Every function returns the matplotlib Figure
(drawing on ``ax`` when one is given). Units are circles and connections are lines, tagged
with the gids ``"unit"`` and ``"connection"`` so that tests (and curious readers) can count
what was drawn.

A layer too large to draw (784 pixels, 256 hidden units) is shown by its first units, a
vertical ellipsis and its last unit, and its caption gives the true size.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyBboxPatch

UNIT_GID = "unit"
CONNECTION_GID = "connection"

_RADIUS = 0.34  # in data units; units are one data unit apart vertically
_INCHES = 0.42  # figure inches per data unit, when the function makes its own figure
_MIN_WIDTH = 3.6  # inches: room for a title over a narrow diagram
_UNIT_COLOUR = "#dbe9f6"
_EDGE_COLOUR = "#7f7f7f"
_HIGHLIGHT_COLOUR = "tab:red"


@dataclass(frozen=True)
class _Column:
    """Which units of one layer are drawn, and where (y of each drawn unit, y of the ellipsis)."""

    indices: list[int]
    ys: list[float]
    ellipsis_y: float | None


def _check_sizes(layer_sizes: Sequence[int]) -> list[int]:
    sizes = list(layer_sizes)
    if len(sizes) < 2:
        raise ValueError(
            f"a network needs at least two layers (inputs and outputs), got layer_sizes={sizes!r}"
        )
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"every layer size must be a positive integer, got layer_sizes={sizes!r}")
    return sizes


def _per_layer(value, count: int, name: str) -> list:
    """Broadcast a single value to every layer, or check a per-layer sequence has the right length."""
    if value is None or isinstance(value, (int, str)):
        return [value] * count
    values = list(value)
    if len(values) != count:
        raise ValueError(f"{name} needs one entry per layer ({count}), got {len(values)}")
    return values


def _column(size: int, max_drawn: int) -> _Column:
    """Lay one layer out vertically, centred on y = 0, eliding the middle of a large layer."""
    if size <= max_drawn:
        indices = list(range(size))
        slots = size
        ellipsis_slot = None
    else:
        indices = list(range(max_drawn - 2)) + [size - 1]
        slots = max_drawn
        ellipsis_slot = max_drawn - 2
    top = (slots - 1) / 2
    slot_ys = [top - slot for slot in range(slots)]
    if ellipsis_slot is None:
        return _Column(indices, slot_ys, None)
    ys = slot_ys[:ellipsis_slot] + slot_ys[ellipsis_slot + 1 :]
    return _Column(indices, ys, slot_ys[ellipsis_slot])


def _unit_labels(spec, column: _Column, layer: int) -> list[str | None]:
    """Labels for the drawn units of one layer: none, a symbol to index, or one string per unit."""
    if spec is None:
        return [None] * len(column.indices)
    if isinstance(spec, str):
        return [f"${spec}_{{{index + 1}}}$" for index in column.indices]
    labels = list(spec)
    if len(labels) != len(column.indices):
        raise ValueError(
            f"unit_labels for layer {layer} has {len(labels)} labels, but {len(column.indices)} "
            "units of that layer are drawn: give one label per drawn unit, or a symbol such as 'x'"
        )
    return [None if label is None else str(label) for label in labels]


def _label_size(label: str) -> float:
    """A font size that fits a unit's label inside its circle: smaller for longer labels."""
    visible = len(re.sub(r"\\[A-Za-z]+|[${}_^\s]", "", label))
    # Subscripts are drawn at 70%: at 9.5 points even the digits of x_784 are 9.2 px high at 100 dpi.
    return 11 if visible <= 2 else 10.5 if visible <= 3 else 9.5


def _new_axes(ax: Axes | None, width: float, height: float) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=(max(width, _MIN_WIDTH), height), layout="constrained")
    return fig, ax


def draw_network(
    layer_sizes: Sequence[int],
    *,
    ax: Axes | None = None,
    max_drawn: int | Sequence[int] = 8,
    unit_labels: Sequence | None = None,
    layer_labels: Sequence[str | None] | None = None,
    weight_labels: Sequence[str | None] | None = None,
    output_labels: Sequence[str] | None = None,
    output_activation: str | None = None,
    highlight: tuple[int, int] | None = None,
    title: str | None = None,
    layer_gap: float = 2.6,
) -> Figure:
    """Draw a feed-forward network: columns of units, each unit joined to every unit before it.

    This is the lecture's picture of a neural network: data enters on the left, each layer
    transforms it, and every line is one weight. ``layer_sizes`` are the true sizes, e.g.
    ``[784, 256, 256, 10]``; a layer larger than ``max_drawn`` (one number, or one per layer)
    is drawn as its first units, an ellipsis and its last unit.

    Optional annotations:

    - ``unit_labels``: per layer, ``None``, a symbol such as ``"x"`` (units are labelled
      ``x_1``, ``x_2``, ... with their true indices), or one label per drawn unit;
    - ``layer_labels``: a caption under each layer (defaults to its size);
    - ``weight_labels``: a label over each set of connections, e.g. ``"$W_0, b_0$"``;
    - ``output_labels``: a label to the right of each drawn output unit (class names);
    - ``output_activation``: a box around the output layer naming its function ("softmax");
    - ``highlight``: ``(layer, unit)``, whose incoming connections are drawn in colour, to
      show that a unit of a dense layer sees every unit of the layer before;
    - ``layer_gap``: the distance between layers, in unit spacings (widen it for long captions).

    Returns the Figure (the one holding ``ax`` when it is given).
    """
    sizes = _check_sizes(layer_sizes)
    count = len(sizes)
    limits = _per_layer(max_drawn, count, "max_drawn")
    for limit in limits:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 3:
            raise ValueError(
                "max_drawn must be an integer of at least 3 (first units, ellipsis, last unit), "
                f"got {limit!r}"
            )
    columns = [_column(size, limit) for size, limit in zip(sizes, limits)]
    specs = _per_layer(unit_labels, count, "unit_labels")
    labels = [_unit_labels(spec, column, layer) for layer, (spec, column) in enumerate(zip(specs, columns))]
    captions = [
        caption if caption is not None else f"{size:,} unit" + ("s" if size > 1 else "")
        for size, caption in zip(sizes, _per_layer(layer_labels, count, "layer_labels"))
    ]
    highlight = tuple(highlight) if highlight is not None else None
    _check_annotations(columns, weight_labels, output_labels, highlight, layer_gap)

    tallest = max(len(column.indices) + (column.ellipsis_y is not None) for column in columns)
    top = (tallest - 1) / 2
    xs = [layer_gap * layer for layer in range(count)]
    label_y = top + 0.75 + (0.7 if output_activation is not None else 0.0)
    label_x = xs[-1] + (0.7 if output_activation is not None else 0.5)
    longest = max((len(str(label)) for label in output_labels or []), default=0)
    right = label_x + 0.15 + 0.12 * longest if output_labels is not None else xs[-1] + 0.8
    caption_lines = max(caption.count("\n") + 1 for caption in captions)
    x_limits = (-0.9, right)
    y_limits = (
        -top - 1.1 - 0.4 * caption_lines,
        label_y + (0.6 if weight_labels is not None else 0.0) + (0.2 if title else 0.0),
    )
    width = _INCHES * (x_limits[1] - x_limits[0])
    height = _INCHES * (y_limits[1] - y_limits[0]) + 0.3
    fig, ax = _new_axes(ax, width, height)

    _draw_connections(ax, xs, columns, highlight)
    _draw_units(ax, xs, columns, labels, highlight)
    for x, caption in zip(xs, captions):
        ax.text(x, -top - 0.9, caption, ha="center", va="top", fontsize=11)
    for layer, label in enumerate(weight_labels or [], start=1):
        if label:
            ax.text((xs[layer - 1] + xs[layer]) / 2, label_y, label, ha="center", va="bottom", fontsize=11,
                    bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor="none"))
    if output_activation is not None:
        _draw_activation_box(ax, xs[-1], columns[-1], output_activation)
    for y, label in zip(columns[-1].ys, output_labels or []):
        ax.text(label_x, y, str(label), ha="left", va="center", fontsize=11)

    ax.set_xlim(*x_limits)
    ax.set_ylim(*y_limits)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig


def _check_annotations(columns, weight_labels, output_labels, highlight, layer_gap) -> None:
    """Refuse annotations that do not fit the network, saying what would."""
    count = len(columns)
    if weight_labels is not None and len(weight_labels) != count - 1:
        raise ValueError(
            f"weight_labels needs one label per set of connections ({count - 1} for {count} layers), "
            f"got {len(weight_labels)}"
        )
    drawn_outputs = len(columns[-1].indices)
    if output_labels is not None and len(output_labels) != drawn_outputs:
        raise ValueError(
            f"output_labels has {len(output_labels)} labels, but {drawn_outputs} output units are "
            "drawn: give one per drawn output unit"
        )
    if highlight is not None:
        layer, unit = highlight
        if not 1 <= layer < count:
            raise ValueError(
                f"highlight layer must be between 1 and {count - 1} (layer 0 has no inputs), got {layer}"
            )
        if unit not in columns[layer].indices:
            raise ValueError(
                f"highlight unit {unit} of layer {layer} is not drawn; drawn units: {columns[layer].indices}"
            )
    if layer_gap <= 2 * _RADIUS:
        raise ValueError(f"layer_gap must exceed the width of a unit ({2 * _RADIUS}), got {layer_gap}")


def _draw_connections(ax: Axes, xs: list[float], columns: list[_Column], highlight) -> None:
    """One line per weight: every drawn unit to every drawn unit of the layer before."""
    for layer in range(1, len(columns)):
        for target, y_to in zip(columns[layer].indices, columns[layer].ys):
            hot = highlight == (layer, target)
            for y_from in columns[layer - 1].ys:
                edge = Line2D(
                    [xs[layer - 1] + _RADIUS, xs[layer] - _RADIUS], [y_from, y_to],
                    color=_HIGHLIGHT_COLOUR if hot else _EDGE_COLOUR,
                    linewidth=1.6 if hot else 0.6, alpha=1.0 if hot else 0.55, zorder=2 if hot else 1,
                )
                edge.set_gid(CONNECTION_GID)
                ax.add_line(edge)


def _draw_units(ax: Axes, xs: list[float], columns: list[_Column], labels, highlight) -> None:
    """A circle per drawn unit, with its label, and an ellipsis where units are left out."""
    for layer, (x, column) in enumerate(zip(xs, columns)):
        for index, y, label in zip(column.indices, column.ys, labels[layer]):
            hot = highlight == (layer, index)
            unit = Circle((x, y), _RADIUS, facecolor="#f6d5d5" if hot else _UNIT_COLOUR,
                          edgecolor=_HIGHLIGHT_COLOUR if hot else "#1f4e79", linewidth=1.2, zorder=3)
            unit.set_gid(UNIT_GID)
            ax.add_patch(unit)
            if label:
                ax.text(x, y, label, ha="center", va="center", zorder=4, fontsize=_label_size(label))
        if column.ellipsis_y is not None:
            ax.text(x, column.ellipsis_y, r"$\vdots$", ha="center", va="center", fontsize=14, zorder=4)


def _draw_activation_box(ax: Axes, x: float, column: _Column, name: str) -> None:
    """A dashed box around the output layer, named after the function applied to it."""
    low, high = min(column.ys), max(column.ys)
    box = FancyBboxPatch((x - 0.5, low - 0.5), 1.0, high - low + 1.0, boxstyle="round,pad=0.05",
                         facecolor="none", edgecolor="tab:orange", linewidth=1.5, linestyle="--", zorder=2)
    ax.add_patch(box)
    ax.text(x, high + 0.6, name, ha="center", va="bottom", fontsize=11, color="tab:orange")


def draw_single_layer(*, ax: Axes | None = None, inputs: int = 4, outputs: int = 3) -> Figure:
    """One layer, y = f(Wx + b): an input x of size M fully connected to an output y of size N.

    The picture stands for any sizes M and N, so it draws ``inputs`` and ``outputs`` units
    (at least 2 each), the last ones labelled ``x_M`` and ``y_N`` after an ellipsis.
    """
    if inputs < 2 or outputs < 2:
        raise ValueError(
            f"draw at least 2 inputs and 2 outputs (a first unit and the last), got {inputs} and {outputs}"
        )
    x_labels = [f"$x_{{{i + 1}}}$" for i in range(inputs - 1)] + ["$x_M$"]
    y_labels = [f"$y_{{{i + 1}}}$" for i in range(outputs - 1)] + ["$y_N$"]
    return draw_network(
        [inputs + 2, outputs + 2], ax=ax, max_drawn=[inputs + 1, outputs + 1],
        unit_labels=[x_labels, y_labels],
        layer_labels=["input $x$\nsize $M$", "output $y$\nsize $N$"],
        weight_labels=["$W$ ($N \\times M$), $b$ ($N$)"],
        title="$y = f(Wx + b)$",
        layer_gap=3.4,
    )


def draw_layers(*, ax: Axes | None = None, layers: int = 3, units: int = 4) -> Figure:
    """Several layers in a row, x -> y_0 -> y_1 -> ..., each with its own weights W_i and bias b_i.

    Each caption gives the layer's equation, y_i = f(W_i y_{i-1} + b_i), so the picture and the
    lecture's formulas line up; ``layers`` (at least 2) is how many layers of weights to draw,
    so the last output is y_L with L = ``layers`` - 1.
    """
    if layers < 2:
        raise ValueError(f"draw_layers shows a stack, so it needs at least 2 layers, got {layers}")
    if units < 1:
        raise ValueError(f"each layer needs at least one unit, got units={units}")
    inputs = ["x"] + [f"y_{{{i}}}" for i in range(layers - 1)]
    captions = ["input $x$"] + [
        f"$y_{{{i}}} = f(W_{{{i}}}{inputs[i]} + b_{{{i}}})$" for i in range(layers)
    ]
    return draw_network(
        [units] * (layers + 1), ax=ax, max_drawn=max(units, 3),
        layer_labels=captions,
        weight_labels=[f"$W_{{{i}}}, b_{{{i}}}$" for i in range(layers)],
        layer_gap=3.8,
    )


def draw_dense_layer(
    *, ax: Axes | None = None, previous: int = 6, units: int = 4, highlight: int = 1
) -> Figure:
    """A dense (fully connected) layer: every unit is connected to every unit of the previous layer.

    The connections into unit ``highlight`` are drawn in colour: that unit alone has
    ``previous`` weights, one per unit before it, and so does every other unit of the layer.
    """
    if not 0 <= highlight < units:
        raise ValueError(
            f"highlight must name one of the {units} units (0 to {units - 1}), got {highlight}"
        )
    return draw_network(
        [previous, units], ax=ax, max_drawn=[max(previous, 3), max(units, 3)],
        layer_labels=["previous\nlayer", "dense\nlayer"],
        highlight=(1, highlight),
        layer_gap=3.4,
        title=f"each of {units} units has {previous} weights:\n{previous * units} connections",
    )
