"""Interactive figures: sliders that redraw a matplotlib figure.

The book's explorers (learning rate, softmax temperature, Gabor filter) all use
``figure_explorer``. It draws into an ``ipywidgets.Image`` as a PNG instead of
going through ``ipywidgets.interact``: ``interact`` renders into an ``Output``
widget, on which notebook runners such as nbclient can wait for ever, and the
PNG is ordinary widget state, saved with the executed notebook, so the built
HTML page shows the first picture even where no kernel runs.

Each picture carries a text alternative (``describe_figure``), written from
what the figure says on itself, so a reader who cannot see it is told what it
shows; it changes with the picture.
"""

import io

import ipywidgets
import matplotlib.pyplot as plt
import traitlets
from matplotlib.container import BarContainer


class DescribedImage(ipywidgets.Image):
    """An ``Image`` whose ``tooltip`` is its text alternative.

    The widget view writes the tooltip as the picture's ``title`` (the book's page
    script, ``_ext/offline_widgets.js``, also makes it the ``alt`` text), but only for
    a widget whose ``description`` is empty, and it reads ``description`` even on
    widgets that have none (an ``Image`` with a tooltip then fails to draw): hence
    an always-empty one.
    """

    description = traitlets.Unicode("", read_only=True).tag(sync=True)


def figure_to_png(fig, dpi=80):
    """Render a figure to PNG bytes and close it, so that it is not shown twice."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def describe_figure(fig):
    """A text alternative for ``fig``: its title, and each panel's title, kind, axes and legend.

    Read from the figure's own texts after it was drawn (categorical tick labels only
    exist then), so it says what a sighted reader sees, in the same words.
    """
    panels = [axis for axis in fig.axes if axis.get_visible()]
    title = fig.get_suptitle()
    count = "one panel" if len(panels) == 1 else f"{len(panels)} panels"
    parts = [f"A figure in {count}" + (f", “{title}”." if title else ".")]
    for number, axis in enumerate(panels, 1):
        name = f"Panel {number}" if len(panels) > 1 else "The panel"
        parts.append(f"{name}: {describe_panel(axis)}.")
    return " ".join(parts)


def describe_panel(axis):
    """One panel: what kind of plot, its title, what it plots against what, and its legend."""
    title = " ".join(text for text in (axis.get_title("left"), axis.get_title(), axis.get_title("right")) if text)
    bars = [container for container in axis.containers if isinstance(container, BarContainer)]
    if axis.images:
        kind = "an image"
    elif bars:
        kind = "a bar chart"
    elif axis.lines:
        kind = "a line plot"
    else:
        kind = "a plot"
    words = [f"{kind}" + (f" titled “{title}”" if title else "")]
    x_label, y_label = axis.get_xlabel(), axis.get_ylabel()
    if bars:
        names = [label.get_text() for label in axis.get_xticklabels()]
        heights = [bar.get_height() for bar in bars[0]]
        if len(names) == len(heights) and all(names):
            values = ", ".join(f"{name} {height:.2g}" for name, height in zip(names, heights))
            words.append(f"{y_label or 'values'} by bar: {values}")
    elif axis.axison and (x_label or y_label):
        words.append(f"{y_label or 'values'} against {x_label or 'position'}")
    legend = axis.get_legend()
    if legend is not None and legend.get_texts():
        words.append("legend: " + "; ".join(text.get_text() for text in legend.get_texts()))
    return ", ".join(words)


def figure_explorer(draw, controls, dpi=80):
    """Widgets ``controls`` (name -> widget) above the figure ``draw(**values)``.

    ``draw`` takes one keyword argument per control and returns a matplotlib
    figure. The figure is drawn once now and again whenever a control changes.
    Returns the ``VBox`` to display; its ``picture`` attribute is the Image,
    whose ``tooltip`` is the figure's text alternative (``describe_figure``).
    """
    if not controls:
        raise ValueError("figure_explorer needs at least one control widget")
    for name, control in controls.items():
        if not isinstance(control, ipywidgets.ValueWidget):
            raise TypeError(f"control {name!r} is a {type(control).__name__}, "
                            "not an ipywidgets value widget such as FloatSlider")
    picture = DescribedImage(format="png")

    def redraw(change=None):
        values = {name: control.value for name, control in controls.items()}
        fig = draw(**values)
        picture.value = figure_to_png(fig, dpi=dpi)
        picture.tooltip = describe_figure(fig)  # after drawing: tick labels are set then

    redraw()
    for control in controls.values():
        control.observe(redraw, names="value")
    row = ipywidgets.HBox(list(controls.values()),
                         layout=ipywidgets.Layout(flex_flow="row wrap"))
    box = ipywidgets.VBox([row, picture])
    box.picture = picture
    return box
