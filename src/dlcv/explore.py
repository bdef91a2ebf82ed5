"""Interactive figures: sliders that redraw a matplotlib figure.

The book's explorers (learning rate, softmax temperature, Gabor filter) all use
``figure_explorer``. It draws into an ``ipywidgets.Image`` as a PNG instead of
going through ``ipywidgets.interact``: ``interact`` renders into an ``Output``
widget, on which notebook runners such as nbclient can wait for ever, and the
PNG is ordinary widget state, saved with the executed notebook, so the built
HTML page shows the first picture even where no kernel runs.
"""

import io

import ipywidgets
import matplotlib.pyplot as plt


def figure_to_png(fig, dpi=80):
    """Render a figure to PNG bytes and close it, so that it is not shown twice."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def figure_explorer(draw, controls, dpi=80):
    """Widgets ``controls`` (name -> widget) above the figure ``draw(**values)``.

    ``draw`` takes one keyword argument per control and returns a matplotlib
    figure. The figure is drawn once now and again whenever a control changes.
    Returns the ``VBox`` to display; its ``picture`` attribute is the Image.
    """
    if not controls:
        raise ValueError("figure_explorer needs at least one control widget")
    for name, control in controls.items():
        if not isinstance(control, ipywidgets.ValueWidget):
            raise TypeError(f"control {name!r} is a {type(control).__name__}, "
                            "not an ipywidgets value widget such as FloatSlider")
    picture = ipywidgets.Image(format="png")

    def redraw(change=None):
        values = {name: control.value for name, control in controls.items()}
        picture.value = figure_to_png(draw(**values), dpi=dpi)

    redraw()
    for control in controls.values():
        control.observe(redraw, names="value")
    row = ipywidgets.HBox(list(controls.values()),
                         layout=ipywidgets.Layout(flex_flow="row wrap"))
    box = ipywidgets.VBox([row, picture])
    box.picture = picture
    return box
